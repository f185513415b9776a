/* StridedSlice and its gradient StridedSliceGrad: TensorFlow's op behind
 * numpy-style indexing (x[1:-1:2, ..., tf.newaxis, 3]), the family
 * tfc_ops_strided_slice.
 *
 * StridedSlice(input, begin, end, strides) takes three int32 or int64
 * vectors of one length n < 32 (the "sparse" spec, one entry per index of
 * the Python key) and five int attrs whose bit i describes entry i:
 * begin_mask / end_mask (ignore begin[i] / end[i]: take the fullest range),
 * ellipsis_mask (at most one bit: as many full dims as needed),
 * new_axis_mask (insert a dim of size 1) and shrink_axis_mask (take the one
 * element at begin[i] and drop the dim). The spec is first expanded to one
 * entry per input dim (the "dense" spec), then each dim's bounds are made
 * canonical as Python's slice.indices does (negative indices count from the
 * end, out-of-range bounds clamp), so the result is numpy's.
 *
 * StridedSliceGrad(shape, begin, end, strides, dy) writes dy into zeros of
 * `shape` at the elements StridedSlice reads; each op's gradient is the
 * other one. Both kernels copy with signed strides (a negative step reads
 * backwards), one contiguous run per innermost row when the step is 1. */
#include "ops/array_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TensorFlow keeps the masks in 32-bit ints, so n < 32. */
#define SS_MAX_SPEC 31

typedef struct ss_masks {
    int64_t begin, end, ellipsis, new_axis, shrink;
} ss_masks;

/* The spec resolved against the input's dims: per input dim, the first
 * element read, the step and the count (-1: unknown before the run); per
 * output dim, the input dim it comes from (-1: a new axis of size 1). */
typedef struct ss_dense {
    int rank;
    int64_t begin[TFC_MAX_RANK], stride[TFC_MAX_RANK], size[TFC_MAX_RANK];
    int out_rank;
    int out_src[TFC_MAX_RANK];
} ss_dense;

static const char *const mask_names[5] = {"begin_mask", "end_mask", "ellipsis_mask",
                                          "new_axis_mask", "shrink_axis_mask"};

static void masks_read(const tfc_attrs *a, ss_masks *m) {
    int64_t *f[5] = {&m->begin, &m->end, &m->ellipsis, &m->new_axis, &m->shrink};
    for (int i = 0; i < 5; i++) *f[i] = tfc_attrs_int(a, mask_names[i], 0);
}

/* Resolves the n-entry spec against an input of `rank` dims (entries of
 * `dims` may be -1). `begin`/`end` NULL: their values are unknown;
 * `strides` NULL: so are the steps (shape functions of fed bounds). Bounds
 * of unknown dims stay unknown. Returns 0, or -1 with a message in err. */
