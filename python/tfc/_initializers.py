"""tf.initializers: the initializer classes under TensorFlow's short names."""

from .variables import (zeros_initializer as zeros, ones_initializer as ones,  # noqa: F401
                        constant_initializer as constant,
                        random_normal_initializer as random_normal,
                        truncated_normal_initializer as truncated_normal,
                        random_uniform_initializer as random_uniform,
                        glorot_uniform_initializer as glorot_uniform,
                        glorot_normal_initializer as glorot_normal,
                        variance_scaling_initializer as variance_scaling,
                        global_variables_initializer as global_variables,
                        variables_initializer as variables)
