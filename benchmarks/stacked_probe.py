"""Stacked autoencoder with greedy layer-wise pretraining, probed with only N labels per class.

1. Linear classifier (logistic regression) on the pretrained codes vs on raw pixels.
2. The pretrained stacked network fine-tuned as a classifier vs the same network trained from random weights
   (and the frozen pretrained encoder with a trained linear output).
Data: MNIST at ../shared/data/mnist, first 8,000 images of the test file (unlabelled pretraining + the N labels per
class drawn from them), last 2,000 to test.
Run: python benchmarks/stacked_probe.py [--pretrain-epochs 10]
Writes benchmarks/results/ae_stacked_probe.json.
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))
RESULTS = ROOT / "benchmarks" / "results"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--finetune-steps", type=int, default=600)
    p.add_argument("--layer-sizes", type=int, nargs="+", default=[256, 64])
    p.add_argument("--labels", type=int, nargs="+", default=[10, 100])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS / "ae_stacked_probe.json"))
    args = p.parse_args()

    import keras

    import keras_ae
    from keras_ae.evaluation.probes import labels_per_class, semi_supervised_probe

    keras.utils.set_random_seed(args.seed)
    x_train, y_train = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, y_test = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    print(f"data: MNIST idx test[:8000] train / test[8000:] test; stacked_ae layer_sizes={args.layer_sizes}; "
          f"pretrain epochs/level={args.pretrain_epochs}; fine-tune steps={args.finetune_steps}; seed={args.seed} "
          f"backend={keras.backend.backend()}", flush=True)
    model = keras_ae.zoo.stacked_ae(layer_sizes=tuple(args.layer_sizes))
    t0 = time.time()
    model.pretrain(x_train, epochs=args.pretrain_epochs, batch_size=128)
    pretrain_seconds = time.time() - t0
    probe = semi_supervised_probe(model.encode, x_train, y_train, x_test, y_test, n_per_class=args.labels,
                                  seed=args.seed)
    rows = []
    for r in probe:
        n = r["labels_per_class"]
        idx = labels_per_class(y_train, n, seed=args.seed)
        batch = min(64, len(idx))
        epochs = max(1, args.finetune_steps * batch // len(idx))
        accs = {}
        for label, kw in (("fine_tuned", dict(fine_tune=True)), ("frozen", dict(fine_tune=False)),
                          ("from_scratch", dict(from_scratch=True))):
            keras.utils.set_random_seed(args.seed)
            clf = model.to_classifier(10, **kw)
            clf.fit(x_train[idx], y_train[idx], epochs=epochs, batch_size=batch, verbose=0)
            accs[label] = float(clf.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])
        row = dict(r, stacked_fine_tuned_accuracy=accs["fine_tuned"], stacked_frozen_accuracy=accs["frozen"],
                   same_network_from_scratch_accuracy=accs["from_scratch"], classifier_epochs=epochs)
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = dict(benchmark="stacked_probe", data="MNIST idx test[:8000] (train) / test[8000:] (test)",
                  model=f"keras_ae.zoo.stacked_ae(layer_sizes={tuple(args.layer_sizes)})",
                  pretrain_epochs_per_level=args.pretrain_epochs, pretrain_seconds=round(pretrain_seconds, 1),
                  seed=args.seed, backend=keras.backend.backend(), load_average=os.getloadavg(), rows=rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
