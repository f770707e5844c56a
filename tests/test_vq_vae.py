"""VQ-VAE: harness (both codebook updates), the quantiser, the straight-through gradient, Eq. 3's terms, the EMA
update, the prior's causal mask, the phase schedule resumed across fits and a `.keras` file, the nets'
sizes, the distributed EMA step, and it learns."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import run_method_test
from tests.measured import report
from zoo import losses, nets
from zoo.layers import VectorQuantizer, straight_through

SMALL = {"codebook_size": 16, "embedding_dim": 4, "hidden": 16, "residual_hidden": 8, "residual_blocks": 1,
         "prior_filters": 8, "prior_layers": 2}


@pytest.mark.parametrize("codebook_update", ["loss", "ema"])
def test_harness(codebook_update, tmp_path):
    model = run_method_test("vq_vae", {**SMALL, "codebook_update": codebook_update}, tmp_path=tmp_path)
    assert model.roles == (("e", "q", "g", "p") if codebook_update == "loss" else ("e", "g", "p"))
    codes = model.encode(zoo.data.load("digits").x_test[:3])
    assert codes.shape == (3, 4, 4) and codes.dtype == np.int32 and codes.min() >= 0 and codes.max() < 16


def _small_model(**kwargs):
    keras.utils.set_random_seed(0)
    return zoo.load("vq_vae", input_shape=(8, 8, 1), seed=0, **{**SMALL, **kwargs})


def test_quantiser_picks_the_nearest_code():
    quantizer = VectorQuantizer(5, 3)
    quantizer.build()
    rng = np.random.default_rng(0)
    codebook = rng.normal(size=(5, 3)).astype("float32")
    quantizer.codebook.assign(codebook)
    z = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    z_q, codes = (keras.ops.convert_to_numpy(t) for t in quantizer(z))
    distances = ((z[..., None, :] - codebook) ** 2).sum(-1)  # (2, 4, 4, 5), by hand
    np.testing.assert_array_equal(codes, distances.argmin(-1))
    np.testing.assert_array_equal(z_q, codebook[distances.argmin(-1)])
    # A vector equal to a code picks that code.
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(quantizer.nearest_codes(codebook[None])), [[0, 1, 2, 3, 4]])


def test_straight_through_copies_the_decoders_gradient_to_the_encoder():
    """By hand: L = sum(w * st(z_e, z_q)) is sum(w * z_q) and dL/dz_e = w. On the model: the reconstruction's
    gradient at z_e through the quantiser equals the decoder's gradient at z_q, and no gradient reaches the
    codebook through that path."""
    z_e = tf.constant([[0.3, -1.2], [2.0, 0.5]])
    z_q = tf.constant([[0.0, -1.0], [2.5, 0.0]])
    w = tf.constant([[1.5, -2.0], [0.25, 3.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_e, z_q])
        value = tf.reduce_sum(w * straight_through(z_e, z_q))
    np.testing.assert_allclose(value.numpy(), float(np.sum(w.numpy() * z_q.numpy())), rtol=1e-6)
    np.testing.assert_array_equal(tape.gradient(value, z_e).numpy(), w.numpy())
    assert tape.gradient(value, z_q) is None or not np.any(tape.gradient(value, z_q).numpy())

    model = _small_model()
    x = zoo.data.load("digits").x_test[:4]
    z_e = tf.convert_to_tensor(model.encoder(x))
    z_q, _ = model.quantizer(z_e)
    targets = (x + 1.0) / 2.0
    with tf.GradientTape() as tape:
        tape.watch(z_e)
        through = -tf.reduce_mean(losses.bernoulli_log_likelihood(targets, model.decoder(straight_through(z_e, z_q))))
    with tf.GradientTape() as tape_q:
        tape_q.watch(z_q)
        at_z_q = -tf.reduce_mean(losses.bernoulli_log_likelihood(targets, model.decoder(z_q)))
    np.testing.assert_allclose(through.numpy(), at_z_q.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(through, z_e).numpy(), tape_q.gradient(at_z_q, z_q).numpy(), rtol=1e-5,
                               atol=1e-8)


def test_codebook_and_commitment_terms_are_eq_3():
    """On a batch of 2 grids of 2 positions, D = 2: both terms are the per-image sum of squared distances to
    the chosen codes, averaged over the batch; the codebook term moves only the codes, the commitment only
    z_e; the logged Eq. 3 loss is -reconstruction + codebook + 0.25 commitment."""
    z_e = tf.constant([[[0.5, 1.0], [-1.0, 2.0]], [[0.0, 0.0], [3.0, -1.0]]])  # (2, 2, 2)
    z_q = tf.constant([[[0.0, 1.0], [-1.0, 1.0]], [[1.0, 1.0], [2.0, -1.0]]])
    by_hand = np.mean([0.25 + 0 + 0 + 1.0, 1.0 + 1.0 + 1.0 + 0])  # image 0: 1.25, image 1: 3.0
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_e, z_q])
        codebook, commitment = losses.codebook_loss(z_e, z_q), losses.commitment_loss(z_e, z_q)
    np.testing.assert_allclose([codebook.numpy(), commitment.numpy()], [by_hand, by_hand], rtol=1e-6)
    assert tape.gradient(codebook, z_e) is None
    assert tape.gradient(commitment, z_q) is None
    np.testing.assert_allclose(tape.gradient(codebook, z_q).numpy(), (z_q - z_e).numpy(), rtol=1e-6)  # 2 (e - z) / 2
    np.testing.assert_allclose(tape.gradient(commitment, z_e).numpy(), (z_e - z_q).numpy(), rtol=1e-6)

    model = _small_model()
    x = zoo.data.load("digits").x_test[:8]
    terms = model.autoencoder_terms(x)
    z_e = keras.ops.convert_to_numpy(terms["z_e"])
    codebook_vectors = keras.ops.convert_to_numpy(model.quantizer.codebook)
    chosen = codebook_vectors[((z_e[..., None, :] - codebook_vectors) ** 2).sum(-1).argmin(-1)]
    expected = ((z_e - chosen) ** 2).reshape(8, -1).sum(-1).mean()
    np.testing.assert_allclose([float(terms["codebook"]), float(terms["commitment"])], [expected, expected],
                               rtol=1e-5)
    logs = model.train_step({"x": tf.constant(x)})
    assert set(logs) == set(model.log_names)


def test_ema_update_after_two_steps_equals_the_hand_computation():
    """Appendix A.1 by hand in numpy: N <- g N + (1 - g) n, m <- g m + (1 - g) sum z, e = m / N' with the
    Laplace-smoothed N'; code 2, never chosen, keeps its initial vector."""
    k, d, g, eps = 3, 2, 0.9, 1e-5
    quantizer = VectorQuantizer(k, d, update="ema", decay=g, epsilon=eps)
    quantizer.build()
    codebook = np.array([[0.0, 0.0], [4.0, 4.0], [-50.0, 50.0]], "float32")
    quantizer.codebook.assign(codebook)
    assert not quantizer.codebook.trainable
    steps = [np.array([[[0.5, -0.5], [3.0, 5.0], [1.0, 1.0]]], "float32"),   # codes 0, 1, 0
             np.array([[[4.5, 3.0], [0.2, 0.4], [5.0, 5.0]]], "float32")]     # codes 1, 0, 1 (after step 1)
    counts, sums, e = np.zeros(k), np.zeros((k, d)), codebook.astype("float64")
    for z in steps:
        codes = keras.ops.convert_to_numpy(quantizer.nearest_codes(z))
        flat, chosen = z.reshape(-1, d), codes.reshape(-1)
        np.testing.assert_array_equal(chosen, ((flat[:, None] - e[None]) ** 2).sum(-1).argmin(-1))
        quantizer.ema_update(z, codes)
        n = np.bincount(chosen, minlength=k)
        s = np.stack([flat[chosen == i].sum(0) for i in range(k)])
        counts, sums = g * counts + (1 - g) * n, g * sums + (1 - g) * s
        smoothed = (counts + eps) / (counts.sum() + k * eps) * counts.sum()
        e = np.where((counts > 0)[:, None], sums / smoothed[:, None], e)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(quantizer.ema_counts), counts, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(quantizer.ema_sums), sums, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(quantizer.codebook), e, rtol=1e-5)
    np.testing.assert_array_equal(e[2], codebook[2])
    # After two steps, code 0 is near the mean of what chose it (the smoothing moves it by ~eps).
    assert np.abs(e[0] - np.array([0.5 + 1.0 + 0.2, -0.5 + 1.0 + 0.4]) / 3).max() < 0.2


