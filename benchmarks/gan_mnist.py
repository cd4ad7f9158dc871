"""DCGAN, WGAN-GP and the conditional GAN on MNIST, measured with the domain Frechet distance.

Data: the MNIST test set at ../shared/data/mnist; its first 8,000 images train the GANs and the feature
classifier, its last 2,000 are the reference set of the domain "FID" (features of a small classifier
trained on the 8,000; NOT Inception FID). Per model: the domain FID of the untrained generator, then
after every epoch (2,000 samples); a sample grid PNG per epoch; for the conditional GAN the share of
samples of each requested digit that the feature classifier assigns to that digit.

    python benchmarks/gan_mnist.py [--epochs 10] [--minutes 15] [--models dcgan,wgan_gp,conditional_gan]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae.callbacks import SampleGrid  # noqa: E402
from keras_ae.evaluation.fid import domain_fid, feature_statistics, train_feature_classifier  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "shared", "data", "mnist")


class FIDTracker(keras.callbacks.Callback):
    def __init__(self, feature_net, real_stats, n, budget_s, start):
        super().__init__()
        self.feature_net, self.real_stats, self.n = feature_net, real_stats, n
        self.budget_s, self.start, self.rows = budget_s, start, []

    def on_epoch_end(self, epoch, logs=None):
        samples = self._samples()
        fid = domain_fid(self.feature_net, None, samples, real_stats=self.real_stats)
        row = {"epoch": epoch + 1, "domain_fid": fid, "seconds": round(time.time() - self.start, 1)}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        self.rows.append(row)
        print(json.dumps(row), flush=True)
        if time.time() - self.start > self.budget_s:
            self.model.stop_training = True

    def _samples(self):
        if isinstance(self.model, keras_ae.models.ConditionalGAN):
            return self.model.sample(self.n, labels=np.arange(self.n) % 10, seed=123)
        return self.model.sample(self.n, seed=123)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="dcgan,wgan_gp,conditional_gan")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--minutes", type=float, default=15.0, help="per-model training budget (stops after an epoch)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--filters", default="32,64")
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args(argv)
    filters = tuple(int(f) for f in args.filters.split(","))

    x_train, y_train = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, y_test = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    t0 = time.time()
    feature_net = train_feature_classifier(x_train, y_train, num_classes=10, epochs=3, seed=args.seed)
    clf_acc = feature_net.accuracy(x_test, y_test)
    real_stats = feature_statistics(feature_net.features(x_test))
    fid_train_vs_test = domain_fid(feature_net, None, x_train[:2000], real_stats=real_stats)
    print(f"feature classifier: test accuracy {clf_acc:.4f} ({time.time() - t0:.0f}s); domain FID of 2000 real "
          f"training images vs the 2000 test images: {fid_train_vs_test:.3f}", flush=True)

    for name in args.models.split(","):
        keras.utils.set_random_seed(args.seed)
        model = keras_ae.zoo.create(name, latent_dim=args.latent, filters=filters, seed=args.seed)
        is_cond = name == "conditional_gan"
        start = time.time()
        tracker = FIDTracker(feature_net, real_stats, 2000, args.minutes * 60, start)
        tracker.set_model(model)
        fid0 = domain_fid(feature_net, None, tracker._samples(), real_stats=real_stats)
        print(f"{name}: untrained domain FID {fid0:.3f}", flush=True)
        grids = SampleGrid(os.path.join(args.out, f"gan_mnist_{name}"), n=100, seed=7, ncols=10,
                           labels=(np.arange(100) // 10) if is_cond else None)
        fit_y = y_train if is_cond else None
        model.fit(x_train, fit_y, batch_size=args.batch, epochs=args.epochs, verbose=0, shuffle=True,
                  callbacks=[tracker, grids])
        result = {
            "model": name, "setting": {
                "data": "MNIST IDX test set: first 8000 train, last 2000 = FID reference",
                "epochs_requested": args.epochs, "epochs_run": len(tracker.rows), "budget_minutes": args.minutes,
                "batch_size": args.batch, "filters": filters, "latent_dim": args.latent, "seed": args.seed,
                "backend": keras.backend.backend(), "optimizer": "Adam (zoo defaults)", "fid_samples": 2000,
                "machine": platform.processor() or platform.machine(), "load_at_end": os.getloadavg(),
            },
            "feature_classifier_test_accuracy": clf_acc,
            "domain_fid_real_train_vs_test": fid_train_vs_test,
            "domain_fid_untrained": fid0,
            "domain_fid_final": tracker.rows[-1]["domain_fid"],
            "improvement_factor": fid0 / max(tracker.rows[-1]["domain_fid"], 1e-12),
            "history": tracker.rows,
            "sample_grids": [os.path.relpath(pth, HERE) for pth in grids.paths],
            "train_seconds": round(time.time() - start, 1),
        }
        if is_cond:
            labels = np.repeat(np.arange(10), 200)
            pred = feature_net.predict(model.sample(len(labels), labels=labels, seed=99))
            per_digit = [float(np.mean(pred[labels == d] == d)) for d in range(10)]
            result["conditional_accuracy"] = float(np.mean(pred == labels))
            result["conditional_accuracy_per_digit"] = per_digit
            print(f"{name}: requested digit recognized {result['conditional_accuracy']:.3f}; per digit "
                  f"{[round(a, 2) for a in per_digit]}", flush=True)
        print(f"{name}: domain FID {fid0:.2f} -> {result['domain_fid_final']:.2f} "
              f"({result['improvement_factor']:.1f}x lower) in {result['train_seconds']}s", flush=True)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, f"gan_mnist_{name}.json"), "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
