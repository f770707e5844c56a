"""Triple-GAN and Enhanced Triple-GAN: harness, label leakage, it learns."""

import keras
import pytest

import zoo
from tests.harness import run_method_test, sample_mmd2
from tests.measured import report


@pytest.mark.parametrize("kwargs", [
    {"latent_dim": 8},
    {"latent_dim": 8, "classifier_pairs": "expectation", "consistency_weight": 1.0, "arch": "mlp",
     "pseudo_real_pairs": False},
])
def test_harness(kwargs, tmp_path):
    run_method_test("triple_gan", kwargs, tmp_path=tmp_path)


def test_enhanced_harness(tmp_path):
    run_method_test("enhanced_triple_gan", {"latent_dim": 8}, tmp_path=tmp_path)


@pytest.mark.slow
def test_triple_gan_learns_to_sample(learns_seed, request):
    """Digits-50, `arch="mlp"`, latent 32, lr 3e-4, R_P off, batch 64: what Triple-GAN learns at the
    budgets of these tests is the data's distribution. MMD^2 of 500 samples (labels 0-9 cycled) to
    500 test images, trained / untrained, after 200 steps, measured over seeds 0-4 (2-core Xeon, the
    suite's numerics; /tmp script identical to this test, and tests.measured at seeds 3-4):
    0.034 / 0.025 / 0.037 / 0.032 / 0.027 (600 steps: 0.025 / 0.023 / 0.024 / 0.024 / 0.022).
    Bar: the worst seed x 1.35 = 0.05.

    What it does NOT learn at 600 steps: its classifier does not beat the same mlp trained on the
    labels alone (C 0.856 / 0.838 / 0.880 / 0.888 / 0.872 at seeds 0-4 against a baseline of
    0.862 / 0.828 at seeds 0 / 1, gain -0.006 / +0.010; within +-0.02 in every earlier measurement),
    and its samples are not yet of the class asked for (an mlp trained on all 1,297 digits, 0.964
    test accuracy, labels them as asked 12.8 % / 14.8 % of the time, against 12.2 % / 8.2 %
    untrained). So no classification bar is claimed: that is the reproduction issue's to find.
    """
    data = zoo.data.load("digits", labels=50, seed=learns_seed)
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load("triple_gan", input_shape=data.input_shape, num_classes=10, seed=learns_seed, arch="mlp",
                     latent_dim=32, learning_rate=3e-4, pseudo_weight=0.0)
    untrained = sample_mmd2(model, data)
    model.fit(data.train(64), epochs=1, steps_per_epoch=200, verbose=0)
    trained = sample_mmd2(model, data)
    accuracy = model.evaluate(data.test(), return_dict=True, verbose=0)["accuracy"]
    report(request, mmd_ratio=trained / untrained, accuracy=accuracy)
    assert trained <= TRIPLE_GAN_MMD_RATIO_BAR * untrained, (untrained, trained)


TRIPLE_GAN_MMD_RATIO_BAR = 0.05
