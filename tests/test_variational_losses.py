"""The variational losses against closed forms and hand computations on tiny batches."""

import math

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from zoo import layers, losses


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean = np.array([[0.5, -1.0, 0.0], [2.0, 0.3, -0.7]], "float32")
    log_var = np.array([[0.2, -0.5, 1.0], [-1.5, 0.0, 0.4]], "float32")
    analytic = np.asarray(losses.gaussian_kl(mean, log_var))
    draws = 400_000
    z = mean[None] + np.exp(0.5 * log_var)[None] * rng.standard_normal((draws,) + mean.shape)
    log_q = stats.norm.logpdf(z, mean[None], np.exp(0.5 * log_var)[None]).sum(-1)
    log_p = stats.norm.logpdf(z).sum(-1)
    estimate = (log_q - log_p).mean(0)
    standard_error = (log_q - log_p).std(0) / math.sqrt(draws)
    np.testing.assert_array_less(np.abs(estimate - analytic), 5 * standard_error)
    # and the closed form at a hand-checkable point: KL(N(1, e^0) || N(0, 1)) = 1/2 per dimension.
    np.testing.assert_allclose(losses.gaussian_kl(np.ones((1, 2), "float32"), np.zeros((1, 2), "float32")), [1.0])


def test_gaussian_log_density_and_entropy():
    z = np.array([[[0.1, -0.4]], [[1.5, 2.0]]], "float32")  # leading shape (2, 1)
    mean = np.array([[0.0, 1.0]], "float32")
    log_var = np.array([[0.5, -0.3]], "float32")
    expected = stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(losses.gaussian_log_density(z, mean, log_var), expected, rtol=1e-5)
    logits = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, -1.0, 0.5, 0.0]], "float32")
    q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(losses.categorical_entropy(logits), -(q * np.log(q)).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(losses.categorical_entropy(logits)[0], math.log(4), rtol=1e-6)


def test_marginalized_bound_is_the_explicit_sum_over_classes():
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0]], "float32")
    bounds = np.array([[-10.0, -12.0, -9.0], [-100.0, -50.0, -80.0]], "float32")
    by_hand = []
    for i in range(2):
        q = np.exp(logits[i]) / np.exp(logits[i]).sum()
        by_hand.append(sum(q[c] * bounds[i, c] for c in range(3)) - sum(q[c] * math.log(q[c]) for c in range(3)))
    np.testing.assert_allclose(losses.marginalized_bound(logits, bounds), by_hand, rtol=1e-6)


def test_importance_weighted_bound():
    log_w = np.array([[-3.0, -100.0], [-1.0, -101.0], [-2.0, -99.0]], "float32")  # k=3 samples, 2 examples
    np.testing.assert_allclose(losses.importance_weighted_bound(log_w),
                               logsumexp(log_w, axis=0) - math.log(3), rtol=1e-6)
    # k = 1: the bound is the single log-weight.
    np.testing.assert_allclose(losses.importance_weighted_bound(log_w[:1]), log_w[0])
    # Jensen: the k-sample bound is at least the mean of the log-weights.
    assert np.all(np.asarray(losses.importance_weighted_bound(log_w)) >= log_w.mean(0))


def test_linear_warmup():
    assert losses.linear_warmup(5, 0) == 1.0
    np.testing.assert_allclose([float(losses.linear_warmup(s, 4)) for s in (0, 1, 4, 9)], [0, 0.25, 1, 1])


def test_expand_classes_pairs_every_row_with_every_class():
    x = np.arange(6, dtype="float32").reshape(3, 2)
    onehot, (tiled,) = layers.expand_classes(4, x)
    onehot, tiled = np.asarray(onehot), np.asarray(tiled)
    assert onehot.shape == (12, 4) and tiled.shape == (12, 2)
    for c in range(4):
        for i in range(3):
            np.testing.assert_array_equal(tiled[c * 3 + i], x[i])
            assert onehot[c * 3 + i].argmax() == c
