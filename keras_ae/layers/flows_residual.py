"""Residual flows: maps of the form ``z + (a small update)``, invertible by construction.

* :class:`PlanarFlow` and :class:`RadialFlow` (Rezende & Mohamed 2015): one hyperplane or one radial
  contraction/expansion per layer, exact log-determinants (matrix determinant lemma); their explicit direction is
  ``forward`` (sampling, e.g. a VAE posterior), their inverse a 1-D solve.
* :class:`InvertibleResidualBlock` (Behrmann et al. 2019, i-ResNet; Chen et al. 2019, residual flows):
  ``y = x + g(x)`` with ``g`` a spectrally normalized MLP of Lipschitz constant below 1, inverted by fixed-point
  iteration, its log-determinant ``log det(I + J_g)`` by a truncated power series with Hutchinson's trace estimator
  (or exactly from the full Jacobian, for small dimensions).

Same contract as :mod:`keras_ae.layers.flows`: ``forward(z) -> (x, log|det dx/dz|)``,
``inverse(x) -> (z, log|det dz/dx|)``, log-determinants float32 of shape ``(batch,)``, shapes on the data side.
"""

__all__ = ["PlanarFlow", "planar_u_hat", "RadialFlow", "SpectralNormDense", "ProbeNoise", "InvertibleResidualBlock",
           "lipswish"]

import math

import keras
import numpy as np
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.layers.flows import FlowLayer, _check_shape, sum_except_batch, training_kwargs
from keras_ae.ops.autodiff import input_vjp
from keras_ae.serialization import register_serializable


def _dot(a, b):
    """Row-wise dot product over the last axis: ``(batch, d) x (d,) -> (batch,)``."""
    return ops.sum(a * b, axis=-1)


def _uniform_init(dim):
    """Pyro's initialization of planar and radial parameters: uniform on +-1/sqrt(dim)."""
    limit = 1.0 / math.sqrt(dim)
    return keras.initializers.RandomUniform(-limit, limit)


# ----- planar and radial flows (Rezende & Mohamed 2015) ------------------------------------------------------------
def planar_u_hat(u, w):
    """The constrained ``u`` of a planar flow (Rezende & Mohamed 2015, appendix A.1), over the last axis:
    ``u_hat = u + (m(w . u) - w . u) w / ||w||^2`` with ``m(a) = -1 + softplus(a)``, so ``w . u_hat = m > -1``.
    ``u`` and ``w`` are ``(dim,)`` (one flow) or ``(batch, dim)`` (one flow per example, amortized).

    Returns ``(u_hat, m)``: ``m`` is ``w . u_hat`` as constructed, ``(batch,)`` or ``()``, for the log-determinant
    (recomputing the dot product from ``u_hat`` loses the margin above -1 to rounding when ``|w . u|`` is large).
    ``softplus`` is floored at 1e-6, which float32 keeps apart from -1 (it rounds ``softplus(-20)`` to 0)."""
    wu = ops.sum(w * u, axis=-1, keepdims=True)
    m = -1.0 + ops.maximum(ops.softplus(wu), 1e-6)
    u_hat = u + (m - wu) * w / (ops.sum(ops.square(w), axis=-1, keepdims=True) + 1e-12)
    return u_hat, ops.squeeze(m, axis=-1)


