"""Helpers shared by the zoo constructors of every family."""

import inspect

import keras

from keras_ae.errors import (ArgumentTypeError, InvalidArgumentError, KerasAEError, check_fraction,
                             check_int_sequence, check_non_negative, check_positive, check_positive_int,
                             describe_value, is_integer, reject_unknown, warn_renamed)
from keras_ae.networks import check_image_shape


def check_optimizer(optimizer):
    """``None``, a Keras optimizer, or what ``keras.optimizers.get`` resolves (a name such as ``"adam"``, a config)."""
    if optimizer is None or isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if not isinstance(optimizer, (str, dict)):
        raise ArgumentTypeError(f"`optimizer` must be a Keras optimizer, its name (e.g. 'adam') or config, or None; "
                                f"received {describe_value(optimizer)}.")
    try:
        keras.optimizers.get(optimizer)
    except (ValueError, TypeError) as e:
        raise InvalidArgumentError(f"`optimizer` {optimizer!r} is not a Keras optimizer name or config ({e}); use e.g. "
                                   f"'adam', 'sgd', 'rmsprop' or keras.optimizers.Adam(1e-3).") from None
    return optimizer


def check_activation(activation):
    """``None``, a callable, or the name of a Keras activation."""
    if activation is None or callable(activation):
        return activation
    if not isinstance(activation, str):
        raise ArgumentTypeError(f"`activation` must be the name of a Keras activation (e.g. 'relu') or a callable; "
                                f"received {describe_value(activation)}.")
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise InvalidArgumentError(f"`activation` {activation!r} is not a Keras activation; use e.g. 'relu', 'gelu', "
                                   f"'tanh', 'leaky_relu' or a callable.") from None
    return activation


def check_seed(seed):
    if seed is None:
        return seed
    if not is_integer(seed):
        raise ArgumentTypeError(f"`seed` must be an integer >= 0 or None; received {describe_value(seed)}.")
    return check_positive_int("seed", seed, minimum=0)


def check_name(name):
    if not isinstance(name, str) or not name:
        raise ArgumentTypeError(f"`name` must be a non-empty string; received {describe_value(name)}.")
    return name


def _optional(check):
    return lambda name, value: None if value is None else check(name, value)


# Arguments with one meaning in every zoo constructor ("one name per concept"), checked before the constructor runs,
# so a bad value is refused by name before any network is built (Keras would name its own `units` or `rate`).
COMMON_ARGUMENTS = {
    "learning_rate": check_positive,
    "optimizer": lambda name, value: check_optimizer(value),
    "activation": lambda name, value: check_activation(value),
    "seed": lambda name, value: check_seed(value),
    "name": lambda name, value: check_name(value),
    "latent_dim": check_positive_int,
    "kernel_size": check_positive_int,
    "dense_units": lambda name, value: check_positive_int(name, value, minimum=0),
    "filters": check_int_sequence,
    "hidden": lambda name, value: check_int_sequence(name, value, allow_empty=True),
    "num_classes": check_positive_int,
    "n_critic": check_positive_int,
    "dropout": check_fraction,
    "label_smoothing": check_fraction,
    "beta": check_non_negative,
    "global_clipnorm": _optional(check_non_negative),  # 0: no clipping (what TOML and --arg can write for None)
    "depth": check_positive_int,
    "base_filters": check_positive_int,
}


def check_constructor_arguments(constructor, args, kwargs):
    """Check the arguments of a zoo ``constructor`` call that :data:`COMMON_ARGUMENTS` knows (those given, not the
    defaults); the error names the constructor and the argument."""
    try:
        bound = inspect.signature(constructor).bind_partial(*args, **kwargs)
    except TypeError:
        return  # the call itself fails with Python's (or renamed_arguments') message
    for name, value in bound.arguments.items():
        check = COMMON_ARGUMENTS.get(name)
        if check is None:
            continue
        try:
            check(name, value)
        except KerasAEError as e:
            raise type(e)(f"{constructor.__name__}(): {e}") from None


def compile_model(model, optimizer=None, learning_rate=1e-3):
    """Compile with Adam(learning_rate) unless an ``optimizer`` (instance or name) is given."""
    check_optimizer(optimizer)
    learning_rate = check_positive("learning_rate", learning_rate)
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
        if any(not is_integer(s) for s in input_shape):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be the shape of one vector, (d,); received "
                                   f"{input_shape!r}.") from None
    if len(shape) != 1 or shape[0] < 1:
        raise InvalidArgumentError(f"`{name}` must be the shape of one vector, (d,) with d >= 1; received "
                                   f"{input_shape!r}.")
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
