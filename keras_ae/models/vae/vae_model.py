"""Variational autoencoders: VAE, beta-VAE (a VAE with ``beta != 1``), the conditional VAE, and flow posteriors
(planar, IAF: ``posterior_flow``)."""

__all__ = ["VAE", "ConditionalVAE"]

import keras
import numpy as np
from keras import ops

from keras_ae import losses
from keras_ae.data import checks
from keras_ae.errors import (ArgumentTypeError, InvalidArgumentError, check_choice, check_non_negative,
                             check_positive_int)
from keras_ae.layers.flows_autoregressive import InverseAutoregressive
from keras_ae.layers.flows_residual import PlanarFlow
from keras_ae.layers.sampling import GaussianSampling
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.ops.arrays import batched, check_output_memory, to_numpy
from keras_ae.ops.distribute import scale_loss_for_distribution
from keras_ae.serialization import register_serializable

POSTERIOR_FLOWS = (None, "planar", "iaf")
FLOW_CONTEXTS = ("gaussian", "features")


@register_serializable
class VAE(Autoencoder):
    """A Gaussian-posterior VAE (Kingma & Welling) with a ``beta``-weighted KL.

    The encoder outputs ``[z_mean, z_log_var]``; :class:`~keras_ae.layers.GaussianSampling` draws
    ``z`` by reparameterization and adds ``beta * KL`` with ``add_loss``. The training loss is
    ``reconstruction_loss + beta * kl_loss``; ``neg_elbo`` is always reported with ``beta = 1``
    (nats per example), so it compares across beta.

    In evaluation (``training=False``) the model's outputs are deterministic (decoded from the
    posterior mean), while ``val_reconstruction_loss`` and ``val_neg_elbo`` still use a sampled
    ``z``: they are single-sample ELBO estimates, not the optimistic value at the mean.

    **Flow posteriors** (``posterior_flow="planar"`` or ``"iaf"``): ``q(z|x)`` is the encoder's Gaussian followed
    by ``flow_steps`` flow layers, ``z_0 = mu + sigma * eps``, ``z_K = f_K(...f_1(z_0))``, each layer amortized on
    a context of the example (``flow_context``: ``concat(z_mean, z_log_var)``, or the vector ``h`` the encoder's mean
    layer reads, as in the IAF paper): planar flows (Rezende & Mohamed 2015) whose
    ``(u, w, b)`` are a linear map of the context (``u`` constrained per example), or inverse autoregressive flows
    (Kingma et al. 2016) whose MADE (``flow_hidden`` widths) also sees the context, in alternating variable order.
    The KL term is then the one-sample Monte-Carlo estimate ``log q_K(z_K|x) - log p(z_K)`` with
    ``log q_K = log N(z_0; mu, sigma) - sum_k log|det df_k/dz_{k-1}|`` (float32); ``kl_loss`` reports it and
    ``neg_elbo`` (beta = 1) stays ``reconstruction_loss + kl_loss``. The deterministic outputs decode
    ``f_K(...f_1(z_mean))``. :meth:`posterior_sample` gives ``(z_K, log q_K(z_K|x))`` for any base noise (what the
    IWAE bound uses, for every VAE).

    Args:
        encoder: a functional model from images (and a condition) to ``[z_mean, z_log_var]``.
        decoder: a functional model from codes (and a condition) to the likelihood parameter.
        beta: weight of the KL term.
        likelihood, sigma: as :class:`~keras_ae.models.autoencoder.Autoencoder`.
        seed: seed of the reparameterization noise.
        posterior_flow: ``None`` (the Gaussian posterior), ``"planar"`` or ``"iaf"``.
        flow_steps: number of flow layers after the Gaussian (used with ``posterior_flow``).
        flow_hidden: the IAF layers' MADE widths.
        flow_context: the flows' context: ``"gaussian"`` (``concat(z_mean, z_log_var)``, works with any encoder) or
            ``"features"`` (the input of the encoder's ``z_mean`` layer, read through the encoder's own layers; the
            encoder's mean must be one layer on a ``(batch, width)`` vector, as in the zoo's encoders).
        kl_warmup_steps: a KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): the KL's weight in the training
            loss rises linearly from ``beta / T`` to ``beta`` over the first ``T = kl_warmup_steps`` training steps
            (0: no warm-up). The step count is a saved, non-trainable variable, so a reloaded or resumed model goes
            on from where it was. ``neg_elbo``, ``kl_loss`` and every evaluation use the full weight; only the
            training ``loss`` shows the warmed weight.
    """

    labels_hint = "the conditional VAE, keras_ae.zoo.conv_cvae"

    def __init__(self, encoder, decoder, beta=1.0, likelihood="bernoulli", sigma=0.1, seed=None, posterior_flow=None,
                 flow_steps=4, flow_hidden=(128, 128), flow_context="gaussian", kl_warmup_steps=0, **kwargs):
        beta = check_non_negative("beta", beta)  # here, not as the sampling layer's internal `kl_weight`
        kl_warmup_steps = check_positive_int("kl_warmup_steps", kl_warmup_steps, minimum=0)
        posterior_flow = check_choice("posterior_flow", posterior_flow, POSTERIOR_FLOWS)
        flow_context = check_choice("flow_context", flow_context, FLOW_CONTEXTS)
        flow_steps = check_positive_int("flow_steps", flow_steps)
        flow_hidden = _check_widths("flow_hidden", flow_hidden)
        super().__init__(encoder, decoder, likelihood=likelihood, sigma=sigma, **kwargs)
        if not isinstance(encoder.outputs, list) or len(encoder.outputs) != 2:
            raise InvalidArgumentError(
                "A VAE's encoder must output [z_mean, z_log_var]; build it with gaussian=True "
                "(e.g. keras_ae.networks.conv_encoder(..., gaussian=True))."
            )
        self.seed = seed
        self.sampling = GaussianSampling(kl_weight=beta, seed=seed, name="sampling", dtype=self.dtype_policy)
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo")
        self.posterior_flow, self.flow_steps, self.flow_hidden = posterior_flow, flow_steps, flow_hidden
        self.flow_context = flow_context
        # "features": a second view of the encoder that also returns the input of its mean layer (the same layers and
        # weights; set past Keras' attribute tracking so the weights are saved once, under `encoder`)
        features = _encoder_features(encoder) if posterior_flow and flow_context == "features" else None
        object.__setattr__(self, "_feature_encoder", features)
        self.flows = self._make_flows() if posterior_flow else []
        self.kl_warmup_steps = kl_warmup_steps
        if kl_warmup_steps:
            # training steps taken so far, capped at kl_warmup_steps: saved with the model, so a resumed run goes on
            # from where the warm-up was; counted once per step under tf.distribute (only the first replica writes)
            self.kl_warmup_step = self.add_weight(shape=(), initializer="zeros", dtype="float32", trainable=False,
                                                  autocast=False, aggregation="only_first_replica",
                                                  name="kl_warmup_step")

    def _make_flows(self):
        """The posterior's flow layers in sampling order (``z_0`` first), built for the latent size."""
        d = self.latent_dim
        context = 2 * d if self._feature_encoder is None else int(self._feature_encoder.outputs[2].shape[-1])
        if self.posterior_flow == "iaf" and d < 2:
            raise InvalidArgumentError(f"posterior_flow='iaf' needs latent_dim >= 2 (an autoregressive map of one "
                                       f"variable is a constant scale); received latent_dim={d}. Use 'planar'.")
        flows = []
        for k in range(self.flow_steps):
            if self.posterior_flow == "iaf":
                layer = InverseAutoregressive(hidden=self.flow_hidden, reverse=k % 2 == 1, context_dim=context,
                                              name=f"iaf_{k}", dtype=self.dtype_policy)
            else:
                layer = PlanarFlow(context_dim=context, name=f"planar_{k}", dtype=self.dtype_policy)
            layer.build((None, d))
            flows.append(layer)
        return flows

    @property
    def beta(self):
        return self.sampling.kl_weight

    @property
    def latent_dim(self):
        return int(self.encoder.outputs[0].shape[-1])

    def _encode_posterior(self, images, condition, training=None):
        """``(z_mean, z_log_var, features)``: ``features`` is the flows' encoder context with
        ``flow_context="features"``, else ``None`` (the flows then read ``concat(z_mean, z_log_var)``)."""
        if self._feature_encoder is None:
            z_mean, z_log_var = self._encode(images, condition, training)
            return z_mean, z_log_var, None
        args = images if condition is None else [images, condition]
        z_mean, z_log_var, features = self._feature_encoder(args, training=training)
        return z_mean, z_log_var, features

    def _posterior(self, z_mean, z_log_var, eps, features=None):
        """``(z_K, log q_K(z_K|x))`` for base noise ``eps`` of shape ``(batch, d)`` or ``(batch, k, d)`` (``k`` draws
        per example); ``log q_K`` float32, of shape ``eps.shape[:-1]``. ``features``: the flows' context from
        :meth:`_encode_posterior` (``None``: ``concat(z_mean, z_log_var)``)."""
        eps = ops.convert_to_tensor(eps, dtype=z_mean.dtype)
        if len(eps.shape) == 3:
            z_mean, z_log_var = z_mean[:, None, :], z_log_var[:, None, :]
        # log N(z_0; mu, sigma) from eps itself: no (z_0 - mu) / sigma rounding
        log_q = losses.gaussian_log_prob(eps) - 0.5 * ops.sum(ops.cast(z_log_var, "float32") + ops.zeros_like(
            ops.cast(eps, "float32")), axis=-1)
        z = z_mean + ops.exp(0.5 * z_log_var) * eps
        if not self.flows:
            return z, log_q
        shape, d = ops.shape(z), self.latent_dim
        context = ops.concatenate([z_mean, z_log_var], axis=-1) if features is None else features
        if len(eps.shape) == 3 and features is not None:
            context = context[:, None, :]
        width = int(context.shape[-1])
        context = ops.reshape(context + ops.zeros_like(z[..., :1]), (-1, width))  # one row per draw
        z, log_det = self._apply_flows(ops.reshape(z, (-1, d)), context)
        return ops.reshape(z, shape), log_q - ops.reshape(log_det, ops.shape(log_q))

    def _apply_flows(self, z, context):
        """``z_0 -> z_K`` through the posterior's flows; returns ``(z_K, sum_k log|det|)`` (float32)."""
        total = ops.zeros((ops.shape(z)[0],), dtype="float32")
        for layer in self.flows:
            z, log_det = layer.forward(z, context=context)
            total = total + log_det
        return z, total

    def posterior_sample(self, images, eps, labels=None):
        """Codes from the model's posterior for given base noise: ``(z_K, log q_K(z_K|x))`` (tensors in and out).

        ``eps`` (standard normal) has shape ``(n, latent_dim)`` (one draw per image) or ``(n, k, latent_dim)``
        (``k`` draws per image, the encoder run once); ``z_K`` has ``eps``' shape and ``log q_K`` (nats, float32)
        its shape without the last axis. The Gaussian posterior gives ``z = mu + sigma * eps`` and its log-density;
        a flow posterior (``posterior_flow``) passes ``z`` through its flows and subtracts their log-determinants.
        ``labels`` are the integer classes of a conditional model. Used by
        :func:`keras_ae.evaluation.latent.iwae_nll`.
        """
        z_mean, z_log_var, features = self._encode_posterior(ops.convert_to_tensor(images, "float32"),
                                                             self._condition(labels), False)
        return self._posterior(z_mean, z_log_var, eps, features)

    def call(self, inputs, training=None):
        images, condition = self.split_inputs(inputs)
        if self.flows:
            z_mean, z_log_var, features = self._encode_posterior(images, condition, training)
            # training: a sampled z_K with its log-density; evaluation: deterministic, the flows applied to the mean
            eps = self.sampling.noise(z_mean) if training else ops.zeros_like(z_mean)
            z, log_q = self._posterior(z_mean, z_log_var, eps, features)
            out = self._decode(z, condition, training)
            outputs = {"reconstruction": self.link(out), "decoder_output": out, "z": z, "z_mean": z_mean,
                       "z_log_var": z_log_var, "log_q": log_q}
            if features is not None:
                outputs["flow_features"] = features
            return outputs
        z_mean, z_log_var = self._encode(images, condition, training)
        # the KL is computed in compute_loss from these outputs, not read back from the layer's add_loss (on JAX a
        # sub-layer's losses are not visible there, and tf.distribute replicas share each layer's loss list)
        z = self.sampling([z_mean, z_log_var], training=training, add_loss=False)
        out = self._decode(z, condition, training)
        return {
            "reconstruction": self.link(out),
            "decoder_output": out,
            "z": z,
            "z_mean": z_mean,
            "z_log_var": z_log_var,
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images, condition = self.split_inputs(x)
        z_mean, z_log_var = y_pred["z_mean"], y_pred["z_log_var"]
        if self.flows:  # the Monte-Carlo KL of the flowed posterior, log q_K(z_K|x) - log p(z_K), float32
            if training:
                out, z, log_q = y_pred["decoder_output"], y_pred["z"], y_pred["log_q"]
            else:  # the outputs came from the mean; the ELBO needs a sampled z_K
                z, log_q = self._posterior(z_mean, z_log_var, self.sampling.noise(z_mean), y_pred.get("flow_features"))
                out = self._decode(z, condition, False)
            kl = log_q - losses.gaussian_log_prob(z)
        else:
            if training:
                out = y_pred["decoder_output"]
            else:  # the outputs were decoded from the mean; the ELBO needs a sampled z
                out = self._decode(self.sampling.sample(z_mean, z_log_var), condition, False)
            kl = losses.gaussian_kl(z_mean, z_log_var)
        rec = self.reconstruction_nll(images, out)
        self.reconstruction_tracker.update_state(rec, sample_weight=sample_weight)
        self.kl_tracker.update_state(kl, sample_weight=sample_weight)
        self.neg_elbo_tracker.update_state(rec + kl, sample_weight=sample_weight)
        self.mse_tracker.update_state(
            losses.squared_error(images, y_pred["reconstruction"]), sample_weight=sample_weight
        )
        # beta * KL from this call's own outputs (the sampling layer adds none, see call), plus any other layer's losses
        loss = losses.weighted_mean(rec + self._kl_weight(training) * kl, sample_weight) + self.extra_losses()
        return scale_loss_for_distribution(loss)  # per replica, divided by the number of replicas (as Keras' losses)

    def _kl_weight(self, training):
        """The KL's weight in the loss: ``beta``, or during a KL warm-up (``kl_warmup_steps``) ``beta * t / T`` at
        training step ``t`` of ``T`` (one step counted per call with ``training``; evaluation uses ``beta``)."""
        if not self.kl_warmup_steps or not training:
            return self.beta
        total = float(self.kl_warmup_steps)
        step = ops.minimum(ops.cast(self.kl_warmup_step, "float32") + 1.0, total)
        self.kl_warmup_step.assign(step)
        return self.beta * step / total

    def encode(self, x, batch_size=256, return_log_var=False):
        """The posterior mean of each image (numpy); with ``return_log_var`` also its log-variance."""
        x, _, single = self._arrays(x)
        both = batched(
            lambda a: ops.stack(self._encode(self._check_call_images(a), None, False), axis=1), [x], batch_size
        )
        mean, log_var = both[:, 0], both[:, 1]
        if single:
            mean, log_var = mean[0], log_var[0]
        return (mean, log_var) if return_log_var else mean

    def sample(self, n, seed=None, batch_size=256):
        """Decode ``n`` codes drawn from the prior N(0, I); the same ``seed`` gives the same images."""
        n = check_output_memory(check_positive_int("n", n), self.input_shape, f"{type(self).__name__}.sample")
        batch_size = check_positive_int("batch_size", batch_size)
        z = to_numpy(keras.random.normal((n, self.latent_dim), seed=seed))
        return self.decode(z, batch_size=batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, seed=self.seed, posterior_flow=self.posterior_flow, flow_steps=self.flow_steps,
                      flow_hidden=list(self.flow_hidden), flow_context=self.flow_context)
        if self.kl_warmup_steps:  # only when set: configs saved before the warm-up existed stay as they were
            config.update(kl_warmup_steps=self.kl_warmup_steps)
        return config


def _encoder_features(encoder):
    """A functional view of ``encoder`` that returns ``[z_mean, z_log_var, h]``, ``h`` the vector its mean layer
    reads (the layer before the code: the IAF paper's context). Shares the encoder's layers and weights."""
    history = getattr(encoder.outputs[0], "_keras_history", None)
    node = history.operation._inbound_nodes[history.node_index] if history is not None else None
    inputs = list(node.input_tensors) if node is not None else []
    if len(inputs) != 1 or len(inputs[0].shape) != 2:
        raise InvalidArgumentError(
            "flow_context='features' needs an encoder whose z_mean layer reads one vector (batch, width), as the "
            "zoo's encoders' Dense heads do; this encoder's does not. Use flow_context='gaussian'.")
    return keras.Model(encoder.input, list(encoder.outputs) + inputs, name=f"{encoder.name}_features")


def _check_widths(name, value):
    """A non-empty sequence of positive integer layer widths, as a tuple."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ArgumentTypeError(f"`{name}` must be a list of layer widths (integers >= 1), e.g. (128, 128); "
                                f"received {value!r}.")
    widths = tuple(check_positive_int(f"{name} widths", w) for w in value)
    if not widths:
        raise InvalidArgumentError(f"`{name}` must list at least one layer width; received {value!r}.")
    return widths


@register_serializable
class ConditionalVAE(VAE):
    """A VAE whose encoder and decoder also see the class label (one-hot).

    Called on ``(images, labels)``; ``fit(x, y)`` or a dataset of ``(images, labels)`` trains it, and
    ``sample(n, labels=...)`` draws images of chosen classes.
    """

    def __init__(self, encoder, decoder, num_classes, beta=1.0, likelihood="bernoulli", sigma=0.1, seed=None, **kwargs):
        num_classes = check_positive_int("num_classes", num_classes, minimum=2)
        super().__init__(encoder, decoder, beta=beta, likelihood=likelihood, sigma=sigma, seed=seed, **kwargs)
        self._num_classes = num_classes

    @property
    def num_classes(self):
        return self._num_classes

    def split_inputs(self, inputs):
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise self._missing_labels_error()
        images, labels = inputs
        images = self._check_call_images(images)
        return images, self._condition(labels)

    def _labels(self, labels, n):
        return checks.labels_for(labels, n, self.num_classes, type(self).__name__)

    def encode(self, x, labels=None, batch_size=256, return_log_var=False):
        x, labels, single = self._arrays(x, labels)
        labels = self._labels(labels, len(x))

        def fn(a, b):
            images, cond = self.split_inputs((a, b))
            return ops.stack(self._encode(images, cond, False), axis=1)

        both = batched(fn, [x, labels], batch_size)
        mean, log_var = both[:, 0], both[:, 1]
        if single:
            mean, log_var = mean[0], log_var[0]
        return (mean, log_var) if return_log_var else mean

    def decode(self, z, labels=None, batch_size=256):
        z = self._check_codes(z)
        labels = self._labels(labels, len(z))
        return batched(
            lambda a, b: self.link(self._decode(a, self._condition(b), False)), [z, labels], batch_size
        )

    def reconstruct(self, x, labels=None, batch_size=256):
        x, labels, single = self._arrays(x, labels)
        labels = self._labels(labels, len(x))
        r = batched(lambda a, b: self((a, b), training=False)["reconstruction"], [x, labels], batch_size)
        return r[0] if single else r

    def sample(self, n, labels=None, seed=None, batch_size=256):
        """Decode ``n`` prior draws conditioned on ``labels`` (one int for all, or one per sample)."""
        n = check_output_memory(check_positive_int("n", n), self.input_shape, f"{type(self).__name__}.sample")
        labels = self._labels(labels, n)
        z = to_numpy(keras.random.normal((n, self.latent_dim), seed=seed))
        return self.decode(z, labels, batch_size=batch_size)

    def interpolate(self, x_a, x_b, steps=8, labels_a=None, labels_b=None):
        """Interpolate codes between two images, decoding with ``labels_a`` (the first image's class)."""
        steps = check_positive_int("steps", steps, minimum=2)
        za, zb = self.encode(x_a, labels_a), self.encode(x_b, labels_b if labels_b is not None else labels_a)
        n = 1 if np.ndim(za) == 1 else len(za)
        lab = np.repeat(self._labels(labels_a, n), steps)
        return self._interpolate_codes(za, zb, steps, lambda z: self.decode(z, lab))

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config
