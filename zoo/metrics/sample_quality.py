"""Sample-quality metrics from features, probabilities or pixels, in numpy.

Every function here is a pure function of arrays (no model, no extractor), so
each is tested against a closed form or a direct computation. Feature
extraction and the protocol live in `zoo.metrics.extractors` and
`zoo.metrics.evaluate`.

* `frechet_distance` (FID; Heusel et al. 2017, arXiv 1706.08500, Eq. 6):
  ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)), in float64, from
  `FeatureStats` that can be accumulated batch by batch.
* `kernel_inception_distance` (KID; Binkowski et al. 2018, arXiv 1801.01401,
  Eq. 1 and Sec. 3): the unbiased MMD^2 with the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3, averaged over random subsets, with its sd.
* `inception_score` (Salimans et al. 2016, arXiv 1606.03498, Sec. 4):
  exp(E_x KL(p(y|x) || p(y))), mean and sd over splits.
* `precision_recall` (improved precision and recall, Kynkaanniemi et al. 2019,
  arXiv 1904.06991, Eq. 1-3): k-NN balls around each feature vector
  approximate each manifold.
* `mmd` (Gretton et al. 2012, Lemma 6 / Eq. 3): MMD^2 with a sum of Gaussian
  kernels of several bandwidths (as in GMMN, Li et al. 2015, arXiv 1502.02761).
* `parzen_log_likelihood` (Breuleux et al. 2009; the protocol of Goodfellow et
  al. 2014, arXiv 1406.2661, Sec. 5, and Makhzani et al. 2015, arXiv
  1511.05644): log-likelihood of test points under an isotropic Gaussian
  kernel density on generated samples, the bandwidth chosen on a validation
  set; mean +- standard error in nats.
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------- utilities
_BLOCK = 1024


def _as_matrix(x, name, dtype="float64"):
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array (examples, features); got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _same_dim(a, b, names=("x", "y")):
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} have different feature sizes: {a.shape[1]} and {b.shape[1]}")


def squared_distances(a, b):
    """Matrix of squared Euclidean distances ||a_i - b_j||^2 (clipped at 0)."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


# --------------------------------------------------------------------- FID
class FeatureStats:
    """Running mean and covariance of feature vectors, in float64.

    `update(batch)` as batches arrive, then `mean` / `covariance`
    (the unbiased one, divisor n - 1, as numpy.cov): features are streamed,
    never stored.
    """

    def __init__(self, dim=None):
        self.count = 0
        self._sum = None if dim is None else np.zeros(dim)
        self._outer = None if dim is None else np.zeros((dim, dim))
        self._shift = None

    def update(self, features):
        features = _as_matrix(features, "features")
        if self._sum is None:
            self._sum = np.zeros(features.shape[1])
            self._outer = np.zeros((features.shape[1],) * 2)
        if features.shape[1] != self._sum.shape[0]:
            raise ValueError(f"features of size {features.shape[1]} after features of size {self._sum.shape[0]}")
        if self._shift is None:  # sums about the first batch's mean: no catastrophic cancellation
            self._shift = features.mean(0)
        centred = features - self._shift
        self.count += len(features)
        self._sum += centred.sum(0)
        self._outer += centred.T @ centred
        return self

    @classmethod
    def of(cls, features):
        return cls().update(features)

    @property
    def mean(self):
        self._check()
        return self._shift + self._sum / self.count

    @property
    def covariance(self):
        self._check()
        if self.count < 2:
            raise ValueError("a covariance needs at least 2 feature vectors")
        centred_mean = self._sum / self.count
        return (self._outer - self.count * np.outer(centred_mean, centred_mean)) / (self.count - 1)

    def _check(self):
        if not self.count:
            raise ValueError("no features were added")


def frechet_distance(x, y):
    """FID between two feature sets (arrays or `FeatureStats`), float64.

        FID = ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^(1/2))

    Tr (S_x S_y)^(1/2) is computed as the sum of the square roots of the
    eigenvalues of the symmetric PSD matrix S_x^(1/2) S_y S_x^(1/2), which
    has the same eigenvalues as S_x S_y and, unlike a general `sqrtm`, never
    returns complex round-off.
    """
    x = x if isinstance(x, FeatureStats) else FeatureStats.of(x)
    y = y if isinstance(y, FeatureStats) else FeatureStats.of(y)
    return frechet_distance_from_moments(x.mean, x.covariance, y.mean, y.covariance)


