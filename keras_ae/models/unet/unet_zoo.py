"""The U-Net in the zoo: per-pixel segmentation (images -> masks), every pooling and upsampling mode of the lectures."""

from keras_ae.models.unet.unet_model import UNet
from keras_ae.models.unet.unet_networks import unet_network
from keras_ae.zoo.common import compile_model
from keras_ae.zoo.registry import register

TINY = {"input_shape": (16, 16, 1), "num_classes": 3, "depth": 2, "base_filters": 4, "upsampling": "unpool"}


@register("unet", test_kwargs=TINY, test_data="segmentation")
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

    Train with ``fit(images, masks)``, masks integer class maps ``(N, H, W)``; pass the paper's weight map as
    ``fit(x, masks, sample_weight=w)`` (:func:`keras_ae.data.cells.unet_weight_map`). Metrics: mean IoU and Dice.

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** depth``.
        num_classes: number of classes in the masks.
        depth: number of halvings (levels of the contracting path).
        base_filters: filters at full resolution (doubled at each level).
        pooling: ``"max"``, ``"avg"`` or ``"stride"`` (a learned stride-2 convolution).
        upsampling: ``"transpose"``, ``"bilinear"``, ``"nearest"`` or ``"unpool"`` (max-unpooling at the stored
            argmax positions; needs ``pooling="max"``).
        batch_norm: batch normalization after each convolution.
        dropout: dropout rate at the end of the contracting path (as in the paper).
        residual: residual shortcuts in each level's block.
        loss: ``"cross_entropy"``, ``"dice"`` or ``"cross_entropy+dice"``.
        dice_weight: weight of the Dice term in ``"cross_entropy+dice"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> from keras_ae.data.cells import make_cells
        >>> cells = make_cells(512, size=64, seed=0)
        >>> model = keras_ae.zoo.unet(input_shape=(64, 64, 1), num_classes=3, depth=3, base_filters=16)
        >>> model.fit(cells.images, cells.masks, epochs=10, batch_size=16)
        >>> masks = model.predict_masks(cells.images[:4])
    """
    network = unet_network(input_shape, num_classes, depth, base_filters, pooling, upsampling,
                           batch_norm, dropout, residual, name=f"{name}_network")
    model = UNet(network, segmentation_loss=loss, dice_weight=dice_weight, name=name)
    return compile_model(model, optimizer, learning_rate)
