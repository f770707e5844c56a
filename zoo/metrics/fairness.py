"""Group-fairness gaps of a classifier's predictions (numpy): demographic parity and equalised odds.

For binary predictions the two criteria are (Hardt et al. 2016, arXiv 1610.02413, Def. 1-2; Zhang et al.
2018, arXiv 1801.07593, Sec. 2):

* demographic parity: P(yhat = 1 | a = 0) = P(yhat = 1 | a = 1);
* equalised odds: P(yhat = 1 | y, a = 0) = P(yhat = 1 | y, a = 1) for each true y.

For K classes and a protected attribute with groups g, every predicted class c is an event "yhat = c"
and the gap is the largest difference over classes (and over true labels, for equalised odds) between
any two groups:

    DP gap = max_c (max_g P(yhat = c | a = g) - min_g P(yhat = c | a = g))
    EO gap = max_{y, c} (max_g P(yhat = c | y, a = g) - min_g P(yhat = c | y, a = g))

0 is fair, 1 the most unfair. A (y, group) cell without examples is left out of the equalised-odds max.
"""

from __future__ import annotations

import numpy as np


def _rates(predictions, groups, num_classes):
    """P(yhat = c | a = g): an array (groups present, classes)."""
    return np.stack([np.bincount(predictions[groups == g], minlength=num_classes) / np.sum(groups == g)
                     for g in np.unique(groups)])


def demographic_parity_gap(predictions, groups, num_classes=None):
    """max over classes c of the spread over groups of P(yhat = c | a = g) (see the module docstring)."""
    predictions, groups = np.asarray(predictions).astype(int), np.asarray(groups)
    num_classes = int(num_classes or predictions.max() + 1)
    if len(np.unique(groups)) < 2:
        raise ValueError("the gaps need at least two groups")
    rates = _rates(predictions, groups, num_classes)
    return float(np.max(rates.max(0) - rates.min(0)))


def equalized_odds_gap(labels, predictions, groups, num_classes=None):
    """max over true labels y and classes c of the spread over groups of P(yhat = c | y, a = g)."""
    labels, predictions, groups = (np.asarray(v) for v in (labels, predictions, groups))
    predictions, labels = predictions.astype(int), labels.astype(int)
    num_classes = int(num_classes or max(predictions.max(), labels.max()) + 1)
    gap = 0.0
    for y in np.unique(labels):
        mine = labels == y
        if len(np.unique(groups[mine])) < 2:
            continue
        rates = _rates(predictions[mine], groups[mine], num_classes)
        gap = max(gap, float(np.max(rates.max(0) - rates.min(0))))
    return gap


def fairness_report(labels, predictions, groups, num_classes=None):
    """Accuracy, the two gaps and the accuracy of each group, as a dict."""
    labels, predictions, groups = (np.asarray(v) for v in (labels, predictions, groups))
    report = {"accuracy": float(np.mean(labels == predictions)),
              "demographic_parity_gap": demographic_parity_gap(predictions, groups, num_classes),
              "equalized_odds_gap": equalized_odds_gap(labels, predictions, groups, num_classes)}
    for g in np.unique(groups):
        report[f"accuracy_group_{g}"] = float(np.mean(labels[groups == g] == predictions[groups == g]))
    return report