@register_serializable
class PlanarFlow(FlowLayer):
    """Planar flow ``x = z + u_hat * tanh(w . z + b)`` on vectors ``(batch, dim)`` (Rezende & Mohamed 2015).

    ``log|det dx/dz| = log|1 + (1 - tanh^2(w . z + b)) w . u_hat|`` exactly. ``u`` is constrained as in the
    paper's appendix, ``u_hat = u + (m(w . u) - w . u) w / ||w||^2`` with ``m(a) = -1 + softplus(a)``, so
    ``w . u_hat > -1`` and the map is invertible for every value of the weights (nothing is refused at run time).

    ``forward`` is explicit. ``inverse`` has no closed form: writing ``alpha = w . z + b``, it solves the 1-D
    equation ``alpha + (w . u_hat) tanh(alpha) = w . x + b`` (increasing in ``alpha``; the root lies within
    ``|w . u_hat|`` of ``w . x + b``) by ``bisection_steps`` bisection steps, then one Newton step (which also gives
    the implicit-function gradient), and returns ``z = x - u_hat tanh(alpha)``. With the default 50 steps the
    bracket is ``2 |w . u_hat| 2^-50`` wide: the root is exact to float32 rounding (about 1e-7 relative).

    Amortized (``context_dim`` set, as for a VAE posterior): ``(u, w, b)`` of each example are a linear map of its
    ``context`` vector plus the layer's own ``u, w, b`` (the map's kernel starts at zero, so the layer starts as
    the shared flow); the constraint on ``u`` is applied per example, so every example's map is invertible.
    ``forward(z, context=...)`` and ``inverse(x, context=...)`` then require the context.

    Args:
        bisection_steps: bisection steps of the inverse (>= 1).
        context_dim: size of an optional context vector that produces ``(u, w, b)`` per example.
    """

    def __init__(self, bisection_steps=50, context_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.bisection_steps = check_positive_int("bisection_steps", bisection_steps)
        if context_dim is not None:
            context_dim = check_positive_int("context_dim", context_dim)
        self.context_dim = context_dim

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2,))
        dim = shape[-1]
        self.dim = dim
        init = _uniform_init(dim)
        self.u = self.add_weight(shape=(dim,), name="u", initializer=init)
        self.w = self.add_weight(shape=(dim,), name="w", initializer=init)
        self.b = self.add_weight(shape=(), name="b", initializer=init)
        if self.context_dim:
            self.context_kernel = self.add_weight(shape=(self.context_dim, 2 * dim + 1), name="context_kernel",
                                                  initializer="zeros")
        self.built = True

    def u_hat(self):
        """The constrained ``u`` of the shared (not amortized) flow: ``w . u_hat = -1 + softplus(w . u) > -1``."""
        return planar_u_hat(self.u, self.w)[0]

    def _params(self, context):
        """``(u_hat, w, b, w . u_hat)`` in float32 (the constraint is not rounded to float16): ``(dim,), (dim,), (),
        ()`` shared, or ``(batch, dim)`` twice, ``(batch,)`` twice from ``context``."""
        u, w, b = (ops.cast(v, "float32") for v in (self.u, self.w, self.b))
        if not self.context_dim:
            if context is not None:
                raise InvalidArgumentError(f"{type(self).__name__} was built without a context (context_dim=None); "
                                           "received a `context` tensor. Pass context_dim=... to condition on one.")
            return (*planar_u_hat(u, w), w, b)
        if context is None:
            raise InvalidArgumentError(f"{type(self).__name__} has context_dim={self.context_dim}: pass `context` of "
                                       f"shape (batch, {self.context_dim}) to forward/inverse.")
        context = ops.convert_to_tensor(context)
        if len(context.shape) != 2 or context.shape[-1] != self.context_dim:
            raise InvalidArgumentError(f"`context` must have shape (batch, {self.context_dim}); "
                                       f"received {tuple(context.shape)}.")
        h = ops.matmul(ops.cast(context, "float32"), ops.cast(self.context_kernel, "float32"))
        u, w, b = u + h[:, : self.dim], w + h[:, self.dim: 2 * self.dim], b + h[:, 2 * self.dim]
        return (*planar_u_hat(u, w), w, b)

    def _log_det(self, alpha, wu):
        return ops.log(ops.abs(1.0 + (1.0 - ops.square(ops.tanh(alpha))) * wu))

    def _forward(self, z, context=None):
        z = ops.convert_to_tensor(z)
        u_hat, wu, w, b = self._params(context)
        alpha = _dot(z, ops.cast(w, z.dtype)) + ops.cast(b, z.dtype)
        x = z + ops.cast(u_hat, z.dtype) * ops.tanh(alpha)[:, None]
        return x, self._log_det(ops.cast(alpha, "float32"), wu)

    def inverse(self, x, context=None):
        x = ops.convert_to_tensor(x)
        u_hat, wu, w, b = (ops.cast(t, x.dtype) for t in self._params(context))
        target = _dot(x, w) + b
        lo, hi = target - ops.abs(wu), target + ops.abs(wu)
        for _ in range(self.bisection_steps):
            mid = 0.5 * (lo + hi)
            below = mid + wu * ops.tanh(mid) < target
            lo, hi = ops.where(below, mid, lo), ops.where(below, hi, mid)
        alpha = ops.stop_gradient(0.5 * (lo + hi))
        # one Newton step: negligible move at the root, and the implicit-function gradient d alpha / d(x, weights)
        alpha = alpha - (alpha + wu * ops.tanh(alpha) - target) / (1.0 + wu * (1.0 - ops.square(ops.tanh(alpha))))
        z = x - u_hat * ops.tanh(alpha)[:, None]
        return z, -self._log_det(ops.cast(alpha, "float32"), ops.cast(wu, "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(bisection_steps=self.bisection_steps)
        if self.context_dim:
            config.update(context_dim=self.context_dim)
        return config


@register_serializable
class RadialFlow(FlowLayer):
    """Radial flow ``x = z + beta h(r) (z - z0)``, ``h(r) = 1 / (alpha + r)``, ``r = ||z - z0||``, on vectors
    ``(batch, dim)`` (Rezende & Mohamed 2015).

    ``alpha = softplus(alpha_raw) > 0`` and ``beta = -alpha + softplus(beta_raw) > -alpha`` (the invertibility
    condition of the paper's appendix, so no weight value is refused).
    ``log|det dx/dz| = (dim - 1) log(1 + beta h) + log(1 + beta alpha / (alpha + r)^2)`` exactly.

    ``inverse`` is closed-form: the radius ``r`` of ``z`` is the positive root of
    ``r^2 + (alpha + beta - r_x) r - alpha r_x = 0`` (``r_x = ||x - z0||``; computed without cancellation), then
    ``z = z0 + (x - z0) / (1 + beta h(r))``. Starts as the identity (``beta = 0``).
    """

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2,))
        self.dim = shape[-1]
        init = _uniform_init(self.dim)
        self.z0 = self.add_weight(shape=(self.dim,), name="z0", initializer=init)
        self.alpha_raw = self.add_weight(shape=(), name="alpha_raw", initializer="zeros")
        self.beta_raw = self.add_weight(shape=(), name="beta_raw", initializer="zeros")
        self.built = True

    def alpha_beta(self):
        """``(alpha, beta)`` with ``alpha > 0`` and ``beta > -alpha``."""
        alpha = ops.softplus(self.alpha_raw) + 1e-6
        return alpha, -alpha + ops.softplus(self.beta_raw) + 1e-6

    def _log_det(self, r, alpha, beta):
        r, alpha, beta = (ops.cast(t, "float32") for t in (r, alpha, beta))
        bh = beta / (alpha + r)
        return (self.dim - 1) * ops.log1p(bh) + ops.log1p(beta * alpha / ops.square(alpha + r))

    def _forward(self, z):
        z = ops.convert_to_tensor(z)
        alpha, beta = (ops.cast(t, z.dtype) for t in self.alpha_beta())
        diff = z - ops.cast(self.z0, z.dtype)
        r = ops.sqrt(ops.sum(ops.square(diff), axis=-1))
        x = z + (beta / (alpha + r))[:, None] * diff
        return x, self._log_det(r, alpha, beta)

    def inverse(self, x):
        x = ops.convert_to_tensor(x)
        alpha, beta = (ops.cast(t, x.dtype) for t in self.alpha_beta())
        diff = x - ops.cast(self.z0, x.dtype)
        r_x = ops.sqrt(ops.sum(ops.square(diff), axis=-1))
        lin = alpha + beta - r_x
        root = ops.sqrt(ops.square(lin) + 4.0 * alpha * r_x)
        # the positive root of r^2 + lin r - alpha r_x, in the form without cancellation for either sign of lin
        r = ops.where(lin >= 0, 2.0 * alpha * r_x / ops.maximum(lin + root, 1e-30), 0.5 * (root - lin))
        scale = 1.0 + beta / (alpha + r)
        z = ops.cast(self.z0, x.dtype) + diff / ops.maximum(scale, 1e-30)[:, None]
        return z, -self._log_det(r, alpha, beta)


