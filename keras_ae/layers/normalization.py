"""Normalization layers Keras 3 does not have as such: weight normalization (Salimans & Kingma), ``w = g * v / ||v||``,
as a wrapper, and batch normalization whose statistics are the global batch's on every backend and strategy."""

__all__ = ["WeightNormalization", "SyncBatchNormalization"]

import keras
from keras import ops

from keras_ae.errors import InvalidArgumentError
from keras_ae.ops.distribute import cross_replica_sum, synchronize_batch_statistics
from keras_ae.serialization import register_serializable


@register_serializable
class SyncBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training statistics are those of the global batch, everywhere.

    Under a ``tf.distribute`` strategy with more than one replica the batch moments are all-reduced over the
    replicas (Keras' ``synchronized=True``), so the normalization and the moving statistics equal what one device
    computes from the same global batch, and every replica holds the same moving statistics. On one device, under
    JAX's ``DataParallel`` (whose batch axis is global already) and on torch it is the plain layer. Whether to
    synchronize is decided when the layer is called, not saved: a model saved under a strategy loads on every
    backend (Keras refuses ``synchronized=True`` outside TensorFlow). Takes BatchNormalization's arguments.
    """

    def __init__(self, **kwargs):
        kwargs.pop("synchronized", None)  # decided per call, see above
        super().__init__(**kwargs)

    def call(self, inputs, training=None, mask=None):
        self.synchronized = synchronize_batch_statistics()
        return super().call(inputs, training=training, mask=mask)

    def _moments(self, inputs, mask):
        """The global batch's moments in two passes (the mean, then the mean squared deviation from it), each summed
        over the replicas. Keras' synchronized moments use ``E[x^2] - E[x]^2``, which cancels catastrophically when
        ``|mean| >> std``: one SGD step of the U-Net under MirroredStrategy then differed from one device's by up to
        5e-4 relative, depending on the initial weights. Half-precision inputs are reduced in float32."""
        if not self.synchronized or mask is not None:
            return super()._moments(inputs, mask)
        x = ops.cast(inputs, "float32")
        axes = self._reduction_axes
        count = cross_replica_sum(ops.sum(ops.ones_like(x), axis=axes, keepdims=True))
        mean = cross_replica_sum(ops.sum(x, axis=axes, keepdims=True)) / count
        variance = cross_replica_sum(ops.sum(ops.square(x - mean), axis=axes, keepdims=True)) / count
        mean, variance = ops.squeeze(mean, axes), ops.squeeze(variance, axes)
        return ops.cast(mean, inputs.dtype), ops.cast(variance, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("synchronized", None)
        return config

_SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


@register_serializable
class WeightNormalization(keras.layers.Wrapper):
    """Reparameterize a ``Dense``, ``Conv2D`` or ``Conv2DTranspose`` kernel as ``g * v / ||v||``.

    ``v`` is the wrapped layer's own kernel; ``g`` (one scale per output unit, initialised to ``||v||`` so
    the wrapped layer starts unchanged) is added by this wrapper. The norm runs over every kernel axis but
    the output one. The wrapped layer's bias and activation are applied as usual.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, _SUPPORTED):
            raise InvalidArgumentError(
                "WeightNormalization wraps Dense, Conv2D or Conv2DTranspose layers; received "
                f"{type(layer).__name__}."
            )
        super().__init__(layer, **kwargs)

    def _output_axis(self):
        return -2 if isinstance(self.layer, keras.layers.Conv2DTranspose) else -1

    def _norm_axes(self):
        rank = len(self.layer.kernel.shape)
        out = rank + self._output_axis()
        return tuple(a for a in range(rank) if a != out)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        v = self.layer.kernel
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._norm_axes()))
        self.g = self.add_weight(
            name="g", shape=(v.shape[self._output_axis()],), initializer="ones", trainable=True
        )
        self.g.assign(ops.convert_to_numpy(norm))
        self.built = True

    def normalized_kernel(self):
        """``g * v / ||v||``, computed in float32 (a half-precision sum of squares underflows for small weights and
        overflows for large kernels) and returned in the compute dtype."""
        v = ops.cast(self.layer.kernel, "float32")
        axes = self._norm_axes()
        norm = ops.sqrt(ops.sum(ops.square(v), axis=axes, keepdims=True) + 1e-12)
        shape = [1] * len(v.shape)
        shape[self._output_axis()] = -1
        return ops.cast(ops.reshape(ops.cast(self.g, "float32"), shape) * v / norm, self.compute_dtype)

    def call(self, inputs):
        layer, w = self.layer, self.normalized_kernel()
        if isinstance(layer, keras.layers.Dense):
            y = ops.matmul(inputs, w)
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            y = ops.conv_transpose(inputs, w, strides=layer.strides, padding=layer.padding,
                                   output_padding=layer.output_padding, data_format=layer.data_format,
                                   dilation_rate=layer.dilation_rate)
        else:
            y = ops.conv(inputs, w, strides=layer.strides, padding=layer.padding, data_format=layer.data_format,
                         dilation_rate=layer.dilation_rate)
        if layer.use_bias:
            y = y + layer.bias
        return layer.activation(y) if layer.activation is not None else y

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)
