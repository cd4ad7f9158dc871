"""How the recipe runner trains, measures, draws and tunes normalizing flows.

Stages: one ``train`` stage, the test split as validation data (``val_nll``, and ``val_bits_per_dim`` for images).
Measures on the test split: ``test_nll`` (nats per example: exact for points; for images the single-draw estimate
of the discrete-image bound with uniform dequantization to the model's ``dequantize`` levels and the logit transform
counted) and, for images, ``test_bits_per_dim``.
Figures: for 2-D points the data, the learned density and samples side by side; for images a sample grid (and one at
temperature ``sample_temperature``).
Default tuning objective: ``val_bits_per_dim`` for images, ``val_nll`` for points (min).
"""

import numpy as np

from keras_ae.recipes import FamilyRecipe, register_family_recipe


@register_family_recipe
class FlowRecipe(FamilyRecipe):
    family = "flow"
    options = {
        "sample_temperature": (float, 0.7, "temperature of the second image sample grid"),
        "density_limit": (float, 3.0, "the 2-D density figure shows [-limit, limit]^2"),
    }

    def measures(self, model, ctx):
        test = ctx.test
        if test is None:
            return {}
        log_p = model.log_prob(test.x)
        m = {"test_nll": float(-np.mean(log_p))}
        if getattr(model, "dequantize", None):
            m["test_bits_per_dim"] = model.bits_per_dim(test.x)
            m["dequantization"] = f"uniform, {model.dequantize} levels, logit alpha {model.logit_alpha}"
        return m

    def figures(self, model, ctx):
        from keras_ae.models.flow import flow_plots

        data = (ctx.test if ctx.test is not None else ctx.train)
        if len(model.input_shape) == 1 and model.input_shape[0] == 2:
            lim = ctx.options["density_limit"]
            ctx.draw("density.png", flow_plots.plot_density_2d, model, data.x, seed=ctx.seed, lim=lim,
                     title=f"{model.name}: test NLL {-np.mean(model.log_prob(data.x)):.3f} nats")
        elif len(model.input_shape) == 3:
            ctx.draw("samples.png", flow_plots.plot_image_samples, model, seed=ctx.seed)
            t = ctx.options["sample_temperature"]
            ctx.draw(f"samples_t{t:g}.png", flow_plots.plot_image_samples, model, seed=ctx.seed, temperature=t)

    def summary_images(self, model, ctx):
        if len(model.input_shape) != 3:
            return {}
        return {"samples": model.sample(16, seed=ctx.seed)}

    def objective(self, model_name, info, validation):
        name = "bits_per_dim" if info is not None and info.kind == "images" else "nll"
        return (f"val_{name}" if validation else name), "min"
