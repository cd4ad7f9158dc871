"""Recipes: TOML files (parsed as data, never executed) that record how a zoo model is trained, measured and drawn,
and the one runner that executes them for every family.

```toml
model = "conv_vae"                 # a zoo name
out = "runs/conv_vae_digits"       # output folder (relative to the working directory)
description = "..."                # optional

[model_args]                       # keyword arguments of the zoo constructor
latent_dim = 2                     # input_shape (and num_classes) default to the data's

[data]
dataset = "digits"                 # any keras_ae.data name: tfds, "digits", "idx:FOLDER", "two_moons", "cells", ...
train_split = "train"
test_split = "test"                # measured on; also the validation data where the family has a validation loss
batch_size = 64                    # ("" for no test split)
data_dir = ""                      # tfds data_dir ("" for the default)

[train]
epochs = 30                        # epochs of the family's main stage
seed = 0                           # weights, data order and noise of every epoch derive from it
stages = {prior = 20}              # epochs of the family's other stages (VQ-VAE: prior; stacked AE: pretrain)
tensorboard = false                # scalars and image summaries per epoch in OUT/tensorboard
steps_per_execution = 1            # batches per compiled call (speed only; the largest divisor of the epoch's batches)
learning_rate_schedule = "constant"  # constant | cosine: decay to 1% over each fit stage's epochs (saved, resumed)
distribute = "none"                # none | mirrored | multi-worker (TensorFlow) | data-parallel (JAX): docs/scaling.md
precision = "float32"              # float32 | mixed_bfloat16 | mixed_float16 (the model's dtype policy)

[options]                          # the family's own settings (see `keras-ae describe MODEL`), e.g. for a GAN:
fid_samples = 2000                 # generated images per domain FID
```

How a model is trained, measured and drawn is its family's: ``keras_ae/models/<family>/<family>_recipe.py`` defines
a :class:`FamilyRecipe` subclass (its stages, measures, figures and default tuning objective) registered with
:func:`register_family_recipe`; the runner discovers these modules, so adding a family touches nothing here.
:func:`run` writes the run folder of :mod:`keras_ae.runs` (lock, atomic state, resume from the last finished epoch or
stage with the full history, deterministic epochs).
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

from keras_ae.errors import InvalidArgumentError, RecipeError, check_toml_table, closest

# Every key a recipe may hold, in one table (runner settings; a family's own keys live in its `options`).
SCHEMA = {
    "": {"model": str, "out": str, "description": str, "model_args": dict, "data": dict, "train": dict,
         "options": dict},
    "data": {"dataset": str, "train_split": str, "test_split": str, "batch_size": int, "data_dir": str},
    "train": {"epochs": int, "seed": int, "stages": dict, "tensorboard": bool, "steps_per_execution": int,
              "distribute": str, "precision": str, "learning_rate_schedule": str},
}
DEFAULTS = {
    "data": {"train_split": "train", "test_split": "test", "batch_size": 128, "data_dir": ""},
    "train": {"epochs": 10, "seed": 0, "stages": {}, "tensorboard": False, "steps_per_execution": 1,
              "distribute": "none", "precision": "float32", "learning_rate_schedule": "constant"},
}
# [train] learning_rate_schedule: "constant" keeps the optimizer's own learning rate (or the constructor's schedule);
# "cosine" replaces it, in every fit stage, by keras.optimizers.schedules.CosineDecay from its value at the first step
# down to COSINE_FLOOR of it over the stage's epochs x batches per epoch (x updates per batch, e.g. a GAN critic's
# n_critic). The schedule is part of the optimizer's config, so it is saved with the model and a resumed run continues
# it from the restored iteration count.
LEARNING_RATE_SCHEDULES = ("constant", "cosine")
COSINE_FLOOR = 0.01
# Keys whose value changes what a run computes: a rerun into a folder holding another setting is refused.
FINGERPRINT = {"data": ("dataset", "train_split", "test_split", "batch_size", "data_dir"), "train": ("seed",)}


def _check_table(table, section, source):
    check_toml_table(table, SCHEMA[section], section, source, RecipeError)


def _check_count(name, value, source, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RecipeError(f"{source}: {name} must be an integer >= {minimum}; received {value!r}.")
    return value


@dataclasses.dataclass
class Recipe:
    model: str
    out: str
    model_args: dict
    data: dict
    train: dict
    options: dict = dataclasses.field(default_factory=dict)
    description: str = ""
    source: str = "<recipe>"

    def to_dict(self):
        d = dataclasses.asdict(self)
        d.pop("source")
        return d

    def fingerprint(self):
        """What a run of this recipe computes, epochs apart (those may grow on a rerun)."""
        out = {"model": self.model, "model_args": _plain(self.model_args), "options": _plain(self.options)}
        for section, keys in FINGERPRINT.items():
            out[section] = {k: getattr(self, section)[k] for k in keys}
        schedule = self.train.get("learning_rate_schedule", "constant")
        if schedule != "constant":  # only when set: run folders written before the key existed still resume
            out["train"]["learning_rate_schedule"] = schedule
        return out

    def check(self):
        """Validate values in range and names against the model's family (before any work)."""
        source = self.source
        _check_count("[train] epochs", self.train["epochs"], source)
        _check_count("[data] batch_size", self.data["batch_size"], source)
        _check_count("[train] steps_per_execution", self.train["steps_per_execution"], source)
        _check_count("[train] seed", self.train["seed"], source, minimum=0)
        _check_training(self.train, source)
        if not isinstance(self.data["dataset"], str) or not self.data["dataset"].strip():
            raise RecipeError(f"{source}: [data] dataset must name a dataset (e.g. \"digits\"); received "
                              f"{self.data['dataset']!r}.")
        family = family_recipe(self.model)
        stages = family.stage_names(self.model)
        for name, epochs in self.train["stages"].items():
            if name not in stages:
                near = closest(name, list(stages), n=1)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                valid = ", ".join(sorted(stages)) or f"none besides the main stage ({family.main_stage!r}, whose " \
                                                   f"epochs are [train] epochs)"
                raise RecipeError(f"{source}: unknown stage {name!r} in [train] stages for {self.model} (family "
                                  f"{family.family!r}).{hint} Stages: {valid}.")
            _check_count(f"[train] stages.{name}", epochs, source)
        types = {k: v[0] for k, v in family.options.items()}
        check_toml_table(self.options, types, "options", source, RecipeError)
        return self


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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
    train = {**DEFAULTS["train"], **raw.get("train", {})}
    train["stages"] = dict(train["stages"])
    recipe = Recipe(
        model=raw["model"],
        out=raw.get("out", os.path.join("runs", raw["model"])),
        model_args=dict(raw.get("model_args", {})),
        data=data,
        train=train,
        options=dict(raw.get("options", {})),
        description=raw.get("description", ""),
        source=source,
    )
    return recipe.check()


