"""The package layout (one home per family) and its rules: no zoo -> testing dependency, no ``keras.src``, plotting
that never touches matplotlib's backend, and the names of keras_ae 0.1 still working with a deprecation warning."""

import ast
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import keras_ae
from keras_ae import zoo
from keras_ae.errors import KerasAEDeprecationWarning

PACKAGE = pathlib.Path(keras_ae.__file__).parent
FAMILIES = ("autoencoder", "vae", "vqvae", "gan", "flow", "unet")


def _imports(path):
    """Every module name imported by the Python file ``path`` (``import a.b`` and ``from a.b import c``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_lives_in_one_folder(family):
    folder = PACKAGE / "models" / family
    files = {p.name for p in folder.glob("*.py")}
    assert {"__init__.py", f"{family}_model.py", f"{family}_zoo.py"} <= files, files
    assert all(f == "__init__.py" or f.startswith(f"{family}_") for f in files), f"file names carry the family: {files}"
    # every registered model of the family is constructed in that folder
    for name in zoo.list_models(family):
        module = zoo.get_entry(name).fn.__module__
        assert module == f"keras_ae.models.{family}.{family}_zoo", (name, module)


def test_figures_of_a_family_are_in_its_folder():
    top = {p.name for p in PACKAGE.glob("plotting*.py")}
    assert top == set(), f"plotting modules at the top level: {top}"
    for family in ("autoencoder", "vqvae", "gan", "flow", "unet"):
        assert (PACKAGE / "models" / family / f"{family}_plots.py").exists()


def test_no_library_module_imports_the_testing_module():
    offenders = [str(p.relative_to(PACKAGE)) for p in _modules()
                 if p.name != "testing.py" and any(n == "keras_ae.testing" or n.startswith("keras_ae.testing.")
                                                   for n in _imports(p))]
    assert offenders == []


def test_no_private_keras_import():
    offenders = [str(p.relative_to(PACKAGE)) for p in _modules() if any(n.startswith("keras.src") for n in _imports(p))]
    assert offenders == []


def test_backend_branches_only_in_ops_and_the_gan_trainer():
    """``keras.backend.backend()`` decides code paths only in keras_ae/ops and the GAN family's trainer (elsewhere it
    is only recorded, e.g. in a run's metrics)."""
    allowed = {"ops/autodiff.py", "ops/backend_call.py", "ops/distribute.py", "models/gan/gan_trainer.py"}
    branching = set()
    for p in _modules():
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            test = node.test if isinstance(node, (ast.If, ast.IfExp, ast.While)) else None
            if test is not None and "backend.backend()" in ast.unparse(test):
                branching.add(str(p.relative_to(PACKAGE)))
    assert branching <= allowed, branching - allowed


def test_no_module_uses_pyplot_or_selects_a_backend():
    """Figures are ``matplotlib.figure.Figure`` objects: no module imports pyplot or calls ``matplotlib.use``."""
    offenders = [str(p.relative_to(PACKAGE)) for p in _modules()
                 if any(n.startswith("matplotlib.pyplot") for n in _imports(p)) or "matplotlib.use(" in p.read_text()]
    assert offenders == []


def _run(code, **env):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("how", ["use", "env"])
def test_importing_and_plotting_keep_the_users_matplotlib_backend(tmp_path, how):
    """A user who selected a backend (``matplotlib.use`` or ``MPLBACKEND``) keeps it after ``import keras_ae`` and after
    keras_ae draws and saves figures. (``import keras`` itself loads pyplot, for keras.visualization; keras_ae's own
    modules never do: see test_no_module_uses_pyplot.)"""
    code = f"""
        import json, sys
        import matplotlib
        {'matplotlib.use("svg")' if how == "use" else ''}
        import numpy as np
        import keras_ae
        from keras_ae import plotting
        after_import = matplotlib.get_backend()
        fig = plotting.plot_samples(np.zeros((4, 8, 8, 1)), path={str(tmp_path / 'grid.png')!r})
        print(json.dumps({{"import": after_import, "plot": matplotlib.get_backend(), "figure": type(fig).__name__}}))
    """
    env = {"MPLBACKEND": "svg"} if how == "env" else {}
    report = _run(code, **env)
    assert report == {"import": "svg", "plot": "svg", "figure": "Figure"}
    assert (tmp_path / "grid.png").stat().st_size > 100


def test_old_module_paths_still_work_with_a_warning():
    code = """
        import json, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from keras_ae.plotting_gans import save_scatter
            from keras_ae.samplers import GaussianLatentSampler
            from keras_ae.zoo.unet import unet
            from keras_ae import plotting_ae
            import keras_ae
        model = keras_ae.zoo.unet(input_shape=(16, 16, 1), num_classes=2, depth=1, base_filters=2)
        print(json.dumps({"scatter": save_scatter.__name__, "sampler": GaussianLatentSampler.__module__,
                          "unet": type(model).__name__, "filters": plotting_ae.decoder_filters.__module__,
                          "warnings": sorted({str(w.message).split()[0] for w in caught
                                              if issubclass(w.category, FutureWarning)})}))
    """
    report = _run(code)
    assert report["scatter"] == "plot_ring"
    assert report["sampler"] == "keras_ae.models.autoencoder.autoencoder_sampler"
    assert report["unet"] == "UNet"
    assert report["filters"] == "keras_ae.models.autoencoder.autoencoder_plots"
    assert report["warnings"] == ["keras_ae.plotting_ae", "keras_ae.plotting_gans", "keras_ae.samplers",
                                  "keras_ae.zoo.unet"]


