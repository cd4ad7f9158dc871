"""Generative adversarial networks: the minimax GAN (and its non-saturating variant), the WGAN (weight clipping),
WGAN-GP and the conditional GAN. Each holds a ``generator`` and a ``discriminator`` and trains them with two optimizers
(see :mod:`keras_ae.models.gan.gan_trainer` for the backend-specific step).
"""

__all__ = ["GAN", "WGAN", "WGANGP", "ConditionalGAN"]

import keras
import numpy as np
from keras import ops

from keras_ae.data import checks
from keras_ae.errors import (InvalidArgumentError, InvalidDataError, check_choice, check_non_negative, check_positive,
                             check_positive_int, reject_unknown, rename_config_keys, take_renamed)
from keras_ae.models.base_model import KerasAEModel
from keras_ae.models.gan.gan_trainer import AdversarialTrainer
from keras_ae.ops.arrays import batched, check_codes, check_output_memory, to_numpy
from keras_ae.ops.autodiff import input_gradient
from keras_ae.ops.distribute import ReplicaSeedGenerator
from keras_ae.serialization import register_serializable

GAN_LOSSES = ("non_saturating", "minimax")
# Names of earlier releases, accepted with a deprecation warning (arguments) or silently (saved configs).
RENAMED = {"loss": "gan_loss", "d_steps": "n_critic"}


def _softplus(x):
    return ops.relu(x) + ops.log1p(ops.exp(-ops.abs(x)))


def _shape(t):
    return tuple(None if s is None else int(s) for s in t.shape)


