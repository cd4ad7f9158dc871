"""Variational autoencoders: VAE, beta-VAE (a VAE with ``beta != 1``) and the conditional VAE."""

__all__ = ["VAE", "ConditionalVAE"]

import keras
import numpy as np
from keras import ops

from keras_ae import losses
from keras_ae.data import checks
from keras_ae.errors import check_non_negative, check_positive_int
from keras_ae.layers.sampling import GaussianSampling
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.ops.arrays import batched, check_output_memory, to_numpy
from keras_ae.ops.distribute import scale_loss_for_distribution
from keras_ae.serialization import register_serializable


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
    """

    labels_hint = "the conditional VAE, keras_ae.zoo.conv_cvae"

    def __init__(self, encoder, decoder, beta=1.0, likelihood="bernoulli", sigma=0.1, seed=None, **kwargs):
        beta = check_non_negative("beta", beta)  # here, not as the sampling layer's internal `kl_weight`
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

    @property
    def beta(self):
        return self.sampling.kl_weight

    @property
    def latent_dim(self):
        return int(self.encoder.outputs[0].shape[-1])

    def call(self, inputs, training=None):
        images, condition = self.split_inputs(inputs)
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
        if training:
            out = y_pred["decoder_output"]
        else:  # the outputs were decoded from the mean; the ELBO needs a sampled z
            out = self._decode(self.sampling.sample(z_mean, z_log_var), condition, False)
        rec = self.reconstruction_nll(images, out)
        kl = losses.gaussian_kl(z_mean, z_log_var)
        self.reconstruction_tracker.update_state(rec, sample_weight=sample_weight)
        self.kl_tracker.update_state(kl, sample_weight=sample_weight)
        self.neg_elbo_tracker.update_state(rec + kl, sample_weight=sample_weight)
        self.mse_tracker.update_state(
            losses.squared_error(images, y_pred["reconstruction"]), sample_weight=sample_weight
        )
        # beta * KL from this call's own outputs (the sampling layer adds none, see call), plus any other layer's losses
        loss = losses.weighted_mean(rec + self.beta * kl, sample_weight) + self.extra_losses()
        return scale_loss_for_distribution(loss)  # per replica, divided by the number of replicas (as Keras' losses)

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
        config.update(beta=self.beta, seed=self.seed)
        return config


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
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return images, ops.one_hot(labels, self.num_classes)

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
            lambda a, b: self.link(self._decode(a, ops.one_hot(b, self.num_classes), False)), [z, labels], batch_size
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
