"""How the recipe runner trains, measures and draws the VQ-VAE.

Stages: ``train`` (the autoencoder with its vector quantizer, the test split as validation data), then ``prior``
(the gated PixelCNN prior fitted on the train split's code indices: ``[train] stages = {prior = N}`` epochs, batch
``prior_batch_size``; a run killed inside it redoes the prior from the trained autoencoder).
Measures on the test split: the model's metrics (``test_loss``, ``test_mse``, ...), codebook perplexity and the share
of codes in use, the prior's negative log-likelihood per code (nats); on labelled data the linear probe of the
flattened code grids.
Figures: reconstructions, codebook usage, prior samples.
"""

from keras_ae.models.autoencoder.autoencoder_recipe import encoder_figures, encoder_summary_images
from keras_ae.recipes import FamilyRecipe, Stage, evaluate_metrics, register_family_recipe


def _fit_prior(model, ctx, epochs):
    history = model.fit_prior(ctx.train.x, epochs=epochs, batch_size=ctx.options["prior_batch_size"],
                              learning_rate=ctx.options["prior_learning_rate"], verbose=0, shuffle=True)
    return history.history


@register_family_recipe
class VQVAERecipe(FamilyRecipe):
    family = "vqvae"
    stage_defaults = {"prior": 20}
    options = {
        "prior_batch_size": (int, 64, "batch size of the prior stage"),
        "prior_learning_rate": (float, 1e-3, "Adam learning rate of the prior stage"),
        "probe": (bool, True, "linear-probe accuracy of the code grids (labelled data)"),
    }

    def stages(self, model, ctx):
        return [Stage(self.main_stage, ctx.stage_epochs[self.main_stage]),
                Stage("prior", ctx.stage_epochs["prior"], run=_fit_prior)]

    def measures(self, model, ctx):
        m = evaluate_metrics(model, self, ctx, ctx.test)
        test = ctx.test
        if test is None:
            return m
        usage = model.codebook_usage(test.x)
        m.update(test_perplexity_codes=usage["perplexity"], test_codes_in_use_share=usage["share_in_use"])
        if model.is_prior_fitted:
            m["test_prior_nll_per_code"] = model.prior_nll(test.x)
        train = ctx.train
        if (ctx.options["probe"] and train is not None and test.info.has_labels and len(test.y)
                and test.y.min() >= 0):
            from keras_ae.evaluation.latent import linear_probe_accuracy

            m["test_probe_accuracy"] = float(linear_probe_accuracy(model, train.x, train.y, test.x, test.y))
        return m

    def figures(self, model, ctx):
        encoder_figures(model, ctx)
        if ctx.test is not None:
            from keras_ae.models.vqvae.vqvae_plots import plot_codebook_usage

            ctx.draw("codebook.png", plot_codebook_usage, model.codebook_usage(ctx.test.x)["counts"])

    def summary_images(self, model, ctx):
        return encoder_summary_images(model, ctx)
