"""The Oxford-IIIT Pet segmentation set (tfds ``oxford_iiit_pet``) as a U-Net input pipeline.

``load_pets(split)`` returns a batched ``tf.data`` pipeline of ``(images, masks)``: float32 images in [0, 1]
resized to ``(image_size, image_size, 3)`` (bilinear), int32 masks ``(image_size, image_size)`` resized with
nearest neighbour, labels ``0`` pet, ``1`` background, ``2`` outline (the dataset's trimap values 1, 2, 3
minus one). Train with ``keras_ae.zoo.unet(input_shape=(128, 128, 3), num_classes=3)``.

tfds downloads the data on first use (about 800 MB); on a machine without internet prepare it elsewhere and
pass ``data_dir``. Splits: ``"train"`` (3,680 images) and ``"test"`` (3,669), with tfds slicing syntax.
"""

__all__ = ["load_pets", "pets_example", "PETS_CLASSES"]

from keras_ae.errors import check_positive_int

PETS_CLASSES = ("pet", "background", "outline")


def pets_example(example, image_size=128):
    """Map one tfds example dict to ``(image float32 [0,1] (S, S, 3), mask int32 (S, S))``."""
    import tensorflow as tf

    image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (image_size, image_size),
                            method="bilinear")
    image = tf.clip_by_value(image, 0.0, 1.0)
    mask = tf.image.resize(example["segmentation_mask"], (image_size, image_size), method="nearest")
    mask = tf.cast(mask[..., 0], tf.int32) - 1
    return image, mask


def load_pets(split="train", image_size=128, batch_size=32, data_dir=None, shuffle=False, seed=0,
              augment=False, cache=False):
    """Batched ``(images, masks)`` pipeline of tfds ``oxford_iiit_pet`` (see the module doc).

    ``shuffle`` shuffles examples (buffer 1,000, ``seed``); ``augment`` adds random left-right flips of
    image and mask together; ``cache`` caches the resized examples in memory.
    """
    import tensorflow as tf

    from keras_ae.data.pipelines import pipeline_options
    from keras_ae.data.sources import tfds_dataset

    image_size = check_positive_int("image_size", image_size)
    batch_size = check_positive_int("batch_size", batch_size)
    ds = tfds_dataset("oxford_iiit_pet", split, data_dir)
    ds = ds.map(lambda ex: pets_example(ex, image_size), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(1000, seed=seed)
    if augment:
        def flip(image, mask):
            do = tf.random.uniform(()) < 0.5
            image = tf.cond(do, lambda: tf.image.flip_left_right(image), lambda: image)
            mask = tf.cond(do, lambda: tf.reverse(mask, axis=[1]), lambda: mask)
            return image, mask

        ds = ds.map(flip, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(pipeline_options())
