"""The architecture options in every convolutional zoo constructor (issue 9): each constructor that takes them
trains one step with a non-default combination and reloads in a fresh process with the options' layers present;
bad values get clear errors; no option given builds the same networks as before the options existed."""

import pytest

import keras_ae
from keras_ae import testing, zoo

OPTION_NAMES = ("padding", "downsampling", "upsampling", "norm", "generator_norm", "block")
# every constructor that takes the options, found from its arguments (a new conv constructor joins automatically)
CONV_MODELS = [n for n in zoo.list_models() if {"block", "norm"} <= set(zoo.describe(n)["arguments"])]

# two non-default combinations, alternated over the constructors so that between them every value is exercised
COMBINATIONS = [
    dict(padding="reflect", downsampling="avg", upsampling="nearest", norm="layer", generator_norm="weight",
         block="residual"),
    dict(padding="circular", downsampling="max", upsampling="bilinear", norm="weight", generator_norm="layer",
         block="residual"),
]
# the layer each value leaves in the saved networks
LAYER_OF = {"reflect": "Padding2D", "circular": "Padding2D", "avg": "AveragePooling2D", "max": "MaxPooling2D",
            "nearest": "UpSampling2D", "bilinear": "UpSampling2D", "layer": "LayerNormalization",
            "weight": "WeightNormalization", "batch": "SyncBatchNormalization", "residual": "Add"}
# in a GAN the options split between the two networks
GAN_NETWORK = {"downsampling": "discriminator", "norm": "discriminator", "upsampling": "generator",
               "generator_norm": "generator"}


# conv_vae (every option) and conv_ae (padding, norm) are trained and reloaded option by option in
# tests/test_networks.py; wgan builds wgan_gp's networks (gan_options, conv_generator, conv_discriminator) and trains
# with norm="batch" in tests/models/gan; here every other constructor, to keep this file's time down
TRAINED_ELSEWHERE = ("conv_ae", "conv_vae", "wgan")
TO_TRAIN = [n for n in CONV_MODELS if n not in TRAINED_ELSEWHERE]


def combination(name):
    taken = zoo.describe(name)["arguments"]
    combo = COMBINATIONS[TO_TRAIN.index(name) % len(COMBINATIONS)]
    return {k: v for k, v in combo.items() if k in taken}


def networks_of(model, option):
    if hasattr(model, "generator"):
        where = GAN_NETWORK.get(option)
        return [getattr(model, where)] if where else [model.generator, model.discriminator]
    return [getattr(model, k) for k in ("encoder", "decoder") if hasattr(model, k)]


