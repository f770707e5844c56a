"""DCGAN features + linear L2-SVM: harness."""

from tests.harness import run_method_test


def test_harness(tmp_path):
    run_method_test("dcgan_features", {"latent_dim": 8}, tmp_path=tmp_path)
