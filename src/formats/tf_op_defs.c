/* TensorFlow's declared attr kinds and input type attrs, for the ops tfc
 * has (facts from TensorFlow's op registrations in core/ops/). Among
 * these ops an attr name has one kind wherever it appears, so kinds are
 * listed by name, with per-op entries for the function attrs, whose names
 * (f, cond, body) are too common to claim everywhere. The attr kinds of
 * the ops in TensorFlow's OpDef data (tf_op_defs_data.h) come from that
 * data; the tables answer for the rest, and the OpDef conformance test
 * checks them against it. */
#include "formats/tf_op_defs.h"
#include "formats/tf_op_defs_data.h"

#include <stdio.h>
#include <string.h>

/* " name1 name2 ... " lists, searched as whole words. */
static int has_word(const char *list, const char *w) {
    size_t n = strlen(w);
    /* a name from a file may hold spaces: it could match at the list's
     * first byte and read before it */
    if (!n || strchr(w, ' ')) return 0;
    for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
        if (p > list && p[-1] == ' ' && p[n] == ' ') return 1;
    return 0;
}

static const struct {
    tfc_tf_attr_kind kind;
    const char *names;
} by_name[] = {
    {TFC_TF_ATTR_TYPE, " T dtype DstT SrcT Tidx Tshape Tpaddings Tperm Tmultiples TI Tindices "
                       "Tparams Taxis Tnumsegments Tlabels Tdim Index index_type out_type "
                       "output_type out_idx Tcond "},
    {TFC_TF_ATTR_BOOL, " transpose_a transpose_b adj_x adj_y adjoint keep_dims use_locking "
                       "validate_shape use_nesterov unique Truncate use_cudnn_on_gpu "
                       "validate_indices is_training update_slots multiply_linear_by_lr "
                       "incompatible_shape_error output_history "},
    {TFC_TF_ATTR_INT, " N axis num num_split seed seed2 num_true num_sampled range_max "
                      "max_images parallel_iterations batch_dims "},
    {TFC_TF_ATTR_FLOAT, " alpha epsilon "},
    {TFC_TF_ATTR_STRING, " padding data_format message container shared_name "},
    {TFC_TF_ATTR_SHAPE, " shape "},
    {TFC_TF_ATTR_TENSOR, " value bad_color "},
    {TFC_TF_ATTR_LIST_INT, " strides ksize dilations squeeze_dims explicit_paddings "},
    {TFC_TF_ATTR_LIST_SHAPE, " output_shapes "},
};

static const struct {
    const char *op, *attrs;
    tfc_tf_attr_kind kind;
} by_op[] = {
    {"If", " then_branch else_branch ", TFC_TF_ATTR_FUNC},
    {"While", " cond body ", TFC_TF_ATTR_FUNC},
    {"PartitionedCall", " f ", TFC_TF_ATTR_FUNC},
    {"WhileGrad", " body body_grad ", TFC_TF_ATTR_FUNC}, /* tfc's own op */
};

/* The kind TensorFlow's OpDef data (tf_op_defs_data.h) declares for attr
 * `name` of `op`; -1 when the data has no such op or attr. */
static int kind_from_data(const char *op, const char *name) {
    const Tensorflow__OpDef *od = tfc_tf_op_def(op);
    for (size_t k = 0; od && k < od->n_attr; k++) {
        if (strcmp(od->attr[k]->name, name)) continue;
        for (int kind = TFC_TF_ATTR_INT; kind <= TFC_TF_ATTR_LIST_STRING; kind++)
            if (!strcmp(tfc_tf_attr_kind_name((tfc_tf_attr_kind)kind), od->attr[k]->type))
                return kind;
        return TFC_TF_ATTR_UNDECLARED; /* list(bool), list(tensor), ...: not checked */
    }
    return -1;
}

tfc_tf_attr_kind tfc_tf_attr_kind_of(const char *op, const char *name) {
    /* TensorFlow's OpDefs where the data has the op; the tables below
     * for the rest (tfc's own ops and attrs) */
    int data = kind_from_data(op, name);
    if (data >= 0) return (tfc_tf_attr_kind)data;
    for (size_t i = 0; i < sizeof by_op / sizeof *by_op; i++)
        if (!strcmp(op, by_op[i].op) && has_word(by_op[i].attrs, name)) return by_op[i].kind;
    for (size_t i = 0; i < sizeof by_name / sizeof *by_name; i++)
        if (has_word(by_name[i].names, name)) return by_name[i].kind;
    return TFC_TF_ATTR_UNDECLARED;
}

