"""tf.layers: dense, conv2d, pooling, flatten and dropout, made of
get_variable ("<layer>/kernel", "<layer>/bias") and tf.nn ops, as
TensorFlow 1's tf.layers names them."""

import numbers

from . import nn
from . import math_ops
from . import array_ops
from .framework import convert_to_tensor, Tensor
from .variables import (variable_scope, get_variable, glorot_uniform_initializer,
                        zeros_initializer)


def _pair(v):
    return [int(v), int(v)] if isinstance(v, numbers.Integral) else [int(x) for x in v]


def _apply(x, activation):
    return activation(x) if activation is not None else x


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    x = convert_to_tensor(inputs)
    depth = x.shape[-1].value
    if depth is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined.")
    with variable_scope(name, default_name="dense", values=[x], reuse=reuse):
        w = get_variable("kernel", [depth, units], x.dtype,
                         kernel_initializer or glorot_uniform_initializer(),
                         kernel_regularizer, trainable)
        rank = x.shape.ndims
        if rank is not None and rank > 2:
            flat = array_ops.reshape(x, [-1, depth])
            y = math_ops.matmul(flat, w)
            shape = array_ops.shape(x)
            y = array_ops.reshape(y, array_ops.concat(
                [array_ops.strided_slice(shape, [0], [rank - 1]), [units]], 0))
        else:
            y = math_ops.matmul(x, w)
        if use_bias:
            b = get_variable("bias", [units], x.dtype, bias_initializer or zeros_initializer(),
                             bias_regularizer, trainable)
            y = nn.bias_add(y, b)
        return _apply(y, activation)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=None, kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    if data_format != "channels_last":
        raise NotImplementedError("tfc: conv2d supports channels_last only")
    x = convert_to_tensor(inputs)
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(strides)
    dh, dw = _pair(dilation_rate)
    depth = x.shape[-1].value
    with variable_scope(name, default_name="conv2d", values=[x], reuse=reuse):
        w = get_variable("kernel", [kh, kw, depth, filters], x.dtype,
                         kernel_initializer or glorot_uniform_initializer(),
                         kernel_regularizer, trainable)
        y = nn.conv2d(x, w, [1, sh, sw, 1], padding.upper(),
                      dilations=[1, dh, dw, 1] if (dh, dw) != (1, 1) else None)
        if use_bias:
            b = get_variable("bias", [filters], x.dtype, bias_initializer or zeros_initializer(),
                             bias_regularizer, trainable)
            y = nn.bias_add(y, b)
        return _apply(y, activation)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    ph, pw = _pair(pool_size)
    sh, sw = _pair(strides)
    return nn.max_pool(inputs, [1, ph, pw, 1], [1, sh, sw, 1], padding.upper(), name=name)


def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                      name=None):
    ph, pw = _pair(pool_size)
    sh, sw = _pair(strides)
    return nn.avg_pool(inputs, [1, ph, pw, 1], [1, sh, sw, 1], padding.upper(), name=name)


def flatten(inputs, name=None, data_format="channels_last"):
    x = convert_to_tensor(inputs)
    dims = x.shape.as_list()[1:]
    if any(d is None for d in dims):
        raise ValueError("tfc: flatten needs the non-batch dimensions to be known")
    n = 1
    for d in dims:
        n *= d
    return array_ops.reshape(x, [-1, n], name=name)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Dropout with drop probability `rate` when `training` (a bool or a
    bool tensor) is true."""
    x = convert_to_tensor(inputs)
    if isinstance(training, Tensor):
        from .control_flow_ops import cond
        return cond(training, lambda: nn.dropout(x, 1.0 - rate, seed=seed),
                    lambda: array_ops.identity(x), name=name)
    if not training:
        return x
    return nn.dropout(x, 1.0 - rate, noise_shape, seed, name)
