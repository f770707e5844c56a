"""Improved-GAN and CatGAN: harness (every option), it learns."""

import pytest

from tests.harness import run_method_test


@pytest.mark.parametrize("name,kwargs", [
    ("improved_gan", {"latent_dim": 8}),
    ("improved_gan", {"latent_dim": 8, "arch": "mlp", "minibatch_kernels": 4, "historical_weight": 1e-3,
                      "label_smoothing": 0.1, "generator_loss": "non_saturating"}),
    ("catgan", {"latent_dim": 8}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, kwargs, tmp_path=tmp_path)
