"""DANN (Ganin et al. 2016): the gradient reversal layer, the schedules, one step against a hand computation,
the domain data's batches, harness, and that adaptation helps on a real domain shift."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import run_method_test
from tests.measured import report
from zoo import losses, schedules
from zoo.data import DomainData, SSLData, resize_images
from zoo.layers import GradientReversal

# Bars of the learns test (see it), from seeds 0-4: the control's worst held-out domain loss 0.0098 times 5,
# DANN's worst 0.467 about halved.
CONTROL_BAR, DANN_BAR = 0.05, 0.25


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits", seed=0)


def test_gradient_reversal_is_the_identity_forward_and_minus_lambda_backward():
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    upstream = tf.constant(np.random.default_rng(1).normal(size=(4, 3)).astype("float32"))
    for scale in (0.37, tf.constant(0.37), tf.constant(2.0)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = GradientReversal()(x, scale=scale)
            objective = tf.reduce_sum(upstream * y)
        np.testing.assert_array_equal(y.numpy(), x.numpy())  # exactly x, not x up to round-off
        np.testing.assert_allclose(tape.gradient(objective, x).numpy(), -float(scale) * upstream.numpy(),
                                   rtol=1e-6)
    layer = GradientReversal(scale=0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        objective = tf.reduce_sum(upstream * layer(x))
    np.testing.assert_allclose(tape.gradient(objective, x).numpy(), -0.5 * upstream.numpy(), rtol=1e-6)
    assert GradientReversal.from_config(layer.get_config()).scale == 0.5


def test_the_papers_schedules():
    """Ganin et al. 2016, Sec. 5.2.2: lambda_p = 2 / (1 + exp(-10 p)) - 1, mu_p = 0.01 / (1 + 10 p)^0.75."""
    for p in (0.0, 0.1, 0.5, 1.0):
        want = 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0
        assert float(schedules.domain_adaptation_weight(p)) == pytest.approx(want, rel=1e-6, abs=1e-7)
    decay = schedules.InverseDecay(0.01, total_steps=200)
    for step, p in ((0, 0.0), (50, 0.25), (200, 1.0), (400, 1.0)):  # p stays 1 past the run's end
        assert float(decay(step)) == pytest.approx(0.01 / (1.0 + 10.0 * p) ** 0.75, rel=1e-6)
    assert schedules.InverseDecay.from_config(decay.get_config()).get_config() == decay.get_config()
    with pytest.raises(ValueError, match="total_steps"):
        schedules.InverseDecay(0.01, total_steps=0)


def _domains(data, target_transform):
    target = SSLData(data.name, target_transform(data.x_train), data.y_train, target_transform(data.x_test),
                     data.y_test, np.arange(len(data.x_train)), data.source, data.seed)
    return DomainData(data, target)


def test_one_step_is_the_papers_update_by_hand(digits):
    """From step 5 of 10 (p = 0.5): features move by -mu_p (dL_y/df - lambda_p dL_d/df), the label predictor
    by -mu_p dL_y/dc, the domain classifier by -mu_p dL_d/dd (SGD's first step with momentum is -mu g)."""
    task = _domains(digits, lambda x: -x)
    keras.utils.set_random_seed(0)
    model = zoo.load("dann", input_shape=(8, 8, 1), num_classes=10, total_steps=10)
    for optimizer in model.role_optimizers.values():
        optimizer.iterations.assign(5)
    batch = next(iter(task.train(16)))
    x_t, x_s, y_s = batch["x"], batch["x_labeled"], batch["y_labeled"]
    f, c, d = (model.role_variables(r) for r in ("f", "c", "d"))
    with tf.GradientTape(persistent=True) as tape:  # the two losses apart, no reversal
        h_s, h_t = model.features(x_s), model.features(x_t)
        label_loss = losses.cross_entropy(y_s, model.classifier_head(h_s))
        domain_loss = (tf.reduce_mean(tf.nn.softplus(model.domain_classifier(h_s)))
                       + tf.reduce_mean(tf.nn.softplus(-model.domain_classifier(h_t))))
    lam = 2.0 / (1.0 + math.exp(-5.0)) - 1.0
    mu = 0.01 / 6.0 ** 0.75
    want = {
        "f": [v.numpy() - mu * (gy.numpy() - lam * gd.numpy())
              for v, gy, gd in zip(f, tape.gradient(label_loss, f), tape.gradient(domain_loss, f))],
        "c": [v.numpy() - mu * g.numpy() for v, g in zip(c, tape.gradient(label_loss, c))],
        "d": [v.numpy() - mu * g.numpy() for v, g in zip(d, tape.gradient(domain_loss, d))],
    }
    logs = {k: float(v) for k, v in model.train_step(batch).items()}
    assert logs["adaptation_weight"] == pytest.approx(lam, rel=1e-5)
    assert logs["domain_loss"] == pytest.approx(float(domain_loss), rel=1e-5)
    for role, values in want.items():
        for v, w in zip(model.role_variables(role), values):
            np.testing.assert_allclose(v.numpy(), w, rtol=1e-4, atol=1e-6, err_msg=f"{role}: {v.path}")


def test_source_only_never_trains_the_domain_classifier(digits):
    task = _domains(digits, lambda x: -x)
    model = zoo.load("dann", input_shape=(8, 8, 1), num_classes=10, adaptation=False, total_steps=10)
    before = [v.numpy().copy() for v in model.domain_classifier.weights]
    history = model.fit(task.train(16), epochs=1, steps_per_epoch=3, verbose=0)
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, model.domain_classifier.weights))
    assert int(model.role_optimizers["d"].iterations) == 0 and int(model.role_optimizers["f"].iterations) == 3
    assert history.history["domain_loss"] == [0.0] and history.history["adaptation_weight"] == [0.0]


