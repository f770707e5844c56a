"""Losses and priors of the inference-by-adversaries family against closed forms."""

import math

import keras
import numpy as np
import pytest
from scipy import integrate

from zoo import losses, priors


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_binary_gan_losses_closed_form():
    logits = np.array([[-2.0], [0.0], [3.0]], "float32")
    d = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(_np(losses.real_logit_loss(logits)), -np.mean(np.log(d)), rtol=1e-6)
    np.testing.assert_allclose(_np(losses.fake_logit_loss(logits)), -np.mean(np.log(1 - d)), rtol=1e-6)
    # D = 1/2 everywhere: both terms are log 2 (Goodfellow et al. 2014, Theorem 1: -log 4 in total).
    zero = np.zeros((4, 1), "float32")
    assert math.isclose(float(_np(losses.real_logit_loss(zero) + losses.fake_logit_loss(zero))), math.log(4),
                        rel_tol=1e-6)


def test_mean_squared_error_by_hand():
    x = np.zeros((2, 2, 2, 1), "float32")
    x_hat = np.ones((2, 2, 2, 1), "float32")
    x_hat[1] = 3.0
    assert math.isclose(float(_np(losses.mean_squared_error(x, x_hat))), (1 + 9) / 2, rel_tol=1e-6)


def test_cluster_head_penalty_by_hand():
    # Heads at distances |h0-h1| = 1, |h0-h2| = 5 (a 3-4-5 triangle), |h1-h2| = sqrt(9 + 9).
    heads = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 3.0]], "float32")
    d01, d02, d12 = 1.0, 5.0, math.hypot(3.0, 3.0)
    eta = 4.5
    expected = sum(max(0.0, eta - d) for d in (d01, d02, d12))
    assert math.isclose(float(_np(losses.cluster_head_penalty(heads, eta))), expected, rel_tol=1e-5)
    assert float(_np(losses.cluster_head_penalty(heads, 0.5))) == 0.0


def _numpy_mmd2(x, y, bandwidths):
    """The biased MMD^2 of Li et al. 2015 (Eq. 2), by a direct double loop."""
    def k(a, b):
        return sum(math.exp(-float(np.sum((a - b) ** 2)) / (2 * s * s)) for s in bandwidths)
    xx = np.mean([[k(a, b) for b in x] for a in x])
    yy = np.mean([[k(a, b) for b in y] for a in y])
    xy = np.mean([[k(a, b) for b in y] for a in x])
    return xx - 2 * xy + yy


def test_mmd_against_direct_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 2, 3, 1)).astype("float32")
    y = (rng.normal(size=(5, 2, 3, 1)) + 0.7).astype("float32")
    bandwidths = (0.5, 1.0, 4.0)
    expected = _numpy_mmd2(x.reshape(7, -1), y.reshape(5, -1), bandwidths)
    np.testing.assert_allclose(_np(losses.mmd_squared(x, y, bandwidths)), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(losses.mmd(x, y, bandwidths)), math.sqrt(expected), rtol=1e-4)
    # Identical samples: MMD^2 = 0.
    assert abs(float(_np(losses.mmd_squared(x, x, bandwidths)))) < 1e-5


def _moments(name, dim, n=200_000):
    z = _np(priors.sample(name, n, dim, keras.random.SeedGenerator(0)))
    assert z.shape == (n, dim) and np.isfinite(z).all()
    return z.mean(0), np.cov(z.T)


def test_gaussian_prior_moments():
    mean, cov = _moments("gaussian", 3)
    np.testing.assert_allclose(mean, 0.0, atol=0.01)
    np.testing.assert_allclose(cov, np.eye(3), atol=0.015)


def test_mixture_prior_moments():
    # K evenly rotated copies of N((r, 0), diag(s_r^2, s_t^2)): mean 0, covariance (r^2 + s_r^2 + s_t^2) / 2 I.
    mean, cov = _moments("mixture", 2)
    variance = (priors.MIXTURE_RADIUS ** 2 + priors.MIXTURE_RADIAL_STD ** 2 + priors.MIXTURE_TANGENTIAL_STD ** 2) / 2
    np.testing.assert_allclose(mean, 0.0, atol=0.02)
    np.testing.assert_allclose(cov, variance * np.eye(2), atol=0.03)
    # Ten modes: the angles of the draws fall on 10 evenly spaced directions.
    z = _np(priors.mixture(10_000, 2, keras.random.SeedGenerator(1)))
    sector = np.round(np.arctan2(z[:, 1], z[:, 0]) / (2 * np.pi / 10)) % 10
    counts = np.bincount(sector.astype(int), minlength=10)
    assert counts.min() > 850 and counts.max() < 1150, counts


def test_swiss_roll_prior_moments():
    # s = sqrt(u) has density 2s on [0, 1]; point = R s (cos 2 pi T s, sin 2 pi T s) + noise.
    radius, turns, noise = priors.SWISS_ROLL_RADIUS, priors.SWISS_ROLL_TURNS, priors.SWISS_ROLL_NOISE
    c = 2 * math.pi * turns
    mean_x = integrate.quad(lambda s: 2 * s * radius * s * math.cos(c * s), 0, 1)[0]
    mean_y = integrate.quad(lambda s: 2 * s * radius * s * math.sin(c * s), 0, 1)[0]
    z = _np(priors.sample("swiss_roll", 200_000, 2, keras.random.SeedGenerator(0)))
    np.testing.assert_allclose(z.mean(0), [mean_x, mean_y], atol=0.02)
    np.testing.assert_allclose(np.mean(np.sum(z ** 2, -1)), radius ** 2 / 2 + 2 * noise ** 2, rtol=0.01)


def test_categorical_prior_is_uniform_one_hot():
    y = _np(priors.categorical(50_000, 4, keras.random.SeedGenerator(0)))
    assert set(np.unique(y)) == {0.0, 1.0} and np.all(y.sum(-1) == 1)
    np.testing.assert_allclose(y.mean(0), 0.25, atol=0.01)


def test_prior_errors():
    with pytest.raises(ValueError, match="unknown prior"):
        priors.check_prior("laplace", 2)
    with pytest.raises(ValueError, match="latent_dim=2"):
        priors.check_prior("swiss_roll", 8)
