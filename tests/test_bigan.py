"""BiGAN, ALI and ALI's K+1 variant: the shared harness, label leakage, and "it learns" on digits."""


import keras
import pytest

import zoo
from tests.harness import assert_labels_reach_no_unsupervised_term, pair_classifier_gain, run_method_test, reconstruction_and_mmd2
from tests.measured import report


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [
    ("bigan", {"latent_dim": 4}),
    ("ali", {"latent_dim": 4}),
    ("ali_ssl", {"latent_dim": 4}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, {"discriminator_units": 32, **kwargs}, tmp_path=tmp_path)


def test_bad_input_is_a_clear_error(digits50):
    with pytest.raises(ValueError, match="prior"):
        zoo.load("bigan", input_shape=digits50.input_shape, prior="laplace")
    model = zoo.load("ali_ssl", input_shape=digits50.input_shape, num_classes=10, latent_dim=4,
                     discriminator_units=16)
    with pytest.raises(ValueError, match="x_labeled"):
        model.train_step({"x": digits50.x_train[:8]})


def test_ali_ssl_label_leakage(digits50):
    """The adversarial terms take no labels (by signature); with the supervised
    term switched off, two steps on batches that differ only in `y_labeled`
    leave every weight identical."""
    cls = zoo.get("ali_ssl")
    assert_labels_reach_no_unsupervised_term("ali_ssl", digits50, (cls.discriminator_losses, cls.generator_losses),
                                             latent_dim=4, discriminator_units=16)


@pytest.mark.learns
def test_ali_ssl_beats_supervised_baseline(digits50, learns_seed, request):
    # digits with 50 labels, latent_dim 16, Adam lr 3e-4 (the paper's 1e-4 is too slow for 500 steps:
    # it measured 0.776 vs a baseline of 0.786), 500 steps of batch 64, seed 0. Baseline: the same
    # discriminator net D(x, mu(x)) (encoder left at its initialisation) trained on the supervised term
    # alone for the same 500 steps with the same optimizer.
    # Measured over seeds 0-4 (python -m tests.measured): ali_ssl 0.876 / 0.786 / 0.896 / 0.850 / 0.818,
    # baseline 0.786 / 0.724 / 0.802 / 0.816 / 0.762 (+0.090 / +0.062 / +0.094 / +0.034 / +0.056).
    # Bar: the worst - 0.01 = +0.024 (round 1's +0.04, from seed 0 alone, would fail at seed 3).
    # Re-measured at 97e3b84 (labelled batches by permutation), seeds 0 / 1 only (python -m tests.measured --seeds 0,1):
    # ali_ssl 0.850 / 0.812, baseline 0.796 / 0.748 (+0.054 / +0.064).
    # Tried for the suite's time and rejected (2026-12-02, commit 112a446): 300 steps, seeds 0 / 1: ali_ssl
    # 0.830 / 0.800, baseline 0.806 / 0.724 (+0.024 / +0.076): seed 0's gain is the bar itself.
    accuracies = pair_classifier_gain("ali_ssl", digits50, 100, epochs=5, seed=learns_seed, latent_dim=16,
                                      learning_rate=3e-4)
    report(request, **accuracies, gain=accuracies["ssl"] - accuracies["baseline"])
    assert accuracies["ssl"] >= accuracies["baseline"] + 0.024, accuracies


@pytest.mark.learns
@pytest.mark.parametrize("name,reconstruction_bar,mmd_bar", [
    # digits, latent_dim 16 (conv_small), 300 steps of batch 64. Test reconstruction MSE of G(E(x)) and
    # MMD^2 (bandwidths 1, 2, 4, 8) between 500 samples and 500 test images, trained / untrained, over
    # seeds 0-4 (python -m tests.measured):
    #   bigan: reconstruction 0.888 / 0.612 / 0.773 / 0.795 / 0.957; MMD^2 0.745 / 0.352 / 0.612 / 0.694 / 0.750
    #   ali:   reconstruction 0.918 / 0.727 / 0.769 / 0.966 / 0.781; MMD^2 0.547 / 0.508 / 0.316 / 0.536 / 0.483
    # The inversion is learnt slowly: reconstruction improves at every seed, but by as little as 4 %, so
    # its bar only asks for better than untrained. MMD^2 bars: bigan the worst x 1.13 = 0.85, ali the
    # worst x 1.3 = 0.72.
    ("bigan", 1.0, 0.85),
    ("ali", 1.0, 0.72),
])
def test_bigan_learns_to_reconstruct_and_sample(name, reconstruction_bar, mmd_bar, learns_seed, request):
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    model = zoo.load(name, input_shape=data.input_shape, latent_dim=16, seed=learns_seed)

    untrained = reconstruction_and_mmd2(model, data)
    model.fit(data.train(64), epochs=3, steps_per_epoch=100, verbose=0)
    trained = reconstruction_and_mmd2(model, data)
    report(request, reconstruction_ratio=trained[0] / untrained[0], mmd_ratio=trained[1] / untrained[1])
    assert trained[0] <= reconstruction_bar * untrained[0], (untrained, trained)
    assert trained[1] <= mmd_bar * untrained[1], (untrained, trained)