def _check_training(train, source):
    """[train] distribute, precision and learning_rate_schedule name one of their choices."""
    from keras_ae.ops.distribute import DISTRIBUTIONS
    from keras_ae.precision import PRECISIONS

    for key, choices in (("distribute", DISTRIBUTIONS), ("precision", PRECISIONS),
                         ("learning_rate_schedule", LEARNING_RATE_SCHEDULES)):
        if key in train and train[key] not in choices:
            raise RecipeError(f"{source}: [train] {key} must be one of {', '.join(map(repr, choices))}; "
                              f"received {train[key]!r}.")


def load_recipe(path):
    """Read and validate the recipe file ``path``."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise RecipeError(f"{path} is a folder, not a recipe file; pass a .toml recipe (e.g. zoo/conv_vae_digits.toml) "
                          f"or a zoo model name.")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"Recipe file {path!r} not found.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RecipeError(f"{path}: not a text (UTF-8) TOML file ({e.reason} at byte {e.start}).") from None
    return parse_recipe(text, source=path)


def from_arguments(model, dataset, epochs=10, out=None, batch_size=128, seed=0, train_split="train",
                   test_split="test", data_dir="", model_args=None, options=None, stages=None, tensorboard=False,
                   distribute="none", precision="float32", learning_rate_schedule="constant"):
    """A :class:`Recipe` built from command-line arguments instead of a file."""
    from keras_ae import zoo

    zoo.get_entry(model)
    recipe = Recipe(
        model=model, out=out or os.path.join("runs", model), model_args=dict(model_args or {}),
        data={"dataset": dataset, "train_split": train_split, "test_split": test_split,
              "batch_size": batch_size, "data_dir": data_dir},
        train={**DEFAULTS["train"], "epochs": epochs, "seed": seed, "stages": dict(stages or {}),
               "tensorboard": bool(tensorboard), "distribute": distribute, "precision": precision,
               "learning_rate_schedule": learning_rate_schedule},
        options=dict(options or {}), source="<command line>",
    )
    return recipe.check()


# ----- family recipes -------------------------------------------------------------------------------------
@dataclasses.dataclass
class Stage:
    """One stage of a run.

    Args:
        name: the stage's name (``[train] stages`` keys, history prefixes, fault points).
        epochs: epochs to train.
        run: ``None`` for a *fit* stage: the runner fits the model epoch by epoch (deterministic order and noise,
            a checkpoint after every epoch). Otherwise ``run(model, ctx, epochs) -> history dict`` trains the stage
            as a whole (a checkpoint after it; a run killed inside it redoes the stage).
    """

    name: str
    epochs: int
    run: object = None


class FamilyRecipe:
    """How the recipe runner trains, measures, draws and tunes the models of one family.

    Subclass it in ``keras_ae/models/<family>/<family>_recipe.py`` and decorate the class with
    :func:`register_family_recipe`. The defaults fit a single stage with the test split as validation data, report
    the model's metrics on the test split and draw its training curves.

    Class attributes:
        family: the zoo family name the recipe serves.
        main_stage: the name of the stage whose epochs are ``[train] epochs``.
        stage_defaults: ``{name: default epochs}`` of the other stages (``[train] stages`` overrides them).
        options: ``{name: (type, default, description)}``: the ``[options]`` keys the family reads.
        validation: fit with validation data (GANs have no validation loss).
    """

    family = None
    main_stage = "train"
    stage_defaults = {}
    options = {}
    validation = True

    # -- training
    def stage_names(self, model_name):
        """``{name: default epochs}`` of the stages besides the main one that ``model_name`` runs."""
        return dict(self.stage_defaults)

    def stages(self, model, ctx):
        """The stages, in order (``ctx.stage_epochs[name]`` holds the epochs of each)."""
        return [Stage(self.main_stage, ctx.stage_epochs[self.main_stage])]

    def fit_arrays(self, model, arrays, ctx):
        """``(x, y, sample_weight)`` that ``fit`` trains on (``y`` for models that need labels or masks)."""
        return arrays.x, (arrays.y if getattr(model, "needs_labels", False) else None), None

    def constructor_args(self, model_name, model_args, info, arrays):
        """Constructor arguments: ``input_shape`` (and ``num_classes``) from the data where the constructor takes
        them and the recipe does not set them."""
        from keras_ae import zoo

        params = inspect.signature(zoo.get_entry(model_name).fn).parameters
        args = dict(model_args)
        if "input_shape" in params and "input_shape" not in args:
            args["input_shape"] = tuple(int(s) for s in arrays.x.shape[1:])
        if "num_classes" in params and "num_classes" not in args and info.has_labels:
            args["num_classes"] = int(info.num_classes)
        return args

    def scheduled_optimizers(self, model):
        """``[(optimizer, updates per training batch)]``: the optimizers ``[train] learning_rate_schedule`` decays."""
        return [(model.optimizer, 1)]

    def training_callbacks(self, model, ctx):
        """Extra Keras callbacks for the fit stages (e.g. a per-epoch sample measure)."""
        return []

    # -- measures and figures
    def measures(self, model, ctx):
        """The family's numbers on ``ctx.test`` (a dict of floats and small lists)."""
        return evaluate_metrics(model, self, ctx, ctx.test)

    def figures(self, model, ctx):
        """Draw the family's figures with ``ctx.draw(name, plot, ...)``."""

    def summary_images(self, model, ctx):
        """``{name: images (N, H, W, C) in [0, 1]}`` for TensorBoard's image panel after each epoch."""
        return {}

    # -- tuning
    def objective(self, model_name, info, validation):
        """The default tuning objective ``(metric, direction)``."""
        return ("val_loss" if validation else "loss"), "min"

    def tuning_callbacks(self, model, ctx):
        """Callbacks a tuning trial runs (they may log the objective, e.g. a GAN's sample score)."""
        return self.training_callbacks(model, ctx)

    def logged_metrics(self, model, ctx):
        """Metric names the training callbacks add to the logs (for checking a tuning objective)."""
        return []


