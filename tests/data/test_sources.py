import socket
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_ae import data
from keras_ae.data import sources

# The repository's MNIST sample (tests/fixtures/mnist): the first 1,000 images of the MNIST test set.
SAMPLE_SIZE = 1000
SAMPLE_COUNTS = [85, 126, 116, 107, 110, 87, 87, 99, 89, 94]
SAMPLE_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4]


def test_idx_folder_is_real_mnist(mnist_dir):
    x, y = data.load_numpy(f"idx:{mnist_dir}", "test")
    assert x.shape == (SAMPLE_SIZE, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == SAMPLE_COUNTS
    assert y[:20].tolist() == SAMPLE_FIRST_LABELS
    assert round(float(np.sum(x, dtype=np.float64)) * 255) == 24443134  # the sample's pixel sum (README)


def test_split_syntax_on_idx(mnist_dir):
    train, y_train = data.load_numpy(f"idx:{mnist_dir}", "test[:800]")
    test, _ = data.load_numpy(f"idx:{mnist_dir}", "test[800:]")
    assert len(train) == 800 and len(test) == 200
    half, _ = data.load_numpy(f"idx:{mnist_dir}", "test[:50%]")
    np.testing.assert_array_equal(half, train[:500])
    joined, y_joined = data.load_numpy(f"idx:{mnist_dir}", "test[:10]+test[-5:]")
    assert len(joined) == 15 and y_joined[:10].tolist() == SAMPLE_FIRST_LABELS[:10]
    last, _ = data.load_numpy(f"idx:{mnist_dir}", "test[-10%:]")
    np.testing.assert_array_equal(last, test[-100:])
    quarter, _ = data.load_numpy(f"idx:{mnist_dir}", "test[12.5%:25%]")
    np.testing.assert_array_equal(quarter, train[125:250])
    everything, _ = data.load_numpy(f"idx:{mnist_dir}", f"test[-{SAMPLE_SIZE}:{SAMPLE_SIZE}]")
    assert len(everything) == SAMPLE_SIZE


def test_load_idx_returns_a_batched_pipeline(mnist_dir):
    ds = data.load_idx(mnist_dir, split="test[:300]", batch_size=128, with_labels=True)
    x, y = next(iter(ds))
    assert x.shape == (128, 28, 28, 1) and x.dtype == tf.float32 and y.dtype == tf.int32
    assert sum(int(b[0].shape[0]) for b in ds) == 300
    first = [b.numpy() for b in data.load_idx(mnist_dir, "test[:64]", batch_size=64, shuffle=True, seed=1)]
    again = [b.numpy() for b in data.load_idx(mnist_dir, "test[:64]", batch_size=64, shuffle=True, seed=1)]
    np.testing.assert_array_equal(first[0], again[0])


def test_missing_train_files_suggest_a_split(mnist_dir):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*test\[:8000\]"):
        data.load_numpy(f"idx:{mnist_dir}", "train")


def test_digits():
    x, y = data.load_numpy("digits", "train")
    xt, _ = data.load_numpy("digits", "test")
    assert x.shape == (1440, 8, 8, 1) and len(xt) == 357
    assert x.min() == 0.0 and x.max() == 1.0 and set(np.unique(y)) == set(range(10))
    ds = data.load("digits", "test", batch_size=100)
    assert next(iter(ds)).shape == (100, 8, 8, 1)


def test_read_idx_rejects_other_files(tmp_path):
    p = tmp_path / "x.idx"
    p.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(str(p))
    p.write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"\x00\x01")
    with pytest.raises(ValueError, match="header says"):
        data.read_idx(str(p))


@pytest.mark.parametrize("split", ["", "train[a:b]", "train[:10", 5])
def test_bad_split_strings(split):
    with pytest.raises(ValueError, match="split"):
        data.parse_split(split)


def test_unknown_names_list_the_closest():
    with pytest.raises(ValueError, match="mnist"):
        data.load("mnsit")
    with pytest.raises(ValueError, match="'train'"):
        data.load_numpy("digits", "trian")
    with pytest.raises(ValueError, match="batch_size"):
        data.load("digits", batch_size=0)


def test_tfds_path_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=24):
        ds = data.load("mnist", split="train", batch_size=8, with_labels=True)
        x, y = next(iter(ds))
    assert x.shape == (8, 28, 28, 1) and x.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
    assert y.shape == (8,)


