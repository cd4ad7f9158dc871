"""Keras' own layer test harness over every public layer class of ``keras_ae.layers``, on TensorFlow, torch and JAX.

``TestCase.run_layer_test`` (what Keras runs on its built-in layers) checks: the config and serialization round
trips, building, a symbolic call, an eager call, one compiled training step and the mixed-precision check (the
output dtypes the layer declares under ``mixed_float16`` equal the ones it returns; every float weight float32).
Beside the harness, this file checks that a symbolic call declares the output structure, shapes and dtypes the
eager call returns (the harness compares only the shapes it is given, and zips the mixed-precision outputs without
checking their number): in float32 on every backend, and under ``mixed_bfloat16`` on torch, where Keras skips its
mixed-precision check (torch without CUDA).

Classes are discovered from the package, so a newly exported layer fails here until it has a row in ``CASES``.
The backend pytest runs under is tested in this process; each other backend runs in one subprocess (this file
run as a script) over every class, once per pytest run (``conftest.once_per_run``), also under pytest-xdist.
Importing Keras' private testing module is acceptable in tests only (never in keras_ae/).
"""

import inspect
import json
import os
import subprocess
import sys
import traceback

import keras
import numpy as np
import pytest

import keras_ae.layers

BACKENDS = ("tensorflow", "torch", "jax")


def _coupling(**kwargs):
    """The config of an inner flow layer (FactorOut's ``flows``): a config, so each harness instance builds its own."""
    return keras.saving.serialize_keras_object(keras_ae.layers.AffineCoupling(**kwargs))