def test_prior_is_causal_over_the_code_grid():
    """d logits(i, j) / d embedding(k, l) is zero for every position at or after (i, j) in raster order and not
    zero for the positions before it (the net's part after the code embedding, as tests/test_pixelcnn.py
    checks the image PixelCNNs); and log p(k) is the sum of the positions' log-softmax."""
    model = _small_model(prior_layers=4)
    prior = model.prior
    after_embedding = keras.Model(prior.get_layer("code_embedding").output, prior.output)
    height, width = model.grid_shape
    embedded = tf.convert_to_tensor(np.random.default_rng(0).normal(size=(1, height, width, 8)).astype("float32"))
    for i, j in [(0, 0), (1, 2), (3, 3)]:
        with tf.GradientTape() as tape:
            tape.watch(embedded)
            logit = tf.reduce_sum(after_embedding(embedded)[0, i, j])
        grad = np.abs(tape.gradient(logit, embedded).numpy()[0]).sum(-1).ravel()
        position = i * width + j
        assert np.all(grad[position:] == 0.0), (i, j)
        assert position == 0 or np.all(grad[:position] > 0.0), (i, j, grad[:position])
    codes = np.random.default_rng(1).integers(0, 16, (3, height, width)).astype("int32")
    logits = keras.ops.convert_to_numpy(prior(codes)).astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    want = np.take_along_axis(log_softmax, codes[..., None], -1).reshape(3, -1).sum(-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.prior_log_density(codes)), want, rtol=1e-5)
    x = zoo.data.load("digits").x_test[:3]
    terms = model.autoencoder_terms(x)
    np.testing.assert_allclose(model.elbo(x), keras.ops.convert_to_numpy(
        terms["reconstruction"] + model.prior_log_density(terms["codes"])), rtol=1e-5)


