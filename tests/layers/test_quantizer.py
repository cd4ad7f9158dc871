"""VectorQuantizer: nearest code, straight-through gradient, losses, EMA updates, dead-code re-init, saving."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers.quantizer import VectorQuantizer, codebook_statistics


def _layer(**kw):
    kw.setdefault("seed", 0)
    layer = VectorQuantizer(kw.pop("num_embeddings", 6), kw.pop("embedding_dim", 3), **kw)
    layer.build((None, 4, 4, 3))
    return layer


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_nearest_code_and_straight_through_values():
    layer = _layer()
    codebook = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    layer.embeddings.assign(codebook)
    z = np.random.default_rng(1).normal(size=(2, 4, 4, 3)).astype("float32")
    out, idx = layer(z, training=False, return_indices=True)
    out, idx = _np(out), _np(idx)
    d = ((z[..., None, :] - codebook) ** 2).sum(-1)
    np.testing.assert_array_equal(idx, d.argmin(-1))
    assert idx.shape == (2, 4, 4) and idx.dtype == np.int32
    np.testing.assert_allclose(out, codebook[idx], atol=1e-5)
    assert layer.compute_output_shape((2, 4, 4, 3)) == (2, 4, 4, 3)
    assert layer.compute_output_shape((2, 4, 4, 3), return_indices=True) == ((2, 4, 4, 3), (2, 4, 4))


def test_functional_model_keeps_the_indices():
    """``z, indices = layer(keras.Input(...), return_indices=True)`` declares both outputs and their dtypes."""
    layer = _layer()
    inputs = keras.Input((4, 4, 3))
    quantized, indices = layer(inputs, return_indices=True)
    assert (tuple(quantized.shape), tuple(indices.shape)) == ((None, 4, 4, 3), (None, 4, 4))
    assert (quantized.dtype, indices.dtype) == ("float32", "int32")
    model = keras.Model(inputs, [quantized, indices])
    z = np.random.default_rng(1).normal(size=(2, 4, 4, 3)).astype("float32")
    out, idx = model.predict(z, verbose=0)
    out_ref, idx_ref = layer(z, return_indices=True)
    np.testing.assert_array_equal(idx, _np(idx_ref))
    np.testing.assert_allclose(out, _np(out_ref), atol=1e-6)


@pytest.mark.parametrize("ema", [False, True])
def test_added_loss_is_codebook_plus_beta_commitment(ema):
    layer = _layer(beta=0.5, ema=ema)
    z = np.random.default_rng(2).normal(size=(5, 4, 4, 3)).astype("float32")
    out = _np(layer(z, training=False))
    per_example = ((z - out) ** 2).reshape(5, -1).sum(1).mean()
    expected = 0.5 * per_example + (0.0 if ema else per_example)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(_np(layer.losses[0])), expected, rtol=1e-5)


def test_straight_through_estimator_trains_the_encoder():
    # beta=0 and an EMA codebook: the only gradient reaching the encoder is the straight-through one.
    keras.utils.set_random_seed(0)
    x = keras.Input((4,))
    h = keras.layers.Dense(3, name="enc")(x)
    h = keras.layers.Reshape((1, 3))(h)
    q = VectorQuantizer(4, 3, beta=0.0, ema=True, seed=0)(h)
    y = keras.layers.Dense(1, name="dec")(keras.layers.Flatten()(q))
    model = keras.Model(x, y)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = _np(model.get_layer("enc").kernel).copy()
    data = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model.fit(data, data[:, :1] * 3.0, epochs=1, batch_size=32, verbose=0)
    assert not np.allclose(before, _np(model.get_layer("enc").kernel))


def test_gradient_codebook_is_trainable_and_ema_codebook_is_not():
    plain, ema = _layer(ema=False), _layer(ema=True)
    assert [v.name for v in plain.trainable_variables] == ["embeddings"]
    assert ema.trainable_variables == []
    assert {v.name for v in ema.non_trainable_variables} >= {"embeddings", "ema_cluster_size", "ema_embed_sum"}


def test_ema_update_moves_codes_to_cluster_means_only_when_training():
    layer = _layer(ema=True, decay=0.0, dead_code_threshold=0.0, epsilon=1e-8)
    z = np.random.default_rng(3).normal(size=(4, 4, 4, 3)).astype("float32")
    before = layer.codebook().copy()
    layer(z, training=False)
    np.testing.assert_array_equal(layer.codebook(), before)  # inference never updates
    _, idx = layer(z, training=True, return_indices=True)
    idx = _np(idx).reshape(-1)
    flat = z.reshape(-1, 3)
    after = layer.codebook()
    for k in np.unique(idx):  # with decay 0 each used code becomes the mean of its assigned inputs
        np.testing.assert_allclose(after[k], flat[idx == k].mean(0), atol=1e-4)
    counts = np.bincount(idx, minlength=6)
    np.testing.assert_allclose(_np(layer.ema_cluster_size), counts, atol=1e-5)


def test_dead_codes_are_reinitialised_to_encoder_outputs():
    layer = _layer(num_embeddings=8, ema=True, dead_code_threshold=1.0)
    layer.embeddings.assign(np.concatenate([np.zeros((1, 3)), np.full((7, 3), 100.0)]).astype("float32"))
    z = np.random.default_rng(4).normal(size=(2, 4, 4, 3)).astype("float32")  # all nearest to code 0
    layer(z, training=True)
    after = layer.codebook()
    flat = z.reshape(-1, 3)
    for k in range(1, 8):  # unused codes (cluster size 0.99 < 1) now sit on some encoder output
        assert np.min(np.abs(flat - after[k]).max(-1)) < 1e-5, k
    assert np.all(_np(layer.ema_cluster_size)[1:] == pytest.approx(1.0))


def test_codebook_statistics():
    p, share = codebook_statistics(np.arange(8).reshape(2, 4), 8)
    assert float(_np(p)) == pytest.approx(8.0, rel=1e-5) and float(_np(share)) == 1.0
    p, share = codebook_statistics(np.zeros((3, 5), "int32"), 8)
    assert float(_np(p)) == pytest.approx(1.0) and float(_np(share)) == pytest.approx(1 / 8)


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="embedding_dim=3.*5 channels"):
        VectorQuantizer(4, 3)(np.zeros((1, 2, 2, 5), "float32"))
    with pytest.raises(ValueError, match="needs `ema=True`"):
        VectorQuantizer(4, 3, ema=False, dead_code_threshold=1.0)
    with pytest.raises(ValueError, match="decay"):
        VectorQuantizer(4, 3, ema=True, decay=1.0)
    with pytest.raises(ValueError, match="num_embeddings"):
        VectorQuantizer(1, 3)


def test_config_round_trip_and_saved_ema_statistics(tmp_path):
    layer = VectorQuantizer(6, 3, beta=0.3, ema=True, decay=0.9, dead_code_threshold=0.5, seed=3, name="vq")
    again = VectorQuantizer.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    x = keras.Input((4, 4, 3))
    model = keras.Model(x, layer(x))
    layer(np.random.default_rng(5).normal(size=(8, 4, 4, 3)).astype("float32"), training=True)
    path = str(tmp_path / "vq.keras")
    model.save(path)
    loaded = keras_ae.load_model(path, safe_mode=True).get_layer("vq")
    for name in ("embeddings", "ema_cluster_size", "ema_embed_sum"):
        np.testing.assert_array_equal(_np(getattr(loaded, name)), _np(getattr(layer, name)))


_BACKEND_SCRIPT = textwrap.dedent(
    """
    import json, numpy as np, keras
    from keras_ae.layers.quantizer import VectorQuantizer
    keras.utils.set_random_seed(0)
    x = keras.Input((2, 2, 3))
    vq = VectorQuantizer(4, 3, ema=True, dead_code_threshold=1.0, seed=0, name="vq")
    model = keras.Model(x, keras.layers.Conv2D(3, 1)(vq(keras.layers.Conv2D(3, 1)(x))))
    model.compile(optimizer="adam", loss="mse")
    before = [keras.ops.convert_to_numpy(v).copy() for v in (vq.ema_cluster_size, vq.embeddings)]
    data = np.random.default_rng(0).normal(size=(16, 2, 2, 3)).astype("float32")
    model.fit(data, data, epochs=1, batch_size=8, verbose=0)
    after = [keras.ops.convert_to_numpy(v) for v in (vq.ema_cluster_size, vq.embeddings)]
    print(json.dumps({"backend": keras.backend.backend(),
                      "changed": [bool(not np.allclose(a, b)) for a, b in zip(before, after)],
                      "total": float(after[0].sum())}))
    """
)


@pytest.mark.slow  # two fresh interpreters importing JAX / torch: ~20 s each idle, minutes on a loaded machine
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_ema_updates_happen_inside_fit_on_other_backends(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _BACKEND_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    assert report["changed"] == [True, True]
    assert np.isfinite(report["total"])
