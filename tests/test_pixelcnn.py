"""PixelCNN: harness, the autoregressive mask, exact log-likelihood, it learns; Bad GAN's density model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import run_method_test
from tests.measured import report

SMALL = {"filters": 8, "residual_blocks": 1, "first_kernel": 3}


def test_harness(tmp_path):
    run_method_test("pixelcnn", SMALL, tmp_path=tmp_path)


def test_each_logit_sees_only_the_pixels_before_it():
    """d logit(i, j) / d x(k, l) is zero for every pixel at or after (i, j) in raster order, and not zero
    for some pixel before it (van den Oord et al. 2016, Fig. 2)."""
    model = zoo.load("pixelcnn", input_shape=(6, 6, 1), filters=8, residual_blocks=2, first_kernel=3, seed=0)
    x = tf.convert_to_tensor(np.random.default_rng(0).uniform(-1, 1, (1, 6, 6, 1)).astype("float32"))
    for i, j in [(0, 0), (2, 3), (5, 5)]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            logit = model.net(x)[0, i, j, 0]
        grad = np.abs(tape.gradient(logit, x).numpy()[0, :, :, 0]).ravel()
        position = i * 6 + j
        assert np.all(grad[position:] == 0.0), (i, j)
        assert position == 0 or grad[:position].max() > 0.0, (i, j)


def test_log_prob_is_the_sum_of_the_pixel_conditionals():
    model = zoo.load("pixelcnn", input_shape=(8, 8, 1), **SMALL, seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    logits = keras.ops.convert_to_numpy(model.net(x)).reshape(3, -1)
    targets = ((x + 1) / 2).reshape(3, -1)
    want = (targets * np.log(1 / (1 + np.exp(-logits))) + (1 - targets) * np.log(1 / (1 + np.exp(logits)))).sum(1)
    np.testing.assert_allclose(model.log_prob(x), want, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.density_model()(x)), want, rtol=1e-5)
    with pytest.raises(ValueError, match="single-channel"):
        zoo.load("pixelcnn", input_shape=(8, 8, 3))


@pytest.mark.slow
def test_learns_and_plugs_into_bad_gan(digits50, learns_seed, request):
    """Test log-likelihood of the 500 digits test images, 300 steps of batch 64 (5x5 mask A, 2 blocks of 16).
    Measured over seeds 0-4 (python -m tests.measured): +23.92 / +23.98 / +23.94 / +23.96 / +23.93 nats
    (from -44.3). Bar: the worst - 3 = +20.9. Then its density model is Bad GAN's (same log p), stays
    frozen while Bad GAN trains, and scores an early Bad GAN's samples far below the data: 39.3 / 38.8 /
    37.6 / 38.1 / 37.9 nats below; bar: the worst - 7.6 = 30 nats below."""
    model = zoo.load("pixelcnn", input_shape=digits50.input_shape, filters=16, residual_blocks=2, first_kernel=5,
                     seed=learns_seed)
    before = model.log_prob(digits50.x_test).mean()
    model.fit(digits50.train(64), epochs=1, steps_per_epoch=300, verbose=0)
    after = model.log_prob(digits50.x_test).mean()
    report(request, log_p_before=before, log_p_after=after, gain=after - before)
    assert after >= before + 20.9, (before, after)

    bad_gan = zoo.load("bad_gan", input_shape=digits50.input_shape, num_classes=10, latent_dim=8, arch="mlp",
                       density_model=model.density_model(), density_weight=1e-2, seed=learns_seed)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bad_gan.log_density(digits50.x_test[:50])),
                               model.log_prob(digits50.x_test[:50]), rtol=1e-5)
    weights = [w.numpy().copy() for w in model.net.weights]
    history = bad_gan.fit(digits50.train(32), epochs=1, steps_per_epoch=3, verbose=0).history
    assert np.isfinite(history["g_density"][-1])
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(weights, model.net.weights))  # frozen
    # The term's premise: the density model tells G's early samples from data.
    samples_log_p = model.log_prob(bad_gan.sample(500, seed=0)).mean()
    report(request, samples_log_p=samples_log_p, samples_below_data=after - samples_log_p)
    assert samples_log_p < after - 30.0
