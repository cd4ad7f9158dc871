"""Search spaces: default spaces per zoo family, and job overrides parsed from TOML data.

A space maps a hyperparameter name to either a fixed value (a TOML scalar/array) or a range table::

    latent_dim = {min = 2, max = 32, sampling = "log"}        # int range (ints given)
    beta = {min = 0.25, max = 8.0, sampling = "log"}          # float range
    batch_size = {values = [32, 64, 128]}                     # a choice
    learning_rate = 1e-3                                      # fixed: not searched

Names must be arguments of the zoo constructor or fit arguments (``batch_size``, ``epochs``).
"""

import dataclasses
import math

from keras_ae.errors import JobError, closest

FIT_ARGS = ("batch_size", "epochs")
RANGE_KEYS = ("type", "min", "max", "step", "sampling", "values", "default")
TYPES = ("int", "float", "choice", "bool")
SAMPLINGS = ("linear", "log", "reverse_log")

# Default search spaces: every family tunes the learning rate; VAEs latent size and beta; autoencoders latent size.
# A default applies only when the zoo constructor takes that argument.
COMMON_DEFAULTS = {"learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"}}
FAMILY_DEFAULTS = {
    "vae": {"latent_dim": {"min": 2, "max": 32, "sampling": "log"},
            "beta": {"min": 0.25, "max": 8.0, "sampling": "log"}},
    "autoencoder": {"latent_dim": {"min": 2, "max": 64, "sampling": "log"}},
}


