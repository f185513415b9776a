/* RunMetadata: the step statistics a traced run records (per executed
 * node: device, thread, start and end, output sizes), their accessors and
 * the Chrome trace JSON writer (a timeline: one process row per device,
 * one thread row per OS thread), and the partition graphs' bytes
 * (partition_graph.c writes them). */
#include "runtime/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tfc_node_exec_stats {
    char *name, *op;
    int device; /* index in md->devices */
    int64_t thread;
    int64_t start_ns, end_ns;
    int noutputs;
    int64_t *output_bytes;
} tfc_node_exec_stats;

struct tfc_run_metadata {
    int n, cap;
    tfc_node_exec_stats *nodes;
    int ndevices;
    char **devices;
    int64_t t0; /* the earliest start: times are given from it */
    int ngraphs;
    uint8_t **graphs; /* serialized GraphDefs, one per partition */
    size_t *graph_len;
};

tfc_run_metadata *tfc_run_metadata_new(void) { return calloc(1, sizeof(tfc_run_metadata)); }

void tfc_run_metadata_clear(tfc_run_metadata *md) {
    if (!md) return;
    for (int i = 0; i < md->n; i++) {
        free(md->nodes[i].name);
        free(md->nodes[i].op);
        free(md->nodes[i].output_bytes);
    }
    md->n = 0;
    md->t0 = 0;
    for (int i = 0; i < md->ngraphs; i++) free(md->graphs[i]);
    md->ngraphs = 0;
}

void tfc_run_metadata_free(tfc_run_metadata *md) {
    if (!md) return;
    tfc_run_metadata_clear(md);
    free(md->nodes);
    for (int i = 0; i < md->ndevices; i++) free(md->devices[i]);
    free(md->devices);
    free(md->graphs);
    free(md->graph_len);
    free(md);
}

/* The index of device `name` in md's list, added when new; -1 on OOM. */
static int device_index(tfc_run_metadata *md, const char *name) {
    for (int i = 0; i < md->ndevices; i++)
        if (!strcmp(md->devices[i], name)) return i;
    char **v = realloc(md->devices, ((size_t)md->ndevices + 1) * sizeof *v);
    if (!v) return -1;
    md->devices = v;
    if (!(v[md->ndevices] = strdup(name))) return -1;
    return md->ndevices++;
}

