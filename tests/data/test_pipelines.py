"""keras_ae's tf.data pipelines carry the options that remove the epoch-boundary wait (docs/performance.md):
the datasets keras_ae.data builds, and what Keras' fit iterates in the recipe runner and the tuner."""

import keras
import keras_tuner as kt
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keras_ae  # noqa: E402
from keras_ae import data, recipes  # noqa: E402
from keras_ae.tuning.hypermodel import ZooHyperModel  # noqa: E402


def autotune_enabled(ds):
    """tf.data's autotuning flag of ``ds`` as the runtime reads it (``None`` means on)."""
    enabled = ds.options().autotune.enabled
    return True if enabled is None else bool(enabled)


@pytest.fixture
def fit_inputs(monkeypatch):
    """Record the training and validation data that reach ``keras.Model.fit`` (after keras_ae's own checks)."""
    seen = []
    original = keras.Model.fit

    def spy(self, x=None, y=None, *args, validation_data=None, **kwargs):
        seen.append((x, validation_data))
        return original(self, x, y, *args, validation_data=validation_data, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return seen


def test_a_plain_tf_data_chain_autotunes():
    # the premise of the other tests: without keras_ae's options the same steps run with autotuning on
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2), "float32")).batch(2).prefetch(tf.data.AUTOTUNE)
    assert autotune_enabled(ds)
    assert not autotune_enabled(ds.with_options(data.pipeline_options()))


@pytest.mark.parametrize("with_labels", [False, True])
def test_load_turns_autotuning_off_and_the_option_survives_the_model_checks(with_labels):
    ds = data.load("digits", "train", batch_size=64, with_labels=with_labels)
    assert not autotune_enabled(ds)
    model = keras_ae.zoo.create("conv_cvae" if with_labels else "conv_vae", input_shape=(8, 8, 1),
                                filters=(4, 8), dense_units=8)
    prepared = model.preprocess_dataset(ds)  # the checking map that fit adds in front of Keras
    assert prepared is not ds and not autotune_enabled(prepared)


def test_pipeline_serves_every_example_once_per_epoch_reshuffled_with_labels_paired():
    x = np.arange(10, dtype="float32").reshape(10, 1) * np.ones((1, 3), "float32")
    y = np.arange(10, dtype="int32") * 2
    ds = data.pipeline(x, y, batch_size=4, shuffle=True, seed=1)
    epochs = []
    for _ in range(2):
        batches = list(ds.as_numpy_iterator())
        assert [len(b[0]) for b in batches] == [4, 4, 2]
        xs, ys = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        np.testing.assert_array_equal(ys, 2 * xs[:, 0].astype("int32"))  # labels stay with their images
        assert sorted(xs[:, 0].tolist()) == list(range(10))
        epochs.append(xs[:, 0])
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled at every epoch
    again = next(iter(data.pipeline(x, y, batch_size=4, shuffle=True, seed=1)))[0].numpy()
    np.testing.assert_array_equal(again, epochs[0][:4, None] * np.ones((1, 3)))  # the seed fixes the order
    ordered = list(data.pipeline(x, batch_size=4, drop_remainder=True).as_numpy_iterator())
    assert len(ordered) == 2 and ordered[0][:, 0].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(x=np.zeros((4, 2)), batch_size=0), ValueError, r"`batch_size` must be an integer >= 1; received 0"),
        (dict(x=np.zeros((4, 2)), y=np.zeros(3)), ValueError, r"`y` must hold one label per example of `x` \(4\)"),
        (dict(x=np.zeros((0, 2))), ValueError, r"`x` holds no examples"),
        (dict(x=[[0.0], [1.0]]), TypeError, r"`x` must be an array of shape \(N, \.\.\.\); received list"),
    ],
)
def test_pipeline_errors_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.pipeline(**kwargs)


def test_recipe_runner_fits_on_pipelines_without_autotuning(tmp_path, fit_inputs):
    recipe = recipes.from_arguments("conv_vae", "digits", epochs=1, out=str(tmp_path / "run"), batch_size=256,
                                    model_args={"filters": [4, 8], "dense_units": 8})
    recipes.run(recipe, verbose=0)
    x, validation = fit_inputs[0]
    assert isinstance(x, tf.data.Dataset) and isinstance(validation, tf.data.Dataset)
    assert not autotune_enabled(x) and not autotune_enabled(validation)


@pytest.mark.parametrize("labels", [False, True])
def test_tuner_turns_arrays_and_datasets_into_pipelines_without_autotuning(fit_inputs, labels):
    name = "conv_cvae" if labels else "conv_vae"
    hm = ZooHyperModel(name, {"batch_size": {"values": [16, 32]}}, model_args={"filters": (4, 8), "dense_units": 8},
                       input_shape=(8, 8, 1), num_classes=3 if labels else None, epochs=1)
    hp = kt.HyperParameters()
    hp.values["batch_size"] = 32
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=64).astype("int32")
    model = hm.build(hp)
    history = hm.fit(hp, model, x, y if labels else None,
                     validation_data=(x[:32], y[:32]) if labels else (x[:32],), verbose=0)
    assert int(model.optimizer.iterations) == 2  # 64 examples / tuned batch 32
    assert "val_neg_elbo" in history.history
    seen, validation = fit_inputs[0]
    assert isinstance(seen, tf.data.Dataset) and not autotune_enabled(seen)
    assert isinstance(validation, tf.data.Dataset) and not autotune_enabled(validation)
    # a dataset of the user's own, with autotuning on, is re-batched without it
    own = tf.data.Dataset.from_tensor_slices((x, y) if labels else x).batch(8).prefetch(tf.data.AUTOTUNE)
    hm.fit(hp, hm.build(hp), own, validation_data=own, verbose=0)
    seen, validation = fit_inputs[-1]
    assert not autotune_enabled(seen) and not autotune_enabled(validation)
