/* The reader ops, with TensorFlow's V2 names and attrs: TFRecordReaderV2,
 * TextLineReaderV2, FixedLengthRecordReaderV2 and WholeFileReaderV2 make a
 * reader (once per session) and output its handle; ReaderReadV2 and
 * ReaderReadUpToV2 produce records, taking file names from a queue when
 * the current file is done -- asynchronously, so a read waiting for a file
 * name holds no thread; ReaderNumRecordsProducedV2,
 * ReaderNumWorkUnitsCompletedV2 and ReaderResetV2. The public helpers of
 * tfc.h's "Queues" section are at the end. */
#include "data/queue.h"
#include "data/reader.h"

#include <stdlib.h>
#include <string.h>

#define READER_OP (TFC_OP_STATEFUL | TFC_OP_RESOURCES | TFC_OP_NO_GRADIENT)

static tfc_reader_kind kind_of(const char *type) {
    if (!strcmp(type, "TextLineReaderV2")) return TFC_READER_TEXT_LINE;
    if (!strcmp(type, "FixedLengthRecordReaderV2")) return TFC_READER_FIXED_LENGTH;
    if (!strcmp(type, "WholeFileReaderV2")) return TFC_READER_WHOLE_FILE;
    return TFC_READER_TFRECORD;
}

static int reader_infer(tfc_infer_ctx *c) {
    tfc_reader_kind k = kind_of(c->op->type);
    if (k == TFC_READER_TFRECORD || k == TFC_READER_FIXED_LENGTH) {
        const char *attr = k == TFC_READER_TFRECORD ? "compression_type" : "encoding";
        const char *comp = tfc_attrs_string(c->attrs, attr);
        if (comp && *comp && strcmp(comp, "ZLIB") && strcmp(comp, "GZIP"))
            return tfc_infer_error(c, "%s '%s' is not supported (\"\", \"ZLIB\" or \"GZIP\")", attr,
                                   comp);
        if (!comp) tfc_attrs_set_string(c->attrs, attr, "");
    }
    if (k == TFC_READER_FIXED_LENGTH) {
        int64_t rb = tfc_attrs_int(c->attrs, "record_bytes", 0);
        if (rb < 1)
            return tfc_infer_error(c, "record_bytes must be at least 1, got %lld", (long long)rb);
        const char *names[3] = {"header_bytes", "footer_bytes", "hop_bytes"};
        for (int i = 0; i < 3; i++) {
            if (tfc_attrs_int(c->attrs, names[i], 0) < 0)
                return tfc_infer_error(c, "%s must be >= 0", names[i]);
            if (!tfc_attrs_find(c->attrs, names[i]))
                tfc_attrs_set_int(c->attrs, names[i], TFC_ATTR_INT, 0);
        }
    }
    if (k == TFC_READER_TEXT_LINE) {
        if (tfc_attrs_int(c->attrs, "skip_header_lines", 0) < 0)
            return tfc_infer_error(c, "skip_header_lines must be >= 0");
        if (!tfc_attrs_find(c->attrs, "skip_header_lines"))
            tfc_attrs_set_int(c->attrs, "skip_header_lines", TFC_ATTR_INT, 0);
    }
    if (!tfc_attrs_string(c->attrs, "container")) tfc_attrs_set_string(c->attrs, "container", "");
    if (!tfc_attrs_string(c->attrs, "shared_name"))
        tfc_attrs_set_string(c->attrs, "shared_name", "");
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void unref_resource(void *r) { tfc_resource_unref(r); }

static void reader_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->state;
    const tfc_attrs *a = &c->node->attrs;
    pthread_mutex_lock(&st->lock);
    if (!st->value) {
        tfc_reader_kind k = kind_of(c->node->op->type);
        tfc_reader_spec spec = {
            k,
            c->node->name,
            tfc_attrs_string(a, k == TFC_READER_TFRECORD ? "compression_type" : "encoding"),
            tfc_attrs_int(a, "skip_header_lines", 0),
            tfc_attrs_int(a, "header_bytes", 0),
            tfc_attrs_int(a, "record_bytes", 0),
            tfc_attrs_int(a, "footer_bytes", 0),
            tfc_attrs_int(a, "hop_bytes", 0)};
        tfc_reader *r = tfc_reader_new(&spec);
        tfc_tensor *h = r ? tfc_resource_tensor((tfc_resource *)r) : NULL;
        if (!h) {
            if (r) tfc_resource_unref((tfc_resource *)r);
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory making a reader");
            return;
        }
        st->value = h;
        st->resource = r;
        st->free_resource = unref_resource;
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

/* ---- reading ---- */

static int read_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_RESOURCE)
        return tfc_infer_error(c, "input 0 (reader_handle) must be a reader's resource handle");
    if (c->ninputs > 1 && tfc_infer_input_dtype(c, 1) != TFC_RESOURCE)
        return tfc_infer_error(c, "input 1 (queue_handle) must be a queue's resource handle");
    const char *t = c->op->type;
    if (!strcmp(t, "ReaderReadV2")) {
        tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
        tfc_infer_set_output(c, 1, TFC_STRING, tfc_shape_scalar());
    } else if (!strcmp(t, "ReaderReadUpToV2")) {
        tfc_dtype nt = tfc_infer_input_dtype(c, 2);
        if (nt != TFC_INT64)
            return tfc_infer_error(c, "num_records must be int64, got %s", tfc_dtype_name(nt));
        tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_vector(-1));
        tfc_infer_set_output(c, 1, TFC_STRING, tfc_shape_vector(-1));
    } else if (strcmp(t, "ReaderResetV2")) {
        tfc_infer_set_output(c, 0, TFC_INT64, tfc_shape_scalar());
    }
    return 0;
}

