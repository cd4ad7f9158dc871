"""Vector quantization (VQ-VAE, van den Oord et al. 2017) with an optional EMA codebook.

The layer maps every vector along the last axis of its input to the nearest of ``num_embeddings``
codebook vectors, passes gradients straight through to the encoder, and adds the VQ losses with
``add_loss``. Losses are summed over every non-batch axis and averaged over the batch, the same
reduction as the reconstruction log-likelihoods in :mod:`keras_ae.losses` (the paper's objective).
"""

__all__ = ["VectorQuantizer", "codebook_statistics"]

import keras
import numpy as np
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_non_negative, check_positive_int
from keras_ae.ops.distribute import cross_replica_concat, cross_replica_sum
from keras_ae.serialization import register_serializable


def codebook_statistics(indices, num_embeddings):
    """``(perplexity, share_in_use)`` of the code ``indices`` (any shape) as float32 scalars.

    Perplexity is ``exp(entropy)`` of the empirical code distribution (``num_embeddings`` when
    every code is used equally, 1 when one code takes everything); ``share_in_use`` is the share of
    the codebook that occurs at least once. Under a ``tf.distribute`` strategy the counts are pooled over the
    replicas: the statistics are the global batch's.
    """
    flat = ops.reshape(ops.cast(indices, "int32"), (-1,))
    counts = cross_replica_sum(ops.sum(ops.one_hot(flat, num_embeddings, dtype="float32"), axis=0))
    probs = counts / ops.maximum(ops.sum(counts), 1.0)
    entropy = -ops.sum(probs * ops.log(ops.maximum(probs, 1e-12)))
    share = ops.mean(ops.cast(counts > 0, "float32"))
    return ops.exp(entropy), share