static int ss_resolve(const ss_masks *m, int n, const int64_t *begin, const int64_t *end,
                      const int64_t *strides, int rank, const int64_t *dims, ss_dense *out,
                      char *err, size_t errn) {
    if (n > SS_MAX_SPEC) {
        snprintf(err, errn, "begin, end and strides have %d entries, at most %d allowed", n,
                 SS_MAX_SPEC);
        return -1;
    }
    if (m->ellipsis & (m->ellipsis - 1)) {
        snprintf(err, errn, "Multiple ellipses in slice spec not allowed");
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->rank = rank;
    /* without an ellipsis, one is implied after the last entry */
    int64_t ellipsis = m->ellipsis & (((int64_t)1 << n) - 1);
    int nsparse = n;
    if (!ellipsis) ellipsis = (int64_t)1 << nsparse++;
    int new_after_ellipsis = 0, seen = 0;
    for (int i = 0; i < n; i++) {
        if (seen && (m->new_axis >> i & 1)) new_after_ellipsis++;
        if (ellipsis >> i & 1) seen = 1;
    }
    int bmask[TFC_MAX_RANK] = {0}, emask[TFC_MAX_RANK] = {0}, shrink[TFC_MAX_RANK] = {0};
    int64_t b[TFC_MAX_RANK] = {0}, e[TFC_MAX_RANK] = {0};
    int full = 0;
    for (int i = 0; i < nsparse; i++) {
        if (ellipsis >> i & 1) {
            /* the entries after it that are not new axes take the last dims */
            int next = rank - (nsparse - i) + 1 + new_after_ellipsis;
            if (next > rank) next = rank;
            for (; full < next; full++) {
                bmask[full] = emask[full] = 1;
                out->stride[full] = 1;
                if (out->out_rank == TFC_MAX_RANK) goto too_many;
                out->out_src[out->out_rank++] = full;
            }
        } else if (m->new_axis >> i & 1) {
            if (out->out_rank == TFC_MAX_RANK) goto too_many;
            out->out_src[out->out_rank++] = -1;
        } else {
            if (full == rank) {
                snprintf(err, errn, "Index out of range using input dim %d; input has only %d "
                         "dims", full, rank);
                return -1;
            }
            b[full] = begin ? begin[i] : 0;
            e[full] = end ? end[i] : 0;
            out->stride[full] = strides ? strides[i] : 1;
            bmask[full] = (int)(m->begin >> i & 1);
            emask[full] = (int)(m->end >> i & 1);
            shrink[full] = (int)(m->shrink >> i & 1);
            if (!shrink[full]) {
                if (out->out_rank == TFC_MAX_RANK) goto too_many;
                out->out_src[out->out_rank++] = full;
            }
            full++;
        }
    }
    for (int i = 0; i < rank; i++) {
        int64_t s = out->stride[i], d = dims ? dims[i] : -1;
        if (strides && s == 0) {
            snprintf(err, errn, "strides[%d] must be non-zero", i);
            return -1;
        }
        if (strides && shrink[i] && s <= 0) {
            snprintf(err, errn, "only stride 1 allowed on non-range indexing (dim %d)", i);
            return -1;
        }
        out->size[i] = -1;
        if (shrink[i]) out->size[i] = 1;
        if (d < 0 || !strides) continue;
        if (begin && end) {
            int64_t lo, hi, interval;
            if (shrink[i]) {
                int64_t fwd = b[i] < 0 ? d + b[i] : b[i];
                if (fwd < 0 || fwd >= d) {
                    snprintf(err, errn, "slice index %lld of dimension %d out of bounds.",
                             (long long)b[i], i);
                    return -1;
                }
                out->begin[i] = fwd;
                continue;
            }
            /* the valid range of a bound: [0, d] forwards, [-1, d - 1]
             * backwards (-1 is "before the first element") */
            lo = s > 0 ? 0 : -1;
            hi = s > 0 ? d : d - 1;
            int64_t bb, ee;
            if (bmask[i]) {
                bb = s > 0 ? lo : hi;
            } else {
                bb = b[i] < 0 ? d + b[i] : b[i];
                bb = bb < lo ? lo : bb > hi ? hi : bb;
            }
            if (emask[i]) {
                ee = s > 0 ? hi : lo;
            } else {
                ee = e[i] < 0 ? d + e[i] : e[i];
                ee = ee < lo ? lo : ee > hi ? hi : ee;
            }
            out->begin[i] = bb;
            interval = ee - bb;
            if (interval == 0 || (interval < 0) != (s < 0))
                out->size[i] = 0;
            else
                out->size[i] = interval / s + (interval % s != 0);
        } else if (!shrink[i] && bmask[i] && emask[i]) {
            int64_t as = s < 0 ? -s : s;
            out->size[i] = d / as + (d % as != 0);
        }
    }
    return 0;
too_many:
    snprintf(err, errn, "the result would have more than %d dims", TFC_MAX_RANK);
    return -1;
}

/* The output dims of a resolved spec. */
static void ss_out_dims(const ss_dense *s, int64_t *dims) {
    for (int j = 0; j < s->out_rank; j++)
        dims[j] = s->out_src[j] < 0 ? 1 : s->size[s->out_src[j]];
}

/* ---- the copy: dims elements, each side with its own signed strides ---- */

typedef struct ss_copy {
    char *dst;
    const char *src;
    int rank;
    const int64_t *dims;
    int64_t ds[TFC_MAX_RANK], ss[TFC_MAX_RANK];
    size_t esz;
} ss_copy;

/* Offsets are signed element counts; pointers stay inside the tensors. */
static void copy_run(char *d, int64_t ds, const char *s, int64_t ss, int64_t n, size_t esz) {
    if (ds == 1 && ss == 1) {
        memcpy(d, s, (size_t)n * esz);
        return;
    }
    switch (esz) {
    case 1:
        for (int64_t k = 0; k < n; k++) d[k * ds] = s[k * ss];
        break;
    case 4: {
        uint32_t *dp = (uint32_t *)(void *)d;
        const uint32_t *sp = (const uint32_t *)(const void *)s;
        for (int64_t k = 0; k < n; k++) dp[k * ds] = sp[k * ss];
        break;
    }
    case 8: {
        uint64_t *dp = (uint64_t *)(void *)d;
        const uint64_t *sp = (const uint64_t *)(const void *)s;
        for (int64_t k = 0; k < n; k++) dp[k * ds] = sp[k * ss];
        break;
    }
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + (ptrdiff_t)(k * ds) * (ptrdiff_t)esz,
                   s + (ptrdiff_t)(k * ss) * (ptrdiff_t)esz, esz);
    }
}

