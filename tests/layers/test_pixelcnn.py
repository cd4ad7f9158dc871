"""Masked and gated PixelCNN layers: causal masks, no blind spot, serialization."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers.pixelcnn import GatedPixelCNNBlock, MaskedConv2D, causal_mask, gated_pixelcnn


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_causal_masks():
    a = causal_mask((3, 3), "A")
    np.testing.assert_array_equal(a, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "vertical_A"), [[1, 1, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "vertical_B"), [[1, 1, 1], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((1, 3), "horizontal_A"), [[1, 0, 0]])
    np.testing.assert_array_equal(causal_mask((1, 3), "horizontal_B"), [[1, 1, 0]])


def _dependence(fn, x, pos):
    """Which output positions change when the input at ``pos`` changes."""
    base = _np(fn(x))
    x2 = x.copy()
    x2[:, pos[0], pos[1]] = x2[:, pos[0], pos[1]] + 1.0 if x.dtype.kind == "f" else (x2[:, pos[0], pos[1]] + 1) % 5
    diff = np.abs(_np(fn(x2)) - base).reshape(base.shape[:3] + (-1,)).max(-1)[0]
    return diff > 1e-6


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_is_causal_in_raster_order(mask_type):
    keras.utils.set_random_seed(0)
    layer = MaskedConv2D(4, 3, mask_type=mask_type)
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 2)).astype("float32")
    layer(x)
    layer.kernel.assign(np.abs(_np(layer.kernel)) + 0.1)  # no accidental zero weights
    for i in range(4):
        for j in range(4):
            dep = _dependence(layer, x, (i, j))
            for r in range(4):
                for c in range(4):
                    if (r, c) < (i, j) or ((r, c) == (i, j) and mask_type == "A"):
                        assert not dep[r, c], f"output {(r, c)} sees input {(i, j)}"
            assert dep[i, j] == (mask_type == "B")


def test_gated_pixelcnn_is_causal_and_has_no_blind_spot():
    keras.utils.set_random_seed(0)
    model = gated_pixelcnn((4, 4), num_classes=5, filters=8, num_layers=4, kernel_size=3)
    codes = np.random.default_rng(0).integers(0, 5, size=(1, 4, 4)).astype("int32")
    seen = np.zeros((4, 4, 4, 4), bool)  # seen[r, c, i, j]: logits at (r, c) depend on code (i, j)
    for i in range(4):
        for j in range(4):
            dep = _dependence(lambda a: model(a, training=False), codes, (i, j))
            seen[:, :, i, j] = dep
            for r in range(4):
                for c in range(4):
                    if (r, c) <= (i, j):
                        assert not dep[r, c], f"logits at {(r, c)} depend on code {(i, j)}"
    # every earlier position is visible (the plain PixelCNN's blind spot is up and to the right)
    assert seen[2, 0, 1, 3] and seen[3, 3, 0, 0] and seen[1, 1, 0, 3]
    assert model.output_shape == (None, 4, 4, 5)


def test_gated_block_shapes_and_residual_check():
    block = GatedPixelCNNBlock(6, 3, first=True, residual=False)
    v, h = block([np.zeros((2, 5, 5, 3), "float32")] * 2)
    assert tuple(v.shape) == (2, 5, 5, 6) and tuple(h.shape) == (2, 5, 5, 6)
    with pytest.raises(ValueError, match="6 channels"):
        GatedPixelCNNBlock(6, 3, residual=True)([np.zeros((1, 3, 3, 6), "float32"), np.zeros((1, 3, 3, 4), "float32")])
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2D(4, 2)
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D(4, 3, mask_type="C")


def test_configs_and_save_reload(tmp_path):
    layer = MaskedConv2D(4, (3, 5), mask_type="horizontal_B", activation="relu", name="m")
    assert MaskedConv2D.from_config(layer.get_config()).get_config() == layer.get_config()
    block = GatedPixelCNNBlock(4, 5, first=True, residual=False, trainable=False)
    again = GatedPixelCNNBlock.from_config(block.get_config())
    assert again.get_config() == block.get_config()
    assert not again.vertical_conv.trainable  # a frozen block freezes its parts
    model = gated_pixelcnn((3, 3), num_classes=4, filters=4, num_layers=2)
    codes = np.random.default_rng(1).integers(0, 4, size=(2, 3, 3)).astype("int32")
    path = str(tmp_path / "prior.keras")
    model.save(path)
    loaded = keras_ae.load_model(path, safe_mode=True)
    np.testing.assert_allclose(_np(loaded(codes)), _np(model(codes)), atol=1e-6)
