"""Spatial padding by reflection (mirror) or wrap-around (circular, periodic) borders."""

__all__ = ["Padding2D"]

import keras
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.serialization import register_serializable

MODES = {"reflect": "reflect", "circular": None, "zeros": "constant"}


def _check_pad(pad):
    if isinstance(pad, (list, tuple)):
        try:
            (top, bottom), (left, right) = pad
            pads = tuple(int(v) for v in (top, bottom, left, right))
        except (TypeError, ValueError):
            pads = None
        if pads is None or min(pads) < 0 or max(pads) == 0:
            raise InvalidArgumentError(
                f"`pad` must be a positive int or ((top, bottom), (left, right)) of non-negative ints, not all "
                f"zero; received {pad!r}."
            )
        return (pads[0], pads[1]), (pads[2], pads[3])
    return check_positive_int("pad", pad)


def _wrap(x, before, after, axis):
    """Periodic padding along ``axis`` (1 or 2) by slicing."""
    parts = []
    if before:
        parts.append(x[:, -before:] if axis == 1 else x[:, :, -before:])
    parts.append(x)
    if after:
        parts.append(x[:, :after] if axis == 1 else x[:, :, :after])
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else x


@register_serializable
class Padding2D(keras.layers.Layer):
    """Pad height and width of ``(N, H, W, C)`` inputs.

    ``pad``: pixels on every side (an int), or ``((top, bottom), (left, right))`` for uneven borders
    (what an even kernel needs to keep 'same' sizes: ``k - 1`` pixels split ``(k - 1) // 2`` before).
    ``mode``: ``"reflect"`` (mirror without repeating the edge), ``"circular"`` (periodic) or ``"zeros"``.
    """

    def __init__(self, pad=1, mode="reflect", **kwargs):
        super().__init__(**kwargs)
        self.pad = _check_pad(pad)
        self.mode = check_choice("mode", mode, tuple(MODES))

    @property
    def pads(self):
        """``((top, bottom), (left, right))``."""
        if isinstance(self.pad, int):
            return (self.pad, self.pad), (self.pad, self.pad)
        return self.pad

    def call(self, inputs):
        (top, bottom), (left, right) = self.pads
        if self.mode == "reflect" and (inputs.shape[1] is not None and inputs.shape[1] <= max(top, bottom)
                                       or inputs.shape[2] is not None and inputs.shape[2] <= max(left, right)):
            raise InvalidArgumentError(
                f"Reflection padding of {self.pad} needs height and width larger than the padding; "
                f"received {inputs.shape}. The feature map is too small for a reflected border: use "
                "padding='zeros' or 'circular', a smaller kernel, or fewer halving stages (`filters`)."
            )
        if self.mode == "circular":  # slices, not ops.pad(mode="wrap"), which the torch backend lacks
            x = _wrap(inputs, top, bottom, axis=1)
            return _wrap(x, left, right, axis=2)
        return ops.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode=MODES[self.mode])

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.pads
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def get_config(self):
        config = super().get_config()
        config.update(pad=self.pad, mode=self.mode)
        return config