# ----- split bounds (as in tfds: percentages in [-100%, 100%], integers in [-n, n]) -------------------
@pytest.mark.parametrize(
    "split, message",
    [
        ("train[:150%]", r"'train\[:150%\]'.*150%.*\[-100%, 100%\]"),
        ("train[-101%:]", r"'train\[-101%:\]'.*-101%"),
        ("train[:1441]", r"'train\[:1441\]'.*1441.*holds 1440 examples"),
        ("train[-1441:]", r"'train\[-1441:\]'.*-1441"),
        ("test[:10]+test[:400]", r"'test\[:10\]\+test\[:400\]'.*400.*holds 357"),
        ("train[10:50%]", r"'train\[10:50%\]'.*mixes an integer and a percentage"),
    ],
)
def test_out_of_range_split_bounds_are_refused(split, message):
    with pytest.raises(ValueError, match=message):
        data.load_numpy("digits", split)


def test_split_bounds_at_the_limits():
    x, _ = data.load_numpy("digits", "train")
    for split, expected in [("train[:100%]", x), ("train[-100%:]", x), ("train[:1440]", x), ("train[-1440:]", x),
                            ("train[-10%:]", x[-144:]), ("train[1440:]+train[:2]", x[:2])]:
        np.testing.assert_array_equal(data.load_numpy("digits", split)[0], expected, err_msg=split)
    with pytest.raises(ValueError, match=r"'train\[1440:\]' selects no examples"):
        data.load_numpy("digits", "train[1440:]")


# ----- argument checks --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(name=None), "`name`"),
        (dict(name=5), "`name`"),
        (dict(name=""), "`name`"),
        (dict(name="idx:"), "`name` 'idx:'"),
        (dict(split=None), "`split`"),
        (dict(split=3), "`split`"),
        (dict(split="  "), "`split`"),
        (dict(batch_size=0), "`batch_size`"),
        (dict(batch_size=-4), "`batch_size`"),
        (dict(batch_size=1.5), "`batch_size`"),
        (dict(batch_size="64"), "`batch_size`"),
        (dict(batch_size=True), "`batch_size`"),
        (dict(with_labels="yes"), "`with_labels`"),
        (dict(with_labels=1), "`with_labels`"),
        (dict(shuffle="no"), "`shuffle`"),
        (dict(shuffle=0), "`shuffle`"),
        (dict(seed=-1), "`seed`"),
        (dict(seed=1.5), "`seed`"),
        (dict(seed="0"), "`seed`"),
        (dict(seed=True), "`seed`"),
        (dict(drop_remainder="x"), "`drop_remainder`"),
        (dict(data_dir=5), "`data_dir`"),
        (dict(data_dir=""), "`data_dir`"),
        (dict(data_dir="~/tensorflow_datasets"), r"`data_dir` is tfds' data folder and does not apply to 'digits'"),
    ],
)
def test_load_validates_every_argument(kwargs, argument):
    args = dict(name="digits", split="test")
    args.update(kwargs)
    with pytest.raises(ValueError, match=argument) as info:
        data.load(**args)
    received = next(iter(kwargs.values()))
    assert repr(received) in str(info.value) or f"{received!r}"[1:-1] in str(info.value)


def test_load_accepts_numpy_integers_and_no_seed():
    ds = data.load("digits", "test", batch_size=np.int64(100), seed=None, shuffle=np.bool_(True))
    assert next(iter(ds)).shape == (100, 8, 8, 1)
    assert len(list(data.load("digits", "test", batch_size=100, seed=np.int32(3)))) == 4


@pytest.mark.parametrize("folder", [None, 5, ""])
def test_load_idx_validates_the_folder(folder):
    with pytest.raises(ValueError, match=r"`folder` must be a path"):
        data.load_idx(folder)


