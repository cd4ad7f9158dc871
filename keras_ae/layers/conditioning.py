"""Label conditioning for conditional models."""

__all__ = ["LabelToImage"]

import keras
from keras import ops

from keras_ae.serialization import register_serializable


@register_serializable
class LabelToImage(keras.layers.Layer):
    """Map a one-hot (or soft) label vector to ``channels`` extra image planes of size ``height x width``.

    A learned linear embedding of the label, reshaped to the image grid, so that a convolutional
    encoder can see the class at every position (concatenate it to the image channels).
    """

    def __init__(self, height, width, channels=1, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width, self.channels = int(height), int(width), int(channels)
        self.dense = keras.layers.Dense(self.height * self.width * self.channels, name="embed",
                                        dtype=self.dtype_policy)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, labels_one_hot):
        h = self.dense(labels_one_hot)
        return ops.reshape(h, (-1, self.height, self.width, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, channels=self.channels)
        return config
