import keras
import numpy as np
import pytest

import keras_ae


def _data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("int32")
    x = rng.uniform(0, 0.3, size=(n, 6, 6, 1)).astype("float32")
    x[y == 1, :3] += 0.6  # class 1 is bright on top
    return x, y


def _model():
    keras.utils.set_random_seed(0)
    return keras_ae.zoo.stacked_ae(input_shape=(6, 6, 1), layer_sizes=(12, 4))


def test_classifier_before_pretraining_is_rejected():
    model = _model()
    with pytest.raises(ValueError, match="pretrain"):
        model.to_classifier(2)
    # a randomly initialized baseline needs no pretraining
    assert model.to_classifier(2, from_scratch=True).output.shape[-1] == 2


def test_greedy_pretraining_trains_one_level_at_a_time(tmp_path):
    model = _model()
    x, y = _data()
    enc0_before = model.encoder_layer(0).get_weights()[0].copy()
    hist = model.pretrain(x, epochs=2, batch_size=32, levels=1)
    assert len(hist) == 1 and model.pretrained_levels == 1 and not model.is_pretrained
    enc0_after = model.encoder_layer(0).get_weights()[0].copy()
    assert not np.allclose(enc0_before, enc0_after)
    enc1_before = model.encoder_layer(1).get_weights()[0].copy()
    model.pretrain(x, epochs=2, batch_size=32)
    assert model.is_pretrained and model.pretrained_levels == 2
    assert not np.allclose(enc1_before, model.encoder_layer(1).get_weights()[0])
    # the state is saved with the model
    path = str(tmp_path / "stacked.keras")
    model.save(path)
    assert keras_ae.load_model(path).pretrained_levels == 2


def test_level_two_pretraining_leaves_level_one_frozen():
    model = _model()
    x, _ = _data()
    model.pretrain(x, epochs=1, batch_size=32, levels=1)
    w0 = model.encoder_layer(0).get_weights()[0].copy()
    hist = model.pretrain(x, epochs=2, batch_size=32)
    assert len(hist) == 1  # only the second level was trained
    np.testing.assert_array_equal(w0, model.encoder_layer(0).get_weights()[0])
    assert model.pretrain(x, epochs=1) == []  # nothing left to pretrain
    model.pretrain(x, epochs=1, restart=True)
    assert not np.allclose(w0, model.encoder_layer(0).get_weights()[0])


def test_to_classifier_frozen_and_fine_tuned():
    model = _model()
    x, y = _data()
    model.pretrain(x, epochs=2, batch_size=32)
    frozen = model.to_classifier(2, fine_tune=False)
    assert len(frozen.trainable_weights) == 2  # only the output Dense kernel and bias
    enc_weights = [w.copy() for w in model.encoder.get_weights()]
    frozen.fit(x, y, epochs=2, batch_size=32, verbose=0)
    inner = frozen.get_layer(model.encoder.name)
    for a, b in zip(enc_weights, inner.get_weights()):
        np.testing.assert_array_equal(a, b)
    tuned = model.to_classifier(2, fine_tune=True, learning_rate=1e-2)
    tuned.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert tuned.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.9
    # the autoencoder itself is untouched by fine-tuning a classifier
    for a, b in zip(enc_weights, model.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_freeze_and_bad_arguments():
    model = _model()
    model.freeze(1)
    assert not model.encoder_layer(0).trainable and model.encoder_layer(1).trainable
    model.freeze(frozen=False)
    assert model.encoder_layer(0).trainable
    with pytest.raises(ValueError, match="levels"):
        model.pretrain(_data()[0], levels=3)
    with pytest.raises(ValueError, match="shape"):
        model.pretrain(np.zeros((4, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="layer_sizes"):
        keras_ae.zoo.stacked_ae(layer_sizes=())
