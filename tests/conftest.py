import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
