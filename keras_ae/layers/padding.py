"""Spatial padding by reflection (mirror) or wrap-around (circular, periodic) borders."""

__all__ = ["Padding2D"]

import keras
from keras import ops

from keras_ae.errors import check_choice, check_positive_int
from keras_ae.serialization import register_serializable

MODES = {"reflect": "reflect", "circular": None, "zeros": "constant"}


@register_serializable
class Padding2D(keras.layers.Layer):
    """Pad height and width of ``(N, H, W, C)`` inputs by ``pad`` pixels on each side.

    ``mode``: ``"reflect"`` (mirror without repeating the edge), ``"circular"`` (periodic) or ``"zeros"``.
    """

    def __init__(self, pad=1, mode="reflect", **kwargs):
        super().__init__(**kwargs)
        self.pad = check_positive_int("pad", pad)
        self.mode = check_choice("mode", mode, tuple(MODES))

    def call(self, inputs):
        if self.mode == "reflect" and (inputs.shape[1] is not None and inputs.shape[1] <= self.pad
                                       or inputs.shape[2] is not None and inputs.shape[2] <= self.pad):
            raise ValueError(
                f"Reflection padding of {self.pad} needs height and width > {self.pad}; received {inputs.shape}."
            )
        p = self.pad
        if self.mode == "circular":  # slices, not ops.pad(mode="wrap"), which the torch backend lacks
            x = ops.concatenate([inputs[:, -p:], inputs, inputs[:, :p]], axis=1)
            return ops.concatenate([x[:, :, -p:], x, x[:, :, :p]], axis=2)
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode=MODES[self.mode])

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h + 2 * self.pad, None if w is None else w + 2 * self.pad, c)

    def get_config(self):
        config = super().get_config()
        config.update(pad=self.pad, mode=self.mode)
        return config
