"""How the recipe runner trains, measures and draws the VAE family (VAE, beta-VAE, conditional VAE).

Stages: one ``train`` stage, the test split as validation data.
Measures on the test split: the model's metrics averaged over ``elbo_passes`` passes (each pass draws fresh codes:
a single-sample ELBO estimate per example), so ``test_neg_elbo`` (beta = 1, nats per example) stands beside the
beta-weighted ``test_loss``; the IWAE bound with ``iwae_k`` samples when ``iwae_k > 0``; on labelled data the
linear-probe accuracy and k-means clustering of the codes.
Figures: reconstructions, the codes coloured by label, the 2-D manifold (``latent_dim == 2``), samples.
Default tuning objective: ``val_neg_elbo`` (min), which compares across beta.
"""

from keras_ae.models.autoencoder.autoencoder_recipe import encoder_figures, encoder_measures, encoder_summary_images
from keras_ae.recipes import FamilyRecipe, evaluate_metrics, register_family_recipe


@register_family_recipe
class VAERecipe(FamilyRecipe):
    family = "vae"
    options = {
        "elbo_passes": (int, 10, "passes over the test split averaged for the single-sample ELBO estimates"),
        "iwae_k": (int, 0, "importance samples of the IWAE bound on the test split (0: not computed)"),
        "probe": (bool, True, "linear-probe accuracy of the codes (labelled data)"),
        "clustering": (bool, True, "k-means accuracy and NMI of the codes (labelled data)"),
    }

    def measures(self, model, ctx):
        m = evaluate_metrics(model, self, ctx, ctx.test, passes=max(1, ctx.options["elbo_passes"]))
        m["beta"] = float(model.beta)
        k = int(ctx.options["iwae_k"])
        if k > 0 and ctx.test is not None:
            from keras_ae.evaluation.latent import iwae_nll

            labels = ctx.test.y if getattr(model, "needs_labels", False) else None
            r = iwae_nll(model, ctx.test.x, k=k, y=labels, seed=ctx.seed, progress=ctx.progress)
            m.update(test_iwae_nll=r["iwae_nll"], test_iwae_neg_elbo=r["neg_elbo"], iwae_k=k)
        m.update(encoder_measures(model, ctx))
        return m

    def figures(self, model, ctx):
        encoder_figures(model, ctx)

    def summary_images(self, model, ctx):
        return encoder_summary_images(model, ctx)

    def objective(self, model_name, info, validation):
        return ("val_neg_elbo" if validation else "neg_elbo"), "min"
