/* bfloat16 products (see bfloat16_products.h): where oneDNN has bf16
 * kernels for this CPU, MatMul runs in its bf16 matmul primitive (bf16
 * source and weights, float32 destination); elsewhere the operands are
 * rounded to bfloat16 into scratch copies, held as float32, and the float32
 * kernels multiply them. A product of two bfloat16 values is exact in
 * float32, so both give bf16's numerics; only the first gives its speed.
 * Convolutions always take the second way (oneDNN's float32 convolution
 * primitives, conv_dnnl.c, on rounded copies). */
#include "ops/bfloat16_products.h"

#include "core/buffer_pool.h"
#include "core/half.h"
#include "ops/gemm.h"
#include "runtime/runtime.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <string.h>

/* Set while tfc_bf16_conv runs its rounded operands through tfc_conv_dnnl,
 * which asks tfc_bf16_products_on again. */
static _Thread_local int in_bf16_conv;

int tfc_bf16_products_on(const tfc_kernel_ctx *c) {
    return !in_bf16_conv && c->session && c->session->opts.bfloat16_products;
}

/* ---- oneDNN's bf16 matmul ---- */

static pthread_once_t native_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static int native;

static void md_2d(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int trans,
                  dnnl_data_type_t dt) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {trans ? 1 : cols, trans ? rows : 1};
    dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides);
}

static dnnl_primitive_desc_t matmul_pd(int ta, int tb, int64_t m, int64_t n, int64_t k) {
    dnnl_memory_desc_t a, b, o;
    md_2d(&a, m, k, ta, dnnl_bf16);
    md_2d(&b, k, n, tb, dnnl_bf16);
    md_2d(&o, m, n, 0, dnnl_f32);
    dnnl_matmul_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_matmul_desc_init(&d, &a, &b, NULL, &o) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &d, NULL, engine, NULL) != dnnl_success)
        return NULL;
    return pd;
}

static void native_init(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return;
    dnnl_primitive_desc_t pd = matmul_pd(0, 0, 4, 4, 4);
    native = pd != NULL;
    dnnl_primitive_desc_destroy(pd);
}

int tfc_bf16_native(void) {
    pthread_once(&native_once, native_init);
    return native;
}

/* native_gemm's work: converts a and b to bf16 and runs one primitive
 * (made per call: its creation is small next to a product worth doing in
 * bf16). 0, or -1. */
static int native_gemm_run(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                           const float *b, float *out) {
    size_t na = (size_t)(m * k), nb = (size_t)(k * n), bytes = (na + nb) * sizeof(uint16_t);
    uint16_t *h = tfc_block_alloc(bytes);
    dnnl_primitive_desc_t pd = h ? matmul_pd(ta, tb, m, n, k) : NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_memory_t mem[3] = {NULL, NULL, NULL};
    int rc = -1;
    if (!pd) goto out;
    for (size_t i = 0; i < na; i++) h[i] = tfc_float_to_bfloat16_bits(a[i]);
    for (size_t i = 0; i < nb; i++) h[na + i] = tfc_float_to_bfloat16_bits(b[i]);
    static const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md};
    void *ptr[3] = {h, h + na, out};
    for (int i = 0; i < 3; i++)
        if (dnnl_memory_create(&mem[i], dnnl_primitive_desc_query_md(pd, q[i], 0), engine,
                               ptr[i]) != dnnl_success)
            goto out;
    dnnl_exec_arg_t args[3] = {
        {DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]}};
    if (dnnl_primitive_create(&prim, pd) == dnnl_success &&
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) == dnnl_success &&
        dnnl_primitive_execute(prim, stream, 3, args) == dnnl_success &&
        dnnl_stream_wait(stream) == dnnl_success)
        rc = 0;
out:
    for (int i = 0; i < 3; i++) dnnl_memory_destroy(mem[i]);
    dnnl_stream_destroy(stream);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    if (h) tfc_block_free(h, bytes);
    return rc;
}

/* native_gemm_run with an OpenMP team of one, as tfc's other oneDNN calls
 * (conv_dnnl.c): a primitive splits its work for the thread count it is
 * made with. */
static int native_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                       const float *b, float *out) {
    int threads = omp_get_max_threads();
    if (threads != 1) omp_set_num_threads(1);
    int rc = native_gemm_run(ta, tb, m, n, k, a, b, out);
    if (threads != 1) omp_set_num_threads(threads);
    return rc;
}

/* ---- rounding into scratch copies ---- */

typedef struct round_job {
    const float *in;
    float *out;
} round_job;

#define ROUND_GRAIN (1 << 16)

static void round_range(void *arg, int64_t c0, int64_t c1) {
    const round_job *j = arg;
    tfc_round_to_bfloat16_n(j->in + c0, j->out + c0, c1 - c0);
}

static void round_copy(tfc_threadpool *pool, const float *in, float *out, int64_t n) {
    round_job j = {in, out};
    tfc_parallel_for(pool, n, ROUND_GRAIN, round_range, &j);
}

void tfc_bf16_gemm(tfc_kernel_ctx *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
                   const float *a, const float *b, float *out) {
    if (tfc_bf16_native() && native_gemm(ta, tb, m, n, k, a, b, out) == 0) return;
    size_t bytes = (size_t)(m * k + k * n) * sizeof(float);
    float *r = tfc_block_alloc(bytes);
    if (!r) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory rounding operands to bfloat16");
        return;
    }
    round_copy(c->pool, a, r, m * k);
    round_copy(c->pool, b, r + m * k, k * n);
    tfc_gemm(c->pool, TFC_FLOAT, ta, tb, m, n, k, r, r + m * k, 0.0, out);
    tfc_block_free(r, bytes);
}

