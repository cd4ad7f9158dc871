"""UNet: shapes, loss values against numpy, metrics against the numpy scores, and clear input errors."""

import keras
import numpy as np
import pytest

from keras_ae.evaluation.segmentation import mean_dice, mean_iou
from keras_ae.models.unet import (SegmentationDice, SegmentationMeanIoU, UNet, dice_loss, pixel_cross_entropy,
                                  unet_network)
from keras_ae.zoo import unet

TINY = dict(input_shape=(16, 16, 1), num_classes=3, depth=2, base_filters=4)


def _data(n=8, seed=0, k=3, size=16):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, size, size, 1)).astype("float32")
    masks = rng.integers(0, k, size=(n, size, size)).astype("int32")
    return x, masks


@pytest.mark.parametrize("pooling,upsampling,residual", [("max", "transpose", False), ("avg", "bilinear", True),
                                                         ("stride", "nearest", False), ("max", "unpool", True)])
def test_network_maps_images_to_per_pixel_logits(pooling, upsampling, residual):
    net = unet_network((32, 16, 2), 4, depth=3, base_filters=2, pooling=pooling, upsampling=upsampling,
                       residual=residual, dropout=0.5)
    assert net.output_shape == (None, 32, 16, 4)
    names = [layer.name for layer in net.layers]
    assert "bottleneck_dropout" in names and ("bottleneck_add" in names) == residual
    kinds = {type(layer).__name__ for layer in net.layers}
    expected = {"transpose": "Conv2DTranspose", "bilinear": "UpSampling2D", "nearest": "UpSampling2D",
                "unpool": "MaxUnpooling"}[upsampling]
    assert expected in kinds


def test_sizes_not_divisible_by_two_to_the_depth_are_refused():
    with pytest.raises(ValueError, match=r"divisible by 2\*\*depth = 8.*\(24, 24, 1\)"):
        unet(input_shape=(20, 24, 1), depth=3, base_filters=2)
    with pytest.raises(ValueError, match="pooling='max'"):
        unet(input_shape=(16, 16, 1), depth=2, base_filters=2, pooling="avg", upsampling="unpool")
    with pytest.raises(ValueError, match="upsampling"):
        unet(input_shape=(16, 16, 1), depth=2, upsampling="deconv")


