"""Linear probes of learned codes, and the semi-supervised setting with only N labels per class."""

__all__ = ["linear_probe", "labels_per_class", "semi_supervised_probe"]

import numpy as np

from keras_ae.errors import InvalidDataError, check_positive_int


def linear_probe(train_features, y_train, test_features, y_test, standardize=True, max_iter=2000, C=1.0):
    """Test accuracy of a multinomial logistic regression fit on ``train_features``."""
    from sklearn.linear_model import LogisticRegression

    a = np.asarray(train_features, dtype="float64").reshape(len(train_features), -1)
    b = np.asarray(test_features, dtype="float64").reshape(len(test_features), -1)
    if len(a) != len(y_train) or len(b) != len(y_test):
        raise InvalidDataError(f"Features and labels differ in length: train {len(a)} vs {len(y_train)}, "
                               f"test {len(b)} vs {len(y_test)}.")
    if len(np.unique(y_train)) < 2:
        raise InvalidDataError("A linear probe needs training labels of at least 2 classes.")
    if standardize:
        mean, std = a.mean(0), a.std(0) + 1e-8
        a, b = (a - mean) / std, (b - mean) / std
    clf = LogisticRegression(max_iter=max_iter, C=C).fit(a, y_train)
    return float(np.mean(clf.predict(b) == np.asarray(y_test)))


def labels_per_class(y, n, seed=0):
    """Indices of ``n`` examples of each class of ``y`` (random, fixed by ``seed``)."""
    n = check_positive_int("n", n)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < n:
            raise InvalidDataError(f"Class {c} has only {len(idx)} examples; cannot take {n} labels per class.")
        out.append(rng.choice(idx, n, replace=False))
    return np.sort(np.concatenate(out))


def semi_supervised_probe(encode, x_train, y_train, x_test, y_test, n_per_class=(10, 100), seed=0, C=1.0):
    """Linear-probe accuracy on codes (``encode(x)``) versus on raw pixels, with N labels per class.

    Returns ``[{"labels_per_class", "codes_accuracy", "pixels_accuracy"}, ...]``.
    """
    codes_train, codes_test = encode(x_train), encode(x_test)
    flat_train, flat_test = np.reshape(x_train, (len(x_train), -1)), np.reshape(x_test, (len(x_test), -1))
    rows = []
    for n in n_per_class:
        idx = labels_per_class(y_train, n, seed)
        rows.append(dict(
            labels_per_class=int(n),
            codes_accuracy=linear_probe(codes_train[idx], y_train[idx], codes_test, y_test, C=C),
            pixels_accuracy=linear_probe(flat_train[idx], y_train[idx], flat_test, y_test, standardize=False, C=C),
        ))
    return rows
