"""The segmentation figure: one row per example, columns for image, true, predicted mask and weight map."""

import numpy as np
import pytest

from keras_ae.data.cells import make_cells, unet_weight_map
from keras_ae.models.unet.unet_plots import plot_segmentation


def test_plot_segmentation_writes_a_figure(tmp_path):
    d = make_cells(3, size=32, seed=0)
    w = unet_weight_map(d.instances, d.masks, sigma=3.0)
    path = tmp_path / "seg.png"
    fig = plot_segmentation(d.images, d.masks, d.masks, w, path=str(path))
    assert path.exists() and path.stat().st_size > 1000
    assert len(fig.axes) == 3 * 4 + 3  # 12 panels and a colour bar per weight map
    fig2 = plot_segmentation(d.images[0], d.masks[0])
    assert len(fig2.axes) == 2
    with pytest.raises(ValueError, match="differ in shape"):
        plot_segmentation(d.images, d.masks, d.masks[:, :16])
