"""How the recipe runner trains, measures, draws and tunes the GAN family.

Stages: one ``train`` stage without validation data (a GAN has no validation loss).
Measures, on samples: for labelled images the domain FID (:func:`keras_ae.evaluation.domain_fid`) of ``fid_samples``
generated images against the test split, in the features of a small classifier trained on the train split
(``fid_classifier_epochs`` epochs; its test accuracy is reported beside), and for conditional models the share of
samples the classifier assigns to the requested class; on the ring of Gaussians the modes covered and the share of
high-quality samples (:func:`keras_ae.evaluation.ring_mode_coverage`, ``ring_samples`` samples).
Figures: a sample grid (images; one class per row for conditional models) or the samples over the data (points).
Default tuning objective, computed on samples after every epoch by :class:`SampleScore`: ``sample_fid`` (min) on
labelled images, ``ring_quality`` (max: high-quality share times the share of modes covered) on the ring.
"""

import numpy as np

from keras_ae.recipes import FamilyRecipe, draw_sample_grid, register_family_recipe


def _is_ring(info):
    return info is not None and info.kind == "points" and "centers" in info.meta


def _labelled_images(arrays):
    return (arrays is not None and arrays.info.kind == "images" and arrays.info.has_labels and len(arrays.y)
            and int(np.min(arrays.y)) >= 0)


def _sample(model, n, seed, num_classes=None):
    if getattr(model, "needs_labels", False):
        labels = np.arange(n) % model.num_classes
        return model.sample(n, labels=labels, seed=seed), labels
    return model.sample(n, seed=seed), None


def feature_network(ctx):
    """The domain-FID feature classifier, trained once per run on the train split (cached in ``ctx``)."""
    if "feature_network" not in ctx.cache:
        from keras_ae.evaluation.fid import feature_statistics, train_feature_classifier

        train, test = ctx.train, ctx.test
        net = train_feature_classifier(train.x, train.y, num_classes=ctx.info.num_classes,
                                       epochs=ctx.options["fid_classifier_epochs"], seed=ctx.seed)
        ctx.cache["feature_network"] = net
        ctx.cache["real_stats"] = feature_statistics(_features(net, test.x, ctx, "FID features (test images)"))
    return ctx.cache["feature_network"], ctx.cache["real_stats"]


def _features(net, x, ctx, label, chunk=500):
    from keras_ae.evaluation.progress import Progress

    out = []
    with Progress(len(x), label, enabled=ctx.progress) as bar:
        for start in range(0, len(x), chunk):
            out.append(net.features(x[start : start + chunk]))
            bar.update(len(out[-1]))
    return np.concatenate(out)


def image_scores(model, ctx, n=None, seed=None):
    """Domain FID of ``n`` samples against the test split (and, for conditional models, the class accuracy)."""
    from keras_ae.evaluation.fid import feature_statistics, frechet_distance

    net, (mu, sigma) = feature_network(ctx)
    n = int(n or min(ctx.options["fid_samples"], len(ctx.test.x)))
    images, labels = _sample(model, n, ctx.seed if seed is None else seed)
    feats = _features(net, images, ctx, "FID features (samples)")
    mu_g, sigma_g = feature_statistics(feats)
    out = {"sample_fid": frechet_distance(mu, sigma, mu_g, sigma_g), "fid_samples": n}
    if labels is not None:
        out["sample_class_accuracy"] = float(np.mean(net.predict(images) == labels))
    return out


def ring_scores(model, ctx, n=None, seed=None):
    from keras_ae.evaluation.fid import ring_mode_coverage

    meta = ctx.info.meta
    n = int(n or ctx.options["ring_samples"])
    cov = ring_mode_coverage(model.sample(n, seed=ctx.seed if seed is None else seed), meta["centers"], meta["std"])
    return {"modes_covered": cov["modes_covered"], "num_modes": cov["num_modes"],
            "high_quality_share": cov["high_quality_share"], "per_mode": cov["per_mode"],
            "ring_quality": cov["high_quality_share"] * cov["modes_covered"] / cov["num_modes"], "ring_samples": n}


