"""Every flow layer: exact inverse, log-determinant equal to log|det J| by automatic differentiation,
config round trip, and clear errors for inputs it cannot split or reshape."""

import numpy as np
import pytest
import tensorflow as tf

import keras

from keras_ae.layers import flows as F

CASES = {
    "coupling_half": (lambda: F.AffineCoupling("half", hidden=(8,)), (5,)),
    "coupling_alternating": (lambda: F.AffineCoupling("alternating", parity=1, hidden=(8, 8)), (5,)),
    "coupling_checkerboard": (lambda: F.AffineCoupling("checkerboard", hidden=(4,)), (4, 4, 2)),
    "coupling_channel": (lambda: F.AffineCoupling("channel", parity=1, hidden=(4,)), (2, 4, 4)),
    "maf": (lambda: F.MaskedAutoregressive(hidden=(16, 16)), (4,)),
    "maf_reverse": (lambda: F.MaskedAutoregressive(hidden=(8,), reverse=True), (3,)),
    "linear_dense": (lambda: F.InvertibleLinear(seed=3), (4,)),
    "linear_1x1conv": (lambda: F.InvertibleLinear(seed=1), (2, 2, 3)),
    "actnorm": (lambda: F.ActNorm(), (3,)),
    "actnorm_image": (lambda: F.ActNorm(), (2, 2, 3)),
    "permute_reverse": (lambda: F.Permute("reverse"), (4,)),
    "permute_random": (lambda: F.Permute("random", seed=2), (2, 2, 5)),
    "leaky_relu": (lambda: F.LeakyReLUFlow(0.3), (4,)),
    "sigmoid": (lambda: F.SigmoidFlow(), (4,)),
    "squeeze": (lambda: F.Squeeze(), (4, 2, 2)),
    "factor_out": (lambda: F.FactorOut([F.AffineCoupling("checkerboard", hidden=(4,)), F.Squeeze(),
                                        F.AffineCoupling("channel", hidden=(4,))]), (4, 4, 2)),
}


def make(case, batch=3, seed=0):
    """Build the layer, randomise its weights (couplings start as the identity), and draw a latent batch."""
    factory, shape = CASES[case]
    layer = factory()
    layer.build((None,) + shape)
    rng = np.random.default_rng(seed)
    for v in layer.trainable_weights:
        v.assign(0.4 * rng.standard_normal(v.shape).astype("float32"))
    latent_shape = layer.inverse_shape((batch,) + shape)
    z = rng.standard_normal(latent_shape).astype("float32")
    return layer, z, shape


def _flat_jacobian(fn, inp):
    inp = tf.convert_to_tensor(inp)
    shape = inp.shape
    flat = tf.reshape(inp, (shape[0], -1))
    with tf.GradientTape() as tape:
        tape.watch(flat)
        out, _ = fn(tf.reshape(flat, shape))
        out = tf.reshape(out, (shape[0], -1))
    return tape.batch_jacobian(out, flat).numpy()


@pytest.mark.parametrize("case", sorted(CASES))
def test_inverse_of_forward_is_identity(case):
    layer, z, _ = make(case)
    x, ld_fwd = layer.forward(z)
    z_back, ld_inv = layer.inverse(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(z_back), z, atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ld_fwd), -keras.ops.convert_to_numpy(ld_inv), atol=1e-4)
    assert tuple(ld_fwd.shape) == (z.shape[0],) and keras.backend.standardize_dtype(ld_fwd.dtype) == "float32"
    x2, _ = layer.forward(layer.inverse(x)[0])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(x2), keras.ops.convert_to_numpy(x), atol=1e-4)
    assert tuple(x.shape) == tuple(layer.forward_shape(z.shape))


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_det_matches_autodiff_jacobian(case):
    layer, z, _ = make(case)
    if case == "sigmoid":
        z = np.clip(z, -3, 3)
    jac = _flat_jacobian(layer.forward, z)
    _, ld = layer.forward(z)
    expected = np.linalg.slogdet(jac.astype("float64"))[1]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ld), expected, atol=1e-3, rtol=1e-4)
    x = keras.ops.convert_to_numpy(layer.forward(z)[0])
    jac_inv = _flat_jacobian(layer.inverse, x)
    _, ld_inv = layer.inverse(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ld_inv), np.linalg.slogdet(jac_inv.astype("float64"))[1],
                               atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_gives_the_same_map(case):
    layer, z, shape = make(case)
    config = keras.saving.serialize_keras_object(layer)
    clone = keras.saving.deserialize_keras_object(config)
    if not clone.built:
        clone.build((None,) + shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone.forward(z)[0]),
                               keras.ops.convert_to_numpy(layer.forward(z)[0]), atol=1e-6)


