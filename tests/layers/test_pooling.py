"""MaxPoolingWithArgmax / MaxUnpooling against a hand-computed example, on TensorFlow, torch and JAX."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ae.layers.pooling import MaxPoolingWithArgmax, MaxUnpooling

# a 4x4 map, 2 channels; channel 1 is channel 0 negated (so its maxima sit elsewhere)
X = np.array([[1, 2, 5, 3],
              [4, 0, 1, 6],
              [7, 8, 0, 0],
              [2, 9, 3, 1]], dtype="float32")
# by hand: windows {1,2,4,0} -> 4 at (1,0); {5,3,1,6} -> 6 at (1,3); {7,8,2,9} -> 9 at (3,1); {0,0,3,1} -> 3 at (3,2)
POOLED0 = np.array([[4, 6], [9, 3]], dtype="float32")
POS0 = np.array([[1 * 4 + 0, 1 * 4 + 3], [3 * 4 + 1, 3 * 4 + 2]])
# negated: {-1,-2,-4,0} -> 0 at (1,1); {-5,-3,-1,-6} -> -1 at (1,2); {-7,-8,-2,-9} -> -2 at (3,0);
# {0,0,-3,-1}: tie of zeros -> the first, (2,2)
POOLED1 = np.array([[0, -1], [-2, 0]], dtype="float32")
POS1 = np.array([[1 * 4 + 1, 1 * 4 + 2], [3 * 4 + 0, 2 * 4 + 2]])
UNPOOLED0 = np.array([[0, 0, 0, 0],
                      [4, 0, 0, 6],
                      [0, 0, 0, 0],
                      [0, 9, 3, 0]], dtype="float32")


def _input():
    return np.stack([X, -X], axis=-1)[None]  # (1, 4, 4, 2)


def test_pooling_matches_hand_computed_example():
    pooled, pos = MaxPoolingWithArgmax(2)(_input())
    pooled, pos = keras.ops.convert_to_numpy(pooled), keras.ops.convert_to_numpy(pos)
    np.testing.assert_array_equal(pooled[0, ..., 0], POOLED0)
    np.testing.assert_array_equal(pos[0, ..., 0], POS0)
    np.testing.assert_array_equal(pooled[0, ..., 1], POOLED1)
    np.testing.assert_array_equal(pos[0, ..., 1], POS1)
    assert pos.dtype == np.int32


def test_positions_agree_with_tensorflow_max_pool_with_argmax():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(2, 8, 6, 3)).astype("float32")
    _, pos = MaxPoolingWithArgmax(2)(x)
    _, tf_pos = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID", include_batch_in_index=False)
    # tf's flat index is (row * W + col) * C + channel
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(pos), tf_pos.numpy() // 3)


def test_unpooling_puts_values_back_at_the_stored_positions():
    pooled, pos = MaxPoolingWithArgmax(2)(_input())
    out = keras.ops.convert_to_numpy(MaxUnpooling(2)([pooled, pos]))
    assert out.shape == (1, 4, 4, 2)
    np.testing.assert_array_equal(out[0, ..., 0], UNPOOLED0)
    expected1 = np.zeros((4, 4), "float32")
    expected1[1, 2], expected1[3, 0] = -1, -2  # the zeros land on zeros
    np.testing.assert_array_equal(out[0, ..., 1], expected1)
    # other values (e.g. decoder features) go to the same positions
    other = keras.ops.convert_to_numpy(MaxUnpooling(2)([np.ones((1, 2, 2, 2), "float32"), pos]))
    assert other[0, ..., 0].sum() == 4 and other[0, 1, 0, 0] == 1 and other[0, 0, 0, 0] == 0


def test_pool_size_three_and_gradient_reaches_only_the_maxima():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).normal(size=(1, 6, 6, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled, pos = MaxPoolingWithArgmax(3)(x)
        loss = tf.reduce_sum(MaxUnpooling(3)([pooled, pos]))
    grad = tape.gradient(loss, x).numpy()[0, ..., 0]
    assert pooled.shape == (1, 2, 2, 1)
    assert grad.sum() == 4 and set(np.unique(grad)) == {0.0, 1.0}
    # the gradient is 1 exactly at each window's maximum
    xs = x.numpy()[0, ..., 0]
    for i in range(2):
        for j in range(2):
            win = xs[3 * i:3 * i + 3, 3 * j:3 * j + 3]
            r, c = np.unravel_index(np.argmax(win), win.shape)
            assert grad[3 * i + r, 3 * j + c] == 1


def test_layers_in_a_functional_model_save_and_load(tmp_path):
    inp = keras.Input((8, 8, 3))
    pooled, pos = MaxPoolingWithArgmax(2, name="p")(inp)
    out = MaxUnpooling(2, name="u")([keras.layers.Conv2D(3, 1)(pooled), pos])
    model = keras.Model(inp, out)
    assert model.output_shape == (None, 8, 8, 3)
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 3)).astype("float32")
    path = str(tmp_path / "m.keras")
    model.save(path)
    import keras_ae

    loaded = keras_ae.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    assert MaxUnpooling.from_config(model.get_layer("u").get_config()).pool_size == 2


def test_clear_errors():
    with pytest.raises(ValueError, match="divisible by 2"):
        MaxPoolingWithArgmax(2)(np.zeros((1, 5, 4, 1), "float32"))
    with pytest.raises(ValueError, match="pool_size"):
        MaxPoolingWithArgmax(0)
    with pytest.raises(ValueError, match="same shape"):
        MaxUnpooling(2)([keras.Input((4, 4, 2)), keras.Input((4, 4, 3), dtype="int32")])


_SCRIPT = r"""
import json, numpy as np, keras
from keras_ae.layers.pooling import MaxPoolingWithArgmax, MaxUnpooling
x = np.array(%s, dtype="float32")[None, ..., None]
p, a = MaxPoolingWithArgmax(2)(x)
u = MaxUnpooling(2)([p, a])
c = keras.ops.convert_to_numpy
print(json.dumps({"backend": keras.backend.backend(), "pooled": c(p)[0, ..., 0].tolist(),
                  "pos": c(a)[0, ..., 0].tolist(), "unpooled": c(u)[0, ..., 0].tolist()}))
""" % X.tolist()


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_hand_example_on_other_backends(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend"] == backend
    np.testing.assert_array_equal(np.array(out["pooled"]), POOLED0)
    np.testing.assert_array_equal(np.array(out["pos"]), POS0)
    np.testing.assert_array_equal(np.array(out["unpooled"]), UNPOOLED0)
