"""The variational SSL methods against their authors' code: M2's Eq. 9 weighting by hand, dynamic
binarisation, ADGM's q(y|a,x) non-linear in a, M1+M2's pretraining counter and inactive units."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import seeded_model
from zoo import losses

SMALL_M2 = {"latent_dim": 4, "hidden": 16, "width": 0.25}
SMALL_ADGM = {"latent_dim": 4, "aux_dim": 3, "hidden": 16, "width": 0.25, "alpha": 2.6}
SMALL_M1_M2 = {"latent_dim": 6, "latent2_dim": 3, "hidden": 16, "m2_width": 0.1, "alpha": 2.6}


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", labels=50, seed=0)


# ------------------------------------------------------------- M2's Eq. 9
@pytest.mark.parametrize("reference_nets", [False, True])
def test_m2_objective_is_eq9_by_hand(digits, reference_nets):
    """A data set of N_l = 3 labelled and N_u = 5 unlabelled images, each batch the whole set, so the
    batch means are the data-set means: the "paper" loss is J^a / N of Eq. 9 with a = 0.1 N, the
    "equal" loss the sum of the two means plus alpha times the mean cross-entropy."""
    n_l, n_u = 3, 5
    n = n_l + n_u
    x_l, y_l = digits.x_test[:n_l], np.array([1, 4, 7])
    x_u = digits.x_test[n_l:n]
    rng = np.random.default_rng(0)
    noise_l = rng.standard_normal((n_l, 4)).astype("float32")
    noise_u = rng.standard_normal((10, n_u, 4)).astype("float32")
    alpha = 0.1 * n / n_l  # the paper's a = 0.1 N, per labelled example a / N_l
    by_weighting = {}
    for weighting in ("paper", "equal"):
        model = seeded_model("m2", num_classes=10, alpha=alpha, weighting=weighting, num_labeled=n_l, num_unlabeled=n_u,
                       reference_nets=reference_nets, **SMALL_M2)
        if by_weighting:  # the same nets for both weightings
            model.set_weights(by_weighting["paper"][0].get_weights())
        loss, logs = model.objective(x_u, x_l, y_l, noise_l, noise_u, training=False)
        by_weighting[weighting] = model, float(loss), logs

    model = by_weighting["paper"][0]
    labeled = np.asarray(model.labeled_bound(x_l, y_l, noise_l))          # L(x, y), Eq. 6, per example
    unlabeled = np.asarray(model.unlabeled_bound(x_u, noise_u)[0])        # U(x), Eq. 7, per example
    q = np.asarray(model.classify(x_l))
    cross_entropy = -np.log(q[np.arange(n_l), y_l])                       # -log q(y|x) per labelled example
    eq9 = (-labeled).sum() + (-unlabeled).sum() + 0.1 * n * cross_entropy.mean()   # J^a, a = 0.1 N
    assert by_weighting["paper"][1] == pytest.approx(eq9 / n, rel=1e-5)
    equal = (-labeled).mean() + (-unlabeled).mean() + alpha * cross_entropy.mean()
    assert by_weighting["equal"][1] == pytest.approx(equal, rel=1e-5)
    # The logged parts are the batch means, whatever the weighting.
    for _, _, logs in by_weighting.values():
        assert float(logs["labeled_bound"]) == pytest.approx(labeled.mean(), rel=1e-5)
        assert float(logs["unlabeled_bound"]) == pytest.approx(unlabeled.mean(), rel=1e-5)
        assert float(logs["classification"]) == pytest.approx(cross_entropy.mean(), rel=1e-5)


def test_m2_paper_weighting_is_kingmas_minibatch_arithmetic():
    """Kingma's code: 1 labelled + 499 unlabelled per minibatch, beta = 0.1 N / N_l = 50 with N = 50,000,
    the minibatch sum divided by its size; the zoo's weights for N_l = 100, N_u = 49,900 and alpha = 50."""
    from zoo.models.ssl.ssl_vae import weighted_objective

    labeled, unlabeled, classification = -90.0, -100.0, 2.0
    kingma = (-(labeled - 50 * classification) - 499 * unlabeled) / 500
    zoo_loss = weighted_objective(labeled, unlabeled, classification, 50.0, "paper", 100, 49_900)
    assert float(zoo_loss) == pytest.approx(kingma, rel=1e-12)


def test_m2_rejects_bad_weighting_and_sizes():
    with pytest.raises(ValueError, match="weighting"):
        seeded_model("m2", num_classes=10, weighting="maaloe", **SMALL_M2)
    with pytest.raises(ValueError, match="num_labeled"):
        seeded_model("m2", num_classes=10, num_labeled=0, **SMALL_M2)