const char *tfc_tf_attr_kind_name(tfc_tf_attr_kind k) {
    static const char *const names[] = {"any",    "int",       "float",       "bool",
                                        "type",   "shape",     "string",      "tensor",
                                        "func",   "list(int)", "list(float)", "list(type)",
                                        "list(shape)", "list(string)"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

/* Per op, the type attr of each data input in order: "-" a fixed dtype, a
 * word ending in '*' as many inputs as the others leave (a list, N*T). */
static const struct {
    const char *inputs, *ops;
} typed_inputs[] = {
    {"T*", " Identity StopGradient Add AddV2 Sub Mul Div RealDiv FloorDiv FloorMod Pow Maximum "
           "Minimum SquaredDifference Greater GreaterEqual Less LessEqual Equal NotEqual Neg Abs "
           "Sign Square Sqrt Rsqrt Reciprocal Exp Log Floor AddN MatMul BroadcastGradientArgs "
           "ZerosLike OnesLike Pack Unpack Squeeze Shape Size Rank InvertPermutation Unique "
           "CheckNumerics Relu Sigmoid Tanh Elu Selu Softplus LeakyRelu ReluGrad SigmoidGrad "
           "TanhGrad EluGrad SeluGrad SoftplusGrad LeakyReluGrad Softmax LogSoftmax "
           "SoftmaxCrossEntropyWithLogits BiasAdd BiasAddGrad L2Loss Conv2D "
           "DepthwiseConv2dNative MaxPool AvgPool MaxPoolGrad MaxPoolGradGrad Assign AssignAdd "
           "AssignSub ApplyGradientDescent ApplyMomentum ApplyAdagrad ApplyAdadelta ApplyAdam "
           "ApplyFtrl ApplyFtrlV2 ApplyRMSProp ApplyCenteredRMSProp RandomStandardNormal "
           "RandomUniform TruncatedNormal "},
    {"T Tidx", " Sum Mean Max Min Prod ArgMax ArgMin BroadcastTo "},
    {"T* Tidx", " ConcatV2 "},
    {"T Tshape", " Reshape "},
    {"T Tdim", " ExpandDims "},
    {"T Index Index", " Slice "},
    {"T Tpaddings", " Pad "},
    {"T Tperm", " Transpose "},
    {"T Tmultiples", " Tile "},
    {"T Tlabels", " SparseSoftmaxCrossEntropyWithLogits "},
    {"TI - T T", " OneHot "},
    {"- T", " Split AvgPoolGrad ScalarSummary HistogramSummary ImageSummary "},
    {"- T -", " TensorSummaryV2 "},
    {"- T T", " Select Conv2DBackpropInput DepthwiseConv2dNativeBackpropInput "},
    {"T - T", " Conv2DBackpropFilter DepthwiseConv2dNativeBackpropFilter "},
    {"index_type T", " Fill "},
    {"Tidx Tidx Tidx", " Range "},
    {"SrcT", " Cast "},
    {"Tparams Tindices", " Gather "},
    {"Tparams Tindices Taxis", " GatherV2 "},
    {"T Tindices Tnumsegments", " UnsortedSegmentSum "},
    {"T Tindices T", " ScatterAdd ScatterSub ScatterUpdate "},
    {"T T T T T T T -", " ApplyAdagradDA "},
    {"T T T T Tindices", " SparseApplyAdagrad "},
    {"T T T T Tindices T", " SparseApplyMomentum "},
    {"T T T T T T T Tindices", " SparseApplyAdadelta "},
    {"T T T T Tindices T T T -", " SparseApplyAdagradDA "},
    {"T T T T Tindices T T T T", " SparseApplyFtrl "},
    {"T T T T Tindices T T T T T", " SparseApplyFtrlV2 "},
    {"T T T T T T T T Tindices", " SparseApplyRMSProp "},
    {"T T T T T T T T T Tindices", " SparseApplyCenteredRMSProp "},
};

/* Word k of `s` into buf; the number of words. */
static int word(const char *s, int k, char *buf, int cap) {
    int count = 0;
    for (const char *p = s; *p;) {
        int len = (int)strcspn(p, " ");
        if (count == k) snprintf(buf, (size_t)cap, "%.*s", len, p);
        count++;
        p += len;
        p += *p == ' ';
    }
    return count;
}

const char *tfc_tf_input_type_attr(const char *op, int i, int n, char *buf, int cap) {
    for (size_t t = 0; t < sizeof typed_inputs / sizeof *typed_inputs; t++) {
        if (!has_word(typed_inputs[t].ops, op)) continue;
        const char *spec = typed_inputs[t].inputs;
        char w[32];
        int nw = word(spec, 0, w, sizeof w), star = -1;
        for (int k = 0; k < nw && star < 0; k++)
            if (word(spec, k, w, sizeof w), w[strlen(w) - 1] == '*') star = k;
        int k = i;
        if (star >= 0) {
            int nstar = n - (nw - 1); /* the inputs the list takes */
            k = i < star ? i : i < star + nstar ? star : i - nstar + 1;
        }
        if (k >= nw) return NULL; /* more inputs than the op takes: its own check says so */
        word(spec, k, w, sizeof w);
        size_t len = strlen(w);
        if (len && w[len - 1] == '*') w[--len] = 0;
        if (!strcmp(w, "-")) return NULL;
        snprintf(buf, (size_t)cap, "%s", w);
        return buf;
    }
    return NULL;
}
