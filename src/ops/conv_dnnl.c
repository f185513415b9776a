/* Float32 convolutions through oneDNN's convolution primitives (see
 * tfc_conv_dnnl in conv_internal.h); conv.c falls back to im2col + GEMM
 * where this file declines.
 *
 * Determinism: the batch is cut into chunks whose size depends only on the
 * batch size, each chunk one single-threaded primitive call on a pool
 * thread (oneDNN's kernels, and so their order of summation, depend on the
 * call's shape and its thread count, which is held at one). The filter
 * gradient sums the chunks' partial gradients in chunk order. So a result
 * is the same at any thread count.
 *
 * Caching: a primitive is created once per (pass, chunk geometry) and kept
 * for the process, with the reorder of its filter between TensorFlow's
 * HWIO and the blocked layout the primitive chose. Each keeps a free list
 * of execution slots (memory objects and a stream) so a warm call creates
 * no oneDNN object; scratchpads ("user" mode) and the blocked filters come
 * from tfc's block cache. */
#include "core/buffer_pool.h"
#include "core/vector_clones.h"
#include "ops/bfloat16_products.h"
#include "ops/conv_internal.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The most chunks a batch is cut into: enough for 2-4 threads, few enough
 * that each call stays long and the filter gradient's partials few. */
#define MAX_CHUNKS 4
#define CACHE_SIZE 256

typedef struct prim_key {
    int64_t pass, mb, h, w, c, o, fh, fw, oh, ow, sh, sw, ph, pw;
} prim_key;

/* memories of one call: 0 (diff_)src, 1 (diff_)weights, 2 (diff_)dst */
typedef struct exec_slot {
    struct exec_slot *next;
    dnnl_stream_t stream;
    dnnl_memory_t mem[3], scratch, reorder_src, reorder_dst;
} exec_slot;

typedef struct prim_entry {
    prim_key key;
    int usable; /* 0: declined (no primitive, or a reference one): im2col */
    dnnl_primitive_t prim;
    dnnl_primitive_t reorder; /* filter: HWIO -> wei_md (backward-weights: wei_md -> HWIO), or NULL */
    dnnl_memory_desc_t md[3], hwio;
    dnnl_memory_desc_t scratch_md;
    size_t scratch_bytes, wei_bytes;
    exec_slot *free_slots; /* under cache_lock */
} prim_entry;

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static int im2col_forced;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static prim_entry *cache[CACHE_SIZE];
static int cache_n;

static void engine_init(void) {
    const char *e = getenv("TFC_CONV_IM2COL");
    im2col_forced = e && *e && strcmp(e, "0") != 0;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
}

/* Fills e's primitive for its key, or leaves e->usable 0. */
static void entry_make(prim_entry *e) {
    const prim_key *k = &e->key;
    dnnl_dims_t sd = {k->mb, k->c, k->h, k->w}, wd = {k->o, k->c, k->fh, k->fw};
    dnnl_dims_t dd = {k->mb, k->o, k->oh, k->ow};
    dnnl_dims_t strides = {k->sh, k->sw}, pl = {k->ph, k->pw};
    /* trailing padding: whatever the output size needs (none for VALID) */
    int64_t rh = (k->oh - 1) * k->sh + k->fh - k->h - k->ph;
    int64_t rw = (k->ow - 1) * k->sw + k->fw - k->w - k->pw;
    dnnl_dims_t pr = {rh > 0 ? rh : 0, rw > 0 ? rw : 0};
    dnnl_memory_desc_t src, wei, dst;
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, pd = NULL, rpd = NULL;
    if (dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc) ||
        dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc) ||
        dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any) ||
        dnnl_memory_desc_init_by_tag(&e->hwio, 4, wd, dnnl_f32, dnnl_hwio) ||
        dnnl_primitive_attr_create(&attr) ||
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) ||
        dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                           &src, &wei, NULL, &dst, strides, pl, pr) ||
        dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL))
        goto done;
    if (k->pass == TFC_CONV_FORWARD) {
        pd = fpd;
        fpd = NULL;
    } else if (k->pass == TFC_CONV_BACKWARD_DATA) {
        if (dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &src, &wei,
                                                     &dst, strides, pl, pr) ||
            dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd))
            goto done;
    } else if (dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &src, &wei,
                                                           NULL, &dst, strides, pl, pr) ||
               dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd)) {
        goto done;
    }
    /* oneDNN's reference kernels are far slower than im2col + sgemm */
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) || !impl ||
        strstr(impl, "ref"))
        goto done;
    static const dnnl_query_t q[3][3] = {
        {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
        {dnnl_query_diff_src_md, dnnl_query_weights_md, dnnl_query_diff_dst_md},
        {dnnl_query_src_md, dnnl_query_diff_weights_md, dnnl_query_diff_dst_md}};
    for (int i = 0; i < 3; i++) {
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, q[k->pass][i], 0);
        if (!md) goto done;
        e->md[i] = *md;
    }
    /* the images must be read and written where they are, as NHWC */
    if (!dnnl_memory_desc_equal(&e->md[0], &src) || !dnnl_memory_desc_equal(&e->md[2], &dst))
        goto done;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!smd) goto done;
    e->scratch_md = *smd;
    e->scratch_bytes = dnnl_memory_desc_get_size(smd);
    e->wei_bytes = dnnl_memory_desc_get_size(&e->md[1]);
    if (!dnnl_memory_desc_equal(&e->md[1], &e->hwio)) {
        int back = k->pass == TFC_CONV_BACKWARD_WEIGHTS;
        const dnnl_memory_desc_t *from = back ? &e->md[1] : &e->hwio, *to = back ? &e->hwio : &e->md[1];
        size_t rs = 1;
        const dnnl_memory_desc_t *rsmd;
        /* a reorder that wants a scratchpad is not worth supporting here */
        if (dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, attr) ||
            !(rsmd = dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0)) ||
            (rs = dnnl_memory_desc_get_size(rsmd)) != 0 ||
            dnnl_primitive_create(&e->reorder, rpd))
            goto done;
    }
    if (dnnl_primitive_create(&e->prim, pd)) goto done;
    e->usable = 1;
