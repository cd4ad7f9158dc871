"""Two-player (adversarial) training for the GAN family, once for every backend.

Keras' own ``train_step`` serves single-objective models on every backend. A GAN has two objectives
and two optimizers, so it needs its own step:

* TensorFlow: ``tf.GradientTape`` per player.
* torch: ``loss.backward()`` and ``optimizer.apply`` per player, as in the keras.io guide
  "Writing a training loop from scratch in PyTorch" / "Customizing fit() with PyTorch" (GAN example).
* JAX: a stateless step. ``model.optimizer`` is an :class:`OptimizerPair` whose ``variables`` are the
  generator optimizer's followed by the discriminator optimizer's, so Keras' JAX trainer threads
  *both* optimizers' state through its jitted step; each player is updated with its own optimizer's
  ``stateless_apply``.

A model using :class:`AdversarialTrainer` implements two objectives, each returning
``(loss, {metric_name: value})`` and reading the networks through ordinary calls::

    def discriminator_objective(self, batch): ...
    def generator_objective(self, batch): ...

and sets ``n_critic`` (the number of discriminator/critic updates per generator update). A model may define
``critic_constraint(value)``, a ``keras.ops`` function of one critic weight's value (the WGAN's weight clipping):
after every critic update each of the critic's trainable variables is set to it, inside the compiled step
(TensorFlow and torch assign it, through the strategy's cross-replica update under ``tf.distribute``,
:func:`keras_ae.ops.distribute.assign_each`; JAX maps it over the updated values it returns). Gradients of a network's
output with respect to its *input* (the WGAN-GP penalty) come from :func:`keras_ae.ops.autodiff.input_gradient`.

Each player differentiates ``optimizer.scale_loss(scale_loss_for_distribution(loss))``: its loss divided by the
number of ``tf.distribute`` replicas (whose gradients the optimizer sums, as for Keras' own losses) and multiplied by
the optimizer's loss scale (a ``LossScaleOptimizer`` under ``mixed_float16``, one per player, which unscales the
gradients and skips a step whose gradients overflowed). Metrics record the unscaled loss.
"""

__all__ = ["AdversarialTrainer", "OptimizerPair"]

import keras
from keras import ops

from keras_ae import precision
from keras_ae.errors import ArgumentTypeError, InvalidArgumentError, ModelStateError
from keras_ae.ops.distribute import assign_each, multi_worker_logs, scale_loss_for_distribution


class OptimizerPair:
    """``model.optimizer`` of a two-player model: the generator's and the discriminator's optimizers.

    ``iterations`` and ``learning_rate`` are the *generator* optimizer's (one iteration per generator
    update, i.e. per training batch); ``variables`` are both optimizers' variables, generator first.
    The two optimizers themselves are ``model.g_optimizer`` and ``model.d_optimizer``.
    """

    def __init__(self, g_optimizer, d_optimizer):
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer

    @property
    def optimizers(self):
        return [self.g_optimizer, self.d_optimizer]

    @property
    def variables(self):
        return list(self.g_optimizer.variables) + list(self.d_optimizer.variables)

    @property
    def iterations(self):
        return self.g_optimizer.iterations

    @property
    def learning_rate(self):
        return self.g_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.g_optimizer.learning_rate = value

    @property
    def built(self):
        return self.g_optimizer.built and self.d_optimizer.built

    def build(self, variables=None):  # both are built by the model's compile
        return None

    def __repr__(self):
        return f"OptimizerPair(g_optimizer={self.g_optimizer.name!r}, d_optimizer={self.d_optimizer.name!r})"


