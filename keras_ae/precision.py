"""Mixed precision for every zoo model: dtype policies at construction, loss scaling under ``mixed_float16``.

Keras' mixed policies compute in half precision (``bfloat16`` or ``float16``) and keep the weights in float32.
keras_ae keeps the numerically sensitive math in float32 under every policy (KL, log-determinants, log-probabilities,
quantizer distances, the likelihoods). What this module adds:

- :func:`policy_scope`: a context in which every layer built takes a policy (the zoo constructors' ``dtype=``,
  the command line's ``--precision``), the global policy restored afterwards.
- :func:`loss_scale_optimizer`: ``keras.optimizers.LossScaleOptimizer`` with an initial scale suited to the loss.
  Under ``mixed_float16`` gradients are computed from ``loss * scale`` and unscaled before the update; a step whose
  gradients overflow is skipped and the scale halved. Keras starts at ``2**15``, a scale made for losses that are
  means over the elements of an example; keras_ae's likelihood losses are *sums* over them (nats per example), so
  their gradients are about ``D`` times larger (``D`` the number of elements in an example), and at ``2**15``
  ``conv_vae`` skipped its first 8 steps on MNIST. :attr:`keras_ae.models.base_model.KerasAEModel.initial_loss_scale`
  divides Keras' scale by ``D`` (rounded to a power of two; by ``D / sigma**2`` for a Gaussian likelihood, whose
  squared errors are divided by ``sigma**2``) and by a headroom of 8 (:data:`HEADROOM`): normalization layers
  amplify gradients (a layer normalization divides them by its inputs' standard deviation), and the layer-normalized
  conv_vae's largest first-step gradient (3,948 at scale 1) overflowed float16 at 32 and on its second step at 16.
  With both, no step was skipped (docs/scaling.md).
"""

__all__ = ["PRECISIONS", "check_policy", "initial_loss_scale", "loss_scale_optimizer", "policy_scope"]

import contextlib
import math

import keras

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
KERAS_INITIAL_SCALE = 2.0 ** 15
HEADROOM = 8.0  # measured: conv_vae (layer norm) overflowed at 2**15 / 1024 and 2**15 / 2048, trained at 2**15 / 8192


def check_policy(dtype):
    """A ``keras.DTypePolicy`` from a policy name (``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"``, or any
    name Keras accepts) or a policy; a ``ValueError`` naming ``dtype`` otherwise."""
    if isinstance(dtype, keras.DTypePolicy):
        return dtype
    try:
        return keras.dtype_policies.get(dtype)
    except (ValueError, TypeError):
        raise ValueError(f"`dtype` must be a Keras dtype policy or its name, e.g. one of {', '.join(PRECISIONS)}; "
                         f"received {dtype!r}.") from None


@contextlib.contextmanager
def policy_scope(dtype=None):
    """Build layers under the policy ``dtype`` (a name or ``keras.DTypePolicy``; ``None`` leaves the global policy as
    it is), then restore the global policy."""
    if dtype is None:
        yield keras.config.dtype_policy()
        return
    policy = check_policy(dtype)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield policy
    finally:
        keras.config.set_dtype_policy(previous)


def initial_loss_scale(magnitude):
    """Keras' initial loss scale ``2**15`` divided by ``magnitude`` rounded up to a power of two and by
    :data:`HEADROOM` (at least 1): for a loss ``magnitude`` times larger than a mean over elements (a sum over
    ``magnitude`` elements, say). Too small a scale only risks underflow of gradients below float16's ``6e-8``, and
    the dynamic scale doubles after every 2,000 finite steps; too large a one skips steps."""
    magnitude = max(float(magnitude), 1.0)
    return max(KERAS_INITIAL_SCALE / 2.0 ** math.ceil(math.log2(magnitude)) / HEADROOM, 1.0)


def loss_scale_optimizer(optimizer, initial_scale=KERAS_INITIAL_SCALE):
    """``optimizer`` (an instance or a name) wrapped in a ``keras.optimizers.LossScaleOptimizer`` starting at
    ``initial_scale``; one that is already loss-scaled is returned as it is."""
    optimizer = keras.optimizers.get(optimizer)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=float(initial_scale))