static void copy_rows(void *arg, int64_t first, int64_t last) {
    const ss_copy *a = arg;
    int r = a->rank;
    int64_t idx[TFC_MAX_RANK], rem = first;
    for (int i = r - 2; i >= 0; i--) {
        idx[i] = rem % a->dims[i];
        rem /= a->dims[i];
    }
    ptrdiff_t esz = (ptrdiff_t)a->esz;
    for (int64_t row = first; row < last; row++) {
        int64_t doff = 0, soff = 0;
        for (int i = 0; i < r - 1; i++) {
            doff += idx[i] * a->ds[i];
            soff += idx[i] * a->ss[i];
        }
        copy_run(a->dst + (ptrdiff_t)doff * esz, a->ds[r - 1], a->src + (ptrdiff_t)soff * esz,
                 a->ss[r - 1], a->dims[r - 1], a->esz);
        for (int i = r - 2; i >= 0; i--) {
            if (++idx[i] < a->dims[i]) break;
            idx[i] = 0;
        }
    }
}

/* Moves the elements of a resolved spec between `full` (the sliced
 * tensor's buffer, dims `fdims`) and `part` (the slice, contiguous): from
 * full to part for StridedSlice, back for StridedSliceGrad. */
static void ss_move(tfc_threadpool *pool, const ss_dense *s, const int64_t *fdims, char *full,
                    char *part, size_t esz, int to_part) {
    int r = s->rank;
    int64_t fs[TFC_MAX_RANK], ps[TFC_MAX_RANK], off = 0, n = 1;
    arr_strides(r, fdims, fs);
    arr_strides(r, s->size, ps);
    for (int i = 0; i < r; i++) {
        off += s->begin[i] * fs[i];
        fs[i] *= s->stride[i];
        n *= s->size[i];
    }
    if (n == 0) return;
    char *f = full + (ptrdiff_t)off * (ptrdiff_t)esz;
    if (r == 0) {
        memcpy(to_part ? part : f, to_part ? f : part, esz);
        return;
    }
    ss_copy a = {to_part ? part : f, to_part ? f : part, r, s->size, {0}, {0}, esz};
    memcpy(a.ds, to_part ? ps : fs, sizeof a.ds);
    memcpy(a.ss, to_part ? fs : ps, sizeof a.ss);
    int64_t rows = arr_prod(s->size, 0, r - 1), run = s->size[r - 1];
    tfc_parallel_for(pool, rows, run >= 16384 ? 1 : 16384 / run, copy_rows, &a);
}

/* ---- shape functions ---- */

/* Checks the index inputs [first, first + count) (one index dtype, vectors
 * of one length), sets the Index and mask attrs, and reads the spec:
 * *n is its length (-1 unknown), begin/end/strides point at the values of
 * constant inputs or are set to NULL. */