def test_domain_batches_put_the_source_labelled_and_the_target_unlabelled(digits):
    task = _domains(digits, lambda x: -x)
    assert task.num_labels == len(digits.x_train) and task.labeled()[0] is digits.x_train
    batch = next(iter(task.train(32)))
    assert set(batch) == {"x", "x_labeled", "y_labeled"}
    target_pool = {x.tobytes() for x in -digits.x_train}
    assert all(x.tobytes() in target_pool for x in batch["x"].numpy())  # "x": target images, no labels
    source_pool = {x.tobytes(): y for x, y in zip(digits.x_train, digits.y_train)}
    assert all(source_pool[x.tobytes()] == y for x, y in zip(batch["x_labeled"].numpy(), batch["y_labeled"].numpy()))
    np.testing.assert_array_equal(next(iter(task.test(10)))[0].numpy(), -digits.x_test[:10])
    np.testing.assert_array_equal(next(iter(task.source_test(10)))[0].numpy(), digits.x_test[:10])
    with pytest.raises(ValueError, match="exclude_labeled does not apply"):
        task.train(32, exclude_labeled=True)


def test_load_domains_resizes_to_a_common_side():
    task = zoo.data.load_domains("digits", "digits", side=28, box="full")
    assert task.input_shape == (28, 28, 1) and task.x_source.shape[1:] == (28, 28, 1)
    assert task.x_train.min() >= -1.0 and task.x_train.max() <= 1.0
    # Resizing keeps the image: shrunk back to 8x8 (area averaging) it correlates with the original at 0.978
    # (measured); a transposed or shifted image would not.
    pooled = tf.image.resize(task.x_test[:50], (8, 8), method="area").numpy()
    original = zoo.data.load("digits").x_test[:50]
    assert np.corrcoef(pooled.ravel(), original.ravel())[0, 1] > 0.95
    assert np.corrcoef(pooled.ravel(), np.swapaxes(original, 1, 2).ravel())[0, 1] < 0.9
    assert "digits" in repr(task) and task.num_classes == 10
    # MNIST's framing (the default): the digit in the central 20x20, a background margin of 4 pixels.
    framed = zoo.data.load_domains("digits", "digits", side=28)
    assert (framed.x_test[:, :4] == -1.0).all() and (framed.x_test[:, :, -4:] == -1.0).all()
    inner = tf.image.resize(task.x_test[:50], (20, 20), method="area").numpy()
    assert np.abs(framed.x_test[:50, 4:24, 4:24] - inner).mean() < 0.05
    with pytest.raises(ValueError, match="box must be"):
        zoo.data.load_domains("digits", "digits", box="tight")


def test_harness(tmp_path):
    run_method_test("dann", {"total_steps": 10}, tmp_path=tmp_path)


@pytest.mark.learns
def test_dann_hides_the_domain_from_its_domain_classifier(learns_seed, request):
    """What the reversed gradient learns: features from which the domain classifier trained beside them cannot
    tell the domains apart. Task: digits stretched to 16x16 (source) -> digits scaled into a 10x10 box of
    16x16 (target), 600 steps of 32 + 32, mu_0 0.002 (at the paper's 0.01 this small net diverged: domain
    loss ~200, then dead features). Control: the same run with gamma = 0 (lambda = 0: the domain classifier
    trains, the features are not pushed). Score: the domain classifier's logistic loss on the held-out images
    of both domains (2 log 2 = 1.386 at chance).

    Measured (seeds 0-4, commit a41c93e, `python -m tests.measured -n 1 -k hides_the_domain`): held-out
    domain loss, control 0.0058 / 0.0030 / 0.0098 / 0.0033 / 0.0057 (it tells the domains apart), DANN
    1.249 / 0.467 / 1.077 / 1.101 / 1.631 (about chance; seed 1 caught with its domain classifier ahead in
    the game); bars 0.05 and 0.25. (In runs of this setting by an exploration script, model seeds 0-4
    on the digits split of seed 0, DANN's target accuracy against the control's: 31.0 / 28.4 / 22.8 / 36.2 / 26.6 % against 28.6 / 22.2 / 24.4 / 19.4 / 27.4 %,
    -1.6..+16.8 points, too noisy at this budget for a bar; and a freshly trained linear probe still
    separates the two domains' features at 0.998-1.0: DANN hides the domain from its own adversary, not
    from every one.)
    """
    data = zoo.data.load("digits", seed=learns_seed)

    def domain(box):
        return SSLData("digits", resize_images(data.x_train, 16, box), data.y_train,
                       resize_images(data.x_test, 16, box), data.y_test, np.arange(len(data.x_train)), "x", 0)

    source, target = domain(16), domain(10)
    task = DomainData(source, target)
    held_out = {}
    for gamma in (0.0, 10.0):
        keras.utils.set_random_seed(learns_seed)
        model = zoo.load("dann", input_shape=(16, 16, 1), num_classes=10, total_steps=600, learning_rate=0.002,
                         gamma=gamma, seed=learns_seed)
        model.fit(task.train(32, seed=learns_seed), epochs=1, steps_per_epoch=600, verbose=0)
        logits = [model.domain_classifier(model.features(x)) for x in (source.x_test, target.x_test)]
        held_out[gamma] = float(losses.domain_classification_loss(*logits))
    report(request, control_domain_loss=held_out[0.0], dann_domain_loss=held_out[10.0])
    assert held_out[0.0] < CONTROL_BAR < DANN_BAR < held_out[10.0], held_out
