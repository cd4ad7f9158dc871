import numpy as np
import pytest

from keras_ae.data.patches import image_patches, noisy_manifold


def test_patches_shape_range_and_seed():
    p = image_patches(500, size=10, seed=0)
    assert p.shape == (500, 10, 10, 1) and p.dtype == np.float32
    assert p.min() >= 0.1 - 1e-6 and p.max() <= 0.9 + 1e-6
    np.testing.assert_array_equal(p, image_patches(500, size=10, seed=0))
    assert not np.array_equal(p, image_patches(500, size=10, seed=1))


def test_whitening_decorrelates_neighbouring_pixels():
    def neighbour_corr(whiten):
        a = image_patches(3000, size=6, seed=0, whiten=whiten)[..., 0]
        return np.corrcoef(a[:, :, 2].ravel(), a[:, :, 3].ravel())[0, 1]

    # neighbouring pixels of natural images are strongly correlated; whitening removes most of it
    raw, white = neighbour_corr(False), neighbour_corr(True)
    assert raw > 0.3
    assert abs(white) < 0.5 * raw


def test_noisy_manifold():
    noisy, clean = noisy_manifold(1000, noise=0.1, seed=0)
    assert noisy.shape == clean.shape == (1000, 2)
    r = np.linalg.norm(clean, axis=1)
    theta = r * 3 * np.pi  # on the spiral the radius equals t / (3 pi) and the angle is t
    np.testing.assert_allclose(clean[:, 0], r * np.cos(theta), atol=1e-5)
    assert abs((noisy - clean).std() - 0.1) < 0.01
    np.testing.assert_array_equal(noisy_manifold(10, seed=3)[0], noisy_manifold(10, seed=3)[0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        image_patches(10, size=1)
    with pytest.raises(ValueError, match="larger than the sample images"):
        image_patches(10, size=5000)
    with pytest.raises(ValueError, match="scale"):
        image_patches(10, scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="noise"):
        noisy_manifold(10, noise=-1)