/* One ReaderReadV2 / ReaderReadUpToV2 under way. */
typedef struct read_req {
    tfc_reader *r;
    tfc_queue *q;
    tfc_kernel_ctx *ctx;   /* while the kernel runs */
    tfc_async_done *token; /* once it waits for a file name */
    int64_t want;
    int upto;
    int64_t n;
    /* the outputs, filled as records come: scalars for ReaderReadV2;
     * vectors of room for ReadUpTo, resized at the end */
    tfc_tensor *keys, *values;
    /* 0: on the kernel's stack (the reader and queue are its inputs'); 1:
     * copied to the heap, holding references, once it waits for a file */
    int heap;
} read_req;

/* not inlined: gcc would see free() reached with the kernel's stack copy */
__attribute__((noinline)) static void heap_req_free(read_req *rq) {
    tfc_resource_unref((tfc_resource *)rq->r);
    tfc_resource_unref((tfc_resource *)rq->q);
    free(rq);
}

static void req_free(read_req *rq) {
    tfc_tensor_free(rq->keys);
    tfc_tensor_free(rq->values);
    if (rq->heap) heap_req_free(rq);
}

static void deliver_error(read_req *rq, const tfc_status *st) {
    if (rq->token) {
        tfc_async_done_error(rq->token, st->code, "%s", st->msg);
        tfc_async_done_finish(rq->token);
    } else {
        tfc_kernel_error(rq->ctx, st->code, "%s", st->msg);
    }
    req_free(rq);
}

/* The string vector t with n elements: its first n (or all, then empty
 * ones), the bytes staying where they are (t's storage moves over). t is
 * freed; NULL when memory runs out (t kept). */
static tfc_tensor *resize_strings(tfc_tensor *t, int64_t n) {
    if (t->nelem == n) return t;
    tfc_tensor *u = tfc_tensor_alloc(TFC_STRING, 1, &n); /* zeroed: empty strings */
    if (!u) return NULL;
    memcpy(u->data, t->data, sizeof(tfc_string) * (size_t)(n < t->nelem ? n : t->nelem));
    u->strings = t->strings;
    t->strings = NULL;
    tfc_tensor_free(t);
    return u;
}

static void deliver(read_req *rq) {
    if (rq->upto) {
        tfc_tensor *k = resize_strings(rq->keys, rq->n);
        if (k) rq->keys = k;
        tfc_tensor *v = k ? resize_strings(rq->values, rq->n) : NULL;
        if (!v) {
            tfc_status st;
            tfc_status_set(&st, TFC_RESOURCE_EXHAUSTED, "out of memory building records");
            deliver_error(rq, &st);
            return;
        }
        rq->values = v;
    }
    tfc_tensor *k = rq->keys, *v = rq->values;
    rq->keys = rq->values = NULL;
    if (rq->token) {
        tfc_async_done_set_output(rq->token, 0, k);
        tfc_async_done_set_output(rq->token, 1, v);
        tfc_async_done_finish(rq->token);
    } else {
        tfc_kernel_set_output(rq->ctx, 0, k);
        tfc_kernel_set_output(rq->ctx, 1, v);
    }
    req_free(rq);
}

static void got_work(tfc_queue_attempt *a);

/* Reads what the reader has; asks the queue for a file name when it has
 * nothing more (continuing in got_work), else replies. */
