"""Normalizing-flow layers: invertible maps with an exact log-determinant.

Every layer is a bijection between a *latent side* ``z`` and a *data side* ``x`` and exposes both
directions explicitly; the direction is never chosen by the ``training`` flag:

* ``forward(z) -> (x, log_det)``: the generative direction, ``log_det = log|det dx/dz|`` per example;
* ``inverse(x) -> (z, log_det)``: the normalizing direction, ``log_det = log|det dz/dx|`` per example.

Log-determinants are float32 tensors of shape ``(batch,)``, whatever the dtype policy; ``z`` and ``x`` keep the
dtype of the input (the policy's compute dtype when the layer is called). ``call(x)`` is the normalizing
direction and returns ``(z, log_det)``, and ``compute_output_shape(x_shape)`` / ``compute_output_spec`` declare
both, so ``z, log_det = layer(keras.Input(...))`` works in a functional model. Shapes are described on the data
side: ``build(x_shape)``; :meth:`FlowLayer.inverse_shape` maps a data shape to the latent one and
:meth:`FlowLayer.forward_shape` maps it back.

Under a mixed dtype policy the conditioner networks run in the compute dtype; log-determinants are summed in
float32, and the parameters that enter them directly (``ActNorm``'s and ``InvertibleLinear``'s) are float32
variables read without autocasting.

A :class:`~keras_ae.models.flow.Flow` lists its layers in the normalizing order (data first):
``inverse`` runs ``layers[0].inverse`` first; ``forward`` runs them backwards.
"""

__all__ = [
    "FlowLayer",
    "CouplingLayer",
    "AutoregressiveLayer",
    "AffineCoupling",
    "MaskedAutoregressive",
    "InvertibleLinear",
    "ActNorm",
    "Permute",
    "LeakyReLUFlow",
    "SigmoidFlow",
    "Squeeze",
    "FactorOut",
    "chain_forward",
    "chain_inverse",
    "build_chain",
]

import math

import keras
import numpy as np
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.ops.backend_call import TorchSafeForward
from keras_ae.serialization import register_serializable


def _event_size(shape):
    return int(np.prod([int(s) for s in shape[1:]])) if len(shape) > 1 else 1


def sum_except_batch(t):
    """Sum over every axis but the first, in float32: ``(batch, ...) -> (batch,)``."""
    t = ops.cast(t, "float32")
    return ops.sum(ops.reshape(t, (-1, _event_size(t.shape))), axis=1)


def _zeros_log_det(t):
    return ops.zeros((ops.shape(t)[0],), dtype="float32")


def _check_shape(shape, layer, rank=None):
    shape = tuple(shape)
    if any(s is None for s in shape[1:]):
        raise InvalidArgumentError(f"{type(layer).__name__} needs a fully known input shape (batch, ...); "
                                   f"received {shape}.")
    if rank is not None and len(shape) not in rank:
        want = " or ".join(f"rank {r} ({'(batch, dim)' if r == 2 else '(batch, height, width, channels)'})"
                           for r in rank)
        raise InvalidArgumentError(f"{type(layer).__name__} expects inputs of {want}; received shape {shape}.")
    return shape


@register_serializable
class FlowLayer(TorchSafeForward, keras.layers.Layer):
    """Base class. Subclasses implement ``_forward`` (exposed as :meth:`forward`) and :meth:`inverse`
    (and the shape methods if they reshape). A layer whose maps depend on the training flag (stochastic
    estimators, state updated in training) sets ``takes_training = True`` and accepts ``training=None`` in both."""

    takes_training = False

    def _forward(self, z):  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def call(self, inputs):
        return self.inverse(inputs)

    def compute_output_shape(self, input_shape):
        """Data-side shape -> ``(latent-side shape, log-det shape (batch,))``, what ``call`` returns."""
        return tuple(self.inverse_shape(input_shape)), (input_shape[0],)

    def compute_output_spec(self, inputs):
        z_shape, log_det_shape = self.compute_output_shape(inputs.shape)
        return keras.KerasTensor(z_shape, dtype=self.compute_dtype), keras.KerasTensor(log_det_shape, dtype="float32")

    def inverse_shape(self, data_shape):
        """Data-side shape -> latent-side shape."""
        return tuple(data_shape)

    def forward_shape(self, latent_shape):
        """Latent-side shape -> data-side shape."""
        return tuple(latent_shape)

    def data_initialize(self, x):
        """Data-dependent initialization hook (ActNorm); returns ``inverse(x)[0]``."""
        return self.inverse(x)[0]


