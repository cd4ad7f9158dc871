"""Run a shipped recipe for a benchmark: ``zoo/NAME.toml`` through ``keras_ae.recipes.run``, exactly as
``keras-ae train zoo/NAME.toml`` does, with only the overrides a benchmark may make (the dataset name, for the offline
IDX files; model arguments it sweeps; the seed it repeats; family options that turn a side-by-side baseline on or
off; the output folder). A run folder that already holds ``metrics.json`` is read, not retrained, once its training
state shows the same setting (``overwrite=True`` starts over). Wall and CPU seconds and the load average
are recorded beside each run in ``benchmark_timing.json``."""

import json
import os
import pathlib
import resource
import shlex
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))
RESULTS = ROOT / "benchmarks" / "results"


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_recipe(name, dataset=None, model_args=None, seed=None, options=None):
    """``zoo/<name>.toml`` with the overrides a benchmark may make: ``dataset`` (only where the recipe reads
    ``mnist``: the offline IDX files), ``model_args`` (a dict merged into ``[model_args]``), ``seed`` (``[train] seed``
    and, where the recipe sets one, ``[model_args] seed``) and ``options`` (a dict merged into ``[options]``, for a
    side-by-side baseline such as the U-Net without its weight map)."""
    from keras_ae import recipes

    recipe = recipes.load_recipe(ROOT / "zoo" / f"{name}.toml")
    if dataset is not None and recipe.data["dataset"] == "mnist":
        recipe.data["dataset"] = dataset
    recipe.model_args.update(model_args or {})
    recipe.options.update(options or {})
    if seed is not None:
        recipe.train["seed"] = seed
        if "seed" in recipe.model_args:
            recipe.model_args["seed"] = seed
    return recipe.check()


def run_loaded(recipe, out, overwrite=False):
    """``(metrics, timing)`` of the :class:`keras_ae.recipes.Recipe` ``recipe`` run into ``out``. A folder that
    already holds ``metrics.json`` is read, not retrained, after checking that it holds a run of the same setting
    (as ``keras_ae.recipes.run`` checks on a rerun) and the same epochs per stage (a run with fewer epochs than
    the recipe now asks is continued by ``keras_ae.recipes.run``); ``timing`` is ``{}`` where the folder was
    trained outside a benchmark (no ``benchmark_timing.json``)."""
    from keras_ae import recipes
    from keras_ae.runs import RunFolder, write_json

    out = pathlib.Path(out)
    if (out / "metrics.json").is_file() and not overwrite:
        state = RunFolder(str(out)).read_state()
        if state is not None and state.get("fingerprint") != json.loads(json.dumps(recipe.fingerprint())):
            raise RuntimeError(f"{out} holds a run of another setting than {recipe.source} with these overrides "
                               f"(stored {state.get('fingerprint')}, wanted {recipe.fingerprint()}); pass another "
                               f"output folder, or --overwrite.")
        metrics = json.loads((out / "metrics.json").read_text())
        if _same_epochs(metrics.get("setting", {}), recipe):
            timing = out / "benchmark_timing.json"
            return metrics, json.loads(timing.read_text()) if timing.is_file() else {}
        # the recipe's epochs changed since this folder ran: recipes.run continues it to the new count (or refuses
        # fewer epochs, with what to do)
    load0, t0, c0 = os.getloadavg(), time.time(), cpu_seconds()
    metrics = recipes.run(recipe, out=str(out), verbose=0, overwrite=overwrite)
    timing = {"wall_s": round(time.time() - t0, 1), "cpu_s": round(cpu_seconds() - c0, 1),
              "load_before": [round(v, 2) for v in load0], "load_after": [round(v, 2) for v in os.getloadavg()]}
    write_json(out / "benchmark_timing.json", timing)
    return metrics, timing


def _same_epochs(setting, recipe):
    """Whether a finished run's ``setting`` (its metrics.json) trained the epochs of every stage ``recipe`` asks."""
    if setting.get("epochs") != recipe.train["epochs"]:
        return False
    stages = setting.get("stages", {})
    return all(stages.get(name) == epochs for name, epochs in recipe.train["stages"].items())


def train_command(name, out, dataset=None, seed=None, options=None, stages=None):
    """The ``keras-ae train`` command line that trains the run :func:`run_recipe` makes with these overrides.
    ``seed`` goes to ``--seed`` and, where the recipe sets a model seed, to ``--arg seed=`` too (the CLI's ``--seed``
    sets only ``[train] seed``); ``stages`` (``{stage: epochs}`` as a run's metrics.json records them) adds
    ``--epochs`` / ``--stage-epochs`` where they differ from the recipe's (a folder trained shorter, for a smoke)."""
    from keras_ae import recipes

    shipped = recipes.load_recipe(ROOT / "zoo" / f"{name}.toml")
    cmd = ["keras-ae", "train", f"zoo/{name}.toml"]
    if dataset is not None and shipped.data["dataset"] == "mnist":
        cmd += ["--dataset", str(dataset)]
    for key, value in (options or {}).items():
        cmd += ["--option", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    if seed is not None and (seed != shipped.train["seed"] or shipped.model_args.get("seed", seed) != seed):
        cmd += ["--seed", str(seed)] + (["--arg", f"seed={seed}"] if "seed" in shipped.model_args else [])
    if stages:
        if stages.get("train", shipped.train["epochs"]) != shipped.train["epochs"]:
            cmd += ["--epochs", str(stages["train"])]
        for key, epochs in stages.items():
            if key != "train" and epochs != shipped.train["stages"].get(key):
                cmd += ["--stage-epochs", f"{key}={epochs}"]
    return shlex.join(cmd + ["--out", str(out)])


def run_recipe(name, out, dataset=None, model_args=None, seed=None, overwrite=False, options=None):
    """Returns ``(metrics, timing, recipe)`` of ``zoo/<name>.toml`` run into ``out``, with the overrides of
    :func:`load_recipe`."""
    recipe = load_recipe(name, dataset, model_args, seed, options)
    metrics, timing = run_loaded(recipe, out, overwrite)
    return metrics, timing, recipe