static void read_step(read_req *rq) {
    tfc_status st = {0};
    tfc_reader *r = rq->r;
    tfc_reader_lock(r);
    int rc;
    for (;;) {
        if (rq->upto && rq->n == rq->keys->nelem) { /* more room: twice as much */
            int64_t cap = 2 * rq->n < rq->want ? 2 * rq->n : rq->want;
            tfc_tensor *k = resize_strings(rq->keys, cap);
            if (k) rq->keys = k;
            tfc_tensor *v = k ? resize_strings(rq->values, cap) : NULL;
            if (v) rq->values = v;
            if (!k || !v) {
                tfc_status_set(&st, TFC_RESOURCE_EXHAUSTED, "out of memory reading records");
                rc = -1;
                break;
            }
        }
        rc = tfc_reader_next(r, rq->keys, rq->values, rq->n, &st);
        if (rc == 1 && ++rq->n == rq->want) break;
        if (rc == 2 && rq->n > 0) break; /* ReadUpTo stops at the end of a file */
        if (rc == 0 || rc < 0) break;
    }
    tfc_reader_unlock(r);
    if (rc < 0) {
        deliver_error(rq, &st);
        return;
    }
    if (rc != 0) {
        deliver(rq);
        return;
    }
    /* no work left: the next file name from the queue, waited for by a
     * copy on the heap (the kernel may return before it comes) */
    if (!rq->heap) {
        read_req *h = malloc(sizeof *h);
        if (!h) {
            tfc_status_set(&st, TFC_RESOURCE_EXHAUSTED, "out of memory reading records");
            deliver_error(rq, &st);
            return;
        }
        *h = *rq;
        h->heap = 1;
        tfc_resource_ref((tfc_resource *)h->r);
        tfc_resource_ref((tfc_resource *)h->q);
        rq = h;
    }
    tfc_queue_start_dequeue(rq->q, rq->token ? NULL : rq->ctx, -1, 0, got_work, rq, rq->token);
}

static void got_work(tfc_queue_attempt *a) {
    read_req *rq = a->arg;
    if (a->token) {
        rq->token = a->token;
        rq->ctx = NULL;
    }
    if (a->status.code != TFC_OK) {
        deliver_error(rq, &a->status);
        return;
    }
    const tfc_tensor *w = a->got[0][0];
    tfc_status st = {0};
    if (w->dtype != TFC_STRING || w->nelem != 1) {
        char b[64];
        tfc_status_set(&st, TFC_INVALID_ARGUMENT,
                       "Expected to dequeue a one-element string tensor, but got %s %s",
                       tfc_dtype_name(w->dtype), tfc_dims_str(w->rank, w->dims, b, sizeof b));
        deliver_error(rq, &st);
        return;
    }
    tfc_string name = tfc_string_at(w, 0);
    tfc_reader_lock(rq->r);
    int rc = tfc_reader_add_work(rq->r, name.data, name.len);
    tfc_reader_unlock(rq->r);
    if (rc) {
        tfc_status_set(&st, TFC_RESOURCE_EXHAUSTED, "out of memory");
        deliver_error(rq, &st);
        return;
    }
    read_step(rq);
}

static void read_kernel(tfc_kernel_ctx *c) {
    tfc_reader *r = tfc_reader_from_handle(c->inputs[0]);
    tfc_queue *q = tfc_queue_from_handle(c->inputs[1]);
    if (!r || !q) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input %d is not a %s's handle", r ? 1 : 0,
                         r ? "queue" : "reader");
        return;
    }
    int upto = !strcmp(c->node->op->type, "ReaderReadUpToV2");
    int64_t want = upto ? tfc_tensor_get_int(c->inputs[2], 0) : 1;
    if (want < 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "num_records (%lld) must be at least 1",
                         (long long)want);
        return;
    }
    read_req local = {0}, *rq = &local;
    rq->r = r;
    rq->q = q;
    rq->ctx = c;
    rq->want = want;
    rq->upto = upto;
    /* ReadUpTo: room for up to 1024 records at first (want may be huge) */
    int64_t room = want < 1024 ? want : 1024;
    rq->keys = tfc_tensor_alloc(TFC_STRING, upto, &room);
    rq->values = tfc_tensor_alloc(TFC_STRING, upto, &room);
    if (!rq->keys || !rq->values) {
        req_free(rq);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    read_step(rq);
}

static void count_kernel(tfc_kernel_ctx *c) {
    tfc_reader *r = tfc_reader_from_handle(c->inputs[0]);
    if (!r) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not a reader's handle");
        return;
    }
    const char *t = c->node->op->type;
    tfc_reader_lock(r);
    if (!strcmp(t, "ReaderResetV2")) {
        tfc_reader_clear(r);
        tfc_reader_unlock(r);
        return;
    }
    int64_t v = !strcmp(t, "ReaderNumRecordsProducedV2") ? tfc_reader_records_produced(r)
                                                         : tfc_reader_work_completed(r);
    tfc_reader_unlock(r);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_INT64, 0, NULL);
    if (out) *(int64_t *)out->data = v;
}