# ----- one name per concept: the 0.1 names warn and still work ---------------------------------------------------
def _warns(fn, *args, **kwargs):
    with pytest.warns(KerasAEDeprecationWarning):
        return fn(*args, **kwargs)


def test_renamed_constructor_arguments_warn_and_still_work():
    assert _warns(zoo.dense_gan, data_dim=2, latent_dim=2, hidden=(4,)).input_shape == (2,)
    assert _warns(zoo.dense_gan, d_steps=3, latent_dim=2, hidden=(4,)).n_critic == 3
    assert _warns(zoo.dense_denoising_ae, input_dim=3, latent_dim=2, hidden=(4,)).input_shape == (3,)
    assert _warns(zoo.realnvp_2d, dim=3, num_couplings=1, hidden=(4,)).input_shape == (3,)
    model = _warns(zoo.realnvp_image, image_shape=(4, 4, 1), num_scales=1, couplings=1, final_couplings=1,
                   hidden=(2,))
    assert model.input_shape == (4, 4, 1)
    assert _warns(getattr, model, "event_shape") == (4, 4, 1)
    assert _warns(getattr, model, "image_shape") == (4, 4, 1)


def test_renamed_class_arguments_warn_and_still_work():
    from keras_ae.layers.flows import AffineCoupling
    from keras_ae.models import GAN, WGANGP, Flow
    from keras_ae.models.gan.gan_networks import mlp_discriminator, mlp_generator

    def nets():
        return mlp_generator((2,), 2, (4,)), mlp_discriminator((2,), (4,))

    gan = _warns(GAN, *nets(), loss="minimax", d_steps=2)
    assert (gan.gan_loss, gan.n_critic) == ("minimax", 2)
    assert gan.loss is None  # keras.Model.loss is the compiled loss again, not the GAN's objective
    # WGANGP(g, d, d_steps=3) used to drop the argument silently and run 5 critic steps
    assert _warns(WGANGP, *nets(), d_steps=3).n_critic == 3
    flow = _warns(Flow, [AffineCoupling(hidden=(4,))], event_shape=(2,))
    assert flow.input_shape == (2,)


def test_saving_does_not_touch_deprecated_attributes(tmp_path):
    """Keras' saver visits every attribute in dir(model): the deprecated aliases are hidden from it (no warning)."""
    for name in ("realnvp_2d", "conv_vae"):
        model = zoo.create(name, **zoo.get_entry(name).test_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            model.save(tmp_path / f"{name}.keras")
        assert "image_shape" not in dir(model) and "input_shape" in dir(model)


@pytest.mark.parametrize("kwargs, match", [
    ({"gan_loss": "minimax"}, "Wasserstein"),
    ({"loss": "minimax"}, "Wasserstein"),
    ({"label_smoothing": 0.1}, "no labels to smooth"),
])
def test_wgangp_refuses_what_it_cannot_use(kwargs, match):
    from keras_ae.models import WGANGP
    from keras_ae.models.gan.gan_networks import mlp_discriminator, mlp_generator

    with pytest.raises(TypeError, match=match):
        WGANGP(mlp_generator((2,), 2, (4,)), mlp_discriminator((2,), (4,)), **kwargs)


def test_constructors_refuse_arguments_they_would_ignore():
    with pytest.raises(ValueError, match="needs the EMA codebook"):
        zoo.vq_vae(ema=False, dead_code_threshold=5.0)
    assert zoo.vq_vae(ema=False, **{k: v for k, v in zoo.get_entry("vq_vae").test_kwargs.items()}).quantizer \
        .dead_code_threshold == 0.0
    with pytest.raises(TypeError, match="latent_dim"):
        zoo.dense_gan(latent_dmi=3)  # a typo names the closest argument
    with pytest.raises(ValueError, match="model family"):
        zoo.list_models("nofamily")


# ----- files written by keras_ae 0.1 --------------------------------------------------------------------------------
FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "keras_ae_0.1.0"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()) if FIXTURES.exists() else [])
def test_models_saved_by_keras_ae_0_1_load_unchanged(name, tmp_path):
    """A model saved by keras_ae 0.1.0 (before the family layout and the renames) loads with safe_mode=True without a
    warning, gives the outputs it gave then, keeps its optimizer state and resumes training."""
    from keras_ae.testing import reload_check

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        report = reload_check(str(FIXTURES / name / "model.keras"), str(FIXTURES / name / "check.npz"), atol=1e-5)
    assert report["iterations_after"] > report["iterations_before"] >= 1


def test_every_zoo_model_has_a_0_1_fixture_or_is_new():
    """The fixtures cover the 22 models of keras_ae 0.1.0."""
    assert len(list(FIXTURES.iterdir())) == 22
    assert {p.name for p in FIXTURES.iterdir()} <= set(zoo.list_models())


def test_image_grid_has_one_meaning():
    from keras_ae import plotting

    grid = plotting.image_grid(np.ones((3, 4, 4, 1)), ncols=2, pad=1)
    assert grid.shape == (2 * 4 + 1, 2 * 4 + 1)
    assert grid[4, 0] == 1.0 and grid[5:, 5:].min() == 1.0  # padding and the empty tile are white
