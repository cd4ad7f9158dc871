"""The VAE family: VAE (Kingma & Welling), beta-VAE (``beta != 1``) and the conditional VAE.

- ``vae_model.py``: :class:`VAE`, :class:`ConditionalVAE` (the KL comes from :class:`keras_ae.layers.GaussianSampling`;
  with ``posterior_flow`` the posterior is the Gaussian followed by planar or IAF layers, the KL a Monte-Carlo term).
- ``vae_zoo.py``: the registered constructors (``dense_vae``, ``conv_vae``, ``conv_cvae``).
Figures: the generic ones of :mod:`keras_ae.plotting` (``plot_manifold`` for 2-D latents) and the latent analyses'
(:mod:`keras_ae.plotting.latent_plots`).
"""

from keras_ae.models.vae.vae_model import VAE, ConditionalVAE

__all__ = ["VAE", "ConditionalVAE"]
