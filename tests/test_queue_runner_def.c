/* Queue runners in MetaGraphs, as TensorFlow's export_meta_graph and
 * import_meta_graph + start_queue_runners handle them: the exported file's
 * "queue_runners" collection is a bytes_list of QueueRunnerDef protos (read
 * here with a small wire-format reader of the test's own: queue, enqueue
 * ops, close and cancel ops, [OUT_OF_RANGE]); importing it (with and
 * without a prefix) re-creates the runners, whose threads then feed the
 * pipeline to its end; a QueueRunnerDef naming a missing node fails the
 * import naming it, and nothing is imported. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a minimal protobuf wire reader (independent of tfc's) ---- */

typedef struct field {
    int num, wire;
    uint64_t v;         /* varint */
    const uint8_t *p;   /* length-delimited */
    size_t n;
} field;

static int next_field(const uint8_t **p, const uint8_t *end, field *f) {
    if (*p >= end) return 0;
    uint64_t key = 0;
    for (int s = 0; *p < end; s += 7) {
        uint8_t b = *(*p)++;
        key |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) break;
    }
    f->num = (int)(key >> 3);
    f->wire = (int)(key & 7);
    if (f->wire == 0 || f->wire == 2) {
        uint64_t v = 0;
        for (int s = 0; *p < end; s += 7) {
            uint8_t b = *(*p)++;
            v |= (uint64_t)(b & 0x7f) << s;
            if (!(b & 0x80)) break;
        }
        f->v = v;
        if (f->wire == 2) {
            f->p = *p;
            f->n = (size_t)v;
            *p += v;
        }
    } else if (f->wire == 1) {
        *p += 8;
    } else if (f->wire == 5) {
        *p += 4;
    } else {
        return 0;
    }
    return *p <= end;
}

typedef struct runner_def {
    char queue[128], enq[4][128], close[128], cancel[128];
    int nenq, ncodes, codes[4];
} runner_def;

static void copy_str(char *dst, const field *f) {
    snprintf(dst, 128, "%.*s", (int)f->n, (const char *)f->p);
}

static void parse_runner(const uint8_t *p, size_t n, runner_def *r) {
    memset(r, 0, sizeof *r);
    const uint8_t *end = p + n;
    field f;
    while (next_field(&p, end, &f)) {
        if (f.num == 1 && f.wire == 2) copy_str(r->queue, &f);
        if (f.num == 2 && f.wire == 2 && r->nenq < 4) copy_str(r->enq[r->nenq++], &f);
        if (f.num == 3 && f.wire == 2) copy_str(r->close, &f);
        if (f.num == 4 && f.wire == 2) copy_str(r->cancel, &f);
        if (f.num == 5 && f.wire == 2) { /* packed */
            const uint8_t *q = f.p;
            while (q < f.p + f.n && r->ncodes < 4) r->codes[r->ncodes++] = *q++ & 0x7f;
        }
        if (f.num == 5 && f.wire == 0 && r->ncodes < 4) r->codes[r->ncodes++] = (int)f.v;
    }
}

/* The QueueRunnerDefs of a MetaGraphDef file's "queue_runners" entry
 * (MetaGraphDef.collection_def = 4: map entry key 1, value 2; CollectionDef
 * bytes_list = 2; BytesList value = 1). Returns how many; -1 when the
 * entry is there but not a bytes_list. */