def test_tfds_names_validate_data_dir(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(ValueError, match=r"`data_dir` must be a folder; .*a_file.* is a file"):
        data.load("mnist", data_dir=a_file)
    with pytest.raises(ValueError, match=r"`data_dir` must be a folder path .*received \[\]"):
        data.load_numpy("mnist", "train", data_dir=[])
    with pytest.raises(ValueError, match=r"`split` must be a string.*received None"):
        data.tfds_dataset("mnist", None)


# ----- tfds: an unavailable dataset fails fast, the download path stays tfds' own -------------------------
@pytest.fixture
def refusing_port():
    """A loopback port bound but not listening: a connection to it is refused at once (an offline host)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def listening_port():
    """A loopback port that accepts connections (a reachable download host)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


@pytest.fixture
def download_calls(monkeypatch):
    """Records every tfds download (``DatasetBuilder.download_and_prepare``), which fails as it would offline."""
    import tensorflow_datasets as tfds

    calls = []

    def download_and_prepare(builder, *args, **kwargs):
        calls.append(builder.name)
        raise ConnectionError("Failed to establish a new connection: [Errno 101] Network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)
    monkeypatch.delenv("KERAS_AE_DOWNLOAD_PROBE_TIMEOUT", raising=False)
    return calls


def test_unavailable_dataset_fails_within_seconds(monkeypatch, tmp_path, refusing_port, download_calls):
    monkeypatch.setattr(sources, "_download_hosts", lambda builder: [("127.0.0.1", refusing_port)])
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load("mnist", data_dir=tmp_path)
    elapsed = time.monotonic() - start
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert download_calls == []  # tfds' download (and its minutes of retries) never started
    message = str(info.value)
    assert f"127.0.0.1:{refusing_port}" in message and "refused" in message.lower()
    assert "'mnist'" in message and "data_dir" in message and "idx:" in message


def test_probe_gives_up_on_a_host_that_never_answers(monkeypatch, tmp_path, download_calls):
    """Name resolution has no timeout of its own: a probe that hangs is abandoned at the deadline."""
    release = threading.Event()

    def never_answers(*args, **kwargs):
        release.wait(60)
        raise OSError("released at the end of the test")

    monkeypatch.setattr(sources, "_download_hosts", lambda builder: [("download.invalid", 443)])
    monkeypatch.setattr(socket, "create_connection", never_answers)
    monkeypatch.setenv("KERAS_AE_DOWNLOAD_PROBE_TIMEOUT", "0.5")
    start = time.monotonic()
    try:
        with pytest.raises(data.DatasetUnavailableError, match=r"download\.invalid:443 \(no connection within 0\.5 s"):
            data.load_numpy("mnist", "test", data_dir=tmp_path)
    finally:
        release.set()
    assert time.monotonic() - start < 5 and download_calls == []


def test_reachable_host_gets_the_tfds_download(monkeypatch, tmp_path, listening_port, download_calls):
    monkeypatch.setattr(sources, "_download_hosts", lambda builder: [("127.0.0.1", listening_port)])
    with pytest.raises(data.DatasetUnavailableError, match=r"(?s)tfds could not provide 'mnist'.*data_dir.*idx:"):
        data.load("mnist", data_dir=tmp_path)
    assert download_calls == ["mnist"]


def test_probe_timeout_zero_skips_the_probe(monkeypatch, tmp_path, refusing_port, download_calls):
    monkeypatch.setattr(sources, "_download_hosts", lambda builder: [("127.0.0.1", refusing_port)])
    monkeypatch.setenv("KERAS_AE_DOWNLOAD_PROBE_TIMEOUT", "0")
    with pytest.raises(data.DatasetUnavailableError, match="tfds could not provide"):
        data.load("mnist", data_dir=tmp_path)
    assert download_calls == ["mnist"]
    monkeypatch.setenv("KERAS_AE_DOWNLOAD_PROBE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=r"KERAS_AE_DOWNLOAD_PROBE_TIMEOUT .*received 'soon'"):
        data.load("mnist", data_dir=tmp_path)


def test_download_hosts_follow_the_dataset_and_the_proxy(monkeypatch, tmp_path):
    import tensorflow_datasets as tfds

    for var in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    builder = tfds.builder("mnist", data_dir=str(tmp_path))
    assert sources._download_hosts(builder) == [("storage.googleapis.com", 443)]
    assert sources._download_hosts(tfds.builder("fashion_mnist", data_dir=str(tmp_path))) == [
        ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80)
    ]
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert sources._download_hosts(builder) == [("proxy.example", 3128)]
    monkeypatch.setenv("no_proxy", "storage.googleapis.com")
    assert sources._download_hosts(builder) == [("storage.googleapis.com", 443)]