@register_serializable
class GAN(AdversarialTrainer, KerasAEModel):
    """The GAN of Goodfellow et al.: ``min_G max_D E[log D(x)] + E[log(1 - D(G(z)))]``.

    Args:
        generator: a functional model from latent codes ``(batch, latent_dim)`` to data.
        discriminator: a functional model from data to one *logit* per example.
        gan_loss: ``"non_saturating"`` (default; the generator minimizes ``-log D(G(z))``) or ``"minimax"``
            (the generator minimizes ``log(1 - D(G(z)))``, the lectures' original game). (It is not called ``loss``:
            that is ``keras.Model``'s compiled loss.)
        n_critic: discriminator updates per generator update (>= 1; the WGAN papers' name, used by every GAN here).
        label_smoothing: one-sided label smoothing; real targets are ``1 - label_smoothing``.
        data_range: ``(low, high)`` the data must lie in (checked by ``fit``), or ``None``.
        seed: seed of the latent draws during training.

    ``fit(x)`` trains on data alone; each batch makes ``n_critic`` discriminator updates, then one generator
    update. ``model(z)`` is the generator on the codes ``z`` (deterministic with ``training=False``) and
    ``sample(n, seed=...)`` draws data. Metrics: ``d_loss``, ``g_loss``, ``d_acc_real``, ``d_acc_fake``
    (the discriminator's accuracy on the real and generated batch). ``model.optimizer`` is an
    :class:`~keras_ae.models.gan.gan_trainer.OptimizerPair`: its ``iterations`` count generator updates;
    ``model.d_optimizer`` / ``model.g_optimizer`` are the players' optimizers.
    """

    labels_hint = "the conditional GAN, keras_ae.zoo.conditional_gan"

    def __init__(self, generator, discriminator, gan_loss="non_saturating", n_critic=1, label_smoothing=0.0,
                 data_range=None, seed=None, **kwargs):
        owner = type(self).__name__
        gan_loss = take_renamed(kwargs, "loss", "gan_loss", gan_loss, "non_saturating", owner)
        n_critic = take_renamed(kwargs, "d_steps", "n_critic", n_critic, 1, owner)
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.gan_loss = check_choice("gan_loss", gan_loss, GAN_LOSSES)
        self.n_critic = check_positive_int("n_critic", n_critic)
        smoothing = check_non_negative("label_smoothing", label_smoothing)
        if smoothing >= 1.0:
            raise InvalidArgumentError(f"`label_smoothing` must lie in [0, 1); received {label_smoothing!r}.")
        self.label_smoothing = smoothing
        if data_range is not None:
            lo, hi = (float(v) for v in data_range)
            if not lo < hi:
                raise InvalidArgumentError("`data_range` must be (low, high) with low < high; received "
                                           f"{data_range!r}.")
            data_range = (lo, hi)
        self.data_range = data_range
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)  # latents (and WGAN-GP mixing): one draw per replica
        self._check_networks()
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names()}
        self.built = True

    # ----- structure -------------------------------------------------------------------------
    def metric_names(self):
        return ["d_loss", "g_loss", "d_acc_real", "d_acc_fake"]

    @property
    def metrics(self):
        return list(self._trackers.values())

    @property
    def value_range(self):
        return self.data_range

    @property
    def loss_magnitude(self):
        """The players' losses are batch means of one logit per example: Keras' initial loss scale suits them."""
        return 1

    @property
    def latent_dim(self):
        return int(self.generator.inputs[0].shape[-1])

    @property
    def input_shape(self):
        """The shape of one example the discriminator takes (an image, or a point for 2-D data)."""
        return tuple(int(s) for s in self.discriminator.inputs[0].shape[1:])

    def _generator_output_shape(self):
        out = self.generator.outputs[0]
        return tuple(None if s is None else int(s) for s in out.shape[1:])

    def _check_networks(self):
        name = type(self).__name__
        g_out, d_in = self._generator_output_shape(), self.input_shape
        if g_out != d_in:
            raise InvalidArgumentError(
                f"{name}: the generator produces examples of shape {g_out}, but the discriminator takes {d_in}. "
                "Build both for the same data shape (e.g. with keras_ae.zoo.dcgan(input_shape=...))."
            )
        d_out = tuple(int(s) for s in self.discriminator.outputs[0].shape[1:])
        if d_out != (1,):
            raise InvalidArgumentError(f"{name}: the discriminator must output one logit per example, shape "
                                       "(batch, 1); "
                                       f"it outputs (batch, {', '.join(map(str, d_out))}).")

    # ----- forward -----------------------------------------------------------------------------
    def _check_codes(self, z):
        shape = _shape(z)
        if len(shape) != 2 or (shape[1] is not None and shape[1] != self.latent_dim):
            raise InvalidDataError(
                f"{type(self).__name__}'s generator takes latent codes of shape (batch, {self.latent_dim}); "
                f"received shape {shape}."
            )
        if isinstance(z, np.ndarray):  # a user's codes, eagerly: NaN codes would give NaN samples
            check_codes(z, (self.latent_dim,))
        return z

    def generate(self, z, training=False):
        return self.generator(self._check_codes(z), training=training)

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, np.ndarray):  # a user's numpy codes: checked before Keras converts them to tensors
            self._check_codes(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None):
        """The generator applied to latent codes ``inputs`` of shape ``(batch, latent_dim)``."""
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 1:
                raise InvalidDataError(f"{type(self).__name__} is called on latent codes (batch, {self.latent_dim}); "
                                       f"received a tuple of {len(inputs)} tensors.")
            inputs = inputs[0]
        return self.generate(inputs, training=training)

    def unpack_batch(self, data):
        x = keras.utils.unpack_x_y_sample_weight(data)[0]
        if isinstance(x, (tuple, list)):
            x = x[0]
        return x

    def _latent(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    # ----- objectives --------------------------------------------------------------------------
    def _fake(self, real):
        return self.generator(self._latent(ops.shape(real)[0]), training=True)

    def discriminator_objective(self, real):
        fake = ops.stop_gradient(self._fake(real))
        real_logits = ops.cast(self.discriminator(real, training=True), "float32")
        fake_logits = ops.cast(self.discriminator(fake, training=True), "float32")
        target = 1.0 - self.label_smoothing
        # binary cross entropy on logits: -t log s(l) - (1 - t) log(1 - s(l)) = softplus(l) - t * l
        loss_real = ops.mean(_softplus(real_logits) - target * real_logits)
        loss_fake = ops.mean(_softplus(fake_logits))
        d_loss = loss_real + loss_fake
        return d_loss, {
            "d_loss": d_loss,
            "d_acc_real": ops.mean(ops.cast(real_logits > 0, "float32")),
            "d_acc_fake": ops.mean(ops.cast(fake_logits < 0, "float32")),
        }

    def generator_objective(self, real):
        fake_logits = ops.cast(self.discriminator(self._fake(real), training=True), "float32")
        if self.gan_loss == "minimax":
            g_loss = ops.mean(-_softplus(fake_logits))  # log(1 - sigmoid(l)) = -softplus(l)
        else:
            g_loss = ops.mean(_softplus(-fake_logits))  # -log sigmoid(l) = softplus(-l)
        return g_loss, {"g_loss": g_loss}

    # ----- training ----------------------------------------------------------------------------
    def fit(self, x=None, y=None, *args, **kwargs):
        self._require_compiled("fit")
        if kwargs.get("validation_data") is not None or kwargs.get("validation_split"):
            raise InvalidArgumentError(
                f"{type(self).__name__} has no validation loss: drop `validation_data`/`validation_split` and "
                "measure samples with keras_ae.evaluation.domain_fid or ring_mode_coverage (e.g. in a callback)."
            )
        return super().fit(x, y, *args, **kwargs)

    # ----- sampling ----------------------------------------------------------------------------
    def sample(self, n, seed=None, batch_size=256):
        """``n`` generated examples (numpy); the same integer ``seed`` gives the same samples."""
        n = check_output_memory(check_positive_int("n", n), self.input_shape, f"{type(self).__name__}.sample")
        batch_size = check_positive_int("batch_size", batch_size)
        z = to_numpy(keras.random.normal((n, self.latent_dim), seed=seed))
        return batched(lambda a: self.generate(a, training=False), [z], batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            gan_loss=self.gan_loss,
            n_critic=self.n_critic,
            label_smoothing=self.label_smoothing,
            data_range=None if self.data_range is None else list(self.data_range),
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = rename_config_keys(config, RENAMED)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)


class _WassersteinGAN(GAN):
    """What the WGAN and WGAN-GP share: a critic scoring examples (no sigmoid), the Wasserstein estimate
    ``E[D(x)] - E[D(G(z))]`` the critic maximizes, the generator loss ``-E[D(G(z))]``, ``n_critic=5`` by default,
    and the refusal of the minimax GAN's ``gan_loss`` and ``label_smoothing``."""

    _WHY = {
        "gan_loss": "the Wasserstein critic and generator losses are fixed (E[D(x)] - E[D(G(z))]).",
        "loss": "the Wasserstein critic and generator losses are fixed (E[D(x)] - E[D(G(z))]).",
        "label_smoothing": "the critic outputs unbounded scores, not probabilities: there are no labels to smooth.",
    }

    def __init__(self, generator, discriminator, n_critic=5, data_range=None, seed=None, **kwargs):
        n_critic = take_renamed(kwargs, "d_steps", "n_critic", n_critic, 5, type(self).__name__)
        reject_unknown({k: v for k, v in kwargs.items() if k in self._WHY}, type(self).__name__, (), self._WHY)
        super().__init__(generator, discriminator, n_critic=n_critic, data_range=data_range, seed=seed, **kwargs)

    def critic_scores(self, real):
        """``(fake, wasserstein)``: a generated batch (no gradient to the generator) and ``E[D(x)] - E[D(G(z))]``
        on it and the real batch, in float32."""
        fake = ops.stop_gradient(self._fake(real))
        real_score = ops.mean(ops.cast(self.discriminator(real, training=True), "float32"))
        fake_score = ops.mean(ops.cast(self.discriminator(fake, training=True), "float32"))
        return fake, real_score - fake_score

    def generator_objective(self, real):
        g_loss = -ops.mean(ops.cast(self.discriminator(self._fake(real), training=True), "float32"))
        return g_loss, {"g_loss": g_loss}

    def get_config(self):
        config = super().get_config()
        for key in ("gan_loss", "label_smoothing"):
            config.pop(key, None)
        return config


@register_serializable
class WGAN(_WassersteinGAN):
    """The Wasserstein GAN of Arjovsky, Chintala and Bottou (ICML 2017), with weight clipping.

    The critic minimizes ``E[D(G(z))] - E[D(x)]`` (it maximizes the Wasserstein estimate), the generator minimizes
    ``-E[D(G(z))]``; ``n_critic`` critic updates per generator update. After every critic update each of the
    critic's trainable weights is clipped to ``[-clip_value, clip_value]`` (kernels, biases and any normalization
    scales alike, as in the paper), inside the compiled step on every backend, so the critic stays in a compact set
    of K-Lipschitz functions. (The critic as built is not clipped: its first update starts from its initial weights;
    every later one from clipped weights.) ``model.compile()`` gives each player RMSprop(5e-5), the paper's optimizer.

    Args:
        generator: a functional model from latent codes ``(batch, latent_dim)`` to data.
        discriminator: the critic: a functional model from data to one unbounded score per example, ``(batch, 1)``.
            Batch normalization is allowed (the paper's DCGAN critic had it; clipping, unlike WGAN-GP's per-example
            gradient penalty, does not need each example's score to be independent of the batch), but the zoo's
            critics have none by default, as WGAN-GP's.
        n_critic: critic updates per generator update (>= 1; the paper's 5).
        clip_value: the weight clipping bound ``c > 0`` (the paper's 0.01).
        data_range: ``(low, high)`` the data must lie in (checked by ``fit``), or ``None``.
        seed: seed of the latent draws during training.

    Metrics: ``d_loss`` (the critic's loss), ``g_loss`` (``-E[D(G(z))]``) and ``wasserstein`` (the estimate
    ``E[D(x)] - E[D(G(z))]``, up to the unknown Lipschitz constant the clipping sets: it compares epochs of one run,
    not runs).
    """

    def __init__(self, generator, discriminator, n_critic=5, clip_value=0.01, data_range=None, seed=None, **kwargs):
        self.clip_value = check_positive("clip_value", clip_value)
        super().__init__(generator, discriminator, n_critic=n_critic, data_range=data_range, seed=seed, **kwargs)

    def metric_names(self):
        return ["d_loss", "g_loss", "wasserstein"]

    def default_optimizer(self):
        return keras.optimizers.RMSprop(5e-5)

    def critic_constraint(self, value):
        """A critic weight's value after a critic update: clipped to ``[-clip_value, clip_value]``."""
        return ops.clip(value, -self.clip_value, self.clip_value)

    def discriminator_objective(self, real):
        _, wasserstein = self.critic_scores(real)
        d_loss = -wasserstein
        return d_loss, {"d_loss": d_loss, "wasserstein": wasserstein}

    def get_config(self):
        config = super().get_config()
        config.update(clip_value=self.clip_value)
        return config


@register_serializable
class WGANGP(_WassersteinGAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).

    The critic maximizes ``E[D(x)] - E[D(G(z))]`` minus ``gp_weight * E[(||grad D(x_hat)|| - 1)^2]`` at
    ``x_hat = a x + (1 - a) G(z)`` with ``a ~ U[0, 1]`` per example; the norm is
    ``sqrt(sum(grad^2) + epsilon)`` (finite gradient at 0). ``n_critic`` critic updates per generator update.
    Metrics: ``d_loss`` (the critic's loss, penalty included), ``g_loss`` (``-E[D(G(z))]``), ``wasserstein``
    (the estimate ``E[D(x)] - E[D(G(z))]``) and ``gradient_penalty``. The critic must not use batch
    normalization (the penalty is per example).
    """

    def __init__(self, generator, discriminator, n_critic=5, gp_weight=10.0, epsilon=1e-12, data_range=None,
                 seed=None, **kwargs):
        self.gp_weight = check_non_negative("gp_weight", gp_weight)
        self.epsilon = check_non_negative("epsilon", epsilon)
        super().__init__(generator, discriminator, n_critic=n_critic, data_range=data_range, seed=seed, **kwargs)

    def metric_names(self):
        return ["d_loss", "g_loss", "wasserstein", "gradient_penalty"]

    def gradient_penalty(self, real, fake):
        shape = [ops.shape(real)[0]] + [1] * (len(real.shape) - 1)
        alpha = keras.random.uniform(shape, 0.0, 1.0, seed=self.seed_generator)
        real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")  # fake is in the compute dtype
        mixed = alpha * real + (1.0 - alpha) * fake
        grads = input_gradient(lambda t: self.discriminator(t, training=True), mixed)
        grads = ops.reshape(ops.cast(grads, "float32"), (ops.shape(grads)[0], -1))
        norm = ops.sqrt(ops.sum(ops.square(grads), axis=-1) + self.epsilon)
        return ops.mean(ops.square(norm - 1.0))

    def discriminator_objective(self, real):
        fake, wasserstein = self.critic_scores(real)
        gp = self.gradient_penalty(real, fake)
        d_loss = -wasserstein + self.gp_weight * gp
        return d_loss, {"d_loss": d_loss, "wasserstein": wasserstein, "gradient_penalty": gp}

    def get_config(self):
        config = super().get_config()
        config.update(gp_weight=self.gp_weight, epsilon=self.epsilon)
        return config


@register_serializable
class ConditionalGAN(GAN):
    """A GAN whose generator takes ``[z, one_hot(label)]`` and whose discriminator takes ``[x, one_hot(label)]``.

    ``fit(x, y)`` (or a dataset of ``(images, labels)``) trains it; generated examples in a training step
    use the labels of the real batch. ``model((z, labels))`` generates deterministically;
    ``sample(n, labels=...)`` draws examples of chosen classes (one int for all, or one per sample).
    """

    def __init__(self, generator, discriminator, num_classes, gan_loss="non_saturating", n_critic=1,
                 label_smoothing=0.0, data_range=None, seed=None, **kwargs):
        self._num_classes = check_positive_int("num_classes", num_classes, minimum=2)
        super().__init__(generator, discriminator, gan_loss=gan_loss, n_critic=n_critic,
                         label_smoothing=label_smoothing, data_range=data_range, seed=seed, **kwargs)

    @property
    def num_classes(self):
        return self._num_classes

    def _check_networks(self):
        name = type(self).__name__
        for net, what in ((self.generator, "generator"), (self.discriminator, "discriminator")):
            if len(net.inputs) != 2 or int(net.inputs[1].shape[-1]) != self.num_classes:
                raise InvalidArgumentError(
                    f"{name}: the {what} must take two inputs, [{'z' if what == 'generator' else 'x'}, one-hot label "
                    f"of size num_classes={self.num_classes}]; it takes {[_shape(t) for t in net.inputs]}."
                )
        super()._check_networks()

    def _one_hot(self, labels):
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return ops.one_hot(labels, self.num_classes)

    def generate(self, z, labels=None, training=False):
        if labels is None:
            raise InvalidDataError(f"{type(self).__name__} needs labels: call it on (z, labels) with integer labels in "
                                   f"[0, {self.num_classes - 1}].")
        return self.generator([self._check_codes(z), self._one_hot(labels)], training=training)

    def call(self, inputs, training=None):
        """The generator on ``(z, labels)``: codes ``(batch, latent_dim)`` and integer labels ``(batch,)``."""
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise InvalidDataError(f"{type(self).__name__} is called on (z, labels): latent codes (batch, "
                                   f"{self.latent_dim}) and integer labels in [0, {self.num_classes - 1}].")
        z, labels = inputs
        if isinstance(labels, np.ndarray):
            checks.check_labels_array(labels, self.num_classes, len(labels))
        return self.generate(z, labels, training=training)

    def unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)) and len(x) == 2:
            return x[0], x[1]
        if y is None:
            raise self._missing_labels_error()
        return x, y

    def _fake(self, batch):
        real, labels = batch
        z = self._latent(ops.shape(real)[0])
        return self.generator([z, self._one_hot(labels)], training=True)

    def _score(self, x, labels):
        return ops.cast(self.discriminator([x, self._one_hot(labels)], training=True), "float32")

    def discriminator_objective(self, batch):
        real, labels = batch
        fake = ops.stop_gradient(self._fake(batch))
        real_logits, fake_logits = self._score(real, labels), self._score(fake, labels)
        target = 1.0 - self.label_smoothing
        d_loss = ops.mean(_softplus(real_logits) - target * real_logits) + ops.mean(_softplus(fake_logits))
        return d_loss, {
            "d_loss": d_loss,
            "d_acc_real": ops.mean(ops.cast(real_logits > 0, "float32")),
            "d_acc_fake": ops.mean(ops.cast(fake_logits < 0, "float32")),
        }

    def generator_objective(self, batch):
        fake_logits = self._score(self._fake(batch), batch[1])
        if self.gan_loss == "minimax":
            g_loss = ops.mean(-_softplus(fake_logits))
        else:
            g_loss = ops.mean(_softplus(-fake_logits))
        return g_loss, {"g_loss": g_loss}

    def _labels(self, labels, n):
        return checks.labels_for(labels, n, self.num_classes, type(self).__name__)

    def sample(self, n, labels=None, seed=None, batch_size=256):
        """``n`` generated examples of the classes ``labels`` (one int for all, or one per sample)."""
        n = check_output_memory(check_positive_int("n", n), self.input_shape, f"{type(self).__name__}.sample")
        labels = self._labels(labels, n)
        z = to_numpy(keras.random.normal((n, self.latent_dim), seed=seed))
        return batched(lambda a, b: self.generate(a, b, training=False), [z, labels], batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes)
        return config