# ----- chains ----------------------------------------------------------------------------------
def build_chain(flows, x_shape):
    """Build ``flows`` (normalizing order) for data of ``x_shape`` (with batch); return the latent shape."""
    shape = tuple(x_shape)
    for layer in flows:
        if not isinstance(layer, FlowLayer):
            raise InvalidArgumentError("Every flow layer must be a keras_ae FlowLayer; received "
                                       f"{type(layer).__name__}.")
        if not layer.built:
            layer.build(shape)
        shape = tuple(layer.inverse_shape(shape))
    return shape


def training_kwargs(training):
    """``{"training": training}``, or ``{}`` for ``None``: for calling sub-layers without overriding Keras' training
    flag of the enclosing call (an explicit ``training=None`` would replace it for every layer called after)."""
    return {} if training is None else {"training": training}


def _training_kwargs(layer, training):
    return training_kwargs(training) if layer.takes_training else {}


def chain_inverse(flows, x, training=None):
    """``x -> z`` through every layer; returns ``(z, sum of log|det dz/dx|)``. ``training`` is passed to the
    layers that take it (``takes_training``)."""
    total = _zeros_log_det(x)
    for layer in flows:
        x, ld = layer.inverse(x, **_training_kwargs(layer, training))
        total = total + ld
    return x, total


def chain_forward(flows, z, training=None):
    """``z -> x`` through every layer in reverse; returns ``(x, sum of log|det dx/dz|)``. ``training`` is passed to
    the layers that take it (``takes_training``)."""
    total = _zeros_log_det(z)
    for layer in reversed(list(flows)):
        z, ld = layer.forward(z, **_training_kwargs(layer, training))
        total = total + ld
    return z, total


def _serialize_list(layers):
    return [keras.saving.serialize_keras_object(layer) for layer in layers]


def _deserialize_list(configs):
    return [keras.saving.deserialize_keras_object(c) if isinstance(c, dict) else c for c in configs]


def soft_clamp(raw, clamp):
    """``clamp * tanh(raw / clamp)``: the identity near 0, bounded by ``clamp`` (stable log-scales)."""
    return clamp * ops.tanh(raw / clamp)


# ----- affine coupling (RealNVP) -----------------------------------------------------------------
VECTOR_MASKS = ("half", "alternating")
IMAGE_MASKS = ("checkerboard", "channel")


