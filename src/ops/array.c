/* Array ops: the table of every op of the family (their code lives in
 * array_shape.c, array_join.c and array_index.c) and the public helpers of
 * tfc.h's "Op helpers: arrays" section, which build the Const inputs from
 * C arrays. */
#include "ops/array_internal.h"

#include <stdlib.h>

#define NOGRAD TFC_OP_NO_GRADIENT
#define OP(type, lo, hi, nout, flags, fn, grad) \
    {type, lo, hi, nout, flags, 0, fn##_infer, fn##_kernel, grad}
/* ops that also move string elements: their string outputs then copy the
 * bytes the moved views point to (TFC_STRING_KERNEL) */
#define OPS(type, lo, hi, nout, flags, fn, grad) \
    {type, lo, hi, nout, (flags) | TFC_OP_STRINGS, 0, fn##_infer, fn##_strings, grad}
TFC_STRING_KERNEL(arr_reshape)
TFC_STRING_KERNEL(arr_expand_dims)
TFC_STRING_KERNEL(arr_squeeze)
TFC_STRING_KERNEL(arr_fill)
TFC_STRING_KERNEL(arr_concat)
TFC_STRING_KERNEL(arr_split)
TFC_STRING_KERNEL(arr_pack)
TFC_STRING_KERNEL(arr_unpack)
TFC_STRING_KERNEL(arr_slice)
TFC_STRING_KERNEL(arr_transpose)
TFC_STRING_KERNEL(arr_tile)

const tfc_op_def tfc_ops_array[] = {
    OPS("Reshape", 2, 2, 1, 0, arr_reshape, arr_reshape_grad),
    OPS("ExpandDims", 2, 2, 1, 0, arr_expand_dims, arr_reshape_grad),
    OPS("Squeeze", 1, 1, 1, 0, arr_squeeze, arr_reshape_grad),
    OP("Shape", 1, 1, 1, NOGRAD | TFC_OP_STRINGS, arr_shape, NULL),
    OP("Rank", 1, 1, 1, NOGRAD | TFC_OP_STRINGS, arr_rank, NULL),
    OP("Size", 1, 1, 1, NOGRAD | TFC_OP_STRINGS, arr_size, NULL),
    OPS("Fill", 2, 2, 1, 0, arr_fill, arr_fill_grad),
    OP("ZerosLike", 1, 1, 1, NOGRAD, arr_zeros_like, NULL),
    OP("OnesLike", 1, 1, 1, NOGRAD, arr_ones_like, NULL),
    OPS("ConcatV2", 2, -1, 1, 0, arr_concat, arr_concat_grad),
    OP("ConcatOffset", 2, -1, 1, NOGRAD, arr_concat_offset, NULL),
    OPS("Split", 2, 2, 1, 0, arr_split, arr_split_grad),
    OPS("Pack", 1, -1, 1, 0, arr_pack, arr_pack_grad),
    OPS("Unpack", 1, 1, 1, 0, arr_unpack, arr_unpack_grad),
    OPS("Slice", 3, 3, 1, 0, arr_slice, arr_slice_grad),
    OP("Pad", 2, 2, 1, 0, arr_pad, arr_pad_grad),
    OPS("Transpose", 2, 2, 1, 0, arr_transpose, arr_transpose_grad),
    OP("InvertPermutation", 1, 1, 1, NOGRAD, arr_invert_permutation, NULL),
    OPS("Tile", 2, 2, 1, 0, arr_tile, arr_tile_grad),
    OP("OneHot", 4, 4, 1, NOGRAD, arr_one_hot, NULL),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ----
 * Each creates its op's description before the Const inputs it builds, so
 * a name set with tfc_with_name goes to the op, not to a constant. */

static const tfc_output null_output = {NULL, 0};

static tfc_output build(tfc_graph *g, const char *type, const tfc_output *in, int n) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, in, n);
    return tfc_out(tfc_op_finish(d), 0);
}

static int bad_count(tfc_graph *g, const char *fn, int n, int lo, int hi) {
    if (n >= lo && n <= hi) return 0;
    if (g) tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: count %d is out of range [%d, %d]", fn, n,
                          lo, hi);
    return 1;
}

