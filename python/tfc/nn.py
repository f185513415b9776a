"""tf.nn: activations, softmax and losses, convolution and pooling,
dropout, embeddings, moments and sampled losses.

The talks' pre-1.0 positional orders are accepted: softmax_cross_entropy_
with_logits(logits, labels) (TensorFlow 1 requires keywords there, so a
positional call is the old order) and nce_loss(weights, biases, inputs,
labels, ...) (told apart from 1.x's (weights, biases, labels, inputs) by
the labels' integer dtype)."""

import collections
import numbers

from . import dtypes
from .framework import (Tensor, build_op, convert_to_tensor, _as_tensors, composite_scope,
                        c_graph)
from ._lib import lib
from .math_ops import (sigmoid, tanh, maximum, minimum, multiply, add, subtract, rsqrt,
                       reduce_sum, reduce_mean, cast, square, log, exp)  # noqa: F401


def _unary(op_type, x, name, default_name=None):
    return build_op(op_type, [convert_to_tensor(x)], name=name,
                    default_name=default_name or op_type).outputs[0]


def relu(features, name=None):
    return _unary("Relu", features, name)


def relu6(features, name=None):
    with composite_scope(name, "Relu6", [features]):
        return minimum(relu(features), 6.0)


def elu(features, name=None):
    return _unary("Elu", features, name)


def selu(features, name=None):
    return _unary("Selu", features, name)


def softplus(features, name=None):
    return _unary("Softplus", features, name)


def softsign(features, name=None):
    return _unary("Softsign", features, name)


def leaky_relu(features, alpha=0.2, name=None):
    return build_op("LeakyRelu", [convert_to_tensor(features)], {"alpha": ("float", alpha)},
                    name=name, default_name="LeakyRelu").outputs[0]


def crelu(features, name=None, axis=-1):
    from .array_ops import concat
    with composite_scope(name, "CRelu", [features]):
        x = convert_to_tensor(features)
        return relu(concat([x, -x], axis))


def _last_axis_only(axis, dim, logits):
    axis = dim if axis is None else axis
    if axis is None or axis == -1:
        return
    rank = convert_to_tensor(logits).shape.ndims
    if rank is not None and axis == rank - 1:
        return
    raise NotImplementedError("tfc: softmax over an axis other than the last is not available")


def softmax(logits, axis=None, name=None, dim=None):
    _last_axis_only(axis, dim, logits)
    return _unary("Softmax", logits, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    _last_axis_only(axis, dim, logits)
    return _unary("LogSoftmax", logits, name)


def bias_add(value, bias, data_format=None, name=None):
    v, b = _as_tensors([value, bias])
    return build_op("BiasAdd", [v, b], name=name, default_name="BiasAdd").outputs[0]


def _loss(fn, default_name, labels, logits, name):
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, logits.dtype) if not isinstance(labels, Tensor) and \
        not hasattr(labels, "_variable_tensor") else convert_to_tensor(labels)
    g = c_graph([labels, logits])
    with composite_scope(name, default_name, [labels, logits]):
        return g._check_output(fn(g._h, labels._c, logits._c))


def _xent(op_type, logits, labels, name, default_name):
    logits = convert_to_tensor(logits)
    return build_op(op_type, [logits, labels], name=name, default_name=default_name).outputs[0]


def softmax_cross_entropy_with_logits(logits=None, labels=None, dim=-1, name=None,
                                      _sentinel=None):
    """Per-example softmax cross-entropy [batch] over the last dimension."""
    if logits is None or labels is None:
        raise ValueError("Both labels and logits must be provided.")
    _last_axis_only(dim, None, logits)
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, logits.dtype) if not isinstance(labels, Tensor) and \
        not hasattr(labels, "_variable_tensor") else convert_to_tensor(labels)
    return _xent("SoftmaxCrossEntropyWithLogits", logits, labels, name,
                 "SoftmaxCrossEntropyWithLogits")


softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits


def sparse_softmax_cross_entropy_with_logits(logits=None, labels=None, name=None,
                                             _sentinel=None):
    """As softmax_cross_entropy_with_logits with integer class labels."""
    if logits is None or labels is None:
        raise ValueError("Both labels and logits must be provided.")
    if isinstance(logits, Tensor) and logits.dtype.is_integer and isinstance(labels, Tensor) \
            and labels.dtype.is_floating:
        logits, labels = labels, logits
    labels = convert_to_tensor(labels) if isinstance(labels, Tensor) else \
        convert_to_tensor(labels, dtypes.int32)
    return _xent("SparseSoftmaxCrossEntropyWithLogits", logits, labels, name,
                 "SparseSoftmaxCrossEntropyWithLogits")


