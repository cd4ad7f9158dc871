"""The zoo smoke test (build, one fit step, save, reload, same outputs) under torch and JAX.

Each backend runs in one subprocess over every registered model; results are reported per model.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import once_per_run
from keras_ae import zoo

BACKENDS = ("torch", "jax")
_results = {}


def _run(backend):
    if backend not in _results:
        _results[backend] = once_per_run(f"smoke-{backend}", lambda: _smoke(backend))
    return _results[backend]


def _smoke(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-m", "keras_ae.testing", "smoke", *zoo.list_models()],
        capture_output=True, text=True, env=env, timeout=1800,
    )
    rows = {}
    for line in proc.stdout.splitlines():
        if line.startswith("SMOKE "):
            row = json.loads(line[len("SMOKE "):])
            rows[row["name"]] = row
    return [rows, proc.stderr[-3000:]]


# Each backend's subprocess runs once per pytest run (once_per_run, also across xdist workers).
@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.xdist_group(f"backend-{b}")) for b in BACKENDS])
@pytest.mark.parametrize("name", zoo.list_models())
def test_smoke_on_backend(backend, name):
    rows, stderr = _run(backend)
    assert name in rows, f"no smoke result for {name} on {backend}; stderr:\n{stderr}"
    row = rows[name]
    assert row["backend"] == backend
    assert row["ok"], row.get("error")
    assert row["iterations"] >= 2