def coupling_mask(mask, shape, parity=0):
    """Binary mask (per-example shape, float32): 1 marks the part that passes through and conditions."""
    if mask == "half":
        (d,) = shape
        b = (np.arange(d) < d // 2).astype("float32")
    elif mask == "alternating":
        (d,) = shape
        b = (np.arange(d) % 2 == 0).astype("float32")
    elif mask == "checkerboard":
        h, w, c = shape
        grid = (np.arange(h)[:, None] + np.arange(w)[None, :]) % 2 == 0
        b = np.broadcast_to(grid[:, :, None], (h, w, c)).astype("float32")
    else:  # channel
        h, w, c = shape
        b = np.broadcast_to((np.arange(c) < c // 2)[None, None, :], (h, w, c)).astype("float32")
    if parity:
        b = 1.0 - b
    if b.min() == b.max():
        raise InvalidArgumentError(
            f"The {mask!r} coupling mask does not split an input of per-example shape {tuple(shape)}: "
            f"one side would be empty. "
            + ("A vector coupling needs at least 2 dimensions." if len(shape) == 1 else
               "A channel mask needs at least 2 channels (squeeze first); a checkerboard needs at least 2 pixels.")
        )
    return np.ascontiguousarray(b)


@register_serializable
class CouplingLayer(FlowLayer):
    """Base of the coupling layers: a binary mask ``b`` splits the input, and a conditioner network of the
    passed-through part ``b*x`` gives ``params_per_unit`` parameters for every input unit.

    ``mask`` is ``"half"`` or ``"alternating"`` for vectors ``(batch, dim)`` (an MLP conditioner with ``hidden``
    units), ``"checkerboard"`` or ``"channel"`` for images ``(batch, h, w, c)`` (a conv conditioner:
    ``kernel_size`` conv, 1x1 convs, ``kernel_size`` conv, with ``hidden`` filters; the mask is given to it as an
    extra channel). ``parity=1`` swaps the two parts. The last conditioner layer starts at zero. ``dropout`` > 0
    adds dropout after every hidden conditioner layer (active in training only; the layer then takes ``training``).
    Subclasses set ``params_per_unit`` (an integer, or a property of their arguments) and transform with
    :meth:`conditioner`.
    """

    params_per_unit = 2

    def __init__(self, mask="half", parity=0, hidden=(64, 64), kernel_size=3, activation="relu", dropout=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.dropout = float(dropout)
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidArgumentError(f"`dropout` must lie in [0, 1); received {dropout!r}.")
        self.mask = check_choice("mask", mask, VECTOR_MASKS + IMAGE_MASKS)
        self.parity = check_choice("parity", int(parity), (0, 1))
        self.hidden = tuple(check_positive_int("hidden units", int(h)) for h in hidden)
        if not self.hidden:
            raise InvalidArgumentError("`hidden` must list at least one layer width.")
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.activation = activation

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2, 4))
        image = len(shape) == 4
        if image and self.mask not in IMAGE_MASKS:
            raise InvalidArgumentError(f"mask={self.mask!r} is for vectors (batch, dim); images take "
                                       f"'checkerboard' or 'channel'. Received shape {shape}.")
        if not image and self.mask not in VECTOR_MASKS:
            raise InvalidArgumentError(f"mask={self.mask!r} is for images (batch, h, w, c); vectors take "
                                       f"'half' or 'alternating'. Received shape {shape}.")
        self._mask_np = coupling_mask(self.mask, shape[1:], self.parity)
        out = self.params_per_unit * shape[-1]
        self.net = []
        if image:
            c_in = shape[-1] + 1
            for i, f in enumerate(self.hidden):
                k = self.kernel_size if i == 0 else 1
                self.net.append(keras.layers.Conv2D(f, k, padding="same", activation=self.activation,
                                                    name=f"conv_{i}", dtype=self.dtype_policy))
                self._add_dropout(i)
            self.net.append(keras.layers.Conv2D(out, self.kernel_size, padding="same", kernel_initializer="zeros",
                                                name="conv_out", dtype=self.dtype_policy))
            s = (None,) + shape[1:-1] + (c_in,)
        else:
            for i, h in enumerate(self.hidden):
                self.net.append(keras.layers.Dense(h, activation=self.activation, name=f"dense_{i}",
                                                   dtype=self.dtype_policy))
                self._add_dropout(i)
            self.net.append(keras.layers.Dense(out, kernel_initializer="zeros", name="dense_out",
                                               dtype=self.dtype_policy))
            s = (None, shape[-1])
        for layer in self.net:
            layer.build(s)
            s = layer.compute_output_shape(s)
        self._image = image
        self.built = True

    @property
    def takes_training(self):
        return self.dropout > 0

    def _add_dropout(self, i):
        if self.dropout > 0:
            self.net.append(keras.layers.Dropout(self.dropout, name=f"dropout_{i}", dtype=self.dtype_policy))

    def binary_mask(self, dtype):
        """The mask ``b`` (per-example shape) as a tensor: 1 marks the part that passes through."""
        return ops.convert_to_tensor(self._mask_np, dtype=dtype)

    def conditioner(self, masked, training=None):
        """The conditioner's raw output ``(batch, ..., params_per_unit * c)`` for the masked input ``b*x``."""
        h = masked
        if self._image:
            b = self.binary_mask(masked.dtype)
            h = ops.concatenate([h, ops.ones_like(h[..., :1]) * b[None, :, :, :1]], axis=-1)
        for layer in self.net:
            h = layer(h, **training_kwargs(training))
        # the conditioner runs in the policy's compute dtype; the transform stays in the input's dtype
        return ops.cast(h, masked.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(mask=self.mask, parity=self.parity, hidden=list(self.hidden), kernel_size=self.kernel_size,
                      activation=self.activation, dropout=self.dropout)
        return config


@register_serializable
class AffineCoupling(CouplingLayer):
    """RealNVP affine coupling ``x = b*z + (1-b) * (z * exp(s(b*z)) + t(b*z))``.

    Masks and conditioners as in :class:`CouplingLayer`: ``mask`` is ``"half"`` or ``"alternating"`` for vectors
    ``(batch, dim)`` (an MLP conditioner with ``hidden`` units), ``"checkerboard"`` or ``"channel"`` for images
    ``(batch, h, w, c)`` (a conv conditioner: ``kernel_size`` conv, 1x1 convs, ``kernel_size`` conv, with
    ``hidden`` filters; the mask is given to it as an extra channel). ``parity=1`` swaps the two parts.
    Log-scales are soft-clamped to ``[-scale_clamp, scale_clamp]``; the last conditioner layer starts at zero, so
    the layer starts as the identity.
    """

    def __init__(self, mask="half", parity=0, hidden=(64, 64), kernel_size=3, activation="relu", scale_clamp=3.0,
                 dropout=0.0, **kwargs):
        super().__init__(mask=mask, parity=parity, hidden=hidden, kernel_size=kernel_size, activation=activation,
                         dropout=dropout, **kwargs)
        self.scale_clamp = float(scale_clamp)
        if not self.scale_clamp > 0:
            raise InvalidArgumentError(f"`scale_clamp` must be > 0; received {scale_clamp!r}.")

    def _shift_log_scale(self, masked, training=None):
        b = self.binary_mask(masked.dtype)
        raw_s, t = ops.split(self.conditioner(masked, training), 2, axis=-1)
        s = soft_clamp(raw_s, self.scale_clamp) * (1.0 - b)
        return t * (1.0 - b), s

    def _forward(self, z, training=None):
        b = self.binary_mask(z.dtype)
        t, s = self._shift_log_scale(z * b, training)
        return z * ops.exp(s) + t, sum_except_batch(s)

    def inverse(self, x, training=None):
        b = self.binary_mask(x.dtype)
        t, s = self._shift_log_scale(x * b, training)
        return (x - t) * ops.exp(-s), -sum_except_batch(s)

    def get_config(self):
        config = super().get_config()
        config.update(scale_clamp=self.scale_clamp)
        return config


# ----- masked autoregressive (MADE -> MAF) --------------------------------------------------------
def made_masks(dim, hidden, reverse=False, params_per_dim=2):
    """MADE masks (Germain et al. 2015) for inputs of ``dim`` with hidden widths ``hidden``.

    Input ``i`` has degree ``order[i]`` (1..dim, reversed when ``reverse``); hidden unit ``k`` of each layer
    has degree ``1 + k % (dim - 1)`` (deterministic); the outputs for ``i`` (``params_per_dim`` units, laid out
    parameter-major: unit ``p * dim + i``) see only inputs of smaller degree. Returns the list of (in, out) masks
    and the input degrees.
    """
    degrees_in = np.arange(1, dim + 1)
    if reverse:
        degrees_in = degrees_in[::-1]
    masks, prev = [], degrees_in
    for h in hidden:
        d = 1 + np.arange(h) % max(dim - 1, 1)
        masks.append((d[None, :] >= prev[:, None]).astype("float32"))
        prev = d
    out_deg = np.tile(degrees_in, params_per_dim)
    masks.append((out_deg[None, :] > prev[:, None]).astype("float32"))
    return masks, degrees_in


@register_serializable
class AutoregressiveLayer(FlowLayer):
    """Base of the autoregressive layers on vectors ``(batch, dim)``: one MADE network (``hidden`` widths) gives
    ``params_per_dim`` parameters for every dimension ``i`` from the dimensions before it (in the reversed order
    when ``reverse``). With ``context_dim`` set, a context vector ``(batch, context_dim)`` is fed, unmasked, to the
    first hidden layer. The last layer starts at zero. Subclasses set ``params_per_dim`` and transform with
    :meth:`made`.
    """

    params_per_dim = 2

    def __init__(self, hidden=(64, 64), reverse=False, activation="relu", context_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden = tuple(check_positive_int("hidden units", int(h)) for h in hidden)
        if not self.hidden:
            raise InvalidArgumentError("`hidden` must list at least one layer width.")
        self.reverse = bool(reverse)
        self.activation = activation
        self._act = keras.activations.get(activation)
        if context_dim is not None:
            context_dim = check_positive_int("context_dim", context_dim)
        self.context_dim = context_dim

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2,))
        dim = shape[-1]
        if dim < 2:
            raise InvalidArgumentError(f"{type(self).__name__} needs at least 2 dimensions to split autoregressively; "
                             f"received shape {shape}.")
        self.dim = dim
        masks, _ = made_masks(dim, self.hidden, self.reverse, self.params_per_dim)
        self._masks = masks
        self.kernels, self.biases = [], []
        n_in = dim
        for i, m in enumerate(masks):
            n_out = m.shape[1]
            last = i == len(masks) - 1
            self.kernels.append(self.add_weight(
                shape=(n_in, n_out), name=f"kernel_{i}",
                initializer="zeros" if last else "glorot_uniform"))
            self.biases.append(self.add_weight(shape=(n_out,), name=f"bias_{i}", initializer="zeros"))
            n_in = n_out
        if self.context_dim:
            self.context_kernel = self.add_weight(shape=(self.context_dim, self.hidden[0]), name="context_kernel",
                                                  initializer="glorot_uniform")
        self.built = True

    def _check_context(self, x, context):
        if not self.context_dim:
            if context is not None:
                raise InvalidArgumentError(f"{type(self).__name__} was built without a context (context_dim=None); "
                                 "received a `context` tensor. Pass context_dim=... to condition on one.")
            return None
        if context is None:
            raise InvalidArgumentError(f"{type(self).__name__} has context_dim={self.context_dim}: pass `context` of shape "
                             f"(batch, {self.context_dim}) to forward/inverse.")
        context = ops.convert_to_tensor(context, dtype=x.dtype)
        if len(context.shape) != 2 or context.shape[-1] != self.context_dim:
            raise InvalidArgumentError(f"`context` must have shape (batch, {self.context_dim}); "
                             f"received {tuple(context.shape)}.")
        return context

    def made(self, x, context=None):
        """The MADE output ``(batch, params_per_dim * dim)``, parameter-major: unit ``p * dim + i`` is parameter
        ``p`` of dimension ``i`` and depends only on the dimensions before ``i`` (and on ``context``)."""
        context = self._check_context(x, context)
        # in the compute dtype, whether called through __call__ (autocast) or directly by a chain (inside a model's
        # autocast scope, where the weights read in the model's dtype, or outside any)
        h = ops.cast(x, self.compute_dtype)
        last = len(self._masks) - 1
        for i, (k, b, m) in enumerate(zip(self.kernels, self.biases, self._masks)):
            k, b = ops.cast(k, h.dtype), ops.cast(b, h.dtype)
            h = ops.matmul(h, k * ops.convert_to_tensor(m, dtype=h.dtype)) + b
            if i == 0 and context is not None:
                h = h + ops.matmul(ops.cast(context, h.dtype), ops.cast(self.context_kernel, h.dtype))
            if i < last:
                h = self._act(h)
        return h

    def get_config(self):
        config = super().get_config()
        config.update(hidden=list(self.hidden), reverse=self.reverse, activation=self.activation)
        if self.context_dim:
            config.update(context_dim=self.context_dim)
        return config


@register_serializable
class MaskedAutoregressive(AutoregressiveLayer):
    """Masked autoregressive affine layer (MAF, Papamakarios et al. 2017) on vectors ``(batch, dim)``.

    ``x_i = z_i * exp(a_i(x_<i)) + m_i(x_<i)`` with ``m, a`` from one MADE network (``hidden`` widths).
    ``inverse`` (density) is one pass; ``forward`` (sampling) takes ``dim`` passes. ``reverse=True``
    uses the reversed variable order, so stacking alternate layers needs no permutation.
    """

    def __init__(self, hidden=(64, 64), reverse=False, activation="relu", scale_clamp=3.0, **kwargs):
        super().__init__(hidden=hidden, reverse=reverse, activation=activation, **kwargs)
        self.scale_clamp = float(scale_clamp)

    def _shift_log_scale(self, x):
        h = self.made(x)
        shift, raw = h[:, : self.dim], h[:, self.dim:]
        return shift, soft_clamp(raw, self.scale_clamp)

    def inverse(self, x):
        x = ops.cast(x, self.compute_dtype)
        shift, a = self._shift_log_scale(x)
        return (x - shift) * ops.exp(-a), -sum_except_batch(a)

    def _forward(self, z):
        z = ops.cast(z, self.compute_dtype)
        x = ops.zeros_like(z)
        a = None
        for _ in range(self.dim):
            shift, a = self._shift_log_scale(x)
            x = z * ops.exp(a) + shift
        return x, sum_except_batch(a)

    def get_config(self):
        config = super().get_config()
        config.update(scale_clamp=self.scale_clamp)
        return config


# ----- linear layers ---------------------------------------------------------------------------
@register_serializable
class InvertibleLinear(FlowLayer):
    """An invertible linear map on the last axis with an LU parameterisation (Glow's 1x1 convolution).

    ``x = z @ W`` with ``W = P L (U + diag(sign * exp(log_s)))``: ``P`` a fixed permutation, ``L`` unit
    lower- and ``U`` strictly upper-triangular. On vectors it is an invertible dense layer; on images
    ``(batch, h, w, c)`` it is an invertible 1x1 convolution. ``log|det| = positions * sum(log_s)``.
    Initialised from the LU decomposition of a random rotation drawn with ``seed``.

    ``W``, its inverse and the log-determinant are computed in float32 under any dtype policy (the LU factors
    are never autocast); only the product with the input runs in the input's dtype.
    """

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2, 4))
        c = shape[-1]
        import scipy.linalg

        rng = np.random.default_rng(self.seed)
        q, _ = np.linalg.qr(rng.standard_normal((c, c)))
        p, lower, upper = scipy.linalg.lu(q)
        s = np.diag(upper)
        self.channels = c
        self.positions = int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
        init = {"permutation": p, "sign_s": np.sign(s), "lower": np.tril(lower, -1), "upper": np.triu(upper, 1),
                "log_s": np.log(np.abs(s))}
        self.perm = self.add_weight(shape=(c, c), name="permutation", trainable=False, initializer="zeros",
                                    autocast=False)
        self.sign_s = self.add_weight(shape=(c,), name="sign_s", trainable=False, initializer="zeros",
                                      autocast=False)
        self.lower = self.add_weight(shape=(c, c), name="lower", initializer="zeros", autocast=False)
        self.upper = self.add_weight(shape=(c, c), name="upper", initializer="zeros", autocast=False)
        self.log_s = self.add_weight(shape=(c,), name="log_s", initializer="zeros", autocast=False)
        for var, key in ((self.perm, "permutation"), (self.sign_s, "sign_s"), (self.lower, "lower"),
                         (self.upper, "upper"), (self.log_s, "log_s")):
            var.assign(init[key].astype("float32"))
        self._lmask = np.tril(np.ones((c, c), "float32"), -1)
        self.built = True

    def weight_matrix(self):
        eye = ops.eye(self.channels, dtype="float32")
        lower = self.lower * self._lmask + eye
        upper = self.upper * self._lmask.T + ops.diag(self.sign_s * ops.exp(self.log_s))
        return ops.matmul(self.perm, ops.matmul(lower, upper))

    def _log_det(self, t):
        return ops.ones((ops.shape(t)[0],), "float32") * (self.positions * ops.sum(self.log_s))

    def _forward(self, z):
        return ops.matmul(z, ops.cast(self.weight_matrix(), z.dtype)), self._log_det(z)

    def inverse(self, x):
        w_inv = ops.inv(self.weight_matrix())
        return ops.matmul(x, ops.cast(w_inv, x.dtype)), -self._log_det(x)

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed)
        return config