def make_sample_score(family, ctx):
    """A callback logging the family's sample score (``sample_fid`` or ``ring_quality``) after every epoch, so it
    can be a tuning objective or a curve in the history."""
    import keras

    class SampleScore(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None:
                return
            if _is_ring(ctx.info):
                scores = ring_scores(self.model, ctx, seed=ctx.seed + 1)
                logs["ring_quality"] = scores["ring_quality"]
                logs["high_quality_share"] = scores["high_quality_share"]
                logs["modes_covered"] = scores["modes_covered"]  # as logged: the ratio is 0/0 without good samples
            elif _labelled_images(ctx.test) and ctx.train is not None:
                n = min(ctx.options["epoch_fid_samples"], len(ctx.test.x))
                logs["sample_fid"] = image_scores(self.model, ctx, n=n, seed=ctx.seed + 1)["sample_fid"]

    return SampleScore()


@register_family_recipe
class GANRecipe(FamilyRecipe):
    family = "gan"
    validation = False
    options = {
        "fid_samples": (int, 2000, "generated images per domain FID (at most the test split's size)"),
        "fid_classifier_epochs": (int, 3, "epochs of the FID feature classifier (trained on the train split)"),
        "ring_samples": (int, 2500, "samples of the ring-of-Gaussians mode test"),
        "epoch_scores": (bool, False, "log the sample score after every epoch (history; tuning always does)"),
        "epoch_fid_samples": (int, 1000, "generated images per per-epoch domain FID"),
    }

    def fit_arrays(self, model, arrays, ctx):
        return arrays.x, (arrays.y if getattr(model, "needs_labels", False) else None), None

    def scheduled_optimizers(self, model):
        """The generator's optimizer steps once per batch, the discriminator's ``n_critic`` times."""
        return [(model.g_optimizer, 1), (model.d_optimizer, model.n_critic)]

    def training_callbacks(self, model, ctx):
        return [make_sample_score(self, ctx)] if ctx.options["epoch_scores"] else []

    def tuning_callbacks(self, model, ctx):
        return [make_sample_score(self, ctx)]

    def logged_metrics(self, model, ctx):
        if _is_ring(ctx.info):
            return ["ring_quality", "high_quality_share"]
        return ["sample_fid"] if _labelled_images(ctx.test) else []

    def measures(self, model, ctx):
        m = {}
        if ctx.test is None:
            return m
        if _is_ring(ctx.info):
            m.update(ring_scores(model, ctx))
        elif _labelled_images(ctx.test) and ctx.train is not None:
            m.update(image_scores(model, ctx))
            net, _ = feature_network(ctx)
            m["fid_classifier_test_accuracy"] = net.accuracy(ctx.test.x, ctx.test.y)
        return m

    def figures(self, model, ctx):
        info = ctx.info
        if info.kind == "points":
            from keras_ae.models.gan.gan_plots import plot_ring

            samples = model.sample(2500, seed=ctx.seed)
            real = (ctx.test or ctx.train).x[:2500]
            centers = info.meta.get("centers")
            lim = float(np.max(np.abs(real))) * 1.3 if len(real) else 3.0
            ctx.draw("samples.png", plot_ring, samples, real=real, centers=centers, lim=lim,
                     title=f"{model.name}: 2,500 samples over the data")
        else:
            draw_sample_grid(model, ctx)

    def summary_images(self, model, ctx):
        if ctx.info.kind != "images":
            return {}
        return {"samples": _sample(model, 16, ctx.seed)[0]}

    def objective(self, model_name, info, validation):
        if _is_ring(info):
            return "ring_quality", "max"
        if info is not None and info.kind == "images" and info.has_labels:
            return "sample_fid", "min"
        return None, None
