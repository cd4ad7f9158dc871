"""U-Net on synthetic touching cells: mean IoU, and cells recovered with vs without the paper's weight map.

Trains the same U-Net twice on the same data and seed: once with the plain per-pixel cross entropy, once with
the U-Net paper's weight map ``w = w_c + w0 exp(-(d1+d2)^2 / 2 sigma^2)`` as per-pixel sample weights. Prints
the test mean IoU (3 classes: background, interior, border), the foreground IoU, the training time, and the
number of test cells recovered as separate connected components with IoU > 0.5, side by side.

    python benchmarks/unet_cells.py                  # the acceptance setting (256 train, 64 test, 64x64)
    python benchmarks/unet_cells.py --epochs 2       # a quick run

Writes benchmarks/results/unet_cells.json (and a figure with --figure PATH).
"""

import argparse
import json
import os
import subprocess
import time


def _load():
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=256)
    parser.add_argument("--test", type=int, default=64)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--base-filters", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--w0", type=float, default=10.0)
    parser.add_argument("--sigma", type=float, default=3.0)
    parser.add_argument("--border-width", type=int, default=2)
    parser.add_argument("--contact-darkening", type=float, default=0.5)
    parser.add_argument("--noise", type=float, default=0.06)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="unweighted,weighted")
    parser.add_argument("--figure", default=None, help="write image/true/predicted/weight-map figure here")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "unet_cells.json"))
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from keras_ae.data.cells import NUM_CLASSES, make_cells, unet_weight_map
    from keras_ae.evaluation.segmentation import segmentation_report
    from keras_ae.zoo import unet

    t0 = time.time()
    cell_kwargs = dict(size=args.size, border_width=args.border_width, contact_darkening=args.contact_darkening,
                       noise=args.noise)
    train = make_cells(args.train, seed=args.seed, **cell_kwargs)
    test = make_cells(args.test, seed=args.seed + 1000, **cell_kwargs)
    weights = unet_weight_map(train.instances, train.masks, w0=args.w0, sigma=args.sigma, num_classes=NUM_CLASSES)
    data_seconds = time.time() - t0
    setting = {
        "data": f"keras_ae.data.make_cells: {args.train} train (seed {args.seed}), {args.test} test "
                f"(seed {args.seed + 1000}), {args.size}x{args.size}, 3 classes (background, interior, border), "
                f"border_width={args.border_width}, contact_darkening={args.contact_darkening}, noise={args.noise}",
        "model": f"keras_ae.zoo.unet(depth={args.depth}, base_filters={args.base_filters}, pooling='max', "
                 f"upsampling='transpose', batch_norm=True)",
        "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "weight_map": {"w0": args.w0, "sigma": args.sigma, "class_balance": True},
        "seed": args.seed, "backend": keras.backend.backend(), "keras": keras.__version__,
        "data_seconds": round(data_seconds, 1),
    }
    print("setting:", json.dumps(setting))
    results = {}
    models = {}
    for mode in args.modes.split(","):
        keras.utils.set_random_seed(args.seed)
        model = unet(input_shape=(args.size, args.size, 1), num_classes=NUM_CLASSES, depth=args.depth,
                     base_filters=args.base_filters, learning_rate=args.learning_rate, name=f"unet_{mode}")
        load_before = _load()
        start, cpu_start = time.time(), time.process_time()
        history = model.fit(train.images, train.masks, sample_weight=weights if mode == "weighted" else None,
                            epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
        pred = model.predict_masks(test.images)
        report = segmentation_report(test.masks, pred, NUM_CLASSES, test.instances)
        report.update(train_seconds=round(seconds, 1), train_cpu_seconds=round(cpu_seconds, 1), final_train_loss=float(history.history["loss"][-1]),
                      load_average_before=load_before, load_average_after=_load())
        results[mode] = report
        models[mode] = (model, pred)
        print(f"{mode:>10}: mean IoU {report['mean_iou']:.4f}  foreground IoU {report['foreground_iou']:.4f}  "
              f"per-class IoU {[round(v, 3) for v in report['per_class_iou']]}  cells recovered "
              f"{report['cells_recovered']}/{report['cells_total']} (components {report['cells_predicted']})  "
              f"trained in {seconds:.0f} s wall, {cpu_seconds:.0f} s CPU (load {load_before[0]:.1f})", flush=True)

    if len(results) > 1:
        print("\ncells recovered as separate components (IoU > 0.5 with their true instance), test set:")
        print("  " + "   ".join(f"{m}: {r['cells_recovered']}/{r['cells_total']}" for m, r in results.items()))
    truth = segmentation_report(test.masks, test.masks, NUM_CLASSES, test.instances)
    print(f"  (ceiling: the true masks themselves give {truth['cells_recovered']}/{truth['cells_total']})")
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:  # pragma: no cover
        uptime = None
    out = {"setting": setting, "results": results, "ceiling_cells_recovered": truth["cells_recovered"],
           "uptime_at_end": uptime}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    print("uptime:", uptime)
    print("wrote", args.out)
    if args.figure:
        from keras_ae.models.unet.unet_plots import plot_segmentation

        test_w = unet_weight_map(test.instances, test.masks, w0=args.w0, sigma=args.sigma, num_classes=NUM_CLASSES)
        mode = "weighted" if "weighted" in models else next(iter(models))
        plot_segmentation(test.images[:4], test.masks[:4], models[mode][1][:4], test_w[:4], path=args.figure)
        print("wrote", args.figure)


if __name__ == "__main__":
    main()
