"""Tuning jobs: TOML files (parsed as data, never executed) that describe a KerasTuner search over a zoo model.

```toml
model = "conv_vae"                     # a zoo name
out = "runs/tune/conv_vae"             # output folder (relative to the working directory)
description = "..."                    # optional

[model_args]                           # fixed keyword arguments of the zoo constructor
filters = [16, 32]                     # input_shape (and num_classes) default to the data's

[data]
dataset = "idx:../shared/data/mnist"   # keras_ae.data name: tfds name, "digits", "idx:FOLDER" (relative to the cwd)
train_split = "test[:8000]"
validation_split = "test[8000:]"       # "" for none (then the objective must be a training metric)
batch_size = 128
data_dir = ""

[search]                               # overrides of the family's default space; a plain value fixes it
latent_dim = {min = 2, max = 32, sampling = "log"}
beta = {min = 0.25, max = 8.0, sampling = "log"}
learning_rate = 1e-3

[tuner]
type = "random"                        # random | bayesian | hyperband | grid
objective = "val_neg_elbo"             # any logged metric (default: the family's, see below)
direction = "min"                      # min | max (default: the family objective's, else min)
max_trials = 6
epochs = 5                             # per trial (hyperband: max_epochs instead)
seed = 0
distribute = "none"                    # each trial on several devices: mirrored (TensorFlow) | data-parallel (JAX)

[options]                              # the family's recipe options (e.g. a GAN's fid_samples)
```

Default objectives come from the model's family recipe (:meth:`keras_ae.recipes.FamilyRecipe.objective`):
``val_neg_elbo`` for VAEs, ``val_nll`` (points) or ``val_bits_per_dim`` (images) for flows, ``val_mean_iou`` (max)
for the U-Net, a sample score for GANs computed after every epoch by a callback (``ring_quality``, max, on the ring of
Gaussians; ``sample_fid``, min, on labelled images), ``val_loss`` otherwise.
"""

import dataclasses
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from keras_ae.errors import JobError, check_toml_table, closest, read_text_file, unknown_name_message

TUNERS = ("random", "bayesian", "hyperband", "grid")
DIRECTIONS = ("min", "max")
SCHEMA = {
    "": {"model": str, "out": str, "description": str, "model_args": dict, "data": dict, "search": dict,
         "tuner": dict, "options": dict},
    "data": {"dataset": str, "train_split": str, "validation_split": str, "batch_size": int, "data_dir": str},
    "tuner": {"type": str, "objective": str, "direction": str, "max_trials": int, "epochs": int, "seed": int,
              "executions_per_trial": int, "use_defaults": bool, "max_epochs": int, "factor": int,
              "hyperband_iterations": int, "num_initial_points": int, "max_consecutive_failed_trials": int,
              "reproduce_passes": int, "distribute": str},
}
DEFAULTS = {
    "data": {"train_split": "train", "validation_split": "test", "batch_size": 128, "data_dir": ""},
    "tuner": {"type": "random", "objective": "", "direction": "", "max_trials": 10, "epochs": 5, "seed": 0,
              "executions_per_trial": 1, "use_defaults": True, "max_epochs": 10, "factor": 3,
              "hyperband_iterations": 1, "num_initial_points": 0, "max_consecutive_failed_trials": 3,
              "reproduce_passes": 5, "distribute": "none"},
}
TUNER_DIR = "tuner"
PROJECT = "search"


def _check_table(table, section, source):
    check_toml_table(table, SCHEMA[section], section, source, JobError)


@dataclasses.dataclass
class Job:
    model: str
    out: str
    model_args: dict
    data: dict
    search: dict
    tuner: dict
    options: dict = dataclasses.field(default_factory=dict)
    description: str = ""
    source: str = "<job>"

    @property
    def objective(self):
        return self.tuner["objective"]

    @property
    def direction(self):
        return self.tuner["direction"]

    def to_dict(self):
        d = dataclasses.asdict(self)
        d.pop("source")
        return d


def _default_objective(model, dataset, validation, source):
    """The family recipe's default ``(objective, direction)`` for ``model`` trained on ``dataset``."""
    from keras_ae.data.catalog import dataset_info
    from keras_ae.recipes import family_recipe

    family = family_recipe(model)
    objective, direction = family.objective(model, dataset_info(dataset), validation and family.validation)
    if objective is None:
        raise JobError(f"{source}: {model} has no default objective on {dataset!r} (its family measures samples on "
                       f"labelled images or the ring of Gaussians); set [tuner] objective and direction.")
    return objective, direction


