"""The reparameterization trick with the closed-form Gaussian KL added as a layer loss."""

__all__ = ["GaussianSampling"]

import keras
from keras import ops

from keras_ae import losses
from keras_ae.errors import check_non_negative
from keras_ae.ops.distribute import ReplicaSeedGenerator
from keras_ae.serialization import register_serializable


@register_serializable
class GaussianSampling(keras.layers.Layer):
    """``z = mu + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` from a seeded ``keras.random`` generator (a
    :class:`~keras_ae.ops.distribute.ReplicaSeedGenerator`: each replica of a ``tf.distribute`` strategy draws its own).

    Called on ``[z_mean, z_log_var]``. In training it samples; with ``training=False`` it returns
    ``z_mean`` so that inference is deterministic. Each call adds ``kl_weight * mean_batch KL(q || N(0, I))``
    with :meth:`add_loss`, so a plain functional model that uses this layer is already a (beta-)VAE; a model that
    computes the KL itself from its outputs (:class:`~keras_ae.models.VAE`) calls it with ``add_loss=False``.
    """

    def __init__(self, kl_weight=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kl_weight = check_non_negative("kl_weight", kl_weight)
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)  # each tf.distribute replica draws its own noise

    def noise(self, z_mean):
        """The base noise ``eps ~ N(0, I)`` of :meth:`sample`, shaped and typed like ``z_mean``."""
        return keras.random.normal(ops.shape(z_mean), seed=self.seed_generator, dtype=z_mean.dtype)

    def sample(self, z_mean, z_log_var):
        """Draw ``z`` by reparameterization, always stochastic and without adding a loss."""
        return z_mean + ops.exp(0.5 * z_log_var) * self.noise(z_mean)

    def call(self, inputs, training=None, add_loss=True):
        z_mean, z_log_var = inputs
        if self.kl_weight and add_loss:
            self.add_loss(self.kl_weight * ops.mean(losses.gaussian_kl(z_mean, z_log_var)))
        if training:
            return self.sample(z_mean, z_log_var)
        return z_mean

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(kl_weight=self.kl_weight, seed=self.seed)
        return config
