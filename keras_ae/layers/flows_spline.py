"""Monotonic rational-quadratic spline flows (Durkan et al. 2019, "Neural Spline Flows").

An elementwise, strictly increasing map built from ``bins`` rational-quadratic pieces on ``[-bound, bound]``
and the identity (linear tails of slope 1) outside it. Each piece is ``alpha(xi) / beta(xi)`` of two quadratics
(Gregory & Delbourgo 1982), fixed by the knot positions ``(x_k, y_k)`` and the derivatives ``d_k`` at the knots:

    xi = (x - x_k) / w_k,   s_k = h_k / w_k,
    y = y_k + h_k (s_k xi^2 + d_k xi (1 - xi)) / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi)),
    dy/dx = s_k^2 (d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2) / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi))^2.

Its inverse is exact: ``xi`` is the root in [0, 1] of a quadratic (Durkan et al., eq. 6-8), computed in the
cancellation-free form ``xi = 2c / (-b - sqrt(b^2 - 4ac))``. Bin widths and heights are softmaxes (each at least
``MIN_BIN_SIZE`` of the interval), interior derivatives ``MIN_DERIVATIVE + softplus``; the two boundary derivatives
are 1 so the spline joins its linear tails smoothly. Zero parameters give the identity.

Layers (same contract as :mod:`keras_ae.layers.flows`: ``inverse`` is the normalizing direction):

* :class:`SplineCoupling`: masks and conditioner of :class:`~keras_ae.layers.flows.CouplingLayer`; the
  masked-out part goes through splines whose parameters come from the passed-through part.
* :class:`MaskedAutoregressiveSpline`: the MADE network of :class:`~keras_ae.layers.flows.AutoregressiveLayer`
  gives the spline of dimension ``i`` from the dimensions before it.

Both apply the spline itself in the normalizing direction (``inverse``, one pass: what training uses) and the
quadratic root in the generative one (``forward``; ``dim`` passes for the autoregressive layer).
"""

__all__ = ["rational_quadratic_spline", "SplineCoupling", "MaskedAutoregressiveSpline"]

import math

from keras import ops

from keras_ae.errors import InvalidArgumentError, check_positive_int
from keras_ae.layers.flows import AutoregressiveLayer, CouplingLayer, sum_except_batch
from keras_ae.serialization import register_serializable

MIN_BIN_SIZE = 1e-3
MIN_DERIVATIVE = 1e-3
# softplus(raw + _DERIVATIVE_OFFSET) + MIN_DERIVATIVE == 1 at raw == 0: zero parameters give the identity
_DERIVATIVE_OFFSET = math.log(math.expm1(1.0 - MIN_DERIVATIVE))


def _check_spline_args(bins, bound):
    bins = check_positive_int("bins", bins, minimum=2)
    try:
        bound = float(bound)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`bound` must be a number > 0 (the spline interval is [-bound, bound]); "
                         f"received {bound!r}.") from None
    if not (bound > 0 and math.isfinite(bound)):
        raise InvalidArgumentError(f"`bound` must be a finite number > 0 (the spline interval is [-bound, bound]); "
                         f"received {bound!r}.")
    return bins, bound


def _knots(raw, bound):
    """Bin sizes from unnormalized ``raw (..., K)``: knots ``(..., K+1)`` from -bound to bound, and sizes."""
    k = raw.shape[-1]
    frac = MIN_BIN_SIZE + (1.0 - MIN_BIN_SIZE * k) * ops.softmax(raw, axis=-1)
    inner = -bound + 2.0 * bound * ops.cumsum(frac, axis=-1)[..., :-1]
    ends = ops.ones_like(raw[..., :1]) * bound
    knots = ops.concatenate([-ends, inner, ends], axis=-1)
    return knots, knots[..., 1:] - knots[..., :-1]


def _pick(t, onehot):
    return ops.sum(t * onehot, axis=-1)


