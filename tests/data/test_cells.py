"""Synthetic touching cells and the U-Net paper's weight map, checked against hand-computed values."""

import math

import numpy as np
import pytest

from keras_ae.data.cells import class_balance_weights, make_cells, semantic_from_instances, unet_weight_map


def test_make_cells_shapes_ranges_and_determinism():
    d = make_cells(6, size=32, seed=3)
    assert d.images.shape == (6, 32, 32, 1) and d.images.dtype == np.float32
    assert d.masks.shape == d.instances.shape == (6, 32, 32)
    assert d.images.min() >= 0 and d.images.max() <= 1
    assert set(np.unique(d.masks)) <= {0, 1, 2}
    # the semantic mask is exactly the one derived from the instances
    np.testing.assert_array_equal(d.masks, semantic_from_instances(d.instances, border_width=2))
    # cells are brighter than the background
    assert d.images[d.masks > 0].mean() > d.images[d.masks == 0].mean() + 0.3
    again = make_cells(6, size=32, seed=3)
    np.testing.assert_array_equal(again.images, d.images)
    assert not np.array_equal(make_cells(6, size=32, seed=4).instances, d.instances)


def test_many_cells_touch_each_other():
    d = make_cells(20, size=64, seed=0)
    touching = 0
    for lab in d.instances:
        a, b = lab[:, :-1], lab[:, 1:]
        pairs = {(min(x, y), max(x, y)) for x, y in zip(a.ravel(), b.ravel()) if x != y and x > 0 and y > 0}
        touching += len(pairs)
    assert touching >= 20  # on average at least one touching pair per image


def test_semantic_from_instances_by_hand():
    lab = np.zeros((6, 8), "int32")
    lab[1:5, 1:4] = 1
    lab[1:5, 4:7] = 2  # touches cell 1 along a vertical line
    sem = semantic_from_instances(lab, border_width=1)
    expected = np.zeros((6, 8), "int32")
    expected[1:5, 1:7] = 2
    expected[2:4, 2:3] = 1  # cell 1 interior: rows 2-3, column 2
    expected[2:4, 5:6] = 1  # cell 2 interior: rows 2-3, column 5
    np.testing.assert_array_equal(sem, expected)
    with pytest.raises(ValueError, match="border_width"):
        semantic_from_instances(lab, border_width=0)


def test_weight_map_matches_the_paper_formula_by_hand():
    # two 3x3 cells separated by a 2-pixel gap on a 5x11 image
    lab = np.zeros((5, 11), "int32")
    lab[1:4, 1:4] = 1
    lab[1:4, 6:9] = 2
    w0, sigma = 10.0, 2.0
    w = unet_weight_map(lab, w0=w0, sigma=sigma, class_balance=False)
    # gap pixel (2, 4): d1 = 1 (to cell 1), d2 = 2 (to cell 2)
    assert w[2, 4] == pytest.approx(1 + w0 * math.exp(-(1 + 2) ** 2 / (2 * sigma**2)), rel=1e-6)
    # inside cell 1 at (2, 3): d1 = 0, d2 = 3
    assert w[2, 3] == pytest.approx(1 + w0 * math.exp(-(0 + 3) ** 2 / (2 * sigma**2)), rel=1e-6)
    # far corner (0, 10): d1 = dist to cell 2 corner (1, 8) = sqrt(5); d2 = to (1, 3) = sqrt(50)
    d1, d2 = math.sqrt(5), math.sqrt(50)
    assert w[0, 10] == pytest.approx(1 + w0 * math.exp(-(d1 + d2) ** 2 / (2 * sigma**2)), rel=1e-6)
    # the gap between the cells weighs more than anywhere away from it
    assert w.max() == pytest.approx(w[1:4, 4:6].max())
    # one cell only: no border term
    single = unet_weight_map(np.where(lab == 2, 0, lab), w0=w0, sigma=sigma, class_balance=False)
    np.testing.assert_allclose(single, 1.0)


def test_class_balance_term():
    masks = np.array([[0, 0, 0, 1], [0, 0, 0, 1]])
    wc = class_balance_weights(masks, num_classes=2)
    assert wc.mean() == pytest.approx(1.0)
    assert wc[0, 3] == pytest.approx(8 / (2 * 2)) and wc[0, 0] == pytest.approx(8 / (2 * 6))
    lab = np.zeros((2, 4), "int32")
    lab[:, 3] = 1
    w = unet_weight_map(lab, masks, w0=0.0)
    np.testing.assert_allclose(w, wc)


def test_weight_map_on_generated_cells_and_errors():
    d = make_cells(4, size=32, seed=1)
    w = unet_weight_map(d.instances, d.masks, sigma=3.0)
    assert w.shape == d.masks.shape and w.dtype == np.float32 and np.isfinite(w).all() and w.min() > 0
    # pixels where two cells meet weigh more than cell pixels on average
    padded = np.pad(d.instances, ((0, 0), (0, 0), (0, 1)), mode="edge")
    contact = (padded[..., :-1] != padded[..., 1:]) & (padded[..., :-1] > 0) & (padded[..., 1:] > 0)
    assert w[contact].mean() > 2 * w[d.masks == 1].mean()
    with pytest.raises(ValueError, match="integer instance masks"):
        unet_weight_map(d.images)
    with pytest.raises(ValueError, match="same shape"):
        unet_weight_map(d.instances, d.masks[:, :16])
    with pytest.raises(ValueError, match="sigma"):
        unet_weight_map(d.instances, sigma=0)