class SearchSpaceError(JobError):
    """A search space that names an unknown hyperparameter or holds an empty/inverted range (a
    :class:`~keras_ae.errors.JobError`, so a ``ValueError``)."""


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched hyperparameter."""

    name: str
    type: str  # int | float | choice | bool
    min: object = None
    max: object = None
    step: object = None
    sampling: str = "linear"
    values: tuple = ()
    default: object = None

    def declare(self, hp):
        """Declare this hyperparameter on a ``keras_tuner.HyperParameters`` and return its value."""
        kw = {} if self.default is None else {"default": self.default}
        if self.type == "int":
            return hp.Int(self.name, int(self.min), int(self.max), step=self.step, sampling=self.sampling, **kw)
        if self.type == "float":
            return hp.Float(self.name, float(self.min), float(self.max), step=self.step, sampling=self.sampling, **kw)
        if self.type == "bool":
            return hp.Boolean(self.name, **kw)
        return hp.Choice(self.name, list(self.values), **kw)

    def is_discrete(self):
        return self.type in ("int", "choice", "bool") or self.step is not None

    def describe(self):
        if self.type in ("choice",):
            return f"{self.name} in {list(self.values)}"
        if self.type == "bool":
            return f"{self.name} in [False, True]"
        step = f" step {self.step}" if self.step is not None else ""
        return f"{self.name} {self.type} in [{self.min}, {self.max}] ({self.sampling}{step})"


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_param(name, spec, where="[search]"):
    """A :class:`Param` from a range table (``dict``); raises :class:`SearchSpaceError` on bad ranges."""
    for key in spec:
        if key not in RANGE_KEYS:
            near = closest(key, RANGE_KEYS, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise SearchSpaceError(f"{where} {name}: unknown key {key!r}.{hint} Valid keys: {', '.join(RANGE_KEYS)}.")
    kind = spec.get("type")
    if kind is not None and kind not in TYPES:
        near = closest(kind, TYPES, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise SearchSpaceError(f"{where} {name}: unknown type {kind!r}.{hint} Valid types: {', '.join(TYPES)}.")
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise SearchSpaceError(f"{where} {name}: `values` must be a non-empty list; received {values!r}.")
        if len(set(map(repr, values))) != len(values):
            raise SearchSpaceError(f"{where} {name}: `values` has duplicates: {values!r}.")
        extra = [k for k in ("min", "max", "step", "sampling") if k in spec]
        if extra:
            raise SearchSpaceError(f"{where} {name}: give either `values` or a range (min/max), not both ({extra}).")
        return Param(name, "choice", values=tuple(values), default=spec.get("default"))
    if kind == "bool":
        return Param(name, "bool", default=spec.get("default"))
    if "min" not in spec or "max" not in spec:
        raise SearchSpaceError(
            f"{where} {name}: a range needs both `min` and `max` (or `values = [...]`, or a plain value to fix it); "
            f"received {spec!r}."
        )
    lo, hi = spec["min"], spec["max"]
    if not (_is_number(lo) and _is_number(hi)) or not (math.isfinite(lo) and math.isfinite(hi)):
        raise SearchSpaceError(f"{where} {name}: `min` and `max` must be finite numbers; received {lo!r}, {hi!r}.")
    if lo > hi:
        raise SearchSpaceError(f"{where} {name}: inverted range: min {lo!r} > max {hi!r}.")
    if lo == hi:
        raise SearchSpaceError(
            f"{where} {name}: empty range: min == max == {lo!r}; to fix the value write `{name} = {lo!r}` instead."
        )
    if kind is None:
        kind = "int" if isinstance(lo, int) and isinstance(hi, int) and isinstance(spec.get("step", 1), int) else "float"
    if kind not in ("int", "float"):
        raise SearchSpaceError(f"{where} {name}: a min/max range must have type 'int' or 'float'; received {kind!r}.")
    if kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
        raise SearchSpaceError(f"{where} {name}: an int range needs integer bounds; received {lo!r}, {hi!r}.")
    sampling = spec.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        near = closest(sampling, SAMPLINGS, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise SearchSpaceError(f"{where} {name}: unknown sampling {sampling!r}.{hint} Valid: {', '.join(SAMPLINGS)}.")
    if sampling != "linear" and lo <= 0:
        raise SearchSpaceError(f"{where} {name}: {sampling} sampling needs min > 0; received min {lo!r}.")
    step = spec.get("step")
    if step is not None:
        if not _is_number(step) or step <= 0:
            raise SearchSpaceError(f"{where} {name}: `step` must be a number > 0; received {step!r}.")
        if sampling == "linear" and step > hi - lo:
            raise SearchSpaceError(f"{where} {name}: empty range: step {step!r} is larger than max - min.")
        if sampling != "linear" and step <= 1:
            raise SearchSpaceError(f"{where} {name}: with {sampling} sampling `step` is a factor and must be > 1.")
    if kind == "int":
        lo, hi = int(lo), int(hi)
        step = None if step is None else int(step)
    return Param(name, kind, min=lo, max=hi, step=step, sampling=sampling, default=spec.get("default"))


def valid_names(entry_name):
    """The hyperparameter names a job may use with zoo model ``entry_name``."""
    from keras_ae.zoo.registry import describe

    return list(describe(entry_name)["arguments"]) + list(FIT_ARGS)


def default_space(entry_name):
    """The default search space of a zoo model: ``{name: range table}``."""
    from keras_ae.zoo.registry import describe, get_entry

    args = describe(entry_name)["arguments"]
    family = get_entry(entry_name).family
    space = {}
    for table in (COMMON_DEFAULTS, FAMILY_DEFAULTS.get(family, {})):
        for name, spec in table.items():
            if name in args:
                space[name] = dict(spec)
    return space


def resolve(entry_name, overrides=None, use_defaults=True, where="[search]"):
    """Merge the default space with a job's ``overrides``.

    Returns ``(params, fixed)``: the searched :class:`Param` list (in a stable order) and a dict of fixed values.
    """
    valid = valid_names(entry_name)
    merged = default_space(entry_name) if use_defaults else {}
    for name, spec in (overrides or {}).items():
        if name not in valid:
            near = closest(name, valid, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise SearchSpaceError(
                f"{where}: unknown hyperparameter {name!r} for zoo model {entry_name!r}.{hint} "
                f"Hyperparameters must be arguments of {entry_name}() or fit arguments: {', '.join(valid)}."
            )
        merged[name] = spec
    params, fixed = [], {}
    for name, spec in merged.items():
        if isinstance(spec, dict):
            params.append(parse_param(name, spec, where))
        else:
            fixed[name] = spec
    return params, fixed