# ------------------------------------------------------ dynamic binarisation
def test_dynamic_binarisation_draws_bernoulli_pixels_independent_across_steps():
    grey = np.linspace(0.05, 0.95, 16, dtype="float32").reshape(1, 4, 4, 1)
    x = tf.constant(2.0 * grey - 1.0)
    seed = keras.random.SeedGenerator(3)
    draws = np.stack([np.asarray(losses.binarize_dynamically(x, seed)) for _ in range(4000)])  # (steps, 1, 4, 4, 1)
    assert set(np.unique(draws)) == {-1.0, 1.0}
    on = (draws + 1.0) / 2.0
    steps = len(on)
    # Mean: each pixel is 1 with probability its grey level (5 standard errors).
    standard_error = np.sqrt(grey * (1 - grey) / steps)
    np.testing.assert_array_less(np.abs(on.mean(0) - grey), 5 * standard_error)
    # Independence across steps: P(on at t and at t+1) = g^2, and the lag-1 correlation is ~0.
    both = (on[1:] * on[:-1]).mean(0)
    np.testing.assert_array_less(np.abs(both - grey ** 2), 5 * np.sqrt(grey ** 2 * (1 - grey ** 2) / steps) + 1e-3)
    flat = on.reshape(steps, -1)
    lag1 = [np.corrcoef(flat[1:, i], flat[:-1, i])[0, 1] for i in range(flat.shape[1])]
    assert np.max(np.abs(lag1)) < 5 / math.sqrt(steps), lag1
    # and across pixels within a step (pixels 5 and 10, grey 0.35 and 0.65)
    assert abs(np.corrcoef(flat[:, 5], flat[:, 10])[0, 1]) < 5 / math.sqrt(steps)


@pytest.mark.parametrize("name,kwargs,draws_per_step", [
    ("vae", {"latent_dim": 3}, 1),
    ("m1", {"num_classes": 10, "latent_dim": 3}, 1),
    ("m2", {"num_classes": 10, **SMALL_M2}, 2),
    ("m1_m2", {"num_classes": 10, **SMALL_M1_M2}, 1),
    ("adgm", {"num_classes": 10, **SMALL_ADGM}, 2),
    ("sdgm", {"num_classes": 10, **SMALL_ADGM}, 2),
])
def test_bernoulli_methods_binarise_each_training_batch_from_their_own_seed(name, kwargs, draws_per_step, digits,
                                                                            monkeypatch, tmp_path):
    """binarize="dynamic": every step draws the likelihood's targets (labelled and unlabelled batch where
    the method has both) through the shared helper, from the model's seed generator; None draws none."""
    calls = []
    helper = losses.binarize_dynamically

    def counting(x, seed):
        calls.append(seed)
        return helper(x, seed)

    monkeypatch.setattr(losses, "binarize_dynamically", counting)
    batch = next(iter(digits.train(8)))
    if name == "vae":
        batch = {"x": batch["x"]}
    plain = seeded_model(name, **kwargs)
    plain.train_step(batch)
    assert plain.binarize is None and not calls
    model = seeded_model(name, binarize="dynamic", **kwargs)
    for _ in range(2):
        model.train_step(batch)
    assert len(calls) == 2 * draws_per_step
    assert all(seed is model.seed_generator for seed in calls)
    assert model.get_config()["binarize"] == "dynamic"
    with pytest.raises(ValueError, match="binarize"):
        seeded_model(name, binarize="static", **kwargs)


def test_binarize_keeps_the_boolean_form_and_needs_a_bernoulli_likelihood():
    assert seeded_model("vae", latent_dim=3, binarize=True).binarize == "dynamic"
    assert seeded_model("vae", latent_dim=3, binarize=False).binarize is None
    with pytest.raises(ValueError, match="bernoulli"):
        seeded_model("vae", latent_dim=3, likelihood="gaussian", binarize="dynamic")


# --------------------------------------------------------------- ADGM / SDGM
@pytest.mark.parametrize("name", ["adgm", "sdgm"])
@pytest.mark.parametrize("reference_nets", [False, True])
def test_adgm_classifier_is_non_linear_in_a(name, reference_nets, digits):
    """d logits / d a of q(y|a, x) changes with a (a linear read-out of a would have one Jacobian)."""
    model = seeded_model(name, num_classes=10, reference_nets=reference_nets,
                   **{**SMALL_ADGM, "width": 1.0 if reference_nets else 0.25})
    x = digits.x_test[:1]
    features = model.classifier(x)
    rng = np.random.default_rng(0)

    def jacobian(a):
        a = tf.Variable(a)
        with tf.GradientTape() as tape:
            logits = model.classifier_head(tf.concat([features, a], -1), training=False)
        return tape.jacobian(logits, a).numpy().reshape(10, -1)

    first = jacobian(rng.standard_normal((1, 3)).astype("float32"))
    second = jacobian(3.0 * rng.standard_normal((1, 3)).astype("float32"))
    assert np.abs(first).max() > 0
    assert np.abs(first - second).max() > 1e-3 * np.abs(first).max(), "q(y|a,x) is linear in a"
    # a enters the first hidden layer: the first Dense reads [features(x), a].
    assert model.classifier_head.layers[1].kernel.shape[0] == features.shape[-1] + 3