@register_serializable
class VectorQuantizer(keras.layers.Layer):
    """Nearest-code quantization with the straight-through estimator.

    Args:
        num_embeddings: the codebook size K.
        embedding_dim: the code vector size D; the input's last axis must have this size.
        beta: weight of the commitment loss ``beta * ||z - sg[e]||^2``.
        ema: update the codebook by exponential moving averages of the assigned encoder outputs
            (Razavi et al. 2019) instead of by gradients. The EMA statistics (``ema_cluster_size``,
            ``ema_embed_sum``) are non-trainable variables: they are saved and reloaded with the model,
            and are updated inside ``call`` only when ``training`` is true (this works on every backend,
            the JAX trainer included, as for batch-norm statistics).
        decay: the EMA decay.
        epsilon: Laplace smoothing of the EMA cluster sizes.
        dead_code_threshold: with ``ema=True``, a code whose EMA cluster size (assignments per batch)
            falls below this value is re-initialised to a random encoder output of the current batch.
            ``0`` disables it. Re-initialisation needs ``ema=True``: a gradient-trained codebook would
            be re-set behind its optimizer's moment estimates (and JAX cannot assign trainable
            variables inside ``call``).
        seed: seed of the random choice of encoder outputs for re-initialised codes.

    Under a ``tf.distribute`` strategy the EMA update uses the counts and sums of the *global* batch (summed over
    the replicas) and re-initialised codes are picked from the global batch with the same draw on every replica, so
    every replica holds the same codebook, equal to the one a single device computes from the same batch (and the
    saved model has it). Under JAX's ``DataParallel`` the batch is global already.

    ``call(z, training=None, return_indices=False, update_codebook=True, add_loss=True)`` returns the straight-through quantized
    tensor (numerically the chosen codes), and with ``return_indices=True`` also the int32 code indices (the
    input's shape without its last axis); ``compute_output_shape`` and ``compute_output_spec`` declare both.
    It adds ``codebook_loss + beta * commitment_loss`` (:meth:`vq_loss`; without the codebook term when
    ``ema=True``), unless ``add_loss=False`` (a model that computes the term itself from the outputs, as
    :class:`~keras_ae.models.VQVAE` does: reading it back from ``add_loss`` is not reliable on every backend and
    under ``tf.distribute``). With ``training=True`` it updates the EMA codebook, unless ``update_codebook=False`` (then the
    caller runs :meth:`update_codebook`).

    The quantized tensor is float32 under every dtype policy, as declared: it is numerically the float32
    codebook rows, and the losses computed from it stay exact (a half-precision layer after it casts it
    on input). Under a mixed policy the codebook and its EMA statistics are float32 variables read without
    autocasting, and distances, the losses and the EMA update are computed in float32.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        beta=0.25,
        ema=False,
        decay=0.99,
        epsilon=1e-5,
        dead_code_threshold=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings, minimum=2)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.beta = check_non_negative("beta", beta)
        self.ema = bool(ema)
        decay = float(decay)
        if not 0.0 <= decay < 1.0:
            raise InvalidArgumentError(f"`decay` must be in [0, 1); received {decay!r}.")
        self.decay = decay
        epsilon = float(epsilon)
        if not epsilon > 0:
            raise InvalidArgumentError(f"`epsilon` must be > 0; received {epsilon!r}.")
        self.epsilon = epsilon
        self.dead_code_threshold = check_non_negative("dead_code_threshold", dead_code_threshold)
        if self.dead_code_threshold > 0 and not self.ema:
            raise InvalidArgumentError(
                "`dead_code_threshold` > 0 (re-initialising unused codes) needs `ema=True`; with a "
                "gradient-trained codebook pass dead_code_threshold=0."
            )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and int(channels) != self.embedding_dim:
            raise InvalidArgumentError(
                f"VectorQuantizer has embedding_dim={self.embedding_dim}, but its input's last axis has "
                f"{channels} channels; they must match (input shape {tuple(input_shape)})."
            )
        limit = 1.0 / self.num_embeddings
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.num_embeddings, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed),
            trainable=not self.ema,
            autocast=False,
        )
        if self.ema:
            self.ema_cluster_size = self.add_weight(
                name="ema_cluster_size", shape=(self.num_embeddings,), initializer="ones", trainable=False,
                autocast=False,
            )
            # Starts equal to the codebook (with unit cluster sizes the EMA codebook equals it).
            self.ema_embed_sum = self.add_weight(
                name="ema_embed_sum",
                shape=(self.num_embeddings, self.embedding_dim),
                initializer=lambda shape, dtype=None: ops.copy(self.embeddings.value),
                trainable=False,
                autocast=False,
            )
        self.built = True

    # ----- pieces ---------------------------------------------------------------------------
    def _flatten(self, inputs):
        return ops.reshape(ops.cast(inputs, "float32"), (-1, self.embedding_dim))

    def nearest(self, flat):
        """Indices (int32) of the nearest codes to the rows of ``flat`` (N, D)."""
        codebook = ops.cast(self.embeddings, "float32")
        distances = (
            ops.sum(ops.square(flat), axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(codebook))
            + ops.sum(ops.square(codebook), axis=1)[None, :]
        )
        return ops.cast(ops.argmin(distances, axis=1), "int32")

    def lookup(self, indices):
        """The code vectors of integer ``indices`` (any shape) -> shape ``indices.shape + (D,)``."""
        return ops.take(ops.cast(self.embeddings, "float32"), ops.cast(indices, "int32"), axis=0)

    def _ema_update(self, flat, indices):
        flat = ops.stop_gradient(flat)
        onehot = ops.one_hot(indices, self.num_embeddings, dtype="float32")
        counts = cross_replica_sum(ops.sum(onehot, axis=0))  # the global batch's statistics, on every replica
        sums = cross_replica_sum(ops.matmul(ops.transpose(onehot), flat))
        d = self.decay
        cluster = self.ema_cluster_size * d + (1.0 - d) * counts
        embed_sum = self.ema_embed_sum * d + (1.0 - d) * sums
        n = ops.sum(cluster)
        k = float(self.num_embeddings)
        smoothed = (cluster + self.epsilon) / (n + k * self.epsilon) * n
        embeddings = embed_sum / smoothed[:, None]
        if self.dead_code_threshold > 0:
            # candidates from the global batch, picked with one draw shared by the replicas (a mirrored generator)
            flat = cross_replica_concat(flat)
            rows = ops.shape(flat)[0]
            u = keras.random.uniform((self.num_embeddings,), seed=self.seed_generator)
            pick = ops.cast(ops.floor(u * ops.cast(rows, "float32")), "int32")
            pick = ops.clip(pick, 0, rows - 1)
            fresh = ops.take(flat, pick, axis=0)
            dead = cluster < self.dead_code_threshold
            threshold = ops.full_like(cluster, self.dead_code_threshold)
            cluster = ops.where(dead, threshold, cluster)
            embeddings = ops.where(dead[:, None], fresh, embeddings)
            embed_sum = ops.where(dead[:, None], fresh * threshold[:, None], embed_sum)
        self.ema_cluster_size.assign(ops.stop_gradient(cluster))
        self.ema_embed_sum.assign(ops.stop_gradient(embed_sum))
        self.embeddings.assign(ops.cast(ops.stop_gradient(embeddings), self.embeddings.dtype))

    # ----- forward ----------------------------------------------------------------------------
    def vq_loss(self, z, codes):
        """``beta * ||z - sg[e]||^2`` (plus ``||sg[z] - e||^2`` without EMA), summed per example and averaged over
        the batch (float32): the loss this layer adds, from encoder outputs ``z`` and their codebook rows ``codes``
        (``lookup(indices)``, through which the codebook term reaches the codebook)."""
        z = ops.cast(z, "float32")
        batch = ops.cast(ops.shape(z)[0], "float32")
        loss = self.beta * ops.sum(ops.square(z - ops.stop_gradient(codes))) / batch
        if not self.ema:
            loss = loss + ops.sum(ops.square(ops.stop_gradient(z) - codes)) / batch
        return loss

    def update_codebook(self, z, indices):
        """The EMA update of the codebook from encoder outputs ``z`` and their code ``indices`` (``ema=True``).

        ``call(z, training=True)`` runs it; a model that calls the layer with ``update_codebook=False`` runs it
        itself, after reading its losses: under a ``tf.distribute`` strategy the update all-reduces the replicas'
        statistics, and replicas share each layer's list of added losses (see
        :meth:`keras_ae.models.Autoencoder.extra_losses`).
        """
        if not self.ema:
            raise ValueError("update_codebook is the EMA update: this VectorQuantizer has ema=False (its codebook is "
                             "trained by gradients).")
        self._ema_update(self._flatten(z), ops.reshape(ops.cast(indices, "int32"), (-1,)))

    def call(self, inputs, training=None, return_indices=False, update_codebook=True, add_loss=True):
        z = ops.cast(inputs, "float32")
        flat = self._flatten(z)
        indices_flat = self.nearest(flat)
        indices = ops.reshape(indices_flat, ops.shape(z)[:-1])
        quantized = self.lookup(indices)
        if add_loss:
            self.add_loss(self.vq_loss(z, quantized))
        if training and self.ema and update_codebook:
            self._ema_update(flat, indices_flat)
        # straight-through estimator: forward value = codes, gradient = identity to the encoder
        out = z + ops.stop_gradient(quantized - z)
        if return_indices:
            return out, indices
        return out

    def compute_output_shape(self, input_shape, return_indices=False, update_codebook=True, add_loss=True):
        if return_indices:
            return tuple(input_shape), tuple(input_shape[:-1])
        return tuple(input_shape)

    def compute_output_spec(self, inputs, training=None, return_indices=False, update_codebook=True, add_loss=True):
        shape = self.compute_output_shape(inputs.shape, return_indices=return_indices)
        if return_indices:
            return keras.KerasTensor(shape[0], dtype="float32"), keras.KerasTensor(shape[1], dtype="int32")
        return keras.KerasTensor(shape, dtype="float32")

    # ----- numpy helpers ------------------------------------------------------------------------
    def codebook(self):
        """The codebook as a numpy array (K, D)."""
        return np.asarray(ops.convert_to_numpy(self.embeddings))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_embeddings=self.num_embeddings,
            embedding_dim=self.embedding_dim,
            beta=self.beta,
            ema=self.ema,
            decay=self.decay,
            epsilon=self.epsilon,
            dead_code_threshold=self.dead_code_threshold,
            seed=self.seed,
        )
        return config
