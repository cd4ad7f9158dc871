"""Masked and gated PixelCNN layers (van den Oord et al. 2016), and a gated PixelCNN over discrete grids.

Autoregressive order is raster order (row by row, left to right). A masked convolution of type
``"A"`` sees only earlier positions; type ``"B"`` also sees the current position (use it after an
``"A"`` layer). The gated block keeps a vertical stack (rows above) and a horizontal stack (earlier
positions of the current row), which removes the classic PixelCNN's blind spot.
"""

__all__ = ["MaskedConv2D", "GatedPixelCNNBlock", "gated_pixelcnn"]

import keras
import numpy as np
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.serialization import register_serializable

MASK_TYPES = ("A", "B", "vertical_A", "vertical_B", "horizontal_A", "horizontal_B")


def _kernel_size(kernel_size):
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    kh, kw = (int(k) for k in kernel_size)
    if kh < 1 or kw < 1 or kh % 2 == 0 or kw % 2 == 0:
        raise InvalidArgumentError(f"`kernel_size` must be odd positive integers; received {kernel_size!r}.")
    return kh, kw


def causal_mask(kernel_size, mask_type):
    """The (kh, kw) 0/1 mask of a kernel centred on the current position.

    ``"A"``/``"B"``: rows above plus the current row left of the centre (``"B"`` also the centre).
    ``"vertical_A"``: rows strictly above; ``"vertical_B"``: rows above and the whole current row
    (only safe inside a vertical stack whose first layer was ``"vertical_A"``).
    ``"horizontal_A"``/``"horizontal_B"``: the current row left of (``_B``: up to) the centre.
    """
    kh, kw = kernel_size
    ch, cw = kh // 2, kw // 2
    mask = np.zeros((kh, kw), dtype="float32")
    centre = mask_type.endswith("B")
    if mask_type in ("A", "B"):
        mask[:ch, :] = 1.0
        mask[ch, :cw] = 1.0
        if centre:
            mask[ch, cw] = 1.0
    elif mask_type.startswith("vertical"):
        mask[:ch, :] = 1.0
        if centre:
            mask[ch, :] = 1.0
    else:  # horizontal
        mask[ch, :cw] = 1.0
        if centre:
            mask[ch, cw] = 1.0
    return mask


@register_serializable
class MaskedConv2D(keras.layers.Layer):
    """A 'same'-padded stride-1 convolution whose kernel is multiplied by a causal mask.

    Args:
        filters: output channels.
        kernel_size: odd int or (kh, kw).
        mask_type: one of ``"A"``, ``"B"``, ``"vertical_A"``, ``"vertical_B"``, ``"horizontal_A"``,
            ``"horizontal_B"`` (see :func:`causal_mask`).
        activation, use_bias, kernel_initializer: as for ``keras.layers.Conv2D``.
    """

    def __init__(self, filters, kernel_size, mask_type="B", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = _kernel_size(kernel_size)
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (channels, self.filters), initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None
        )
        self.built = True

    def call(self, inputs):
        mask = ops.convert_to_tensor(causal_mask(self.kernel_size, self.mask_type)[:, :, None, None])
        out = ops.conv(inputs, self.kernel * ops.cast(mask, self.kernel.dtype), strides=1, padding="same")
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            mask_type=self.mask_type,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