def test_maf_is_autoregressive():
    layer, z, _ = make("maf")
    x = keras.ops.convert_to_numpy(layer.forward(z)[0])
    jac = _flat_jacobian(layer.inverse, x)[0]
    # z_i depends on x_j only for j <= i: a lower-triangular Jacobian
    assert np.allclose(np.triu(jac, 1), 0.0, atol=1e-7)
    assert np.abs(np.tril(jac, -1)).max() > 1e-3


def test_coupling_changes_only_the_masked_out_part():
    layer, z, _ = make("coupling_checkerboard")
    x = keras.ops.convert_to_numpy(layer.forward(z)[0])
    b = F.coupling_mask("checkerboard", (4, 4, 2))
    np.testing.assert_array_equal(x * b, z * b)
    assert np.abs((x - z) * (1 - b)).max() > 1e-3


def test_squeeze_moves_2x2_blocks_to_channels():
    layer = F.Squeeze()
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    layer.build(x.shape)
    z = keras.ops.convert_to_numpy(layer.inverse(x)[0])
    assert z.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(z[0, 0, 0], [0, 1, 4, 5])


def test_actnorm_data_initialisation_normalises_the_batch():
    layer = F.ActNorm()
    x = (3.0 + 2.0 * np.random.default_rng(0).standard_normal((256, 3))).astype("float32")
    layer.build(x.shape)
    z = keras.ops.convert_to_numpy(layer.data_initialize(x))
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1.0, atol=1e-3)
    assert layer.is_initialized


@pytest.mark.parametrize(
    "factory, shape, match",
    [
        (lambda: F.AffineCoupling("half"), (1,), "does not split"),
        (lambda: F.AffineCoupling("channel"), (4, 4, 1), "does not split"),
        (lambda: F.AffineCoupling("checkerboard"), (4,), "for images"),
        (lambda: F.AffineCoupling("half"), (4, 4, 2), "for vectors"),
        (lambda: F.MaskedAutoregressive(), (1,), "at least 2 dimensions"),
        (lambda: F.Squeeze(), (3, 4, 1), "even height and width"),
        (lambda: F.FactorOut([F.ActNorm()]), (4, 4, 1), "at least 2 channels"),
        (lambda: F.Permute([0, 0, 1]), (3,), "permutation"),
    ],
)
def test_clear_errors(factory, shape, match):
    with pytest.raises(ValueError, match=match):
        factory().build((None,) + shape)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="mask"):
        F.AffineCoupling("diagonal")
    with pytest.raises(ValueError, match="negative_slope"):
        F.LeakyReLUFlow(0.0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_functional_model_keeps_log_det(case, tmp_path):
    """``z, log_det = layer(keras.Input(...))``: both outputs are declared, survive saving, equal ``inverse``."""
    layer, z, shape = make(case)
    x = keras.ops.convert_to_numpy(layer.forward(z)[0])
    inputs = keras.Input(shape)
    latent, log_det = layer(inputs)
    assert tuple(latent.shape) == layer.inverse_shape((None,) + shape) and tuple(log_det.shape) == (None,)
    assert keras.backend.standardize_dtype(log_det.dtype) == "float32"
    model = keras.Model(inputs, {"z": latent, "log_det": log_det})
    model.save(tmp_path / "flow.keras")
    reloaded = keras.saving.load_model(tmp_path / "flow.keras", safe_mode=True)
    z_ref, ld_ref = (keras.ops.convert_to_numpy(t) for t in layer.inverse(x))
    for m in (model, reloaded):
        out = m.predict(x, verbose=0)
        np.testing.assert_allclose(out["z"], z_ref, atol=1e-5)
        np.testing.assert_allclose(out["log_det"], ld_ref, atol=1e-4)