@register_serializable
class ActNorm(FlowLayer):
    """Per-channel affine normalisation (Glow): ``z = (x - bias) * exp(-log_scale)``.

    Data-dependent initialisation: :meth:`data_initialize` (called by ``Flow.fit`` on the first data it
    sees, once) sets ``bias`` and ``log_scale`` so the first batch comes out with zero mean and unit
    variance per channel. Until then it is the identity. The ``initialized`` flag is saved with the model.
    Its variables are float32 and never autocast: the log-determinant is computed from the float32
    ``log_scale``, and the affine map is applied in the input's dtype.
    """

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2, 4))
        c = shape[-1]
        self.positions = int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
        self.bias = self.add_weight(shape=(c,), name="bias", initializer="zeros", autocast=False)
        self.log_scale = self.add_weight(shape=(c,), name="log_scale", initializer="zeros", autocast=False)
        self.initialized = self.add_weight(shape=(), name="initialized", initializer="zeros", trainable=False,
                                           autocast=False)
        self.built = True

    @property
    def is_initialized(self):
        return bool(keras.ops.convert_to_numpy(self.initialized) > 0)

    def data_initialize(self, x):
        if not self.is_initialized:
            flat = np.reshape(keras.ops.convert_to_numpy(x), (-1, np.shape(x)[-1])).astype("float64")
            self.bias.assign(flat.mean(axis=0).astype("float32"))
            self.log_scale.assign(np.log(flat.std(axis=0) + 1e-6).astype("float32"))
            self.initialized.assign(1.0)
        return self.inverse(x)[0]

    def _log_det(self, t):
        return ops.ones((ops.shape(t)[0],), "float32") * (self.positions * ops.sum(self.log_scale))

    def _forward(self, z):
        bias, log_scale = ops.cast(self.bias, z.dtype), ops.cast(self.log_scale, z.dtype)
        return z * ops.exp(log_scale) + bias, self._log_det(z)

    def inverse(self, x):
        bias, log_scale = ops.cast(self.bias, x.dtype), ops.cast(self.log_scale, x.dtype)
        return (x - bias) * ops.exp(-log_scale), -self._log_det(x)


