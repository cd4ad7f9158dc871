"""Recipes: TOML files (parsed as data, never executed) that record how a zoo model is trained.

```toml
model = "conv_vae"                 # a zoo name
out = "runs/conv_vae_digits"       # output folder (relative to the working directory)
description = "..."                # optional

[model_args]                       # keyword arguments of the zoo constructor
latent_dim = 2                     # input_shape (and num_classes) default to the data's

[data]
dataset = "digits"                 # keras_ae.data name: tfds name, "digits", "idx:FOLDER"
train_split = "train"
test_split = "test"                # evaluation split, also used as validation data ("" for none)
batch_size = 64
data_dir = ""                      # tfds data_dir ("" for the default)

[train]
epochs = 30
seed = 0
distribute = "none"                # none | mirrored | multi-worker (TensorFlow) | data-parallel (JAX): docs/scaling.md
precision = "float32"              # float32 | mixed_bfloat16 | mixed_float16 (the model's dtype policy)
```
"""

import dataclasses
import inspect
import json
import os
import sys
import time

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from keras_ae.errors import check_toml_table

SCHEMA = {
    "": {"model": str, "out": str, "description": str, "model_args": dict, "data": dict, "train": dict},
    "data": {"dataset": str, "train_split": str, "test_split": str, "batch_size": int, "data_dir": str},
    "train": {"epochs": int, "seed": int, "distribute": str, "precision": str},
}
DEFAULTS = {
    "data": {"train_split": "train", "test_split": "test", "batch_size": 128, "data_dir": ""},
    "train": {"epochs": 10, "seed": 0, "distribute": "none", "precision": "float32"},
}


class RecipeError(ValueError):
    """A recipe file that does not follow the schema."""


def _check_table(table, section, source):
    check_toml_table(table, SCHEMA[section], section, source, RecipeError)


@dataclasses.dataclass
class Recipe:
    model: str
    out: str
    model_args: dict
    data: dict
    train: dict
    description: str = ""
    source: str = "<recipe>"

    def to_dict(self):
        d = dataclasses.asdict(self)
        d.pop("source")
        return d


