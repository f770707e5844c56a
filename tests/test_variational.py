"""The variational SSL family (m1, m2, iwae, adgm, sdgm): harness, bounds by hand, label leakage."""

import math

import keras
import numpy as np
import pytest
from scipy import stats

import zoo
from tests.harness import run_method_test, seeded_model

SMALL_M2 = {"latent_dim": 4, "hidden": 16, "width": 0.25, "alpha": 2.6}
SMALL_ADGM = {"latent_dim": 4, "aux_dim": 3, "hidden": 16, "width": 0.25, "alpha": 2.6}
SMALL_M1_M2 = {"latent_dim": 6, "latent2_dim": 3, "hidden": 16, "m2_width": 0.1, "alpha": 2.6}


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [
    ("m1", {"latent_dim": 4}),
    ("m2", SMALL_M2),
    ("iwae", {"latent_dim": 4, "k": 3}),
    ("adgm", {**SMALL_ADGM, "warmup_steps": 5, "samples": 2}),
    ("sdgm", SMALL_ADGM),
    ("m1_m2", SMALL_M1_M2),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, kwargs, tmp_path=tmp_path)


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", labels=50, seed=0)


# ----------------------------------------------------------------- M2's bound
def test_m2_unlabeled_bound_is_the_sum_over_classes_by_hand(digits):
    model = seeded_model("m2", num_classes=10, **SMALL_M2)
    x = digits.x_test[:3]
    noise = np.random.default_rng(0).standard_normal((10, 3, 4)).astype("float32")
    bound = np.asarray(model.unlabeled_bound(x, noise)[0])
    q = model.classify(x)
    by_hand = np.zeros(3)
    for c in range(10):
        labeled = np.asarray(model.labeled_bound(x, np.full(3, c), noise[c]))  # L(x, y=c), same z noise
        by_hand += q[:, c] * labeled
    by_hand -= (q * np.log(q)).sum(-1)
    np.testing.assert_allclose(bound, by_hand, rtol=1e-5)


def test_m2_labeled_bound_by_hand(digits):
    """L(x, y) = log p(x|y,z) + log p(y) - KL, with z = mu + sigma * eps, computed from the nets' outputs."""
    model = seeded_model("m2", num_classes=10, **SMALL_M2)
    x, y = digits.x_test[:2], np.array([3, 7])
    noise = np.random.default_rng(1).standard_normal((2, 4)).astype("float32")
    onehot = np.eye(10, dtype="float32")[y]
    stats_ = np.asarray(model.posterior_head(np.concatenate([np.asarray(model.encoder(x)), onehot], -1)))
    mean, log_var = stats_[:, :4], stats_[:, 4:]
    z = mean + np.exp(0.5 * log_var) * noise
    logits = np.asarray(model.decoder(np.concatenate([z, onehot], -1))).reshape(2, -1)
    x01 = (x.reshape(2, -1) + 1) / 2
    log_px = (x01 * logits - np.logaddexp(0, logits)).sum(-1)
    kl = 0.5 * (np.exp(log_var) + mean ** 2 - 1 - log_var).sum(-1)
    np.testing.assert_allclose(model.labeled_bound(x, y, noise), log_px - math.log(10) - kl, rtol=1e-5)


def test_m2_log_prob_is_above_the_bound_and_samples_by_class(digits):
    model = seeded_model("m2", num_classes=10, **SMALL_M2)
    x = digits.x_test[:8]
    assert model.log_prob(x, k=200).mean() > model.elbo(x).mean()
    with pytest.raises(ValueError, match="labels must be in"):
        model.sample(2, labels=[0, 10])


# ------------------------------------------------------------ label leakage
@pytest.mark.parametrize("name,kwargs", [("m2", SMALL_M2), ("adgm", SMALL_ADGM), ("sdgm", SMALL_ADGM),
                                         ("m1_m2", SMALL_M1_M2)])
def test_unlabeled_terms_never_see_labels(name, kwargs, digits):
    """Two identical models, one step on batches that differ only in the labels:
    the unlabelled bound is identical, the labelled terms are not."""
    first = seeded_model(name, num_classes=10, **kwargs)
    second = seeded_model(name, num_classes=10, **kwargs)
    second.set_weights(first.get_weights())  # nets and the noise generator's state
    batch = next(iter(digits.train(16)))
    shuffled = dict(batch, y_labeled=(batch["y_labeled"] + 1) % 10)
    logs_a = {k: float(v) for k, v in first.train_step(batch).items()}
    logs_b = {k: float(v) for k, v in second.train_step(shuffled).items()}
    assert logs_a["unlabeled_bound"] == pytest.approx(logs_b["unlabeled_bound"], rel=1e-6)
    assert logs_a["labeled_bound"] != pytest.approx(logs_b["labeled_bound"], rel=1e-4)
    assert logs_a["classification"] != pytest.approx(logs_b["classification"], rel=1e-4)
    # and the unlabelled stream carries no labels at all
    with pytest.raises(ValueError, match="carry only"):
        first.train_step(dict(batch, y=batch["y_labeled"]))


