"""Improved-GAN and CatGAN: harness (every option), virtual batch normalisation."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import run_method_test
from zoo.layers import VirtualBatchNormalization


@pytest.mark.parametrize("name,kwargs", [
    ("improved_gan", {"latent_dim": 8}),
    ("improved_gan", {"latent_dim": 8, "arch": "mlp", "minibatch_kernels": 4, "historical_weight": 1e-3,
                      "label_smoothing": 0.1, "generator_loss": "non_saturating", "virtual_batch_norm": 4}),
    ("catgan", {"latent_dim": 8}),
    ("catgan", {"latent_dim": 8, "ema": 0.9, "decay_steps": 3}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, kwargs, tmp_path=tmp_path)


def test_virtual_batch_norm_against_the_papers_formula():
    """Salimans et al. 2016, Sec. 3.4, by hand: reference rows use the reference moments, every other row
    the reference moments mixed with its own, (x + R m) / (R + 1), over its spatial positions."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2, 2, 3)).astype("float32")  # rows 0-2: reference (R = 3)
    layer = VirtualBatchNormalization(3, epsilon=1e-5)
    layer.build(x.shape)
    layer.gamma.assign([1.0, 2.0, 0.5])
    layer.beta.assign([0.0, 1.0, -1.0])
    got = keras.ops.convert_to_numpy(layer(x))
    own_mean, own_square = x.mean(axis=(1, 2)), (x ** 2).mean(axis=(1, 2))  # (5, 3)
    ref_mean, ref_square = own_mean[:3].mean(0), own_square[:3].mean(0)
    for i in range(5):
        mean = ref_mean if i < 3 else (own_mean[i] + 3 * ref_mean) / 4
        square = ref_square if i < 3 else (own_square[i] + 3 * ref_square) / 4
        want = np.array([1.0, 2.0, 0.5]) * (x[i] - mean) / np.sqrt(square - mean ** 2 + 1e-5) + [0.0, 1.0, -1.0]
        np.testing.assert_allclose(got[i], want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="reference_size"):
        VirtualBatchNormalization(0)


@pytest.mark.parametrize("reference", [0, 4])
def test_virtual_batch_norm_makes_each_sample_independent_of_its_batch(reference):
    """With VBN, G's output for z does not depend on the other z in the minibatch, in training too;
    with batch norm (reference 0) it does: the check can fail."""
    model = zoo.load("improved_gan", input_shape=(8, 8, 1), num_classes=10, latent_dim=8,
                     virtual_batch_norm=reference, seed=0)
    z = keras.random.normal((6, 8), seed=1)
    alone = keras.ops.convert_to_numpy(model.generate(z[:2], training=True))
    batched = keras.ops.convert_to_numpy(model.generate(z, training=True))[:2]
    if reference:
        np.testing.assert_allclose(alone, batched, rtol=1e-5, atol=1e-5)
    else:
        assert np.abs(alone - batched).max() > 1e-3
