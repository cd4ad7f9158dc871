"""Module paths of keras_ae 0.1 that moved when each family got its own folder (keras_ae 0.2).

``import keras_ae.plotting_gans`` (or ``from keras_ae.samplers import GaussianLatentSampler``, ...) still works: a
finder on ``sys.meta_path`` answers the old name with a stand-in module that forwards every attribute to the new
home, with a deprecation warning. The stand-ins go away in keras_ae 0.3.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

_AE = "keras_ae.models.autoencoder"
# old module -> (new module, {old attribute: (module, new attribute)})
MOVED = {
    "keras_ae.plotting_ae": (f"{_AE}.autoencoder_plots", {"image_grid": ("keras_ae.plotting", "plot_images")}),
    "keras_ae.plotting_gans": ("keras_ae.models.gan.gan_plots", {
        "image_grid": ("keras_ae.plotting", "image_grid"),
        "save_image_grid": ("keras_ae.plotting", "plot_samples"),
        "save_scatter": ("keras_ae.models.gan.gan_plots", "plot_ring")}),
    "keras_ae.plotting_flows": ("keras_ae.models.flow.flow_plots", {}),
    "keras_ae.plotting_unet": ("keras_ae.models.unet.unet_plots", {}),
    "keras_ae.plotting_vqvae": ("keras_ae.models.vqvae.vqvae_plots", {}),
    "keras_ae.plotting_latent": ("keras_ae.plotting.latent_plots", {}),
    "keras_ae.samplers": (f"{_AE}.autoencoder_sampler", {}),
    "keras_ae.models.base": ("keras_ae.models.base_model", {
        name: ("keras_ae.ops.arrays", name) for name in ("batched", "dataset_arrays", "is_tf_dataset", "to_numpy")}),
    "keras_ae.models.engine": ("keras_ae.models.gan.gan_trainer", {
        name: ("keras_ae.ops.autodiff", name) for name in ("input_gradient", "jacobian_frobenius_sq")}),
    "keras_ae.models.ae_variants": (f"{_AE}.autoencoder_regularized", {
        "jacobian_frobenius_sq": ("keras_ae.ops.autodiff", "jacobian_frobenius_sq")}),
    "keras_ae.models.stacked": (f"{_AE}.autoencoder_stacked", {
        "stacked_networks": (f"{_AE}.autoencoder_networks", "stacked_networks")}),
    "keras_ae.zoo.autoencoders": (f"{_AE}.autoencoder_zoo", {}),
    "keras_ae.zoo.ae_family": (f"{_AE}.autoencoder_zoo", {
        name: (f"{_AE}.autoencoder_networks", name) for name in ("dense_code_encoder", "dense_linear_decoder")}),
    "keras_ae.zoo.vaes": ("keras_ae.models.vae.vae_zoo", {}),
    "keras_ae.zoo.vqvae": ("keras_ae.models.vqvae.vqvae_zoo", {
        name: ("keras_ae.models.vqvae.vqvae_networks", name) for name in ("vq_conv_encoder", "vq_conv_decoder")}),
    "keras_ae.zoo.gans": ("keras_ae.models.gan.gan_zoo", {
        name: ("keras_ae.models.gan.gan_networks", name)
        for name in ("mlp_generator", "mlp_discriminator", "conv_generator", "conv_discriminator", "gan_options")}),
    "keras_ae.zoo.flows": ("keras_ae.models.flow.flow_zoo", {
        "multiscale_realnvp_layers": ("keras_ae.models.flow.flow_networks", "multiscale_realnvp_layers")}),
    "keras_ae.zoo.unet": ("keras_ae.models.unet.unet_zoo", {}),
}
REMOVAL = "0.3"


class MovedModule(types.ModuleType):
    """Stands in for a module that moved: every attribute comes from its new home."""

    def __init__(self, name, target, renames):
        super().__init__(name, f"Moved to {target} (keras_ae 0.2); this path works until keras_ae {REMOVAL}.")
        self.__dict__["_target"] = target
        self.__dict__["_renames"] = renames

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        module, name = self._renames.get(attr, (self._target, attr))
        try:
            return getattr(importlib.import_module(module), name)
        except AttributeError:
            raise AttributeError(f"{self.__name__} (now {self._target}) has no attribute {attr!r}") from None

    def __dir__(self):
        return sorted(set(dir(importlib.import_module(self._target))) | set(self._renames))

    def __call__(self, *args, **kwargs):
        # Importing ``keras_ae.zoo.unet`` binds this module to the package attribute that names the ``unet``
        # constructor; calling it still builds the model.
        return getattr(self, self.__name__.rsplit(".", 1)[1])(*args, **kwargs)


class MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        target, renames = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {target}; the old path works until keras_ae {REMOVAL}.",
                      FutureWarning, stacklevel=2)
        return MovedModule(spec.name, target, renames)

    def exec_module(self, module):
        return None


def install():
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedFinder())