def _unit_interval(shape, low=0.05, high=0.95, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


def _unpool_inputs():
    """Values (2, 2, 2, 3) and valid positions: each a pixel of its own 2x2 window in a (4, 4) input map."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((2, 2, 2, 3)).astype("float32")
    rows = 2 * np.arange(2)[None, :, None, None] + rng.integers(0, 2, (2, 2, 2, 3))
    cols = 2 * np.arange(2)[None, None, :, None] + rng.integers(0, 2, (2, 2, 2, 3))
    return values, (rows * 4 + cols).astype("int32")


# One or more cases per exported class. Keys: init (constructor kwargs, or a callable returning them, called each
# time so that inner layers are fresh), shape (input shape; several inputs are a tuple of shapes, as tf.data, which
# the harness' training step uses, refuses a list) or data (a callable returning numpy inputs), call (call kwargs),
# out (expected output shapes), losses (expected number of `add_loss` terms), off ({harness check turned off: the
# reason}), abstract (the reason no call is possible: serialization only). Layers drawing random numbers
# (corruptions with always=True, GaussianSampling in training, the quantizer's dead-code reset) need no check
# turned off: the harness compares no output values unless it is given expected outputs, and none are given.
CASES = {
    "ActNorm": [dict(init={}, shape=(2, 3, 3, 2), out=((2, 3, 3, 2), (2,)))],
    "ActivityL1": [dict(init={"l1": 1e-3}, shape=(2, 5), out=(2, 5), losses=1)],
    "AffineCoupling": [
        dict(init={"mask": "half", "hidden": (8,)}, shape=(2, 4), out=((2, 4), (2,))),
        dict(init={"mask": "checkerboard", "hidden": (4,)}, shape=(2, 4, 4, 2), out=((2, 4, 4, 2), (2,))),
    ],
    "AutoregressiveLayer": [dict(init={}, abstract="abstract base class: its subclasses define the transform of the "
                                                   "MADE's output, so only its config round trip can run")],
    "BlockMask": [dict(init={"size": 2, "always": True, "seed": 0}, shape=(2, 4, 4, 1), out=(2, 4, 4, 1))],
    "CouplingLayer": [dict(init={}, abstract="abstract base class: its subclasses define the transform of the "
                                             "conditioner's output, so only its config round trip can run")],
    "Corruption": [dict(init={}, shape=(2, 3), out=(2, 3),
                        off={"run_training_check": "abstract base class: corrupt(), which a training call runs, "
                                                  "is implemented by the subclasses (tested on their own)"})],
    "FactorOut": [dict(init=lambda: {"flows": [_coupling(mask="checkerboard", hidden=(4,))]}, shape=(2, 4, 4, 2),
                       out=((2, 32), (2,)))],
    "FlowLayer": [dict(init={}, abstract="abstract base class: inverse() and forward() are implemented by the "
                                         "subclasses, so only its config round trip can run")],
    "GatedPixelCNNBlock": [dict(init={"filters": 4}, shape=((2, 5, 5, 4), (2, 5, 5, 4)),
                                out=((2, 5, 5, 4), (2, 5, 5, 4)))],
    "GaussianBlur": [dict(init={"sigma": 1.0, "always": True}, shape=(2, 6, 6, 2), out=(2, 6, 6, 2))],
    "GaussianNoise": [dict(init={"sigma": 0.1, "always": True, "seed": 0}, shape=(2, 5), out=(2, 5))],
    "GaussianSampling": [dict(init={"seed": 0}, shape=((2, 3), (2, 3)), out=(2, 3), losses=1)],
    "InverseAutoregressive": [dict(init={"hidden": (8,)}, shape=(2, 3), out=((2, 3), (2,)))],
    "InvertibleLinear": [
        dict(init={"seed": 0}, shape=(2, 4), out=((2, 4), (2,))),
        dict(init={"seed": 1}, shape=(2, 3, 3, 4), out=((2, 3, 3, 4), (2,))),
    ],
    "InvertibleResidualBlock": [
        dict(init={"hidden": (8,), "n_terms": 3, "seed": 0}, shape=(2, 3), out=((2, 3), (2,))),
        dict(init={"hidden": (8,), "estimator": "exact", "explicit": "forward", "seed": 0}, shape=(2, 2),
             out=((2, 2), (2,))),
    ],
    "KLSparsity": [dict(init={"rho": 0.1}, data=lambda: _unit_interval((2, 5)), out=(2, 5), losses=1)],
    "KSparse": [dict(init={"k": 2}, shape=(2, 5), out=(2, 5))],
    "LabelToImage": [dict(init={"height": 4, "width": 4, "channels": 2}, shape=(2, 3), out=(2, 4, 4, 2))],
    "LeakyReLUFlow": [dict(init={"negative_slope": 0.2}, data=lambda: _unit_interval((2, 4), -1.0, 1.0),
                           out=((2, 4), (2,)))],
    "MaskedAutoregressive": [dict(init={"hidden": (8,)}, shape=(2, 3), out=((2, 3), (2,)))],
    "MaskedAutoregressiveSpline": [dict(init={"hidden": (8,), "bins": 4}, shape=(2, 3), out=((2, 3), (2,)))],
    "MaskedConv2D": [dict(init={"filters": 3, "kernel_size": 3, "mask_type": "A"}, shape=(2, 5, 5, 2),
                          out=(2, 5, 5, 3))],
    "MaxPoolingWithArgmax": [dict(init={"pool_size": 2}, shape=(2, 4, 4, 3), out=((2, 2, 2, 3), (2, 2, 2, 3)))],
    "MaxUnpooling": [dict(init={"pool_size": 2}, data=_unpool_inputs, out=(2, 4, 4, 3))],
    "Padding2D": [
        dict(init={"pad": 1, "mode": "reflect"}, shape=(2, 4, 4, 2), out=(2, 6, 6, 2)),
        dict(init={"pad": ((1, 0), (0, 2)), "mode": "circular"}, shape=(2, 4, 4, 2), out=(2, 5, 6, 2)),
    ],
    "Permute": [dict(init={"order": "random", "seed": 0}, shape=(2, 5), out=((2, 5), (2,)))],
    "PixelRemoval": [dict(init={"rate": 0.5, "always": True, "seed": 0}, shape=(2, 4, 4, 1), out=(2, 4, 4, 1))],
    "PlanarFlow": [dict(init={}, shape=(2, 3), out=((2, 3), (2,)))],
    "ProbeNoise": [dict(init={"seed": 0}, shape=(2, 3), out=(2, 3))],
    "RadialFlow": [dict(init={}, shape=(2, 3), out=((2, 3), (2,)))],
    "SigmoidFlow": [dict(init={}, data=lambda: _unit_interval((2, 4)), out=((2, 4), (2,)))],
    "SpectralNormDense": [dict(init={"units": 3, "lipschitz": 0.9}, shape=(2, 4), out=(2, 3))],
    "SplineCoupling": [
        dict(init={"mask": "half", "hidden": (8,), "bins": 4}, shape=(2, 4), out=((2, 4), (2,))),
        dict(init={"mask": "checkerboard", "hidden": (4,), "bins": 4}, shape=(2, 4, 4, 2), out=((2, 4, 4, 2), (2,))),
    ],
    "Squeeze": [dict(init={}, shape=(2, 4, 4, 1), out=((2, 2, 2, 4), (2,)))],
    "SyncBatchNormalization": [dict(init={"momentum": 0.9}, shape=(2, 4, 4, 3), out=(2, 4, 4, 3))],
    "VectorQuantizer": [
        dict(init={"num_embeddings": 4, "embedding_dim": 3, "ema": True, "dead_code_threshold": 0.5, "seed": 0},
             shape=(2, 2, 2, 3), out=(2, 2, 2, 3), losses=1),
        dict(init={"num_embeddings": 4, "embedding_dim": 3, "seed": 0}, shape=(2, 2, 2, 3),
             call={"return_indices": True}, out=((2, 2, 2, 3), (2, 2, 2)), losses=1,
             off={"run_training_check": "the harness's training model calls the layer without call kwargs, so it "
                                       "would return z alone against (z, indices) targets; the first case trains"}),
    ],
    "WeightNormalization": [dict(init=lambda: {"layer": keras.layers.Dense(3)}, shape=(2, 4), out=(2, 3))],
}


def layer_classes():
    """Every public ``keras.layers.Layer`` subclass exported by ``keras_ae.layers``, by name."""
    return {
        name: obj for name, obj in sorted(vars(keras_ae.layers).items())
        if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
        and obj.__module__.startswith("keras_ae.")
    }


# ----- running the checks (in this process, or in a subprocess per backend) ----------------------------------
def _inputs(case):
    """Eager inputs (backend tensors) of a case: its data, or the harness' own kind of draw for a shape."""
    if "data" in case:
        return keras.tree.map_structure(keras.ops.convert_to_tensor, case["data"]())
    rng = np.random.default_rng(0)
    shapes = case["shape"]
    if isinstance(shapes[0], tuple):
        return tuple(keras.ops.convert_to_tensor(3 * rng.random(s).astype("float32")) for s in shapes)
    return keras.ops.convert_to_tensor(3 * rng.random(shapes).astype("float32"))


def _symbolic(inputs):
    return keras.tree.map_structure(
        lambda t: keras.KerasTensor(tuple(t.shape), dtype=keras.backend.standardize_dtype(t.dtype)), inputs)


def _describe(outputs):
    """The structure of ``outputs`` with each tensor replaced by ``(shape, dtype)``."""
    return keras.tree.map_structure(
        lambda t: (tuple(t.shape), keras.backend.standardize_dtype(t.dtype)), outputs)


def _check_declared_outputs(cls, case, inputs, dtype=None):
    """The symbolic call declares what the eager call returns: structure, shapes and dtypes."""
    init = dict(_init(case), **({"dtype": dtype} if dtype else {}))
    call = case.get("call", {})
    declared = _describe(cls(**init)(_symbolic(inputs), **call))
    returned = _describe(cls(**init)(inputs, **call))
    if declared != returned:
        raise AssertionError(f"{cls.__name__}(dtype={dtype!r}): a symbolic call declares {declared}, "
                             f"an eager call returns {returned}")


def _init(case):
    init = case["init"]
    return dict(init() if callable(init) else init)


def run_case(cls, case):
    """Run Keras' harness and the declared-output check on one case; raises on a failure."""
    from keras.src.testing import TestCase  # private Keras module: acceptable in tests only

    class Harness(TestCase):
        def runTest(self):  # pragma: no cover - never run; unittest needs a test method to instantiate
            pass

    harness = Harness()
    if "abstract" in case:
        harness.run_layer_test(cls, _init(case))
        return
    off = {check: False for check in case.get("off", {})}
    kwargs = dict(init_kwargs=_init(case), call_kwargs=case.get("call"), expected_output_shape=case.get("out"),
                  expected_num_losses=case.get("losses"), **off)
    if "data" in case:
        kwargs["input_data"] = _inputs(case)
    else:
        kwargs["input_shape"] = case["shape"]
    harness.run_layer_test(cls, **kwargs)
    inputs = _inputs(case)
    _check_declared_outputs(cls, case, inputs)
    if keras.backend.backend() == "torch":  # where Keras skips its mixed-precision check (no CUDA)
        _check_declared_outputs(cls, case, inputs, dtype="mixed_bfloat16")


def run_class(name, cls):
    """Every case of one class; returns a result row (``ok``, and the first error with its traceback)."""
    row = {"name": name, "backend": keras.backend.backend(), "ok": True, "cases": 0}
    if name not in CASES:
        return dict(row, ok=False, error=f"{name} is exported by keras_ae.layers but has no row in CASES "
                                         f"(tests/layers/test_keras_harness.py): add init kwargs and an input shape.")
    for i, case in enumerate(CASES[name]):
        try:
            run_case(cls, case)
            row["cases"] += 1
        except Exception as e:  # noqa: BLE001 - reported with its traceback
            tb = traceback.format_exc(limit=-6)
            return dict(row, ok=False, error=f"case {i}: {type(e).__name__}: {e}\n{tb}")
    return row


def run_all():
    return {name: run_class(name, cls) for name, cls in layer_classes().items()}


_results = {}


def _results_on(backend):
    if backend not in _results:
        if backend == keras.backend.backend():
            _results[backend] = (run_all(), "")
        else:
            from conftest import once_per_run  # here: this file also runs as a script, without the tests folder

            _results[backend] = once_per_run(f"harness-{backend}", lambda: _subprocess_results(backend))
    return _results[backend]


def _subprocess_results(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    if backend == "jax":
        # The harness is compile-bound on JAX (every new weight shape compiles its random initializer,
        # every op compiles on first eager use), not compute-bound: XLA's lowest backend optimization
        # level cut this subprocess from 69 to 42 CPU seconds. It changes no semantics checked here.
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)], capture_output=True, text=True,
                          env=env, timeout=1200)
    rows = {}
    for line in proc.stdout.splitlines():
        if line.startswith("HARNESS "):
            row = json.loads(line[len("HARNESS "):])
            rows[row["name"]] = row
    return [rows, proc.stderr[-3000:]]


def test_every_case_names_an_exported_class():
    """A row left behind by a renamed or removed layer is an error, not silently skipped."""
    stale = sorted(set(CASES) - set(layer_classes()))
    assert not stale, f"CASES has rows for classes keras_ae.layers does not export: {stale}"


# Each other backend's subprocess runs once per pytest run (conftest.once_per_run, also across xdist workers).
@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.xdist_group(f"harness-{b}")) for b in BACKENDS])
@pytest.mark.parametrize("name", sorted(layer_classes()))
def test_keras_layer_harness(backend, name):
    rows, stderr = _results_on(backend)
    assert name in rows, f"no harness result for {name} on {backend}; stderr:\n{stderr}"
    row = rows[name]
    assert row["backend"] == backend
    assert row["ok"], row.get("error")
    assert row["cases"] == len(CASES[name])


if __name__ == "__main__":
    for row in run_all().values():
        print("HARNESS " + json.dumps(row), flush=True)
