"""Normalizing flows: a standard normal base and a chain of invertible layers, trained by exact likelihood.

``log p(x) = log N(z; 0, I) + log|det dz/dx|`` with ``z = inverse(x)``; the training loss is the mean
negative log-likelihood (nats per example).

Images (``dequantize=256``): pixels ``x`` in [0, 1] (``uint8 / 255``) are mapped to
``y = (255 x + u) / 256`` with uniform noise ``u ~ U[0, 1)^D`` (uniform dequantization), then to logit space
``l = logit(alpha + (1 - 2 alpha) y)``; the flow models ``l``. The reported log-likelihood of the discrete image
counts both maps:

    log P(x) >= E_u[ log p_flow(l) + sum_i log|dl_i/dy_i| ] - D log 256,
    log|dl/dy| = log(1 - 2 alpha) - log s - log(1 - s),  s = alpha + (1 - 2 alpha) y,
    bits_per_dim = -log P(x) / (D ln 2)

(one noise draw per example: an unbiased estimate of the lower bound). In training the noise comes from the
model's seeded generator; with ``training=False`` (evaluation, :meth:`Flow.log_prob`) it is drawn with the fixed
integer ``eval_seed``, so ``model(x, training=False)`` is deterministic and still an honest single-draw estimate.
"""

__all__ = ["Flow"]

import math
import warnings

import keras
import numpy as np
from keras import ops

from keras_ae.errors import (ArgumentTypeError, InvalidArgumentError, InvalidDataError, KerasAEWarning,
                             check_non_negative, check_positive_int, rename_config_keys, take_renamed, warn_renamed)
from keras_ae.layers.flows import ActNorm, FlowLayer, build_chain, chain_forward, chain_inverse, sum_except_batch
from keras_ae.models.base_model import KerasAEModel
from keras_ae.ops.arrays import batched, check_output_memory, dataset_arrays, is_tf_dataset, to_numpy
from keras_ae.ops.backend_call import TorchSafeForward
from keras_ae.ops.distribute import ReplicaSeedGenerator, scale_loss_for_distribution
from keras_ae.serialization import register_serializable

LOG_2PI = math.log(2.0 * math.pi)