class AdversarialTrainer(keras.Model):
    """Mixin with ``compile(d_optimizer, g_optimizer)``, saving of both optimizers and the two-player step."""

    n_critic = 1  # discriminator (critic) updates per generator update
    critic_constraint = None  # or a method: a critic weight's value after each critic update (see the module doc)

    # ----- compile and its config --------------------------------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, optimizer=None, jit_compile="auto", run_eagerly=False,
                steps_per_execution=1, **kwargs):
        """Compile with one optimizer per player (by default each gets ``default_optimizer()``: Adam(2e-4,
        beta_1=0.5), RMSprop(5e-5) for the WGAN); under the ``mixed_float16`` policy each is wrapped in its own
        ``LossScaleOptimizer``.

        ``optimizer=`` (a single optimizer or name) is accepted as a shortcut: each player gets its own
        copy. ``model.optimizer`` is then an :class:`OptimizerPair` (its ``iterations`` count generator
        updates); the players' optimizers are ``model.g_optimizer`` and ``model.d_optimizer``.
        """
        if kwargs.get("loss") is not None or kwargs.get("metrics") is not None:
            raise InvalidArgumentError(
                f"{type(self).__name__} defines its own losses and metrics (d_loss, g_loss, ...); "
                "compile it with `compile(d_optimizer=..., g_optimizer=...)` only."
            )
        for key in ("loss", "metrics"):
            kwargs.pop(key, None)
        if kwargs:
            raise ArgumentTypeError(f"Unexpected compile arguments for {type(self).__name__}: {sorted(kwargs)}.")
        if optimizer is not None:
            base = keras.optimizers.get(optimizer)
            config = keras.optimizers.serialize(base)
            d_optimizer = d_optimizer or keras.optimizers.deserialize(config)
            g_optimizer = g_optimizer or keras.optimizers.deserialize(config)
        d_optimizer = keras.optimizers.get(d_optimizer) if d_optimizer is not None else self.default_optimizer()
        g_optimizer = keras.optimizers.get(g_optimizer) if g_optimizer is not None else self.default_optimizer()
        if d_optimizer is g_optimizer:
            raise InvalidArgumentError(
                "`d_optimizer` and `g_optimizer` must be two different optimizer instances: each holds the "
                "state (moments, iterations) of its own player."
            )
        if self.dtype_policy.name == "mixed_float16":  # both players loss-scaled, each with its own dynamic scale
            scale = getattr(self, "initial_loss_scale", precision.KERAS_INITIAL_SCALE)
            d_optimizer = precision.loss_scale_optimizer(d_optimizer, scale)
            g_optimizer = precision.loss_scale_optimizer(g_optimizer, scale)
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile, run_eagerly=run_eagerly,
                        steps_per_execution=steps_per_execution)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Build both now: their variables exist before the first step (and before a load restores them).
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)
        self.optimizer = OptimizerPair(g_optimizer, d_optimizer)

    def default_optimizer(self):
        """A new optimizer for a player that ``compile`` was not given one for (DCGAN's Adam(2e-4, beta_1=0.5))."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self._compile_config.config.get("jit_compile", "auto")
            if getattr(self, "_compile_config", None) is not None else "auto",
        }

    def compile_from_config(self, config):
        config = dict(config)
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            jit_compile=config.get("jit_compile", "auto"),
        )

    # ----- guards --------------------------------------------------------------------------------
    def _require_compiled(self, what="fit"):
        if not getattr(self, "compiled", False) or not hasattr(self, "d_optimizer"):
            opt = self.default_optimizer()
            default = f"{type(opt).__name__}({float(opt.learning_rate):g})"
            raise ModelStateError(
                f"{type(self).__name__} must be compiled before {what}: call `model.compile()` (each player gets "
                f"{default}, this class's default) or `model.compile(d_optimizer=..., g_optimizer=...)`, or build it "
                "with a keras_ae.zoo constructor, which returns a compiled model."
            )

    def evaluate(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__}.evaluate is not defined: a GAN's losses on held-out data do not measure "
            "sample quality. Use keras_ae.evaluation.domain_fid (images) or "
            "keras_ae.evaluation.ring_mode_coverage (the ring of Gaussians) on `model.sample(n)`."
        )

    def test_step(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} has no test step (no validation loss): drop `validation_data` from fit and "
            "measure samples with keras_ae.evaluation.domain_fid or ring_mode_coverage."
        )

    # ----- the step ------------------------------------------------------------------------------
    def train_step(self, *args):
        backend = keras.backend.backend()
        if backend == "jax":
            state, data = args
            return self._jax_train_step(state, data)
        (data,) = args
        batch = self.unpack_batch(data)
        if backend == "tensorflow":
            return multi_worker_logs(self._eager_train_step(batch, self._tf_player_step))
        if backend == "torch":
            return self._eager_train_step(batch, self._torch_player_step)
        raise NotImplementedError(
            f"{type(self).__name__} trains on the tensorflow, torch and jax backends; got {backend!r}."
        )

    def unpack_batch(self, data):  # pragma: no cover - overridden by the family
        return keras.utils.unpack_x_y_sample_weight(data)[0]

    def _record(self, extras):
        for name, value in extras.items():
            self._trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def _tf_player_step(self, objective, network, optimizer, batch, constraint=None):
        """One update of one player on TensorFlow, then ``constraint`` on its weights; returns the objective's metric
        values."""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, extras = objective(batch)
            loss = optimizer.scale_loss(scale_loss_for_distribution(loss))
        weights = network.trainable_weights
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        if constraint is not None:
            assign_each(weights, constraint)
        return extras

    def _torch_player_step(self, objective, network, optimizer, batch, constraint=None):
        """One update of one player on torch, then ``constraint`` on its weights; returns the objective's metric
        values (detached)."""
        import torch

        self.zero_grad()
        loss, extras = objective(batch)
        optimizer.scale_loss(scale_loss_for_distribution(loss)).backward()
        weights = network.trainable_weights
        grads = [v.value.grad for v in weights]
        with torch.no_grad():
            optimizer.apply(grads, weights)
            if constraint is not None:
                assign_each(weights, constraint)
        return {k: ops.stop_gradient(v) for k, v in extras.items()}

    def _eager_train_step(self, batch, player_step):
        """``n_critic`` discriminator updates, then one generator update (TensorFlow and torch)."""
        for _ in range(self.n_critic):
            self._record(player_step(self.discriminator_objective, self.discriminator, self.d_optimizer, batch,
                                     self.critic_constraint))
        return self._record(player_step(self.generator_objective, self.generator, self.g_optimizer, batch))

    # JAX: every variable value is passed in and returned; nothing is assigned in place.
    def _jax_scoped(self, fn, tv, ntv, mv):
        """Run ``fn()`` with the model's variables mapped to the given values; return the updated values."""
        mapping = list(zip(self.trainable_variables, tv)) + list(zip(self.non_trainable_variables, ntv))
        mapping += list(zip(self.metrics_variables, mv))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn()

        def updated(refs, values):
            new = []
            for ref, old in zip(refs, values):
                value = scope.get_current_value(ref)
                new.append(old if value is None else value)
            return new

        return out, updated(self.non_trainable_variables, ntv), updated(self.metrics_variables, mv)

    def _jax_player_step(self, objective, network, optimizer, batch, tv, ntv, mv, opt_values, constraint=None):
        import jax

        positions = {id(v): i for i, v in enumerate(self.trainable_variables)}
        idx = [positions[id(v)] for v in network.trainable_variables]

        def loss_fn(player_values, tv, ntv, mv):
            tv = list(tv)
            for i, value in zip(idx, player_values):
                tv[i] = value
            (loss, extras), ntv, mv = self._jax_scoped(lambda: objective(batch), tv, ntv, mv)
            # the loss scale (a LossScaleOptimizer's dynamic scale) is read from the optimizer state passed in
            with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, opt_values))):
                loss = optimizer.scale_loss(scale_loss_for_distribution(loss))
            return loss, (extras, ntv, mv)

        player = [tv[i] for i in idx]
        (_, (extras, ntv, mv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(player, tv, ntv, mv)
        player, opt_values = optimizer.stateless_apply(opt_values, grads, player)
        if constraint is not None:
            player = [constraint(value) for value in player]
        tv = list(tv)
        for i, value in zip(idx, player):
            tv[i] = value
        return extras, tv, ntv, mv, opt_values

    def _jax_train_step(self, state, data):
        tv, ntv, opt_values, mv = state
        n_g = len(self.g_optimizer.variables)
        g_opt, d_opt = list(opt_values[:n_g]), list(opt_values[n_g:])
        batch = self.unpack_batch(data)
        for _ in range(self.n_critic):
            extras, tv, ntv, mv, d_opt = self._jax_player_step(
                self.discriminator_objective, self.discriminator, self.d_optimizer, batch, tv, ntv, mv, d_opt,
                self.critic_constraint,
            )
            logs, ntv, mv = self._jax_scoped(lambda: self._record(extras), tv, ntv, mv)
        extras, tv, ntv, mv, g_opt = self._jax_player_step(
            self.generator_objective, self.generator, self.g_optimizer, batch, tv, ntv, mv, g_opt
        )
        logs, ntv, mv = self._jax_scoped(lambda: self._record(extras), tv, ntv, mv)
        return logs, (tv, ntv, g_opt + d_opt, mv)