def frechet_distance_from_moments(mu1, sigma1, mu2, sigma2):
    """The Frechet distance of N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, "float64"), np.asarray(mu2, "float64")
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, "float64")), np.atleast_2d(np.asarray(sigma2, "float64"))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched moments: means {mu1.shape}, {mu2.shape}; covariances {sigma1.shape}, "
                         f"{sigma2.shape}")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_root = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_root)


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


# --------------------------------------------------------------------- KID
def _power(matrix, degree):
    """matrix ** degree for an integer degree by repeated products (much faster than float pow)."""
    if int(degree) != degree or degree < 1:
        return matrix ** degree
    result = matrix.copy()
    for _ in range(int(degree) - 1):
        result *= matrix
    return result


def polynomial_mmd2_unbiased(x, y, degree=3, gamma=None, coef0=1.0):
    """Unbiased MMD^2 of two sets with k(a, b) = (gamma a.b + coef0)^degree (gamma = 1/d)."""
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    kxx, kyy, kxy = (_power(gamma * (a @ b.T) + coef0, degree) for a, b in ((x, x), (y, y), (x, y)))
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def kernel_inception_distance(x, y, subsets=100, subset_size=1000, seed=0):
    """KID: mean and sd over `subsets` random subsets of the unbiased cubic-kernel MMD^2.

    Each subset draws `min(subset_size, len(x), len(y))` rows of each set
    without replacement (Binkowski et al. 2018, Sec. 3). Unbiased: for two
    samples of one distribution it is ~0 and may be negative.
    Returns `(mean, sd)`.
    """
    x, y = _as_matrix(x, "x"), _as_matrix(y, "y")
    _same_dim(x, y)
    size = min(int(subset_size), len(x), len(y))
    if size < 2:
        raise ValueError("KID needs at least 2 feature vectors in each set")
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1; got {subsets}")
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2_unbiased(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
        for _ in range(int(subsets))
    ]
    return float(np.mean(values)), float(np.std(values))


# ---------------------------------------------------------------------- IS
def inception_score(probabilities, splits=10):
    """IS = exp(E_x KL(p(y|x) || p(y))): mean and sd over `splits` equal parts.

    `probabilities`: (n, classes) class probabilities of the generated images
    (rows sum to 1). p(y) is the mean over each split. A classifier that
    outputs the uniform distribution scores 1; confident predictions spread
    evenly over C classes score C. Returns `(mean, sd)`.
    """
    p = _as_matrix(probabilities, "probabilities")
    if p.min() < 0 or np.abs(p.sum(1) - 1.0).max() > 1e-3:
        raise ValueError("probabilities must be non-negative rows that sum to 1 (a softmax output)")
    splits = int(splits)
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of examples ({len(p)}); got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        kl = np.where(part > 0, part * (np.log(np.maximum(part, 1e-300)) - np.log(np.maximum(marginal, 1e-300))),
                      0.0).sum(1)
        scores.append(math.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# ------------------------------------------------------ precision / recall
def knn_radii(x, k=3):
    """Distance from each row of `x` to its k-th nearest other row."""
    x = _as_matrix(x, "x")
    if not 1 <= k < len(x):
        raise ValueError(f"k must be between 1 and len(x) - 1 = {len(x) - 1}; got {k}")
    radii = np.empty(len(x))
    for start in range(0, len(x), _BLOCK):
        d = squared_distances(x[start:start + _BLOCK], x)
        # the point itself is at distance 0: the k-th neighbour is index k
        radii[start:start + _BLOCK] = np.sqrt(np.partition(d, k, axis=1)[:, k])
    return radii


def _inside_manifold(points, centres, radii):
    """Whether each point lies in at least one ball B(centre_j, radius_j)."""
    inside = np.zeros(len(points), dtype=bool)
    squared_radii = radii ** 2
    for start in range(0, len(points), _BLOCK):
        d = squared_distances(points[start:start + _BLOCK], centres)
        inside[start:start + _BLOCK] = (d <= squared_radii[None, :]).any(1)
    return inside


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its points with radius
    the distance to the k-th nearest neighbour in the same set (Eq. 1).
    precision = fraction of `fake` inside the real manifold (Eq. 2);
    recall = fraction of `real` inside the fake manifold (Eq. 3).
    The paper uses k = 3. Returns `(precision, recall)`.

    Known limit of the k-NN estimate (Naeem et al. 2020, arXiv 2002.09797):
    real outliers have large balls, so collapsed samples that fall inside
    them can score a high precision (measured: an untrained MNIST generator
    scores precision 1.0, recall 0.0 with the zoo's MNIST domain
    classifier); read precision together with recall.
    """
    real, fake = _as_matrix(real, "real"), _as_matrix(fake, "fake")
    _same_dim(real, fake, ("real", "fake"))
    precision = _inside_manifold(fake, real, knn_radii(real, k)).mean()
    recall = _inside_manifold(real, fake, knn_radii(fake, k)).mean()
    return float(precision), float(recall)


