"""Layer stacks of the flow family: RealNVP's multi-scale architecture for images (Dinh et al. 2017)."""

__all__ = ["multiscale_realnvp_layers"]

from keras_ae.errors import InvalidArgumentError
from keras_ae.layers.flows import ActNorm, AffineCoupling, FactorOut, InvertibleLinear, Squeeze


def _couplings(prefix, mask, n, hidden, kernel_size, actnorm, linear_seed=None):
    layers = []
    for i in range(n):
        if actnorm:
            layers.append(ActNorm(name=f"{prefix}_actnorm_{i}"))
        if linear_seed is not None:
            layers.append(InvertibleLinear(seed=linear_seed + i, name=f"{prefix}_conv1x1_{i}"))
        layers.append(AffineCoupling(mask=mask, parity=i % 2, hidden=hidden, kernel_size=kernel_size,
                                     name=f"{prefix}_{mask}_{i}"))
    return layers


def multiscale_realnvp_layers(input_shape, num_scales, couplings, final_couplings, hidden, kernel_size=3,
                              actnorm=True, conv1x1=False):
    """RealNVP's multi-scale architecture (Dinh et al. 2017) as a list of flow layers.

    Each scale: ``couplings`` checkerboard couplings, a squeeze, ``couplings`` channel couplings, then half the
    channels are factored out and the rest go to the next scale; the last stage has ``final_couplings``
    checkerboard couplings. ``conv1x1`` adds an invertible 1x1 convolution before each channel coupling.
    """
    h, w, _ = input_shape
    if h % (2 ** num_scales) or w % (2 ** num_scales):
        raise InvalidArgumentError(f"{num_scales} scales squeeze the image {num_scales} times: height and width "
                                   "must be "
                                   f"divisible by {2 ** num_scales}; received input_shape {tuple(input_shape)}.")

    def stage(level):
        p = f"s{level}"
        if level == num_scales:
            return _couplings(p, "checkerboard", final_couplings, hidden, kernel_size, actnorm)
        layers = _couplings(p, "checkerboard", couplings, hidden, kernel_size, actnorm)
        layers.append(Squeeze(name=f"{p}_squeeze"))
        layers += _couplings(p, "channel", couplings, hidden, kernel_size, actnorm,
                             linear_seed=100 * level if conv1x1 else None)
        layers.append(FactorOut(stage(level + 1), name=f"{p}_factor_out"))
        return layers

    return stage(0)