@register_serializable
class Permute(FlowLayer):
    """A fixed permutation of the last axis (features, or channels of images); ``log|det| = 0``.

    ``order="reverse"`` reverses it; ``order="random"`` draws a permutation with ``seed`` when built
    (the same seed gives the same permutation after reload); or pass an explicit list of indices.
    """

    def __init__(self, order="reverse", seed=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(order, str):
            check_choice("order", order, ("reverse", "random"))
        else:
            order = [int(i) for i in order]
        self.order = order
        self.seed = int(seed)

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(2, 4))
        c = shape[-1]
        if self.order == "reverse":
            perm = np.arange(c)[::-1]
        elif self.order == "random":
            perm = np.random.default_rng(self.seed).permutation(c)
        else:
            perm = np.asarray(self.order)
            if sorted(perm.tolist()) != list(range(c)):
                raise InvalidArgumentError(f"`order` must be a permutation of 0..{c - 1} for {c} features; "
                                           f"received {self.order}.")
        self._perm = perm.astype("int32")
        self._inv = np.argsort(perm).astype("int32")
        self.built = True

    def inverse(self, x):
        return ops.take(x, self._perm, axis=-1), _zeros_log_det(x)

    def _forward(self, z):
        return ops.take(z, self._inv, axis=-1), _zeros_log_det(z)

    def get_config(self):
        config = super().get_config()
        config.update(order=self.order, seed=self.seed)
        return config