/* ---- convolutions ---- */

/* Direct loops for the passes oneDNN declines (dilated windows, ...):
 * float32 accumulation, one image (forward, backward-data) or one filter
 * tap (backward-weights) per task. */
typedef struct direct_job {
    int pass;
    const tfc_conv_geom *q;
    const float *x, *f, *dy;
    float *out;
} direct_job;

static int tap_pos(const tfc_conv_geom *q, int64_t oy, int64_t ox, int64_t fy, int64_t fx,
                   int64_t *iy, int64_t *ix) {
    *iy = oy * q->sh - q->ph + fy * q->dh;
    *ix = ox * q->sw - q->pw + fx * q->dw;
    return *iy >= 0 && *iy < q->h && *ix >= 0 && *ix < q->w;
}

static void direct_range(void *arg, int64_t t0, int64_t t1) {
    const direct_job *j = arg;
    const tfc_conv_geom *q = j->q;
    int64_t C = q->c, O = q->o, iy, ix;
    for (int64_t t = t0; t < t1; t++) {
        if (j->pass == TFC_CONV_BACKWARD_WEIGHTS) { /* t: filter tap (fy, fx) */
            int64_t fy = t / q->fw, fx = t % q->fw;
            float *o = j->out + t * C * O;
            memset(o, 0, sizeof(float) * (size_t)(C * O));
            for (int64_t b = 0; b < q->n; b++)
                for (int64_t oy = 0; oy < q->oh; oy++)
                    for (int64_t ox = 0; ox < q->ow; ox++) {
                        if (!tap_pos(q, oy, ox, fy, fx, &iy, &ix)) continue;
                        const float *xp = j->x + ((b * q->h + iy) * q->w + ix) * C;
                        const float *dp = j->dy + ((b * q->oh + oy) * q->ow + ox) * O;
                        for (int64_t ci = 0; ci < C; ci++)
                            for (int64_t co = 0; co < O; co++) o[ci * O + co] += xp[ci] * dp[co];
                    }
            continue;
        }
        int fwd = j->pass == TFC_CONV_FORWARD; /* t: image */
        if (!fwd) memset(j->out + t * q->h * q->w * C, 0, sizeof(float) * (size_t)(q->h * q->w * C));
        for (int64_t oy = 0; oy < q->oh; oy++)
            for (int64_t ox = 0; ox < q->ow; ox++) {
                float *op = fwd ? j->out + ((t * q->oh + oy) * q->ow + ox) * O : NULL;
                const float *dp = fwd ? NULL : j->dy + ((t * q->oh + oy) * q->ow + ox) * O;
                if (fwd) memset(op, 0, sizeof(float) * (size_t)O);
                for (int64_t fy = 0; fy < q->fh; fy++)
                    for (int64_t fx = 0; fx < q->fw; fx++) {
                        if (!tap_pos(q, oy, ox, fy, fx, &iy, &ix)) continue;
                        const float *fp = j->f + (fy * q->fw + fx) * C * O;
                        int64_t at = ((t * q->h + iy) * q->w + ix) * C;
                        for (int64_t ci = 0; ci < C; ci++) {
                            if (fwd) {
                                float xv = j->x[at + ci];
                                for (int64_t co = 0; co < O; co++) op[co] += xv * fp[ci * O + co];
                            } else {
                                float s = 0.0f;
                                for (int64_t co = 0; co < O; co++) s += dp[co] * fp[ci * O + co];
                                j->out[at + ci] += s;
                            }
                        }
                    }
            }
    }
}

int tfc_bf16_conv(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                  const float *f, const float *dy, float *out) {
    int64_t nx = pass == TFC_CONV_BACKWARD_DATA ? 0 : q->n * q->h * q->w * q->c;
    int64_t nf = pass == TFC_CONV_BACKWARD_WEIGHTS ? 0 : q->fh * q->fw * q->c * q->o;
    int64_t ndy = pass == TFC_CONV_FORWARD ? 0 : q->n * q->oh * q->ow * q->o;
    size_t bytes = (size_t)(nx + nf + ndy) * sizeof(float);
    float *r = tfc_block_alloc(bytes ? bytes : 1);
    if (!r) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory rounding operands to bfloat16");
        return -1;
    }
    float *rx = nx ? r : NULL, *rf = nf ? r + nx : NULL, *rdy = ndy ? r + nx + nf : NULL;
    if (nx) round_copy(c->pool, x, rx, nx);
    if (nf) round_copy(c->pool, f, rf, nf);
    if (ndy) round_copy(c->pool, dy, rdy, ndy);
    in_bf16_conv = 1;
    int done = tfc_conv_dnnl(c, pass, q, rx, rf, rdy, out);
    in_bf16_conv = 0;
    if (done == 0) {
        direct_job j = {pass, q, rx, rf, rdy, out};
        int64_t tasks = pass == TFC_CONV_BACKWARD_WEIGHTS ? q->fh * q->fw : q->n;
        tfc_parallel_for(c->pool, tasks, 1, direct_range, &j);
        done = 1;
    }
    tfc_block_free(r, bytes ? bytes : 1);
    return done;
}