_FAMILY_RECIPES = {}


def register_family_recipe(cls):
    """Class decorator: register a :class:`FamilyRecipe` subclass for its ``family``."""
    if not (isinstance(cls, type) and issubclass(cls, FamilyRecipe)) or not cls.family:
        raise TypeError(f"register_family_recipe takes a FamilyRecipe subclass with a `family`; received {cls!r}.")
    _FAMILY_RECIPES[cls.family] = cls()
    return cls


def discover_family_recipes():
    """Import every ``keras_ae/models/<family>/<family>_recipe.py`` (their decorators register them)."""
    from keras_ae.zoo.registry import discover

    return discover(suffix="_recipe")


def family_recipe(model_name):
    """The :class:`FamilyRecipe` of zoo model ``model_name`` (the default one when its family defines none)."""
    from keras_ae import zoo

    entry = zoo.get_entry(model_name)
    if entry.family not in _FAMILY_RECIPES:
        discover_family_recipes()
    return _FAMILY_RECIPES.get(entry.family) or _DEFAULT


_DEFAULT = FamilyRecipe()


# ----- the run context ------------------------------------------------------------------------------------
@dataclasses.dataclass
class RunContext:
    """What a family's stages, measures and figures see: the recipe, the data, the options, where to draw."""

    recipe: Recipe
    out: str
    seed: int
    options: dict
    stage_epochs: dict
    info: object = None
    train: object = None
    test: object = None
    verbose: int = 2
    figure_prefix: str = ""
    written: list = dataclasses.field(default_factory=list)
    progress: bool = False
    cache: dict = dataclasses.field(default_factory=dict)  # what measures build once (a FID feature network)

    @property
    def batch_size(self):
        return int(self.recipe.data["batch_size"])

    def path(self, name):
        return os.path.join(self.out, self.figure_prefix + name)

    def draw(self, name, plot, *args, **kwargs):
        """``plot(*args, path=..., **kwargs)`` into the run folder; the file name is recorded."""
        plot(*args, path=self.path(name), **kwargs)  # a matplotlib Figure (no pyplot state to close)
        self.written.append(self.figure_prefix + name)

    def log(self, message):
        if self.verbose:
            print(message, file=sys.stderr, flush=True)