# ----- elementwise nonlinear layers -------------------------------------------------------------
@register_serializable
class LeakyReLUFlow(FlowLayer):
    """Elementwise ``x = z if z >= 0 else negative_slope * z`` (invertible for a slope > 0)."""

    def __init__(self, negative_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)
        if not self.negative_slope > 0:
            raise InvalidArgumentError("`negative_slope` must be > 0 for the map to be invertible; received "
                                       f"{negative_slope!r}.")

    def _forward(self, z):
        a = self.negative_slope
        neg = ops.cast(z < 0, "float32")
        return ops.where(z >= 0, z, a * z), sum_except_batch(neg * math.log(a))

    def inverse(self, x):
        a = self.negative_slope
        neg = ops.cast(x < 0, "float32")
        return ops.where(x >= 0, x, x / a), -sum_except_batch(neg * math.log(a))

    def get_config(self):
        config = super().get_config()
        config.update(negative_slope=self.negative_slope)
        return config


@register_serializable
class SigmoidFlow(FlowLayer):
    """Elementwise ``x = sigmoid(z)`` (data in (0, 1)); its inverse is the logit."""

    @staticmethod
    def _log_det(z):
        """``sum log sigmoid'(z) = sum log sigmoid(z) + log sigmoid(-z)``, stable for large ``|z|``, in float32."""
        z = ops.cast(z, "float32")
        return sum_except_batch(-ops.softplus(-z) - ops.softplus(z))

    def _forward(self, z):
        return ops.sigmoid(z), self._log_det(z)

    def inverse(self, x):
        x32 = ops.cast(x, "float32")  # the logit near 0 and 1 loses too much in half precision
        z = ops.log(x32) - ops.log1p(-x32)
        return ops.cast(z, x.dtype), -self._log_det(z)


