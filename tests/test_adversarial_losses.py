"""The adversarial family's losses and layers against hand computations on tiny batches."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from zoo import losses
from zoo.layers import MinibatchDiscrimination, WeightNormConv2D, WeightNormDense


def value(x):
    return float(ops.convert_to_numpy(x))


def softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------- K+1 trick
def test_kplus1_identities():
    # Logits (0, 0): Z = 2, D(x) = Z / (Z + 1) = 2/3.
    logits = np.zeros((1, 2), "float32")
    assert value(losses.kplus1_real_loss(logits)) == pytest.approx(-math.log(2 / 3), rel=1e-6)
    assert value(losses.kplus1_fake_loss(logits)) == pytest.approx(-math.log(1 / 3), rel=1e-6)
    # The K+1 softmax with a fixed fake logit 0 gives the same D.
    full = np.concatenate([logits, np.zeros((1, 1), "float32")], -1)
    assert 1 - softmax(full)[0, -1] == pytest.approx(2 / 3)


def test_one_sided_label_smoothing():
    logits = np.array([[0.0, 0.0], [1.0, -2.0]], "float32")
    d = np.exp(logits).sum(-1) / (np.exp(logits).sum(-1) + 1)
    s = 0.1
    expected = np.mean(-(1 - s) * np.log(d) - s * np.log(1 - d))
    assert value(losses.kplus1_real_loss_smoothed(logits, s)) == pytest.approx(expected, rel=1e-5)
    assert value(losses.kplus1_real_loss_smoothed(logits, 0.0)) == pytest.approx(
        value(losses.kplus1_real_loss(logits)), rel=1e-6)


def test_historical_average():
    variables = [np.array([1.0, 2.0], "float32"), np.array([[3.0]], "float32")]
    averages = [np.array([0.0, 1.0], "float32"), np.array([[1.0]], "float32")]
    # (1 + 1) + 4
    assert value(losses.historical_average(variables, averages)) == pytest.approx(6.0)


# ------------------------------------------------------------- entropies
def test_entropies():
    uniform = np.zeros((3, 4), "float32")
    assert value(losses.entropy(uniform)) == pytest.approx(math.log(4), rel=1e-6)
    certain = np.array([[50.0, 0.0], [0.0, 50.0]], "float32")
    assert value(losses.entropy(certain)) == pytest.approx(0.0, abs=1e-6)
    assert value(losses.marginal_entropy(certain)) == pytest.approx(math.log(2), rel=1e-5)
    assert value(losses.marginal_entropy(certain[:1])) == pytest.approx(0.0, abs=1e-5)


def test_catgan_losses():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")

    def h(p):
        return -(p * np.log(p)).sum(-1)

    p_real, p_fake = softmax(real), softmax(fake)
    expected_d = h(p_real).mean() - h(p_real.mean(0)) - h(p_fake).mean()
    expected_g = h(p_fake).mean() - h(p_fake.mean(0))
    assert value(losses.catgan_discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-4)
    assert value(losses.catgan_generator_loss(fake)) == pytest.approx(expected_g, rel=1e-4)
    # The optimum of D: certain and balanced on real, uniform on fake: -log K - log K.
    balanced = np.array([[40.0, 0, 0], [0, 40.0, 0], [0, 0, 40.0]], "float32")
    assert value(losses.catgan_discriminator_loss(balanced, np.zeros((2, 3), "float32"))) == pytest.approx(
        -2 * math.log(3), rel=1e-4)


# ------------------------------------------------------------ Triple-GAN
def test_triple_gan_alpha_weighting():
    real, c, g = np.array([0.5, -1.0], "float32"), np.array([2.0], "float32"), np.array([-0.3, 0.7, 1.0], "float32")
    for alpha in (0.0, 0.3, 0.5, 1.0):
        expected = (-np.log(sigmoid(real)).mean() - alpha * np.log(1 - sigmoid(c)).mean()
                    - (1 - alpha) * np.log(1 - sigmoid(g)).mean())
        assert value(losses.triple_gan_discriminator_loss(real, c, g, alpha)) == pytest.approx(expected, rel=1e-5)
        assert value(losses.triple_gan_generator_loss(g, alpha)) == pytest.approx(
            -(1 - alpha) * np.log(sigmoid(g)).mean(), rel=1e-5)


def test_triple_gan_expectation_over_classifier_labels():
    # Exact expectation E_x sum_y p_c(y|x) (-log(1 - D(x, y))) against a loop.
    rng = np.random.default_rng(1)
    pair_logits = rng.normal(size=(3, 4)).astype("float32")
    p = softmax(rng.normal(size=(3, 4))).astype("float32")
    real, g = np.zeros(2, "float32"), np.zeros(2, "float32")
    expected_c = np.mean([sum(p[i, y] * -np.log(1 - sigmoid(pair_logits[i, y])) for y in range(4))
                          for i in range(3)])
    got = value(losses.triple_gan_discriminator_loss(real, pair_logits, g, 0.5, classifier_weights=p))
    assert got == pytest.approx(math.log(2) + 0.5 * expected_c + 0.5 * math.log(2), rel=1e-5)
    # With one-hot p it is the argmax form.
    onehot = np.eye(4, dtype="float32")[[1, 3, 0]]
    chosen = pair_logits[np.arange(3), [1, 3, 0]]
    assert value(losses.triple_gan_discriminator_loss(real, pair_logits, g, 0.5, onehot)) == pytest.approx(
        value(losses.triple_gan_discriminator_loss(real, chosen, g, 0.5)), rel=1e-6)


def test_triple_gan_classifier_term_gradient_goes_through_probabilities():
    import tensorflow as tf

    pair_logits = tf.constant([0.0, 1.0])
    p = tf.Variable([0.5, 0.8])
    with tf.GradientTape() as tape:
        loss = losses.triple_gan_classifier_adversarial_loss(pair_logits, p, alpha=0.5)
    minus_log_d = -np.log(sigmoid(np.array([0.0, 1.0])))
    assert value(loss) == pytest.approx(0.5 * np.mean([0.5, 0.8] * minus_log_d), rel=1e-5)
    np.testing.assert_allclose(tape.gradient(loss, p).numpy(), 0.5 * minus_log_d / 2, rtol=1e-5)


def test_consistency():
    a = np.array([[0.0, 0.0]], "float32")
    b = np.array([[math.log(3.0), 0.0]], "float32")  # p = (3/4, 1/4)
    assert value(losses.consistency(a, b)) == pytest.approx(2 * 0.25 ** 2, rel=1e-5)


def test_classwise_feature_matching():
    real = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 4.0]], "float32")
    real_y = np.array([0, 0, 1])
    fake = np.array([[2.0, 2.0], [0.0, 0.0]], "float32")
    fake_y = np.array([0, 2])
    # class 0: real mean (2, 0), fake mean (2, 2): mean sq diff 2; classes 1, 2 miss a side.
    assert value(losses.classwise_feature_matching(real, real_y, fake, fake_y, 3)) == pytest.approx(2 / 3)


# --------------------------------------------------------------- Bad GAN
def test_pull_away_term():
    orthogonal = np.eye(3, dtype="float32")
    assert value(losses.pull_away_term(orthogonal)) == pytest.approx(0.0, abs=1e-6)
    same = np.ones((4, 3), "float32")
    assert value(losses.pull_away_term(same)) == pytest.approx(1.0, rel=1e-5)
    f = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], "float32")
    # cos^2: (1,2) 1/2, (1,3) 0, (2,3) 1/2; each pair twice over N(N-1) = 6.
    assert value(losses.pull_away_term(f)) == pytest.approx(2 * (0.5 + 0 + 0.5) / 6, rel=1e-5)


# ---------------------------------------------------------------- layers
def test_weight_norm_dense_and_conv():
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    layer = WeightNormDense(4)
    layer.build((None, 3))
    layer.g.assign([1.0, 2.0, 3.0, 4.0])
    v = layer.v.numpy()
    w = v / np.linalg.norm(v, axis=0) * np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x)), x @ w, rtol=1e-5, atol=1e-6)

    images = np.random.default_rng(1).normal(size=(2, 6, 6, 2)).astype("float32")
    conv = WeightNormConv2D(3, 3, strides=2)
    conv.build((None, 6, 6, 2))
    conv.g.assign([0.5, 1.0, 2.0])
    kernel = conv.v.numpy()
    kernel = kernel / np.sqrt((kernel ** 2).sum(axis=(0, 1, 2))) * np.array([0.5, 1.0, 2.0])
    reference = keras.layers.Conv2D(3, 3, strides=2, padding="same")
    reference.build((None, 6, 6, 2))
    reference.set_weights([kernel, np.zeros(3, "float32")])
    np.testing.assert_allclose(ops.convert_to_numpy(conv(images)), ops.convert_to_numpy(reference(images)),
                               rtol=1e-4, atol=1e-5)
    assert conv.compute_output_shape((None, 6, 6, 2)) == (None, 3, 3, 3)


def test_minibatch_discrimination():
    features = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], "float32")
    layer = MinibatchDiscrimination(num_kernels=2, kernel_dim=1)
    layer.build((None, 2))
    layer.tensor.assign(np.array([[1.0, 0.0], [0.0, 1.0]], "float32"))  # M_i = features_i
    out = ops.convert_to_numpy(layer(features))
    np.testing.assert_allclose(out[:, :2], features)
    m = features
    expected = np.stack([[sum(np.exp(-abs(m[i, b] - m[j, b])) for j in range(3) if j != i) for b in range(2)]
                         for i in range(3)])
    np.testing.assert_allclose(out[:, 2:], expected, rtol=1e-5)


def test_squared_hinge():
    scores = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]], "float32")
    labels = np.array([0, 2])
    # Row 1: true class margin 1 - 2 < 0 -> 0; others: (1 + 0.5)^2, (1 - 1)^2 = 2.25. Row 2: 1 + 1 + 1.
    assert value(losses.squared_hinge(labels, scores)) == pytest.approx((2.25 + 3.0) / 2)
