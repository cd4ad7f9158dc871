"""How the recipe runner trains, measures, draws and tunes the U-Net.

Stages: one ``train`` stage on ``(images, masks)``, the test split as validation data; with ``weight_map = true`` the
U-Net paper's border weight map (:func:`keras_ae.data.cells.unet_weight_map`, ``w0``, ``sigma``) weighs each pixel of
the training loss (needs a dataset with cell instances, e.g. ``cells``).
Measures on the test split: mean IoU and Dice over the classes (:func:`keras_ae.evaluation.segmentation_report`),
per class, the pixel accuracy, and where the dataset has instances the cells recovered as separate components.
Figures: image, true mask, predicted mask (and the weight map) for the first test images.
Default tuning objective: ``val_mean_iou`` (max).
"""

from keras_ae.errors import InvalidArgumentError
from keras_ae.recipes import FamilyRecipe, register_family_recipe


@register_family_recipe
class UNetRecipe(FamilyRecipe):
    family = "unet"
    options = {
        "weight_map": (bool, False, "weigh the training pixels by the U-Net paper's border weight map"),
        "w0": (float, 10.0, "the weight map's border weight"),
        "sigma": (float, 3.0, "the weight map's border width in pixels"),
        "figure_examples": (int, 4, "test images in the overlay figure"),
    }

    def fit_arrays(self, model, arrays, ctx):
        weights = None
        if ctx.options["weight_map"] and arrays is ctx.train:
            weights = self._weights(arrays, ctx)
        return arrays.x, arrays.y, weights

    def _weights(self, arrays, ctx):
        if "instances" not in arrays.extras:
            raise InvalidArgumentError(f"[options] weight_map needs cell instances, which {arrays.info.name!r} does not have "
                             f"(use dataset = \"cells\", or weight_map = false).")
        key = ("weights", id(arrays))
        if key not in ctx.cache:
            from keras_ae.data.cells import unet_weight_map

            ctx.cache[key] = unet_weight_map(arrays.extras["instances"], arrays.y, w0=ctx.options["w0"],
                                             sigma=ctx.options["sigma"], num_classes=arrays.info.num_classes)
        return ctx.cache[key]

    def measures(self, model, ctx):
        test = ctx.test
        if test is None:
            return {}
        from keras_ae.evaluation.segmentation import segmentation_report

        pred = model.predict_masks(test.x)
        report = segmentation_report(test.y, pred, model.num_classes, test.extras.get("instances"))
        return {f"test_{k}": v for k, v in report.items()}

    def figures(self, model, ctx):
        test = ctx.test
        if test is None:
            return
        from keras_ae.models.unet.unet_plots import plot_segmentation

        n = min(ctx.options["figure_examples"], len(test.x))
        weights = None
        if "instances" in test.extras:
            from keras_ae.data.cells import unet_weight_map

            weights = unet_weight_map(test.extras["instances"][:n], test.y[:n], w0=ctx.options["w0"],
                                      sigma=ctx.options["sigma"], num_classes=model.num_classes)
        ctx.draw("segmentation.png", plot_segmentation, test.x[:n], test.y[:n], model.predict_masks(test.x[:n]),
                 weights, num_classes=model.num_classes)

    def summary_images(self, model, ctx):
        test = ctx.test
        if test is None:
            return {}
        import numpy as np

        n = min(4, len(test.x))
        pred = model.predict_masks(test.x[:n]).astype("float32") / max(model.num_classes - 1, 1)
        true = test.y[:n].astype("float32") / max(model.num_classes - 1, 1)
        images = test.x[:n] if test.x.shape[-1] == 1 else test.x[:n].mean(-1, keepdims=True)
        return {"image_true_predicted": np.concatenate([images, true[..., None], pred[..., None]], axis=2)}

    def objective(self, model_name, info, validation):
        return ("val_mean_iou" if validation else "mean_iou"), "max"
