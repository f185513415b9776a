/* QuantizedConv2D through oneDNN's int8 convolution primitive (quint8
 * NHWC input, qint8 HWIO filter, qint32 NHWC output: TensorFlow's exact
 * integer sums, no scales), instead of im2col + int8 GEMM, which copies
 * kh*kw bytes per input byte. Taken when both codes of 0.0 are 0 (so
 * oneDNN's zero padding is the code of 0.0 and no offsets are needed), as
 * the post-training rewrite's products are, and when the sums are exact:
 * without VNNI oneDNN's AVX2 kernels add pairs of u8 x s8 products in
 * saturating int16 (vpmaddubsw), exact for filter codes within +-64 (see
 * docs/QUANTIZATION.md). The batch is cut into chunks over the pool, each
 * one single-threaded primitive call; integer sums make any cut give the
 * same result. Primitives are cached per geometry for the process. They
 * run with scratchpads of their own ("user" mode, one per chunk): oneDNN's
 * own scratchpad is not safe for one primitive run by two threads at once
 * (on an AVX-512 VNNI machine the chunks' sums came out wrong, 1 test run
 * in 30). */
#include "core/buffer_pool.h"
#include "ops/quantize_internal.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define Q_CONV_CACHE 64
#define Q_CONV_MAX_CHUNKS 4

typedef struct q_conv_key {
    int64_t mb, h, w, c, o, kh, kw, oh, ow, sh, sw, ph, pw;
} q_conv_key;

typedef struct q_conv_entry {
    q_conv_key key;
    dnnl_primitive_t prim; /* NULL: declined (no primitive, or a reference one) */
    dnnl_memory_desc_t src, wei, dst, hwio, scratch;
    size_t scratch_bytes;     /* a call's scratchpad (0: none) */
    dnnl_primitive_t reorder; /* hwio -> wei, or NULL when they agree */
} q_conv_entry;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static q_conv_entry *cache[Q_CONV_CACHE];
static int ncache;

static void engine_init(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
}

static void entry_make(q_conv_entry *e) {
    const q_conv_key *k = &e->key;
    dnnl_dims_t sd = {k->mb, k->c, k->h, k->w}, wd = {k->o, k->c, k->kh, k->kw};
    dnnl_dims_t dd = {k->mb, k->o, k->oh, k->ow}, strides = {k->sh, k->sw}, pl = {k->ph, k->pw};
    int64_t rh = (k->oh - 1) * k->sh + k->kh - k->h - k->ph;
    int64_t rw = (k->ow - 1) * k->sw + k->kw - k->w - k->pw;
    dnnl_dims_t pr = {rh > 0 ? rh : 0, rw > 0 ? rw : 0};
    dnnl_memory_desc_t wany;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    const dnnl_memory_desc_t *smd, *rsmd;
    const char *impl = NULL;
    if (dnnl_primitive_attr_create(&attr) ||
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) ||
        dnnl_memory_desc_init_by_tag(&e->src, 4, sd, dnnl_u8, dnnl_nhwc) ||
        dnnl_memory_desc_init_by_tag(&e->dst, 4, dd, dnnl_s32, dnnl_nhwc) ||
        dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_s8, dnnl_format_tag_any) ||
        dnnl_memory_desc_init_by_tag(&e->hwio, 4, wd, dnnl_s8, dnnl_hwio) ||
        dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                           &e->src, &wany, NULL, &e->dst, strides, pl, pr) ||
        dnnl_primitive_desc_create(&pd, &cd, attr, engine, NULL) ||
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) || !impl ||
        strstr(impl, "ref") || /* the reference kernel is slower than im2col + GEMM */
        !(smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)))
        goto done;
    e->scratch = *smd;
    e->scratch_bytes = dnnl_memory_desc_get_size(smd);
    e->wei = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    /* a reorder that wants a scratchpad is not worth supporting here */
    if (!dnnl_memory_desc_equal(&e->wei, &e->hwio) &&
        (dnnl_reorder_primitive_desc_create(&rpd, &e->hwio, engine, &e->wei, engine, attr) ||
         !(rsmd = dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0)) ||
         dnnl_memory_desc_get_size(rsmd) != 0 || dnnl_primitive_create(&e->reorder, rpd)))
        goto done;
    if (dnnl_primitive_create(&e->prim, pd)) e->prim = NULL;
done:
    if (!e->prim && e->reorder) {
        dnnl_primitive_destroy(e->reorder);
        e->reorder = NULL;
    }
    dnnl_primitive_desc_destroy(rpd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
}

static q_conv_entry *entry_get(const q_conv_key *k) {
    q_conv_entry *e = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ncache && !e; i++)
        if (!memcmp(&cache[i]->key, k, sizeof *k)) e = cache[i];
    if (!e && ncache < Q_CONV_CACHE && (e = calloc(1, sizeof *e))) {
        e->key = *k;
        /* a primitive fixes its thread count when it is made (its jit
         * kernel splits the work for it): one, like its calls */
        int threads = omp_get_max_threads();
        if (threads != 1) omp_set_num_threads(1);
        entry_make(e);
        if (threads != 1) omp_set_num_threads(threads);
        cache[ncache++] = e;
    }
    pthread_mutex_unlock(&lock);
    return e;
}

/* Runs `prim` on its memories, single-threaded. 0 or -1. */
static int execute(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args) {
    dnnl_stream_t s = NULL;
    int threads = omp_get_max_threads();
    if (threads != 1) omp_set_num_threads(1);
    int rc = dnnl_stream_create(&s, engine, dnnl_stream_default_flags) ||
             dnnl_primitive_execute(prim, s, nargs, args) || dnnl_stream_wait(s);
    if (threads != 1) omp_set_num_threads(threads);
    dnnl_stream_destroy(s);
    return rc ? -1 : 0;
}

