"""tf.contrib.layers: fully_connected, conv2d, pooling, flatten, dropout and
linear through tfc's layer helpers (variables "<scope>/weights" and
"<scope>/biases"), plus xavier_initializer and the regularizers."""

import numbers

from .. import nn
from ..framework import convert_to_tensor, Tensor, c_graph, _b
from ..variables import xavier_initializer, variance_scaling_initializer  # noqa: F401
from .._lib import lib

# tfc_activation
_ACT = {None: 0, nn.relu: 1, nn.sigmoid: 2, nn.tanh: 3, nn.softmax: 4, nn.elu: 5}


def _act(fn):
    """The C activation for `fn`, and the Python one to apply afterwards."""
    if fn in _ACT:
        return _ACT[fn], None
    return 0, fn


def _pair(v):
    return (int(v), int(v)) if isinstance(v, numbers.Integral) else tuple(int(x) for x in v)


def _scope_name(scope):
    if scope is None:
        return None
    return scope if isinstance(scope, str) else scope.name


def fully_connected(inputs, num_outputs, activation_fn=nn.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None, weights_regularizer=None,
                    biases_initializer=None, biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True,
                    scope=None):
    if weights_initializer is not None or biases_initializer is not None or \
            normalizer_fn is not None:
        raise NotImplementedError("tfc: fully_connected uses Glorot uniform weights and zero "
                                  "biases, without normalizer_fn")
    x = convert_to_tensor(inputs)
    g = c_graph([x])
    code, post = _act(activation_fn)
    name = _scope_name(scope)
    y = g._check_output(lib.tfc_layers_fully_connected(g._h, x._c, int(num_outputs), code,
                                                       _b(name) if name else None))
    g._sync_names()
    return post(y) if post else y


def linear(inputs, num_outputs, scope=None, **kwargs):
    return fully_connected(inputs, num_outputs, activation_fn=None, scope=scope, **kwargs)


def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None,
           rate=1, activation_fn=nn.relu, normalizer_fn=None, normalizer_params=None,
           weights_initializer=None, weights_regularizer=None, biases_initializer=None,
           biases_regularizer=None, reuse=None, variables_collections=None,
           outputs_collections=None, trainable=True, scope=None):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    if sh != sw or rate != 1 or normalizer_fn is not None:
        raise NotImplementedError("tfc: contrib conv2d takes one stride for both dims, rate 1, "
                                  "no normalizer_fn")
    x = convert_to_tensor(inputs)
    g = c_graph([x])
    code, post = _act(activation_fn)
    name = _scope_name(scope)
    y = g._check_output(lib.tfc_layers_conv2d(g._h, x._c, int(num_outputs), kh, kw, sh,
                                              _b(padding.upper()), code,
                                              _b(name) if name else None))
    g._sync_names()
    return post(y) if post else y


convolution2d = conv2d


def _pool(fn, inputs, kernel_size, stride, padding):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride)
    if sh != sw:
        raise NotImplementedError("tfc: contrib pooling takes one stride for both dims")
    x = convert_to_tensor(inputs)
    g = c_graph([x])
    return g._check_output(fn(g._h, x._c, kh, kw, sh, _b(padding.upper())))


def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC",
               outputs_collections=None, scope=None):
    return _pool(lib.tfc_layers_max_pool2d, inputs, kernel_size, stride, padding)


def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC",
               outputs_collections=None, scope=None):
    return _pool(lib.tfc_layers_avg_pool2d, inputs, kernel_size, stride, padding)


def flatten(inputs, outputs_collections=None, scope=None):
    x = convert_to_tensor(inputs)
    g = c_graph([x])
    return g._check_output(lib.tfc_layers_flatten(g._h, x._c))


def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True,
            outputs_collections=None, scope=None, seed=None):
    if is_training is False:
        return convert_to_tensor(inputs)
    if isinstance(is_training, Tensor):
        raise NotImplementedError("tfc: contrib dropout with a tensor is_training; use "
                                  "tf.layers.dropout(training=...)")
    x = convert_to_tensor(inputs)
    kp = convert_to_tensor(keep_prob, x.dtype) if not isinstance(keep_prob, Tensor) else \
        keep_prob
    g = c_graph([x, kp])
    return g._check_output(lib.tfc_layers_dropout(g._h, x._c, kp._c, int(seed or 0)))


def l2_regularizer(scale, scope=None):
    def reg(weights):
        if not scale:
            return None
        return nn.l2_loss(weights) * float(scale)
    return reg


def l1_regularizer(scale, scope=None):
    from .. import math_ops

    def reg(weights):
        if not scale:
            return None
        return math_ops.reduce_sum(math_ops.abs(weights)) * float(scale)
    return reg
