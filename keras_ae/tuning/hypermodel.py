"""A KerasTuner ``HyperModel`` built from any zoo entry.

``build(hp)`` calls the zoo constructor with the hyperparameter values (plus the job's fixed arguments), so it
never duplicates model code; ``fit(hp, model, x, ...)`` tunes fit arguments (``batch_size``, ``epochs``) by
re-batching the data.
"""

import inspect

import keras_tuner as kt
import numpy as np

from keras_ae.errors import InvalidArgumentError
from keras_ae.tuning.spaces import FIT_ARGS, resolve


class ZooHyperModel(kt.HyperModel):
    """HyperModel for zoo model ``model_name``.

    Args:
        model_name: a zoo name (``keras_ae.zoo.list_models()``).
        space: the job's overrides of the default search space (``{name: range table or fixed value}``).
        model_args: fixed constructor arguments.
        use_defaults: start from the family's default space (latent size and beta for VAEs, learning rate
            everywhere); ``False`` searches only what ``space`` lists.
        input_shape, num_classes: filled in from the data when the constructor takes them and they are not given.
        batch_size, epochs: fit defaults when they are not searched.
        callbacks: ``fn(model) -> [callbacks]`` run first in every trial's ``fit`` (they may log the objective,
            e.g. a GAN's sample score; KerasTuner's own callbacks read the logs after them).
    """

    def __init__(self, model_name, space=None, model_args=None, use_defaults=True, input_shape=None,
                 num_classes=None, batch_size=128, epochs=1, callbacks=None, **kwargs):
        super().__init__(name=model_name, **kwargs)
        self.extra_callbacks = callbacks
        from keras_ae.zoo.registry import get_entry

        self.entry = get_entry(model_name)
        self.model_name = model_name
        self.params, fixed = resolve(model_name, space, use_defaults)
        params = inspect.signature(self.entry.fn).parameters
        for name in model_args or {}:
            if name not in params:
                from keras_ae.errors import unknown_name_message

                raise InvalidArgumentError(unknown_name_message(f"argument of {model_name}()", name, list(params)))
        self.fixed_fit = {k: fixed.pop(k) for k in list(fixed) if k in FIT_ARGS}
        self.model_args = {**dict(model_args or {}), **fixed}
        if "input_shape" in params and "input_shape" not in self.model_args and input_shape is not None:
            self.model_args["input_shape"] = tuple(int(s) for s in input_shape)
        if "num_classes" in params and "num_classes" not in self.model_args and num_classes is not None:
            self.model_args["num_classes"] = int(num_classes)
        for name in list(self.model_args):
            if name in {p.name for p in self.params}:
                raise InvalidArgumentError(f"{name!r} is both a fixed model argument and a searched hyperparameter; pick one.")
        self.batch_size = int(self.fixed_fit.get("batch_size", batch_size))
        self.epochs = int(self.fixed_fit.get("epochs", epochs))

    @property
    def constructor_params(self):
        return [p for p in self.params if p.name not in FIT_ARGS]

    @property
    def fit_params(self):
        return [p for p in self.params if p.name in FIT_ARGS]

    def declare_hyperparameters(self, hp):
        for p in self.params:
            p.declare(hp)

    def build(self, hp):
        from keras_ae.zoo.registry import create

        args = dict(self.model_args)
        for p in self.constructor_params:
            args[p.name] = p.declare(hp)
        for p in self.fit_params:  # declared here too so the oracle sees them on every build
            p.declare(hp)
        return create(self.model_name, **args)

    def fit(self, hp, model, x, y=None, validation_data=None, **kwargs):
        """Fit with the tuned ``batch_size`` (the data are re-batched) and ``epochs`` (unless the tuner sets it)."""
        batch_size = int(hp.values["batch_size"]) if "batch_size" in hp.values else self.batch_size
        kwargs.pop("batch_size", None)
        if "epochs" not in kwargs:  # Hyperband passes its own epochs
            kwargs["epochs"] = int(hp.values["epochs"]) if "epochs" in hp.values else self.epochs
        if self.extra_callbacks is not None:
            kwargs["callbacks"] = list(self.extra_callbacks(model)) + list(kwargs.get("callbacks") or [])
        fault = _fault_callback()
        if fault is not None:
            kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [fault]
        x = _rebatch(x, batch_size, y, shuffle=True)
        if isinstance(validation_data, tuple) and len(validation_data) in (1, 2):  # (x,) or (x, y) arrays
            rebatched = _rebatch(validation_data[0], batch_size, *validation_data[1:])
            validation_data = rebatched if _is_dataset(rebatched) else validation_data
        elif validation_data is not None:
            validation_data = _rebatch(validation_data, batch_size)
        if _is_dataset(x):
            kwargs.setdefault("shuffle", False)  # the dataset shuffles itself (Keras would warn)
            return model.fit(x, validation_data=validation_data, **kwargs)
        return model.fit(x, y, batch_size=batch_size, validation_data=validation_data, shuffle=True, **kwargs)


def _is_dataset(x):
    return hasattr(x, "unbatch") and hasattr(x, "batch")


def _rebatch(x, batch_size, y=None, shuffle=False):
    """``x`` as a dataset of ``batch_size`` batches that does not wait at epoch boundaries (keras_ae.data's
    pipeline options): a batched dataset is re-batched, in-memory arrays become keras_ae.data.pipeline
    (shuffled from the global seed when ``shuffle``); anything else is returned unchanged."""
    from keras_ae.data import pipeline, pipeline_options

    if _is_dataset(x):  # a batched tf.data.Dataset: re-batch it to the tuned size
        return x.unbatch().batch(batch_size).with_options(pipeline_options())
    if isinstance(x, np.ndarray) and (y is None or isinstance(y, np.ndarray)):
        return pipeline(x, y, batch_size=batch_size, shuffle=shuffle, seed=None)
    return x


def _fault_callback():
    """With ``KERAS_AE_FAULT`` naming ``tune_batch:N`` (tests of crash safety, :func:`keras_ae.runs.fault_point`): a
    callback counting this process's training batches, so the process can be killed in the middle of a trial."""
    import os

    from keras_ae.runs import FAULT_ENV, fault_point

    if "tune_batch:" not in os.environ.get(FAULT_ENV, ""):
        return None
    import keras

    class FaultPoint(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            _BATCHES[0] += 1
            fault_point(f"tune_batch:{_BATCHES[0]}")

    return FaultPoint()


_BATCHES = [0]  # training batches of this process, over all trials