def test_the_conv_constructors_are_discovered():
    assert {"conv_ae", "conv_vae", "conv_cvae", "denoising_ae", "dcgan", "wgan_gp", "conditional_gan",
            "vq_vae"} <= set(CONV_MODELS)
    assert set(TRAINED_ELSEWHERE) <= set(CONV_MODELS)
    for name in CONV_MODELS:
        args = zoo.describe(name)["arguments"]
        assert {"padding", "block", "norm"} <= set(args)
        assert ("downsampling" in args) and ("upsampling" in args), name


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every constructor of TO_TRAIN trained one step with its combination and saved, then all reloaded in one fresh
    process (``reload_in_fresh_process``): a process per model spent about 6 s each starting TensorFlow. The tests
    share an xdist group, so one worker trains them once."""
    reports = {}
    for name in TO_TRAIN:
        entry = zoo.get_entry(name)
        model = zoo.create(name, **entry.test_kwargs, **combination(name))
        workdir = str(tmp_path_factory.mktemp(name))
        reports[name] = testing.check_model(model, entry.test_data, workdir=workdir, fresh_process="later")
    reloads = testing.reload_in_fresh_process([(r["path"], r["data_path"]) for r in reports.values()], strict=False)
    for report, reload in zip(reports.values(), reloads):
        report["reload"] = reload
    return reports


@pytest.mark.xdist_group("networks-zoo-fresh-reload")
@pytest.mark.parametrize("name", TO_TRAIN)
def test_options_train_and_reload_in_a_fresh_process(name, trained):
    options = combination(name)
    report = trained[name]
    assert report["reload"]["ok"], report["reload"]["error"]
    assert report["reload"]["iterations_after"] > report["iterations"]
    reloaded = keras_ae.load_model(report["path"], safe_mode=True)
    for option, value in options.items():
        layers = [l for net in networks_of(reloaded, option) for l in net.layers]
        types = {type(l).__name__ for l in layers}
        assert LAYER_OF[value] in types, f"{name}: {option}={value!r} left no {LAYER_OF[value]} after reload"
        if option == "padding":
            assert {l.mode for l in layers if type(l).__name__ == "Padding2D"} == {value}
        if option == "upsampling":
            assert {l.interpolation for l in layers if type(l).__name__ == "UpSampling2D"} == {value}
        if option == "block":  # the residual additions (a conditional GAN has another Add, its projection)
            assert any(type(l).__name__ == "Add" and l.name.endswith("_add") for l in layers)


# Recorded from the code before the options existed (default arguments): parameters and layer classes per network.
DEFAULT_GRAPHS = {
    "denoising_ae": {
        "encoder": (838336, ["InputLayer", "Conv2D", "Conv2D", "Flatten", "Dense", "Dense"]),
        "decoder": (878273, ["InputLayer", "Dense", "Dense", "Reshape", "Conv2DTranspose", "Conv2DTranspose",
                             "Conv2DTranspose"]),
    },
    "dcgan": {  # SyncBatchNormalization: BatchNormalization with the global batch's statistics under tf.distribute
        "generator": (558849, ["InputLayer", "Dense", "SyncBatchNormalization", "LeakyReLU", "Reshape", "Conv2DTranspose",
                               "SyncBatchNormalization", "LeakyReLU", "Conv2DTranspose"]),
        "discriminator": (138561, ["InputLayer", "Conv2D", "LeakyReLU", "Conv2D", "LeakyReLU", "Flatten", "Dense"]),
    },
    "conditional_gan": {
        "generator": (621569, ["InputLayer", "InputLayer", "Concatenate", "Dense", "SyncBatchNormalization", "LeakyReLU",
                               "Reshape", "Conv2DTranspose", "SyncBatchNormalization", "LeakyReLU", "Conv2DTranspose"]),
        "discriminator": (210929, ["InputLayer", "InputLayer", "LabelToImage", "Concatenate", "Conv2D", "LeakyReLU",
                                   "Conv2D", "LeakyReLU", "Flatten", "Dense", "Dense", "Dot", "Add"]),
    },
    "vq_vae": {  # from a model saved before vq_vae took the options
        "encoder": (139184, ["InputLayer", "Conv2D", "Conv2D", "Conv2D", "Activation", "Conv2D", "Conv2D", "Add",
                             "Activation", "Conv2D", "Conv2D", "Add", "Activation", "Conv2D"]),
        "decoder": (190145, ["InputLayer", "Conv2D", "Activation", "Conv2D", "Conv2D", "Add", "Activation", "Conv2D",
                             "Conv2D", "Add", "Activation", "Conv2DTranspose", "Conv2DTranspose", "Conv2D"]),
    },
}
DEFAULT_GRAPHS["wgan_gp"] = DEFAULT_GRAPHS["dcgan"]


@pytest.mark.parametrize("name", sorted(DEFAULT_GRAPHS))
def test_default_graph_is_unchanged(name):
    model = zoo.create(name)
    for attr, (params, classes) in DEFAULT_GRAPHS[name].items():
        net = getattr(model, attr)
        assert [type(l).__name__ for l in net.layers] == classes, f"{name}.{attr}"
        assert net.count_params() == params, f"{name}.{attr}"
    if hasattr(model, "generator"):  # DCGAN details: no bias before batch norm, kernel 4, sigmoid output
        assert not model.generator.get_layer("deconv0").use_bias
        assert model.discriminator.get_layer("conv0").kernel_size == (4, 4)
        assert model.generator.get_layer("output").activation.__name__ == "sigmoid"


def tiny(name, **kwargs):
    return {**zoo.get_entry(name).test_kwargs, **kwargs}


@pytest.mark.parametrize("name", CONV_MODELS)
@pytest.mark.parametrize(
    "option, value, match",
    [
        ("norm", "group", r"`norm` must be one of None, 'none', 'batch', 'layer', 'weight'; received 'group'"),
        ("padding", "mirror", r"`padding` must be one of 'zeros', 'reflect', 'circular'"),
        ("downsampling", "strided", r"`downsampling` must be one of 'stride', 'max', 'avg'"),
        ("upsampling", "cubic", r"`upsampling` must be one of 'transpose', 'nearest', 'bilinear', 'unpool'"),
        ("upsampling", "unpool", r"argmax positions of a matching max-pooling"),
        ("block", "dense", r"`block` must be one of 'plain', 'residual'"),
    ],
)
def test_unknown_option_values_list_the_valid_ones(name, option, value, match):
    with pytest.raises(ValueError, match=match):
        zoo.create(name, **tiny(name, **{option: value}))


@pytest.mark.parametrize("name", [n for n in CONV_MODELS if "generator_norm" in zoo.describe(n)["arguments"]])
def test_generator_norm_is_validated(name):
    with pytest.raises(ValueError, match=r"`generator_norm` must be one of None, 'none', 'batch', 'layer', 'weight'"):
        zoo.create(name, **tiny(name, generator_norm="instance"))


def test_wgan_gp_refuses_a_batch_normalized_critic():
    with pytest.raises(ValueError, match=r"norm='batch' cannot be used in a WGAN-GP critic.*per example.*"
                                         r"norm='layer' or norm='weight'"):
        zoo.wgan_gp(**tiny("wgan_gp", norm="batch"))
    # the generator may keep batch norm, and the critic may take layer norm
    model = zoo.wgan_gp(**tiny("wgan_gp", norm="layer", generator_norm="batch"))
    assert not any(type(l).__name__ == "SyncBatchNormalization" for l in model.discriminator.layers)
    assert any(type(l).__name__ == "LayerNormalization" for l in model.discriminator.layers)
    # DCGAN's discriminator may use batch norm (as in Radford et al.)
    dcgan = zoo.dcgan(**tiny("dcgan", norm="batch"))
    assert any(type(l).__name__ == "SyncBatchNormalization" for l in dcgan.discriminator.layers)


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("denoising_ae", dict(filters=(4, 8, 16, 32)), r"4 stride-2 stages: height and width must be divisible by "
                                                        r"2\*\*4=16"),
        ("dcgan", dict(input_shape=(10, 10, 1)), r"2 stride-2 stages: height and width must be divisible by 2\*\*2=4"),
        ("wgan_gp", dict(filters=(2, 4, 8)), r"`filters` must be two sizes"),
    ],
)
def test_too_deep_filters_for_the_input_size_get_a_clear_error(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create(name, **tiny(name, **kwargs))