def _shape_str(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _walk(layers):
    for layer in layers:
        yield layer
        yield from _walk(getattr(layer, "flows", []) or [])


@register_serializable
class Flow(TorchSafeForward, KerasAEModel):
    """A normalizing flow: standard normal base, ``flows`` listed in the normalizing order (data first).

    Args:
        flows: list of :class:`~keras_ae.layers.FlowLayer` (``inverse`` runs ``flows[0]`` first).
        input_shape: the shape of one example, e.g. ``(2,)`` or ``(28, 28, 1)`` (called ``event_shape`` before
            keras_ae 0.2; that name is still accepted, with a deprecation warning).
        dequantize: ``None`` for continuous data, or the number of pixel levels (256) for images in [0, 1]:
            uniform dequantization and the logit transform are applied and counted in the likelihood, and a
            ``bits_per_dim`` metric is reported.
        logit_alpha: the ``alpha`` of the logit transform (images only).
        seed: seed of the training-time noise generator.
        eval_seed: integer seed of the dequantization noise used with ``training=False``.

    ``model(x, training=False)`` returns ``log p(x)`` per example (nats; for images the discrete-image
    log-likelihood estimate above). ``log_prob``, ``sample``, ``forward``, ``inverse`` are the user API.
    """

    def __init__(self, flows, input_shape=None, dequantize=None, logit_alpha=0.05, seed=None, eval_seed=1234,
                 **kwargs):
        input_shape = take_renamed(kwargs, "event_shape", "input_shape", input_shape, None, "Flow")
        if input_shape is None:
            raise ArgumentTypeError("Flow needs `input_shape`, the shape of one example (e.g. (2,) or (28, 28, 1)).")
        super().__init__(**kwargs)
        flows = [keras.saving.deserialize_keras_object(f) if isinstance(f, dict) else f for f in flows]
        if not flows:
            raise InvalidArgumentError("A Flow needs at least one flow layer.")
        for f in flows:
            if not isinstance(f, FlowLayer):
                raise InvalidArgumentError("Every element of `flows` must be a keras_ae FlowLayer; received "
                                           f"{type(f).__name__}.")
        self.flows = list(flows)
        self._data_shape = tuple(check_positive_int("input_shape entries", int(s)) for s in input_shape)
        if dequantize is not None:
            dequantize = check_positive_int("dequantize", int(dequantize), minimum=2)
        self.dequantize = dequantize
        self.logit_alpha = float(logit_alpha)
        if not 0.0 <= self.logit_alpha < 0.5:
            raise InvalidArgumentError(f"`logit_alpha` must lie in [0, 0.5); received {logit_alpha!r}.")
        self.seed = seed
        self.eval_seed = int(eval_seed)
        self.seed_generator = ReplicaSeedGenerator(seed)  # dequantization noise: each replica draws its own
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.bpd_tracker = keras.metrics.Mean(name="bits_per_dim") if dequantize else None
        self._chain_built = False
        self.build((None,) + self._data_shape)

    # ----- shapes ------------------------------------------------------------------------------
    @property
    def input_shape(self):
        """The shape of one example (no batch axis)."""
        return self._data_shape

    @property
    def event_shape(self):
        """Deprecated name of :attr:`input_shape`."""
        warn_renamed("event_shape", "input_shape", "Flow", removal="0.3")
        return self._data_shape

    @property
    def value_range(self):
        return (0.0, 1.0) if self.dequantize else None

    value_range_hint = "for an image flow, which dequantizes 8-bit pixels scaled to [0, 1]"
    deprecated_attributes = ("image_shape", "event_shape")

    @property
    def input_dtype(self):
        """float32 under every policy: the density is that of the data as given (Keras would cast the inputs of a
        half-precision model to its compute dtype first); the flow layers compute in the policy's dtype."""
        return "float32"

    @property
    def event_size(self):
        return int(np.prod(self._data_shape))

    def build(self, input_shape=None):
        if self._chain_built:
            return
        self.latent_shape = tuple(build_chain(self.flows, (None,) + self._data_shape))[1:]
        if int(np.prod(self.latent_shape)) != self.event_size:
            raise InvalidArgumentError(f"The flow maps {self._data_shape} to {self.latent_shape}: not a bijection.")
        self._chain_built = True
        self.built = True

    def _check_call_shape(self, x, what=None):
        shape = tuple(x.shape)
        if len(shape) != len(self._data_shape) + 1 or any(
            s is not None and s != e for s, e in zip(shape[1:], self._data_shape)
        ):
            where = f" of `{what}`" if what else ""
            raise InvalidDataError(
                f"Wrong input shape{where} for this flow: expected (batch, {', '.join(map(str, self._data_shape))}), "
                f"received {_shape_str(shape)}. The flow was built for {len(self._data_shape)}-D events of shape "
                f"{self._data_shape}."
            )
        return x

    def _check_array(self, x, what="x"):
        x = np.asarray(to_numpy(x) if not isinstance(x, np.ndarray) else x)
        if x.ndim == len(self._data_shape) and tuple(x.shape) == self._data_shape:
            raise InvalidDataError(f"`{what}` looks like a single example of shape {x.shape}; pass a batch "
                                   f"(batch, {', '.join(map(str, self._data_shape))}), e.g. x[None].")
        self._check_call_shape(x, what)
        if not np.issubdtype(x.dtype, np.number):
            raise InvalidDataError(f"`{what}` must be numeric; received dtype {x.dtype}.")
        finite = np.isfinite(x)
        if not finite.all():
            bad = int(np.argwhere(~finite.reshape(len(x), -1).all(axis=1))[0, 0])
            raise InvalidDataError(f"`{what}` contains NaN or inf values (first at example {bad}); a flow's "
                                   "log-density is only defined for finite inputs. Clean or drop them.")
        if len(x) == 0:
            raise InvalidDataError(f"`{what}` holds 0 examples; pass at least one.")
        if self.dequantize and x.size and (x.min() < 0 or x.max() > 1):
            raise InvalidDataError(
                f"This image flow expects pixels in [0, 1] (uint8 / 255, dequantized to {self.dequantize} levels); "
                f"`{what}` holds values in [{x.min():.4g}, {x.max():.4g}]."
            )
        return x.astype("float32")

    # ----- data plumbing -----------------------------------------------------------------------
    def preprocess_samples(self, x, y=None, sample_weight=None):
        if is_tf_dataset(x):
            spec = x.element_spec[0] if isinstance(x.element_spec, tuple) else x.element_spec
            if len(spec.shape) == len(self._data_shape) + 1:
                self._check_call_shape(spec)  # the flow's own message; the base class checks the rest
            if y is not None:
                raise InvalidDataError(f"`y` cannot be given with a dataset `{self._data_argument}`.")
            return self.preprocess_dataset(x), None, sample_weight
        self.check_data_container(x)
        if isinstance(x, np.ndarray) or hasattr(x, "shape"):
            x = self._check_array(x, self._data_argument)
            self._reject_targets(x, y)
            return x, None, sample_weight
        return x, y, sample_weight

    def fit(self, x=None, y=None, *args, **kwargs):
        self.initialize(x)
        return super().fit(x, y, *args, **kwargs)

    def initialize(self, x, max_examples=512):
        """Data-dependent initialisation of any ActNorm layer not yet initialised (done once, by ``fit``)."""
        if not any(isinstance(l, ActNorm) and not l.is_initialized for l in _walk(self.flows)):
            return
        if is_tf_dataset(x):
            x = dataset_arrays(x.take(1))[0]
        if x is None or not hasattr(x, "shape"):
            return
        x = self._check_array(x)[:max_examples]
        h, _ = self._preprocess(ops.convert_to_tensor(x), noise_seed=self.eval_seed)
        for layer in self.flows:
            h = layer.data_initialize(h)

    # ----- likelihood --------------------------------------------------------------------------
    def _preprocess(self, x, noise_seed):
        """Images: dequantize and logit; returns ``(flow input, log|det| of the map from x to it)``."""
        x = ops.cast(x, "float32")
        if not self.dequantize:
            return x, ops.zeros((ops.shape(x)[0],), "float32")
        k = float(self.dequantize)
        u = keras.random.uniform(ops.shape(x), 0.0, 1.0, seed=noise_seed, dtype="float32")
        y = ((k - 1.0) * x + u) / k
        a = self.logit_alpha
        s = a + (1.0 - 2.0 * a) * y
        logit = ops.log(s) - ops.log1p(-s)
        log_det = sum_except_batch(math.log(1.0 - 2.0 * a) - ops.log(s) - ops.log1p(-s))
        # densities on y in [0, 1): the discrete probability of a pixel level is the density times 1/k
        return logit, log_det - self.event_size * math.log(k)

    def _postprocess(self, l):
        if not self.dequantize:
            return l
        a = self.logit_alpha
        y = (ops.sigmoid(l) - a) / (1.0 - 2.0 * a)
        return ops.clip(y, 0.0, 1.0)

    def base_log_prob(self, z):
        """``log N(z; 0, I)`` per example (float32)."""
        z = ops.cast(z, "float32")
        return -0.5 * sum_except_batch(ops.square(z)) - 0.5 * self.event_size * LOG_2PI

    def _log_prob(self, x, noise_seed, training=None):
        h, ld_pre = self._preprocess(x, noise_seed)
        z, ld = chain_inverse(self.flows, h, training=training)
        return self.base_log_prob(z) + ld + ld_pre

    def call(self, inputs, training=None):
        # ``training`` goes on to the layers that take it (dropout, residual blocks' probes): on JAX, Keras' fit
        # calls this method directly, so the flag would not reach them from Keras' call context
        x = self._check_call_shape(inputs)
        return self._log_prob(x, self.seed_generator if training else self.eval_seed, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        nll = -ops.cast(y_pred, "float32")
        self.nll_tracker.update_state(nll, sample_weight=sample_weight)
        if self.bpd_tracker is not None:
            self.bpd_tracker.update_state(nll / (self.event_size * math.log(2.0)), sample_weight=sample_weight)
        if sample_weight is not None:
            w = ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
            loss = ops.sum(nll * w) / ops.maximum(ops.sum(w), 1e-12)
        else:
            loss = ops.mean(nll)
        return scale_loss_for_distribution(loss + sum(self.losses))  # per replica (see keras_ae.ops.distribute)

    # ----- user API ----------------------------------------------------------------------------
    def log_prob(self, x, batch_size=256):
        """``log p(x)`` per example (numpy, nats). Non-finite or wrongly shaped input raises ``ValueError``."""
        x = self._check_array(x)
        log_p = batched(lambda a: self._log_prob(ops.convert_to_tensor(a), self.eval_seed), [x], batch_size)
        bad = ~np.isfinite(log_p)
        if bad.any():  # finite inputs far outside the data overflow float32: say so rather than return -inf quietly
            far = np.abs(x.reshape(len(x), -1)).max(axis=1)
            warnings.warn(
                f"{type(self).__name__}.log_prob: {int(bad.sum())} of {len(x)} examples have a non-finite "
                f"log-probability ({log_p[bad][0]}) in float32, first at example {int(np.argmax(bad))}: their values "
                f"are far outside the data (largest |x| {float(far[bad].max()):.4g}).",
                KerasAEWarning, stacklevel=2)
        return log_p

    def bits_per_dim(self, x, batch_size=256):
        """Mean ``-log P(x) / (D ln 2)`` over ``x`` (images: dequantized, logit counted)."""
        return float(-np.mean(self.log_prob(x, batch_size)) / (self.event_size * math.log(2.0)))

    def inverse(self, x):
        """The normalizing direction on flow space: ``(z, log|det dz/dx|)`` (for images, x is in logit space)."""
        x = self._check_call_shape(ops.convert_to_tensor(x, dtype="float32"))
        return chain_inverse(self.flows, x)

    def _forward(self, z):
        """The generative direction: ``(x, log|det dx/dz|)`` (for images, x is in logit space)."""
        z = ops.convert_to_tensor(z, dtype="float32")
        if tuple(z.shape[1:]) != self.latent_shape:
            raise InvalidDataError(f"Wrong latent shape: expected (batch, {', '.join(map(str, self.latent_shape))}), "
                                   f"received {_shape_str(z.shape)}.")
        return chain_forward(self.flows, z)

    def sample(self, n, seed=None, temperature=1.0, batch_size=256):
        """Draw ``n`` examples (numpy): ``z ~ N(0, temperature^2 I)`` through :meth:`forward`.

        For image flows, samples are mapped back from logit space to pixels in [0, 1]. The same integer
        ``seed`` gives the same samples.
        """
        n = check_output_memory(check_positive_int("n", n), self._data_shape, f"{type(self).__name__}.sample",
                                copies=3)
        temperature = check_non_negative("temperature", temperature)
        batch_size = check_positive_int("batch_size", batch_size)
        z = to_numpy(keras.random.normal((n,) + self.latent_shape, seed=seed)) * temperature
        return batched(lambda a: self._postprocess(chain_forward(self.flows, ops.convert_to_tensor(a))[0]),
                       [z.astype("float32")], batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            flows=[keras.saving.serialize_keras_object(f) for f in self.flows],
            input_shape=list(self._data_shape),
            dequantize=self.dequantize,
            logit_alpha=self.logit_alpha,
            seed=self.seed,
            eval_seed=self.eval_seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**rename_config_keys(config, {"event_shape": "input_shape"}))