def parse_recipe(text, source="<recipe>"):
    """Parse recipe TOML text into a validated :class:`Recipe`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{source}: not valid TOML: {e}") from None
    _check_table(raw, "", source)
    for section in ("data", "train"):
        _check_table(raw.get(section, {}), section, source)
    if "model" not in raw:
        raise RecipeError(f"{source}: missing the top-level key 'model' (a zoo name, e.g. model = \"conv_vae\").")
    data = {**DEFAULTS["data"], **raw.get("data", {})}
    if "dataset" not in data:
        raise RecipeError(f"{source}: missing [data] dataset (e.g. dataset = \"digits\").")
    from keras_ae import zoo

    zoo.get_entry(raw["model"])  # unknown model -> closest names
    _check_training(raw.get("train", {}), source)
    return Recipe(
        model=raw["model"],
        out=raw.get("out", os.path.join("runs", raw["model"])),
        model_args=dict(raw.get("model_args", {})),
        data=data,
        train={**DEFAULTS["train"], **raw.get("train", {})},
        description=raw.get("description", ""),
        source=source,
    )


def _check_training(train, source):
    """[train] distribute and precision name one of their choices."""
    from keras_ae.ops.distribute import DISTRIBUTIONS
    from keras_ae.precision import PRECISIONS

    for key, choices in (("distribute", DISTRIBUTIONS), ("precision", PRECISIONS)):
        if key in train and train[key] not in choices:
            raise RecipeError(f"{source}: [train] {key} must be one of {', '.join(map(repr, choices))}; "
                              f"received {train[key]!r}.")


def load_recipe(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return parse_recipe(text, source=str(path))


def _constructor_args(name, model_args, x, y):
    """Fill ``input_shape`` and ``num_classes`` from the data when the constructor takes them."""
    from keras_ae import zoo

    params = inspect.signature(zoo.get_entry(name).fn).parameters
    args = dict(model_args)
    if "input_shape" in params and "input_shape" not in args:
        args["input_shape"] = tuple(int(s) for s in x.shape[1:])
    if "num_classes" in params and "num_classes" not in args and y is not None:
        args["num_classes"] = int(y.max()) + 1
    return args


def _figures(model, x_test, y_test, out, seed):
    """Write the figures the model supports; return their file names."""
    import numpy as np

    from keras_ae import plotting

    written = []

    def draw(name, plot, *args, **kwargs):
        plot(*args, path=os.path.join(out, name), **kwargs)
        written.append(name)

    n = min(len(x_test), 10)
    labels = y_test[:n] if getattr(model, "needs_labels", False) else None
    extra = () if labels is None else (labels,)
    if hasattr(model, "reconstruct"):
        draw("reconstructions.png", plotting.plot_reconstructions, x_test[:n], model.reconstruct(x_test[:n], *extra))
    if hasattr(model, "encode"):
        m = min(len(x_test), 2000)
        codes = model.encode(x_test[:m], *(() if labels is None else (y_test[:m],)))
        draw("latent.png", plotting.plot_latent, codes, y_test[:m])
        if getattr(model, "latent_dim", None) == 2 and hasattr(model, "sample"):
            if labels is None:
                decode = model.decode
            else:
                first = int(y_test[0])
                decode = lambda z: model.decode(z, np.full(len(z), first))  # noqa: E731
            draw("manifold.png", plotting.plot_manifold, decode)
    if hasattr(model, "sample"):
        if getattr(model, "needs_labels", False):
            k = model.num_classes
            images = model.sample(k * 8, labels=np.repeat(np.arange(k), 8), seed=seed)
            draw("samples.png", plotting.plot_samples, images, ncols=8, title="samples (one class per row)")
        else:
            draw("samples.png", plotting.plot_samples, model.sample(64, seed=seed))
    return written


def run(recipe, out=None, epochs=None, verbose=2):
    """Train ``recipe`` and write model.keras, history.json, metrics.json and figures to ``out``.

    Training is interruption-safe: a killed run resumes from its last finished epoch when rerun
    (``BackupAndRestore`` in ``out/backup``). The model is built and trained under the recipe's [train]
    ``distribute`` strategy and ``precision`` policy (docs/scaling.md); with ``multi-worker`` only the chief writes
    ``out`` (the other workers write to a temporary folder). Returns the metrics dict.
    """
    import tempfile

    from keras_ae.ops.distribute import is_chief, strategy_scope

    train = {**DEFAULTS["train"], **recipe.train}
    _check_training(train, recipe.source)
    with strategy_scope(train["distribute"]), tempfile.TemporaryDirectory(prefix="keras_ae_worker_") as scratch:
        chief = train["distribute"] != "multi-worker" or is_chief()
        return _run(recipe, (out or recipe.out) if chief else scratch, epochs, verbose, train["precision"])


def _run(recipe, out, epochs, verbose, precision):
    import keras
    import numpy as np

    from keras_ae import data, plotting, zoo

    out = out or recipe.out
    os.makedirs(out, exist_ok=True)
    epochs = int(epochs if epochs is not None else recipe.train["epochs"])
    seed = int(recipe.train["seed"])
    d = recipe.data
    data_dir = d["data_dir"] or None
    keras.utils.set_random_seed(seed)

    x_train, y_train = data.load_numpy(d["dataset"], d["train_split"], data_dir)
    x_test, y_test = (data.load_numpy(d["dataset"], d["test_split"], data_dir) if d["test_split"] else (None, None))
    args = _constructor_args(recipe.model, recipe.model_args, x_train, y_train)
    model = zoo.create(recipe.model, **{"dtype": precision, **args})
    labels = getattr(model, "needs_labels", False)

    import tensorflow as tf

    def dataset(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, y) if labels else x)
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed)
        return ds.batch(d["batch_size"]).prefetch(tf.data.AUTOTUNE)

    validation = dataset(x_test, y_test, False) if x_test is not None else None
    callbacks = [
        keras.callbacks.TerminateOnNaN(raise_error=True),
        # double_checkpoint: a kill while the weights are being written falls back to the previous backup
        keras.callbacks.BackupAndRestore(os.path.join(out, "backup"), double_checkpoint=True),
    ]
    start = time.perf_counter()
    history = model.fit(dataset(x_train, y_train, True), validation_data=validation, epochs=epochs,
                        callbacks=callbacks, verbose=verbose, shuffle=False)  # the dataset shuffles itself
    seconds = time.perf_counter() - start
    model.save(os.path.join(out, "model.keras"))
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    with open(os.path.join(out, "history.json"), "w") as f:
        json.dump(hist, f, indent=1)

    metrics = {}
    if validation is not None:
        metrics = {f"test_{k}": float(v) for k, v in model.evaluate(validation, verbose=0, return_dict=True).items()}
    metrics["setting"] = {
        "recipe": recipe.source, "model": recipe.model, "model_args": {k: (list(v) if isinstance(v, tuple) else v)
                                                                       for k, v in args.items()},
        "dataset": d["dataset"], "train_split": d["train_split"], "test_split": d["test_split"],
        "train_examples": int(len(x_train)), "test_examples": int(len(x_test)) if x_test is not None else 0,
        "epochs": epochs, "batch_size": d["batch_size"], "seed": seed, "backend": keras.backend.backend(),
        "distribute": recipe.train.get("distribute", "none"), "precision": model.dtype_policy.name,
        "train_seconds": round(seconds, 2),
    }
    if x_test is not None:
        metrics["figures"] = _figures(model, x_test, y_test, out, seed)
    plotting.plot_history(hist, path=os.path.join(out, "history.png"))
    metrics["figures"] = metrics.get("figures", []) + ["history.png"]
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    return metrics


def from_arguments(model, dataset, epochs=10, out=None, batch_size=128, seed=0, train_split="train",
                   test_split="test", data_dir="", model_args=None, distribute="none", precision="float32"):
    """A :class:`Recipe` built from command-line arguments instead of a file."""
    from keras_ae import zoo

    zoo.get_entry(model)
    return Recipe(
        model=model, out=out or os.path.join("runs", model), model_args=dict(model_args or {}),
        data={"dataset": dataset, "train_split": train_split, "test_split": test_split,
              "batch_size": batch_size, "data_dir": data_dir},
        train={"epochs": epochs, "seed": seed, "distribute": distribute, "precision": precision},
        source="<command line>",
    )
