import numpy as np
import pytest
from keras import ops

from keras_ae.layers.corruption import (
    BlockMask,
    GaussianBlur,
    GaussianNoise,
    PixelRemoval,
    corruption_from_name,
    gaussian_kernel_1d,
)

LAYERS = [
    lambda: GaussianNoise(0.3, seed=1),
    lambda: PixelRemoval(0.5, seed=1),
    lambda: GaussianBlur(2.0),
    lambda: BlockMask(4, seed=1),
]


def _x(n=4, h=12, w=12, c=1, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 1.0, size=(n, h, w, c)).astype("float32")


@pytest.mark.parametrize("make", LAYERS)
def test_identity_at_inference_corrupts_in_training(make):
    layer, x = make(), _x()
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x, training=False)), x)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x)
    assert not np.allclose(ops.convert_to_numpy(layer(x, training=True)), x)
    assert not np.allclose(ops.convert_to_numpy(layer.corrupt(x)), x)


@pytest.mark.parametrize("make", LAYERS)
def test_config_round_trip_and_always_flag(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    always = type(layer).from_config(dict(config, always=True))
    x = _x()
    assert not np.allclose(ops.convert_to_numpy(always(x, training=False)), x)


def test_seeded_layers_reproduce():
    x = _x()
    a = ops.convert_to_numpy(PixelRemoval(0.5, seed=7).corrupt(x))
    b = ops.convert_to_numpy(PixelRemoval(0.5, seed=7).corrupt(x))
    c = ops.convert_to_numpy(PixelRemoval(0.5, seed=8).corrupt(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pixel_removal_fraction_and_channels():
    x = np.ones((20, 28, 28, 3), "float32")
    y = ops.convert_to_numpy(PixelRemoval(0.9, seed=0).corrupt(x))
    removed = (y == 0).all(-1).mean()
    assert abs(removed - 0.9) < 0.02
    # a pixel is removed in all channels at once
    assert set(np.unique(y.sum(-1))) <= {0.0, 3.0}
    # works on point clouds too
    assert ops.convert_to_numpy(PixelRemoval(0.5, seed=0).corrupt(np.ones((8, 2), "float32"))).shape == (8, 2)


def test_gaussian_noise_std_and_clip():
    x = np.zeros((64, 16, 16, 1), "float32")
    y = ops.convert_to_numpy(GaussianNoise(0.5, seed=0).corrupt(x))
    assert abs(y.std() - 0.5) < 0.02
    yc = ops.convert_to_numpy(GaussianNoise(0.5, clip=(0, 1), seed=0).corrupt(x))
    assert yc.min() >= 0 and yc.max() <= 1


def test_blur_matches_scipy_in_the_interior():
    from scipy.ndimage import gaussian_filter

    x = _x(2, 32, 32, 2)
    y = ops.convert_to_numpy(GaussianBlur(1.5).corrupt(x))
    ref = gaussian_filter(x.astype("float64"), sigma=(0, 1.5, 1.5, 0), mode="constant", truncate=3.0)
    np.testing.assert_allclose(y[:, 6:-6, 6:-6], ref[:, 6:-6, 6:-6], atol=1e-4)
    assert abs(gaussian_kernel_1d(4.0).sum() - 1) < 1e-6


def test_block_mask_removes_one_square():
    x = np.ones((16, 28, 28, 1), "float32")
    y = ops.convert_to_numpy(BlockMask(16, seed=3).corrupt(x))
    assert ((y == 0).sum(axis=(1, 2, 3)) == 256).all()
    for img in y[..., 0]:
        rows, cols = np.nonzero(img == 0)
        assert rows.max() - rows.min() == 15 and cols.max() - cols.min() == 15


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "half"])
def test_rate_outside_unit_interval_is_rejected(rate):
    with pytest.raises(ValueError, match=r"rate.*\[0, 1\)"):
        PixelRemoval(rate)


def test_block_larger_than_image_is_rejected():
    with pytest.raises(ValueError, match="larger than the images"):
        BlockMask(16)(np.ones((2, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="larger than the images"):
        BlockMask(16).corrupt(np.ones((2, 28, 8, 1), "float32"))


def test_bad_arguments_and_names():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(0.0)
    with pytest.raises(ValueError, match="sigma"):
        GaussianBlur(-1)
    with pytest.raises(ValueError, match="height, width, channels"):
        GaussianBlur(1.0).corrupt(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="Did you mean 'blur'"):
        corruption_from_name("blurr")
    assert isinstance(corruption_from_name("block", size=3), BlockMask)
