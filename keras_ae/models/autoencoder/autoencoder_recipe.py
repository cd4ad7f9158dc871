"""How the recipe runner trains, measures and draws the autoencoder family.

Stages: one ``train`` stage; the stacked autoencoder first runs greedy layer-wise pretraining, one ``pretrain`` stage
per level (``[train] stages = {pretrain = N}`` epochs each), then fine-tunes (``train``).
Measures on the test split: the model's metrics (``test_loss``, ``test_mse``, ...); on labelled data the linear-probe
accuracy of the codes (fit on the train split) and k-means clustering accuracy and NMI (one cluster per class);
denoising models the PSNR of corrupted and restored test images (the corruption drawn with a fixed seed), or for
points the mean distance of noisy and restored points to the data; sparse codes their share of active units and the
decoder filters' orientedness; with the option ``pca_baseline`` the same measures of PCA with as many components as
the code (``test_pca_mse``, ``test_pca_cluster_accuracy``, ``test_pca_cluster_nmi``); with ``labels_per_class`` the
semi-supervised probe with N labels per class (and, for stacked AEs, their encoder trained as a classifier).
Figures: reconstructions, codes coloured by label, the 2-D manifold when the code has two dimensions, restoration
rows (denoising), decoder filters (sparse), the 2-D denoising field (points).
The helpers :func:`encoder_measures` and :func:`encoder_figures` serve the VAE and VQ-VAE recipes as well.
"""

import numpy as np

from keras_ae.recipes import FamilyRecipe, Stage, draw_sample_grid, evaluate_metrics, register_family_recipe

PRETRAINED = ("stacked_ae",)


def _labelled(arrays):
    return arrays is not None and arrays.info.has_labels and len(arrays.y) and int(np.min(arrays.y)) >= 0


def _condition(model, arrays, n=None):
    """The labels conditional models take beside the images (``()`` for the others)."""
    if getattr(model, "needs_labels", False) and hasattr(model, "num_classes"):
        return (arrays.y if n is None else arrays.y[:n],)
    return ()


def encoder_measures(model, ctx):
    """Linear-probe accuracy and k-means clustering (accuracy, NMI) of the codes, on labelled data."""
    out = {}
    test, train = ctx.test, ctx.train
    if not (hasattr(model, "encode") and _labelled(test) and _labelled(train)):
        return out
    from keras_ae.evaluation.latent import latent_codes, linear_probe_accuracy

    labels_in = getattr(model, "needs_labels", False)
    if ctx.options.get("probe", True):
        out["test_probe_accuracy"] = float(linear_probe_accuracy(model, train.x, train.y, test.x, test.y))
    if ctx.options.get("clustering", True):
        from keras_ae.evaluation.clustering import kmeans_clustering

        k = int(ctx.info.num_classes)
        a = latent_codes(model, train.x, train.y if labels_in else None)
        b = latent_codes(model, test.x, test.y if labels_in else None)
        scores = kmeans_clustering(a, b, test.y, n_clusters=k, seed=ctx.seed)
        out["test_cluster_accuracy"], out["test_cluster_nmi"] = scores["accuracy"], scores["nmi"]
    return out


def encoder_figures(model, ctx, n=10):
    """Reconstructions, the codes coloured by label, the 2-D manifold (2-D codes) and samples (models with a
    ``sample`` that can draw)."""
    from keras_ae import plotting

    test = ctx.test
    if test is None or test.info.kind != "images":
        return
    x = test.x
    k = min(len(x), n)
    if hasattr(model, "reconstruct"):
        ctx.draw("reconstructions.png", plotting.plot_reconstructions, x[:k],
                 model.reconstruct(x[:k], *_condition(model, test, k)))
    if hasattr(model, "encode") and _labelled(test) and not hasattr(model, "grid_shape"):
        m = min(len(x), 2000)
        ctx.draw("latent.png", plotting.plot_latent, model.encode(x[:m], *_condition(model, test, m)), test.y[:m])
    can_sample = hasattr(model, "sample") and getattr(model, "is_prior_fitted", True)
    if getattr(model, "latent_dim", None) == 2 and can_sample and hasattr(model, "decode"):
        if getattr(model, "needs_labels", False):
            first = int(test.y[0])
            ctx.draw("manifold.png", plotting.plot_manifold, lambda z: model.decode(z, np.full(len(z), first)))
        else:
            ctx.draw("manifold.png", plotting.plot_manifold, model.decode)
    if can_sample:
        draw_sample_grid(model, ctx)