def draw_sample_grid(model, ctx):
    """``samples.png``: 64 samples, or 8 per class (one class per row) for a class-conditional model."""
    import numpy as np

    from keras_ae import plotting

    if getattr(model, "needs_labels", False):
        k = model.num_classes
        images = model.sample(k * 8, labels=np.repeat(np.arange(k), 8), seed=ctx.seed)
        ctx.draw("samples.png", plotting.plot_samples, images, ncols=8, title="samples (one class per row)")
    else:
        ctx.draw("samples.png", plotting.plot_samples, model.sample(64, seed=ctx.seed))


def merged_options(family, options):
    return {**{k: v[1] for k, v in family.options.items()}, **dict(options or {})}


# ----- shared measure helpers -----------------------------------------------------------------------------
def evaluate_metrics(model, family, ctx, arrays, passes=1, prefix="test_"):
    """``model.evaluate`` on ``arrays`` (in stored order), averaged over ``passes`` passes (stochastic estimates
    such as a VAE's single-sample ELBO); keys prefixed ``prefix``."""
    if arrays is None:
        return {}
    from keras_ae.data.epochs import evaluation_pipeline

    x, y, w = family.fit_arrays(model, arrays, ctx)
    ds = evaluation_pipeline(x, y, w, ctx.batch_size)
    totals = {}
    for _ in range(int(passes)):
        for k, v in model.evaluate(ds, verbose=0, return_dict=True).items():
            totals.setdefault(k, []).append(float(v))
    out = {f"{prefix}{k}": sum(v) / len(v) for k, v in totals.items()}
    if passes > 1:
        out[f"{prefix}passes"] = int(passes)
    return out


# ----- callbacks ------------------------------------------------------------------------------------------
def seed_states(model):
    """The state variables of every ``keras.random.SeedGenerator`` of ``model`` (noise of sampling, dropout...)."""
    seen, out = set(), []
    for v in model.variables:
        if (v.path or v.name).split("/")[-1] == "seed_generator_state" and id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def reset_seed_states(model, seed, epoch):
    """Set every seed generator of ``model`` to a state fixed by ``(seed, epoch)``."""
    import numpy as np

    from keras_ae.data.epochs import epoch_seeds

    states = seed_states(model)
    for v, s in zip(states, epoch_seeds(seed, epoch, len(states))):
        v.assign(np.array([s, 0], dtype=v.dtype))


def _callback_base():
    import keras

    return keras.callbacks.Callback


def make_epoch_seeds(seed):
    """A callback that fixes the model's random draws of each epoch by ``(seed, epoch)`` (see
    :func:`keras_ae.data.epochs.epoch_seeds`)."""

    class EpochSeeds(_callback_base()):
        def on_epoch_begin(self, epoch, logs=None):
            reset_seed_states(self.model, seed, epoch)

    return EpochSeeds()


def make_learning_rate_logger():
    """A callback adding ``learning_rate`` (the model optimizer's rate for its next step) to each epoch's logs."""
    import keras

    class LearningRateLogger(_callback_base()):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    return LearningRateLogger()


def effective_steps_per_execution(requested, batches_per_epoch):
    """The ``steps_per_execution`` a run uses: the largest divisor of ``batches_per_epoch`` that is at most
    ``requested``.

    Keras' compiled call takes ``steps_per_execution`` batches from the iterator whatever is left of the epoch, so a
    value that does not divide the epoch moves batches across epoch boundaries (the next epoch runs out of data and
    logs zeros; per-epoch seeds, checkpoints and resume no longer line up with the data). A divisor keeps every
    epoch exactly ``batches_per_epoch`` updates.
    """
    requested, batches_per_epoch = int(requested), int(batches_per_epoch)
    if requested < 1 or batches_per_epoch < 1:
        raise ValueError(f"steps_per_execution and the batches per epoch must be >= 1; received {requested} and "
                         f"{batches_per_epoch}.")
    return max(d for d in range(1, min(requested, batches_per_epoch) + 1) if batches_per_epoch % d == 0)


def _float_logs(logs):
    out = {}
    for k, v in (logs or {}).items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def _swap_in_weight_average(model):
    """Put an optimizer's weight average (``use_ema=True``) into ``model``, as ``fit`` does after its last epoch.

    Done before the last epoch's checkpoint, so that the checkpoint holds the weights ``fit`` returns: a run killed
    after training (before ``model.keras`` is written) resumes to the same model. Keras' own swap then assigns the
    same average again."""
    import keras

    optimizer = getattr(model, "optimizer", None)
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer holds the average in its inner one
    if isinstance(optimizer, keras.optimizers.Optimizer) and getattr(inner, "use_ema", False):
        optimizer.finalize_variable_values(model.trainable_weights)