def test_masks_outside_num_classes_and_mismatched_weight_maps_are_refused():
    model = unet(**TINY)
    x, masks = _data()
    bad = masks.copy()
    bad[0, 0, 0] = 3
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\].*\[3\]"):
        model.fit(x, bad, epochs=1, verbose=0)
    bad[0, 0, 0] = -1
    with pytest.raises(ValueError, match=r"\[-1\]"):
        model.fit(x, bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"weight map.*\(8, 16, 16\).*\(8, 16, 8\)"):
        model.fit(x, masks, sample_weight=np.ones((8, 16, 8), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(x, masks, sample_weight=-np.ones((8, 16, 16), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Masks must be integer class maps of shape \(batch, 16, 16\)"):
        model.fit(x, masks[:, :8], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="masks"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Wrong images shape"):
        model.fit(x[:, :8], masks, epochs=1, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0


def test_dataset_with_labels_outside_num_classes_fails_while_streaming():
    import tensorflow as tf

    model = unet(**TINY)
    x, masks = _data()
    masks[3, 2, 2] = 7
    ds = tf.data.Dataset.from_tensor_slices((x, masks)).batch(4)
    with pytest.raises(Exception, match=r"mask labels must lie in \[0, 2\]"):
        model.fit(ds, epochs=1, verbose=0)
    ds_bad_w = tf.data.Dataset.from_tensor_slices((x, masks, np.ones((8, 16, 8), "float32"))).batch(4)
    with pytest.raises(ValueError, match="weight map must have shape"):
        model.fit(ds_bad_w, epochs=1, verbose=0)


def test_losses_match_numpy():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    masks = rng.integers(0, 3, size=(2, 4, 4))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(logp, masks[..., None], -1)[..., 0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pixel_cross_entropy(masks, logits)), ce, rtol=1e-5)
    p = np.exp(logp)
    onehot = np.eye(3)[masks]
    dice = (2 * (p * onehot).sum((0, 1, 2)) + 1) / (p.sum((0, 1, 2)) + onehot.sum((0, 1, 2)) + 1)
    np.testing.assert_allclose(float(dice_loss(masks, logits)), 1 - dice.mean(), rtol=1e-5)
    perfect = 50.0 * (np.eye(3)[masks] - 0.5)
    assert float(dice_loss(masks, perfect)) < 0.05


def test_weight_map_weights_the_cross_entropy():
    model = unet(**TINY)
    x, masks = _data(n=4)
    logits = model(x, training=False)
    ce = keras.ops.convert_to_numpy(pixel_cross_entropy(masks, logits))
    w = np.random.default_rng(4).uniform(0, 5, size=masks.shape).astype("float32")
    got = float(model.compute_loss(x, masks, logits, sample_weight=w, training=False))
    np.testing.assert_allclose(got, (w * ce).sum() / w.sum(), rtol=1e-4)
    plain = float(model.compute_loss(x, masks, logits, training=False))
    np.testing.assert_allclose(plain, ce.mean(), rtol=1e-4)
    # zero weight on every pixel of class 0: the loss ignores them
    w0 = (masks != 0).astype("float32")
    np.testing.assert_allclose(float(model.compute_loss(x, masks, logits, sample_weight=w0, training=False)),
                               ce[masks != 0].mean(), rtol=1e-4)


def test_iou_and_dice_metrics_match_numpy_scores():
    rng = np.random.default_rng(5)
    masks = rng.integers(0, 4, size=(3, 8, 8))
    logits = rng.normal(size=(3, 8, 8, 4)).astype("float32")
    logits[..., 3] -= 10  # class 3 is never predicted
    pred = logits.argmax(-1)
    iou, dice = SegmentationMeanIoU(4), SegmentationDice(4)
    iou.update_state(masks[:2], logits[:2])
    iou.update_state(masks[2:], logits[2:])  # accumulated over batches
    dice.update_state(masks, logits)
    np.testing.assert_allclose(float(iou.result()), mean_iou(masks, pred, 4), rtol=1e-5)
    np.testing.assert_allclose(float(dice.result()), mean_dice(masks, pred, 4), rtol=1e-5)
    iou.reset_state()
    iou.update_state(masks, 10.0 * np.eye(4)[masks])
    assert float(iou.result()) == pytest.approx(1.0)


def test_weighted_fit_learns_and_reports_metrics():
    keras.utils.set_random_seed(0)
    model = unet(input_shape=(16, 16, 1), num_classes=2, depth=2, base_filters=4, learning_rate=1e-2, batch_norm=False,
                 loss="cross_entropy+dice")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 16, 16, 1)).astype("float32")
    masks = (x[..., 0] > 0.5).astype("int32")  # a per-pixel threshold: easy to learn
    w = np.where(masks == 1, 2.0, 1.0).astype("float32")
    hist = model.fit(x, masks, sample_weight=w, epochs=10, batch_size=4, verbose=0,
                     validation_data=(x, masks, w)).history
    for key in ("loss", "cross_entropy", "dice_loss", "accuracy", "mean_iou", "dice", "val_mean_iou", "val_dice"):
        assert key in hist, key
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["val_mean_iou"][-1] > 0.6 and hist["val_mean_iou"][-1] > hist["val_mean_iou"][0] + 0.2
    pred = model.predict_masks(x)
    assert pred.shape == (16, 16, 16) and pred.dtype == np.int32
    np.testing.assert_allclose(model.predict_proba(x[0]).sum(-1), 1.0, atol=1e-5)
    result = model.evaluate(x, masks, verbose=0, return_dict=True)
    assert result["mean_iou"] == pytest.approx(mean_iou(masks, pred, 2), abs=1e-4)


def test_config_round_trip():
    model = unet(**TINY, loss="dice", dice_weight=0.5)
    config = model.get_config()
    assert config["segmentation_loss"] == "dice" and config["dice_weight"] == 0.5
    clone = UNet.from_config(config)
    assert clone.num_classes == 3 and clone.input_shape == (16, 16, 1)
    with pytest.raises(ValueError, match="segmentation_loss"):
        UNet(model.network, segmentation_loss="focal")
