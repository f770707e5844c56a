"""The sample-quality metrics against closed forms and direct numpy / scipy computations."""

import math

import numpy as np
import pytest
import scipy.linalg
from scipy.special import logsumexp

import zoo
from zoo import metrics
from zoo.metrics import sample_quality as sq


def _random_covariance(rng, dim):
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


# --------------------------------------------------------------------- FID
def test_fid_of_two_gaussians_matches_the_closed_form():
    # Diagonal covariances commute: FID = |mu1 - mu2|^2 + sum (s1 - s2)^2, s the standard deviations.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(var1) - np.sqrt(var2)) ** 2).sum()  # (1 + 0 + 6.25) + (4 + 1 + 0)
    assert expected == pytest.approx(12.25)
    got = metrics.frechet_distance_from_moments(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_fid_agrees_with_an_independent_scipy_computation():
    rng = np.random.default_rng(0)
    dim = 6
    s1, s2 = _random_covariance(rng, dim), _random_covariance(rng, dim)  # do not commute
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2.0 * root)
    assert metrics.frechet_distance_from_moments(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_fid_from_features_is_symmetric_zero_on_itself_and_matches_numpy_moments():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    y = rng.normal(loc=0.5, size=(400, 4))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    assert metrics.frechet_distance(x, y) == pytest.approx(metrics.frechet_distance(y, x), rel=1e-10)
    expected = metrics.frechet_distance_from_moments(x.mean(0), np.cov(x, rowvar=False), y.mean(0),
                                                     np.cov(y, rowvar=False))
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=1e-10)


def test_feature_stats_accumulated_in_batches_equal_numpy_mean_and_cov():
    rng = np.random.default_rng(2)
    x = 1000.0 + rng.normal(size=(301, 5))  # a large offset: the running sums must not cancel
    stats = sq.FeatureStats()
    for start in range(0, len(x), 64):
        stats.update(x[start:start + 64])
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-8, atol=1e-10)


def test_fid_rejects_mismatched_or_bad_features():
    with pytest.raises(ValueError, match="different feature sizes|mismatched"):
        metrics.frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.full((10, 3), np.nan), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="2-D"):
        metrics.frechet_distance(np.zeros(10), np.zeros(10))


# --------------------------------------------------------------------- KID
def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    same, same_sd = metrics.kernel_inception_distance(x, y, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_sd / math.sqrt(20) + 1e-3
    # one subset can be negative: the estimator is unbiased, not a squared norm
    assert min(sq.polynomial_mmd2_unbiased(x[i * 100:(i + 1) * 100], y[i * 100:(i + 1) * 100])
               for i in range(10)) < 0
    shifted, _ = metrics.kernel_inception_distance(x, y + 1.0, subsets=20, subset_size=200)
    assert shifted > 100 * abs(same)


def test_kid_matches_a_direct_double_loop():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=0.3, size=(5, 3))
    k = lambda a, b: (a @ b / 3 + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / (6 * 5)
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    xy = sum(k(a, b) for a in x for b in y) / 30
    assert sq.polynomial_mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    # with one subset covering both whole sets, KID is exactly that statistic and its sd 0
    mean, sd = metrics.kernel_inception_distance(x, y, subsets=1, subset_size=5)
    assert sd == 0.0 and np.isfinite(mean)


# ---------------------------------------------------------------------- IS
def test_inception_score_of_a_uniform_classifier_is_one():
    mean, sd = metrics.inception_score(np.full((100, 10), 0.1), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and sd == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_confident_predictions_spread_over_c_classes_is_c():
    probabilities = np.eye(7)[np.arange(700) % 7]
    mean, _ = metrics.inception_score(probabilities, splits=10)
    assert mean == pytest.approx(7.0, rel=1e-9)
    # collapsed on one class: 1
    assert metrics.inception_score(np.eye(7)[np.zeros(70, int)], splits=2)[0] == pytest.approx(1.0)


def test_inception_score_matches_a_hand_computation():
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    marginal = p.mean(0)
    expected = math.exp(np.mean([(row * np.log(row / marginal)).sum() for row in p]))
    assert metrics.inception_score(p, splits=1)[0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.inception_score(np.ones((4, 3)), splits=1)
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(p, splits=3)


# ------------------------------------------------------ precision / recall
def test_precision_recall_of_the_reference_itself_is_one_and_of_a_collapse_recall_zero():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(400, 5))
    assert metrics.precision_recall(real, real.copy(), k=3) == (1.0, 1.0)
    collapsed = np.repeat(real[:1], 400, axis=0)  # one repeated real point
    precision, recall = metrics.precision_recall(real, collapsed, k=3)
    assert precision == 1.0  # the point lies on the real manifold
    assert recall <= 0.01  # its k-NN ball has radius 0: it covers only itself


def test_precision_recall_matches_a_brute_force_computation():
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(60, 2)), rng.normal(loc=0.7, size=(50, 2))

    def radii(a, k):
        d = np.linalg.norm(a[:, None] - a[None], axis=-1)
        return np.sort(d, axis=1)[:, k]

    def inside(points, centres, r):
        d = np.linalg.norm(points[:, None] - centres[None], axis=-1)
        return (d <= r[None]).any(1).mean()

    expected = inside(fake, real, radii(real, 3)), inside(real, fake, radii(fake, 3))
    assert metrics.precision_recall(real, fake, k=3) == pytest.approx(expected)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1


# --------------------------------------------------------------------- MMD
def test_mmd_matches_a_direct_computation_and_is_zero_on_identical_sets_when_biased():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(7, 3)), rng.normal(loc=0.5, size=(9, 3))
    bandwidths = [0.5, 2.0]

    def k(a, b):
        return sum(math.exp(-((a - b) ** 2).sum() / (2 * s * s)) for s in bandwidths)

    xx = sum(k(x[i], x[j]) for i in range(7) for j in range(7) if i != j) / 42
    yy = sum(k(y[i], y[j]) for i in range(9) for j in range(9) if i != j) / 72
    xy = sum(k(a, b) for a in x for b in y) / 63
    assert metrics.mmd(x, y, bandwidths)[0] == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    assert metrics.mmd(x, x, bandwidths, unbiased=False)[0] == pytest.approx(0.0, abs=1e-12)
    # unbiased and ~0 (either sign) for two samples of one distribution; clearly positive for two
    a, b = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    same, used = metrics.mmd(a, b)
    assert len(used) == 5 and abs(same) < 0.02
    assert metrics.mmd(a, b + 1.0)[0] > 10 * abs(same)
    with pytest.raises(ValueError, match="positive"):
        metrics.mmd(x, y, [0.0])