def parse_job(text, source="<job>"):
    """Parse job TOML text into a validated :class:`Job` (schema, model name, tuner name, search space)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise JobError(f"{source}: not valid TOML: {e}") from None
    _check_table(raw, "", source)
    for section in ("data", "tuner"):
        _check_table(raw.get(section, {}), section, source)
    if "model" not in raw:
        raise JobError(f"{source}: missing the top-level key 'model' (a zoo name, e.g. model = \"conv_vae\").")
    from keras_ae.zoo.registry import get_entry

    try:
        get_entry(raw["model"])
    except ValueError as e:
        raise JobError(f"{source}: {e}") from None
    data = {**DEFAULTS["data"], **raw.get("data", {})}
    if "dataset" not in data:
        raise JobError(f"{source}: missing [data] dataset (e.g. dataset = \"digits\").")
    tuner = {**DEFAULTS["tuner"], **raw.get("tuner", {})}
    if tuner["type"] not in TUNERS:
        raise JobError(f"{source}: [tuner] type: " + unknown_name_message("tuner", tuner["type"], TUNERS))
    if not tuner["objective"]:
        tuner["objective"], default_direction = _default_objective(raw["model"], data["dataset"],
                                                                   bool(data["validation_split"]), source)
        tuner["direction"] = tuner["direction"] or default_direction
    if not tuner["direction"]:
        tuner["direction"] = "min"
    if tuner["direction"] not in DIRECTIONS:
        raise JobError(f"{source}: [tuner] direction must be 'min' or 'max'; received {tuner['direction']!r}.")
    for key in ("max_trials", "epochs", "executions_per_trial", "max_epochs", "hyperband_iterations",
                "max_consecutive_failed_trials", "reproduce_passes", "batch_size"):
        value = tuner.get(key, data.get(key))
        if value is not None and value < 1:
            raise JobError(f"{source}: {key} must be >= 1; received {value!r}.")
    from keras_ae.ops.distribute import DISTRIBUTIONS

    if tuner["distribute"] not in DISTRIBUTIONS:
        raise JobError(f"{source}: [tuner] distribute must be one of {', '.join(map(repr, DISTRIBUTIONS))}; "
                       f"received {tuner['distribute']!r}.")
    if tuner["factor"] < 2:
        raise JobError(f"{source}: [tuner] factor must be >= 2; received {tuner['factor']!r}.")
    job = Job(
        model=raw["model"],
        out=raw.get("out", os.path.join("runs", "tune", os.path.splitext(os.path.basename(str(source)))[0])),
        model_args=dict(raw.get("model_args", {})),
        data=data,
        search=dict(raw.get("search", {})),
        tuner=tuner,
        options=dict(raw.get("options", {})),
        description=raw.get("description", ""),
        source=str(source),
    )
    from keras_ae.recipes import family_recipe

    types = {k: v[0] for k, v in family_recipe(job.model).options.items()}
    check_toml_table(job.options, types, "options", source, JobError)
    from keras_ae.tuning.spaces import SearchSpaceError, resolve

    try:
        params, _ = resolve(job.model, job.search, tuner["use_defaults"])
    except SearchSpaceError as e:
        raise JobError(f"{source}: {e}") from None
    if not params:
        raise JobError(f"{source}: nothing to search: every hyperparameter is fixed.")
    names = {p.name for p in params}
    if tuner["type"] == "hyperband" and "epochs" in names:
        raise JobError(f"{source}: the hyperband tuner sets epochs itself ([tuner] max_epochs); do not search 'epochs'.")
    if tuner["type"] == "grid":
        continuous = [p.name for p in params if not p.is_discrete()]
        if continuous:
            raise JobError(
                f"{source}: the grid tuner needs discrete hyperparameters; give {', '.join(continuous)} "
                "a `step` or `values = [...]`."
            )
    return job


def load_job(path):
    return parse_job(read_text_file(path, "job file", JobError), source=str(path))


@dataclasses.dataclass
class Prepared:
    """A job with its data loaded and its hypermodel built once (to check the objective)."""

    job: Job
    hypermodel: object
    x: object
    y: object
    x_val: object
    y_val: object
    needs_labels: bool
    metric_names: list
    validation: bool = True  # the family fits with validation data (GANs do not)

    def fit_args(self):
        """Positional and keyword arguments for ``tuner.search`` / ``hypermodel.fit``."""
        val = None
        if self.needs_labels:
            args = (self.x, self.y)
            if self.x_val is not None and self.validation:
                val = (self.x_val, self.y_val)
        else:
            args = (self.x,)
            if self.x_val is not None and self.validation:
                val = (self.x_val,)
        return args, {"validation_data": val}


def prepare(job):
    """Load the data, make the :class:`ZooHyperModel` (with the family's tuning callbacks: a GAN's sample score),
    build one model and check the objective against what a trial logs."""
    import keras
    import keras_tuner as kt

    from keras_ae import recipes
    from keras_ae.data.catalog import load_arrays
    from keras_ae.tuning.hypermodel import ZooHyperModel

    keras.utils.set_random_seed(int(job.tuner["seed"]))
    d = job.data
    data_dir = d["data_dir"] or None
    family = recipes.family_recipe(job.model)
    train = load_arrays(d["dataset"], d["train_split"], data_dir)
    val = load_arrays(d["dataset"], d["validation_split"], data_dir) if d["validation_split"] else None
    recipe = recipes.Recipe(model=job.model, out=".", model_args=dict(job.model_args),
                            data={"dataset": d["dataset"], "train_split": d["train_split"],
                                  "test_split": d["validation_split"], "batch_size": d["batch_size"],
                                  "data_dir": d["data_dir"]},
                            train=dict(recipes.DEFAULTS["train"]), options=dict(job.options), source=job.source)
    ctx = recipes.RunContext(recipe, ".", int(job.tuner["seed"]), recipes.merged_options(family, job.options), {},
                             info=train.info, train=train, test=val, verbose=0)
    args = family.constructor_args(job.model, {}, train.info, train)
    try:
        hm = ZooHyperModel(job.model, job.search, job.model_args, job.tuner["use_defaults"],
                           input_shape=args.get("input_shape"), num_classes=args.get("num_classes"),
                           batch_size=d["batch_size"], epochs=job.tuner["epochs"],
                           callbacks=lambda model: family.tuning_callbacks(model, ctx))
    except (ValueError, TypeError) as e:
        raise JobError(f"{job.source}: {e}") from None
    model = hm.build(kt.HyperParameters())
    names = [m.name for m in model.metrics]
    validation = val is not None and family.validation
    logged = names + ([f"val_{n}" for n in names] if validation else []) + family.logged_metrics(model, ctx)
    if job.objective not in logged:
        near = closest(job.objective, logged, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        why = ""
        if job.objective.startswith("val_") and not validation:
            why = " (val_ metrics need [data] validation_split)" if val is None else \
                f" ({family.family} models are fit without validation data)"
        raise JobError(
            f"{job.source}: objective {job.objective!r} is never logged by {job.model}{why}.{hint} "
            f"Logged metrics: {', '.join(logged)}."
        )
    needs_labels = bool(getattr(model, "needs_labels", False))
    del model
    keras.backend.clear_session()
    y_val = None if val is None else val.y
    return Prepared(job, hm, train.x, train.y, None if val is None else val.x, y_val, needs_labels, names,
                    validation=family.validation)


def tuner_directory(out):
    return os.path.join(out, TUNER_DIR)


def events_directory(out):
    return os.path.join(out, "events")


def make_tuner(prepared, out, overwrite=False):
    """The KerasTuner tuner of the job (its directory lives in ``out/tuner``), recording trial events."""
    import keras_tuner as kt

    from keras_ae.ops.distribute import get_strategy
    from keras_ae.tuning.recording import recording_tuner_class

    job = prepared.job
    t = job.tuner
    # KerasTuner's distribution_strategy: every trial's model is built and trained under the tf.distribute strategy.
    # (JAX's DataParallel is not a tf.distribute strategy: search() sets it globally instead.)
    strategy = get_strategy(t["distribute"]) if t["distribute"] in ("mirrored", "multi-worker") else None
    common = dict(
        distribution_strategy=strategy,
        hypermodel=prepared.hypermodel,
        objective=kt.Objective(job.objective, job.direction),
        directory=tuner_directory(out),
        project_name=PROJECT,
        overwrite=overwrite,
        seed=t["seed"],
        max_consecutive_failed_trials=t["max_consecutive_failed_trials"],
    )
    kind = t["type"]
    if kind == "random":
        cls, extra = kt.RandomSearch, dict(max_trials=t["max_trials"], executions_per_trial=t["executions_per_trial"])
    elif kind == "bayesian":
        cls, extra = kt.BayesianOptimization, dict(max_trials=t["max_trials"],
                                                   num_initial_points=t["num_initial_points"] or None,
                                                   executions_per_trial=t["executions_per_trial"])
    elif kind == "grid":
        cls, extra = kt.GridSearch, dict(max_trials=t["max_trials"], executions_per_trial=t["executions_per_trial"])
    else:
        cls, extra = kt.Hyperband, dict(max_epochs=t["max_epochs"], factor=t["factor"],
                                        hyperband_iterations=t["hyperband_iterations"],
                                        executions_per_trial=t["executions_per_trial"])
    return recording_tuner_class(cls)(events_dir=events_directory(out), **common, **extra)


def search(prepared, out, overwrite=False, verbose=1):
    """Run (or continue) the search in this process; in distributed mode this is the chief's or a worker's part."""
    from keras_ae.ops.distribute import strategy_scope

    tuner = make_tuner(prepared, out, overwrite=overwrite)
    args, kwargs = prepared.fit_args()
    with strategy_scope(prepared.job.tuner["distribute"] if prepared.job.tuner["distribute"] == "data-parallel"
                        else "none"):
        tuner.search(*args, verbose=verbose, **kwargs)
    return tuner
