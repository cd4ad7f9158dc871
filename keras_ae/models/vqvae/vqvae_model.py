"""VQ-VAE (van den Oord et al. 2017) with a gated PixelCNN prior over the code grid.

``x -> encoder -> z_e (h, w, D) -> VectorQuantizer -> z_q -> decoder -> x_hat``; after training,
:meth:`VQVAE.fit_prior` fits the autoregressive prior on the code indices of a dataset and
:meth:`VQVAE.sample` draws code grids from it and decodes them.
"""

__all__ = ["VQVAE"]

import keras
import numpy as np
from keras import ops

from keras_ae import losses
from keras_ae.errors import (InvalidArgumentError, InvalidDataError, NotFittedError, check_positive,
                             check_positive_int)
from keras_ae.layers.pixelcnn import gated_pixelcnn
from keras_ae.layers.quantizer import VectorQuantizer, codebook_statistics
from keras_ae.precision import policy_scope
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.ops.arrays import batched, check_codes, check_output_memory, dataset_arrays, is_tf_dataset, to_numpy
from keras_ae.ops.distribute import scale_loss_for_distribution
from keras_ae.serialization import register_serializable


def _set_trainable(model, value):
    """Set ``trainable`` on ``model`` and every nested layer. (On TensorFlow, ``layer.trainable = v``
    is skipped when the layer already has that value, so a plain assignment can leave nested
    sublayers of a frozen layer trainable.)"""
    for layer in model._flatten_layers(include_self=True, recursive=True):
        keras.layers.Layer.trainable.fset(layer, value)