static int spec_infer(tfc_infer_ctx *c, int first, int *n, int64_t *bv, int64_t *ev,
                      int64_t *sv, const int64_t **b, const int64_t **e, const int64_t **s,
                      ss_masks *m) {
    static const char *const names[3] = {"begin", "end", "strides"};
    int64_t *vals[3] = {bv, ev, sv};
    const int64_t **ptrs[3] = {b, e, s};
    if (arr_check_index_input(c, first, names[0])) return -1;
    tfc_dtype it = tfc_infer_input_dtype(c, first);
    *n = -1;
    for (int k = 0; k < 3; k++) {
        int i = first + k;
        if (tfc_infer_input_dtype(c, i) != it)
            return tfc_infer_error(c, "begin, end and strides must have one dtype, got %s, %s "
                                   "and %s", tfc_dtype_name(tfc_infer_input_dtype(c, first)),
                                   tfc_dtype_name(tfc_infer_input_dtype(c, first + 1)),
                                   tfc_dtype_name(tfc_infer_input_dtype(c, first + 2)));
        tfc_shape sh = tfc_infer_input_shape(c, i);
        if (sh.rank >= 0 && sh.rank != 1)
            return tfc_infer_error(c, "%s must be a vector, got rank %d", names[k], sh.rank);
        int64_t len = sh.rank == 1 ? sh.dims[0] : -1;
        int got = arr_const_ints(c, i, vals[k], SS_MAX_SPEC);
        if (got == -2 || len > SS_MAX_SPEC)
            return tfc_infer_error(c, "%s has more than %d entries", names[k], SS_MAX_SPEC);
        *ptrs[k] = got >= 0 ? vals[k] : NULL;
        if (got >= 0) len = got;
        if (len >= 0 && *n >= 0 && len != *n)
            return tfc_infer_error(c, "begin, end and strides must have one length, got %s "
                                   "with %lld entries where another has %d", names[k],
                                   (long long)len, *n);
        if (len >= 0) *n = (int)len;
    }
    tfc_attrs_set_int(c->attrs, "Index", TFC_ATTR_TYPE, it);
    masks_read(c->attrs, m);
    int64_t *f[5] = {&m->begin, &m->end, &m->ellipsis, &m->new_axis, &m->shrink};
    for (int i = 0; i < 5; i++) {
        if (*f[i] < 0 || *f[i] > INT32_MAX)
            return tfc_infer_error(c, "attr '%s' = %lld must be a mask of 32 bits at most",
                                   mask_names[i], (long long)*f[i]);
        tfc_attrs_set_int(c->attrs, mask_names[i], TFC_ATTR_INT, *f[i]);
    }
    if (m->ellipsis & (m->ellipsis - 1))
        return tfc_infer_error(c, "Multiple ellipses in slice spec not allowed");
    return 0;
}

/* The (partial) shape of slicing an input of shape `in` with the spec. */
static int slice_shape(tfc_infer_ctx *c, tfc_shape in, int n, const int64_t *b, const int64_t *e,
                       const int64_t *s, const ss_masks *m, tfc_shape *out) {
    *out = tfc_shape_unknown();
    if (in.rank < 0 || n < 0) return 0;
    ss_dense d;
    char err[160];
    if (ss_resolve(m, n, b, e, s, in.rank, in.dims, &d, err, sizeof err))
        return tfc_infer_error(c, "%s", err);
    out->rank = d.out_rank;
    ss_out_dims(&d, out->dims);
    return 0;
}

static int ss_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    int n;
    int64_t bv[SS_MAX_SPEC], ev[SS_MAX_SPEC], sv[SS_MAX_SPEC];
    const int64_t *b, *e, *s;
    ss_masks m;
    if (spec_infer(c, 1, &n, bv, ev, sv, &b, &e, &s, &m)) return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_shape out;
    if (slice_shape(c, tfc_infer_input_shape(c, 0), n, b, e, s, &m, &out)) return -1;
    ss_masks *md = malloc(sizeof *md);
    if (!md) return tfc_infer_error(c, "out of memory");
    *md = m;
    c->op_data = md;
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

