"""DCGAN features + linear L2-SVM: harness; the GAN learns to sample (its features do not beat random ones reliably on digits)."""

import keras
import pytest

import zoo
from tests.harness import run_method_test, sample_mmd2
from tests.measured import report


def test_harness(tmp_path):
    run_method_test("dcgan_features", {"latent_dim": 8}, tmp_path=tmp_path)


@pytest.mark.learns
def test_dcgan_learns_to_sample(learns_seed, request):
    """Digits-50, mlp, latent 32, batch 64: MMD^2 of 500 samples to 500 test images, trained / untrained,
    after 200 steps, measured over seeds 0-4 (2-core Xeon, the suite's numerics):
    0.025 / 0.021 / 0.027 / 0.025 / 0.023 (600 steps, the recipe's cpu setting: 0.014 / 0.013 /
    0.013 / 0.013 / 0.014). Bar: the worst seed x 1.3 = 0.035.

    What this budget does NOT show is the paper's claim, that the trained D's features beat random ones
    under the same linear L2-SVM (Radford et al. 2015, Sec. 5.1; D and G frozen at their initialisation
    by a zero learning rate for the baseline): measured gains +0.010 / +0.052 at seeds 0 / 1 (+0.016 /
    +0.056 / +0.034 at seeds 0-2 in round 1), within the seed-to-seed noise, so no bar is claimed on it;
    against the whole mlp trained on the labels the probe loses on digits (8x8 digits are nearly linearly
    separable in pixel space).
    """
    data = zoo.data.load("digits", labels=50, seed=learns_seed)
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load("dcgan_features", input_shape=data.input_shape, num_classes=10, seed=learns_seed, arch="mlp",
                     latent_dim=32)
    untrained = sample_mmd2(model, data)
    model.fit(data.train(64), epochs=1, steps_per_epoch=200, verbose=0)
    trained = sample_mmd2(model, data)
    report(request, mmd_ratio=trained / untrained)
    assert trained <= DCGAN_MMD_RATIO_BAR * untrained, (untrained, trained)


DCGAN_MMD_RATIO_BAR = 0.035
