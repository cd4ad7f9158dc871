"""Results of a finished search: trials.csv, a summary table, the objective figure and best_model.keras."""

import csv
import json
import math
import os
import warnings

from keras_ae.tuning.jobs import PROJECT, events_directory, tuner_directory
from keras_ae.tuning.recording import read_events


def read_trials(out):
    """Every trial the oracle recorded (``trial_*/trial.json``), sorted by trial id."""
    project = os.path.join(tuner_directory(out), PROJECT)
    trials = []
    if not os.path.isdir(project):
        return trials
    for name in sorted(os.listdir(project)):
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.isfile(path):
            with open(path) as f:
                trials.append(json.load(f))
    return trials


def trial_rows(out, param_names):
    """One dict per trial: id, status, hyperparameters, objective (score), best step, epochs, seconds, tuner."""
    events = read_events(events_directory(out))
    ends = {}
    for e in events:
        if e["event"] == "end":
            ends[e["trial_id"]] = e  # the last run of a trial (a retried trial after a kill)
    rows = []
    for t in read_trials(out):
        values = t.get("hyperparameters", {}).get("values", {})
        end = ends.get(t["trial_id"], {})
        row = {"trial_id": t["trial_id"], "status": t.get("status")}
        for name in param_names:
            row[name] = values.get(name)
        for name, v in values.items():
            if name.startswith("tuner/"):
                row[name] = v
        score = t.get("score")
        row["objective"] = None if score is None else float(score)
        row["best_step"] = t.get("best_step")
        row["epochs"] = end.get("epochs")
        row["seconds"] = end.get("seconds")
        row["tuner_id"] = end.get("tuner_id")
        rows.append(row)
    return rows


def write_csv(rows, path):
    """Write the trial rows to ``path`` atomically (temporary file, fsync, rename)."""
    from keras_ae.runs import atomic_write

    columns = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})

    return atomic_write(path, write)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def summary_table(rows, objective, direction):
    """A plain-text table of the trials, best first."""
    done = [r for r in rows if r.get("objective") is not None]
    rest = [r for r in rows if r.get("objective") is None]
    done.sort(key=lambda r: r["objective"], reverse=(direction == "max"))
    ordered = done + rest
    if not ordered:
        return "(no trials)"
    columns = [k for k in ordered[0] if k not in ("tuner_id",)]
    columns = [("objective" if k == "objective" else k) for k in columns]
    header = [objective if k == "objective" else k for k in columns]
    cells = [[_fmt(r.get(k)) for k in columns] for r in ordered]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


def best_row(rows, direction):
    done = [r for r in rows if r.get("objective") is not None and math.isfinite(r["objective"])
            and str(r.get("status")) == "COMPLETED"]
    if not done:
        return None
    return (max if direction == "max" else min)(done, key=lambda r: r["objective"])


def plot_objective(rows, x_name, y_name, objective, path=None):
    """Scatter of the trials over two hyperparameters (log axes when positive), coloured by the objective, with
    the objective against each of them."""
    from keras_ae.plotting import finish, new_figure

    pts = [r for r in rows if r.get("objective") is not None and math.isfinite(r["objective"])
           and r.get(x_name) is not None and (y_name is None or r.get(y_name) is not None)]
    ncols = 3 if y_name else 1
    fig, axes = new_figure(1, ncols, figsize=(4.6 * ncols, 3.8), squeeze=False)
    axes = axes[0]
    obj = [r["objective"] for r in pts]
    xs = [float(r[x_name]) for r in pts]
    if y_name:
        ys = [float(r[y_name]) for r in pts]
        sc = axes[0].scatter(xs, ys, c=obj, cmap="viridis_r", s=60, edgecolors="k")
        fig.colorbar(sc, ax=axes[0], label=objective)
        axes[0].set_xlabel(x_name)
        axes[0].set_ylabel(y_name)
        axes[0].set_title(f"{objective} over the search")
        for r, xv, yv in zip(pts, xs, ys):
            axes[0].annotate(r["trial_id"], (xv, yv), fontsize=7, xytext=(3, 3), textcoords="offset points")
        if all(v > 0 for v in xs):
            axes[0].set_xscale("log")
        if all(v > 0 for v in ys):
            axes[0].set_yscale("log")
        pairs = [(axes[1], xs, x_name), (axes[2], ys, y_name)]
    else:
        pairs = [(axes[0], xs, x_name)]
    for ax, vals, name in pairs:
        ax.scatter(vals, obj, s=40, edgecolors="k")
        ax.set_xlabel(name)
        ax.set_ylabel(objective)
        if vals and all(v > 0 for v in vals):
            ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for ax in axes:  # plain numbers on log axes (2, 8, 32 rather than 2x10^0)
        for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
            if scale == "log":
                axis.set_major_formatter(plain)
                axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.1e}"[0] in "25" else ""))
    fig.tight_layout()
    return finish(fig, path, dpi=110, tight=False)


