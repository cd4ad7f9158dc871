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
