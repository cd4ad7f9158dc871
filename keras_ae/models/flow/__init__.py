"""The normalizing-flow family: a standard normal base and a chain of invertible layers, exact likelihood.

- ``flow_model.py``: :class:`Flow` (``log_prob``, ``sample``, ``forward``/``inverse``, bits/dim for images).
- ``flow_networks.py``: RealNVP's multi-scale layer stack for images.
- ``flow_zoo.py``: the registered constructors (``realnvp_2d``, ``maf_2d``, ``realnvp_image``).
- ``flow_plots.py``: 2-D density heat maps, image sample grids.
The flow layers themselves are shared building blocks (:mod:`keras_ae.layers.flows`).
"""

from keras_ae.models.flow.flow_model import Flow

__all__ = ["Flow"]