done:
    if (!e->usable && e->reorder) {
        dnnl_primitive_destroy(e->reorder);
        e->reorder = NULL;
    }
    dnnl_primitive_desc_destroy(rpd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_attr_destroy(attr);
}

/* The cached entry for k, made on first use; NULL when out of room. */
static prim_entry *entry_get(const prim_key *k) {
    pthread_mutex_lock(&cache_lock);
    prim_entry *e = NULL;
    for (int i = 0; i < cache_n; i++)
        if (memcmp(&cache[i]->key, k, sizeof *k) == 0) {
            e = cache[i];
            break;
        }
    if (!e && cache_n < CACHE_SIZE && (e = calloc(1, sizeof *e))) {
        e->key = *k;
        /* a primitive fixes its thread count when it is made (jit kernels
         * split their work for it): one, like its calls */
        int threads = omp_get_max_threads();
        if (threads != 1) omp_set_num_threads(1);
        entry_make(e);
        if (threads != 1) omp_set_num_threads(threads);
        cache[cache_n++] = e;
    }
    pthread_mutex_unlock(&cache_lock);
    return e;
}

static void slot_free(exec_slot *s) {
    if (!s) return;
    for (int i = 0; i < 3; i++) dnnl_memory_destroy(s->mem[i]);
    dnnl_memory_destroy(s->scratch);
    dnnl_memory_destroy(s->reorder_src);
    dnnl_memory_destroy(s->reorder_dst);
    dnnl_stream_destroy(s->stream);
    free(s);
}

/* A slot of e's for one call: from its free list, else new (the first
 * calls, or more concurrent calls than before). NULL when out of memory. */
static exec_slot *slot_take(prim_entry *e) {
    pthread_mutex_lock(&cache_lock);
    exec_slot *s = e->free_slots;
    if (s) e->free_slots = s->next;
    pthread_mutex_unlock(&cache_lock);
    if (s) return s;
    if (!(s = calloc(1, sizeof *s))) return NULL;
    int ok = dnnl_stream_create(&s->stream, engine, dnnl_stream_default_flags) == dnnl_success;
    for (int i = 0; i < 3 && ok; i++)
        ok = dnnl_memory_create(&s->mem[i], &e->md[i], engine, DNNL_MEMORY_NONE) == dnnl_success;
    if (ok && e->scratch_bytes)
        ok = dnnl_memory_create(&s->scratch, &e->scratch_md, engine, DNNL_MEMORY_NONE) ==
             dnnl_success;
    if (ok && e->reorder) {
        int back = e->key.pass == TFC_CONV_BACKWARD_WEIGHTS;
        ok = dnnl_memory_create(&s->reorder_src, back ? &e->md[1] : &e->hwio, engine,
                                DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&s->reorder_dst, back ? &e->hwio : &e->md[1], engine,
                                DNNL_MEMORY_NONE) == dnnl_success;
    }
    if (!ok) {
        slot_free(s);
        return NULL;
    }
    return s;
}

static void slot_give(prim_entry *e, exec_slot *s) {
    pthread_mutex_lock(&cache_lock);
    s->next = e->free_slots;
    e->free_slots = s;
    pthread_mutex_unlock(&cache_lock);
}

