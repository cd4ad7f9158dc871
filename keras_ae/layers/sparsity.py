"""Sparsity for autoencoder codes: an L1 activity penalty, KL sparsity toward a target rate, k-sparse codes.

The penalties are added with ``add_loss``, so ``Autoencoder.compute_loss`` (which adds ``sum(self.losses)``)
trains them with no other change; each layer is an identity on its input except :class:`KSparse`.
Penalties are per example (summed over code units, averaged over the batch), the scale of the
reconstruction loss in nats per example.
"""

__all__ = ["ActivityL1", "KLSparsity", "KSparse", "kl_sparsity_penalty"]

import keras
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_non_negative, check_positive_int
from keras_ae.serialization import register_serializable


@register_serializable
class ActivityL1(keras.layers.Layer):
    """Identity that adds ``l1 * mean_batch sum_j |h_j|``."""

    def __init__(self, l1=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.l1 = check_non_negative("l1", l1)

    def call(self, inputs):
        if self.l1:
            flat = ops.reshape(ops.abs(ops.cast(inputs, "float32")), (ops.shape(inputs)[0], -1))
            self.add_loss(self.l1 * ops.mean(ops.sum(flat, axis=-1)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1)
        return config


def kl_sparsity_penalty(rho, rho_hat, eps=1e-6):
    """``sum_j rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j))`` (float32)."""
    rho_hat = ops.clip(ops.cast(rho_hat, "float32"), eps, 1.0 - eps)
    return ops.sum(rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat)))


@register_serializable
class KLSparsity(keras.layers.Layer):
    """Identity that adds ``weight * sum_j KL(rho || rho_hat_j)``, ``rho_hat_j`` the batch-mean activation.

    The activations must lie in (0, 1): put it after a sigmoid layer. ``rho`` is the target mean activation.
    """

    def __init__(self, rho=0.05, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        try:
            r = float(rho)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"`rho` must be a number in (0, 1); received {rho!r}.") from None
        if not (0.0 < r < 1.0):
            raise InvalidArgumentError(
                f"`rho` (the target mean activation of the code units) must lie strictly in (0, 1); received {rho!r}."
            )
        self.rho = r
        self.weight = check_non_negative("weight", weight)

    def call(self, inputs):
        if self.weight:
            flat = ops.reshape(ops.cast(inputs, "float32"), (ops.shape(inputs)[0], -1))
            self.add_loss(self.weight * kl_sparsity_penalty(self.rho, ops.mean(flat, axis=0)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, weight=self.weight)
        return config


@register_serializable
class KSparse(keras.layers.Layer):
    """Keep the ``k`` largest-magnitude activations of each code (last axis), zero the others.

    Gradients flow through the kept units only (Makhzani & Frey's k-sparse autoencoder). Ties at the
    k-th magnitude are all kept.
    """

    def __init__(self, k=10, **kwargs):
        super().__init__(**kwargs)
        self.k = check_positive_int("k", k)

    def build(self, input_shape):
        units = input_shape[-1]
        if units is not None and self.k > units:
            raise InvalidArgumentError(
                f"KSparse keeps the k={self.k} largest activations, but the code has only {units} units; "
                f"use k <= {units}."
            )
        self.built = True

    def call(self, inputs):
        magnitude = ops.abs(inputs)
        kth = ops.top_k(magnitude, self.k, sorted=True)[0][..., -1:]
        keep = ops.cast(magnitude >= kth, inputs.dtype)
        return inputs * ops.stop_gradient(keep)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(k=self.k)
        return config
