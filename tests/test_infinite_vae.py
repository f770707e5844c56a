"""Infinite VAE: harness, the CRP assignment rule by hand, spawning, label leakage, it learns."""

import math

import keras
import numpy as np
import pytest

import recipes
import zoo
from tests.measured import report
from tests.harness import run_method_test
from zoo.models.ssl.infinite_vae import NEVER, assignment_probabilities, crp_log_prior

TINY = {"max_components": 2, "latent_dim": 4, "expert_hidden": 8}


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    return zoo.load("infinite_vae", input_shape=(8, 8, 1), num_classes=10, seed=0, **{**TINY, **kwargs})


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", labels=50, seed=0)


def test_harness(tmp_path):
    # Both slots start active so that both VAEs and both experts train in two steps.
    run_method_test("infinite_vae", {**TINY, "initial_components": 2}, tmp_path=tmp_path)


# ----------------------------------------------------------- the CRP rule
def test_assignment_probabilities_by_hand():
    """p(c_i = k) ∝ n_k e^{L_k} for active slots, alpha e^{L_new} for the first free one, 0 after it."""
    counts = np.array([3.0, 1.0, 0.0, 0.0], "float32")
    alpha = 0.5
    elbos = np.array([[-10.0, -11.0, -9.0, -1.0], [-20.0, -18.0, -25.0, 0.0]], "float32")
    prior = np.exp(np.asarray(crp_log_prior(counts, math.log(alpha), min_count=0.01)))
    np.testing.assert_allclose(prior, [3 / 4.5, 1 / 4.5, 0.5 / 4.5, 0.0], rtol=1e-6, atol=1e-30)
    weights = np.array([3.0, 1.0, 0.5, 0.0]) * np.exp(elbos.astype("float64"))
    expected = weights / weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(assignment_probabilities(elbos, counts, math.log(alpha), 0.01), expected,
                               rtol=1e-5, atol=1e-12)
    # Every slot active: no new component is offered (the truncation), the counts share all the mass.
    np.testing.assert_allclose(np.exp(np.asarray(crp_log_prior(np.array([2.0, 6.0]), 0.0))), [0.25, 0.75],
                               rtol=1e-6)


def test_gibbs_step_samples_the_rule():
    """The model's Gibbs draws follow `assignment_probabilities` (4,000 rows, 5 sigma)."""
    model = _model(max_components=3, concentration=2.0)
    model.counts.assign([4.0, 2.0, 0.0])
    elbos = np.tile(np.array([[-1.0, 0.0, -0.5]], "float32"), (4000, 1))
    draws = np.asarray(model.gibbs_step(elbos)).mean(0)
    expected = np.asarray(assignment_probabilities(elbos[:1], model.counts, math.log(2.0)))[0]
    np.testing.assert_allclose(draws, expected, atol=5 * np.sqrt(expected * (1 - expected) / 4000).max())


def _poorly_explained(concentration):
    """A model whose only active VAE predicts every pixel white (decoder bias +5): digits
    (mostly black) cost it about 5 nats per pixel more than a fresh, untrained VAE."""
    model = _model(concentration=concentration)
    kernel, bias = model.vaes[0].decoder.layers[-1].get_weights()
    model.vaes[0].decoder.layers[-1].set_weights([kernel * 0, bias + 5.0])
    return model


def test_a_new_component_opens_where_the_data_is_poorly_explained(digits):
    batch = next(iter(digits.train(32)))
    model = _poorly_explained(concentration=1.0)
    assert int(model.active_components()) == 1
    logs = model.train_step(batch)
    counts = model.counts.numpy()
    assert int(model.active_components()) == 2 and counts[1] > 16, counts  # most of the batch moved
    assert float(logs["active_components"]) == 2.0


def test_no_component_opens_as_concentration_goes_to_zero(digits):
    """Same poorly explained data, alpha = 1e-300: log alpha = -691 outweighs the ~300 nats the
    new VAE would gain, so every example stays with the active VAE."""
    batch = next(iter(digits.train(32)))
    model = _poorly_explained(concentration=1e-300)
    model.train_step(batch)
    assert int(model.active_components()) == 1
    np.testing.assert_allclose(model.counts.numpy(), [0.99 + 32, 0.0], rtol=1e-6)  # decayed 1, plus the batch
    np.testing.assert_allclose(np.asarray(model.log_weights()), [0.0, NEVER], rtol=1e-6)


# ---------------------------------------------------------- label leakage
def test_unlabeled_terms_never_see_labels(digits):
    """Two identical models, one step on batches that differ only in the labels: the Gibbs
    step, the counts and the unlabelled bound are identical; the classification is not."""
    first, second = _model(initial_components=2), _model(initial_components=2)
    second.set_weights(first.get_weights())  # nets, counts and the noise generator's state
    batch = next(iter(digits.train(16)))
    shuffled = dict(batch, y_labeled=(batch["y_labeled"] + 1) % 10)
    logs_a = {k: float(v) for k, v in first.train_step(batch).items()}
    logs_b = {k: float(v) for k, v in second.train_step(shuffled).items()}
    assert logs_a["unlabeled_bound"] == pytest.approx(logs_b["unlabeled_bound"], rel=1e-6)
    np.testing.assert_array_equal(first.counts.numpy(), second.counts.numpy())
    assert logs_a["classification"] != pytest.approx(logs_b["classification"], rel=1e-4)
    with pytest.raises(ValueError, match="carry only"):
        first.train_step(dict(batch, y=batch["y_labeled"]))