def encoder_summary_images(model, ctx, n=8):
    """Reconstructions of the first test images (originals on top) and samples, for TensorBoard."""
    test = ctx.test
    if test is None or test.info.kind != "images":
        return {}
    out = {}
    x = test.x[: min(n, len(test.x))]
    if hasattr(model, "reconstruct"):
        out["reconstructions"] = np.concatenate([x, model.reconstruct(x, *_condition(model, test, len(x)))])
    if hasattr(model, "sample") and getattr(model, "is_prior_fitted", True):
        if getattr(model, "needs_labels", False):
            out["samples"] = model.sample(n, labels=np.arange(n) % model.num_classes, seed=ctx.seed)
        else:
            out["samples"] = model.sample(n, seed=ctx.seed)
    return out


@register_family_recipe
class AutoencoderRecipe(FamilyRecipe):
    family = "autoencoder"
    stage_defaults = {"pretrain": 5}
    options = {
        "probe": (bool, True, "linear-probe accuracy of the codes (labelled data)"),
        "clustering": (bool, True, "k-means accuracy and NMI of the codes, one cluster per class (labelled data)"),
        "corruption_seed": (int, 1234, "seed of the test corruption of denoising models"),
        "noise_sigma": (float, 0.1, "noise added to test points by the 2-D denoising measure"),
        "labels_per_class": (list, [], "semi-supervised probe: for each N, N labels per class of the train split "
                                        "(drawn with the seed): linear classifiers on the codes and on the pixels; a "
                                        "stacked AE also trains its encoder as a classifier (fine-tuned, frozen, and "
                                        "the same network from random weights)"),
        "classifier_steps": (int, 600, "about how many steps each classifier of labels_per_class trains (batch 64)"),
        "pca_baseline": (bool, False, "PCA with as many components as the code has, fit on the train split: its "
                                      "test MSE per value and (labelled data) k-means accuracy and NMI of its codes"),
    }

    def stage_names(self, model_name):
        return dict(self.stage_defaults) if model_name in PRETRAINED else {}

    def stages(self, model, ctx):
        if ctx.options["pca_baseline"]:
            _pca_components(model, ctx)  # refused before training, not after
        if ctx.options["labels_per_class"]:
            _check_few_labels(model, ctx)
        stages = []
        if hasattr(model, "pretrain"):
            epochs = ctx.stage_epochs["pretrain"]
            for level in range(model.num_levels):
                stages.append(Stage(f"pretrain_{level}", epochs, run=_pretrain_level(level)))
        return stages + [Stage(self.main_stage, ctx.stage_epochs[self.main_stage])]

    def measures(self, model, ctx):
        m = evaluate_metrics(model, self, ctx, ctx.test)
        m.update(encoder_measures(model, ctx))
        test = ctx.test
        if test is None:
            return m
        if ctx.options["pca_baseline"]:
            m.update(_pca_baseline(model, ctx))
        if ctx.options["labels_per_class"]:
            m.update(_few_labels(model, ctx))
        if hasattr(model, "corrupt"):
            m.update(_denoising(model, ctx))
        if hasattr(model.encoder, "get_layer") and _has_layer(model.encoder, "sparsity"):
            codes = model.encode(test.x)
            m["test_active_share"] = float(np.mean(np.abs(codes) > 0.1))
            kernel = _filters(model)
            if kernel is not None and test.x.ndim == 4 and test.x.shape[1] == test.x.shape[2]:
                from keras_ae.evaluation.restoration import filter_orientedness

                m["filter_orientedness"] = filter_orientedness(kernel, int(test.x.shape[1]))
        return m

    def figures(self, model, ctx):
        encoder_figures(model, ctx)
        test = ctx.test
        if test is None:
            return
        if hasattr(model, "corrupt"):
            from keras_ae.models.autoencoder import autoencoder_plots as plots

            noisy = _corrupted(model, ctx)
            restored = model.restore(noisy)
            if test.info.kind == "points":
                ctx.draw("denoising.png", plots.denoising_field, ctx.train.x, noisy, restored,
                         title=f"{model.name}: noisy x~ -> g(h(x~))")
            else:
                ctx.draw("denoising.png", plots.restoration_rows, test.x, noisy, restored, title=model.name)
        kernel = _filters(model)
        if kernel is not None and test.x.ndim == 4:
            from keras_ae.models.autoencoder import autoencoder_plots as plots

            ctx.draw("filters.png", plots.decoder_filters, kernel, test.x.shape[1:3], title=f"{model.name} filters")

    def summary_images(self, model, ctx):
        return encoder_summary_images(model, ctx)