# --------------------------------------------------------------------- MMD
def median_bandwidth(x, y, max_points=1000, seed=0):
    """The median pairwise distance of (a subsample of) the pooled sets."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([x, y])
    pooled = pooled[rng.choice(len(pooled), min(max_points, len(pooled)), replace=False)]
    d = squared_distances(pooled, pooled)
    return float(np.sqrt(np.median(d[np.triu_indices(len(pooled), 1)])))


def mmd(x, y, bandwidths=None, unbiased=True):
    """MMD^2 with k(a, b) = sum_s exp(-||a - b||^2 / (2 s^2)) over bandwidths s.

    Args:
        bandwidths: the s above; None uses the median heuristic m times
            (0.25, 0.5, 1, 2, 4), m the median pairwise distance of the pooled
            sets.
        unbiased: the U-statistic (diagonals left out; ~0 and possibly
            negative for two samples of one distribution) or the biased
            V-statistic (>= 0, exactly 0 for identical sets).
    Returns `(mmd2, bandwidths)`.
    """
    x, y = _as_matrix(x, "x"), _as_matrix(y, "y")
    _same_dim(x, y)
    if bandwidths is None:
        median = median_bandwidth(x, y)
        bandwidths = [median * f for f in (0.25, 0.5, 1.0, 2.0, 4.0)]
    bandwidths = np.atleast_1d(np.asarray(bandwidths, "float64"))
    if bandwidths.size == 0 or bandwidths.min() <= 0:
        raise ValueError(f"bandwidths must be positive; got {bandwidths}")
    if unbiased and min(len(x), len(y)) < 2:
        raise ValueError("the unbiased MMD needs at least 2 points in each set")

    def kernel_sum(a, b, same):
        total = 0.0
        for start in range(0, len(a), _BLOCK):
            d = squared_distances(a[start:start + _BLOCK], b)
            k = np.exp(-d[..., None] / (2.0 * bandwidths ** 2)).sum(-1)
            total += k.sum()
        if same and unbiased:
            total -= len(a) * len(bandwidths)  # k(a_i, a_i) = 1 per bandwidth
        return total

    m, n = len(x), len(y)
    if unbiased:
        xx, yy = kernel_sum(x, x, True) / (m * (m - 1)), kernel_sum(y, y, True) / (n * (n - 1))
    else:
        xx, yy = kernel_sum(x, x, True) / m ** 2, kernel_sum(y, y, True) / n ** 2
    return float(xx + yy - 2.0 * kernel_sum(x, y, False) / (m * n)), [float(s) for s in bandwidths]


# ------------------------------------------------------------------ Parzen
DEFAULT_PARZEN_SIGMAS = tuple(np.logspace(-1.5, 0.0, 12))


class ParzenAccumulator:
    """log p(x) under a Gaussian Parzen window, with the centres streamed in batches.

        log p(x) = logsumexp_i(-||x - mu_i||^2 / (2 sigma^2)) - log N - (d/2) log(2 pi sigma^2)

    `points` (the evaluation points: validation or test data) are held; the
    centres (generated samples) arrive batch by batch through `update`, and a
    running log-sum-exp is kept per point and per candidate sigma.
    """

    def __init__(self, points, sigmas):
        self.points = _as_matrix(np.reshape(points, (len(points), -1)), "points")
        self.sigmas = np.atleast_1d(np.asarray(sigmas, "float64"))
        if self.sigmas.size == 0 or self.sigmas.min() <= 0:
            raise ValueError(f"sigmas must be positive; got {self.sigmas}")
        self._lse = np.full((len(self.points), self.sigmas.size), -np.inf)
        self.count = 0

    def update(self, centres):
        centres = _as_matrix(np.reshape(centres, (len(centres), -1)), "centres")
        _same_dim(self.points, centres, ("points", "centres"))
        # log sum_i exp(-d_i / 2s^2) = -d_min / 2s^2 + log sum_i exp((d_min - d_i) / 2s^2): the
        # exponents are <= 0, so float32 exponentials are safe; sums and logs are float64.
        d = squared_distances(self.points, centres).astype("float32")
        d_min = d.min(1)
        shifted = d_min[:, None] - d
        for j, sigma in enumerate(self.sigmas):
            scale = np.float32(1.0 / (2.0 * sigma ** 2))
            total = np.exp(shifted * scale).sum(1, dtype="float64")
            chunk = -d_min.astype("float64") / (2.0 * sigma ** 2) + np.log(total)
            self._lse[:, j] = np.logaddexp(self._lse[:, j], chunk)
        self.count += len(centres)
        return self

    def log_likelihoods(self):
        """(points, sigmas) matrix of log p(point) in nats."""
        if not self.count:
            raise ValueError("no centres were added")
        dim = self.points.shape[1]
        return self._lse - math.log(self.count) - 0.5 * dim * np.log(2.0 * np.pi * self.sigmas ** 2)


def parzen_log_likelihood(test, samples, validation=None, sigmas=DEFAULT_PARZEN_SIGMAS):
    """Parzen-window log-likelihood of `test` under `samples`, sigma picked on `validation`.

    Args:
        test: points to score (flattened per example).
        samples: kernel centres (generated samples), an array or an iterable
            of arrays (streamed).
        validation: points on which the sigma with the highest mean
            log-likelihood is chosen among `sigmas`; None skips the search and
            needs a single sigma.
        sigmas: candidate bandwidths (default: 12 values log-spaced over
            [0.03, 1], for pixels in [0, 1]).
    Returns a dict: `mean`, `stderr` (sd / sqrt(len(test))) in nats, `sigma`,
    and `validation` (mean validation log-likelihood per candidate sigma).
    """
    sigmas = np.atleast_1d(np.asarray(sigmas, "float64"))
    if validation is None and sigmas.size != 1:
        raise ValueError("several sigmas need a validation set to choose among them")
    test_acc = ParzenAccumulator(test, sigmas)
    val_acc = None if validation is None else ParzenAccumulator(validation, sigmas)
    for chunk in ([samples] if isinstance(samples, np.ndarray) else samples):
        test_acc.update(chunk)
        if val_acc is not None:
            val_acc.update(chunk)
    return parzen_result(test_acc, val_acc)


def parzen_result(test_acc, val_acc=None):
    """Choose sigma on the validation accumulator and score the test one."""
    val_means = None if val_acc is None else val_acc.log_likelihoods().mean(0)
    best = 0 if val_means is None else int(np.argmax(val_means))
    scores = test_acc.log_likelihoods()[:, best]
    stderr = float(scores.std(ddof=1) / math.sqrt(len(scores))) if len(scores) > 1 else float("nan")
    return {
        "mean": float(scores.mean()),
        "stderr": stderr,
        "sigma": float(test_acc.sigmas[best]),
        "validation": None if val_means is None else dict(zip(map(float, test_acc.sigmas), map(float, val_means))),
    }
