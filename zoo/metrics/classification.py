"""Accuracy of anything that classifies, batched over a dataset."""

from __future__ import annotations

import numpy as np


def accuracy(model, x, y=None, batch_size=500):
    """Fraction of `x` that `model.classify` assigns to its label `y`.

    `x` may be an array (with `y`) or a finite dataset of `(x, y)` batches
    (e.g. `data.test()`).
    """
    if y is None:
        correct = total = 0
        for xb, yb in x:
            predictions = model.classify(np.asarray(xb), batch_size=batch_size).argmax(-1)
            correct += int((predictions == np.asarray(yb)).sum())
            total += len(predictions)
        if total == 0:
            raise ValueError("accuracy of an empty dataset")
        return correct / total
    y = np.asarray(y)
    if len(y) != len(x) or len(y) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length; got {len(x)} and {len(y)}")
    return float((model.classify(x, batch_size=batch_size).argmax(-1) == y).mean())


def error_rate(model, x, y=None, batch_size=500):
    """1 - accuracy."""
    return 1.0 - accuracy(model, x, y, batch_size)


def cluster_accuracy(assignments, labels):
    """Accuracy of cluster `assignments` against `labels` under the best one-to-one matching of clusters to
    classes (the Hungarian algorithm on their confusion matrix): the protocol of unsupervised clustering
    and of InfoGAN's "categorical code as a classifier" (Chen et al. 2016, Sec. 7.1: 5 % error on MNIST).
    With more clusters than classes, the unmatched clusters count as errors."""
    from scipy.optimize import linear_sum_assignment  # scipy: scikit-learn's own dependency

    assignments, labels = np.asarray(assignments).astype(int), np.asarray(labels).astype(int)
    if assignments.shape != labels.shape or assignments.ndim != 1 or len(labels) == 0:
        raise ValueError(f"assignments and labels must be equal-length 1-D arrays; got {assignments.shape} and "
                         f"{labels.shape}")
    if assignments.min() < 0 or labels.min() < 0:
        raise ValueError("assignments and labels must be non-negative integers")
    confusion = np.zeros((assignments.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(confusion, (assignments, labels), 1)
    rows, columns = linear_sum_assignment(confusion, maximize=True)
    return float(confusion[rows, columns].sum() / len(labels))


def linear_probe(model, data, head="svm", c=1.0, standardize=True):
    """Test accuracy of a linear classifier on `model.encode` features of the labelled examples.

    The protocol of the feature-learning papers: BiGAN (Donahue et al. 2016,
    Sec. 4.1) and ALI (Dumoulin et al. 2016, Sec. 4.2, an L2-SVM on the
    encoder's features) train a linear classifier on the learned
    representation of the labelled set and report its test error; M1 (Kingma
    et al. 2014) does the same with a TSVM.

    Args:
        model: anything with `encode` (bigan, ali, aae, vae, m1, ...).
        data: a `zoo.data` SSLData: its labelled examples train the probe,
            its test split scores it.
        head: "svm" (one-vs-rest linear L2-SVM, scikit-learn's LinearSVC, as
            ALI) or "logistic" (multinomial logistic regression).
        c: inverse regularisation strength of the head.
        standardize: scale each feature to zero mean and unit variance on
            the labelled set first.

    Returns:
        dict: accuracy, error, head, feature_dim, num_labeled.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    if head not in ("svm", "logistic"):
        raise ValueError(f"head must be 'svm' or 'logistic'; got {head!r}")
    x_labeled, y_labeled = data.labeled()
    y_labeled = np.asarray(y_labeled).astype("int64")
    if len(np.unique(y_labeled)) < 2:
        raise ValueError("a linear probe needs labelled examples of at least two classes")
    train = np.asarray(model.encode(x_labeled)).reshape(len(x_labeled), -1)
    test = np.asarray(model.encode(data.x_test)).reshape(len(data.x_test), -1)
    classifier = LinearSVC(C=c, max_iter=20000) if head == "svm" else LogisticRegression(C=c, max_iter=5000)
    probe = make_pipeline(StandardScaler(), classifier) if standardize else classifier
    probe.fit(train, y_labeled)
    accuracy_ = float((probe.predict(test) == np.asarray(data.y_test)).mean())
    return {"accuracy": accuracy_, "error": 1.0 - accuracy_, "head": head, "feature_dim": int(train.shape[1]),
            "num_labeled": int(len(y_labeled))}
