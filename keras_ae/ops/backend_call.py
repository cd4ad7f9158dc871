"""Calling conventions that differ between backends."""

import keras


class TorchSafeForward:
    """Lets a Keras layer or model have a public ``forward`` method on every backend.

    On the torch backend ``Layer.__call__`` goes through ``torch.nn.Module.__call__``, which calls
    ``self.forward(*args)``. While this object's own ``__call__`` runs, ``forward`` therefore hands over to Keras'
    ``Operation.__call__`` (what Keras' ``TorchLayer.forward`` does); otherwise it is the flow's generative map,
    implemented by ``_forward``.
    """

    def __call__(self, *args, **kwargs):
        if keras.backend.backend() != "torch":
            return super().__call__(*args, **kwargs)
        depth = self.__dict__.get("_keras_call_depth", 0)
        object.__setattr__(self, "_keras_call_depth", depth + 1)
        try:
            return super().__call__(*args, **kwargs)
        finally:
            object.__setattr__(self, "_keras_call_depth", depth)

    def forward(self, *args, **kwargs):
        if self.__dict__.get("_keras_call_depth", 0):
            return keras.Operation.__call__(self, *args, **kwargs)
        return self._forward(*args, **kwargs)


def graph_function(fn):
    """``fn`` compiled as a ``tf.function`` on the TensorFlow backend (graph-level fusion speeds up repeated
    inference such as the IWAE's k decodes), unchanged on the other backends."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(tf.autograph.experimental.do_not_convert(fn), reduce_retracing=True)
    return fn
