"""Planar, radial, invertible residual, rational-quadratic spline and IAF flow layers: exact inverses, log-determinants
against automatic differentiation, the residual block's estimator bias and variance against the exact log-determinant,
config round trips, a training step, clear errors, and a torch / JAX smoke run."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.layers import flows as F
from keras_ae.layers import flows_autoregressive as A
from keras_ae.layers import flows_residual as R
from keras_ae.layers import flows_spline as S
from keras_ae.models import Flow

CASES = {
    "planar": (lambda: R.PlanarFlow(), (3,)),
    "radial": (lambda: R.RadialFlow(), (3,)),
    "residual_exact": (lambda: R.InvertibleResidualBlock(hidden=(16,), estimator="exact", power_iterations=20), (2,)),
    "residual_exact_forward": (lambda: R.InvertibleResidualBlock(hidden=(8, 8), estimator="exact", explicit="forward",
                                                                 activation="elu", power_iterations=20), (3,)),
    "spline_half": (lambda: S.SplineCoupling("half", hidden=(8,), bins=5), (5,)),
    "spline_alternating": (lambda: S.SplineCoupling("alternating", parity=1, hidden=(8, 8), bins=2), (4,)),
    "spline_checkerboard": (lambda: S.SplineCoupling("checkerboard", hidden=(4,), bins=3), (4, 4, 2)),
    "spline_channel": (lambda: S.SplineCoupling("channel", parity=1, hidden=(4,), bins=4), (2, 2, 4)),
    "spline_dropout": (lambda: S.SplineCoupling("alternating", hidden=(16,), bins=6, dropout=0.3), (3,)),
    "mas": (lambda: S.MaskedAutoregressiveSpline(hidden=(16, 16), bins=6), (4,)),
    "mas_reverse": (lambda: S.MaskedAutoregressiveSpline(hidden=(8,), reverse=True, bins=3, bound=2.0), (3,)),
    "iaf": (lambda: A.InverseAutoregressive(hidden=(16,)), (4,)),
    "iaf_reverse": (lambda: A.InverseAutoregressive(hidden=(8, 8), reverse=True, gate_bias=0.0), (3,)),
}


def _np(t):
    return keras.ops.convert_to_numpy(t)


def make(case, batch=4, seed=0, scale=0.4):
    """Build the layer, randomise its weights (most start as the identity), and draw a latent batch."""
    factory, shape = CASES[case]
    layer = factory()
    layer.build((None,) + shape)
    rng = np.random.default_rng(seed)
    for v in layer.trainable_weights:
        v.assign(scale * rng.standard_normal(v.shape).astype("float32"))
    z = rng.standard_normal((batch,) + shape).astype("float32")
    return layer, z, shape


def _jacobian(fn, inp):
    """Per-example Jacobian ``(batch, n, n)`` of ``fn(inp)[0]`` (flattened) by ``tf.GradientTape.batch_jacobian``."""
    inp = tf.convert_to_tensor(inp)
    flat = tf.reshape(inp, (inp.shape[0], -1))
    with tf.GradientTape() as tape:
        tape.watch(flat)
        out = tf.reshape(fn(tf.reshape(flat, inp.shape))[0], (inp.shape[0], -1))
    return tape.batch_jacobian(out, flat).numpy().astype("float64")


def _round_trip_tolerance(layer):
    if isinstance(layer, R.InvertibleResidualBlock):  # the fixed-point tolerance stated in the docstring
        lip = layer.lipschitz_bound
        return lip * layer.tol / (1.0 - lip) + 2e-6
    return 1e-4


@pytest.mark.parametrize("case", sorted(CASES))
def test_inverse_of_forward_is_identity(case):
    layer, z, _ = make(case)
    x, ld_fwd = layer.forward(z)
    z_back, ld_inv = layer.inverse(x)
    tol = _round_trip_tolerance(layer)
    np.testing.assert_allclose(_np(z_back), z, atol=tol, rtol=0)
    np.testing.assert_allclose(_np(ld_fwd), -_np(ld_inv), atol=1e-4)
    assert tuple(ld_fwd.shape) == (z.shape[0],) and keras.backend.standardize_dtype(ld_fwd.dtype) == "float32"
    assert tuple(ld_inv.shape) == (z.shape[0],) and keras.backend.standardize_dtype(ld_inv.dtype) == "float32"
    x2, _ = layer.forward(layer.inverse(x)[0])
    np.testing.assert_allclose(_np(x2), _np(x), atol=tol, rtol=0)
    assert np.abs(_np(x) - z).max() > 1e-3  # the layer does something


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_det_matches_autodiff_jacobian(case):
    layer, z, _ = make(case)
    x, ld = layer.forward(z)
    x = _np(x)
    _, ld_inv = layer.inverse(x)
    expected_fwd = np.linalg.slogdet(_jacobian(layer.forward, z))[1] if solve_direction(layer) != "forward" else None
    expected_inv = np.linalg.slogdet(_jacobian(layer.inverse, x))[1] if solve_direction(layer) != "inverse" else None
    # the residual block's fixed-point solve is not differentiated: its log-det is checked through the explicit map
    if expected_fwd is None:
        expected_fwd = -expected_inv
    if expected_inv is None:
        expected_inv = -expected_fwd
    np.testing.assert_allclose(_np(ld), expected_fwd, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(_np(ld_inv), expected_inv, atol=1e-4, rtol=1e-4)


def solve_direction(layer):
    if isinstance(layer, R.InvertibleResidualBlock):
        return "forward" if layer.explicit == "inverse" else "inverse"
    return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_gives_the_same_map(case):
    layer, z, shape = make(case)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    if not clone.built:
        clone.build((None,) + shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone.forward(z)[0]), _np(layer.forward(z)[0]), atol=1e-6)
    np.testing.assert_allclose(_np(clone.inverse(z)[1]), _np(layer.inverse(z)[1]), atol=1e-6)


@pytest.mark.parametrize("case", sorted(set(CASES) - {"residual_exact_forward"}))
def test_one_training_step_in_a_flow(case):
    factory, shape = CASES[case]
    keras.utils.set_random_seed(0)
    flow = Flow([factory(), F.ActNorm()] if len(shape) == 1 else [factory()], input_shape=shape, seed=0)
    flow.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [_np(v).copy() for v in flow.trainable_weights]
    x = np.random.default_rng(1).standard_normal((32,) + shape).astype("float32")
    history = flow.fit(x, epochs=1, batch_size=16, verbose=0).history
    assert np.isfinite(history["nll"][0])
    changed = [not np.allclose(b, _np(v)) for b, v in zip(before, flow.trainable_weights)]
    assert all(changed), [v.path for v, c in zip(flow.trainable_weights, changed) if not c]
    assert np.isfinite(flow.log_prob(x)).all()


# ----- planar and radial --------------------------------------------------------------------------------------
def test_planar_constrains_u_instead_of_refusing_a_non_invertible_one():
    layer = R.PlanarFlow()
    layer.build((None, 2))
    layer.w.assign(np.array([2.0, 0.0], "float32"))
    layer.u.assign(np.array([-3.0, 1.0], "float32"))  # w.u = -6: the raw map would fold the plane
    layer.b.assign(np.array(0.5, "float32"))
    wu_hat = float(np.dot(_np(layer.w), _np(layer.u_hat())))
    assert wu_hat > -1.0
    np.testing.assert_allclose(wu_hat, -1.0 + np.log1p(np.exp(-6.0)), rtol=1e-5)
    # strictly increasing along w: the map is injective, and the root-finding inverse recovers every point
    line = np.stack([np.linspace(-4, 4, 401), np.zeros(401)], axis=1).astype("float32")
    x = _np(layer.forward(line)[0])
    assert np.all(np.diff(x[:, 0]) > 0)
    np.testing.assert_allclose(_np(layer.inverse(x)[0]), line, atol=1e-4)
    assert np.isfinite(_np(layer.forward(line)[1])).all()


def test_radial_keeps_beta_above_minus_alpha_and_inverts_in_closed_form():
    layer = R.RadialFlow()
    layer.build((None, 2))
    layer.beta_raw.assign(np.array(-30.0, "float32"))  # beta -> -alpha: the strongest contraction allowed
    alpha, beta = (float(_np(t)) for t in layer.alpha_beta())
    assert beta > -alpha
    z = np.random.default_rng(0).standard_normal((64, 2)).astype("float32") * 3
    x, ld = layer.forward(z)
    np.testing.assert_allclose(_np(layer.inverse(x)[0]), z, atol=1e-4)
    assert np.isfinite(_np(ld)).all()


# ----- invertible residual block --------------------------------------------------------------------------------
def _random_residual(dim=2, seed=0, **kwargs):
    kwargs.setdefault("hidden", (16,))
    block = R.InvertibleResidualBlock(power_iterations=30, **kwargs)
    block.build((None, dim))
    rng = np.random.default_rng(seed)
    for v in block.trainable_weights:
        v.assign(rng.standard_normal(v.shape).astype("float32"))  # large: the spectral normalization must bind
    return block


def test_spectral_normalization_bounds_every_kernel():
    block = _random_residual(lipschitz=0.7)
    for layer in block.net:
        sigma_raw = np.linalg.svd(_np(layer.kernel), compute_uv=False)[0]
        sigma = np.linalg.svd(_np(layer.normalized_kernel()), compute_uv=False)[0]
        assert sigma_raw > 1.0 and sigma <= 0.7 * (1 + 1e-4)
        np.testing.assert_allclose(sigma, 0.7, rtol=1e-3)  # binding: scaled down to the bound, not below
    # and therefore the whole residual map contracts: ||g(a) - g(b)|| <= L ||a - b||
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal((500, 2)).astype("float32") for _ in range(2))
    ratio = np.linalg.norm(_np(block.residual(a)) - _np(block.residual(b)), axis=1) / np.linalg.norm(a - b, axis=1)
    assert ratio.max() <= block.lipschitz_bound * (1 + 1e-4)


def test_spectral_normalization_updates_its_vector_only_in_training():
    block = _random_residual()
    block.net[0].u.assign(np.ones(16, "float32") / 4.0)
    u0 = _np(block.net[0].u).copy()
    x = np.zeros((3, 2), "float32")
    block.inverse(x)
    np.testing.assert_array_equal(_np(block.net[0].u), u0)
    block.inverse(x, training=True)
    assert not np.allclose(_np(block.net[0].u), u0)


def test_residual_probes_are_fixed_in_evaluation_and_fresh_in_training():
    block = _random_residual(seed=3)
    x = np.random.default_rng(0).standard_normal((8, 2)).astype("float32")
    ld_eval = [_np(block.inverse(x)[1]) for _ in range(2)]
    np.testing.assert_array_equal(ld_eval[0], ld_eval[1])
    ld_train = [_np(block.inverse(x, training=True)[1]) for _ in range(2)]
    assert not np.allclose(ld_train[0], ld_train[1])


@pytest.mark.parametrize("probe", ["rademacher", "normal"])
def test_series_estimator_bias_and_variance_match_the_stated_values(probe):
    """Against the exact log det(I + J) (autodiff Jacobian, 2-D): the probe mean is the truncated series
    ``tr(S_n)`` (unbiased trace estimate), within Behrmann's truncation bound of the exact value, and the probe
    variance is the stated ``2 ||sym S_n||_F^2`` (minus the diagonal for Rademacher)."""
    n_terms, probes = 2, 4000
    block = _random_residual(seed=2, estimator="series", n_terms=n_terms, probe=probe, lipschitz=0.95,
                             hidden=(32,))
    points = np.array([[0.3, -0.5], [1.5, 0.2], [-1.0, 1.0]], "float32")
    jac = _jacobian(lambda t: (block.residual(t),), points)
    for p, j in zip(points, jac):
        exact = np.linalg.slogdet(np.eye(2) + j)[1]
        s_n = sum((-1.0) ** (k + 1) / k * np.linalg.matrix_power(j, k) for k in range(1, n_terms + 1))
        mean, sym = np.trace(s_n), 0.5 * (s_n + s_n.T)
        var = 2.0 * (np.sum(sym ** 2) - (np.sum(np.diag(sym) ** 2) if probe == "rademacher" else 0.0))
        lip = block.lipschitz_bound
        bound = -2 * (np.log(1 - lip) + sum(lip ** k / k for k in range(1, n_terms + 1)))
        assert abs(mean - exact) <= bound
        assert abs(mean - exact) > 1e-4  # the truncation is visible at 2 terms: the comparison has teeth
        est = _np(block.inverse(np.repeat(p[None], probes, axis=0))[1]).astype("float64")
        se = np.sqrt(var / probes)
        assert abs(est.mean() - mean) <= 4 * se + 1e-5, (est.mean(), mean, se)
        np.testing.assert_allclose(est.var(), var, rtol=0.15, atol=1e-6)
    # with enough terms the series estimator is unbiased within its error on the exact log-determinant
    block.n_terms = 40
    est = _np(block.inverse(np.repeat(points[:1], probes, axis=0))[1]).astype("float64")
    exact = np.linalg.slogdet(np.eye(2) + jac[0])[1]
    assert abs(est.mean() - exact) <= 4 * est.std() / np.sqrt(probes) + 1e-4


def test_residual_block_with_an_explicit_forward_trains_through_sampling():
    """``explicit="forward"`` (a posterior-style flow): one reverse-KL step to N(0, I) through the explicit map
    moves every weight; the same block in a density ``Flow`` would only see its fixed-point solve."""
    factory, shape = CASES["residual_exact_forward"]
    block = factory()
    block.build((None,) + shape)
    z = np.random.default_rng(0).standard_normal((64,) + shape).astype("float32")
    before = [_np(v).copy() for v in block.trainable_weights]
    opt = keras.optimizers.Adam(1e-2)
    with tf.GradientTape() as tape:
        x, ld = block.forward(z, training=True)
        loss = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(x - 2.0), axis=1) - ld)
    grads = tape.gradient(loss, block.trainable_weights)
    assert all(g is not None and np.isfinite(_np(g)).all() for g in grads)
    opt.apply_gradients(zip(grads, block.trainable_weights))
    assert all(not np.allclose(b, _np(v)) for b, v in zip(before, block.trainable_weights))


def test_exact_estimator_and_fixed_point_solve_of_a_deep_residual_map():
    block = _random_residual(dim=3, seed=4, estimator="exact", hidden=(32, 32), lipschitz=0.97)
    z = np.random.default_rng(0).standard_normal((16, 3)).astype("float32") * 2
    x, ld = block.forward(z)  # the fixed-point direction
    y, _ = block.inverse(x)
    tol = block.lipschitz_bound * block.tol / (1 - block.lipschitz_bound) + 2e-6
    np.testing.assert_allclose(_np(y), z, atol=tol, rtol=0)
    np.testing.assert_allclose(_np(ld), -np.linalg.slogdet(_jacobian(block.inverse, _np(x)))[1], atol=1e-4)


def test_training_flag_of_a_flow_call_reaches_dropout_probes_and_power_iteration():
    """``Flow.fit`` on TensorFlow and torch calls the model with ``training=True``; Keras hands that flag to the
    sub-layers (dropout, probe noise, spectral normalization) unless a layer overrides it on the way."""
    keras.utils.set_random_seed(0)
    block = _random_residual(seed=6)
    flow = Flow([S.SplineCoupling("half", hidden=(16,), bins=4, dropout=0.5), block], input_shape=(2,), seed=0)
    for v in flow.flows[0].trainable_weights:
        v.assign(np.random.default_rng(1).standard_normal(v.shape).astype("float32"))
    block.net[0].u.assign(np.ones(16, "float32") / 4.0)
    u0 = _np(block.net[0].u).copy()
    x = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    np.testing.assert_array_equal(_np(flow(x, training=False)), _np(flow(x, training=False)))
    np.testing.assert_array_equal(_np(block.net[0].u), u0)
    assert not np.allclose(_np(flow(x, training=True)), _np(flow(x, training=True)))
    assert not np.allclose(_np(block.net[0].u), u0)
    for layer in (flow.flows[0], block):  # each stochastic part on its own
        calls = [_np(layer.inverse(x, training=True)[1]) for _ in range(2)]
        assert not np.allclose(*calls)


def test_chain_inverse_passes_training_only_to_layers_that_take_it():
    block = _random_residual(seed=5)
    flows = [F.ActNorm(), block]
    F.build_chain(flows, (None, 2))
    x = np.random.default_rng(0).standard_normal((8, 2)).astype("float32")
    a, b = (_np(F.chain_inverse(flows, x, training=True)[1]) for _ in range(2))
    assert not np.allclose(a, b)
    c, d = (_np(F.chain_inverse(flows, x)[1]) for _ in range(2))
    np.testing.assert_array_equal(c, d)


# ----- splines -------------------------------------------------------------------------------------------------
def test_spline_function_is_monotonic_exactly_invertible_and_linear_outside_the_bound():
    rng = np.random.default_rng(0)
    n, bins = 2001, 7
    x = np.linspace(-5, 5, n).astype("float32")
    params = [np.repeat(rng.standard_normal((1, k)).astype("float32"), n, 0) for k in (bins, bins, bins - 1)]
    y, ld = S.rational_quadratic_spline(x, *params, bound=3.0)
    y, ld = _np(y), _np(ld)
    assert np.all(np.diff(y) > 0)
    outside = np.abs(x) > 3.0
    np.testing.assert_array_equal(y[outside], x[outside])
    np.testing.assert_array_equal(ld[outside], 0.0)
    np.testing.assert_allclose(y[[0, -1]], [-5, 5])
    back, ld_back = S.rational_quadratic_spline(y, *params, inverse=True, bound=3.0)
    np.testing.assert_allclose(_np(back), x, atol=1e-4)
    np.testing.assert_allclose(_np(ld_back), -ld, atol=1e-4)
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt, _ = S.rational_quadratic_spline(xt, *params, bound=3.0)
    np.testing.assert_allclose(ld, np.log(tape.gradient(yt, xt).numpy()), atol=1e-4)
    zero = [np.zeros_like(p) for p in params]
    np.testing.assert_allclose(_np(S.rational_quadratic_spline(x, *zero)[0]), x, atol=1e-5)


def test_coupling_dropout_acts_in_training_only():
    layer = S.SplineCoupling("half", hidden=(32,), bins=4, dropout=0.5)
    layer.build((None, 2))
    assert layer.takes_training and not S.SplineCoupling().takes_training
    rng = np.random.default_rng(0)
    for v in layer.trainable_weights:
        v.assign(rng.standard_normal(v.shape).astype("float32"))
    x = rng.standard_normal((16, 2)).astype("float32")
    np.testing.assert_array_equal(_np(layer.inverse(x)[1]), _np(layer.inverse(x, training=False)[1]))
    assert not np.allclose(_np(layer.inverse(x, training=True)[1]), _np(layer.inverse(x, training=True)[1]))
    assert S.SplineCoupling.from_config(layer.get_config()).dropout == 0.5
    with pytest.raises(ValueError, match=r"`dropout` must lie in \[0, 1\); received 1.0"):
        S.SplineCoupling(dropout=1.0)


def test_autoregressive_layers_have_triangular_jacobians():
    layer, z, _ = make("mas")
    x = _np(layer.forward(z)[0])
    jac = _jacobian(layer.inverse, x)[0]
    assert np.allclose(np.triu(jac, 1), 0.0, atol=1e-7) and np.abs(np.tril(jac, -1)).max() > 1e-3
    layer, z, _ = make("iaf")
    jac = _jacobian(layer.forward, z)[0]
    assert np.allclose(np.triu(jac, 1), 0.0, atol=1e-7) and np.abs(np.tril(jac, -1)).max() > 1e-3


def test_iaf_with_context_trains_and_inverts():
    layer = A.InverseAutoregressive(hidden=(16,), context_dim=3)
    layer.build((None, 4))
    rng = np.random.default_rng(0)
    z = rng.standard_normal((32, 4)).astype("float32")
    h = rng.standard_normal((32, 3)).astype("float32")
    opt = keras.optimizers.Adam(1e-2)
    before = [_np(v).copy() for v in layer.trainable_weights]
    for _ in range(2):  # the last MADE layer starts at zero: the first step moves only it
        with tf.GradientTape() as tape:
            x, ld = layer.forward(z, context=h)
            loss = tf.reduce_mean(tf.reduce_sum(tf.square(x - 1.0), axis=1) - ld)
        opt.apply_gradients(zip(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights))
    assert all(not np.allclose(b, _np(v)) for b, v in zip(before, layer.trainable_weights))
    x, ld = layer.forward(z, context=h)
    z_back, ld_back = layer.inverse(x, context=h)
    np.testing.assert_allclose(_np(z_back), z, atol=1e-4)
    np.testing.assert_allclose(_np(ld_back), -_np(ld), atol=1e-5)
    assert not np.allclose(_np(layer.forward(z, context=-h)[0]), _np(x))  # the context matters
    clone = A.InverseAutoregressive.from_config(layer.get_config())
    assert clone.context_dim == 3


# ----- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: S.SplineCoupling(bins=1), r"`bins` must be an integer >= 2; received 1"),
        (lambda: S.MaskedAutoregressiveSpline(bins=0), r"`bins` must be an integer >= 2; received 0"),
        (lambda: S.SplineCoupling(bound=0.0), r"`bound` must be a finite number > 0.*received 0.0"),
        (lambda: S.SplineCoupling(mask="diagonal"), r"`mask` must be one of"),
        (lambda: R.InvertibleResidualBlock(lipschitz=1.0), r"`lipschitz` must lie strictly between 0 and 1.*1.0"),
        (lambda: R.InvertibleResidualBlock(lipschitz=0), r"`lipschitz` must lie strictly between 0 and 1.*received 0"),
        (lambda: R.InvertibleResidualBlock(lipschitz=1.5), r"`lipschitz` must lie strictly between 0 and 1"),
        (lambda: R.InvertibleResidualBlock(lipschitz="high"), r"`lipschitz` must be a number in \(0, 1\)"),
        (lambda: R.SpectralNormDense(4, lipschitz=-0.5), r"`lipschitz` must lie strictly between 0 and 1"),
        (lambda: R.InvertibleResidualBlock(activation="sigmoid"), r"`activation` must be one of 'lipswish'"),
        (lambda: R.InvertibleResidualBlock(estimator="roulette"), r"`estimator` must be one of 'series', 'exact'"),
        (lambda: R.InvertibleResidualBlock(n_terms=0), r"`n_terms` must be an integer >= 1"),
        (lambda: R.InvertibleResidualBlock(tol=0), r"`tol` must be a number > 0"),
        (lambda: R.InvertibleResidualBlock(explicit="both"), r"`explicit` must be one of 'inverse', 'forward'"),
        (lambda: R.PlanarFlow(bisection_steps=0), r"`bisection_steps` must be an integer >= 1"),
        (lambda: A.InverseAutoregressive(context_dim=0), r"`context_dim` must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_refused_with_the_argument_named(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


@pytest.mark.parametrize(
    "factory, shape, match",
    [
        (lambda: R.PlanarFlow(), (4, 4, 1), "rank 2"),
        (lambda: R.RadialFlow(), (4, 4, 1), "rank 2"),
        (lambda: R.InvertibleResidualBlock(), (2, 2, 3), "rank 2"),
        (lambda: S.SplineCoupling("half"), (1,), "does not split"),
        (lambda: S.SplineCoupling("checkerboard"), (4,), "for images"),
        (lambda: S.MaskedAutoregressiveSpline(), (1,), "at least 2 dimensions"),
        (lambda: A.InverseAutoregressive(), (1,), "at least 2 dimensions"),
    ],
)
def test_shapes_a_layer_cannot_take_are_refused(factory, shape, match):
    with pytest.raises(ValueError, match=match):
        factory().build((None,) + shape)


def test_iaf_context_errors():
    with_context = A.InverseAutoregressive(hidden=(4,), context_dim=2)
    with_context.build((None, 3))
    z = np.zeros((2, 3), "float32")
    with pytest.raises(ValueError, match=r"context_dim=2: pass `context` of shape \(batch, 2\)"):
        with_context.forward(z)
    with pytest.raises(ValueError, match=r"`context` must have shape \(batch, 2\); received \(2, 5\)"):
        with_context.forward(z, context=np.zeros((2, 5), "float32"))
    plain = A.InverseAutoregressive(hidden=(4,))
    plain.build((None, 3))
    with pytest.raises(ValueError, match="built without a context"):
        plain.inverse(z, context=np.zeros((2, 2), "float32"))


def test_bad_spline_parameters_are_refused():
    x = np.zeros((3,), "float32")
    with pytest.raises(ValueError, match="needs `bins` >= 2"):
        S.rational_quadratic_spline(x, np.zeros((3, 1)), np.zeros((3, 1)), np.zeros((3, 0)))
    with pytest.raises(ValueError, match="do not match"):
        S.rational_quadratic_spline(x, np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)))


def test_saved_flow_with_every_new_layer_reloads_safely(tmp_path):
    keras.utils.set_random_seed(0)
    layers = [S.SplineCoupling("half", hidden=(8,), bins=4), S.MaskedAutoregressiveSpline(hidden=(8,), reverse=True),
              R.InvertibleResidualBlock(hidden=(8,), n_terms=3), R.PlanarFlow(), R.RadialFlow(),
              A.InverseAutoregressive(hidden=(8,))]
    flow = Flow(layers, input_shape=(2,), seed=0)
    flow.compile(optimizer="adam")
    x = np.random.default_rng(0).standard_normal((32, 2)).astype("float32")
    flow.fit(x, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "flow.keras")
    flow.save(path)
    again = keras_ae.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(again.log_prob(x), flow.log_prob(x))
    np.testing.assert_allclose(again.sample(8, seed=1), flow.sample(8, seed=1), atol=1e-6)


# ----- other backends --------------------------------------------------------------------------------------------
_BACKEND_SCRIPT = textwrap.dedent(
    """
    import json, numpy as np, keras, keras_ae
    from keras_ae.layers import (InverseAutoregressive, InvertibleResidualBlock, MaskedAutoregressiveSpline,
                                 PlanarFlow, RadialFlow, SplineCoupling)
    from keras_ae.models import Flow
    c = keras.ops.convert_to_numpy
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((8, 2)).astype("float32")
    report = {"backend": keras.backend.backend(), "round_trip": {}}
    for layer in [SplineCoupling("half", hidden=(8,), bins=4), MaskedAutoregressiveSpline(hidden=(8,)),
                  InvertibleResidualBlock(hidden=(8,), estimator="exact", power_iterations=20), PlanarFlow(),
                  RadialFlow(), InverseAutoregressive(hidden=(8,))]:
        layer.build((None, 2))
        for v in layer.trainable_weights:
            v.assign(0.4 * rng.standard_normal(v.shape).astype("float32"))
        x, ld = layer.forward(z)
        zb, ldb = layer.inverse(x)
        report["round_trip"][type(layer).__name__] = [float(np.abs(c(zb) - z).max()), float(np.abs(c(ld) + c(ldb)).max())]
    block = InvertibleResidualBlock(hidden=(8,), n_terms=3)
    block.build((None, 2))
    for v in block.trainable_weights:  # u is then no longer the top singular vector: training must refine it
        v.assign(rng.standard_normal(v.shape).astype("float32"))
    u0 = c(block.net[0].u).copy()
    a, b = (c(block.inverse(z, training=True)[1]) for _ in range(2))
    report["training_probes_differ"] = bool(not np.allclose(a, b))
    report["u_updated"] = bool(not np.allclose(u0, c(block.net[0].u)))
    flow = Flow([SplineCoupling("half", hidden=(8,), bins=4), InvertibleResidualBlock(hidden=(8,), n_terms=3),
                 MaskedAutoregressiveSpline(hidden=(8,), reverse=True), PlanarFlow(), InverseAutoregressive(hidden=(8,))],
                input_shape=(2,), seed=0)
    flow.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [c(v).copy() for v in flow.trainable_weights]
    data = rng.standard_normal((32, 2)).astype("float32")
    hist = flow.fit(data, epochs=2, batch_size=16, verbose=0).history
    report["nll"] = hist["nll"]
    report["all_weights_changed"] = all(not np.allclose(b, c(v)) for b, v in zip(before, flow.trainable_weights))
    flow.save("/tmp/_keras_ae_new_flows_%s.keras" % keras.backend.backend())
    again = keras_ae.load_model("/tmp/_keras_ae_new_flows_%s.keras" % keras.backend.backend(), safe_mode=True)
    report["reload_diff"] = float(np.abs(again.log_prob(data) - flow.log_prob(data)).max())
    print(json.dumps(report))
    """
)


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_new_flow_layers_on_other_backends(backend, tmp_path):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    script = _BACKEND_SCRIPT.replace("/tmp/", str(tmp_path) + "/")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    for name, (err, ld_err) in report["round_trip"].items():
        assert err < 1e-4 and ld_err < 1e-4, (name, err, ld_err)
    assert report["training_probes_differ"] and report["u_updated"]
    assert np.isfinite(report["nll"]).all() and report["all_weights_changed"]
    assert report["reload_diff"] == 0.0