@register_serializable
class GatedPixelCNNBlock(keras.layers.Layer):
    """One gated PixelCNN layer (van den Oord et al. 2016, 'Conditional image generation ...').

    Called on ``[vertical, horizontal]`` (both ``(batch, H, W, filters)`` except for the first block,
    which may take any channel count) and returns the new ``(vertical, horizontal)``. Each stack is
    gated, ``tanh(a) * sigmoid(b)``; the vertical stack feeds the horizontal one through a 1x1
    convolution; the horizontal stack has a residual connection (``residual=True``, needs matching
    channels). ``first=True`` makes the block causal on raw inputs (type A masks).
    """

    def __init__(self, filters, kernel_size=3, first=False, residual=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = int(_kernel_size(kernel_size)[0])
        self.first = bool(first)
        self.residual = bool(residual)
        suffix = "A" if self.first else "B"
        k = self.kernel_size
        policy = self.dtype_policy
        self.vertical_conv = MaskedConv2D(2 * filters, (k, k), f"vertical_{suffix}", name="vertical_conv",
                                          dtype=policy)
        self.horizontal_conv = MaskedConv2D(2 * filters, (1, k), f"horizontal_{suffix}", name="horizontal_conv",
                                            dtype=policy)
        self.vertical_to_horizontal = keras.layers.Conv2D(2 * filters, 1, name="vertical_to_horizontal", dtype=policy)
        self.horizontal_out = keras.layers.Conv2D(filters, 1, name="horizontal_out", dtype=policy)
        if not self.trainable:  # built frozen (e.g. deserialized with trainable=False): freeze the parts too
            for layer in (self.vertical_conv, self.horizontal_conv, self.vertical_to_horizontal, self.horizontal_out):
                layer.trainable = False

    def build(self, input_shape):
        v_shape, h_shape = input_shape
        self.vertical_conv.build(v_shape)
        self.horizontal_conv.build(h_shape)
        self.vertical_to_horizontal.build(tuple(v_shape[:-1]) + (2 * self.filters,))
        self.horizontal_out.build(tuple(h_shape[:-1]) + (self.filters,))
        if self.residual and h_shape[-1] is not None and int(h_shape[-1]) != self.filters:
            raise InvalidArgumentError(
                f"GatedPixelCNNBlock(residual=True) needs a horizontal input with {self.filters} channels; "
                f"received {h_shape[-1]}."
            )
        self.built = True

    @staticmethod
    def _gate(x):
        a, b = ops.split(x, 2, axis=-1)
        return ops.tanh(a) * ops.sigmoid(b)

    def call(self, inputs):
        v_in, h_in = inputs
        v_feat = self.vertical_conv(v_in)
        h_feat = self.horizontal_conv(h_in) + self.vertical_to_horizontal(v_feat)
        v_out = self._gate(v_feat)
        h_out = self.horizontal_out(self._gate(h_feat))
        if self.residual:
            h_out = h_out + h_in
        return v_out, h_out  # a tuple, as Keras' own multi-output layers (tf.data refuses a list structure)

    def compute_output_shape(self, input_shape):
        v_shape, h_shape = input_shape
        return tuple(v_shape[:-1]) + (self.filters,), tuple(h_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, first=self.first, residual=self.residual)
        return config


def gated_pixelcnn(grid_shape, num_classes, filters=64, num_layers=6, kernel_size=3, embedding_dim=None,
                   name="prior"):
    """A functional gated PixelCNN over a grid of integer codes: ``(batch, H, W)`` int -> logits
    ``(batch, H, W, num_classes)``; the logits at a position depend only on earlier positions
    (raster order), so ``softmax`` gives ``p(code_ij | codes before ij)``."""
    h, w = (check_positive_int("grid size", int(s)) for s in grid_shape)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    filters = check_positive_int("filters", filters)
    num_layers = check_positive_int("num_layers", num_layers)
    embedding_dim = check_positive_int("embedding_dim", embedding_dim or filters)
    codes = keras.Input((h, w), dtype="int32", name="codes")
    x = keras.layers.Embedding(num_classes, embedding_dim, name="code_embedding")(codes)
    v, hz = GatedPixelCNNBlock(filters, kernel_size, first=True, residual=False, name="gated0")([x, x])
    for i in range(1, num_layers):
        v, hz = GatedPixelCNNBlock(filters, kernel_size, name=f"gated{i}")([v, hz])
    out = keras.layers.Activation("relu")(hz)
    out = keras.layers.Conv2D(filters, 1, activation="relu", name="head")(out)
    logits = keras.layers.Conv2D(num_classes, 1, name="logits")(out)
    return keras.Model(codes, logits, name=name)