def sigmoid_cross_entropy_with_logits(logits=None, labels=None, name=None, _sentinel=None,
                                      targets=None):
    if labels is None:
        labels = targets
    return _loss(lib.tfc_sigmoid_cross_entropy_with_logits, "logistic_loss", labels, logits,
                 name)


def weighted_cross_entropy_with_logits(targets, logits, pos_weight, name=None):
    with composite_scope(name, "logistic_loss", [targets, logits]):
        x = convert_to_tensor(logits)
        z = convert_to_tensor(targets, x.dtype)
        lw = add(1.0, multiply(pos_weight - 1.0, z))
        return add(multiply(subtract(1.0, z), x),
                   multiply(lw, add(log(add(1.0, exp(-abs_(x)))), relu(-x))))


def abs_(x):
    from .math_ops import abs as _abs
    return _abs(x)


def l2_loss(t, name=None):
    return _unary("L2Loss", t, name)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    axis = dim if axis is None else axis
    with composite_scope(name, "l2_normalize", [x]):
        x = convert_to_tensor(x)
        sq = reduce_sum(square(x), axis, keepdims=True)
        return multiply(x, rsqrt(maximum(sq, epsilon)))


def zero_fraction(value, name=None):
    from .math_ops import equal
    with composite_scope(name, "zero_fraction", [value]):
        v = convert_to_tensor(value)
        return reduce_mean(cast(equal(v, 0), dtypes.float32))


def _list4(v, what):
    v = list(v)
    if len(v) != 4:
        raise ValueError("%s must have 4 elements, got %r" % (what, v))
    return [int(x) for x in v]


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None):
    """2-D convolution of NHWC `input` with an HWIO `filter`."""
    filter = filter if filter is not None else filters
    if data_format not in (None, "NHWC"):
        raise NotImplementedError("tfc: conv2d supports data_format NHWC only")
    x, f = _as_tensors([input, filter])
    attrs = {"strides": ("int_list", _list4(strides, "strides")),
             "padding": ("string", padding), "data_format": ("string", "NHWC")}
    if dilations is not None:
        attrs["dilations"] = ("int_list", _list4(dilations, "dilations"))
    return build_op("Conv2D", [x, f], attrs, name=name, default_name="Conv2D").outputs[0]


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    x, f = _as_tensors([input, filter])
    attrs = {"strides": ("int_list", _list4(strides, "strides")),
             "padding": ("string", padding), "data_format": ("string", "NHWC")}
    if rate is not None:
        r = list(rate)
        attrs["dilations"] = ("int_list", [1, int(r[0]), int(r[1]), 1])
    return build_op("DepthwiseConv2dNative", [x, f], attrs, name=name,
                    default_name="depthwise").outputs[0]