static int ssg_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 4);
    if (arr_check_index_input(c, 0, "shape")) return -1;
    int n;
    int64_t bv[SS_MAX_SPEC], ev[SS_MAX_SPEC], sv[SS_MAX_SPEC];
    const int64_t *b, *e, *s;
    ss_masks m;
    if (spec_infer(c, 1, &n, bv, ev, sv, &b, &e, &s, &m)) return -1;
    if (tfc_infer_input_dtype(c, 0) != tfc_infer_input_dtype(c, 1))
        return tfc_infer_error(c, "shape must have the dtype of begin, end and strides (%s), "
                               "got %s", tfc_dtype_name(tfc_infer_input_dtype(c, 1)),
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_shape ss = tfc_infer_input_shape(c, 0), out = tfc_shape_unknown();
    if (ss.rank >= 0 && ss.rank != 1)
        return tfc_infer_error(c, "shape must be a vector, got rank %d", ss.rank);
    int64_t dims[TFC_MAX_RANK];
    int nd = arr_const_ints(c, 0, dims, TFC_MAX_RANK);
    if (nd == -2 || (ss.rank == 1 && ss.dims[0] > TFC_MAX_RANK))
        return tfc_infer_error(c, "shape has more than %d entries", TFC_MAX_RANK);
    if (nd >= 0) {
        for (int i = 0; i < nd; i++)
            if (dims[i] < 0)
                return tfc_infer_error(c, "shape[%d] = %lld is negative", i, (long long)dims[i]);
        out = tfc_shape_make(nd, dims);
    } else if (ss.rank == 1 && ss.dims[0] >= 0) {
        out = arr_shape_unknown_dims((int)ss.dims[0]);
    }
    /* dy must have the shape slicing `out` gives */
    tfc_shape want, dys = tfc_infer_input_shape(c, 4);
    if (slice_shape(c, out, n, b, e, s, &m, &want)) return -1;
    if (!tfc_shape_compatible(&want, &dys)) {
        char b1[96], b2[96], b3[96];
        return tfc_infer_error(c, "dy has shape %s, but the slice of shape %s has shape %s",
                               tfc_shape_str(&dys, b1, sizeof b1),
                               tfc_shape_str(&out, b2, sizeof b2),
                               tfc_shape_str(&want, b3, sizeof b3));
    }
    ss_masks *md = malloc(sizeof *md);
    if (!md) return tfc_infer_error(c, "out of memory");
    *md = m;
    c->op_data = md;
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* ---- kernels ---- */

/* Reads the run's spec from inputs [first, first + 3) and resolves it
 * against dims. Returns 0, or -1 after reporting the error. */
static int spec_run(tfc_kernel_ctx *c, int first, int rank, const int64_t *dims, ss_dense *d) {
    int64_t v[3][SS_MAX_SPEC];
    int len[3];
    for (int k = 0; k < 3; k++) {
        const tfc_tensor *t = c->inputs[first + k];
        len[k] = t->rank == 1 ? arr_tensor_ints(t, v[k], SS_MAX_SPEC) : -1;
    }
    if (len[0] < 0 || len[0] != len[1] || len[0] != len[2]) {
        char b[3][64];
        for (int k = 0; k < 3; k++) {
            const tfc_tensor *t = c->inputs[first + k];
            tfc_dims_str(t->rank, t->dims, b[k], sizeof b[k]);
        }
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Expected begin, end, and strides to be 1D equal size tensors of at "
                         "most %d entries, but got shapes %s, %s, and %s instead.",
                         SS_MAX_SPEC, b[0], b[1], b[2]);
        return -1;
    }
    char err[160];
    if (ss_resolve(c->node->op_data, len[0], v[0], v[1], v[2], rank, dims, d, err, sizeof err)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s", err);
        return -1;
    }
    return 0;
}

static void ss_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    ss_dense d;
    if (spec_run(c, 1, x->rank, x->dims, &d)) return;
    int64_t dims[TFC_MAX_RANK];
    ss_out_dims(&d, dims);
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, d.out_rank, dims);
    if (out)
        ss_move(c->pool, &d, x->dims, x->data, out->data, tfc_dtype_size(x->dtype), 1);
}

