"""augmented_bigan and bigbigan: the shared harness, the tangent penalty and the hinge losses against
independent computations, label leakage, XLA, and "it learns" on digits."""


import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import assert_labels_reach_no_unsupervised_term, run_method_test, reconstruction_and_mmd2
from tests.measured import report
from zoo import losses

TINY = {"latent_dim": 4, "discriminator_units": 32}


@pytest.mark.parametrize("name", ["augmented_bigan", "bigbigan"])
def test_harness(name, tmp_path):
    run_method_test(name, TINY, tmp_path=tmp_path)


def _np(x):
    return keras.ops.convert_to_numpy(x)


# ------------------------------------------------------------ tangent penalty
def test_tangent_penalty_against_central_differences(digits50):
    """Omega = mean_x ||J_x l(x, E(x)) v||^2 with v = J_z G(E(x)) eps / ||.||: the tangents against the
    full Jacobian of G by reverse mode (the model uses forward mode), Omega against numpy central
    differences of the model's classifier logits along them, with another step than the model's."""
    model = zoo.load("augmented_bigan", input_shape=digits50.input_shape, num_classes=10, seed=0, **TINY)
    x = digits50.x_train[:4]
    eps = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")

    z = tf.constant(model.encode(x))
    with tf.GradientTape() as tape:
        tape.watch(z)
        images = tf.reshape(model.generator(z, training=False), (4, -1))
    jacobian = _np(tape.batch_jacobian(images, z))                       # (4, 64, latent_dim)
    v = np.einsum("bpl,bl->bp", jacobian, eps)
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).reshape(x.shape)
    np.testing.assert_allclose(_np(model.tangents(x, eps)), v, rtol=1e-4, atol=1e-6)

    logits = lambda x_: _np(model.logits(x_.astype("float32"))).astype("float64")  # noqa: E731
    step = 1e-3  # the model's step is 1e-2: an independent difference, not the same computation
    directional = (logits(x + step * v) - logits(x - step * v)) / (2 * step)
    expected = np.mean(np.sum(directional ** 2, axis=-1))
    assert expected > 0
    np.testing.assert_allclose(float(_np(model.tangent_penalty(x, eps))), expected, rtol=3e-2)


def test_tangent_penalty_trains_under_xla(digits50):
    """GPUs compile with XLA by default: the penalty's gradient must exist there (a forward-mode
    product inside the training tape does not, through D's concatenation)."""
    model = zoo.load("augmented_bigan", input_shape=digits50.input_shape, num_classes=10, seed=0, **TINY)
    x = tf.constant(digits50.x_train[:8])
    eps = tf.random.normal((8, 4), seed=0)
    variables = model.role_variables("d")

    @tf.function(jit_compile=True)
    def gradient():
        with tf.GradientTape() as tape:
            penalty = model.tangent_penalty(x, eps)
        return penalty, tape.gradient(penalty, variables)

    penalty, grads = gradient()
    assert np.isfinite(float(penalty)) and all(np.isfinite(_np(g)).all() for g in grads)
    assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0