def _check_few_labels(model, ctx):
    """``labels_per_class`` needs labelled data, an encoder and whole numbers of labels the train split has."""
    from keras_ae.errors import RecipeError

    counts = ctx.options["labels_per_class"]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in counts):
        raise RecipeError(f"option labels_per_class: a list of integers >= 1; received {counts!r}")
    if not (hasattr(model, "encode") and _labelled(ctx.train) and _labelled(ctx.test)):
        raise RecipeError("option labels_per_class: needs a model with an encoder and labelled train and test splits")
    fewest = int(np.min(np.unique(ctx.train.y, return_counts=True)[1]))  # of the classes the split has
    if max(counts) > fewest:
        raise RecipeError(f"option labels_per_class: {max(counts)} labels per class asked for; the train split has "
                          f"{fewest} examples of its rarest class")
    if ctx.options["classifier_steps"] < 1:
        raise RecipeError(f"option classifier_steps must be >= 1; received {ctx.options['classifier_steps']}")


def _few_labels(model, ctx):
    """The semi-supervised probe of the lectures' stacked-autoencoder table, for each N of ``labels_per_class``
    (``N`` labels per class drawn from the train split with the run's seed, the test split whole):
    ``test_probe_codes_<N>pc`` / ``test_probe_pixels_<N>pc`` (logistic regression on the codes / on the pixels), and
    for a stacked AE ``test_classifier_fine_tuned_<N>pc``, ``test_classifier_frozen_<N>pc`` (its encoder as a
    classifier, trained whole or only its linear output) and ``test_classifier_from_scratch_<N>pc`` (the same
    network from random weights), each trained about ``classifier_steps`` steps of batch ``min(64, 10 N)``."""
    import keras

    from keras_ae.evaluation.probes import labels_per_class, semi_supervised_probe

    _check_few_labels(model, ctx)
    train, test, seed = ctx.train, ctx.test, ctx.seed
    out = {}
    for row in semi_supervised_probe(model.encode, train.x, train.y, test.x, test.y,
                                     n_per_class=ctx.options["labels_per_class"], seed=seed):
        n = row["labels_per_class"]
        out[f"test_probe_codes_{n}pc"], out[f"test_probe_pixels_{n}pc"] = row["codes_accuracy"], row["pixels_accuracy"]
        if not hasattr(model, "to_classifier"):
            continue
        idx = labels_per_class(train.y, n, seed=seed)
        batch = min(64, len(idx))
        epochs = max(1, ctx.options["classifier_steps"] * batch // len(idx))
        for name, kwargs in (("fine_tuned", dict(fine_tune=True)), ("frozen", dict(fine_tune=False)),
                             ("from_scratch", dict(from_scratch=True))):
            keras.utils.set_random_seed(seed)
            clf = model.to_classifier(int(ctx.info.num_classes), **kwargs)
            clf.fit(train.x[idx], train.y[idx], epochs=epochs, batch_size=batch, verbose=0)
            scores = clf.evaluate(test.x, test.y, batch_size=ctx.batch_size, verbose=0, return_dict=True)
            out[f"test_classifier_{name}_{n}pc"] = float(scores["accuracy"])
        out[f"classifier_epochs_{n}pc"] = epochs
    return out


def _pca_components(model, ctx):
    """The code size PCA gets with ``pca_baseline``; a clear error, before training, where it cannot be fitted."""
    from keras_ae.errors import RecipeError

    if not hasattr(model, "encode"):
        raise RecipeError(f"option pca_baseline: {type(model).__name__} has no code to compare PCA with")
    x = ctx.train.x
    k = int(np.prod(np.shape(model.encode(x[:2]))[1:]))
    if k > min(len(x), int(np.prod(x.shape[1:]))):
        raise RecipeError(f"option pca_baseline: the code has {k} values, more than PCA can have components with "
                          f"{len(x)} training examples of {int(np.prod(x.shape[1:]))} values")
    return k


def _pca_baseline(model, ctx):
    """The linear baseline beside the autoencoder (the lectures' comparison): PCA with as many components as the
    model's code has, fit on the flattened train split; ``test_pca_mse`` is the mean squared error per value of its
    test reconstructions (the autoencoder's ``test_mse`` is per value too), and on labelled data
    ``test_pca_cluster_accuracy`` / ``test_pca_cluster_nmi`` the same k-means as the codes' (standardized, fit on
    train, assigned on test)."""
    from sklearn.decomposition import PCA

    train, test = ctx.train, ctx.test
    k = _pca_components(model, ctx)
    flat_train, flat_test = train.x.reshape(len(train.x), -1), test.x.reshape(len(test.x), -1)
    pca = PCA(n_components=k, random_state=ctx.seed).fit(flat_train)
    out = {"pca_components": k,
           "test_pca_mse": float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))}
    if ctx.options.get("clustering", True) and _labelled(test) and _labelled(train):
        from keras_ae.evaluation.clustering import pca_clustering

        scores = pca_clustering(train.x, test.x, test.y, n_components=k, n_clusters=int(ctx.info.num_classes),
                                seed=ctx.seed)
        out["test_pca_cluster_accuracy"], out["test_pca_cluster_nmi"] = scores["accuracy"], scores["nmi"]
    return out


