"""Architecture options of the convolutional builders, and the layers behind them."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae import networks, testing, zoo
from keras_ae.layers import Padding2D, WeightNormalization

TINY = dict(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), dense_units=8)
OPTIONS = [
    ("padding", "reflect"), ("padding", "circular"),
    ("downsampling", "max"), ("downsampling", "avg"),
    ("upsampling", "nearest"), ("upsampling", "bilinear"),
    ("norm", "batch"), ("norm", "layer"), ("norm", "weight"),
    ("block", "residual"),
]


# every option on conv_vae; conv_ae (same builders, deterministic codes) with the padding and norm variants.
# Reloaded in this process (CI's time), apart from norm="batch": tests/test_networks_zoo.py reloads every other option
# value in a fresh process on the other conv constructors, so each option's layers are also found by a process that
# only imported keras_ae.
CASES = [("conv_vae", o, v) for o, v in OPTIONS] + [("conv_ae", o, v) for o, v in OPTIONS if o in ("padding", "norm")]


@pytest.mark.parametrize("name, option, value", CASES)
def test_every_option_trains_and_reloads(name, option, value, tmp_path):
    model = zoo.create(name, **TINY, **{option: value})
    report = testing.check_model(model, "images", workdir=str(tmp_path), fresh_process=value == "batch")
    assert report["reload"]["iterations_after"] > report["iterations"]
    reloaded = keras_ae.load_model(report["path"])
    layer_types = {type(l).__name__ for l in reloaded.encoder.layers + reloaded.decoder.layers}
    expected = {"padding": "Padding2D", "downsampling": {"max": "MaxPooling2D", "avg": "AveragePooling2D"}.get(value),
                "upsampling": "UpSampling2D", "norm": {"batch": "SyncBatchNormalization", "layer": "LayerNormalization",
                                                       "weight": "WeightNormalization"}.get(value),
                "block": "Add"}[option]
    assert expected in layer_types


def test_default_graph_is_unchanged_by_the_options():
    """No option given: plain stride-2 convolutions with their activation inside, as benchmarked (conv_ae); conv_vae's
    defaults add layer normalization after each convolution (issue 18), and norm=None gives the plain graph."""
    plain = ["InputLayer", "Conv2D", "Conv2D", "Flatten", "Dense"]
    assert [type(l).__name__ for l in zoo.conv_ae(**TINY).encoder.layers] == plain + ["Dense"]
    assert [type(l).__name__ for l in zoo.conv_vae(**TINY, norm=None).encoder.layers] == plain + ["Dense", "Dense"]
    layered = [type(l).__name__ for l in zoo.conv_vae(**TINY).encoder.layers]
    assert layered.count("LayerNormalization") == 2 and layered.count("Conv2D") == 2


def test_weight_normalization_is_g_v_over_norm_v_and_trains_both():
    rng = np.random.default_rng(0)
    conv = keras.layers.Conv2D(3, 3, padding="same")
    wn = WeightNormalization(conv)
    x = rng.normal(size=(2, 5, 5, 2)).astype("float32")
    wn(x)
    wn.g.assign(np.array([0.5, 2.0, -1.0], "float32"))
    v = conv.kernel.numpy()
    w = v / np.sqrt((v**2).sum(axis=(0, 1, 2), keepdims=True)) * np.array([0.5, 2.0, -1.0])
    expected = tf.nn.conv2d(x, w, strides=1, padding="SAME").numpy() + conv.bias.numpy()
    np.testing.assert_allclose(wn(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    dense = WeightNormalization(keras.layers.Dense(4))
    xd = rng.normal(size=(3, 6)).astype("float32")
    dense(xd)
    vd = dense.layer.kernel.numpy()
    np.testing.assert_allclose(dense(xd).numpy(), xd @ (dense.g.numpy() * vd / np.linalg.norm(vd, axis=0)),
                               rtol=1e-5, atol=1e-5)
    # training moves both g and v
    g0, v0 = wn.g.numpy().copy(), conv.kernel.numpy().copy()
    opt = keras.optimizers.SGD(0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(wn(x)))
    grads = tape.gradient(loss, wn.trainable_variables)
    opt.apply(grads, wn.trainable_variables)
    assert not np.allclose(wn.g.numpy(), g0) and not np.allclose(conv.kernel.numpy(), v0)
    with pytest.raises(ValueError, match="Dense, Conv2D or Conv2DTranspose"):
        WeightNormalization(keras.layers.MaxPooling2D())


PADDING_CHECK = """
import json, numpy as np, keras
from keras_ae.layers import Padding2D
x = np.arange(20, dtype="float32").reshape(1, 4, 5, 1)
ok = {}
for mode, np_mode in (("reflect", "reflect"), ("circular", "wrap"), ("zeros", "constant")):
    got = keras.ops.convert_to_numpy(Padding2D(2, mode)(x))[0, :, :, 0]
    ok[mode] = bool(np.array_equal(got, np.pad(x[0, :, :, 0], 2, mode=np_mode)))
    uneven = keras.ops.convert_to_numpy(Padding2D(((1, 2), (0, 1)), mode)(x))[0, :, :, 0]
    ok[mode] = ok[mode] and bool(np.array_equal(uneven, np.pad(x[0, :, :, 0], ((1, 2), (0, 1)), mode=np_mode)))