def test_prior_schedule_resumes_across_fits_and_a_keras_file(tmp_path):
    """prior_start_steps=3: two fits of 2 steps; the prior does not train in the first, and steps once (at the
    4th step) in the second; a model saved between the fits and reloaded samples as the saved one and, fitted
    on the same 2 batches, ends with the same weights and step counts as the one that went on."""
    data = zoo.data.load("digits", labels=20)
    batches = data.train(16).take(4).cache()
    model = _small_model(prior_start_steps=3)
    prior_start = [w.numpy().copy() for w in model.prior.weights]
    model.fit(batches.take(2), epochs=1, verbose=0, shuffle=False)
    assert int(model.role_optimizers["p"].iterations) == 0
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(prior_start, model.prior.weights))  # not trained yet
    model.save(tmp_path / "vq.keras")
    resumed = keras.models.load_model(tmp_path / "vq.keras")
    np.testing.assert_array_equal(model.sample(4, seed=2), resumed.sample(4, seed=2))
    for m in (model, resumed):
        m.fit(batches.skip(2), epochs=1, verbose=0, shuffle=False)
        assert {r: int(o.iterations) for r, o in m.role_optimizers.items()} == {"e": 4, "q": 4, "g": 4, "p": 1}
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(prior_start, model.prior.weights))
    for expected, actual in zip(model.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_nets_parameter_counts_and_grid():
    """By hand, 8x8x1 images, hidden 16, residual 8, one block, D 4, one halving. Encoder: 4x4 conv 1->16
    (16*16 + 16 = 272), 3x3 conv 16->8 (9*16*8 + 8 = 1160), 1x1 8->16 (128 + 16 = 144), 1x1 to D 16->4 (64 + 4
    = 68): 1644. Decoder: 3x3 conv 4->16 (9*4*16 + 16 = 592), the block (1304), 4x4 transposed 16->1 (256 + 1
    = 257): 2153. The paper's MNIST-sized nets (256 everywhere, two blocks, two halvings) on 28x28 give a 7x7
    grid."""
    encoder = nets.vq_vae_encoder((8, 8, 1), 4, hidden=16, residual_hidden=8, residual_blocks=1, downsamplings=1)
    decoder = nets.vq_vae_decoder((4, 4, 4), 1, hidden=16, residual_hidden=8, residual_blocks=1, upsamplings=1)
    assert (encoder.count_params(), decoder.count_params()) == (1644, 2153)
    assert encoder.output.shape[1:] == (4, 4, 4) and decoder.output.shape[1:] == (8, 8, 1)
    assert [nets.vq_vae_downsamplings(s) for s in [(8, 8, 1), (28, 28, 1), (32, 32, 3), (12, 12, 1)]] == [1, 2, 2, 1]
    with pytest.raises(ValueError, match="halves"):
        nets.vq_vae_downsamplings((6, 6, 1))
    with pytest.raises(ValueError, match="codebook_update"):
        zoo.load("vq_vae", input_shape=(8, 8, 1), codebook_update="kmeans")


@pytest.mark.extended  # ~15 s: the distribution tier's extended cases run with --full
def test_mirrored_ema_step_equals_single_device_step(mirrored_strategy):
    """The EMA's counts and sums are over the global batch: one step on two replicas moves every weight (the
    codebook's EMA included) as one step on one device. (The "loss" update is in tests/test_distribution.py.)"""
    from tests.distributed import assert_same_updates, one_batch, patch_noise

    data = zoo.data.load("digits", labels=20)
    dataset = one_batch(data)

    def build(weights=None):
        keras.utils.set_random_seed(0)
        model = zoo.load("vq_vae", input_shape=(8, 8, 1), codebook_update="ema", **SMALL,
                         optimizers={role: keras.optimizers.SGD(0.5) for role in ("e", "g", "p")})
        if weights is not None:
            model.set_weights(weights)
        patch_noise(model)
        return model

    single = build()
    start = single.get_weights()
    single.fit(dataset, epochs=1, verbose=0, shuffle=False)
    with mirrored_strategy.scope():
        mirrored = build(start)
    mirrored.fit(dataset, epochs=1, verbose=0, shuffle=False)
    assert_same_updates(start, single.get_weights(), mirrored.get_weights())


LEARNS = {"codebook_size": 32, "embedding_dim": 8, "hidden": 64, "residual_hidden": 32, "prior_filters": 32,
          "prior_layers": 4, "learning_rate": 1e-3}
LEARNS_STEPS = 300
LEARNS_BARS = {"reconstruction_gain": 24.3, "prior_nll_ratio": 0.65}  # from the measurements in test_learns


@pytest.mark.learns
def test_learns(learns_seed, request):
    """Digits, 300 steps of batch 64: K = 32 codes of D = 8 on a 4x4 grid, nets of 64 channels (32 in the
    residual blocks), a 4-layer Gated PixelCNN prior of 32 channels trained alongside, Adam 1e-3.
    Test reconstruction log p(x|z_q) (nats per image) trained against untrained, and the prior's NLL of the
    test images' codes per position against log K (a uniform prior's) = 3.47 nats.
    Over seeds 0-4 (python -m tests.measured -n 1 -k "vq_vae and learns"; seed 4 rerun alone with
    ZOO_LEARNS_SEED=4 ZOO_LEARNS_LOG=... python -m pytest -m learns tests/test_vq_vae.py), nats:
      reconstruction: untrained -44.43 / -44.62 / -44.47 / -44.19 / -44.26, trained -15.99 / -16.67 / -15.96 /
            -16.88 / -16.78 (gains +28.44 / +27.95 / +28.52 / +27.31 / +27.49; pixel MSE 0.71-0.73 -> 0.036-0.055)
      prior NLL per position 1.91 / 1.51 / 1.83 / 1.55 / 1.41 (of log K: 0.550 / 0.435 / 0.529 / 0.446 / 0.406);
      codebook perplexity 11.9 / 6.0 / 13.9 / 7.6 / 5.0 of 32 codes; ELBO -46.5 / -40.8 / -45.3 / -41.6 / -39.3.
    Bars: the worst gain less 3 nats (24.3), the worst ratio plus 0.1 (0.65 log K). About 60 s a seed on one
    core."""
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    model = zoo.load("vq_vae", input_shape=data.input_shape, seed=learns_seed, **LEARNS)
    untrained = model.evaluate(data.test(), return_dict=True, verbose=0)
    model.fit(data.train(64), epochs=1, steps_per_epoch=LEARNS_STEPS, verbose=0)
    trained = model.evaluate(data.test(), return_dict=True, verbose=0)
    uniform = math.log(LEARNS["codebook_size"])
    report(request, reconstruction_untrained=untrained["reconstruction"], reconstruction=trained["reconstruction"],
           reconstruction_gain=trained["reconstruction"] - untrained["reconstruction"], mse=trained["mse"],
           mse_untrained=untrained["mse"], prior_nll=trained["prior_nll"], prior_nll_ratio=trained["prior_nll"] / uniform,
           perplexity=trained["perplexity"], elbo=trained["elbo"])
    assert trained["reconstruction"] >= untrained["reconstruction"] + LEARNS_BARS["reconstruction_gain"]
    assert trained["prior_nll"] <= LEARNS_BARS["prior_nll_ratio"] * uniform
