import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# JAX in this suite (the backend subprocesses: smoke, layer harness, DataParallel checks) is compile-bound, not
# compute-bound: tiny models, and every new shape compiles its ops on first eager use. One persistent compilation cache
# for the whole run, inherited by every subprocess the tests start (they copy os.environ), lets a program compiled once
# (a reloaded model's train step is its original's; the same initializer and eager ops recur across models) be loaded
# instead of compiled again: the JAX smoke of unet, conv_vae, dcgan and realnvp_image took 143 CPU s without it and 123
# with it. The executable loaded is the one compiled, so nothing computed changes. (XLA's lowest backend optimization
# level, which the JAX layer harness uses, would save more but is not safe for every program: under it unet's training
# step gives NaN (jax 0.10.2 on this CPU), while levels 1-3 give finite results.)
# The controller makes the folder and removes it at its end.
_JAX_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ and "PYTEST_XDIST_WORKER" not in os.environ:
    import tempfile

    _JAX_CACHE = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="keras_ae_pytest_jax_cache_")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


def with_xla_flags(*flags):
    """The suite's ``XLA_FLAGS`` with ``flags`` added (for a subprocess that needs more, such as forced devices)."""
    return " ".join([os.environ.get("XLA_FLAGS", ""), *flags]).strip()


ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT / "tests" / "fixtures" / "mnist"


def pytest_configure(config):
    """``--dist loadgroup`` must keep each ``xdist_group`` on one worker: the zoo's distribution checks and the backend
    smoke and layer-harness tests batch many models into one subprocess per group. With pytest 9, pytest-xdist 3.8's
    group suffix on the node id no longer takes (pytest 9 keeps node ids in ``Node._id``), so the groups were spread
    over the workers and each worker ran the group's subprocess again or waited for the other's: about 650
    worker-seconds of this suite. setup.cfg pins pytest < 9 until an xdist release supports it."""
    if config.getoption("dist", default="no") == "loadgroup" and int(pytest.__version__.split(".")[0]) >= 9:
        raise pytest.UsageError(f"pytest {pytest.__version__} breaks pytest-xdist's --dist loadgroup (groups are split "
                                "over workers): install the test extra (pip install -e '.[test]'), which pins pytest < 9.")


def pytest_unconfigure(config):
    if _JAX_CACHE:
        import shutil

        shutil.rmtree(_JAX_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def mnist_dir():
    """A real-MNIST IDX folder kept in the repository: the first 1,000 images of the MNIST test set
    (``t10k-*``; see tests/fixtures/mnist/README.md for the source, licence and how it was made)."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.fail(f"The MNIST sample is missing from the repository: expected IDX files in {MNIST_DIR}.")
    return str(MNIST_DIR)


def once_per_run(key, compute):
    """``compute()`` (a JSON-able result) once per pytest run, even across pytest-xdist workers.

    ``--dist loadgroup`` does not keep a stacked-parametrized ``xdist_group`` on one worker (measured: 7 of a group's 8
    tests on one worker, 1 on the other), so the batched subprocesses of the backend smoke and layer-harness tests ran
    twice, once per worker. With xdist the first worker to ask computes under a file lock and writes the result (to a
    temporary name, then renamed) in a folder shared by the run's workers; the other reads it."""
    import fcntl
    import json
    import os
    import tempfile

    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not uid:
        return compute()
    folder = os.path.join(tempfile.gettempdir(), f"keras_ae_pytest_{uid}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{key}.json")
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        result = compute()
        with open(path + ".tmp", "w") as f:
            json.dump(result, f)
        os.replace(path + ".tmp", path)
        return result


_BACKEND_RUNS = {}


def _selected(session, function, **params):
    """The zoo model names of ``function``'s tests that this session runs, with the given parameters."""
    return sorted({item.callspec.params["name"] for item in session.items
                   if getattr(item, "originalname", "") == function
                   and all(item.callspec.params.get(k) == v for k, v in params.items())})


def zoo_backend_run(backend, session):
    """The zoo's checks on another backend, in one subprocess per pytest run (``once_per_run``): the smoke test
    (``python -m keras_ae.testing smoke``) of the models whose ``test_smoke_on_backend`` this session runs, and on JAX
    also the ``DataParallel`` check over 2 forced host devices of those whose ``test_zoo_model_matches_one_device``
    runs, each model's right after its smoke test (one JAX process compiles their common initializers and eager ops
    once). Returns ``[smoke rows, distributed rows, stderr tail]``, rows keyed by model name. Both tests are in the
    ``xdist_group`` ``backend-<backend>``, so one worker runs the subprocess and the other never waits for it."""
    if backend not in _BACKEND_RUNS:
        import json
        import subprocess
        import sys

        smoke = _selected(session, "test_smoke_on_backend", backend=backend)
        parallel = _selected(session, "test_zoo_model_matches_one_device", setup="jax-data-parallel") \
            if backend == "jax" else []
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
        args = [sys.executable, "-m", "keras_ae.testing", "smoke"]
        if parallel:
            env["XLA_FLAGS"] = with_xla_flags("--xla_force_host_platform_device_count=2")
            args += ["--data-parallel", ",".join(parallel)]

        def run():
            if not smoke and not parallel:
                return [{}, {}, ""]
            proc = subprocess.run(args + smoke, capture_output=True, text=True, env=env,
                                  timeout=3600)
            rows = {"SMOKE ": {}, "DISTRIBUTED ": {}}
            for line in proc.stdout.splitlines():
                for prefix, found in rows.items():
                    if line.startswith(prefix):
                        row = json.loads(line[len(prefix):])
                        found[row["name"]] = row
            return [rows["SMOKE "], rows["DISTRIBUTED "], proc.stderr[-3000:]]

        _BACKEND_RUNS[backend] = once_per_run(f"backend-{backend}", run)
    return _BACKEND_RUNS[backend]
