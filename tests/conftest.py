import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT / "tests" / "fixtures" / "mnist"


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