print(json.dumps(ok))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "torch", "jax"])
def test_padding_modes_match_numpy_on_every_backend(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", PADDING_CHECK], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"reflect": True, "circular": True, "zeros": True}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(norm="group"), r"`norm` must be one of None, 'none', 'batch', 'layer', 'weight'"),
        (dict(padding="mirror"), r"'zeros', 'reflect', 'circular'"),
        (dict(downsampling="strided"), r"'stride', 'max', 'avg'"),
        (dict(block="dense"), r"'plain', 'residual'"),
        (dict(upsampling="unpool"), r"argmax positions of a matching max-pooling"),
        (dict(filters=(4, 8, 16, 32)), r"divisible by 2\*\*4=16"),
    ],
)
def test_bad_options_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.conv_vae(**{**TINY, **kwargs})


def test_padding_layer_errors_and_config():
    layer = Padding2D(1, "circular")
    assert Padding2D.from_config(layer.get_config()).mode == "circular"
    with pytest.raises(ValueError, match="mode"):
        Padding2D(1, "mirror")
    with pytest.raises(ValueError, match="needs height and width larger than the padding"):
        Padding2D(3, "reflect")(np.zeros((1, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match=r"\(\(top, bottom\), \(left, right\)\)"):
        Padding2D((1, 2))
    uneven = Padding2D.from_config(Padding2D(((1, 2), (0, 1)), "reflect").get_config())
    assert uneven.pads == ((1, 2), (0, 1))
    assert uneven.compute_output_shape((None, 5, 6, 3)) == (None, 8, 7, 3)


@pytest.mark.parametrize("padding", ["reflect", "circular"])
@pytest.mark.parametrize("kernel_size", [3, 4, 5])
def test_border_padding_keeps_same_sizes_for_odd_and_even_kernels(padding, kernel_size):
    small = {**TINY, "input_shape": (16, 16, 1)}  # reflection needs a 4x4 map for a kernel of 4 or 5
    model = zoo.conv_vae(**{**small, "kernel_size": kernel_size, "padding": padding, "upsampling": "nearest",
                            "block": "residual"})
    zeros = zoo.conv_vae(**{**small, "kernel_size": kernel_size, "upsampling": "nearest", "block": "residual"})
    assert [layer.output.shape for layer in model.encoder.layers if layer.name.startswith("conv")][-1] == [
        layer.output.shape for layer in zeros.encoder.layers if layer.name.startswith("conv")][-1]
    assert tuple(model.decoder.output_shape[1:]) == (16, 16, 1)
    assert networks.conv_options(norm="batch")[1]["upsampling"] == "transpose"
