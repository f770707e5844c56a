"""BiGAN, ALI and ALI's K+1 variant: the shared harness, label leakage, and "it learns" on digits."""


import keras
import pytest

import zoo
from tests.harness import (
    assert_labels_reach_no_unsupervised_term,
    pair_classifier_gain,
    run_method_test,
)
from zoo import losses


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


@pytest.mark.slow
def test_ali_ssl_beats_supervised_baseline(digits50):
    # digits with 50 labels, latent_dim 16, Adam lr 3e-4 (the paper's 1e-4 is too slow for 500 steps:
    # it measured 0.776 vs a baseline of 0.786), 500 steps of batch 64, seed 0. Baseline: the same
    # discriminator net D(x, mu(x)) (encoder left at its initialisation) trained on the supervised term
    # alone for the same 500 steps with the same optimizer.
    # Measured test accuracy (seed 0): ali_ssl 0.866, baseline 0.786 (+0.080).
    # Bar: ali_ssl >= baseline + 0.04.
    accuracies = pair_classifier_gain("ali_ssl", digits50, 100, epochs=5, latent_dim=16, learning_rate=3e-4)
    assert accuracies["ssl"] >= accuracies["baseline"] + 0.04, accuracies


@pytest.mark.slow
@pytest.mark.parametrize("name,reconstruction_bar,mmd_bar", [
    # digits, latent_dim 16 (conv_small), 300 steps of batch 64, seed 0. Test reconstruction MSE of
    # G(E(x)) and MMD^2 (bandwidths 1, 2, 4, 8) between 500 samples and 500 test images, measured
    # untrained -> trained:
    #   bigan: 0.718 -> 0.629 (x 0.88); 3.20 -> 2.37 (x 0.74).
    #   ali:   0.718 -> 0.659 (x 0.92); 3.17 -> 1.74 (x 0.55).
    # A modest gain at this budget (the inversion is learnt slowly); the bars are set under it.
    ("bigan", 0.95, 0.85),
    ("ali", 0.97, 0.75),
])
def test_bigan_learns_to_reconstruct_and_sample(name, reconstruction_bar, mmd_bar):
    keras.utils.set_random_seed(0)
    data = zoo.data.load("digits", seed=0)
    model = zoo.load(name, input_shape=data.input_shape, latent_dim=16, seed=0)

    def scores():
        reconstruction = model.evaluate(data.test(), return_dict=True, verbose=0)["reconstruction"]
        mmd2 = float(losses.mmd_squared(model.sample(500, seed=1), data.x_test[:500], (1.0, 2.0, 4.0, 8.0)))
        return reconstruction, mmd2

    untrained = scores()
    model.fit(data.train(64), epochs=3, steps_per_epoch=100, verbose=0)
    trained = scores()
    assert trained[0] <= reconstruction_bar * untrained[0], (untrained, trained)
    assert trained[1] <= mmd_bar * untrained[1], (untrained, trained)
