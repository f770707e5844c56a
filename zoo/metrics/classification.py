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