/* One primitive call, single-threaded (see gemm.c: the pool's threads run
 * OpenMP teams of one; another thread's own setting is put back). */
static int exec_on(dnnl_primitive_t p, dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t *args) {
    int threads = omp_get_max_threads();
    if (threads != 1) omp_set_num_threads(1);
    dnnl_status_t st = dnnl_primitive_execute(p, stream, nargs, args);
    if (st == dnnl_success) st = dnnl_stream_wait(stream);
    if (threads != 1) omp_set_num_threads(threads);
    return st == dnnl_success ? 0 : -1;
}

/* Runs e on the three buffers with slot s and scratchpad `scratch` (e's
 * scratch_bytes, or NULL when it needs none); 0 or -1. */
static int entry_run(prim_entry *e, exec_slot *s, void *scratch, void *const h[3]) {
    static const int conv_args[3][3] = {
        {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
        {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST},
        {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST}};
    dnnl_exec_arg_t args[4];
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (dnnl_memory_set_data_handle(s->mem[i], h[i])) return -1;
        args[n++] = (dnnl_exec_arg_t){conv_args[e->key.pass][i], s->mem[i]};
    }
    if (scratch) {
        if (dnnl_memory_set_data_handle(s->scratch, scratch)) return -1;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch};
    }
    return exec_on(e->prim, s->stream, n, args);
}

/* The filter between HWIO and e's layout (e->reorder's direction). */
static int entry_reorder(prim_entry *e, const void *from, void *to) {
    exec_slot *s = slot_take(e);
    if (!s) return -1;
    int rc = -1;
    if (!dnnl_memory_set_data_handle(s->reorder_src, (void *)from) &&
        !dnnl_memory_set_data_handle(s->reorder_dst, to)) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, s->reorder_src}, {DNNL_ARG_TO, s->reorder_dst}};
        rc = exec_on(e->reorder, s->stream, 2, args);
    }
    slot_give(e, s);
    return rc;
}

typedef struct conv_job {
    /* the entries for chunks of mb and of mb - 1 images (the same when the
     * chunks divide the batch evenly) */
    prim_entry *full, *rest;
    int64_t n, mb, chunks;
    char *img[3];            /* (diff_)src, -, (diff_)dst at image 0 */
    size_t img_bytes[3];     /* one image of each */
    char *wei;               /* the filter; backward-weights: the chunks' partials */
    size_t wei_step;         /* bytes between two chunks' filters (0: shared) */
    /* per chunk a slot and a scratchpad, taken before the chunks run so that
     * what a call takes does not depend on how many run at once (a steady
     * step then allocates nothing, whatever the scheduling) */
    exec_slot *slot[MAX_CHUNKS];
    char *scratch;           /* chunk i's at i * scratch_step */
    size_t scratch_step;
    atomic_int failed;
} conv_job;

/* The first image of chunk i: chunk sizes differ by one at most, the
 * larger ones first (50 images: 13, 13, 12, 12). tfc_parallel_for hands
 * out chunks one at a time to whichever thread is free, so two threads end
 * with 25 images each (the earlier cut, 13, 13, 13, 11, gave one of them
 * 26, the conv passes' critical path at 2 threads). */
static int64_t chunk_first(const conv_job *j, int64_t i) {
    int64_t base = j->n / j->chunks, extra = j->n % j->chunks;
    return i * base + (i < extra ? i : extra);
}

static exec_slot *chunk_slot_take(const conv_job *j, int64_t i) {
    int64_t count = chunk_first(j, i + 1) - chunk_first(j, i);
    return slot_take(count == j->mb ? j->full : j->rest);
}

static void run_chunks(void *arg, int64_t begin, int64_t end) {
    conv_job *j = arg;
    for (int64_t i = begin; i < end; i++) {
        int64_t first = chunk_first(j, i), count = chunk_first(j, i + 1) - first;
        void *h[3] = {j->img[0] + (size_t)first * j->img_bytes[0], j->wei + (size_t)i * j->wei_step,
                      j->img[2] + (size_t)first * j->img_bytes[2]};
        prim_entry *e = count == j->mb ? j->full : j->rest;
        void *scratch = e->scratch_bytes ? j->scratch + (size_t)i * j->scratch_step : NULL;
        if (entry_run(e, j->slot[i], scratch, h)) atomic_store(&j->failed, 1);
    }
}

/* p[0, len) = the sum of the n partials p[b len, (b + 1) len), in order */
TFC_VECTOR_CLONES static void sum_partials(float *p, int64_t n, int64_t len) {
    for (int64_t b = 1; b < n; b++) {
        const float *restrict s = p + b * len;
        float *restrict d = p;
        for (int64_t i = 0; i < len; i++) d[i] += s[i];
    }
}

