"""U-Net on synthetic touching cells: mean IoU, and cells recovered with vs without the paper's weight map.

Runs the recipe ``zoo/unet_cells.toml`` as ``keras-ae train zoo/unet_cells.toml`` does (only the output folder and,
with ``--seed``, the training seed are overridden): ``unet(depth=3, base_filters=8, learning_rate=2e-3)`` on the
dataset ``cells`` (``make_cells``: 256 train images, seed 0; 64 test images, seed 1000; 64x64; 3 classes background,
interior, border), 40 epochs, batch 16, seed 0, with the U-Net paper's weight map
``w = w_c + w0 exp(-(d1+d2)^2 / 2 sigma^2)`` (``[options] weight_map = true, w0 = 10, sigma = 3``) on the training
pixels. The side-by-side baseline is the same recipe with ``[options] weight_map = false`` (plain per-pixel cross
entropy), as ``keras-ae train zoo/unet_cells.toml --option weight_map=false`` runs it. ``--seed`` changes the training
seed only; the ``cells`` images are always the same.

Prints, for both runs, the test mean IoU (3 classes), per-class and foreground IoU and the test cells recovered as
separate connected components with IoU > 0.5 (all from each run's ``metrics.json``), the last training loss (its
``history.json``) and the training time; then the ceiling: the cells the same recovery finds in the true masks.
Run folders: ``OUT/unet_cells`` (weighted) and ``OUT/unet_cells_unweighted``; a folder that already holds a finished
run of the same setting is read, not retrained. ``--figure PATH`` copies the weighted run's ``segmentation.png``
(image, true mask, predicted mask, weight map) there.

    python benchmarks/unet_cells.py [--seed S] [--out DIR] [--summary PATH] [--figure docs/unet_cells.png]
"""

import argparse
import json
import os
import pathlib
import shutil

from keras_ae.runs import write_json
from recipe_runs import RESULTS, ROOT, run_recipe, train_command

NAME = "unet_cells"
# (label, run folder, [options] overrides): the recipe, then its baseline without the weight map.
RUNS = [("weighted", NAME, {}), ("unweighted", f"{NAME}_unweighted", {"weight_map": False})]
MEASURES = ("mean_iou", "mean_dice", "per_class_iou", "foreground_iou", "pixel_accuracy", "cells_recovered",
            "cells_total", "cells_predicted")


def setting_block(recipe, metrics, folder, options, seed):
    s = metrics["setting"]
    if s["epochs"] != recipe.train["epochs"]:
        print(f"note: {folder} was trained {s['epochs']} epochs, not the recipe's {recipe.train['epochs']}", flush=True)
    return {
        "data": f"dataset {s['dataset']!r} (keras_ae.data.make_cells, 64x64, 3 classes): train split "
                f"{s['train_split']!r} ({s['train_examples']} images, seed 0), test split {s['test_split']!r} "
                f"({s['test_examples']} images, seed 1000)",
        "epochs": s["epochs"], "batch_size": s["batch_size"], "seed": s["seed"], "options": s["options"],
        "recipe_epochs": recipe.train["epochs"],
        "command": train_command(NAME, folder, seed=seed, options=options, stages=s["stages"]),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None, help="override the recipe's training seed")
    p.add_argument("--out", default=str(ROOT / "runs" / NAME), help="folder of the two run folders")
    p.add_argument("--summary", default=str(RESULTS / f"{NAME}.json"))
    p.add_argument("--figure", default=None, help="copy the weighted run's segmentation.png here")
    p.add_argument("--overwrite", action="store_true", help="retrain both runs from the start")
    args = p.parse_args(argv)

    from keras_ae.data.catalog import load_arrays
    from keras_ae.evaluation.segmentation import segmentation_report

    runs = {}
    for label, folder_name, options in RUNS:
        folder = pathlib.Path(args.out) / folder_name
        metrics, timing, recipe = run_recipe(NAME, folder, seed=args.seed, options=options, overwrite=args.overwrite)
        history = json.loads((folder / "history.json").read_text())
        row = {
            "recipe": f"zoo/{NAME}.toml", "options_override": options, "seed": metrics["setting"]["seed"],
            "run_folder": str(folder), **{k: metrics[f"test_{k}"] for k in MEASURES},
            "final_train_loss": history["loss"][-1] if history.get("loss") else None,
            "train_seconds": metrics["setting"]["train_seconds"],
            **{k: timing.get(k) for k in ("wall_s", "cpu_s", "load_before", "load_after")},
            "setting": setting_block(recipe, metrics, folder, options, args.seed), "recipe_setting": metrics["setting"],
        }
        runs[label] = row
        load = row["load_before"][0] if row["load_before"] else None
        print(f"{label:>10}: mean IoU {row['mean_iou']:.4f}  foreground IoU {row['foreground_iou']:.4f}  "
              f"per-class IoU {[round(v, 3) for v in row['per_class_iou']]}  cells recovered "
              f"{row['cells_recovered']}/{row['cells_total']} (components {row['cells_predicted']})  "
              f"trained {row['setting']['epochs']} epochs in {row['train_seconds']:.0f} s "
              f"({row['wall_s']} s wall, {row['cpu_s']} CPU s for the run, load {load})", flush=True)

    test = load_arrays(recipe.data["dataset"], recipe.data["test_split"])
    truth = segmentation_report(test.y, test.y, test.info.num_classes, test.extras["instances"])
    print("\ncells recovered as separate components (IoU > 0.5 with their true instance), test set:")
    print("  " + "   ".join(f"{m}: {r['cells_recovered']}/{r['cells_total']}" for m, r in runs.items()))
    print(f"  (ceiling: the true masks themselves give {truth['cells_recovered']}/{truth['cells_total']})")

    result = dict(
        benchmark=NAME, recipe=f"zoo/{NAME}.toml",
        method="the recipe (weighted) and the same recipe with [options] weight_map = false (unweighted); test "
               "measures from each run's metrics.json (keras_ae.evaluation.segmentation_report)",
        seed_override=args.seed, runs=runs, ceiling_cells_recovered=truth["cells_recovered"],
        weighted_minus_unweighted_cells=runs["weighted"]["cells_recovered"] - runs["unweighted"]["cells_recovered"],
        load_average_end=list(os.getloadavg()))
    write_json(args.summary, result)
    print(f"wrote {args.summary}; load average {os.getloadavg()}")
    if args.figure:
        shutil.copyfile(pathlib.Path(args.out) / NAME / "segmentation.png", args.figure)
        print("wrote", args.figure)


if __name__ == "__main__":
    main()
