"""Run a shipped recipe for a benchmark: ``zoo/NAME.toml`` through ``keras_ae.recipes.run``, exactly as
``keras-ae train zoo/NAME.toml`` does, with only the overrides a benchmark may make (the dataset name, for the offline
IDX files; model arguments it sweeps; the seed it repeats; the output folder). A run folder that already holds
``metrics.json`` is read, not retrained (``overwrite=True`` starts over). Wall and CPU seconds and the load average
are recorded beside each run in ``benchmark_timing.json``."""

import json
import os
import pathlib
import resource
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))
RESULTS = ROOT / "benchmarks" / "results"


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_recipe(name, out, dataset=None, model_args=None, seed=None, overwrite=False):
    """Returns ``(metrics, timing, recipe)`` of ``zoo/<name>.toml`` run into ``out``; ``dataset``, ``model_args``
    (a dict merged into ``[model_args]``) and ``seed`` (``[train] seed`` and, where the recipe sets one,
    ``[model_args] seed``) override the recipe."""
    from keras_ae import recipes
    from keras_ae.runs import write_json

    recipe = recipes.load_recipe(ROOT / "zoo" / f"{name}.toml")
    if dataset is not None and recipe.data["dataset"] == "mnist":
        recipe.data["dataset"] = dataset
    recipe.model_args.update(model_args or {})
    if seed is not None:
        recipe.train["seed"] = seed
        if "seed" in recipe.model_args:
            recipe.model_args["seed"] = seed
    out = pathlib.Path(out)
    if (out / "metrics.json").is_file() and not overwrite:
        return (json.loads((out / "metrics.json").read_text()),
                json.loads((out / "benchmark_timing.json").read_text()), recipe)
    load0, t0, c0 = os.getloadavg(), time.time(), cpu_seconds()
    metrics = recipes.run(recipe, out=str(out), verbose=0, overwrite=overwrite)
    timing = {"wall_s": round(time.time() - t0, 1), "cpu_s": round(cpu_seconds() - c0, 1),
              "load_before": [round(v, 2) for v in load0], "load_after": [round(v, 2) for v in os.getloadavg()]}
    write_json(out / "benchmark_timing.json", timing)
    return metrics, timing, recipe
