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
objective = "val_neg_elbo"             # any logged metric (default: val_neg_elbo for VAEs, else val_loss)
direction = "min"                      # min | max
max_trials = 6
epochs = 5                             # per trial (hyperband: max_epochs instead)
seed = 0
distribute = "none"                    # each trial on several devices: mirrored (TensorFlow) | data-parallel (JAX)
```
"""

import dataclasses
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from keras_ae.errors import check_toml_table, closest, unknown_name_message

TUNERS = ("random", "bayesian", "hyperband", "grid")
DIRECTIONS = ("min", "max")
SCHEMA = {
    "": {"model": str, "out": str, "description": str, "model_args": dict, "data": dict, "search": dict,
         "tuner": dict},
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


class JobError(ValueError):
    """A job file that does not follow the schema (or names something that does not exist)."""


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


def _default_objective(model, validation):
    from keras_ae.zoo.registry import get_entry

    name = "neg_elbo" if get_entry(model).family == "vae" else "loss"
    return f"val_{name}" if validation else name


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
        tuner["objective"] = _default_objective(raw["model"], bool(data["validation_split"]))
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
        description=raw.get("description", ""),
        source=str(source),
    )
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
    if not os.path.isfile(path):
        raise JobError(f"Job file {str(path)!r} not found.")
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return parse_job(text, source=str(path))


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

    def fit_args(self):
        """Positional and keyword arguments for ``tuner.search`` / ``hypermodel.fit``."""
        if self.needs_labels:
            args = (self.x, self.y)
            val = (self.x_val, self.y_val) if self.x_val is not None else None
        else:
            args = (self.x,)
            val = (self.x_val,) if self.x_val is not None else None
        return args, {"validation_data": val}


def prepare(job):
    """Load the data, make the :class:`ZooHyperModel`, build one model and check the objective against its metrics."""
    import keras
    import keras_tuner as kt

    from keras_ae import data as data_module
    from keras_ae.tuning.hypermodel import ZooHyperModel

    keras.utils.set_random_seed(int(job.tuner["seed"]))
    d = job.data
    data_dir = d["data_dir"] or None
    x, y = data_module.load_numpy(d["dataset"], d["train_split"], data_dir)
    x_val = y_val = None
    if d["validation_split"]:
        x_val, y_val = data_module.load_numpy(d["dataset"], d["validation_split"], data_dir)
    num_classes = int(max(y.max(), y_val.max() if y_val is not None else 0)) + 1 if y is not None else None
    try:
        hm = ZooHyperModel(job.model, job.search, job.model_args, job.tuner["use_defaults"],
                           input_shape=x.shape[1:], num_classes=num_classes,
                           batch_size=d["batch_size"], epochs=job.tuner["epochs"])
    except (ValueError, TypeError) as e:
        raise JobError(f"{job.source}: {e}") from None
    model = hm.build(kt.HyperParameters())
    names = [m.name for m in model.metrics]
    logged = names + ([f"val_{n}" for n in names] if x_val is not None else [])
    if job.objective not in logged:
        near = closest(job.objective, logged, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        why = "" if x_val is not None or not job.objective.startswith("val_") else (
            " (val_ metrics need [data] validation_split)")
        raise JobError(
            f"{job.source}: objective {job.objective!r} is never logged by {job.model}{why}.{hint} "
            f"Logged metrics: {', '.join(logged)}."
        )
    needs_labels = bool(getattr(model, "needs_labels", False))
    del model
    keras.backend.clear_session()
    return Prepared(job, hm, x, y, x_val, y_val, needs_labels, names)


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