# ----- reshaping layers for multi-scale image flows -------------------------------------------------
@register_serializable
class Squeeze(FlowLayer):
    """Space-to-depth: ``inverse`` maps ``(h, w, c) -> (h/2, w/2, 4c)``; ``forward`` undoes it. ``log|det| = 0``."""

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(4,))
        _, h, w, c = shape
        if h % 2 or w % 2:
            raise InvalidArgumentError("Squeeze needs an even height and width; received per-example shape "
                                       f"{(h, w, c)}. "
                                       "Pad or crop the images, or squeeze fewer times.")
        self.built = True

    def inverse_shape(self, data_shape):
        b, h, w, c = data_shape
        return (b, h // 2, w // 2, 4 * c)

    def forward_shape(self, latent_shape):
        b, h, w, c = latent_shape
        return (b, 2 * h, 2 * w, c // 4)

    def inverse(self, x):
        _, h, w, c = x.shape
        t = ops.reshape(x, (-1, h // 2, 2, w // 2, 2, c))
        t = ops.transpose(t, (0, 1, 3, 2, 4, 5))
        return ops.reshape(t, (-1, h // 2, w // 2, 4 * c)), _zeros_log_det(x)

    def _forward(self, z):
        _, h, w, c4 = z.shape
        c = c4 // 4
        t = ops.reshape(z, (-1, h, w, 2, 2, c))
        t = ops.transpose(t, (0, 1, 3, 2, 4, 5))
        return ops.reshape(t, (-1, 2 * h, 2 * w, c)), _zeros_log_det(z)


def _adopt_policy(layers, policy):
    """Give ``layers`` (and the flows nested in them) the dtype ``policy`` of the layer that holds them."""
    for layer in layers:
        if layer.dtype_policy.name != policy.name:
            if layer.built:
                raise InvalidArgumentError(
                    f"The inner flow layer {layer.name!r} is already built with dtype policy "
                    f"{layer.dtype_policy.name!r}, but the FactorOut holding it has {policy.name!r}; inner layers "
                    "take their holder's policy, so pass them unbuilt (or give both the same `dtype`).")
            layer.dtype_policy = policy
        _adopt_policy(getattr(layer, "flows", ()), policy)


@register_serializable
class FactorOut(FlowLayer):
    """Multi-scale step (RealNVP): keep the first ``c - c // 2`` channels flowing through ``flows``, factor the
    other half out as latent variables.

    ``inverse`` maps ``(batch, h, w, c)`` to a flat latent ``(batch, h*w*c)``: the inner flows' (flattened)
    output followed by the factored-out half. Nest a ``FactorOut`` inside ``flows`` for more scales.

    The inner flows take this layer's dtype policy (nested ones included), so they must not be built yet
    when their policy differs.
    """

    def __init__(self, flows, **kwargs):
        super().__init__(**kwargs)
        flows = _deserialize_list(flows)
        if not flows:
            raise InvalidArgumentError("FactorOut needs a non-empty list of inner flow layers.")
        self.flows = list(flows)
        _adopt_policy(self.flows, self.dtype_policy)

    def build(self, input_shape):
        shape = _check_shape(input_shape, self, rank=(4,))
        b, h, w, c = shape
        if c < 2:
            raise InvalidArgumentError("FactorOut needs at least 2 channels to factor half out; received shape "
                                       f"{shape}. "
                                       "Squeeze first.")
        self.keep = c - c // 2
        self.factored_shape = (h, w, c // 2)
        self.inner_in_shape = (b, h, w, self.keep)
        self.inner_out_shape = build_chain(self.flows, self.inner_in_shape)
        self.inner_size = _event_size(self.inner_out_shape)
        self.total = h * w * c
        self.built = True

    def inverse_shape(self, data_shape):
        return (data_shape[0], int(np.prod(data_shape[1:])))

    def forward_shape(self, latent_shape):
        return (latent_shape[0],) + tuple(self.inner_in_shape[1:-1]) + (self.keep + self.factored_shape[-1],)

    def _split(self, x):
        return x[..., : self.keep], x[..., self.keep:]

    def inverse(self, x):
        kept, out = self._split(x)
        z, ld = chain_inverse(self.flows, kept)
        flat = ops.concatenate([ops.reshape(z, (-1, self.inner_size)),
                                ops.reshape(out, (-1, self.total - self.inner_size))], axis=-1)
        return flat, ld

    def _forward(self, z):
        inner = ops.reshape(z[:, : self.inner_size], (-1,) + tuple(self.inner_out_shape[1:]))
        out = ops.reshape(z[:, self.inner_size:], (-1,) + self.factored_shape)
        kept, ld = chain_forward(self.flows, inner)
        return ops.concatenate([kept, out], axis=-1), ld

    def data_initialize(self, x):
        kept, out = self._split(x)
        for layer in self.flows:
            kept = layer.data_initialize(kept)
        return ops.concatenate([ops.reshape(kept, (-1, self.inner_size)),
                                ops.reshape(out, (-1, self.total - self.inner_size))], axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(flows=_serialize_list(self.flows))
        return config