#define READ_OP (READER_OP | TFC_OP_STRINGS | TFC_OP_ASYNC)

const tfc_op_def tfc_ops_reader[] = {
    {"TFRecordReaderV2", 0, 0, 1, READER_OP | TFC_OP_HANDLE, 0, reader_infer, reader_kernel, NULL},
    {"TextLineReaderV2", 0, 0, 1, READER_OP | TFC_OP_HANDLE, 0, reader_infer, reader_kernel, NULL},
    {"FixedLengthRecordReaderV2", 0, 0, 1, READER_OP | TFC_OP_HANDLE, 0, reader_infer, reader_kernel, NULL},
    {"WholeFileReaderV2", 0, 0, 1, READER_OP | TFC_OP_HANDLE, 0, reader_infer, reader_kernel, NULL},
    {"ReaderReadV2", 2, 2, 2, READ_OP, 0, read_infer, read_kernel, NULL},
    {"ReaderReadUpToV2", 3, 3, 2, READ_OP, 0, read_infer, read_kernel, NULL},
    {"ReaderNumRecordsProducedV2", 1, 1, 1, READER_OP, 0, read_infer, count_kernel, NULL},
    {"ReaderNumWorkUnitsCompletedV2", 1, 1, 1, READER_OP, 0, read_infer, count_kernel, NULL},
    {"ReaderResetV2", 1, 1, 0, READER_OP, 0, read_infer, count_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_tf_record_reader(tfc_graph *g, const char *compression_type) {
    tfc_op_desc *d = tfc_op_new(g, "TFRecordReaderV2", NULL);
    tfc_op_set_attr_string(d, "compression_type", compression_type ? compression_type : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_text_line_reader(tfc_graph *g, int64_t skip_header_lines) {
    tfc_op_desc *d = tfc_op_new(g, "TextLineReaderV2", NULL);
    tfc_op_set_attr_int(d, "skip_header_lines", skip_header_lines);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_fixed_length_record_reader(tfc_graph *g, int64_t record_bytes, int64_t header_bytes,
                                          int64_t footer_bytes, int64_t hop_bytes,
                                          const char *encoding) {
    tfc_op_desc *d = tfc_op_new(g, "FixedLengthRecordReaderV2", NULL);
    tfc_op_set_attr_int(d, "record_bytes", record_bytes);
    tfc_op_set_attr_int(d, "header_bytes", header_bytes);
    tfc_op_set_attr_int(d, "footer_bytes", footer_bytes);
    tfc_op_set_attr_int(d, "hop_bytes", hop_bytes);
    tfc_op_set_attr_string(d, "encoding", encoding ? encoding : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_whole_file_reader(tfc_graph *g) {
    return tfc_out(tfc_op_finish(tfc_op_new(g, "WholeFileReaderV2", NULL)), 0);
}

void tfc_reader_read(tfc_graph *g, tfc_output reader, tfc_output queue, tfc_output out[2]) {
    tfc_op_desc *d = tfc_op_new(g, "ReaderReadV2", NULL);
    tfc_op_add_input(d, reader);
    tfc_op_add_input(d, queue);
    tfc_node *n = tfc_op_finish(d);
    out[0] = tfc_out(n, 0);
    out[1] = tfc_out(n, 1);
}

void tfc_reader_read_up_to(tfc_graph *g, tfc_output reader, tfc_output queue, int64_t num_records,
                           tfc_output out[2]) {
    tfc_op_desc *d = tfc_op_new(g, "ReaderReadUpToV2", NULL);
    tfc_op_add_input(d, reader);
    tfc_op_add_input(d, queue);
    tfc_op_add_input(d, tfc_const_int64(g, num_records));
    tfc_node *n = tfc_op_finish(d);
    out[0] = tfc_out(n, 0);
    out[1] = tfc_out(n, 1);
}

static tfc_output reader_count(tfc_graph *g, const char *type, tfc_output reader) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, reader);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_reader_num_records_produced(tfc_graph *g, tfc_output reader) {
    return reader_count(g, "ReaderNumRecordsProducedV2", reader);
}

tfc_output tfc_reader_num_work_units_completed(tfc_graph *g, tfc_output reader) {
    return reader_count(g, "ReaderNumWorkUnitsCompletedV2", reader);
}

tfc_node *tfc_reader_reset(tfc_graph *g, tfc_output reader) {
    tfc_op_desc *d = tfc_op_new(g, "ReaderResetV2", NULL);
    tfc_op_add_input(d, reader);
    return tfc_op_finish(d);
}
