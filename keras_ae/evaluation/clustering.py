"""Deep clustering: k-means in an autoencoder's latent space, scored by Hungarian-matched accuracy and NMI."""

__all__ = ["cluster_accuracy", "kmeans_clustering", "latent_clustering", "pca_clustering"]

import numpy as np

from keras_ae.errors import InvalidDataError, check_positive_int


def _check_labels(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise InvalidDataError(f"y_true and y_pred must have the same length; received {len(y_true)} and "
                               f"{len(y_pred)}.")
    if y_true.size == 0:
        raise InvalidDataError("Cannot score an empty clustering (0 examples).")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise InvalidDataError(f"`{name}` must hold non-negative integer labels; received dtype {y.dtype}.")
    return y_true.astype("int64"), y_pred.astype("int64")


def cluster_accuracy(y_true, y_pred):
    """Accuracy under the best one-to-one map from clusters to classes (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment

    y_true, y_pred = _check_labels(y_true, y_pred)
    n = int(max(y_true.max(), y_pred.max())) + 1
    counts = np.zeros((n, n), dtype="int64")
    np.add.at(counts, (y_pred, y_true), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(y_true))


def _scores(y, pred):
    from sklearn.metrics import normalized_mutual_info_score

    return {"accuracy": cluster_accuracy(y, pred), "nmi": float(normalized_mutual_info_score(y, pred))}


def kmeans_clustering(train_codes, test_codes, y_test, n_clusters=10, seed=0, standardize=True, n_init=10):
    """Fit k-means on ``train_codes``, assign ``test_codes``, score against ``y_test``.

    ``standardize`` rescales every code unit by the training mean and standard deviation first.
    Returns ``{"accuracy", "nmi", "assignments"}``.
    """
    from sklearn.cluster import KMeans

    n_clusters = check_positive_int("n_clusters", n_clusters, minimum=2)
    train_codes = np.asarray(train_codes, dtype="float64").reshape(len(train_codes), -1)
    test_codes = np.asarray(test_codes, dtype="float64").reshape(len(test_codes), -1)
    if not (np.isfinite(train_codes).all() and np.isfinite(test_codes).all()):
        raise InvalidDataError("The codes contain NaN or inf values; cannot cluster them.")
    if standardize:
        mean, std = train_codes.mean(0), train_codes.std(0) + 1e-8
        train_codes, test_codes = (train_codes - mean) / std, (test_codes - mean) / std
    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(train_codes)
    pred = km.predict(test_codes)
    return dict(_scores(y_test, pred), assignments=pred)


def latent_clustering(model, x_train, x_test, y_test, n_clusters=10, seed=0, standardize=True, n_init=10):
    """k-means on ``model.encode`` codes (fit on train, scored on test)."""
    return kmeans_clustering(model.encode(x_train), model.encode(x_test), y_test, n_clusters, seed, standardize,
                             n_init)


def pca_clustering(x_train, x_test, y_test, n_components, n_clusters=10, seed=0, standardize=True, n_init=10):
    """The baseline: k-means on PCA codes of ``n_components`` dimensions (PCA fit on train)."""
    from sklearn.decomposition import PCA

    n_components = check_positive_int("n_components", n_components)
    flat_train = np.asarray(x_train).reshape(len(x_train), -1)
    pca = PCA(n_components=n_components, random_state=seed).fit(flat_train)
    return kmeans_clustering(pca.transform(flat_train), pca.transform(np.asarray(x_test).reshape(len(x_test), -1)),
                             y_test, n_clusters, seed, standardize, n_init)