int tfc_conv_dnnl(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                  const float *f, const float *dy, float *out) {
    /* tfc_session_options.bfloat16_products: rounded copies, then back here */
    if (tfc_bf16_products_on(c)) return tfc_bf16_conv(c, pass, q, x, f, dy, out);
    pthread_once(&engine_once, engine_init);
    if (!engine || im2col_forced || q->dh != 1 || q->dw != 1 || q->n == 0) return 0;
    /* with one input channel oneDNN's backward-data kernel runs at a tenth
     * of its speed elsewhere (7 against 100 GFLOP/s on the CNN's layers) */
    if (pass == TFC_CONV_BACKWARD_DATA && q->c < 8) return 0;
    conv_job j = {.n = q->n};
    int64_t chunks = q->n < MAX_CHUNKS ? q->n : MAX_CHUNKS;
    j.chunks = chunks;
    j.mb = (q->n + chunks - 1) / chunks;
    int64_t last = q->n / chunks; /* the smaller chunks' size */
    prim_key k = {pass, j.mb, q->h, q->w, q->c, q->o, q->fh, q->fw,
                  q->oh, q->ow, q->sh, q->sw, q->ph, q->pw};
    j.full = entry_get(&k);
    k.mb = last;
    j.rest = last == j.mb ? j.full : entry_get(&k);
    if (!j.full || !j.rest || !j.full->usable || !j.rest->usable) return 0;
    /* both calls share one filter layout (they do; declining costs nothing) */
    if (j.rest != j.full && !dnnl_memory_desc_equal(&j.full->md[1], &j.rest->md[1])) return 0;
    prim_entry *e = j.full;
    size_t wei_bytes = e->wei_bytes, filter_len = (size_t)(q->fh * q->fw * q->c * q->o);
    j.img_bytes[0] = (size_t)(q->h * q->w * q->c) * sizeof(float);
    j.img_bytes[2] = (size_t)(q->oh * q->ow * q->o) * sizeof(float);
    char *blocked = NULL;
    size_t blocked_bytes = 0, scratch_bytes = 0;
    int rc = -1;
    if (pass == TFC_CONV_BACKWARD_WEIGHTS) {
        j.img[0] = (char *)x;
        j.img[2] = (char *)dy;
        /* one chunk straight into out when the layouts agree, else partials */
        if (chunks > 1 || e->reorder) {
            blocked_bytes = wei_bytes * (size_t)chunks;
            if (!(blocked = tfc_block_alloc(blocked_bytes))) goto out;
            j.wei = blocked;
            j.wei_step = wei_bytes;
        } else {
            j.wei = (char *)out;
        }
    } else {
        j.img[0] = (char *)(pass == TFC_CONV_FORWARD ? x : out);
        j.img[2] = (char *)(pass == TFC_CONV_FORWARD ? out : dy);
        j.wei = (char *)f;
        if (e->reorder) {
            blocked_bytes = wei_bytes;
            if (!(blocked = tfc_block_alloc(blocked_bytes)) || entry_reorder(e, f, blocked))
                goto out;
            j.wei = blocked;
        }
    }
    j.scratch_step = j.full->scratch_bytes > j.rest->scratch_bytes ? j.full->scratch_bytes
                                                                   : j.rest->scratch_bytes;
    scratch_bytes = j.scratch_step * (size_t)chunks;
    if (scratch_bytes && !(j.scratch = tfc_block_alloc(scratch_bytes))) goto out;
    for (int64_t i = 0; i < chunks; i++)
        if (!(j.slot[i] = chunk_slot_take(&j, i))) goto out;
    tfc_parallel_for(c->pool, chunks, 1, run_chunks, &j);
    if (atomic_load(&j.failed)) goto out;
    if (pass == TFC_CONV_BACKWARD_WEIGHTS && blocked) {
        sum_partials((float *)blocked, chunks, (int64_t)(wei_bytes / sizeof(float)));
        if (!e->reorder)
            memcpy(out, blocked, filter_len * sizeof(float));
        else if (entry_reorder(e, blocked, out))
            goto out;
    }
    rc = 1;
out:
    for (int64_t i = 0; i < chunks; i++)
        if (j.slot[i])
            slot_give(chunk_first(&j, i + 1) - chunk_first(&j, i) == j.mb ? j.full : j.rest,
                      j.slot[i]);
    if (j.scratch) tfc_block_free(j.scratch, scratch_bytes);
    if (blocked) tfc_block_free(blocked, blocked_bytes);
    if (rc < 0) tfc_kernel_error(c, TFC_INTERNAL, "oneDNN convolution failed (out of memory?)");
    return rc;
}