static int by_start(const void *a, const void *b) {
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

int tfc_run_metadata_add(tfc_run_metadata *md, const tfc_plan *p, const tfc_trace *t) {
    int dev = device_index(md, p->device ? p->device->name : "");
    if (dev < 0) return -1;
    /* the nodes that ran, by start time: (start, plan index) pairs */
    int64_t *order = malloc(((size_t)p->nnodes + 1) * 2 * sizeof *order);
    if (!order) return -1;
    int nran = 0;
    for (int j = 0; j < p->nnodes; j++)
        if (t->node[3 * j]) {
            order[2 * nran] = t->node[3 * j];
            order[2 * nran + 1] = j;
            nran++;
        }
    qsort(order, (size_t)nran, 2 * sizeof *order, by_start);
    if (md->n + nran > md->cap) {
        int cap = md->cap ? md->cap : 64;
        while (cap < md->n + nran) cap *= 2;
        tfc_node_exec_stats *v = realloc(md->nodes, (size_t)cap * sizeof *v);
        if (!v) {
            free(order);
            return -1;
        }
        md->nodes = v;
        md->cap = cap;
    }
    for (int k = 0; k < nran; k++) {
        int j = (int)order[2 * k + 1];
        const tfc_plan_node *pn = &p->nodes[j];
        tfc_node_exec_stats *e = &md->nodes[md->n];
        memset(e, 0, sizeof *e);
        e->name = strdup(pn->node->name);
        e->op = strdup(pn->op->type);
        e->output_bytes = calloc((size_t)pn->noutputs + 1, sizeof *e->output_bytes);
        if (!e->name || !e->op || !e->output_bytes) {
            free(e->name);
            free(e->op);
            free(e->output_bytes);
            free(order);
            return -1;
        }
        e->device = dev;
        e->start_ns = t->node[3 * j];
        e->end_ns = t->node[3 * j + 1];
        e->thread = t->node[3 * j + 2];
        e->noutputs = pn->noutputs;
        for (int o = 0; o < pn->noutputs; o++) e->output_bytes[o] = t->slot_bytes[pn->out_slot + o];
        if (!md->t0 || e->start_ns < md->t0) md->t0 = e->start_ns;
        md->n++;
    }
    free(order);
    return 0;
}

static const tfc_node_exec_stats *entry(const tfc_run_metadata *md, int i) {
    return md && i >= 0 && i < md->n ? &md->nodes[i] : NULL;
}

int tfc_run_metadata_num_nodes(const tfc_run_metadata *md) { return md ? md->n : 0; }
const char *tfc_run_metadata_node_name(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? md->nodes[i].name : NULL;
}
const char *tfc_run_metadata_node_op(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? md->nodes[i].op : NULL;
}
const char *tfc_run_metadata_node_device(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? md->devices[md->nodes[i].device] : NULL;
}
int64_t tfc_run_metadata_node_thread(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? md->nodes[i].thread : -1;
}
double tfc_run_metadata_node_start_us(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? (double)(md->nodes[i].start_ns - md->t0) / 1e3 : -1;
}
double tfc_run_metadata_node_end_us(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? (double)(md->nodes[i].end_ns - md->t0) / 1e3 : -1;
}
int tfc_run_metadata_node_num_outputs(const tfc_run_metadata *md, int i) {
    return entry(md, i) ? md->nodes[i].noutputs : -1;
}
int64_t tfc_run_metadata_node_output_bytes(const tfc_run_metadata *md, int i, int k) {
    const tfc_node_exec_stats *e = entry(md, i);
    return e && k >= 0 && k < e->noutputs ? e->output_bytes[k] : -1;
}

int tfc_run_metadata_add_partition_graph(tfc_run_metadata *md, uint8_t *bytes, size_t len) {
    uint8_t **g = realloc(md->graphs, ((size_t)md->ngraphs + 1) * sizeof *g);
    if (g) md->graphs = g;
    size_t *l = realloc(md->graph_len, ((size_t)md->ngraphs + 1) * sizeof *l);
    if (l) md->graph_len = l;
    if (!g || !l) return -1;
    if (!bytes && !(bytes = malloc(1))) return -1; /* an empty GraphDef has no bytes */
    md->graphs[md->ngraphs] = bytes;
    md->graph_len[md->ngraphs++] = len;
    return 0;
}

int tfc_run_metadata_num_partition_graphs(const tfc_run_metadata *md) {
    return md ? md->ngraphs : 0;
}

const void *tfc_run_metadata_partition_graph(const tfc_run_metadata *md, int i, size_t *len) {
    int ok = md && i >= 0 && i < md->ngraphs;
    if (len) *len = ok ? md->graph_len[i] : 0;
    return ok ? md->graphs[i] : NULL;
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(sbuf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *v = realloc(b->s, cap);
        if (!v) {
            b->failed = 1;
            return;
        }
        b->s = v;
        b->cap = cap;
    }
}

/* A JSON string: node names hold only [A-Za-z0-9_./-] in TensorFlow, but
 * imported ones could hold anything. */
static void put_json_str(sbuf *b, const char *s) {
    put(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(b, "\\%c", c);
        else if (c < 0x20)
            put(b, "\\u%04x", c);
        else
            put(b, "%c", c);
    }
    put(b, "\"");
}

char *tfc_run_metadata_chrome_trace(const tfc_run_metadata *md) {
    if (!md) return NULL;
    sbuf b = {0};
    put(&b, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    int first = 1;
    for (int d = 0; d < md->ndevices; d++) {
        put(&b, "%s\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":",
            first ? "" : ",", d);
        put_json_str(&b, md->devices[d]);
        put(&b, "}}");
        first = 0;
    }
    for (int i = 0; i < md->n; i++) {
        const tfc_node_exec_stats *e = &md->nodes[i];
        put(&b, "%s\n{\"name\":", first ? "" : ",");
        put_json_str(&b, e->name);
        put(&b, ",\"cat\":\"Op\",\"ph\":\"X\",\"pid\":%d,\"tid\":%lld,\"ts\":%.3f,\"dur\":%.3f,",
            e->device, (long long)e->thread, (double)(e->start_ns - md->t0) / 1e3,
            (double)(e->end_ns - e->start_ns) / 1e3);
        put(&b, "\"args\":{\"name\":");
        put_json_str(&b, e->name);
        put(&b, ",\"op\":");
        put_json_str(&b, e->op);
        put(&b, ",\"output_bytes\":[");
        for (int k = 0; k < e->noutputs; k++)
            put(&b, "%s%lld", k ? "," : "", (long long)e->output_bytes[k]);
        put(&b, "]}}");
        first = 0;
    }
    put(&b, "\n]}\n");
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int tfc_run_metadata_write_chrome_trace(const tfc_run_metadata *md, const char *path,
                                        tfc_status *status) {
    char *json = tfc_run_metadata_chrome_trace(md);
    if (!json) {
        tfc_status_set(status, TFC_INTERNAL, "out of memory writing the trace %s",
                       path ? path : "(null)");
        return -1;
    }
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "cannot open %s to write the trace",
                       path ? path : "(null)");
        free(json);
        return -1;
    }
    size_t len = strlen(json);
    int ok = fwrite(json, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(json);
    if (!ok) {
        tfc_status_set(status, TFC_INTERNAL, "cannot write the trace to %s", path);
        return -1;
    }
    tfc_status_set(status, TFC_OK, NULL);
    return 0;
}