def make_checkpointer(runner, stage_index, stage):
    """A callback committing the run state (checkpoint, history) after every epoch of a fit stage."""
    from keras_ae.runs import fault_point

    class Checkpointer(_callback_base()):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.started = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            fault_point(f"batch:{stage.name}:{self.epoch}:{batch + 1}")

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == stage.epochs:
                _swap_in_weight_average(self.model)
            runner.epoch_finished(self.model, stage_index, stage, epoch + 1, _float_logs(logs),
                                  time.perf_counter() - self.started)

    return Checkpointer()


# ----- the runner -----------------------------------------------------------------------------------------
def _stage_epochs(recipe, family, epochs=None, stage_epochs=None):
    plan = {family.main_stage: int(recipe.train["epochs"] if epochs is None else epochs)}
    for name, default in family.stage_names(recipe.model).items():
        plan[name] = int(recipe.train["stages"].get(name, default))
    for name, value in (stage_epochs or {}).items():
        if name not in plan:
            near = closest(name, list(plan), n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise InvalidArgumentError(f"Unknown stage {name!r} for {recipe.model}.{hint} Stages: {', '.join(plan)}.")
        plan[name] = value
    for name, value in plan.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            what = "--epochs / [train] epochs" if name == family.main_stage else f"the epochs of stage {name!r}"
            raise InvalidArgumentError(f"{what} must be an integer >= 1; received {value!r}.")
    return plan


def schedule_learning_rate(optimizer, schedule, decay_steps, resumed=False, where="the run"):
    """Put ``[train] learning_rate_schedule`` ``schedule`` on ``optimizer``: ``"cosine"`` is
    ``CosineDecay(rate at the first step, decay_steps, alpha=COSINE_FLOOR)`` on the optimizer's iteration count (a
    constructor's schedule, e.g. a GAN's linear decay, is replaced). On a resumed stage (``resumed``) the restored
    optimizer must already hold that schedule over ``decay_steps``: a cosine cannot be stretched half-way, so a rerun
    asking for other epochs is refused. Returns whether the optimizer changed."""
    import keras

    from keras_ae.runs import RunFolderError

    if schedule == "constant":
        return False
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer sets its inner optimizer's rate
    current = inner.get_config()["learning_rate"]
    is_cosine = isinstance(current, dict) and current.get("class_name") == "CosineDecay"
    if resumed:
        if is_cosine and int(current["config"]["decay_steps"]) == int(decay_steps):
            return False
        held = f"a cosine decay over {current['config']['decay_steps']} steps" if is_cosine else "another learning rate"
        raise RunFolderError(f"{where}: the saved optimizer holds {held}; this run's cosine decay spans {decay_steps} "
                             f"steps. A cosine schedule cannot be stretched mid-run: rerun with the epochs of the "
                             f"first run, or pass --overwrite to start over.")
    if isinstance(current, dict):
        current = keras.optimizers.schedules.deserialize(current)(0)
    initial = float(keras.ops.convert_to_numpy(current))
    optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(initial, int(decay_steps), alpha=COSINE_FLOOR)
    return True


def load_data(recipe, family, train=True, test=True):
    """``(info, train Arrays or None, test Arrays or None)`` of the recipe's dataset."""
    from keras_ae.data.catalog import load_arrays

    d = recipe.data
    data_dir = d["data_dir"] or None
    train_arrays = load_arrays(d["dataset"], d["train_split"], data_dir) if train and d["train_split"] else None
    test_arrays = load_arrays(d["dataset"], d["test_split"], data_dir) if test and d["test_split"] else None
    info = (train_arrays or test_arrays).info
    return info, train_arrays, test_arrays


def flat_history(history, main_stage):
    """``{metric: [values]}`` of the main stage, then ``{"stage/metric": [...]}`` of the others."""
    out = dict(history.get(main_stage, {}))
    for stage, metrics in history.items():
        if stage != main_stage:
            out.update({f"{stage}/{k}": v for k, v in metrics.items()})
    return out


class _Runner:
    def __init__(self, recipe, folder, family, ctx, stages, state, verbose):
        self.recipe, self.folder, self.family, self.ctx = recipe, folder, family, ctx
        self.stages, self.state, self.verbose = stages, state, verbose

    def write_history(self):
        from keras_ae.runs import write_json

        write_json(self.folder.file("history.json"), flat_history(self.state["history"], self.family.main_stage))

    def epoch_finished(self, model, stage_index, stage, epoch, logs, seconds):
        from keras_ae.runs import fault_point

        state = self.state
        hist = state["history"].setdefault(stage.name, {})
        done = state["progress"].get(stage.name, 0)
        if epoch != done + 1:
            raise RuntimeError(f"Internal error: epoch {epoch} of stage {stage.name!r} follows {done}.")
        for k, v in logs.items():
            hist.setdefault(k, [])
            hist[k] = hist[k][:done] + [v]
        state["progress"][stage.name] = epoch
        state["seconds"] = state.get("seconds", 0.0) + seconds
        state.setdefault("trained", []).append([stage.name, epoch, os.getpid()])  # who trained which epoch
        self.state = self.folder.commit(state, model, stage_index, epoch,
                                        before_rename=lambda: fault_point(f"checkpoint:{stage.name}:{epoch}"))
        self.write_history()
        fault_point(f"epoch_end:{stage.name}:{epoch}")

    def fit_stage(self, model, index, stage):
        import keras

        from keras_ae.data.epochs import epoch_pipeline, evaluation_pipeline, steps_per_epoch

        ctx, family = self.ctx, self.family
        done = self.state["progress"].get(stage.name, 0)
        seed = [ctx.seed, index]
        x, y, w = family.fit_arrays(model, ctx.train, ctx)
        b = ctx.batch_size
        train = epoch_pipeline(x, y, w, b, seed=seed, first_epoch=done, epochs=stage.epochs)
        validation = None
        if family.validation and ctx.test is not None:
            validation = evaluation_pipeline(*family.fit_arrays(model, ctx.test, ctx), batch_size=b)
        callbacks = [make_epoch_seeds(seed), keras.callbacks.TerminateOnNaN(raise_error=True)]
        callbacks += family.training_callbacks(model, ctx)
        batches_per_epoch = steps_per_epoch(len(x), b)
        requested = int(self.recipe.train["steps_per_execution"])
        spe = effective_steps_per_execution(requested, batches_per_epoch)
        if spe != requested:
            ctx.log(f"steps_per_execution: {spe} instead of {requested}, the largest divisor of the "
                    f"{batches_per_epoch} batches per epoch that is at most {requested} (a compiled call would "
                    f"otherwise run past the end of an epoch)")
        if spe != getattr(model, "steps_per_execution", 1):
            model.steps_per_execution = spe  # speed only; the compiled step is rebuilt by fit
            model.train_function = model.test_function = None
        schedule = self.recipe.train.get("learning_rate_schedule", "constant")
        if schedule != "constant":
            batches = batches_per_epoch * stage.epochs
            changed = [schedule_learning_rate(optimizer, schedule, batches * updates, resumed=done > 0,
                                              where=f"{ctx.out} (stage {stage.name!r}, {stage.epochs} epochs)")
                       for optimizer, updates in family.scheduled_optimizers(model)]
            if any(changed):
                model.train_function = None  # traced with the constant rate: rebuilt by fit
            callbacks.append(make_learning_rate_logger())  # before the checkpointer, which records the logs
        if self.recipe.train["tensorboard"]:  # after every callback that adds to the epoch's logs
            from keras_ae.callbacks import TensorBoardLogger

            callbacks.append(TensorBoardLogger(os.path.join(ctx.out, "tensorboard"),
                                               images=lambda m: family.summary_images(m, ctx)))
        callbacks.append(make_checkpointer(self, index, stage))
        kwargs = {"validation_data": validation} if validation is not None else {}
        model.fit(train, epochs=stage.epochs, initial_epoch=done, steps_per_epoch=batches_per_epoch,
                  callbacks=callbacks, verbose=self.verbose, shuffle=False, **kwargs)  # the pipeline orders epochs

    def call_stage(self, model, index, stage):
        import keras

        from keras_ae.data.epochs import epoch_seeds
        from keras_ae.runs import fault_point

        ctx = self.ctx
        keras.utils.set_random_seed(epoch_seeds([ctx.seed, index], 0, 1)[0])
        start = time.perf_counter()
        history = stage.run(model, ctx, stage.epochs) or {}
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:  # its variables in the checkpoint: a clean reload
            optimizer.build(model.trainable_variables)
        state = self.state
        state["history"][stage.name] = {k: [float(v) for v in vs] for k, vs in history.items()}
        state["progress"][stage.name] = stage.epochs
        state["seconds"] = state.get("seconds", 0.0) + (time.perf_counter() - start)
        state.setdefault("trained", []).append([stage.name, stage.epochs, os.getpid()])
        self.state = self.folder.commit(state, model, index, stage.epochs,
                                        before_rename=lambda: fault_point(f"checkpoint:{stage.name}:{stage.epochs}"))
        self.write_history()
        fault_point(f"epoch_end:{stage.name}:{stage.epochs}")


def _check_progress(state, stages, folder):
    from keras_ae.runs import RunFolderError

    names = [s.name for s in stages]
    if state["stages"] != names:
        raise RunFolderError(f"{folder.path} holds a run with the stages {state['stages']}; this recipe has {names}. "
                             f"Train into another --out, or pass --overwrite.")
    progress = state["progress"]
    for i, stage in enumerate(stages):
        done = progress.get(stage.name, 0)
        if done > stage.epochs:
            raise RunFolderError(
                f"{folder.path} already holds {done} epochs of stage {stage.name!r}; this run asks for "
                f"{stage.epochs}. Train into another --out, or pass --overwrite to start over."
            )
        if done < stage.epochs and any(progress.get(s.name, 0) for s in stages[i + 1:]):
            raise RunFolderError(
                f"{folder.path} holds a run that finished stage {stage.name!r} after {done} epochs and went on to the "
                f"next stage; it cannot train {stage.epochs} epochs of it now. Pass --overwrite to start over."
            )


def _fingerprint_difference(old, new):
    diffs = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                for sub in sorted(set(old[key]) | set(new[key])):
                    if old[key].get(sub) != new[key].get(sub):
                        diffs.append(f"{key}.{sub}: {old[key].get(sub)!r} there, {new[key].get(sub)!r} here")
            else:
                diffs.append(f"{key}: {old.get(key)!r} there, {new.get(key)!r} here")
    return "; ".join(diffs)


def run(recipe, out=None, epochs=None, verbose=2, overwrite=False, stage_epochs=None, tensorboard=None):
    """Train ``recipe`` and write its run folder: ``model.keras``, ``history.json``, ``metrics.json`` (the family's
    measures beside the setting) and the family's figures.

    A killed run resumes from its last finished epoch or stage when rerun into the same folder, with the full
    history; a run killed after training does not train again; epochs depend only on the seed and their number, so
    a resumed run ends exactly where an uninterrupted one does. ``overwrite`` deletes a previous run's state first.
    ``epochs`` overrides the main stage's epochs and ``stage_epochs`` (``{name: epochs}``) the other stages'.
    The model is built and trained under the recipe's ``[train] distribute`` strategy and ``precision`` policy
    (docs/scaling.md); with ``multi-worker`` only the chief writes ``out`` (the other workers write to a temporary
    folder). Returns the metrics dict.
    """
    import tempfile

    from keras_ae.ops.distribute import is_chief, strategy_scope

    distribute = recipe.train.get("distribute", "none")
    with strategy_scope(distribute), tempfile.TemporaryDirectory(prefix="keras_ae_worker_") as scratch:
        chief = distribute != "multi-worker" or is_chief()
        return _run(recipe, (out or recipe.out) if chief else scratch, epochs, verbose, overwrite, stage_epochs,
                    tensorboard)


def _run(recipe, out, epochs, verbose, overwrite, stage_epochs, tensorboard):
    from keras_ae.runs import RunFolder, RunFolderError, fault_point, file_sha256, save_model, write_json

    out = os.fspath(out or recipe.out)
    family = family_recipe(recipe.model)
    if tensorboard is not None:
        recipe.train["tensorboard"] = bool(tensorboard)
    plan = _stage_epochs(recipe, family, epochs, stage_epochs)
    folder = RunFolder(out).preflight()  # before any data is read
    with folder.lock():
        if overwrite:
            folder.clear()
        import keras

        from keras_ae import zoo
        from keras_ae.serialization import load_model

        state = folder.read_state()
        fingerprint = recipe.fingerprint()
        if state is not None and state.get("fingerprint") != fingerprint:
            raise RunFolderError(
                f"{out} holds a run of another setting ({_fingerprint_difference(state.get('fingerprint', {}), fingerprint)})."
                f" Train into another --out, or pass --overwrite to replace it."
            )
        seed = int(recipe.train["seed"])
        options = merged_options(family, recipe.options)
        ctx = RunContext(recipe, out, seed, options, plan, verbose=verbose)
        ctx.info, ctx.train, ctx.test = load_data(recipe, family)
        if ctx.train is None:
            raise InvalidArgumentError("A training run needs [data] train_split.")
        args = family.constructor_args(recipe.model, recipe.model_args, ctx.info, ctx.train)
        if state is None or not state.get("checkpoint"):
            keras.utils.set_random_seed(seed)
            model = zoo.create(recipe.model, **{"dtype": recipe.train.get("precision", "float32"), **args})
            state = {"fingerprint": fingerprint, "progress": {}, "history": {}, "seconds": 0.0}
        else:
            path, entry = folder.verified_checkpoint(state)
            if entry is not state["checkpoint"]:  # fell back to the previous checkpoint: forget what followed it
                state = _rewind(state, entry)
            model = load_model(path, safe_mode=True)
            print(f"keras-ae: resuming {out} after epoch {entry['epoch']} of stage "
                  f"{state['stages'][entry['stage_index']]!r}.", file=sys.stderr, flush=True)
        stages = family.stages(model, ctx)
        state.setdefault("stages", [s.name for s in stages])
        _check_progress(state, stages, folder)
        runner = _Runner(recipe, folder, family, ctx, stages, state, verbose)
        for index, stage in enumerate(stages):
            if runner.state["progress"].get(stage.name, 0) >= stage.epochs:
                continue
            if stage.run is None:
                runner.fit_stage(model, index, stage)
            else:
                runner.call_stage(model, index, stage)
        state = runner.state
        runner.write_history()
        fault_point("trained")
        model_path = folder.file("model.keras")
        if not (os.path.isfile(model_path) and state.get("model_sha256") == file_sha256(model_path)):
            state["model_sha256"] = save_model(model, model_path)
            fault_point("model_saved")
            state = folder.commit(state)
        metrics = measure(model, family, ctx)
        fault_point("measured")
        metrics["setting"] = _setting(recipe, args, ctx, plan, state)
        family.figures(model, ctx)
        from keras_ae import plotting

        hist = flat_history(state["history"], family.main_stage)
        if hist:
            ctx.draw("history.png", plotting.plot_history, {k: v for k, v in hist.items() if "/" not in k} or hist)
        metrics["figures"] = ctx.written
        write_json(folder.file("metrics.json"), metrics)
        return metrics


def _rewind(state, entry):
    """The state as it was when checkpoint ``entry`` was written (progress and history cut back)."""
    state = json.loads(json.dumps(state))
    stages = state["stages"]
    for i, name in enumerate(stages):
        if i < entry["stage_index"]:
            continue
        keep = entry["epoch"] if i == entry["stage_index"] else 0
        if keep:
            state["progress"][name] = keep
            state["history"][name] = {k: v[:keep] for k, v in state["history"].get(name, {}).items()}
        else:
            state["progress"].pop(name, None)
            state["history"].pop(name, None)
    kept = {(n, e) for n, e in ((name, state["progress"].get(name, 0)) for name in stages)}
    state["trained"] = [t for t in state.get("trained", []) if t[1] <= dict(kept).get(t[0], 0)]
    state["checkpoint"], state["previous"] = entry, None
    state.pop("model_sha256", None)
    return state


def measure(model, family, ctx):
    """The family's measures with the model's random draws fixed by the seed (the same numbers on every rerun)."""
    import keras

    keras.utils.set_random_seed(ctx.seed)
    reset_seed_states(model, [ctx.seed, 999], 0)
    return family.measures(model, ctx)


def _setting(recipe, args, ctx, plan, state):
    import keras

    d = recipe.data
    return {
        "recipe": recipe.source, "model": recipe.model,
        "model_args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()},
        "dataset": d["dataset"], "train_split": d["train_split"], "test_split": d["test_split"],
        "data_dir": d["data_dir"], "train_examples": int(len(ctx.train.x)),
        "test_examples": int(len(ctx.test.x)) if ctx.test is not None else 0,
        "epochs": plan[next(iter(plan))], "stages": plan, "batch_size": d["batch_size"], "seed": ctx.seed,
        "options": ctx.options, "backend": keras.backend.backend(),
        "distribute": recipe.train.get("distribute", "none"), "precision": recipe.train.get("precision", "float32"),
        "learning_rate_schedule": recipe.train.get("learning_rate_schedule", "constant"),
        "train_seconds": round(float(state.get("seconds", 0.0)), 2),
    }


# ----- evaluation of a trained model ---------------------------------------------------------------------
def evaluate(model, model_name, dataset, split="test", train_split="train", data_dir=None, out=None, options=None,
             batch_size=128, seed=0, verbose=1, figure_prefix="eval_"):
    """The family measures of a trained ``model`` (zoo entry ``model_name``) on ``split`` of ``dataset`` (the train
    split serves measures that fit something: probes, FID feature networks), with its figures in ``out``."""
    family = family_recipe(model_name)
    recipe = Recipe(model=model_name, out=out or ".", model_args={},
                    data={"dataset": dataset, "train_split": train_split or "", "test_split": split,
                          "batch_size": int(batch_size), "data_dir": data_dir or ""},
                    train=dict(DEFAULTS["train"]), options=dict(options or {}), source="<evaluate>")
    ctx = RunContext(recipe, out or ".", int(seed), merged_options(family, options), {}, verbose=verbose,
                     figure_prefix=figure_prefix, progress=bool(verbose))
    ctx.info, ctx.train, ctx.test = load_data(recipe, family)
    metrics = measure(model, family, ctx)
    if out is not None:
        family.figures(model, ctx)
    metrics["figures"] = ctx.written
    return metrics


def model_family_name(model):
    """The zoo entry whose family serves ``model`` (a loaded model): matched by class through the registry."""
    from keras_ae import zoo

    cls_module = type(model).__module__
    for name in zoo.list_models():
        entry = zoo.get_entry(name)
        if entry.fn.__module__.rsplit(".", 1)[0] == cls_module.rsplit(".", 1)[0]:
            return name
    raise InvalidArgumentError(f"{type(model).__name__} is not a keras_ae zoo model (from {cls_module}); keras-ae evaluate "
                     f"takes models built by keras_ae.zoo.")
