"""The VQ-VAE family (van den Oord et al. 2017): vector-quantized autoencoder with a gated PixelCNN prior.

- ``vqvae_model.py``: :class:`VQVAE` (``fit``, then ``fit_prior``, then ``sample``).
- ``vqvae_networks.py``: the convolutional encoder and decoder.
- ``vqvae_zoo.py``: the registered constructor ``vq_vae``.
- ``vqvae_plots.py``: reconstructions, codebook usage, prior samples.
The quantizer and the PixelCNN are shared layers (:mod:`keras_ae.layers`).
"""

from keras_ae.models.vqvae.vqvae_model import VQVAE

__all__ = ["VQVAE"]