def _pool(op_type, value, ksize, strides, padding, data_format, name):
    if data_format not in (None, "NHWC"):
        raise NotImplementedError("tfc: pooling supports data_format NHWC only")
    attrs = {"ksize": ("int_list", _list4(ksize, "ksize")),
             "strides": ("int_list", _list4(strides, "strides")),
             "padding": ("string", padding), "data_format": ("string", "NHWC")}
    return build_op(op_type, [convert_to_tensor(value)], attrs, name=name,
                    default_name=op_type).outputs[0]


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None):
    return _pool("MaxPool", value, ksize, strides, padding, data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None):
    return _pool("AvgPool", value, ksize, strides, padding, data_format, name)


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keeps each element with probability keep_prob, scaled by 1/keep_prob."""
    if noise_shape is not None:
        raise NotImplementedError("tfc: dropout with noise_shape is not available")
    x = convert_to_tensor(x)
    if keep_prob is None:
        if rate is None:
            raise ValueError("keep_prob or rate must be given")
        keep_prob = subtract(1.0, rate) if isinstance(rate, Tensor) else 1.0 - rate
    if isinstance(keep_prob, numbers.Real) and not 0 < keep_prob <= 1:
        raise ValueError("keep_prob must be a scalar tensor or a float in the range (0, 1], "
                         "got %g" % keep_prob)
    kp = convert_to_tensor(keep_prob, x.dtype) if not isinstance(keep_prob, Tensor) else \
        keep_prob
    g = c_graph([x, kp])
    with composite_scope(name, "dropout", [x]):
        return g._check_output(lib.tfc_dropout(g._h, x._c, kp._c, int(seed or 0)))


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("tfc: embedding_lookup over sharded params is not "
                                      "available")
        params = params[0]
    if max_norm is not None:
        raise NotImplementedError("tfc: embedding_lookup(max_norm=...) is not available")
    p = convert_to_tensor(params)
    i = convert_to_tensor(ids) if isinstance(ids, Tensor) else convert_to_tensor(ids,
                                                                                 dtypes.int32)
    return build_op("Gather", [p, i], name=name, default_name="embedding_lookup").outputs[0]


def moments(x, axes, shift=None, name=None, keep_dims=False, keepdims=None):
    from ._lib import Output
    import ctypes
    if keepdims is not None:
        keep_dims = keepdims
    x = convert_to_tensor(x)
    g = c_graph([x])
    axes = [int(a) for a in axes]
    mean, var = Output(), Output()
    with composite_scope(name, "moments", [x]):
        lib.tfc_moments(g._h, x._c, (ctypes.c_int32 * max(len(axes), 1))(*axes), len(axes),
                        1 if keep_dims else 0, ctypes.byref(mean), ctypes.byref(var))
        return g._check_output(mean), g._check_output(var)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    with composite_scope(name, "batchnorm", [x, mean, variance]):
        inv = rsqrt(add(variance, variance_epsilon))
        if scale is not None:
            inv = multiply(inv, scale)
        y = multiply(subtract(x, mean), inv)
        return add(y, offset) if offset is not None else y


def _sampled(fn, default_name, weights, biases, labels, inputs, num_sampled, num_classes,
             num_true, sampled_values, remove_accidental_hits, name):
    w, b = _as_tensors([weights, biases])
    labels = convert_to_tensor(labels) if isinstance(labels, Tensor) else \
        convert_to_tensor(labels, dtypes.int64)
    inputs = convert_to_tensor(inputs)
    if labels.dtype.is_floating and inputs.dtype.is_integer:
        labels, inputs = inputs, labels  # the pre-1.0 order (inputs, labels)
    if sampled_values is not None:
        raise NotImplementedError("tfc: sampled_values from Python are not supported yet")
    g = c_graph([w, b, labels, inputs])
    with composite_scope(name, default_name, [w, b, labels, inputs]):
        return g._check_output(fn(g._h, w._c, b._c, labels._c, inputs._c, int(num_sampled),
                                  int(num_classes), int(num_true), None,
                                  1 if remove_accidental_hits else 0))


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss"):
    """Noise-contrastive estimation loss per example [batch]; positional
    (weights, biases, inputs, labels, ...) as in the talks also works."""
    return _sampled(lib.tfc_nce_loss, "nce_loss", weights, biases, labels, inputs,
                    num_sampled, num_classes, num_true, sampled_values, remove_accidental_hits,
                    name)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    return _sampled(lib.tfc_sampled_softmax_loss, "sampled_softmax_loss", weights, biases,
                    labels, inputs, num_sampled, num_classes, num_true, sampled_values,
                    remove_accidental_hits, name)


def in_top_k(predictions, targets, k, name=None):
    """tf.nn.in_top_k: bool [batch], targets[b] among the k largest of
    predictions[b] (op InTopKV2 in scope "in_top_k"; ties count in its
    favour, non-finite rows give False)."""
    p = convert_to_tensor(predictions)
    t = convert_to_tensor(targets)
    with composite_scope(name, "in_top_k", [p, t]):
        kt = convert_to_tensor(k, t.dtype) if not isinstance(k, Tensor) else k
        return build_op("InTopKV2", [p, t, kt], default_name="InTopKV2").outputs[0]


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002
    """tf.nn.top_k: the k largest entries of each last-dim row, largest
    first (ties by lower index), and their int32 indices (op TopKV2)."""
    x = convert_to_tensor(input)
    kt = convert_to_tensor(k, dtypes.int32) if not isinstance(k, Tensor) else k
    op = build_op("TopKV2", [x, kt], {"sorted": ("bool", bool(sorted))}, name=name,
                  default_name="TopKV2")
    return TopKV2(op.outputs[0], op.outputs[1])



def xw_plus_b(x, weights, biases, name=None):
    """tf.nn.xw_plus_b: matmul(x, weights) + biases, in a scope "xw_plus_b"."""
    from .math_ops import matmul
    with composite_scope(name, "xw_plus_b", [x, weights, biases]):
        return bias_add(matmul(x, weights), biases)


def relu_layer(x, weights, biases, name=None):
    """tf.nn.relu_layer: relu(matmul(x, weights) + biases)."""
    from .math_ops import matmul
    with composite_scope(name, "relu_layer", [x, weights, biases]):
        return relu(bias_add(matmul(x, weights), biases))
