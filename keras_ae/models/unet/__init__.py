"""The U-Net family (Ronneberger et al. 2015): per-pixel segmentation with skip connections.

- ``unet_model.py``: :class:`UNet` (weighted cross entropy / Dice losses, mean IoU and Dice metrics).
- ``unet_networks.py``: :func:`~keras_ae.models.unet.unet_networks.unet_network`, every pooling and upsampling mode.
- ``unet_zoo.py``: the registered constructor ``unet``.
- ``unet_plots.py``: image / true mask / predicted mask / weight map rows.
"""

from keras_ae.models.unet.unet_model import (SEGMENTATION_LOSSES, SegmentationDice, SegmentationMeanIoU, UNet,
                                             dice_loss, pixel_cross_entropy)
from keras_ae.models.unet.unet_networks import POOLINGS, UPSAMPLINGS, unet_network

__all__ = ["UNet", "SegmentationMeanIoU", "SegmentationDice", "dice_loss", "pixel_cross_entropy", "unet_network",
           "POOLINGS", "UPSAMPLINGS", "SEGMENTATION_LOSSES"]
