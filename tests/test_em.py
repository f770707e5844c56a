"""PPCA and the Gaussian mixture fitted by EM (zoo/models/likelihood/em.py): the harness, scikit-learn's fits,
EM's monotone likelihood, SGD reaching EM's optimum, stepwise EM on minibatches, distribution."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

import zoo
from tests.harness import run_method_test
from tests.measured import report


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits")


def _flat(x):
    return x.reshape(len(x), -1).astype("float64")


def _whole_data(x):
    """Every image in every batch: batch EM."""
    return tf.data.Dataset.from_tensors({"x": x}).repeat()


def _synthetic_mixture():
    """600 points of three correlated Gaussians in 4 dimensions, shaped as 2x2 'images' in [-1, 1]."""
    rng = np.random.default_rng(0)
    centres = np.array([[-0.5, -0.5, 0.2, 0.0], [0.5, 0.4, -0.3, 0.1], [0.0, 0.5, 0.5, -0.5]])
    x = np.concatenate([c + rng.normal(0, 0.12, (200, 4)) @ (np.eye(4) + 0.3 * rng.normal(size=(4, 4)))
                        for c in centres])
    return x.clip(-1, 1).astype("float32").reshape(-1, 2, 2, 1)


@pytest.mark.parametrize("name,kwargs", [
    ("ppca", {"latent_dim": 3}),
    ("ppca", {"latent_dim": 3, "fit_by": "sgd"}),
    ("gmm", {"components": 3}),
    ("gmm", {"components": 3, "fit_by": "sgd", "init": "random"}),
])
def test_harness(name, kwargs, tmp_path):
    model = run_method_test(name, kwargs, tmp_path=tmp_path)
    if model.fit_by == "em":  # no trainable weight for the harness to watch: the M-step assigned the parameters
        assert not model.trainable_variables and int(model.em_steps.numpy()) == 2


def test_bad_input_is_a_clear_error(digits):
    for kwargs, match in [({"fit_by": "lbfgs"}, "fit_by"), ({"step_size_power": 1.5}, "kappa"),
                          ({"latent_dim": 64}, "below the 64 pixels")]:
        with pytest.raises(ValueError, match=match):
            zoo.load("ppca", input_shape=digits.input_shape, **kwargs)
    with pytest.raises(ValueError, match="init"):
        zoo.load("gmm", input_shape=digits.input_shape, init="kmeans")
    model = zoo.load("gmm", input_shape=digits.input_shape, components=20)
    with pytest.raises(ValueError, match="at least as many images"):
        model.initialize(digits.x_train[:10])


def test_ppca_equals_scikit_learn_pca(digits):
    """Batch EM (the whole training set per step, 300 steps) against the closed-form ML solution that
    `sklearn.decomposition.PCA` gives: the same noise variance (PCA's is over n - 1; the ML one over n),
    the same q-dimensional subspace, the same test log-likelihood (PCA.score is PPCA's)."""
    x = digits.x_train
    model = zoo.load("ppca", input_shape=digits.input_shape, latent_dim=8, seed=0)
    model.fit(_whole_data(x), epochs=1, steps_per_epoch=300, verbose=0)
    pca = PCA(8).fit(_flat(x))
    n = len(x)
    np.testing.assert_allclose(float(model.noise_variance()), pca.noise_variance_ * (n - 1) / n, rtol=1e-4)
    basis, _ = np.linalg.qr(model.loading.numpy())
    cosines = np.linalg.svd(basis.T @ pca.components_.T, compute_uv=False)
    assert cosines.min() > 0.9999, cosines
    np.testing.assert_allclose(model.log_prob(digits.x_test).mean(), pca.score(_flat(digits.x_test)), atol=2e-3)
    # The posterior mean M^-1 W^T (x - mu), by hand.
    w, s2 = model.loading.numpy(), float(model.noise_variance())
    expected = np.linalg.solve(w.T @ w + s2 * np.eye(8), w.T @ (_flat(digits.x_test[:5]) - model.mean.numpy()).T).T
    np.testing.assert_allclose(model.encode(digits.x_test[:5]), expected, rtol=1e-3, atol=1e-4)


def test_gmm_equals_scikit_learn_from_the_same_start(digits):
    """Batch EM from our k-means++ start and `sklearn.mixture.GaussianMixture` from the same weights, means
    and precisions (same reg_covar, 40 iterations, no early stop): the same log-likelihood and means."""
    x = digits.x_train
    model = zoo.load("gmm", input_shape=digits.input_shape, components=3, reg_covar=1e-2, step_size_power=0.0,
                     seed=0)
    model.initialize(x)
    weights, means, scale = (np.exp(model.weight_logits.numpy()), model.means.numpy(),
                             model.scale_tril().numpy().astype("float64"))
    precisions = np.linalg.inv(scale @ np.transpose(scale, (0, 2, 1)))
    model.fit(_whole_data(x), epochs=1, steps_per_epoch=40, verbose=0)
    with pytest.warns(Warning, match="converge"):  # tol=0: scikit-learn says it stopped at max_iter
        reference = GaussianMixture(3, reg_covar=1e-2, weights_init=weights / weights.sum(), means_init=means,
                                    precisions_init=precisions, max_iter=40, tol=0).fit(_flat(x))
    np.testing.assert_allclose(model.log_prob(x).mean(), reference.score(_flat(x)), atol=1e-3)
    np.testing.assert_allclose(model.means.numpy(), reference.means_, atol=2e-3)
    # The log-density by hand: log sum_k pi_k N(x; mu_k, Sigma_k) with scikit-learn's parameters.
    np.testing.assert_allclose(model.log_prob(digits.x_test[:20]), reference.score_samples(_flat(digits.x_test[:20])),
                               atol=2e-2)


def test_batch_em_never_lowers_the_likelihood(digits):
    """EM's defining property (Dempster et al. 1977, Theorem 1): each batch-EM step raises log p(X) or keeps it."""
    x = digits.x_train
    for name, kwargs in [("ppca", {"latent_dim": 4}), ("gmm", {"components": 4, "reg_covar": 1e-2})]:
        model = zoo.load(name, input_shape=digits.input_shape, step_size_power=0.0, seed=1, **kwargs)
        model.initialize(x)
        curve = []
        for _ in range(15):
            model.fit(_whole_data(x), epochs=1, steps_per_epoch=1, verbose=0)
            curve.append(float(model.log_prob(x).mean()))
        assert all(b >= a - 1e-4 for a, b in zip(curve, curve[1:])), (name, curve)
        assert curve[-1] > curve[0] + 0.1, (name, curve)


@pytest.mark.parametrize("seed,lands", [(1, "the same optimum"), (2, "the same optimum")])
def test_sgd_on_the_likelihood_reaches_em_s_optimum(seed, lands):
    """The lecture's alternative to EM: Adam on log p(x) over the same parameters, from the same k-means++
    start. On a three-cluster mixture in 4 dimensions (600 points), EM (300 batch steps) and Adam (lr 1e-2,
    1000 steps): seeds 1 and 2 reach log p = 2.3458 both (equal to 1e-5 nats); seed 0 (not tested here)
    sends both to worse local optima, and not the same one (EM 1.389, Adam 1.371): neither method escapes a
    bad start. PPCA on digits: both reach -29.9624 (q 8, test_ppca_sgd_reaches_em)."""
    x = _synthetic_mixture()
    fitted = {}
    for fit_by, steps in (("em", 300), ("sgd", 1000)):
        model = zoo.load("gmm", input_shape=(2, 2, 1), components=3, reg_covar=1e-6, step_size_power=0.0,
                         fit_by=fit_by, learning_rate=1e-2, seed=seed)
        model.fit(_whole_data(x), epochs=1, steps_per_epoch=steps, verbose=0)
        fitted[fit_by] = float(model.log_prob(x).mean())
    assert fitted["em"] == pytest.approx(2.3458, abs=1e-3) and fitted["sgd"] == pytest.approx(fitted["em"], abs=1e-3), \
        fitted


def test_ppca_sgd_reaches_em(digits):
    x = digits.x_train
    fitted = {}
    for fit_by, steps in (("em", 200), ("sgd", 400)):
        model = zoo.load("ppca", input_shape=digits.input_shape, latent_dim=8, step_size_power=0.0, fit_by=fit_by,
                         learning_rate=1e-2, seed=0)
        model.fit(_whole_data(x), epochs=1, steps_per_epoch=steps, verbose=0)
        fitted[fit_by] = float(model.log_prob(x).mean())
    assert fitted["sgd"] == pytest.approx(fitted["em"], abs=2e-3), fitted


STEPWISE_GAIN_BAR, STEPWISE_GAP_BAR = 1.0, 12.0  # from the measurements in the test's docstring


@pytest.mark.learns
def test_stepwise_em_on_minibatches_learns(digits, learns_seed, request):
    """Stepwise EM (kappa 0.6) on minibatches of 64, 5 passes (125 steps), GMM of 10 components (reg 1e-2):
    the test log-likelihood against the batch-EM fit of the same model from the same start (200 steps), and
    against the start. Measured over seeds 0-4 (python -m tests.measured -n 1 -k stepwise_em), test log p in
    nats per image, start -> stepwise (batch EM): -1.55 -> 7.53 (10.41), -2.26 -> 4.89 (10.36), -5.56 -> 6.53
    (8.71), -4.31 -> 5.39 (7.65), -3.51 -> -2.28 (9.36). Gains +9.08 / +7.15 / +12.09 / +9.70 / +1.23; gaps
    to batch EM 2.88 / 5.46 / 2.18 / 2.27 / 11.63. Seed 4 is slow at every kappa tried (0.6 / 0.8 / 1.0:
    -2.28 / -1.83 / -1.84): five noisy passes do not undo its start, which batch EM does. Bars: the worst
    gain less 0.2, the worst gap plus 0.4 (stepwise EM learns, but in 125 steps it may stay well short of
    batch EM's optimum)."""
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    scores = {}
    for mode, kappa, stream, steps in (("stepwise", 0.6, data.train(64), 125),
                                       ("batch", 0.0, _whole_data(data.x_train), 200)):
        model = zoo.load("gmm", input_shape=data.input_shape, components=10, reg_covar=1e-2,
                         step_size_power=kappa, seed=learns_seed)
        model.initialize(data.x_train[:500])
        scores["start"] = float(model.log_prob(data.x_test).mean())
        model.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0)
        scores[mode] = float(model.log_prob(data.x_test).mean())
    report(request, **scores, gain=scores["stepwise"] - scores["start"], gap=scores["batch"] - scores["stepwise"])
    assert scores["stepwise"] >= scores["start"] + STEPWISE_GAIN_BAR, scores
    assert scores["stepwise"] >= scores["batch"] - STEPWISE_GAP_BAR, scores



def test_em_step_under_mirrored_strategy_equals_one_device(mirrored_strategy, digits):
    """The E-step's statistics are means over the global batch (all-reduced over replicas): one EM step on
    16 images split over two replicas gives the parameters of one step on one device."""
    x = digits.x_train[:16]
    results = []
    for strategy in (None, mirrored_strategy):
        with strategy.scope() if strategy else tf.init_scope():
            model = zoo.load("gmm", input_shape=digits.input_shape, components=2, reg_covar=1e-2, seed=0)
        model.initialize(digits.x_train[:200])
        dataset = tf.data.Dataset.from_tensors({"x": x}).repeat()
        model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
        results.append([v.numpy() for v in model.parameters()])
    for single, mirrored in zip(*results):
        np.testing.assert_allclose(mirrored, single, rtol=1e-4, atol=1e-4)


def test_full_gaussian_log_density_against_numpy():
    """zoo.losses.full_gaussian_log_density for one Gaussian and for a batch of two, against the density
    written out with numpy's slogdet and inverse."""
    from zoo import losses

    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 3))
    means = rng.normal(size=(2, 3))
    a = rng.normal(size=(2, 3, 3))
    covariances = a @ np.transpose(a, (0, 2, 1)) + 0.5 * np.eye(3)
    expected = np.stack([
        -0.5 * (3 * np.log(2 * np.pi) + np.linalg.slogdet(c)[1]
                + np.einsum("ni,ij,nj->n", x - m, np.linalg.inv(c), x - m))
        for m, c in zip(means, covariances)])
    scale = np.linalg.cholesky(covariances).astype("float32")
    got = losses.full_gaussian_log_density(x.astype("float32"), means.astype("float32"), scale)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-4)
    one = losses.full_gaussian_log_density(x.astype("float32"), means[0].astype("float32"), scale[0])
    np.testing.assert_allclose(np.asarray(one), expected[0], rtol=1e-4)
