"""Stacked autoencoders with greedy layer-wise pretraining (Bengio et al. 2007; Vincent et al. 2010).

A stack of dense encoder layers ``enc0 .. enc{L-1}`` and their decoders ``dec{L-1} .. dec0``. :meth:`pretrain`
trains the first shallow autoencoder ``dec0(enc0(x))`` on the pixels, then freezes ``enc0`` (its weights are
only used to compute codes), drops ``dec0`` from the next step and trains ``dec1(enc1(h0))`` on the codes
``h0 = enc0(x)``, and so on. ``fit`` then fine-tunes the whole deep autoencoder, and
:meth:`to_classifier` turns the pretrained encoder into a classifier (fine-tuned or frozen).
"""

__all__ = ["StackedAutoencoder"]

import keras
import numpy as np

from keras_ae.data import checks
from keras_ae.errors import InvalidArgumentError, check_positive_int
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.serialization import register_serializable


@register_serializable
class StackedAutoencoder(Autoencoder):
    """A deep dense autoencoder built for greedy layer-wise pretraining (see the module docstring).

    Args:
        encoder, decoder: from :func:`~keras_ae.models.autoencoder.autoencoder_networks.stacked_networks` (layers named ``enc{i}`` / ``dec{i}``).
        likelihood, sigma: as :class:`~keras_ae.models.autoencoder.Autoencoder`; the first level is
            pretrained with this likelihood, deeper levels with squared error on the codes.
        pretrained_levels: how many levels :meth:`pretrain` has trained (saved with the model).
    """

    def __init__(self, encoder, decoder, likelihood="bernoulli", sigma=0.1, pretrained_levels=0, **kwargs):
        super().__init__(encoder, decoder, likelihood=likelihood, sigma=sigma, **kwargs)
        self.pretrained_levels = int(pretrained_levels)
        n = self.num_levels
        if n == 0:
            raise InvalidArgumentError(
                "StackedAutoencoder needs an encoder with Dense layers named 'enc0', 'enc1', ... "
                "(build it with keras_ae.models.autoencoder.autoencoder_networks.stacked_networks).")
        if not 0 <= self.pretrained_levels <= n:
            raise InvalidArgumentError(f"`pretrained_levels` must lie in [0, {n}]; received {pretrained_levels!r}.")

    # ----- structure ----------------------------------------------------------------------
    @property
    def num_levels(self):
        return sum(1 for l in self.encoder.layers if l.name.startswith("enc") and l.name[3:].isdigit())

    def encoder_layer(self, level):
        return self.encoder.get_layer(f"enc{level}")

    def decoder_layer(self, level):
        return self.decoder.get_layer(f"dec{level}")

    @property
    def is_pretrained(self):
        return self.pretrained_levels >= self.num_levels

    def freeze(self, levels=None, frozen=True):
        """Set ``trainable=not frozen`` on the first ``levels`` encoder layers (all by default).

        Compile again after changing what is trainable of a model that was already fitted.
        """
        levels = self.num_levels if levels is None else int(levels)
        for i in range(levels):
            self.encoder_layer(i).trainable = not frozen

    # ----- greedy pretraining -------------------------------------------------------------
    def pretrain(self, x, epochs=5, batch_size=128, learning_rate=1e-3, verbose=0, levels=None, restart=False):
        """Greedy layer-wise pretraining on images ``x`` (numpy). Returns one history dict per level trained.

        Trains the levels not yet pretrained, up to ``levels`` (all by default); earlier levels stay frozen
        and only compute the codes the next level is trained on. ``restart=True`` pretrains from level 0 again.
        """
        x = checks.check_images_array(np.asarray(x, dtype="float32"), self.input_shape, self.value_range)
        check_positive_int("epochs", epochs)
        levels = self.num_levels if levels is None else int(levels)
        if not 1 <= levels <= self.num_levels:
            raise InvalidArgumentError(f"`levels` must lie in [1, {self.num_levels}]; received {levels!r}.")
        start = 0 if restart else min(self.pretrained_levels, levels)
        codes = x.reshape(len(x), -1)
        for i in range(start):  # frozen levels: inference only
            codes = shallow_encode(self.encoder_layer(i), codes, batch_size)
        histories = []
        for i in range(start, levels):
            enc, dec = self.encoder_layer(i), self.decoder_layer(i)
            inp = keras.Input((codes.shape[1],), name=f"level{i}_input")
            shallow = keras.Model(inp, dec(enc(inp)), name=f"level{i}_autoencoder")
            if i == 0 and self.likelihood == "bernoulli":
                loss = keras.losses.BinaryCrossentropy(from_logits=True)
            else:
                loss = keras.losses.MeanSquaredError()
            shallow.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
            history = shallow.fit(codes, codes, epochs=int(epochs), batch_size=batch_size, verbose=verbose)
            histories.append({k: [float(v) for v in vs] for k, vs in history.history.items()})
            codes = shallow_encode(enc, codes, batch_size)
            self.pretrained_levels = max(self.pretrained_levels, i + 1)
        return histories

    # ----- classification -----------------------------------------------------------------
    def to_classifier(self, num_classes, fine_tune=True, from_scratch=False, optimizer=None, learning_rate=1e-3):
        """A compiled classifier ``encoder -> Dense(num_classes)`` (logits; sparse categorical cross-entropy).

        The encoder is a copy holding the pretrained weights (``from_scratch=True``: fresh random weights,
        the baseline "same network trained from random weights"). ``fine_tune=False`` freezes it, so only
        the linear output layer trains.
        """
        num_classes = check_positive_int("num_classes", num_classes, minimum=2)
        if not from_scratch and not self.is_pretrained:
            raise InvalidArgumentError(
                f"This stacked autoencoder has pretrained {self.pretrained_levels} of its {self.num_levels} levels: "
                "call `model.pretrain(x)` before `to_classifier(...)`, or pass `from_scratch=True` for a randomly "
                "initialized classifier."
            )
        encoder = keras.models.clone_model(self.encoder)
        if not from_scratch:
            encoder.set_weights(self.encoder.get_weights())
        encoder.trainable = bool(fine_tune)
        x = keras.Input(self.input_shape, name="image")
        logits = keras.layers.Dense(num_classes, name="classifier")(encoder(x))
        clf = keras.Model(x, logits, name=f"{self.name}_classifier")
        clf.compile(
            optimizer=optimizer or keras.optimizers.Adam(learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return clf

    def get_config(self):
        config = super().get_config()
        config.update(pretrained_levels=self.pretrained_levels)
        return config


def shallow_encode(layer, codes, batch_size=256):
    outs = [keras.ops.convert_to_numpy(layer(codes[s : s + batch_size])) for s in range(0, len(codes), batch_size)]
    return np.concatenate(outs)