def _has_layer(network, name):
    try:
        network.get_layer(name)
        return True
    except ValueError:
        return False


def _filters(model):
    """The decoder's linear filters ``(units, pixels)`` of a sparse autoencoder, else None."""
    if not _has_layer(model.decoder, "filters"):
        return None
    import keras

    return keras.ops.convert_to_numpy(model.decoder.get_layer("filters").kernel)


def _corrupted(model, ctx):
    x = ctx.test.x
    if ctx.test.info.kind == "points":
        rng = np.random.default_rng(ctx.options["corruption_seed"])
        return (x + ctx.options["noise_sigma"] * rng.standard_normal(x.shape)).astype("float32")
    return model.corrupt(x, seed=ctx.options["corruption_seed"])


def _denoising(model, ctx):
    noisy = _corrupted(model, ctx)
    restored = model.restore(noisy)
    if ctx.test.info.kind == "points":
        from keras_ae.evaluation.restoration import distance_to_points

        ref = ctx.train.x
        return {"test_noisy_distance": distance_to_points(noisy, ref),
                "test_restored_distance": distance_to_points(restored, ref)}
    from keras_ae.evaluation.restoration import psnr

    before, after = psnr(ctx.test.x, noisy), psnr(ctx.test.x, restored)
    return {"test_corrupted_psnr": before, "test_restored_psnr": after, "test_psnr_gain": after - before}


def _pretrain_level(level):
    def run(model, ctx, epochs):
        histories = model.pretrain(ctx.train.x, epochs=epochs, batch_size=ctx.batch_size, levels=level + 1,
                                   verbose=0)
        return histories[-1] if histories else {}

    return run