# ------------------------------------------------------------ BigBiGAN losses
def test_bigbigan_hinge_losses_by_hand():
    """Donahue & Simonyan 2019, Sec. 2: l_D = h(y s_x) + h(y s_z) + h(y s_xz), h(t) = max(0, 1 - t);
    l_EG = y (s_x + s_z + s_xz); y = +1 for (x, E(x)), -1 for (G(z), z); means over the batch."""
    real = np.array([[0.5, -2.0, 1.5], [-0.3, 0.2, 3.0]], "float32")   # columns s_x, s_z, s_xz
    fake = np.array([[0.0, -1.5, 2.0], [-3.0, 0.9, -0.5]], "float32")
    hinge = lambda t: max(0.0, 1.0 - t)  # noqa: E731
    d_real = np.mean([sum(hinge(+s) for s in row) for row in real])   # (0.5 + 3 + 0) and (1.3 + 0.8 + 0)
    d_fake = np.mean([sum(hinge(-s) for s in row) for row in fake])   # (1 + 0 + 3) and (0 + 1.9 + 0.5)
    assert np.isclose(d_real, (3.5 + 2.1) / 2) and np.isclose(d_fake, (4.0 + 2.4) / 2)
    np.testing.assert_allclose(_np(losses.hinge_real_loss(real)), d_real, rtol=1e-6)
    np.testing.assert_allclose(_np(losses.hinge_fake_loss(fake)), d_fake, rtol=1e-6)
    eg = np.mean(real.sum(-1)) - np.mean(fake.sum(-1))
    np.testing.assert_allclose(_np(losses.score_loss(real, 1.0) + losses.score_loss(fake, -1.0)), eg, rtol=1e-6)

    # The model's two losses are these functions of D's three scores on its two kinds of pairs.
    data = zoo.data.load("digits")
    model = zoo.load("bigbigan", input_shape=data.input_shape, seed=0, **TINY)
    x = data.x_train[:6]
    z, noise = tf.constant(np.random.default_rng(1).normal(size=(2, 6, 4)).astype("float32"))
    scores_real, scores_fake = (_np(s) for s in model.pair_logits(x, z, noise, training=False))
    assert scores_real.shape == (6, 3)
    d_loss, _ = model.discriminator_losses(x, z, noise, training=False)
    g_loss, _ = model.generator_losses(x, z, noise, training=False)
    h = lambda s: np.maximum(0.0, 1.0 - s)  # noqa: E731
    np.testing.assert_allclose(float(d_loss), np.mean(h(scores_real).sum(-1)) + np.mean(h(-scores_fake).sum(-1)),
                               rtol=1e-5)
    np.testing.assert_allclose(float(g_loss), np.mean(scores_real.sum(-1)) - np.mean(scores_fake.sum(-1)),
                               rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------- label leakage
def test_augmented_bigan_label_leakage(digits50):
    """The adversarial, feature-matching and tangent terms take no labels (by signature); with the
    supervised term switched off, two steps on batches that differ only in `y_labeled` leave every
    weight identical."""
    cls = zoo.get("augmented_bigan")
    model = assert_labels_reach_no_unsupervised_term(
        "augmented_bigan", digits50, (cls.discriminator_losses, cls.generator_losses, cls.tangent_penalty), **TINY)
    x_labeled, y_labeled = digits50.labeled()
    x, x_labeled, y_labeled = digits50.x_train[:16], x_labeled[:16], y_labeled[:16].astype("int32")
    with pytest.raises(ValueError, match="carries no labels"):
        model.train_step({"x": x, "y": y_labeled, "x_labeled": x_labeled, "y_labeled": y_labeled})


# ------------------------------------------------------------------ it learns
@pytest.mark.learns
def test_augmented_bigan_learns_to_reconstruct_and_sample(digits50, learns_seed, request):
    """Digits-50, latent_dim 16, the defaults otherwise (conv_small, D units 512, Adam 3e-4, tangent and
    augmented weights 1), 500 steps of batch 64. Test reconstruction MSE of G(E(x)) and MMD^2 of 500
    samples to 500 test images, trained / untrained, over seeds 0-4 (2-core Xeon, the suite's numerics):
    reconstruction 0.792 / 0.934 / 0.803 / 0.923 / 0.753, bar: the worst x 1.05 = 0.98 (the inversion
    is learnt slowly); MMD^2 0.095 / 0.086 / 0.115 / 0.060 / 0.094, bar: the worst x 1.3 = 0.15.
    Re-measured at 97e3b84 (labelled batches by permutation), seeds 0 / 1 only (python -m tests.measured --seeds 0,1):
    reconstruction 0.866 / 0.873, MMD^2 0.104 / 0.073.
    Tried for the suite's time and rejected (commit 112a446): 300 steps, seeds 0 / 1 / 2: reconstruction
    0.937 / 0.750 / 1.003 (seed 2 learns no inversion yet), MMD^2 0.188 / 0.162 / 0.144.

    What digits-50 does NOT show reliably at this budget: that its K+1 pair classifier beats the same
    net D(x, E(x)) trained on the supervised term alone (tests/harness.train_supervised_term, same
    optimizer and steps): 0.844 / 0.818 / 0.850 / 0.848 / 0.808 against 0.790 / 0.744 / 0.834 / 0.844 /
    0.774 (+0.054 / +0.074 / +0.016 / +0.004 / +0.034); round 1 saw +0.10 / +0.07 / +0.04 at the
    recipe's 1000 steps (seeds 0-2). No classification bar is claimed here.
    """
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load("augmented_bigan", input_shape=digits50.input_shape, num_classes=10, seed=learns_seed,
                     latent_dim=16)

    untrained = reconstruction_and_mmd2(model, digits50)
    model.fit(digits50.train(64), epochs=5, steps_per_epoch=100, verbose=0)
    trained = reconstruction_and_mmd2(model, digits50)
    report(request, reconstruction_ratio=trained[0] / untrained[0], mmd_ratio=trained[1] / untrained[1])
    assert trained[0] <= 0.98 * untrained[0], (untrained, trained)
    assert trained[1] <= 0.15 * untrained[1], (untrained, trained)


@pytest.mark.learns
def test_bigbigan_learns_to_reconstruct_and_sample(learns_seed, request):
    # digits, latent_dim 16 (conv_small), H and J of 64 units, 300 steps of batch 64. Test reconstruction
    # MSE of G(E(x)) and MMD^2 (bandwidths 1, 2, 4, 8) between 500 samples and 500 test images, measured
    # trained / untrained, over seeds 0-4 (python -m tests.measured):
    #   reconstruction 0.710 / 0.762 / 0.742 / 0.721 / 0.838; bar: the worst x 1.1 = 0.92
    #   MMD^2          0.382 / 0.464 / 0.272 / 0.274 / 0.512; bar: the worst x 1.3 = 0.67
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    model = zoo.load("bigbigan", input_shape=data.input_shape, latent_dim=16, discriminator_units=64, seed=learns_seed)

    untrained = reconstruction_and_mmd2(model, data)
    model.fit(data.train(64), epochs=1, steps_per_epoch=300, verbose=0)
    trained = reconstruction_and_mmd2(model, data)
    report(request, reconstruction_ratio=trained[0] / untrained[0], mmd_ratio=trained[1] / untrained[1])
    assert trained[0] <= 0.92 * untrained[0], (untrained, trained)
    assert trained[1] <= 0.67 * untrained[1], (untrained, trained)