typedef struct q_conv_job {
    q_conv_entry *full, *rest;
    int64_t mb, chunks;
    const uint8_t *x;
    void *wei;
    int32_t *y;
    size_t x_img, y_img; /* elements per image */
    char *scratch;       /* chunk i's scratchpad at i * scratch_step */
    size_t scratch_step;
    atomic_int failed;
} q_conv_job;

static void run_chunks(void *arg, int64_t c0, int64_t c1) {
    q_conv_job *j = arg;
    for (int64_t i = c0; i < c1; i++) {
        q_conv_entry *e = i == j->chunks - 1 ? j->rest : j->full;
        dnnl_memory_t m[4] = {NULL, NULL, NULL, NULL};
        size_t first = (size_t)(i * j->mb);
        int bad = dnnl_memory_create(&m[0], &e->src, engine, (void *)(j->x + first * j->x_img)) ||
                  dnnl_memory_create(&m[1], &e->wei, engine, j->wei) ||
                  dnnl_memory_create(&m[2], &e->dst, engine, j->y + first * j->y_img) ||
                  (e->scratch_bytes && dnnl_memory_create(&m[3], &e->scratch, engine,
                                                          j->scratch + i * j->scratch_step));
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m[0]},
                                   {DNNL_ARG_WEIGHTS, m[1]},
                                   {DNNL_ARG_DST, m[2]},
                                   {DNNL_ARG_SCRATCHPAD, m[3]}};
        if (bad || execute(e->prim, e->scratch_bytes ? 4 : 3, args)) atomic_store(&j->failed, 1);
        for (int q = 0; q < 4; q++) dnnl_memory_destroy(m[q]);
    }
}

/* Filter codes within +-64: the AVX2 kernels' int16 pair sums are exact. */
static int codes_small(const int8_t *f, int64_t n) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= f[i] > 64 || f[i] < -64;
    return !bad;
}

int tfc_q_conv_dnnl(tfc_kernel_ctx *c, const tfc_q_conv_geom *q, const uint8_t *x,
                    const int8_t *f, int32_t *y) {
    pthread_once(&once, engine_init);
    int64_t flen = q->kh * q->kw * q->c * q->o;
    if (!engine || q->n == 0 || !codes_small(f, flen)) return 0;
    q_conv_job j = {.x = x, .y = y};
    int64_t threads = tfc_threadpool_size(c->pool);
    int64_t want = threads < Q_CONV_MAX_CHUNKS ? threads : Q_CONV_MAX_CHUNKS;
    if (want < 1) want = 1;
    j.mb = (q->n + want - 1) / want;
    j.chunks = (q->n + j.mb - 1) / j.mb;
    int64_t last = q->n - (j.chunks - 1) * j.mb;
    q_conv_key k = {j.mb, q->h, q->w, q->c, q->o, q->kh, q->kw, q->oh, q->ow,
                    q->sh, q->sw, q->ph, q->pw};
    j.full = entry_get(&k);
    k.mb = last;
    j.rest = last == j.mb ? j.full : entry_get(&k);
    if (!j.full || !j.rest || !j.full->prim || !j.rest->prim ||
        !dnnl_memory_desc_equal(&j.full->wei, &j.rest->wei))
        return 0;
    j.x_img = (size_t)(q->h * q->w * q->c);
    j.y_img = (size_t)(q->oh * q->ow * q->o);
    size_t wbytes = dnnl_memory_desc_get_size(&j.full->wei);
    void *blocked = NULL;
    j.wei = (void *)f;
    if (j.full->reorder) {
        dnnl_memory_t from = NULL, to = NULL;
        int bad = !(blocked = tfc_block_alloc(wbytes)) ||
                  dnnl_memory_create(&from, &j.full->hwio, engine, (void *)f) ||
                  dnnl_memory_create(&to, &j.full->wei, engine, blocked);
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
        bad = bad || execute(j.full->reorder, 2, args);
        dnnl_memory_destroy(from);
        dnnl_memory_destroy(to);
        if (bad) {
            if (blocked) tfc_block_free(blocked, wbytes);
            tfc_kernel_error(c, TFC_INTERNAL, "oneDNN could not reorder the int8 filter");
            return -1;
        }
        j.wei = blocked;
    }
    /* a scratchpad a chunk, 64-byte aligned, from the block cache */
    j.scratch_step = (j.full->scratch_bytes > j.rest->scratch_bytes ? j.full->scratch_bytes
                                                                     : j.rest->scratch_bytes);
    j.scratch_step = (j.scratch_step + 63) & ~(size_t)63;
    size_t sbytes = j.scratch_step * (size_t)j.chunks;
    if (sbytes && !(j.scratch = tfc_block_alloc(sbytes))) {
        if (blocked) tfc_block_free(blocked, wbytes);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED,
                         "out of memory for the int8 convolution's scratchpad (%zu bytes)", sbytes);
        return -1;
    }
    tfc_parallel_for(c->pool, j.chunks, 1, run_chunks, &j);
    if (sbytes) tfc_block_free(j.scratch, sbytes);
    if (blocked) tfc_block_free(blocked, wbytes);
    if (atomic_load(&j.failed)) {
        tfc_kernel_error(c, TFC_INTERNAL, "oneDNN's int8 convolution failed");
        return -1;
    }
    return 1;
}
