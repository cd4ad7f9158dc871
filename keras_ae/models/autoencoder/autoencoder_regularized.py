"""Regularized autoencoders: denoising (corrupt the input, reconstruct the clean one) and contractive.

Both subclass :class:`~keras_ae.models.Autoencoder`: same outputs, likelihoods, metrics and
user methods (``encode``, ``decode``, ``reconstruct``, ``interpolate``), with ``call`` / ``compute_loss``
overridden.
"""

__all__ = [
    "DenoisingAutoencoder",
    "ContractiveAutoencoder",
    "dense_sigmoid_layer",
    "finite_difference_jacobian_sq",
]

import keras
import numpy as np
from keras import ops

from keras_ae import losses
from keras_ae.errors import InvalidArgumentError, check_non_negative
from keras_ae.layers.corruption import Corruption
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.ops.arrays import batched
from keras_ae.ops.autodiff import jacobian_frobenius_sq
from keras_ae.ops.distribute import scale_loss_for_distribution
from keras_ae.serialization import register_serializable


@register_serializable
class DenoisingAutoencoder(Autoencoder):
    """An autoencoder trained to reconstruct clean inputs from corrupted ones.

    Args:
        encoder, decoder, likelihood, sigma: as :class:`~keras_ae.models.autoencoder.Autoencoder`.
        corruption: a :class:`~keras_ae.layers.corruption.Corruption` layer (``GaussianNoise``,
            ``PixelRemoval``, ``GaussianBlur``, ``BlockMask``). It corrupts the input in training only;
            the loss compares the reconstruction with the *clean* input. ``model(x, training=False)``
            is deterministic and does not corrupt.

    ``model.corrupt(x)`` applies the corruption on purpose (numpy in and out) and ``model.restore(x)``
    (= ``reconstruct``) maps corrupted images back, so a restoration can be measured on test data.
    """

    def __init__(self, encoder, decoder, corruption, likelihood="bernoulli", sigma=0.1, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, sigma=sigma, **kwargs)
        if not isinstance(corruption, Corruption):
            raise InvalidArgumentError(
                "`corruption` must be a keras_ae corruption layer (GaussianNoise, PixelRemoval, GaussianBlur, "
                f"BlockMask); received {type(corruption).__name__}."
            )
        self.corruption = corruption

    def call(self, inputs, training=None):
        images, condition = self.split_inputs(inputs)
        noisy = self.corruption(images, training=training)
        z = self._encode(noisy, condition, training)
        out = self._decode(z, condition, training)
        return {"reconstruction": self.link(out), "decoder_output": out, "z": z}

    def corrupt(self, x, batch_size=256, seed=None):
        """Apply the corruption on purpose (numpy in, numpy out).

        With ``seed`` the corruption is drawn from a fresh generator seeded with it (the same corrupted test
        set on every call); without, from the model's own generator.
        """
        x, _, single = self._arrays(x)
        layer = self.corruption
        if seed is not None:
            layer = type(layer).from_config(dict(layer.get_config(), seed=seed))
        y = batched(lambda a: layer.corrupt(ops.convert_to_tensor(a)), [x], batch_size)
        return y[0] if single else y

    def restore(self, x, batch_size=256):
        """Reconstruct (denoise) already-corrupted images; the same as :meth:`reconstruct`."""
        return self.reconstruct(x, batch_size=batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(corruption=keras.saving.serialize_keras_object(self.corruption))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["corruption"] = keras.saving.deserialize_keras_object(config["corruption"])
        return super().from_config(config)


# ----- the contractive penalty ----------------------------------------------------------------
_PASSTHROUGH = (keras.layers.InputLayer, keras.layers.Flatten, keras.layers.Reshape)


def dense_sigmoid_layer(encoder):
    """The encoder's single ``Dense`` layer when the encoder is ``[Flatten/Reshape] -> Dense(sigmoid)``
    (the case with a closed-form Jacobian), else ``None``."""
    layers = [l for l in getattr(encoder, "layers", []) if not isinstance(l, _PASSTHROUGH)]
    if len(layers) != 1 or not isinstance(layers[0], keras.layers.Dense):
        return None
    dense = layers[0]
    if keras.activations.serialize(dense.activation) != "sigmoid":
        return None
    if len(encoder.inputs) != 1 or encoder.outputs[0] is not dense.output:
        return None
    return dense


def _closed_form(dense, h):
    """``||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ij^2`` for ``h = sigmoid(W^T x + b)`` (per example)."""
    h = ops.cast(h, "float32")
    w_sq = ops.sum(ops.square(ops.cast(dense.kernel, "float32")), axis=0)
    return ops.sum(ops.square(h * (1.0 - h)) * w_sq, axis=-1)


@register_serializable
class ContractiveAutoencoder(Autoencoder):
    """An autoencoder whose loss adds ``contraction * ||J_h(x)||_F^2``, ``J_h`` the encoder's Jacobian.

    For an encoder ``[Flatten] -> Dense(sigmoid)`` the penalty has the closed form
    ``sum_j (h_j (1 - h_j))^2 sum_i W_ij^2`` (cheap); for any other encoder it is computed by automatic
    differentiation (one reverse pass per code unit). ``fit`` reports ``contractive_loss`` (the unweighted
    mean squared Frobenius norm).
    """

    def __init__(self, encoder, decoder, contraction=0.1, likelihood="bernoulli", sigma=0.1, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, sigma=sigma, **kwargs)
        self.contraction = check_non_negative("contraction", contraction)
        self.contractive_tracker = keras.metrics.Mean(name="contractive_loss")

    @property
    def closed_form(self):
        """True when the penalty uses the closed form of a dense sigmoid encoder."""
        return dense_sigmoid_layer(self.encoder) is not None

    def jacobian_penalty(self, images, z=None, training=False):
        """Per-example ``||J_h(x)||_F^2`` (float32)."""
        dense = dense_sigmoid_layer(self.encoder)
        if dense is not None:
            if z is None:
                z = self.encoder(images, training=training)
            return _closed_form(dense, z)
        return ops.cast(jacobian_frobenius_sq(lambda a: self.encoder(a, training=training), images), "float32")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)  # already scaled per replica
        images, _ = self.split_inputs(x)
        penalty = self.jacobian_penalty(images, y_pred["z"], training=training)
        self.contractive_tracker.update_state(penalty, sample_weight=sample_weight)
        if not self.contraction:
            return loss
        return loss + scale_loss_for_distribution(self.contraction * losses.weighted_mean(penalty, sample_weight))

    def get_config(self):
        config = super().get_config()
        config.update(contraction=self.contraction)
        return config


def finite_difference_jacobian_sq(fn, x, eps=1e-3):
    """Per-example ``||J||_F^2`` by central differences (numpy, float64), for tests and checks."""
    x = np.asarray(x, dtype="float64")
    flat = x.reshape(len(x), -1)
    total = np.zeros(len(x))
    for i in range(flat.shape[1]):
        d = np.zeros_like(flat)
        d[:, i] = eps
        up = np.asarray(fn((flat + d).reshape(x.shape).astype("float32")), dtype="float64")
        down = np.asarray(fn((flat - d).reshape(x.shape).astype("float32")), dtype="float64")
        total += np.sum(((up - down) / (2 * eps)) ** 2, axis=-1)
    return total