def reproduce_objective(model, prepared, passes=5, seed=0, batch_size=None):
    """Evaluate the objective of ``model`` on the job's validation data ``passes`` times with a fixed seed.

    VAE validation metrics are single-sample Monte Carlo estimates (a fresh z per example), so one pass is noisy;
    the mean of several passes with a fixed seed is reproducible and close to the expectation.
    Returns ``(mean, [each pass])`` or ``(None, [])`` when the objective is not a validation metric.
    """
    import keras

    objective = prepared.job.objective
    if not objective.startswith("val_") or prepared.x_val is None:
        return None, []
    key = objective[len("val_"):]
    keras.utils.set_random_seed(int(seed))
    batch_size = batch_size or prepared.job.data["batch_size"]
    values = []
    for _ in range(int(passes)):
        if prepared.needs_labels:
            res = model.evaluate(prepared.x_val, prepared.y_val, batch_size=batch_size, verbose=0, return_dict=True)
        else:
            res = model.evaluate(prepared.x_val, batch_size=batch_size, verbose=0, return_dict=True)
        values.append(float(res[key]))
    return sum(values) / len(values), values


def best_model(prepared, out, row):
    """Rebuild the best trial's model and load its best-epoch weights (the checkpoint KerasTuner saved)."""
    import keras_tuner as kt

    project = os.path.join(tuner_directory(out), PROJECT)
    with open(os.path.join(project, f"trial_{row['trial_id']}", "trial.json")) as f:
        trial = json.load(f)
    hp = kt.HyperParameters.from_config(trial["hyperparameters"])
    model = prepared.hypermodel.build(hp)
    with warnings.catch_warnings():  # the checkpoint also holds optimizer variables; only the weights matter here
        warnings.simplefilter("ignore", UserWarning)
        model.load_weights(os.path.join(project, f"trial_{row['trial_id']}", "checkpoint.weights.h5"))
    return model


def finalize(prepared, out, verbose=True):
    """Write trials.csv, objective.png, best_model.keras and results.json to ``out``; print the summary."""
    import keras

    from keras_ae.runs import fault_point, save_model, write_json
    from keras_ae.serialization import load_model

    fault_point("tune_searched")
    job = prepared.job
    names = [p.name for p in prepared.hypermodel.params]
    rows = trial_rows(out, names)
    write_csv(rows, os.path.join(out, "trials.csv"))
    table = summary_table(rows, job.objective, job.direction)
    results = {"job": job.source, "model": job.model, "objective": job.objective, "direction": job.direction,
               "tuner": job.tuner["type"], "trials": len(rows),
               "completed": sum(str(r.get("status")) == "COMPLETED" for r in rows),
               "search_space": [p.describe() for p in prepared.hypermodel.params],
               "fixed_model_args": {k: (list(v) if isinstance(v, tuple) else v)
                                    for k, v in prepared.hypermodel.model_args.items()},
               "dataset": job.data["dataset"], "train_split": job.data["train_split"],
               "validation_split": job.data["validation_split"], "train_examples": int(len(prepared.x)),
               "validation_examples": 0 if prepared.x_val is None else int(len(prepared.x_val)),
               "backend": keras.backend.backend(),
               "search_seconds": round(sum(r["seconds"] or 0 for r in rows), 2)}
    figure_x = "latent_dim" if "latent_dim" in names else (names[0] if names else None)
    figure_y = "beta" if "beta" in names else next((n for n in names if n != figure_x), None)
    if figure_x is not None and rows:
        plot_objective(rows, figure_x, figure_y, job.objective, os.path.join(out, "objective.png"))
        results["figure"] = "objective.png"
    best = best_row(rows, job.direction)
    if best is not None:
        model = best_model(prepared, out, best)
        path = os.path.join(out, "best_model.keras")
        save_model(model, path, before_rename=lambda: fault_point("tune_best_model"))
        with warnings.catch_warnings():  # the rebuilt model's optimizer never stepped: nothing to restore
            warnings.simplefilter("ignore", UserWarning)
            reloaded = load_model(path, safe_mode=True)
        passes = job.tuner["reproduce_passes"]
        mean, values = reproduce_objective(reloaded, prepared, passes=passes, seed=job.tuner["seed"])
        results["best"] = {k: v for k, v in best.items()}
        if mean is not None:
            rel = abs(mean - best["objective"]) / max(abs(best["objective"]), 1e-12)
            results["reproduced"] = {"from": "best_model.keras (safe_mode=True)", "passes": passes,
                                     "seed": job.tuner["seed"], "mean": mean, "values": values,
                                     "recorded": best["objective"], "relative_difference": rel}
    write_json(os.path.join(out, "results.json"), results)
    if verbose:
        print(f"\nSearch of {job.model} ({job.tuner['type']}, objective {job.objective} {job.direction}) "
              f"in {out}: {results['completed']}/{results['trials']} trials completed")
        print(table)
        if best is not None:
            print(f"best trial {best['trial_id']}: {job.objective} = {best['objective']:.5g}"
                  + (f"; reloaded best_model.keras gives {results['reproduced']['mean']:.5g} "
                     f"(mean of {passes} passes, seed {job.tuner['seed']}; "
                     f"{100 * results['reproduced']['relative_difference']:.2f}% off)"
                     if "reproduced" in results else ""))
    return results
