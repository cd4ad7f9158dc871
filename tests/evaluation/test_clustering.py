import numpy as np
import pytest

from keras_ae.evaluation.clustering import cluster_accuracy, kmeans_clustering, pca_clustering


def test_cluster_accuracy_is_invariant_to_relabeling():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    perm = np.array([2, 0, 1])[y]
    assert cluster_accuracy(y, perm) == 1.0
    # one mistake out of 7 under the best matching
    pred = perm.copy()
    pred[0] = perm[2]
    assert abs(cluster_accuracy(y, pred) - 6 / 7) < 1e-12


def test_cluster_accuracy_with_more_clusters_than_classes():
    y = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 3, 1, 1, 1])
    assert abs(cluster_accuracy(y, pred) - 5 / 6) < 1e-12


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 0, 0], [5, 5, 0], [0, 5, 5]], float)
    return centers[y] + 0.3 * rng.standard_normal((n, 3)), y


def test_kmeans_recovers_separated_blobs_and_scores_nmi():
    a, _ = _blobs(300, 0)
    b, yb = _blobs(200, 1)
    out = kmeans_clustering(a, b, yb, n_clusters=3, seed=0)
    assert out["accuracy"] > 0.99 and out["nmi"] > 0.95
    assert out["assignments"].shape == (200,)


def test_pca_clustering_beats_chance_on_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.images / 16.0, d.target
    out = pca_clustering(x[:1400], x[1400:], y[1400:], n_components=10, n_clusters=10, seed=0, n_init=2)
    assert out["accuracy"] > 0.4 and out["nmi"] > 0.4


def test_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        cluster_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="integer"):
        cluster_accuracy([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        kmeans_clustering(np.full((4, 2), np.nan), np.zeros((2, 2)), [0, 1], n_clusters=2)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_clustering(np.zeros((4, 2)), np.zeros((2, 2)), [0, 1], n_clusters=1)