# ----- invertible residual blocks (i-ResNet, residual flows) ---------------------------------------------------
def lipswish(x):
    """LipSwish (Chen et al. 2019): ``x sigmoid(x) / 1.1``, 1-Lipschitz and smooth."""
    return x * ops.sigmoid(x) / 1.1


LIPSCHITZ_ACTIVATIONS = {"lipswish": lipswish, "elu": ops.elu, "tanh": ops.tanh, "softplus": ops.softplus,
                         "relu": ops.relu}


def _check_lipschitz(value):
    try:
        c = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`lipschitz` must be a number in (0, 1); received {value!r}.") from None
    if not 0.0 < c < 1.0:
        raise InvalidArgumentError(f"`lipschitz` must lie strictly between 0 and 1 (g must be a contraction for the residual "
                         f"block to be invertible); received {value!r}.")
    return c


@register_serializable
class SpectralNormDense(keras.layers.Layer):
    """A dense layer whose kernel has spectral norm at most ``lipschitz`` (Miyato et al. 2018; Behrmann et al. 2019).

    The largest singular value ``sigma`` of the kernel is estimated by ``power_iterations`` steps of the power
    method started from a stored vector ``u``, and the kernel used is ``W / max(1, sigma / lipschitz)`` (gradients
    flow through ``sigma``). In training (``training=True``, set by Keras from the enclosing model call) the
    refined ``u`` is stored, so the estimate follows the weights as they train; otherwise it is used but not stored
    (the layer is deterministic). ``u`` starts as the exact top singular vector of the initial kernel. The power
    method never overestimates ``sigma``; its (small) underestimate is the only way the bound can be exceeded.

    Args:
        units: output width.
        lipschitz: bound on the spectral norm, in (0, 1).
        power_iterations: power-method steps per call (>= 1).
        use_bias: add a bias.
        kernel_initializer: initializer of the kernel.
    """

    def __init__(self, units, lipschitz=0.9, power_iterations=1, use_bias=True, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.lipschitz = _check_lipschitz(lipschitz)
        self.power_iterations = check_positive_int("power_iterations", power_iterations)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(n_in, self.units), name="kernel", initializer=self.kernel_initializer)
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros") if self.use_bias else None
        self.u = self.add_weight(shape=(self.units,), name="u", initializer="ones", trainable=False)
        top = np.linalg.svd(ops.convert_to_numpy(self.kernel).astype("float64"))[2][0]
        self.u.assign(top.astype("float32"))
        self.built = True

    def normalized_kernel(self, training=False):
        """The kernel divided by ``max(1, sigma / lipschitz)``; stores the refined ``u`` when ``training``."""
        w = self.kernel
        u = ops.stop_gradient(ops.convert_to_tensor(self.u))
        v = None
        for _ in range(self.power_iterations):
            v = ops.matmul(w, u)
            v = v / (ops.norm(v) + 1e-12)
            u = ops.matmul(ops.transpose(w), v)
            u = u / (ops.norm(u) + 1e-12)
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.sum(v * ops.matmul(w, u))
        if training:
            self.u.assign(u)
        return w / ops.maximum(1.0, sigma / self.lipschitz)

    def call(self, inputs, training=None):
        out = ops.matmul(inputs, ops.cast(self.normalized_kernel(bool(training)), inputs.dtype))
        return out + ops.cast(self.bias, out.dtype) if self.use_bias else out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, lipschitz=self.lipschitz, power_iterations=self.power_iterations,
                      use_bias=self.use_bias, kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config


