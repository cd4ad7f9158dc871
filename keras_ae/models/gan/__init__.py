"""The GAN family: minimax / non-saturating GAN, WGAN (weight clipping), WGAN-GP and the conditional GAN.

- ``gan_model.py``: the model classes :class:`GAN`, :class:`WGAN`, :class:`WGANGP`, :class:`ConditionalGAN`.
- ``gan_trainer.py``: the two-player training step for TensorFlow, torch and JAX, and :class:`OptimizerPair`.
- ``gan_networks.py``: dense and DCGAN generators and discriminators.
- ``gan_zoo.py``: the registered constructors (``dense_gan``, ``dense_wgan``, ``dense_wgan_gp``, ``dcgan``, ``wgan``,
  ``wgan_gp``, ``conditional_gan``).
- ``gan_plots.py``: the ring-of-Gaussians figure (image samples use :func:`keras_ae.plotting.plot_samples`).
"""

from keras_ae.models.gan.gan_model import GAN, WGAN, WGANGP, ConditionalGAN
from keras_ae.models.gan.gan_trainer import AdversarialTrainer, OptimizerPair

__all__ = ["GAN", "WGAN", "WGANGP", "ConditionalGAN", "AdversarialTrainer", "OptimizerPair"]