static void ssg_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *st = c->inputs[0], *dy = c->inputs[4];
    int64_t dims[TFC_MAX_RANK];
    int r = st->rank == 1 ? arr_tensor_ints(st, dims, TFC_MAX_RANK) : -1;
    for (int i = 0; i < r; i++)
        if (dims[i] < 0 || dims[i] > ARR_MAX_DIM) r = -1;
    if (r < 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "shape must be a vector of at most %d sizes in [0, 2^40]", TFC_MAX_RANK);
        return;
    }
    ss_dense d;
    if (spec_run(c, 1, r, dims, &d)) return;
    int64_t want[TFC_MAX_RANK];
    ss_out_dims(&d, want);
    if (dy->rank != d.out_rank || memcmp(dy->dims, want, (size_t)d.out_rank * sizeof *want)) {
        char b1[96], b2[96];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "shape of dy was %s instead of %s",
                         tfc_dims_str(dy->rank, dy->dims, b1, sizeof b1),
                         tfc_dims_str(d.out_rank, want, b2, sizeof b2));
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, dy->dtype, r, dims);
    if (!out) return;
    memset(out->data, 0, out->nbytes);
    ss_move(c->pool, &d, dims, out->data, dy->data, tfc_dtype_size(dy->dtype), 0);
}

/* ---- gradients ---- */

static tfc_output spec_op(tfc_graph *g, const char *type, const tfc_output *in, int n,
                          const tfc_node *like) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, in, n);
    for (int i = 0; i < 5; i++)
        tfc_op_set_attr_int(d, mask_names[i], tfc_attrs_int(&like->attrs, mask_names[i], 0));
    return tfc_out(tfc_op_finish(d), 0);
}

/* dx = StridedSliceGrad(shape(x), begin, end, strides, dy) */
static int ss_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[5] = {arr_shape_tensor(g, op->inputs[0], tfc_output_dtype(op->inputs[1])),
                        op->inputs[1], op->inputs[2], op->inputs[3], dy[0]};
    dx[0] = spec_op(g, "StridedSliceGrad", in, 5, op);
    return dx[0].node ? 0 : -1;
}

/* StridedSliceGrad is linear in dy: its gradient slices the same elements. */
static int ssg_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[4] = {dy[0], op->inputs[1], op->inputs[2], op->inputs[3]};
    dx[4] = spec_op(g, "StridedSlice", in, 4, op);
    return dx[4].node ? 0 : -1;
}

const tfc_op_def tfc_ops_strided_slice[] = {
    {"StridedSlice", 4, 4, 1, 0, 0, ss_infer, ss_kernel, ss_grad},
    {"StridedSliceGrad", 5, 5, 1, 0, 0, ssg_infer, ssg_kernel, ssg_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_strided_slice(tfc_graph *g, tfc_output x, tfc_output begin, tfc_output end,
                             tfc_output strides, int begin_mask, int end_mask, int ellipsis_mask,
                             int new_axis_mask, int shrink_axis_mask) {
    if (!g) return (tfc_output){NULL, 0};
    if (!strides.node && begin.node) {
        /* ones like begin: a constant when begin is one, so shapes stay static */
        const tfc_tensor *bt = strcmp(begin.node->op->type, "Const") == 0
                                   ? tfc_attrs_tensor(&begin.node->attrs, "value")
                                   : NULL;
        if (bt && bt->rank == 1 && bt->nelem <= SS_MAX_SPEC && arr_is_index_dtype(bt->dtype)) {
            int64_t ones64[SS_MAX_SPEC], n = bt->nelem;
            int32_t ones32[SS_MAX_SPEC];
            for (int i = 0; i < (int)n; i++) ones64[i] = ones32[i] = 1;
            strides = tfc_const_data(g, bt->dtype, 1, &n,
                                     bt->dtype == TFC_INT64 ? (void *)ones64 : (void *)ones32);
        } else {
            tfc_op_desc *o = tfc_op_new(g, "OnesLike", NULL);
            tfc_op_add_input(o, begin);
            strides = tfc_out(tfc_op_finish(o), 0);
        }
    }
    tfc_output in[4] = {x, begin, end, strides};
    tfc_op_desc *d = tfc_op_new(g, "StridedSlice", NULL);
    tfc_op_add_inputs(d, in, 4);
    const int masks[5] = {begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask};
    for (int i = 0; i < 5; i++) tfc_op_set_attr_int(d, mask_names[i], masks[i]);
    return tfc_out(tfc_op_finish(d), 0);
}