tfc_output tfc_reshape(tfc_graph *g, tfc_output x, int rank, const int64_t *dims) {
    if (bad_count(g, "tfc_reshape", rank, 0, TFC_MAX_RANK) || (rank && !dims)) return null_output;
    tfc_op_desc *d = tfc_op_new(g, "Reshape", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, arr_const_vec(g, dims, rank));
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_reshape_to(tfc_graph *g, tfc_output x, tfc_output shape) {
    tfc_output in[2] = {x, shape};
    return build(g, "Reshape", in, 2);
}

tfc_output tfc_transpose(tfc_graph *g, tfc_output x, const int32_t *perm, int n) {
    int64_t p[TFC_MAX_RANK];
    if (!perm) {
        tfc_shape s = tfc_output_shape(x);
        if (!g || !x.node) return null_output;
        if (s.rank < 0) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "tfc_transpose: perm NULL needs an input of known rank");
            return null_output;
        }
        n = s.rank;
        for (int i = 0; i < n; i++) p[i] = n - 1 - i;
    } else {
        if (bad_count(g, "tfc_transpose", n, 0, TFC_MAX_RANK)) return null_output;
        for (int i = 0; i < n; i++) p[i] = perm[i];
    }
    tfc_op_desc *d = tfc_op_new(g, "Transpose", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, arr_const_vec(g, p, n));
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_concat(tfc_graph *g, const tfc_output *values, int n, int axis) {
    if (bad_count(g, "tfc_concat", n, 1, 1 << 20) || !values) return null_output;
    tfc_op_desc *d = tfc_op_new(g, "ConcatV2", NULL);
    tfc_op_add_inputs(d, values, n);
    tfc_op_add_input(d, tfc_const_int32(g, axis));
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_slice(tfc_graph *g, tfc_output x, const int64_t *begin, const int64_t *size,
                     int rank) {
    if (bad_count(g, "tfc_slice", rank, 0, TFC_MAX_RANK) || (rank && (!begin || !size)))
        return null_output;
    int64_t both[2 * TFC_MAX_RANK];
    for (int i = 0; i < rank; i++) both[i] = begin[i], both[rank + i] = size[i];
    tfc_dtype dt = TFC_INT32;
    for (int i = 0; i < 2 * rank; i++)
        if (both[i] != (int32_t)both[i]) dt = TFC_INT64;
    tfc_op_desc *d = tfc_op_new(g, "Slice", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, arr_const_vec_typed(g, dt, begin, rank));
    tfc_op_add_input(d, arr_const_vec_typed(g, dt, size, rank));
    return tfc_out(tfc_op_finish(d), 0);
}

static int multi(tfc_node *n, int num, tfc_output *outs) {
    for (int i = 0; i < num; i++) outs[i] = tfc_out(n, i);
    return n ? 0 : -1;
}

int tfc_split(tfc_graph *g, tfc_output x, int num, int axis, tfc_output *outs) {
    if (!outs) return -1;
    for (int i = 0; i < num; i++) outs[i] = null_output;
    tfc_op_desc *d = tfc_op_new(g, "Split", NULL);
    tfc_op_add_input(d, tfc_const_int32(g, axis));
    tfc_op_add_input(d, x);
    tfc_op_set_attr_int(d, "num_split", num);
    return multi(tfc_op_finish(d), num, outs);
}

tfc_output tfc_stack(tfc_graph *g, const tfc_output *values, int n, int axis) {
    if (bad_count(g, "tfc_stack", n, 1, 1 << 20) || !values) return null_output;
    tfc_op_desc *d = tfc_op_new(g, "Pack", NULL);
    tfc_op_add_inputs(d, values, n);
    tfc_op_set_attr_int(d, "axis", axis);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_unstack(tfc_graph *g, tfc_output x, int num, int axis, tfc_output *outs) {
    if (!outs) return -1;
    for (int i = 0; i < num; i++) outs[i] = null_output;
    tfc_op_desc *d = tfc_op_new(g, "Unpack", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_int(d, "num", num);
    tfc_op_set_attr_int(d, "axis", axis);
    tfc_node *n = tfc_op_finish(d);
    return multi(n, num, outs);
}

tfc_output tfc_expand_dims(tfc_graph *g, tfc_output x, int axis) {
    tfc_op_desc *d = tfc_op_new(g, "ExpandDims", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, tfc_const_int32(g, axis));
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_squeeze(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes) {
    if (bad_count(g, "tfc_squeeze", naxes, 0, TFC_MAX_RANK) || (naxes && !axes))
        return null_output;
    int64_t a[TFC_MAX_RANK];
    for (int i = 0; i < naxes; i++) a[i] = axes[i];
    tfc_op_desc *d = tfc_op_new(g, "Squeeze", NULL);
    tfc_op_add_input(d, x);
    if (naxes) tfc_op_set_attr_int_list(d, "squeeze_dims", a, naxes);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_tile(tfc_graph *g, tfc_output x, tfc_output multiples) {
    tfc_output in[2] = {x, multiples};
    return build(g, "Tile", in, 2);
}

tfc_output tfc_shape_of(tfc_graph *g, tfc_output x) { return build(g, "Shape", &x, 1); }
tfc_output tfc_rank(tfc_graph *g, tfc_output x) { return build(g, "Rank", &x, 1); }
tfc_output tfc_size(tfc_graph *g, tfc_output x) { return build(g, "Size", &x, 1); }

tfc_output tfc_fill(tfc_graph *g, tfc_output dims, tfc_output value) {
    tfc_output in[2] = {dims, value};
    return build(g, "Fill", in, 2);
}

static tfc_output filled(tfc_graph *g, const char *fn, tfc_dtype dtype, int rank,
                         const int64_t *dims, double v) {
    if (bad_count(g, fn, rank, 0, TFC_MAX_RANK) || (rank && !dims)) return null_output;
    tfc_op_desc *d = tfc_op_new(g, "Fill", NULL);
    tfc_op_add_input(d, arr_const_vec(g, dims, rank));
    tfc_op_add_input(d, arr_const_scalar(g, dtype, v));
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_zeros(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims) {
    return filled(g, "tfc_zeros", dtype, rank, dims, 0);
}

tfc_output tfc_ones(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims) {
    return filled(g, "tfc_ones", dtype, rank, dims, 1);
}

tfc_output tfc_zeros_like(tfc_graph *g, tfc_output x) { return build(g, "ZerosLike", &x, 1); }
tfc_output tfc_ones_like(tfc_graph *g, tfc_output x) { return build(g, "OnesLike", &x, 1); }

tfc_output tfc_one_hot(tfc_graph *g, tfc_output indices, int depth, float on_value,
                       float off_value) {
    tfc_op_desc *d = tfc_op_new(g, "OneHot", NULL);
    tfc_op_add_input(d, indices);
    tfc_op_add_input(d, tfc_const_int32(g, depth));
    tfc_op_add_input(d, tfc_const_float(g, on_value));
    tfc_op_add_input(d, tfc_const_float(g, off_value));
    tfc_op_set_attr_int(d, "axis", -1);
    return tfc_out(tfc_op_finish(d), 0);
}
