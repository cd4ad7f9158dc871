"""Pure ``keras.ops`` loss terms, each returning one value per example (nats) in float32.

Reductions over the batch are left to the caller so that sample weights and metrics can
share the per-example values.
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _flat_sum(t):
    """Sum every axis but the first."""
    t = ops.reshape(t, (ops.shape(t)[0], -1))
    return ops.sum(t, axis=-1)


def bernoulli_nll(x, logits):
    """-log Bernoulli(x | sigmoid(logits)) summed over features: binary cross entropy on logits.

    Stable form ``max(l, 0) - l * x + log(1 + exp(-|l|))``; ``x`` may be any value in [0, 1].
    """
    x = ops.cast(x, "float32")
    logits = ops.cast(logits, "float32")
    per = ops.relu(logits) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return _flat_sum(per)


def gaussian_nll(x, mean, log_sigma=0.0):
    """-log N(x | mean, sigma^2) summed over features, with ``log_sigma`` scalar or broadcastable."""
    x = ops.cast(x, "float32")
    mean = ops.cast(mean, "float32")
    log_sigma = ops.cast(log_sigma, "float32")
    z = (x - mean) * ops.exp(-log_sigma)
    per = 0.5 * ops.square(z) + log_sigma + 0.5 * LOG_2PI
    return _flat_sum(per + ops.zeros_like(x))


def squared_error(x, x_hat):
    """Mean squared error per example (mean over features)."""
    d = ops.square(ops.cast(x, "float32") - ops.cast(x_hat, "float32"))
    d = ops.reshape(d, (ops.shape(d)[0], -1))
    return ops.mean(d, axis=-1)


def gaussian_kl(z_mean, z_log_var):
    """KL( N(mean, exp(log_var)) || N(0, I) ) in closed form, summed over latent dimensions."""
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    kl = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
    return ops.sum(kl, axis=-1)


def gaussian_log_prob(z, mean=0.0, log_var=0.0):
    """log N(z | mean, diag(exp(log_var))) summed over the last axis."""
    z = ops.cast(z, "float32")
    mean = ops.cast(mean, "float32")
    log_var = ops.cast(log_var, "float32")
    per = -0.5 * (LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var))
    return ops.sum(per + ops.zeros_like(z), axis=-1)


def weighted_mean(per_example, sample_weight=None):
    """Batch mean of per-example values, weighted when ``sample_weight`` is given."""
    per_example = ops.cast(per_example, "float32")
    if sample_weight is None:
        return ops.mean(per_example)
    w = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
    return ops.sum(per_example * w) / ops.maximum(ops.sum(w), 1e-12)