# ------------------------------------------------------------------ Parzen
def test_parzen_matches_a_direct_numpy_log_sum_exp():
    rng = np.random.default_rng(8)
    samples, test = rng.uniform(size=(50, 4)), rng.uniform(size=(20, 4))
    sigma = 0.3
    d = ((test[:, None] - samples[None]) ** 2).sum(-1)
    direct = logsumexp(-d / (2 * sigma ** 2), axis=1) - math.log(50) - 0.5 * 4 * math.log(2 * math.pi * sigma ** 2)
    # the samples arrive in three uneven batches: the running log-sum-exp must equal the direct one
    result = metrics.parzen_log_likelihood(test, iter([samples[:7], samples[7:30], samples[30:]]), sigmas=[sigma])
    assert result["mean"] == pytest.approx(direct.mean(), rel=1e-6)
    assert result["stderr"] == pytest.approx(direct.std(ddof=1) / math.sqrt(20), rel=1e-5)
    assert result["sigma"] == sigma
    with pytest.raises(ValueError, match="validation"):
        metrics.parzen_log_likelihood(test, samples, sigmas=[0.1, 0.2])


def test_parzen_bandwidth_search_picks_the_validation_optimum():
    rng = np.random.default_rng(9)
    samples = rng.normal(scale=0.2, size=(300, 2))
    validation, test = rng.normal(scale=0.2, size=(100, 2)), rng.normal(scale=0.2, size=(80, 2))
    sigmas = np.logspace(-2, 0.5, 15)

    def mean_ll(points, sigma):
        d = ((points[:, None] - samples[None]) ** 2).sum(-1)
        return (logsumexp(-d / (2 * sigma ** 2), axis=1) - math.log(300) - math.log(2 * math.pi * sigma ** 2)).mean()

    best = sigmas[int(np.argmax([mean_ll(validation, s) for s in sigmas]))]
    assert sigmas[0] < best < sigmas[-1]  # an interior optimum: the search is not trivially at an end
    result = metrics.parzen_log_likelihood(test, samples, validation=validation, sigmas=sigmas)
    assert result["sigma"] == pytest.approx(best)
    assert result["mean"] == pytest.approx(mean_ll(test, best), rel=1e-6)


class _Encoder:
    """A stand-in with `encode`: raw pixels, or features that carry no information."""

    def __init__(self, noise=False):
        self.noise = noise

    def encode(self, x):
        x = np.asarray(x).reshape(len(x), -1)
        return np.random.default_rng(0).normal(size=x.shape) if self.noise else x


def test_linear_probe_is_a_linear_svm_on_the_labelled_features(digits50):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    result = zoo.metrics.linear_probe(_Encoder(), digits50, head="svm")
    x, y = digits50.labeled()
    reference = make_pipeline(StandardScaler(), LinearSVC(C=1.0, max_iter=20000)).fit(x.reshape(len(x), -1), y)
    want = (reference.predict(digits50.x_test.reshape(len(digits50.x_test), -1)) == digits50.y_test).mean()
    assert result["accuracy"] == pytest.approx(want) and result["num_labeled"] == 50
    assert result["feature_dim"] == 64 and result["accuracy"] > 0.7  # raw 8x8 pixels are nearly separable
    assert zoo.metrics.linear_probe(_Encoder(noise=True), digits50, head="logistic")["accuracy"] < 0.25
    with pytest.raises(ValueError, match="head"):
        zoo.metrics.linear_probe(_Encoder(), digits50, head="knn")