def rational_quadratic_spline(inputs, widths, heights, derivatives, inverse=False, bound=3.0):
    """Elementwise monotonic rational-quadratic spline with linear tails (Durkan et al. 2019).

    Args:
        inputs: tensor of any shape ``S``.
        widths: unnormalized bin widths, shape ``S + (bins,)`` (softmax over the last axis).
        heights: unnormalized bin heights, shape ``S + (bins,)``.
        derivatives: unnormalized derivatives at the ``bins - 1`` interior knots, shape ``S + (bins - 1,)``.
        inverse: ``False`` for ``y = spline(inputs)``, ``True`` for ``x = spline^{-1}(inputs)`` (exact root).
        bound: the spline acts on ``[-bound, bound]``; outside it the map is the identity.

    Returns:
        ``(outputs, log_abs_det)``, both of shape ``S``: the transformed values and ``log|d outputs / d inputs|``
        elementwise (float32).
    """
    bins = widths.shape[-1]
    if bins is not None and bins < 2:
        raise InvalidArgumentError(f"A rational-quadratic spline needs `bins` >= 2; received widths with {bins} bin(s).")
    if heights.shape[-1] != bins or derivatives.shape[-1] != bins - 1:
        raise InvalidArgumentError(f"Spline parameters do not match: widths {tuple(widths.shape)}, heights "
                         f"{tuple(heights.shape)} (same last axis), derivatives {tuple(derivatives.shape)} "
                         f"(one fewer on the last axis).")
    dtype = "float32"
    x = ops.cast(inputs, dtype)
    inside = ops.logical_and(x >= -bound, x <= bound)
    xc = ops.clip(x, -bound, bound)

    knots_x, w = _knots(ops.cast(widths, dtype), bound)
    knots_y, h = _knots(ops.cast(heights, dtype), bound)
    d_inner = MIN_DERIVATIVE + ops.softplus(ops.cast(derivatives, dtype) + _DERIVATIVE_OFFSET)
    one = ops.ones_like(d_inner[..., :1])
    d = ops.concatenate([one, d_inner, one], axis=-1)

    knots_in = knots_y if inverse else knots_x
    # the bin: how many interior knots lie at or below the input (0 .. bins-1)
    idx = ops.sum(ops.cast(xc[..., None] >= knots_in[..., 1:-1], "int32"), axis=-1)
    onehot = ops.one_hot(idx, bins, dtype=dtype)
    x_k, w_k = _pick(knots_x[..., :-1], onehot), _pick(w, onehot)
    y_k, h_k = _pick(knots_y[..., :-1], onehot), _pick(h, onehot)
    d_k, d_k1 = _pick(d[..., :-1], onehot), _pick(d[..., 1:], onehot)
    s_k = h_k / w_k
    curve = d_k1 + d_k - 2.0 * s_k

    if inverse:
        dy = xc - y_k
        a = h_k * (s_k - d_k) + dy * curve
        b = h_k * d_k - dy * curve
        c = -s_k * dy
        disc = ops.maximum(ops.square(b) - 4.0 * a * c, 0.0)
        xi = ops.clip(2.0 * c / (-b - ops.sqrt(disc)), 0.0, 1.0)
        out = x_k + xi * w_k
    else:
        xi = ops.clip((xc - x_k) / w_k, 0.0, 1.0)
    t = xi * (1.0 - xi)
    denom = s_k + curve * t
    if not inverse:
        out = y_k + h_k * (s_k * ops.square(xi) + d_k * t) / denom
    deriv = ops.square(s_k) * (d_k1 * ops.square(xi) + 2.0 * s_k * t + d_k * ops.square(1.0 - xi))
    log_det = ops.log(deriv) - 2.0 * ops.log(denom)
    if inverse:
        log_det = -log_det
    return ops.where(inside, out, x), ops.where(inside, log_det, ops.zeros_like(log_det))


def _split_params(params, bins):
    """``(..., 3 bins - 1)`` -> widths, heights, derivatives."""
    return params[..., :bins], params[..., bins: 2 * bins], params[..., 2 * bins:]


