"""The VQ-VAE in the zoo: a convolutional vector-quantized autoencoder with a gated PixelCNN prior."""

from keras_ae import networks
from keras_ae.errors import InvalidArgumentError, check_non_negative, check_positive_int
from keras_ae.models.vqvae.vqvae_model import VQVAE
from keras_ae.models.vqvae.vqvae_networks import vq_conv_decoder, vq_conv_encoder
from keras_ae.networks import check_image_shape
from keras_ae.zoo.common import compile_model
from keras_ae.zoo.registry import register

TINY = dict(
    input_shape=(8, 8, 1),
    num_embeddings=8,
    embedding_dim=4,
    filters=(4, 8),
    residual_blocks=1,
    prior_filters=8,
    prior_layers=2,
    prior_kernel_size=3,
)


@register("vqvae", test_kwargs=TINY)
def vq_vae(
    input_shape=(28, 28, 1),
    num_embeddings=512,
    embedding_dim=16,
    filters=(32, 64),
    residual_blocks=2,
    beta=0.25,
    ema=True,
    decay=0.99,
    dead_code_threshold=None,
    likelihood="bernoulli",
    prior_filters=64,
    prior_layers=6,
    prior_kernel_size=3,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="vq_vae",
):
    """Convolutional VQ-VAE (7x7x16 code grid for 28x28 images) with an EMA codebook and a gated PixelCNN prior.

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** len(filters)``.
        num_embeddings: codebook size K.
        embedding_dim: size D of each code vector (the encoder's output channels).
        filters: widths of the halving stages (the decoder mirrors them).
        residual_blocks: the paper's residual blocks at the code resolution (encoder and decoder).
        beta: commitment weight.
        ema: update the codebook by exponential moving averages (van den Oord et al., appendix) instead of by gradient.
        decay: the EMA decay.
        dead_code_threshold: codes whose EMA count falls below it are reset to encoder outputs (needs ``ema``);
            default 1.0 with EMA, 0 (no reset) without.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        prior_filters, prior_layers, prior_kernel_size: the gated PixelCNN prior over the code grid.
        padding, downsampling, upsampling, norm, block: the architecture options of
            :func:`keras_ae.networks.conv_encoder` (``block`` adds residual blocks per halving/doubling stage).
        seed: seed of the codebook initialisation and resets.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.vq_vae()
        >>> model.fit(x_train, epochs=20, batch_size=128)
        >>> model.fit_prior(x_train, epochs=20)     # the PixelCNN prior over the code indices
        >>> images = model.sample(16, seed=0)
    """
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    input_shape = check_image_shape(input_shape)
    num_embeddings = check_positive_int("num_embeddings", num_embeddings, minimum=2)
    embedding_dim = check_positive_int("embedding_dim", embedding_dim)
    filters = tuple(filters)
    if not filters:
        raise InvalidArgumentError("`filters` must name at least one convolutional stage, e.g. (32, 64).")
    residual_blocks = check_positive_int("residual_blocks", residual_blocks, minimum=0)
    beta = check_non_negative("beta", beta)
    if dead_code_threshold is None:
        dead_code_threshold = 1.0 if ema else 0.0
    elif not ema and float(dead_code_threshold) > 0:
        raise InvalidArgumentError(
            f"`dead_code_threshold={dead_code_threshold!r}` needs the EMA codebook (ema=True): unused codes are reset "
            "from the EMA cluster statistics, which a codebook trained by gradient (ema=False) does not keep. Pass "
            "ema=True, or leave dead_code_threshold unset (0 without EMA)."
        )
    encoder = vq_conv_encoder(input_shape, embedding_dim, filters, residual_blocks, **enc_opts)
    decoder = vq_conv_decoder(input_shape, embedding_dim, filters, residual_blocks, **dec_opts)
    model = VQVAE(
        encoder,
        decoder,
        num_embeddings=num_embeddings,
        embedding_dim=embedding_dim,
        beta=beta,
        ema=ema,
        decay=decay,
        dead_code_threshold=dead_code_threshold,
        likelihood=likelihood,
        prior_filters=prior_filters,
        prior_layers=prior_layers,
        prior_kernel_size=prior_kernel_size,
        seed=seed,
        name=name,
    )
    return compile_model(model, optimizer, learning_rate)