# --------------------------------------------------------------------- IWAE
def test_iwae_with_one_sample_is_the_vae_elbo(digits):
    """L_1 = log p(x|z) + log p(z) - log q(z|x); its expectation is the ELBO with the analytic KL."""
    model = seeded_model("iwae", latent_dim=3, k=1)
    model.fit(digits.train(32), epochs=1, steps_per_epoch=5, verbose=0)
    x = digits.x_test[:4]
    draws = 3000
    noise = np.random.default_rng(0).standard_normal((draws, 4, 3)).astype("float32")
    iw = np.asarray(model.iw_bound(x, noise[:1]))
    # Same noise, term by term: L_1 - log p(x|z) = log N(z; 0, I) - log q(z|x).
    mean, log_var = (np.asarray(t) for t in model.posterior(x))
    z = mean + np.exp(0.5 * log_var) * noise[0]
    log_px = np.asarray(model.log_likelihood(x, z))
    expected = log_px + stats.norm.logpdf(z).sum(-1) - stats.norm.logpdf(z, mean, np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(iw, expected, rtol=1e-4, atol=1e-3)
    # In expectation: E L_1 = E log p(x|z) - KL (the VAE's bound), checked on many draws.
    log_w = np.asarray(model.log_importance_weights(x, noise))  # (draws, 4)
    x_rep = np.tile(x, (draws, 1, 1, 1))
    reconstruction, kl = model.bound_terms(x_rep, noise.reshape(draws * 4, 3))
    recon_minus_kl = (np.asarray(reconstruction) - np.asarray(kl)).reshape(draws, 4)
    difference = log_w - recon_minus_kl  # = KL estimate - KL, mean zero
    standard_error = difference.std(0) / math.sqrt(draws)
    np.testing.assert_array_less(np.abs(difference.mean(0)), 5 * standard_error + 1e-3)


def test_iwae_bound_grows_with_k(digits):
    model = seeded_model("iwae", latent_dim=3, k=5)
    x = digits.x_test[:16]
    rng = np.random.default_rng(0)
    repeats = 50

    def expected_bound(k):
        noise = rng.standard_normal((repeats * k, len(x), 3)).astype("float32")
        log_w = np.asarray(model.log_importance_weights(x, noise)).reshape(repeats, k, len(x))
        return np.asarray(zoo.losses.importance_weighted_bound(log_w, axis=1)).mean()

    bounds = [expected_bound(k) for k in (1, 5, 50)]
    assert bounds[0] < bounds[1] < bounds[2], bounds
    assert model.log_prob(x, k=500).mean() > bounds[0]


def test_vae_posterior_log_variance_bound(digits):
    bounded = seeded_model("vae", latent_dim=4, posterior_log_var_bound=3.0)
    kernel, bias = bounded.posterior_head.weights
    kernel.assign(np.zeros(kernel.shape, "float32"))
    bias.assign(np.r_[np.zeros(4), [-50.0, -1.0, 1.0, 50.0]].astype("float32"))
    _, log_var = bounded.posterior(digits.x_test[:2])
    np.testing.assert_allclose(log_var[0], 3.0 * np.tanh(np.array([-50.0, -1.0, 1.0, 50.0]) / 3.0), rtol=1e-5)
    assert zoo.load("vae", input_shape=(8, 8, 1), latent_dim=4).posterior_log_var_bound is None  # the paper's
    with pytest.raises(ValueError, match="posterior_log_var_bound"):
        seeded_model("vae", posterior_log_var_bound=0.0)


# ---------------------------------------------------------------------- M1
def test_m1_head_is_fitted_after_fit_and_not_before(digits):
    model = seeded_model("m1", num_classes=10, latent_dim=4)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.classify(digits.x_test[:2])
    model.fit(digits.train(32), epochs=1, steps_per_epoch=3, verbose=0)
    probabilities = model.classify(digits.x_test[:5])
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    svm = seeded_model("m1", num_classes=10, latent_dim=4, head="svm")
    svm.fit_classifier(*digits.labeled())
    assert svm.classify(digits.x_test[:5]).shape == (5, 10)
    with pytest.raises(ValueError, match="head must be"):
        seeded_model("m1", num_classes=10, head="tsvm")


# -------------------------------------------------------------------- ADGM
def test_adgm_warmup_and_sdgm_samples_through_a(digits):
    model = seeded_model("adgm", num_classes=10, **SMALL_ADGM, warmup_steps=4)
    history = model.fit(digits.train(16), epochs=3, steps_per_epoch=1, verbose=0)
    np.testing.assert_allclose(history.history["beta"], [0.0, 0.25, 0.5])
    sdgm = seeded_model("sdgm", num_classes=10, **SMALL_ADGM)
    # SDGM's decoder reads [z, y, a]: x is generated from a drawn from p(a|y,z).
    assert sdgm.decoder.input.shape[-1] == 4 + 10 + 3
    x = digits.x_test[:4]
    assert np.isfinite(sdgm.log_prob(x, k=20)).all()
    assert sdgm.log_prob(x, k=100).mean() > sdgm.elbo(x).mean()


# -------------------------------------------------------------------- M1+M2
def test_m1_m2_samples_through_both_decoders_and_pretrains_m1(digits):
    model = seeded_model("m1_m2", num_classes=10, **SMALL_M1_M2, m1_pretrain_steps=2)
    m2_before = [v.numpy().copy() for v in model.role_variables("m2")]
    model.fit(digits.train(16), epochs=1, steps_per_epoch=2, verbose=0)
    # M1 alone in its first steps: M2's weights have not moved.
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(m2_before, model.role_variables("m2")))
    model.fit(digits.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(m2_before, model.role_variables("m2")))
    images = model.sample(10, labels=range(10), seed=1)
    assert images.shape == (10, 8, 8, 1) and np.isfinite(images).all()
    assert model.encode(digits.x_test[:3]).shape == (3, 6)
