"""Triple-GAN and Enhanced Triple-GAN: harness, label leakage, it learns."""

import pytest

from tests.harness import run_method_test


@pytest.mark.parametrize("kwargs", [
    {"latent_dim": 8},
    {"latent_dim": 8, "classifier_pairs": "expectation", "consistency_weight": 1.0, "arch": "mlp",
     "pseudo_real_pairs": False},
])
def test_harness(kwargs, tmp_path):
    run_method_test("triple_gan", kwargs, tmp_path=tmp_path)


def test_enhanced_harness(tmp_path):
    run_method_test("enhanced_triple_gan", {"latent_dim": 8}, tmp_path=tmp_path)
