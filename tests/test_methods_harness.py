"""The shared harness on the foundation's methods."""

import pytest

from tests.harness import run_method_test


@pytest.mark.parametrize("name,kwargs", [
    ("vae", {"latent_dim": 4}),
    ("vae", {"latent_dim": 4, "likelihood": "gaussian"}),
    ("sgan", {"latent_dim": 8}),
    ("sgan", {"latent_dim": 8, "generator_loss": "non_saturating", "arch": "mlp"}),
    ("supervised", {}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, kwargs, tmp_path=tmp_path)
