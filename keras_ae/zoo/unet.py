"""U-Net for per-pixel segmentation (images -> masks), with every pooling and upsampling mode of the lectures."""

__all__ = ["unet_test_data"]

import numpy as np

from keras_ae.models.unet import UNet, unet_network
from keras_ae.testing import TestData
from keras_ae.zoo.common import compile_model
from keras_ae.zoo.registry import register

TINY = {"input_shape": (16, 16, 1), "num_classes": 3, "depth": 2, "base_filters": 4, "upsampling": "unpool"}


def unet_test_data(model, n, rng):
    """Tiny random images with blocky random masks: ``fit(x, masks)`` trains, ``model(x)`` probes."""
    h, w, c = model.image_shape
    x = rng.uniform(0.0, 1.0, size=(n, h, w, c)).astype("float32")
    coarse = rng.integers(0, model.num_classes, size=(n, max(h // 4, 1), max(w // 4, 1)))
    masks = np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2)[:, :h, :w].astype("int32")
    return TestData(x, masks, x)


@register("unet", test_kwargs=TINY, test_data=unet_test_data)
def unet(
    input_shape=(128, 128, 3),
    num_classes=3,
    depth=4,
    base_filters=64,
    pooling="max",
    upsampling="transpose",
    batch_norm=True,
    dropout=0.0,
    residual=False,
    loss="cross_entropy",
    dice_weight=1.0,
    optimizer=None,
    learning_rate=1e-3,
    name="unet",
):
    """U-Net (Ronneberger et al. 2015): skip-connected encoder-decoder trained by per-pixel cross entropy.

    ``pooling`` in "max" | "avg" | "stride"; ``upsampling`` in "transpose" | "bilinear" | "nearest" | "unpool"
    (max-unpooling at the stored argmax positions; needs pooling="max"). ``loss`` in "cross_entropy" | "dice" |
    "cross_entropy+dice"; pass the paper's weight map as ``fit(x, masks, sample_weight=w)``. Metrics: mean IoU
    and Dice. Height and width must be divisible by ``2**depth``.
    """
    network = unet_network(input_shape, num_classes, depth, base_filters, pooling, upsampling,
                           batch_norm, dropout, residual, name=f"{name}_network")
    model = UNet(network, segmentation_loss=loss, dice_weight=dice_weight, name=name)
    return compile_model(model, optimizer, learning_rate)