# ------------------------------------------------------- hyper-parameters
def test_a_slot_with_extreme_log_variances_does_not_poison_the_step(digits):
    """Every slot scores every input. A slot whose raw posterior log-variance is far past exp()'s float32
    range (here 200 on every input; measured -34..93 in a young slot on Fashion-MNIST, which made whole
    runs NaN) must leave the losses and every weight finite."""
    model = _model(initial_components=2)
    kernel, bias = model.vaes[1].posterior_head.weights
    kernel.assign(np.zeros(kernel.shape, "float32"))
    bias.assign(np.r_[np.zeros(TINY["latent_dim"]), np.full(TINY["latent_dim"], 200.0)].astype("float32"))
    mean, log_var = model.vaes[1].posterior(digits.x_test[:8])
    assert float(np.max(log_var)) <= 20.0  # soft-bounded (tanh saturates to 20 in float32); exp(200) is inf
    logs = model.train_step(next(iter(digits.train(32))))
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    assert all(np.isfinite(w.numpy()).all() for w in model.trainable_weights)


@pytest.mark.parametrize("kwargs,match", [
    ({"max_components": 0}, "max_components"),
    ({"max_components": 2.5}, "max_components"),
    ({"concentration": 0.0}, "concentration"),
    ({"concentration": -1.0}, "concentration"),
    ({"initial_components": 3}, "initial_components"),
    ({"count_decay": 1.0}, "count_decay"),
    ({"classification_weight": -1.0}, "classification_weight"),
])
def test_bad_hyper_parameters_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.get("infinite_vae")((8, 8, 1), 10, **{**TINY, **kwargs})


def test_recipes_resolve():
    for name in ("infinite_vae_digits_50", "infinite_vae_mnist_100", "infinite_vae_fashion_mnist_100"):
        recipe = recipes.get(name)
        assert recipe.method == "infinite_vae" and recipe.setting("cpu")["steps"] > 0
    assert recipes.get("infinite_vae_mnist_100").setting("paper")["hparams"]["max_components"] == 10


# --------------------------------------------------------------- it learns
def _expert_net_alone(data, steps, latent_dim, hidden):
    """The classifier net of the mixture's experts (a component's encoder trunk, posterior mean,
    expert MLP), trained end to end on the labelled batches alone."""
    vae = zoo.get("vae")(data.input_shape, latent_dim=latent_dim)
    expert = zoo.nets.vector_mlp(latent_dim, [hidden], data.num_classes, name="expert")
    images = keras.Input(data.input_shape)
    net = keras.Model(images, expert(vae.posterior_head(vae.encoder(images))[:, :latent_dim]))
    net.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(data.train(64).map(lambda b: (b["x_labeled"], b["y_labeled"])), epochs=1, steps_per_epoch=steps,
            verbose=0, shuffle=False)
    return float(np.mean(np.argmax(net.predict(data.x_test, verbose=0), -1) == data.y_test))


@pytest.mark.learns
def test_it_beats_its_classifier_net_trained_on_labels_alone(learns_seed, request):
    """150 steps x 64, 2 slots, latent 16, experts of 64 units, classification_weight 5.

    Measured over seeds 0-4 (python -m tests.measured; digits, 50 labels, 500 test images), infinite
    VAE vs the same classifier net on the labels alone, 150 steps: 0.850 / 0.808 / 0.816 / 0.826 / 0.786
    against 0.772 / 0.722 / 0.750 / 0.766 / 0.728 (+0.078 / +0.086 / +0.066 / +0.060 / +0.058).
    Bar: the worst gain - 0.01 = +0.048.
    Re-measured at 97e3b84 (labelled batches by permutation), seeds 0 / 1 only (python -m tests.measured --seeds 0,1):
    0.826 / 0.812 against 0.762 / 0.728 (+0.064 / +0.084).
    The zoo's `supervised` conv net, with dropout and input noise, reaches 0.84 at 300 steps
    (0.85 at 600): at this budget the mixture does not beat that regularised net, only its own
    classifier net without the unlabelled data.
    """
    steps, kwargs = 150, {"max_components": 2, "latent_dim": 16, "expert_hidden": 64, "classification_weight": 5.0}
    digits = zoo.data.load("digits", labels=50, seed=learns_seed)
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load("infinite_vae", input_shape=digits.input_shape, num_classes=10, seed=learns_seed, **kwargs)
    model.fit(digits.train(64), epochs=1, steps_per_epoch=steps, verbose=0)
    accuracy = zoo.metrics.accuracy(model, digits.x_test, digits.y_test)
    keras.utils.set_random_seed(learns_seed)
    baseline = _expert_net_alone(digits, steps, 16, 64)
    report(request, accuracy=accuracy, baseline=baseline, gain=accuracy - baseline)
    assert accuracy >= baseline + 0.048, (accuracy, baseline)