@register_serializable
class ProbeNoise(keras.layers.Layer):
    """Random probe vectors shaped like its input, for stochastic trace estimates.

    ``distribution`` is ``"rademacher"`` (entries +-1) or ``"normal"``. In training (``training=True``, set by
    Keras from the enclosing model call) the probes come from the layer's ``SeedGenerator`` (``seed``); otherwise
    they are drawn with the fixed integer ``eval_seed``, so evaluation is deterministic (and still one honest draw).
    """

    def __init__(self, distribution="rademacher", seed=None, eval_seed=1234, **kwargs):
        super().__init__(**kwargs)
        self.distribution = check_choice("distribution", distribution, ("rademacher", "normal"))
        self.seed = seed
        self.eval_seed = int(eval_seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        seed = self.seed_generator if training else self.eval_seed
        shape = ops.shape(inputs)
        if self.distribution == "normal":
            return keras.random.normal(shape, seed=seed, dtype=inputs.dtype)
        return ops.cast(2 * keras.random.randint(shape, 0, 2, seed=seed) - 1, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(distribution=self.distribution, seed=self.seed, eval_seed=self.eval_seed)
        return config


@register_serializable
class InvertibleResidualBlock(FlowLayer):
    """Invertible residual block ``y = x + g(x)`` on vectors ``(batch, dim)`` (Behrmann et al. 2019; Chen et al.
    2019).

    ``g`` is an MLP (``hidden`` widths, then back to ``dim``) of :class:`SpectralNormDense` layers, each with
    spectral norm at most ``lipschitz`` < 1, and a 1-Lipschitz ``activation``, so ``Lip(g) <= L = lipschitz^n``
    (``n`` = number of dense layers) and ``x -> x + g(x)`` is invertible.

    Directions: ``explicit="inverse"`` (default; density estimation, as in both papers) makes the normalizing
    direction explicit, ``z = x + g(x)``, and ``forward`` (sampling) the fixed-point solve; ``explicit="forward"``
    swaps them (``x = z + g(z)``: sampling explicit, e.g. for a posterior flow).

    The solve iterates ``x <- y - g(x)`` from ``x = y`` until successive iterates differ by at most ``tol`` in every
    coordinate (or ``max_iterations``); the error is then at most ``L tol / (1 - L)`` plus float32 rounding (the
    iteration contracts by ``L`` each step). The solve is not differentiated (gradients stop there; training uses
    the explicit direction).

    Log-determinant of the explicit map, ``log det(I + J)`` with ``J = dg/dx``:

    * ``estimator="exact"``: the full Jacobian (``dim`` vector-Jacobian products) and its log-determinant; for
      small ``dim`` (2-D densities) it is cheaper than the series and has no error.
    * ``estimator="series"``: ``sum_{k=1..n_terms} (-1)^(k+1)/k  v^T J^k v`` with one probe ``v`` per example
      (``probe``: Rademacher or Gaussian; ``n_terms`` vector-Jacobian products, backpropagated through for training;
      Behrmann et al.'s estimator). Its error has two parts:

      - bias (truncation; the probe average is exact): ``E = tr(sum_{k<=n} (-1)^(k+1) J^k / k)``, and
        ``|E - log det(I + J)| <= -dim (log(1 - L) + sum_{k<=n} L^k / k)`` (Behrmann et al., theorem 3); it is
        smaller in practice because the Jacobian's eigenvalues are well inside the bound.
      - variance (the probe): with ``S = sym(sum_{k<=n} (-1)^(k+1) J^k / k)``, ``Var = 2 ||S||_F^2`` for Gaussian
        probes and ``2 (||S||_F^2 - sum_i S_ii^2)`` for Rademacher probes (zero for ``dim = 1``), per example.
        Averaged over a batch of ``B`` examples the loss has a standard error of about ``sqrt(Var / B)``.

      (Chen et al.'s Russian-roulette estimator, which removes the bias by a random number of terms, is not
      implemented: a data-dependent number of vector-Jacobian products cannot be reverse-differentiated in a JAX
      ``while_loop`` nor expressed with a static graph; a capped roulette would estimate the same truncated series.)

    ``forward`` and ``inverse`` take ``training``: when true, probes come from the seeded generator and the
    power-iteration vectors are updated; otherwise probes use the fixed ``eval_seed`` (deterministic evaluation)
    and nothing is stored. Left at ``None`` it is Keras' training flag of the enclosing model call (set by ``fit``
    on TensorFlow and torch; JAX's ``fit`` calls the model's ``call`` directly, so there the model must pass it:
    :func:`~keras_ae.layers.flows.chain_inverse` forwards its ``training`` argument to layers that take one).

    Args:
        hidden: widths of the hidden layers of ``g``.
        lipschitz: spectral-norm bound of each dense layer, in (0, 1).
        activation: ``"lipswish"`` (Chen et al.; smooth), ``"elu"``, ``"tanh"``, ``"softplus"`` or ``"relu"``.
        estimator: ``"series"`` or ``"exact"``.
        n_terms: terms of the power series (``"series"``).
        probe: ``"rademacher"`` or ``"normal"`` (``"series"``).
        power_iterations: power-method steps per call of each spectral normalization.
        tol: fixed-point tolerance of the solve (successive iterates).
        max_iterations: cap on fixed-point iterations.
        explicit: ``"inverse"`` or ``"forward"``: which direction is the explicit residual map.
        seed: seed of the training probes.
        eval_seed: integer seed of the probes when not training.
    """

    takes_training = True

    def __init__(self, hidden=(64, 64), lipschitz=0.9, activation="lipswish", estimator="series", n_terms=10,
                 probe="rademacher", power_iterations=1, tol=1e-6, max_iterations=200, explicit="inverse", seed=None,
                 eval_seed=1234, **kwargs):
        super().__init__(**kwargs)
        self.hidden = tuple(check_positive_int("hidden units", int(h)) for h in hidden)
        self.lipschitz = _check_lipschitz(lipschitz)
        self.activation = check_choice("activation", activation, tuple(LIPSCHITZ_ACTIVATIONS))
        self.estimator = check_choice("estimator", estimator, ("series", "exact"))
        self.n_terms = check_positive_int("n_terms", n_terms)
        self.probe = check_choice("probe", probe, ("rademacher", "normal"))
        self.power_iterations = check_positive_int("power_iterations", power_iterations)
        self.tol = float(tol)
        if not self.tol > 0:
            raise InvalidArgumentError(f"`tol` must be a number > 0 (the fixed-point tolerance); received {tol!r}.")
        self.max_iterations = check_positive_int("max_iterations", max_iterations)
        self.explicit = check_choice("explicit", explicit, ("inverse", "forward"))
        self.seed = seed
        self.eval_seed = int(eval_seed)
        self.noise = ProbeNoise(self.probe, seed=seed, eval_seed=self.eval_seed, name="probe", dtype=self.dtype_policy)

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2,))
        self.dim = shape[-1]
        widths = self.hidden + (self.dim,)
        self.net = [SpectralNormDense(w, lipschitz=self.lipschitz, power_iterations=self.power_iterations,
                                      name=f"dense_{i}" if i < len(self.hidden) else "dense_out",
                                      dtype=self.dtype_policy)
                    for i, w in enumerate(widths)]
        s = (None, self.dim)
        for layer in self.net:
            layer.build(s)
            s = layer.compute_output_shape(s)
        self.noise.build((None, self.dim))
        self.built = True

    @property
    def lipschitz_bound(self):
        """``L = lipschitz^(number of dense layers)``, the bound on ``Lip(g)``."""
        return self.lipschitz ** (len(self.hidden) + 1)

    def residual(self, x, training=None):
        """``g(x)``."""
        act = LIPSCHITZ_ACTIVATIONS[self.activation]
        h = x
        for i, layer in enumerate(self.net):
            h = layer(h, **training_kwargs(training))
            if i < len(self.net) - 1:
                h = act(h)
        return h

    def _log_det(self, x, vjp, training=None):
        """``log det(I + J_g(x))`` (float32, per example) from ``vjp(w) = w^T J_g(x)``."""
        if self.estimator == "exact":
            eye = ops.eye(self.dim, dtype=x.dtype)
            rows = [vjp(ops.ones_like(x) * eye[j]) for j in range(self.dim)]
            jac = ops.stack(rows, axis=1)  # (batch, dim, dim), row j = e_j^T J
            return ops.slogdet(ops.cast(jac, "float32") + ops.eye(self.dim, dtype="float32"))[1]
        v = self.noise(x, **training_kwargs(training))
        w, total = v, ops.zeros((ops.shape(x)[0],), "float32")
        for k in range(1, self.n_terms + 1):
            w = vjp(w)
            total = total + ((-1.0) ** (k + 1) / k) * sum_except_batch(w * v)
        return total

    def _explicit(self, t, training):
        y, vjp = input_vjp(lambda a: ops.cast(self.residual(a, training), a.dtype), t)
        return t + ops.cast(y, t.dtype), self._log_det(t, vjp, training)

    def _solve(self, y, training):
        """``x`` with ``x + g(x) = y``, by fixed-point iteration; returns ``(x, log det(I + J_g(x)))``."""
        y = ops.convert_to_tensor(y)

        def cond(i, x, step):
            return step > self.tol

        def body(i, x, step):
            # training=False: no power-iteration update inside the loop (state written in a JAX while_loop's body
            # would leak its tracer); the log-determinant call below updates it once
            new = y - ops.cast(self.residual(x, False), y.dtype)
            return i + 1, new, ops.max(ops.abs(new - x))

        _, x, _ = ops.while_loop(cond, body, (ops.convert_to_tensor(0), y, ops.convert_to_tensor(np.inf, y.dtype)),
                                 maximum_iterations=self.max_iterations)
        x = ops.stop_gradient(x)
        _, vjp = input_vjp(lambda a: ops.cast(self.residual(a, training), a.dtype), x)
        return x, self._log_det(x, vjp, training)

    def inverse(self, x, training=None):
        x = ops.convert_to_tensor(x)
        if self.explicit == "inverse":
            return self._explicit(x, training)
        z, ld = self._solve(x, training)
        return z, -ld

    def _forward(self, z, training=None):
        z = ops.convert_to_tensor(z)
        if self.explicit == "forward":
            return self._explicit(z, training)
        x, ld = self._solve(z, training)
        return x, -ld

    def get_config(self):
        config = super().get_config()
        config.update(hidden=list(self.hidden), lipschitz=self.lipschitz, activation=self.activation,
                      estimator=self.estimator, n_terms=self.n_terms, probe=self.probe,
                      power_iterations=self.power_iterations, tol=self.tol, max_iterations=self.max_iterations,
                      explicit=self.explicit, seed=self.seed, eval_seed=self.eval_seed)
        return config