static int read_runners(const uint8_t *buf, size_t len, runner_def *out, int max,
                        int *saw_internal_keys) {
    const uint8_t *p = buf, *end = buf + len;
    field f;
    int n = 0;
    *saw_internal_keys = 0;
    while (next_field(&p, end, &f)) {
        if (f.num != 4 || f.wire != 2) continue;
        const uint8_t *q = f.p, *qe = f.p + f.n;
        field g;
        char key[128] = "";
        const uint8_t *val = NULL;
        size_t nval = 0;
        while (next_field(&q, qe, &g)) {
            if (g.num == 1) copy_str(key, &g);
            if (g.num == 2) val = g.p, nval = g.n;
        }
        if (!strncmp(key, "queue_runners/", 14)) *saw_internal_keys = 1;
        if (strcmp(key, "queue_runners") || !val) continue;
        const uint8_t *c = val, *ce = val + nval;
        int bytes_list = 0;
        while (next_field(&c, ce, &g)) {
            if (g.num != 2 || g.wire != 2) continue;
            bytes_list = 1;
            const uint8_t *b = g.p, *be = g.p + g.n;
            field h;
            while (next_field(&b, be, &h))
                if (h.num == 1 && h.wire == 2 && n < max) parse_runner(h.p, h.n, &out[n++]);
        }
        if (!bytes_list) return -1;
    }
    return n;
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

/* ---- the pipeline ---- */

/* Two threads enqueueing count_up_to(counter, 10) (0..9, then
 * OUT_OF_RANGE) into queue "work" (a runner with named ops; shapes left
 * unknown) -> dequeue "take". */
static tfc_graph *pipeline(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output counter = tfc_local_variable(g, "counter", tfc_const_int32(g, 0));
    tfc_dtype dt = TFC_INT32;
    tfc_with_name(g, "work");
    tfc_output work = tfc_fifo_queue(g, 4, &dt, 1, NULL, NULL);
    tfc_node *enq[2];
    for (int i = 0; i < 2; i++) {
        tfc_output v = tfc_count_up_to(g, counter, 10);
        tfc_with_name(g, i ? "enq_b" : "enq_a");
        enq[i] = tfc_queue_enqueue(g, work, &v, 1);
    }
    tfc_with_name(g, "work_close");
    tfc_node *close = tfc_queue_close(g, work, 0);
    tfc_with_name(g, "work_cancel");
    tfc_node *cancel = tfc_queue_close(g, work, 1);
    CHECK(tfc_add_queue_runner(g, work, enq, 2, close, cancel) == 0);
    tfc_output take;
    tfc_with_name(g, "take");
    tfc_queue_dequeue(g, work, &take, 1);
    CHECK_GRAPH_OK(g);
    return g;
}

/* Starts g's runners and dequeues "<prefix>take" to the end: the sum of
 * what came out (45 for 0..9), or -1. */
static int drain_sum(tfc_graph *g, const char *prefix) {
    char name[64];
    snprintf(name, sizeof name, "%stake", prefix);
    tfc_node *take = tfc_graph_node_by_name(g, name);
    CHECK(take != NULL);
    if (!take) return -1;
    tfc_output out = tfc_out(take, 0);
    tfc_node *init = tfc_local_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    tfc_coordinator *coord = tfc_coordinator_new();
    CHECK(tfc_start_queue_runners(s, coord, st) > 0);
    int sum = 0, count = 0;
    for (;;) {
        tfc_tensor *t = NULL;
        tfc_session_run(s, NULL, NULL, 0, &out, 1, &t, NULL, 0, st);
        if (tfc_status_code(st) != TFC_OK) break;
        sum += *(int32_t *)tfc_tensor_data(t);
        count++;
        tfc_tensor_free(t);
    }
    CHECK_MSG(tfc_status_code(st) == TFC_OUT_OF_RANGE, "%s", tfc_status_message(st));
    tfc_coordinator_request_stop(coord, NULL);
    CHECK(tfc_coordinator_join(coord, 5000, st) == 0);
    tfc_session_close(s);
    tfc_coordinator_free(coord);
    tfc_session_free(s);
    tfc_status_free(st);
    return count == 10 ? sum : -1;
}

static void meta_path(char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/tfc_qrdef_%ld.meta", (long)getpid());
}

static void test_export_writes_queue_runner_defs(void) {
    tfc_graph *g = pipeline();
    char path[128];
    meta_path(path, sizeof path);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_export_meta_graph(g, NULL, path, st) == 0);
    size_t len = 0;
    uint8_t *buf = read_all(path, &len);
    runner_def r[4];
    int internal = 0;
    int n = buf ? read_runners(buf, len, r, 4, &internal) : -2;
    CHECK_MSG(n == 1, "%d QueueRunnerDefs", n);
    CHECK(!internal); /* tfc's own bookkeeping collections are not written */
    if (n == 1) { /* op names, as TensorFlow's QueueRunner.to_proto writes them */
        CHECK(!strcmp(r[0].queue, "work"));
        CHECK(r[0].nenq == 2 && !strcmp(r[0].enq[0], "enq_a") && !strcmp(r[0].enq[1], "enq_b"));
        CHECK(!strcmp(r[0].close, "work_close") && !strcmp(r[0].cancel, "work_cancel"));
        CHECK(r[0].ncodes == 1 && r[0].codes[0] == 11); /* OUT_OF_RANGE, TF's default */
    }
    free(buf);
    remove(path);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_import_recreates_runners(void) {
    tfc_graph *g = pipeline();
    CHECK(drain_sum(g, "") == 45);
    char path[128];
    meta_path(path, sizeof path);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_export_meta_graph(g, NULL, path, st) == 0);
    for (int k = 0; k < 2; k++) {
        tfc_graph *g2 = tfc_graph_new();
        tfc_import_options o = {0};
        o.prefix = k ? "imp" : NULL;
        CHECK(tfc_import_meta_graph_v2(g2, path, &o, st) == 0);
        CHECK_STATUS_OK(st);
        CHECK(tfc_graph_num_queue_runners(g2) == 1);
        /* the imported runner is ours, with the file's ops */
        tfc_node *q = tfc_graph_collection_get(g2, "queue_runners", 0);
        CHECK(q && !strcmp(tfc_node_name(q), k ? "imp/work" : "work"));
        tfc_node *e = tfc_graph_collection_get(g2, "queue_runners/0/enqueue_ops", 1);
        CHECK(e && !strcmp(tfc_node_name(e), k ? "imp/enq_b" : "enq_b"));
        tfc_node *c = tfc_graph_collection_get(g2, "queue_runners/0/cancel_op", 0);
        CHECK(c && !strcmp(tfc_node_name(c), k ? "imp/work_cancel" : "work_cancel"));
        CHECK(drain_sum(g2, k ? "imp/" : "") == 45);
        /* exported again: the same two runners */
        CHECK(tfc_export_meta_graph(g2, NULL, path, st) == 0);
        size_t len = 0;
        uint8_t *buf = read_all(path, &len);
        runner_def r[4];
        int internal = 0;
        CHECK(buf && read_runners(buf, len, r, 4, &internal) == 1 && !internal);
        free(buf);
        if (!k) CHECK(tfc_export_meta_graph(g, NULL, path, st) == 0); /* restore for k = 1 */
        tfc_graph_free(g2);
    }
    remove(path);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_missing_node_fails_import(void) {
    tfc_graph *g = pipeline();
    char path[128];
    meta_path(path, sizeof path);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_export_meta_graph(g, NULL, path, st) == 0);
    size_t len = 0;
    uint8_t *buf = read_all(path, &len);
    /* the last "enq_b" in the file is the QueueRunnerDef's (collections
     * follow the GraphDef): make it name no node */
    uint8_t *last = NULL;
    for (size_t i = 0; buf && i + 5 <= len; i++)
        if (!memcmp(buf + i, "enq_b", 5)) last = buf + i;
    CHECK(last != NULL);
    if (last) last[4] = 'z';
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    tfc_graph *g2 = tfc_graph_new();
    CHECK(tfc_import_meta_graph(g2, path, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "queue_runners");
    CHECK_CONTAINS(tfc_status_message(st), "enq_z");
    CHECK(tfc_graph_num_nodes(g2) == 0);
    tfc_graph_free(g2);
    free(buf);
    remove(path);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_export_writes_queue_runner_defs), T(test_import_recreates_runners),
              T(test_missing_node_fails_import))
