"""Deterministic autoencoders: ``x -> encoder -> z -> decoder -> x_hat``."""

__all__ = ["Autoencoder"]

import keras
import numpy as np
from keras import ops

from keras_ae import losses
from keras_ae.data import checks
from keras_ae.errors import InvalidDataError, check_choice, check_positive, check_positive_int
from keras_ae.models.base_model import KerasAEModel
from keras_ae.ops.arrays import batched, check_codes, dataset_arrays, is_tf_dataset, to_numpy
from keras_ae.ops.distribute import scale_loss_for_distribution
from keras_ae.serialization import register_serializable

LIKELIHOODS = ("bernoulli", "gaussian")


@register_serializable
class Autoencoder(KerasAEModel):
    """An encoder and a decoder trained by the negative log-likelihood of the input.

    Args:
        encoder: a functional model from images to codes.
        decoder: a functional model from codes to the likelihood parameter (logits for
            ``likelihood="bernoulli"``, the mean for ``likelihood="gaussian"``).
        likelihood: ``"bernoulli"`` (binary cross entropy on logits; data in [0, 1]) or
            ``"gaussian"`` (fixed standard deviation ``sigma``; squared error in nats).
        sigma: the Gaussian likelihood's standard deviation.

    ``model(x)`` returns a dict: ``reconstruction`` (in data space), ``decoder_output`` (the raw
    likelihood parameter) and ``z``. ``fit`` reports ``loss``, ``reconstruction_loss`` (nats per
    example) and ``mse`` (mean squared error per pixel).
    """

    def __init__(self, encoder, decoder, likelihood="bernoulli", sigma=0.1, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
        self.sigma = check_positive("sigma", sigma)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    # ----- shapes -------------------------------------------------------------------------
    @property
    def input_shape(self):
        """The shape of one input example (no batch axis), as the encoder takes it."""
        return tuple(self.encoder.inputs[0].shape[1:])

    @property
    def latent_dim(self):
        return int(self.decoder.inputs[0].shape[-1])

    @property
    def value_range(self):
        return (0.0, 1.0) if self.likelihood == "bernoulli" else None

    value_range_hint = "for a Bernoulli likelihood (or build the model with likelihood='gaussian')"

    @property
    def loss_magnitude(self):
        """The likelihood sums over the pixels; a Gaussian one also divides squared errors by ``sigma**2``."""
        pixels = float(np.prod(self.input_shape))
        return pixels if self.likelihood == "bernoulli" else pixels / min(self.sigma, 1.0) ** 2

    # ----- likelihood ---------------------------------------------------------------------
    def link(self, decoder_output):
        """Map the decoder's raw output to data space (sigmoid for Bernoulli)."""
        if self.likelihood == "bernoulli":
            return ops.sigmoid(decoder_output)
        return decoder_output

    def reconstruction_nll(self, images, decoder_output):
        """Per-example negative log-likelihood of ``images`` (nats) given the decoder's raw output."""
        if self.likelihood == "bernoulli":
            return losses.bernoulli_nll(images, decoder_output)
        return losses.gaussian_nll(images, decoder_output, float(np.log(self.sigma)))

    def log_likelihood(self, images, z, labels=None):
        """``log p(x | z)`` per example (nats, float32; tensors in and out): the decoder on codes ``z`` (with the
        integer ``labels`` of conditional models) under the model's likelihood. Used by importance-weighted bounds
        (:func:`keras_ae.evaluation.latent.iwae_nll`)."""
        return -self.reconstruction_nll(images, self._decode(z, self._condition(labels), False))

    def _condition(self, labels):
        """The encoder's and decoder's condition from integer ``labels`` (``None`` for unconditional models)."""
        if labels is None:
            return None
        return ops.one_hot(ops.reshape(ops.cast(labels, "int32"), (-1,)), self.num_classes)

    # ----- forward ------------------------------------------------------------------------
    def split_inputs(self, inputs):
        """``(images, condition)``; the condition is ``None`` for unconditional models."""
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 1:
                raise InvalidDataError(
                    f"{type(self).__name__} takes a batch of images, not a tuple of {len(inputs)} tensors."
                )
            inputs = inputs[0]
        return self._check_call_images(inputs), None

    def _encode(self, images, condition, training=None):
        args = images if condition is None else [images, condition]
        return self.encoder(args, training=training)

    def _decode(self, z, condition, training=None):
        args = z if condition is None else [z, condition]
        return self.decoder(args, training=training)

    def call(self, inputs, training=None):
        images, condition = self.split_inputs(inputs)
        z = self._encode(images, condition, training)
        out = self._decode(z, condition, training)
        return {"reconstruction": self.link(out), "decoder_output": out, "z": z}

    def extra_losses(self):
        """Losses added by layers (``add_loss``: activity penalties, regularizers). Terms a model computes from its own
        outputs (a VAE's KL, a VQ-VAE's codebook loss) are not added by their layers (``add_loss=False``).

        Read them before any cross-replica operation of the step: under a ``tf.distribute`` strategy the replicas
        share each layer's list of added losses, and at an all-reduce (a synchronized batch norm, an EMA update)
        another replica's call may clear or extend it.
        """
        return sum(self.losses)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images, _ = self.split_inputs(x)
        rec = self.reconstruction_nll(images, y_pred["decoder_output"])
        self.reconstruction_tracker.update_state(rec, sample_weight=sample_weight)
        self.mse_tracker.update_state(
            losses.squared_error(images, y_pred["reconstruction"]), sample_weight=sample_weight
        )
        # per replica, divided by the number of replicas (as Keras' own losses): the update is the single-device one
        return scale_loss_for_distribution(losses.weighted_mean(rec, sample_weight) + self.extra_losses())

    # ----- user methods (numpy in, numpy out, batched) ------------------------------------
    def _arrays(self, x, condition=None, argument="x"):
        """``(images, condition, single)``: ``x`` (an array, one image, or a dataset) checked as ``fit`` checks it
        (shape, finite, in the likelihood's range), as a float32 batch."""
        if is_tf_dataset(x):
            x, labels = dataset_arrays(x)
            if condition is None:
                condition = labels
        with self._checking(argument):
            self.check_data_container(x, method="encode", allow_lists=True)
        x = np.asarray(to_numpy(x) if not isinstance(x, (np.ndarray, list, tuple)) else x)
        single = x.ndim == len(self.input_shape)
        if single:
            x = x[None]
        x = checks.check_images_array(x, self.input_shape, self.value_range, range_hint=self.value_range_hint,
                                      argument=argument)
        return x.astype("float32"), condition, single

    def encode(self, x, batch_size=256):
        """The code of each image (numpy); accepts arrays or a dataset."""
        x, _, single = self._arrays(x)
        z = batched(lambda a: self._encode(self._check_call_images(a), None, False), [x], batch_size)
        return z[0] if single else z

    def decode(self, z, batch_size=256):
        """Images (in data space) decoded from codes ``z`` of shape (n, latent_dim)."""
        z = self._check_codes(z)
        return batched(lambda a: self.link(self._decode(a, None, False)), [z], batch_size)

    def reconstruct(self, x, batch_size=256):
        """Deterministic reconstructions of ``x`` (numpy, data space)."""
        x, _, single = self._arrays(x)
        r = batched(lambda a: self(a, training=False)["reconstruction"], [x], batch_size)
        return r[0] if single else r

    def interpolate(self, x_a, x_b, steps=8):
        """Decode ``steps`` codes evenly spaced on the line between the codes of ``x_a`` and ``x_b``.

        Returns shape ``(steps, H, W, C)`` for two images, ``(n, steps, H, W, C)`` for two batches.
        """
        steps = check_positive_int("steps", steps, minimum=2)
        za, zb = self.encode(x_a), self.encode(x_b)
        return self._interpolate_codes(za, zb, steps, lambda z: self.decode(z))

    def _interpolate_codes(self, za, zb, steps, decode_fn):
        single = za.ndim == 1
        za, zb = np.atleast_2d(za), np.atleast_2d(zb)
        if za.shape != zb.shape:
            raise InvalidDataError(f"x_a and x_b must hold the same number of images; codes {za.shape} vs {zb.shape}.")
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
        z = (1 - t) * za[:, None, :] + t * zb[:, None, :]
        images = decode_fn(z.reshape(-1, za.shape[-1]))
        images = images.reshape((za.shape[0], steps) + images.shape[1:])
        return images[0] if single else images

    def _check_codes(self, z):
        return check_codes(z, (self.latent_dim,))

    # ----- serialization ------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            likelihood=self.likelihood,
            sigma=self.sigma,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
