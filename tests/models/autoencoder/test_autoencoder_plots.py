import numpy as np

import keras_ae
from keras_ae import plotting
from keras_ae.models.autoencoder import autoencoder_plots as plotting_ae


def test_figures_are_written(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(6, 8, 8, 1)).astype("float32")
    model = keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=2, filters=(4,), dense_units=8,
                                      corruption="pixel_removal", removal_rate=0.5)
    corrupted = model.corrupt(x, seed=0)
    figs = {
        "rows.png": plotting_ae.restoration_rows(x, corrupted, model.restore(corrupted), n=4),
        "filters.png": plotting_ae.decoder_filters(rng.normal(size=(12, 25)), (5, 5), ncols=5),
        "field.png": plotting_ae.denoising_field(rng.normal(size=(50, 2)), rng.normal(size=(20, 2)),
                                                 rng.normal(size=(20, 2))),
        "interp.png": plotting_ae.interpolation_rows(model.interpolate(x[:2], x[2:4], steps=5)),
        "grid.png": plotting.plot_images(x, ncols=4),
    }
    for name, fig in figs.items():
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000
    # path= writes the figure (creating the folder) and still returns it
    fig = plotting_ae.restoration_rows(x, corrupted, x, n=3, path=tmp_path / "sub" / "rows.png")
    assert (tmp_path / "sub" / "rows.png").stat().st_size > 1000 and len(fig.axes) == 9
    assert len(figs["rows.png"].axes) == 12  # 3 rows x 4 images
    assert len(figs["interp.png"].axes) == 10
