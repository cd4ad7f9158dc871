"""The zoo smoke test (build, one fit step, save, reload, same outputs) under torch and JAX.

Each backend runs in one subprocess over every registered model (conftest.zoo_backend_run; on JAX the same process
also runs tests/test_distribute.py's DataParallel checks); results are reported per model.
"""

import pytest

from conftest import zoo_backend_run
from keras_ae import zoo

BACKENDS = ("torch", "jax")


# Each backend's subprocess runs once per pytest run (once_per_run, also across xdist workers).
@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.xdist_group(f"backend-{b}")) for b in BACKENDS])
@pytest.mark.parametrize("name", zoo.list_models())
def test_smoke_on_backend(backend, name, request):
    rows, _, stderr = zoo_backend_run(backend, request.session)
    assert name in rows, f"no smoke result for {name} on {backend}; stderr:\n{stderr}"
    row = rows[name]
    assert row["backend"] == backend
    assert row["ok"], row.get("error")
    assert row["iterations"] >= 2
