"""The tfds oxford_iiit_pet pipeline, through tfds.testing.mock_data (no download)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
tfds = pytest.importorskip("tensorflow_datasets")

from keras_ae.data.pets import load_pets  # noqa: E402


def test_random_mock_examples_become_batched_images_and_masks():
    with tfds.testing.mock_data(num_examples=5):
        ds = load_pets("train", image_size=32, batch_size=2)
        batches = list(ds.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    x, y = batches[0]
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (2, 32, 32) and y.dtype == np.int32


def _trimap_examples(self, *args, **kwargs):
    def gen():
        for i in range(3):
            h, w = 40 + 8 * i, 50
            image = np.zeros((h, w, 3), np.uint8)
            image[:, : w // 2] = 255
            trimap = np.full((h, w, 1), 2, np.uint8)  # 2 = background
            trimap[:, : w // 2] = 1  # 1 = pet
            trimap[:4] = 3  # 3 = outline
            yield {"image": image, "segmentation_mask": trimap, "label": i, "species": 0,
                   "file_name": f"pet_{i}.jpg", "head_bbox": np.zeros(4, np.float32)}

    return tf.data.Dataset.from_generator(gen, output_signature=self.info.features.get_tensor_spec())


def test_trimap_labels_become_zero_based_classes_and_resize_with_nearest_neighbour():
    with tfds.testing.mock_data(as_dataset_fn=_trimap_examples):
        x, y = next(load_pets("test", image_size=16, batch_size=3).as_numpy_iterator())
    assert x.shape == (3, 16, 16, 3) and y.shape == (3, 16, 16)
    assert set(np.unique(y)) == {0, 1, 2}  # nearest-neighbour resizing invents no label
    np.testing.assert_array_equal(y[:, 0], 2)  # outline on top
    np.testing.assert_array_equal(y[:, 4:, :8], 0)  # pet on the left (bright half)
    np.testing.assert_array_equal(y[:, 4:, 8:], 1)  # background on the right
    assert x[:, 4:, :6].min() > 0.95 and x[:, 4:, 10:].max() < 0.05


def test_pets_pipeline_trains_a_unet():
    from keras_ae.zoo import unet

    with tfds.testing.mock_data(as_dataset_fn=_trimap_examples):
        ds = load_pets("train", image_size=16, batch_size=3)
        model = unet(input_shape=(16, 16, 3), num_classes=3, depth=2, base_filters=2)
        history = model.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]) and "mean_iou" in history