@register_serializable
class VQVAE(Autoencoder):
    """A vector-quantized autoencoder with a learned autoregressive prior for sampling.

    Args:
        encoder: functional model, images -> ``(h, w, embedding_dim)`` continuous codes.
        decoder: functional model, ``(h, w, embedding_dim)`` -> likelihood parameter of the images.
        num_embeddings, embedding_dim, beta, ema, decay, epsilon, dead_code_threshold, seed: the
            :class:`~keras_ae.layers.VectorQuantizer`'s arguments (``embedding_dim`` must equal the
            encoder's output channels).
        likelihood, sigma: as for :class:`~keras_ae.models.Autoencoder`.
        prior: a model ``(batch, h, w)`` int codes -> ``(batch, h, w, num_embeddings)`` logits that
            is causal in raster order; ``None`` builds :func:`~keras_ae.layers.gated_pixelcnn` with
            ``prior_filters``, ``prior_layers`` and ``prior_kernel_size``. It is a sub-model saved with
            the VQ-VAE; it is trained only by :meth:`fit_prior` (it is frozen during ``fit``).

    ``model(x)`` returns ``reconstruction``, ``decoder_output``, ``z`` (encoder output), ``quantized``
    and ``indices``. ``fit`` reports ``loss``, ``reconstruction_loss`` (nats per example), ``mse`` (per
    pixel), ``vq_loss`` (the quantizer's added loss), ``quantization_error`` (``||z - e||^2`` summed
    per example), ``perplexity`` and ``codes_in_use`` (share of the codebook used in each batch,
    averaged over batches).
    """

    def __init__(
        self,
        encoder,
        decoder,
        num_embeddings=128,
        embedding_dim=16,
        beta=0.25,
        ema=True,
        decay=0.99,
        epsilon=1e-5,
        dead_code_threshold=1.0,
        likelihood="bernoulli",
        sigma=0.1,
        prior=None,
        prior_filters=64,
        prior_layers=6,
        prior_kernel_size=3,
        seed=None,
        **kwargs,
    ):
        super().__init__(encoder, decoder, likelihood=likelihood, sigma=sigma, **kwargs)
        embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        enc_shape = tuple(encoder.outputs[0].shape[1:]) if isinstance(encoder.outputs, list) else None
        if len(encoder.outputs) != 1 or len(enc_shape) != 3:
            raise InvalidArgumentError(
                "A VQVAE's encoder must output one (batch, h, w, embedding_dim) tensor; received outputs "
                f"{[tuple(t.shape) for t in encoder.outputs]}."
            )
        if enc_shape[-1] != embedding_dim:
            raise InvalidArgumentError(
                f"embedding_dim={embedding_dim} does not match the encoder's output channels ({enc_shape[-1]}; "
                f"encoder output shape (batch, {', '.join(map(str, enc_shape))})). Build the encoder with "
                f"{embedding_dim} output channels or pass embedding_dim={enc_shape[-1]}."
            )
        dec_shape = tuple(decoder.inputs[0].shape[1:])
        if dec_shape != enc_shape:
            raise InvalidArgumentError(
                f"The decoder takes codes of shape (batch, {', '.join(map(str, dec_shape))}) but the encoder "
                f"outputs (batch, {', '.join(map(str, enc_shape))}); they must match."
            )
        self.seed = seed
        self.quantizer = VectorQuantizer(
            num_embeddings,
            embedding_dim,
            beta=beta,
            ema=ema,
            decay=decay,
            epsilon=epsilon,
            dead_code_threshold=dead_code_threshold,
            seed=seed,
            name="quantizer",
            dtype=self.dtype_policy,
        )
        self.quantizer.build((None,) + enc_shape)
        self.prior_filters = check_positive_int("prior_filters", prior_filters)
        self.prior_layers = check_positive_int("prior_layers", prior_layers)
        self.prior_kernel_size = check_positive_int("prior_kernel_size", prior_kernel_size)
        if prior is None:
            with policy_scope(self.dtype_policy):
                prior = gated_pixelcnn(
                    enc_shape[:2], num_embeddings, prior_filters, prior_layers, prior_kernel_size, name="prior"
                )
        self._check_prior(prior, enc_shape[:2], num_embeddings)
        self.prior = prior
        _set_trainable(self.prior, False)  # trained by fit_prior only
        self.prior_fitted = self.add_weight(
            name="prior_fitted", shape=(), initializer="zeros", trainable=False, dtype="float32"
        )
        self.vq_loss_tracker = keras.metrics.Mean(name="vq_loss")
        self.quantization_error_tracker = keras.metrics.Mean(name="quantization_error")
        self.perplexity_tracker = keras.metrics.Mean(name="perplexity")
        self.codes_in_use_tracker = keras.metrics.Mean(name="codes_in_use")

    @staticmethod
    def _check_prior(prior, grid, num_embeddings):
        in_shape = tuple(prior.inputs[0].shape[1:])
        out_shape = tuple(prior.outputs[0].shape[1:])
        if in_shape != tuple(grid) or out_shape != tuple(grid) + (num_embeddings,):
            raise InvalidArgumentError(
                f"The prior must map (batch, {grid[0]}, {grid[1]}) int codes to (batch, {grid[0]}, {grid[1]}, "
                f"{num_embeddings}) logits; received a model {in_shape} -> {out_shape}."
            )

    # ----- shapes -------------------------------------------------------------------------
    @property
    def num_embeddings(self):
        return self.quantizer.num_embeddings

    @property
    def embedding_dim(self):
        return self.quantizer.embedding_dim

    @property
    def grid_shape(self):
        """The code grid ``(h, w)``."""
        return tuple(int(s) for s in self.encoder.outputs[0].shape[1:3])

    @property
    def latent_dim(self):
        """The number of continuous numbers in a code grid (``h * w * embedding_dim``)."""
        h, w = self.grid_shape
        return h * w * self.embedding_dim

    # ----- forward ------------------------------------------------------------------------
    def call(self, inputs, training=None):
        images, condition = self.split_inputs(inputs)
        z = self._encode(images, condition, training)
        # the EMA update runs in compute_loss, after the losses are read (see Autoencoder.extra_losses)
        # the quantizer's loss is computed in compute_loss from these outputs (add_loss=False: a sub-layer's losses are
        # not visible there on JAX, and tf.distribute replicas share each layer's loss list)
        quantized, indices = self.quantizer(z, training=training, return_indices=True, update_codebook=False,
                                            add_loss=False)
        out = self._decode(quantized, condition, training)
        return {
            "reconstruction": self.link(out),
            "decoder_output": out,
            "z": z,
            "quantized": quantized,
            "indices": indices,
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images, _ = self.split_inputs(x)
        rec = self.reconstruction_nll(images, y_pred["decoder_output"])
        # the quantizer's loss from this call's own outputs, then the other layers' losses, read before any
        # cross-replica operation
        vq = self.quantizer.vq_loss(y_pred["z"], self.quantizer.lookup(y_pred["indices"]))
        extra = vq + self.extra_losses()
        if training and self.quantizer.ema:
            self.quantizer.update_codebook(y_pred["z"], y_pred["indices"])
        qerr = losses._flat_sum(ops.square(ops.cast(y_pred["z"], "float32") - y_pred["quantized"]))
        perplexity, in_use = codebook_statistics(y_pred["indices"], self.num_embeddings)
        self.reconstruction_tracker.update_state(rec, sample_weight=sample_weight)
        self.mse_tracker.update_state(
            losses.squared_error(images, y_pred["reconstruction"]), sample_weight=sample_weight
        )
        self.vq_loss_tracker.update_state(extra)
        self.quantization_error_tracker.update_state(qerr, sample_weight=sample_weight)
        self.perplexity_tracker.update_state(perplexity)
        self.codes_in_use_tracker.update_state(in_use)
        return scale_loss_for_distribution(losses.weighted_mean(rec, sample_weight) + extra)

    # ----- codes --------------------------------------------------------------------------
    def encode_indices(self, x, batch_size=256):
        """The code indices (int32, ``(n, h, w)``) of images ``x`` (array or dataset)."""
        x, _, single = self._arrays(x)

        def fn(a):
            z = self._encode(self._check_call_images(a), None, False)
            return self.quantizer.nearest(ops.reshape(ops.cast(z, "float32"), (-1, self.embedding_dim)))

        flat = batched(fn, [x], batch_size)  # each batch of images gives its rows of codes
        idx = flat.reshape((len(x),) + self.grid_shape).astype("int32")
        return idx[0] if single else idx

    def _check_indices(self, indices):
        arr = np.asarray(to_numpy(indices) if not isinstance(indices, (np.ndarray, list, tuple)) else indices)
        grid = self.grid_shape
        if arr.ndim == 2 and arr.shape == grid:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1:] != grid:
            raise InvalidDataError(
                f"Code indices must have shape (n, {grid[0]}, {grid[1]}) (or ({grid[0]}, {grid[1]}) for one "
                f"grid); received {arr.shape}."
            )
        if arr.size == 0:
            raise InvalidDataError("Received an empty array of code indices (0 grids).")
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise InvalidDataError(f"Code indices must be integers; received dtype {arr.dtype}.")
        if arr.min() < 0 or arr.max() >= self.num_embeddings:
            raise InvalidDataError(
                f"Code indices must lie in [0, {self.num_embeddings - 1}] (num_embeddings={self.num_embeddings}); "
                f"received values in [{int(arr.min())}, {int(arr.max())}]."
            )
        return arr.astype("int32")

    def decode_indices(self, indices, batch_size=256):
        """Images (data space) decoded from code indices ``(n, h, w)`` (or one ``(h, w)`` grid)."""
        single = np.ndim(indices) == 2
        idx = self._check_indices(indices)
        out = batched(lambda a: self.link(self._decode(self.quantizer.lookup(a), None, False)), [idx], batch_size)
        return out[0] if single else out

    def _check_codes(self, z):
        return check_codes(z, self.grid_shape + (self.embedding_dim,))

    def decode(self, z, batch_size=256):
        """Images decoded from continuous codes ``(n, h, w, D)`` after quantizing them to the codebook."""
        z = self._check_codes(z)
        return batched(
            lambda a: self.link(self._decode(self.quantizer(a, training=False), None, False)), [z], batch_size
        )

    def interpolate(self, x_a, x_b, steps=8):
        """Decode (quantized) codes on the line between the encoder outputs of ``x_a`` and ``x_b``."""
        steps = check_positive_int("steps", steps, minimum=2)
        za, zb = self.encode(x_a), self.encode(x_b)
        single = za.ndim == 3
        za, zb = (za[None], zb[None]) if single else (za, zb)
        if za.shape != zb.shape:
            raise InvalidDataError(f"x_a and x_b must hold the same number of images; codes {za.shape} vs {zb.shape}.")
        t = np.linspace(0.0, 1.0, steps, dtype="float32").reshape(1, steps, 1, 1, 1)
        z = (1 - t) * za[:, None] + t * zb[:, None]
        images = self.decode(z.reshape((-1,) + za.shape[1:]))
        images = images.reshape((za.shape[0], steps) + images.shape[1:])
        return images[0] if single else images

    def codebook_usage(self, x, batch_size=256):
        """Code counts over ``x``: a dict with ``counts`` (K,), ``perplexity`` and ``share_in_use``."""
        idx = self.encode_indices(x, batch_size=batch_size)
        counts = np.bincount(idx.reshape(-1), minlength=self.num_embeddings)
        p = counts / max(counts.sum(), 1)
        nz = p[p > 0]
        return {
            "counts": counts,
            "perplexity": float(np.exp(-np.sum(nz * np.log(nz)))),
            "share_in_use": float(np.mean(counts > 0)),
        }

    # ----- prior --------------------------------------------------------------------------
    @property
    def is_prior_fitted(self):
        return bool(to_numpy(self.prior_fitted) > 0)

    def _indices_of(self, data, batch_size):
        if is_tf_dataset(data):
            data, _ = dataset_arrays(data)
        arr = np.asarray(to_numpy(data) if not isinstance(data, np.ndarray) else data)
        if arr.ndim == 3 and arr.shape[1:] == self.grid_shape and np.issubdtype(arr.dtype, np.integer):
            return self._check_indices(arr)  # already code indices
        from keras_ae.data import checks

        arr = checks.check_images_array(arr, self.input_shape, self.value_range, range_hint=self.value_range_hint,
                                        argument="data")
        return self.encode_indices(arr.astype("float32"), batch_size=batch_size)

    def fit_prior(self, data, epochs=10, batch_size=64, learning_rate=1e-3, validation_data=None, verbose="auto",
                  **fit_kwargs):
        """Train the prior on the code indices of ``data`` (images as an array or dataset, or
        precomputed ``(n, h, w)`` int indices) by maximum likelihood; returns the Keras history
        (``loss`` is the prior's mean negative log-likelihood per code, in nats)."""
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        learning_rate = check_positive("learning_rate", learning_rate)
        idx = self._indices_of(data, batch_size=256)
        val = None
        if validation_data is not None:
            v = self._indices_of(validation_data, batch_size=256)
            val = (v, v)
        codes = keras.Input(self.grid_shape, dtype="int32", name="codes")
        _set_trainable(self.prior, True)
        try:
            # A throwaway wrapper owns the optimizer, so the saved VQ-VAE holds only the prior's weights.
            trainer = keras.Model(codes, self.prior(codes), name="prior_trainer")
            trainer.compile(
                optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            history = trainer.fit(idx, idx, epochs=epochs, batch_size=batch_size, validation_data=val,
                                  verbose=verbose, **fit_kwargs)
        finally:
            _set_trainable(self.prior, False)
        self.prior_fitted.assign(1.0)
        return history

    def prior_nll(self, data, batch_size=256):
        """Mean negative log-likelihood per code (nats) of ``data``'s code indices under the prior."""
        self._require_prior()
        idx = self._indices_of(data, batch_size=batch_size)

        def fn(a):
            logits = ops.cast(self.prior(a, training=False), "float32")
            logp = ops.log_softmax(logits, axis=-1)
            picked = ops.take_along_axis(logp, ops.expand_dims(a, -1), axis=-1)
            return -ops.mean(ops.reshape(picked, (ops.shape(a)[0], -1)), axis=1)

        return float(np.mean(batched(fn, [idx], batch_size)))

    def _require_prior(self):
        if not self.is_prior_fitted:
            raise NotFittedError(
                f"{type(self).__name__}.sample needs a trained prior: call `model.fit_prior(train_images)` "
                "after training the VQ-VAE (it fits the PixelCNN prior on the code indices)."
            )

    def sample_indices(self, n, seed=None, temperature=1.0, batch_size=256):
        """Draw ``n`` code grids ``(n, h, w)`` from the prior, position by position (raster order).
        The same ``seed`` gives the same grids."""
        n = check_output_memory(check_positive_int("n", n), self.input_shape, f"{type(self).__name__}.sample")
        temperature = check_positive("temperature", temperature)
        batch_size = check_positive_int("batch_size", batch_size)
        self._require_prior()
        rng = np.random.default_rng(seed)
        h, w = self.grid_shape
        idx = np.zeros((n, h, w), dtype="int32")
        for i in range(h):
            for j in range(w):
                logits = batched(lambda a: self.prior(a, training=False)[:, i, j, :], [idx], batch_size)
                logits = logits.astype("float64") / temperature
                gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=logits.shape)))
                idx[:, i, j] = np.argmax(logits + gumbel, axis=-1)
        return idx

    def sample(self, n, seed=None, temperature=1.0, batch_size=256):
        """Decode ``n`` code grids drawn from the fitted prior (raises before :meth:`fit_prior`)."""
        idx = self.sample_indices(n, seed=seed, temperature=temperature, batch_size=batch_size)
        return self.decode_indices(idx, batch_size=batch_size)

    # ----- serialization ------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        q = self.quantizer
        config.update(
            num_embeddings=q.num_embeddings,
            embedding_dim=q.embedding_dim,
            beta=q.beta,
            ema=q.ema,
            decay=q.decay,
            epsilon=q.epsilon,
            dead_code_threshold=q.dead_code_threshold,
            prior=keras.saving.serialize_keras_object(self.prior),
            prior_filters=self.prior_filters,
            prior_layers=self.prior_layers,
            prior_kernel_size=self.prior_kernel_size,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "prior"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