def test_adgm_mean_of_samples_is_the_average_of_one_sample_bounds(digits):
    mean_model = seeded_model("adgm", num_classes=10, samples=2, **SMALL_ADGM)
    iw_model = seeded_model("adgm", num_classes=10, samples=2, sample_bound="importance_weighted", **SMALL_ADGM)
    iw_model.set_weights(mean_model.get_weights())
    x, y = digits.x_test[:3], np.array([0, 1, 2])
    rng = np.random.default_rng(0)
    noise_a = rng.standard_normal((2, 3, 3)).astype("float32")
    noise_z = rng.standard_normal((2, 3, 4)).astype("float32")
    one = [np.asarray(mean_model.labeled_bound(x, y, noise_a[s:s + 1], noise_z[s:s + 1])[0]) for s in range(2)]
    np.testing.assert_allclose(mean_model.labeled_bound(x, y, noise_a, noise_z)[0], np.mean(one, 0), rtol=1e-5)
    iw = np.asarray(iw_model.labeled_bound(x, y, noise_a, noise_z)[0])
    np.testing.assert_allclose(iw, np.logaddexp(*one) - math.log(2), rtol=1e-5)
    with pytest.raises(ValueError, match="sample_bound"):
        seeded_model("adgm", num_classes=10, sample_bound="max", **SMALL_ADGM)


def test_adgm_learning_rate_decays_by_steps_to_its_floor():
    model = seeded_model("adgm", num_classes=10, decay_every=10, decay_rate=0.5, learning_rate=1e-3,
                   min_learning_rate=2e-4, clip_norm=5.0, **SMALL_ADGM)
    optimizer = model.role_optimizers["vae"]
    schedule = optimizer._learning_rate
    rates = [float(schedule(step)) for step in (0, 10, 11, 21, 31, 1000)]
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 5e-4, 2.5e-4, 2e-4, 2e-4], rtol=1e-6)
    assert optimizer.global_clipnorm == 5.0


# -------------------------------------------------------------------- M1+M2
def test_m1_m2_m2_optimizer_counts_only_its_own_steps(digits):
    model = seeded_model("m1_m2", num_classes=10, m1_pretrain_steps=2, inactive_std=None, **SMALL_M1_M2)
    model.fit(digits.train(16), epochs=1, steps_per_epoch=2, verbose=0)
    assert int(model.role_optimizers["m1"].iterations) == 2
    assert int(model.role_optimizers["m2"].iterations) == 0  # no Adam step (nor bias-correction count) yet
    model.fit(digits.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(model.role_optimizers["m2"].iterations) == 1
    np.testing.assert_array_equal(model.m2.active_units.numpy(), np.ones(6))


def test_m1_m2_drops_inactive_units_by_kingmas_criterion(digits):
    """A unit whose posterior mean does not vary across images (std <= 0.1) is dropped."""
    model = seeded_model("m1_m2", num_classes=10, **SMALL_M1_M2)
    kernel, bias = model.m1.posterior_head.weights
    scaled = kernel.numpy()
    scaled[:, :2] = 0.0            # units 0, 1: mean = bias whatever x (inactive)
    scaled[:, 2:6] *= 100.0        # units 2-5: vary with x
    kernel.assign(scaled)
    active = np.asarray(model.active_units_of(digits.x_test[:100]))
    np.testing.assert_array_equal(active, [0, 0, 1, 1, 1, 1])
    # In training the drop happens once, at M2's first step after M1's pretraining.
    model = seeded_model("m1_m2", num_classes=10, m1_pretrain_steps=1, inactive_std=1e6, **SMALL_M1_M2)
    model.fit(digits.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    np.testing.assert_array_equal(model.m2.active_units.numpy(), np.ones(6))
    model.fit(digits.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    np.testing.assert_array_equal(model.m2.active_units.numpy(), np.zeros(6))  # every unit below 1e6
    # Dropped units reach M2 as 0 and the elbo scores them under the prior: finite, and samples work.
    assert np.isfinite(model.elbo(digits.x_test[:4])).all()
    assert model.sample(3, labels=[0, 1, 2], seed=0).shape == (3, 8, 8, 1)
