"""The autoencoder family: plain, convolutional and linear autoencoders, and the regularized ones of the lectures.

- ``autoencoder_model.py``: :class:`Autoencoder` (encoder, decoder, Bernoulli or Gaussian likelihood).
- ``autoencoder_regularized.py``: :class:`DenoisingAutoencoder`, :class:`ContractiveAutoencoder`.
- ``autoencoder_stacked.py``: :class:`StackedAutoencoder` (greedy layer-wise pretraining, ``to_classifier``).
- ``autoencoder_sampler.py``: :class:`GaussianLatentSampler` (generation from a deterministic autoencoder).
- ``autoencoder_networks.py``: the sparse/contractive one-layer networks and the stacked layer stack.
- ``autoencoder_zoo.py``: the registered constructors.
- ``autoencoder_plots.py``: restoration rows, decoder filters, the 2-D denoising field, interpolation rows.
"""

from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.models.autoencoder.autoencoder_regularized import ContractiveAutoencoder, DenoisingAutoencoder
from keras_ae.models.autoencoder.autoencoder_sampler import GaussianLatentSampler
from keras_ae.models.autoencoder.autoencoder_stacked import StackedAutoencoder

__all__ = ["Autoencoder", "DenoisingAutoencoder", "ContractiveAutoencoder", "StackedAutoencoder",
           "GaussianLatentSampler"]
