"""Inverse autoregressive flow (IAF, Kingma et al. 2016): sampling in one pass, for VAE posteriors.

Same contract as :mod:`keras_ae.layers.flows`; the autoregressive network is the MADE of
:class:`~keras_ae.layers.flows.AutoregressiveLayer` (with an optional context input).
"""

__all__ = ["InverseAutoregressive"]

from keras import ops

from keras_ae.layers.flows import AutoregressiveLayer, sum_except_batch
from keras_ae.serialization import register_serializable


@register_serializable
class InverseAutoregressive(AutoregressiveLayer):
    """IAF step (Kingma et al. 2016) on vectors ``(batch, dim)``, optionally conditioned on a context vector.

    ``x = mu + sigma * z`` with ``sigma = sigmoid(s + gate_bias)`` and ``mu = (1 - sigma) * m``, where
    ``m_i, s_i`` come from a MADE of ``z_<i`` (and of ``context``): the numerically stable, gated update of the
    paper's algorithm 1, ``x = sigma * z + (1 - sigma) * m``. ``log|det dx/dz| = sum_i log sigma_i``.

    ``forward`` (sampling; the posterior flow's direction) is one pass; ``inverse`` (density of a given ``x``)
    takes ``dim`` passes. ``reverse=True`` uses the reversed variable order (alternate it when stacking). The last
    MADE layer starts at zero, so the layer starts as ``x = sigmoid(gate_bias) z``; ``gate_bias`` > 0 keeps early
    steps close to the identity (the paper's forget-gate bias, +1 or +2).

    Args:
        hidden: MADE widths.
        reverse: reversed variable order.
        activation: MADE activation.
        context_dim: size of an optional context vector (e.g. the encoder's features ``h`` in a VAE); when set,
            ``forward(z, context=...)`` and ``inverse(x, context=...)`` require it.
        gate_bias: constant added to ``s`` before the sigmoid.
    """

    def __init__(self, hidden=(64, 64), reverse=False, activation="relu", context_dim=None, gate_bias=2.0, **kwargs):
        super().__init__(hidden=hidden, reverse=reverse, activation=activation, context_dim=context_dim, **kwargs)
        self.gate_bias = float(gate_bias)

    def _mean_gate(self, t, context):
        h = self.made(t, context)
        return h[:, : self.dim], h[:, self.dim:] + self.gate_bias

    def _forward(self, z, context=None):
        z = ops.convert_to_tensor(z)
        m, s = self._mean_gate(z, context)
        sigma = ops.sigmoid(s)
        # log sigmoid(s) = -softplus(-s), stable for large |s|
        return sigma * z + (1.0 - sigma) * m, sum_except_batch(-ops.softplus(-s))

    def inverse(self, x, context=None):
        x = ops.convert_to_tensor(x)
        z = ops.zeros_like(x)
        s = None
        for _ in range(self.dim):
            m, s = self._mean_gate(z, context)
            sigma = ops.sigmoid(s)
            z = (x - (1.0 - sigma) * m) / sigma
        return z, -sum_except_batch(-ops.softplus(-s))

    def get_config(self):
        config = super().get_config()
        config.update(gate_bias=self.gate_bias)
        return config