@register_serializable
class SplineCoupling(CouplingLayer):
    """Coupling layer with rational-quadratic spline transforms (Durkan et al. 2019).

    ``x = b*z + (1-b) * spline^{-1}(z; theta(b*z))``: the part ``b*z`` passes through and the conditioner maps it
    to ``3 bins - 1`` spline parameters for every masked-out unit (see :func:`rational_quadratic_spline`).

    Args:
        mask: ``"half"`` or ``"alternating"`` for vectors ``(batch, dim)`` (an MLP conditioner), ``"checkerboard"``
            or ``"channel"`` for images ``(batch, h, w, c)`` (a conv conditioner), as in
            :class:`~keras_ae.layers.AffineCoupling`.
        parity: 1 swaps the two parts.
        hidden: conditioner widths (units or filters).
        kernel_size: conv conditioner kernel (images).
        activation: conditioner activation.
        bins: number of spline bins (>= 2).
        bound: the splines act on ``[-bound, bound]``, the identity outside.
        dropout: dropout rate after each hidden conditioner layer (Durkan et al. regularize small data sets this
            way); in training only.

    The last conditioner layer starts at zero, so the layer starts as the identity. ``inverse`` (density) applies
    the spline, ``forward`` (sampling) its exact inverse.
    """

    def __init__(self, mask="half", parity=0, hidden=(64, 64), kernel_size=3, activation="relu", bins=8, bound=3.0,
                 dropout=0.0, **kwargs):
        super().__init__(mask=mask, parity=parity, hidden=hidden, kernel_size=kernel_size, activation=activation,
                         dropout=dropout, **kwargs)
        self.bins, self.bound = _check_spline_args(bins, bound)

    @property
    def params_per_unit(self):
        return 3 * self.bins - 1

    def _transform(self, t, inverse, training=None):
        t = ops.convert_to_tensor(t)
        b = self.binary_mask(t.dtype)
        h = self.conditioner(t * b, training)
        params = ops.reshape(h, (-1,) + tuple(t.shape[1:]) + (self.params_per_unit,))
        # the spline and its log-determinant in float32 (under a half-precision policy too)
        params = ops.cast(params, "float32")
        out, ld = rational_quadratic_spline(ops.cast(t, "float32"), *_split_params(params, self.bins),
                                            inverse=inverse, bound=self.bound)
        return t * b + ops.cast(out, t.dtype) * (1.0 - b), sum_except_batch(ld * ops.cast(1.0 - b, "float32"))

    def inverse(self, x, training=None):
        return self._transform(x, inverse=False, training=training)

    def _forward(self, z, training=None):
        return self._transform(z, inverse=True, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(bins=self.bins, bound=self.bound)
        return config


@register_serializable
class MaskedAutoregressiveSpline(AutoregressiveLayer):
    """Autoregressive rational-quadratic spline layer (Durkan et al. 2019) on vectors ``(batch, dim)``.

    ``z_i = spline(x_i; theta_i(x_<i))`` with the ``3 bins - 1`` parameters of every dimension from one MADE network
    (``hidden`` widths; the reversed order when ``reverse``). ``inverse`` (density) is one pass; ``forward``
    (sampling) inverts the splines in ``dim`` passes.

    Args:
        hidden: MADE widths.
        reverse: use the reversed variable order (alternate it when stacking layers).
        activation: MADE activation.
        bins: number of spline bins (>= 2).
        bound: the splines act on ``[-bound, bound]``, the identity outside.
        context_dim: optional size of a context vector fed to the MADE (``forward``/``inverse`` then take
            ``context=``).

    Zero parameters at the start (the last MADE layer starts at zero): the layer starts as the identity.
    """

    def __init__(self, hidden=(64, 64), reverse=False, activation="relu", bins=8, bound=3.0, context_dim=None,
                 **kwargs):
        self.bins, self.bound = _check_spline_args(bins, bound)
        super().__init__(hidden=hidden, reverse=reverse, activation=activation, context_dim=context_dim, **kwargs)

    @property
    def params_per_dim(self):
        return 3 * self.bins - 1

    def _spline(self, conditioning, t, inverse, context):
        h = self.made(conditioning, context)  # parameter-major: (batch, P * dim)
        params = ops.transpose(ops.reshape(ops.cast(h, "float32"), (-1, self.params_per_dim, self.dim)), (0, 2, 1))
        return rational_quadratic_spline(ops.cast(t, "float32"), *_split_params(params, self.bins), inverse=inverse,
                                         bound=self.bound)

    def inverse(self, x, context=None):
        x = ops.convert_to_tensor(x)
        z, ld = self._spline(x, x, inverse=False, context=context)
        return ops.cast(z, x.dtype), sum_except_batch(ld)

    def _forward(self, z, context=None):
        z = ops.convert_to_tensor(z)
        x = ops.zeros_like(z)
        ld = None
        for _ in range(self.dim):
            x, ld = self._spline(x, z, inverse=True, context=context)
            x = ops.cast(x, z.dtype)
        return x, sum_except_batch(ld)

    def get_config(self):
        config = super().get_config()
        config.update(bins=self.bins, bound=self.bound)
        return config
