"""Helpers shared by the zoo constructors of every family."""

import inspect

import keras

from keras_ae.errors import check_positive_int, reject_unknown, warn_renamed
from keras_ae.networks import check_image_shape


def compile_model(model, optimizer=None, learning_rate=1e-3):
    """Compile with Adam(learning_rate) unless an ``optimizer`` (instance or name) is given."""
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer)
    if hasattr(model, "build_by_calling"):
        model.build_by_calling()
    return model


def image_and_latent(input_shape, latent_dim):
    return check_image_shape(input_shape), check_positive_int("latent_dim", latent_dim)


def vector_shape(input_shape, name="input_shape"):
    """Validate the shape ``(d,)`` of a vector (a 2-D point is ``(2,)``; a bare int ``d`` is accepted)."""
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be the shape of one vector, (d,); received {input_shape!r}.") from None
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"`{name}` must be the shape of one vector, (d,) with d >= 1; received {input_shape!r}.")
    return shape


def _as_vector(value):
    return (value,) if isinstance(value, int) and not isinstance(value, bool) else value


# Constructor arguments renamed in keras_ae 0.2 (one name per concept): old name -> (new name, conversion).
RENAMED_ARGUMENTS = {
    "data_dim": ("input_shape", _as_vector),
    "input_dim": ("input_shape", _as_vector),
    "dim": ("input_shape", _as_vector),
    "image_shape": ("input_shape", None),
    "event_shape": ("input_shape", None),
    "d_steps": ("n_critic", None),
}


def renamed_arguments(constructor, legacy, **current):
    """The values of ``current`` (new argument name -> value given), updated from deprecated names the caller put
    in ``legacy`` (the constructor's ``**legacy`` keywords), each with a deprecation warning. Returns the values in
    the order of ``current`` (a single value when there is one). Any other keyword is a ``TypeError`` naming the
    closest valid argument of ``constructor``."""
    owner = f"{constructor.__name__}()"
    values = dict(current)
    for old in list(legacy):
        new, convert = RENAMED_ARGUMENTS.get(old, (None, None))
        if new not in values:
            continue
        value = legacy.pop(old)
        warn_renamed(old, new, owner)
        values[new] = convert(value) if convert else value
    valid = [p.name for p in inspect.signature(constructor).parameters.values() if p.kind != p.VAR_KEYWORD]
    reject_unknown(legacy, owner, valid)
    out = tuple(values.values())
    return out[0] if len(out) == 1 else out
