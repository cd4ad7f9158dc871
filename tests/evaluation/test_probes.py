import numpy as np
import pytest

from keras_ae.evaluation.probes import labels_per_class, linear_probe, semi_supervised_probe


def test_labels_per_class_takes_n_of_each_class_reproducibly():
    y = np.repeat(np.arange(4), 30)
    idx = labels_per_class(y, 5, seed=1)
    assert len(idx) == 20 and (np.bincount(y[idx]) == 5).all()
    np.testing.assert_array_equal(idx, labels_per_class(y, 5, seed=1))
    with pytest.raises(ValueError, match="only 30 examples"):
        labels_per_class(y, 31)


def test_linear_probe_separable_vs_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    informative = np.c_[y + 0.1 * rng.standard_normal(400), rng.standard_normal(400)]
    noise = rng.standard_normal((400, 2))
    assert linear_probe(informative[:200], y[:200], informative[200:], y[200:]) > 0.95
    assert linear_probe(noise[:200], y[:200], noise[200:], y[200:]) < 0.7
    with pytest.raises(ValueError, match="differ in length"):
        linear_probe(noise[:10], y[:9], noise[:5], y[:5])


def test_semi_supervised_probe_on_digits():
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    d = load_digits()
    x, y = (d.images / 16.0)[..., None], d.target
    pca = PCA(16, random_state=0).fit(x[:1400].reshape(1400, -1))
    rows = semi_supervised_probe(lambda a: pca.transform(a.reshape(len(a), -1)), x[:1400], y[:1400], x[1400:],
                                 y[1400:], n_per_class=(5, 50), seed=0)
    assert [r["labels_per_class"] for r in rows] == [5, 50]
    for r in rows:
        assert 0.5 < r["codes_accuracy"] <= 1 and 0.5 < r["pixels_accuracy"] <= 1
    assert rows[1]["pixels_accuracy"] > rows[0]["pixels_accuracy"]
