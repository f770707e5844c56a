"""Adversarial autoencoders: the shared harness, label leakage, and "it learns" on digits."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import assert_take_no_labels, run_method_test, sample_mmd2, train_on_two_labelings
from tests.measured import report
from zoo import losses


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [
    ("aae", {"latent_dim": 2, "prior": "mixture"}),
    ("aae_supervised", {"latent_dim": 3}),
    ("aae_ssl", {"latent_dim": 3}),
    ("aae_clustering", {"num_clusters": 5}),
    ("aae_dim_reduction", {}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, {"discriminator_units": 32, **kwargs}, tmp_path=tmp_path)


def test_bad_input_is_a_clear_error(digits50):
    with pytest.raises(ValueError, match="latent_dim=2"):
        zoo.load("aae", input_shape=digits50.input_shape, latent_dim=8, prior="swiss_roll")
    with pytest.raises(ValueError, match="unknown prior"):
        zoo.load("aae", input_shape=digits50.input_shape, prior="cauchy")
    with pytest.raises(ValueError, match="num_clusters"):
        zoo.load("aae_clustering", input_shape=digits50.input_shape, num_clusters=1)
    model = zoo.load("aae_ssl", input_shape=digits50.input_shape, num_classes=10, discriminator_units=16)
    with pytest.raises(ValueError, match="x_labeled"):
        model.train_step({"x": digits50.x_train[:8]})
    with pytest.raises(ValueError, match="carries no labels"):
        model.train_step({"x": digits50.x_train[:8], "y": digits50.y_train[:8]})


def _weights(model, role):
    return [v.numpy() for v in model.role_variables(role)]


def test_ssl_label_leakage(digits50):
    """Labels reach the encoder only through the classification phase.

    The unsupervised phases take no labels (by signature), and one training
    step on batches that differ only in `y_labeled` gives the same decoder,
    style head and discriminators, while the encoder's trunk differs.
    """
    model_cls = zoo.get("aae_ssl")
    assert_take_no_labels((model_cls.reconstruction_losses, model_cls.regularization_losses,
                           model_cls.encoder_adversarial_losses))
    models = train_on_two_labelings("aae_ssl", digits50, steps=1, shift=1, latent_dim=3, discriminator_units=16)
    for role in ("s", "g", "d"):
        for a, b in zip(_weights(models[0], role), _weights(models[1], role)):
            np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(_weights(models[0], "e"), _weights(models[1], "e")))


@pytest.mark.learns
@pytest.mark.parametrize("name,bar", [
    # Digits-50, default nets, 250 steps of batch 64: MMD^2 of 500 samples (aae_ssl: labels 0-9 cycled)
    # to 500 test images, trained / untrained, over seeds 0-4 (python -m tests.measured -n 1, commit
    # d468794 + this budget, halved for the suite's 15 minutes; bars the worst x 1.15, the seeds spread by
    # under 20 % of the ratio):
    #   aae_ssl           0.182 / 0.189 / 0.189 / 0.179 / 0.176; bar 0.22 (500 steps: 0.014-0.016)
    #   aae_dim_reduction 0.261 / 0.302 / 0.288 / 0.278 / 0.315; bar 0.36 (500 steps: 0.119-0.143)
    # What digits-50 does NOT show reliably at this budget: that their q(y|x) beats the same net
    # (conv_small + linear head, no dropout or input noise) trained on the 50 labels alone, same steps:
    #   aae_ssl           0.864 / 0.808 / 0.872 / 0.898 / 0.804 (gain +0.066 / +0.032 / +0.040 / +0.068 / -0.008)
    #   aae_dim_reduction 0.848 / 0.816 / 0.898 / 0.892 / 0.820 (gain +0.050 / +0.040 / +0.066 / +0.062 / +0.008)
    #   against 0.798 / 0.776 / 0.832 / 0.830 / 0.812; so no classification bar is claimed here.
    ("aae_ssl", 0.22),
    ("aae_dim_reduction", 0.36),
])
def test_ssl_aae_learns_to_sample(digits50, name, bar, learns_seed, request):
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load(name, input_shape=digits50.input_shape, num_classes=10, seed=learns_seed)
    untrained = sample_mmd2(model, digits50)
    model.fit(digits50.train(64), epochs=1, steps_per_epoch=250, verbose=0)
    trained = sample_mmd2(model, digits50)
    report(request, mmd_ratio=trained / untrained)
    assert trained <= bar * untrained, (name, untrained, trained)


@pytest.mark.learns
@pytest.mark.parametrize("name,kwargs,reconstruction_bar,mmd_bar", [
    # digits (every example labelled), 150 steps of batch 64 (halved for the suite's 15 minutes). Test
    # reconstruction MSE and MMD^2 (bandwidths 1, 2, 4, 8) between 500 samples (aae_supervised: with the
    # 500 test labels) and 500 test images, trained / untrained, measured over seeds 0-4 (python -m
    # tests.measured -n 1, commit d468794 + this budget):
    #   aae (conv_small, latent 8, Gaussian prior): 0.701 / 0.647 / 0.685 / 0.686 / 0.620;
    #                                               0.534 / 0.524 / 0.544 / 0.530 / 0.510
    #   aae_supervised (style 8):                   0.651 / 0.652 / 0.630 / 0.610 / 0.600;
    #                                               0.578 / 0.564 / 0.570 / 0.577 / 0.537
    #   aae_clustering (16 clusters):               0.659 / 0.640 / 0.612 / 0.662 / 0.623;
    #                                               0.540 / 0.531 / 0.533 / 0.537 / 0.529
    #     (at 300 steps, the budget before: 0.48-0.66 and MMD^2 0.05-0.12; round 1: aae_clustering's cluster
    #     accuracy stayed at 0.102 after 300 steps, so no clustering bar is claimed).
    # Bars: the worst seed x 1.1 (reconstruction) and x 1.15 (MMD^2).
    ("aae", {}, 0.77, 0.63),
    ("aae_supervised", {"num_classes": 10}, 0.72, 0.67),
    ("aae_clustering", {"num_clusters": 16}, 0.73, 0.62),
])
def test_aae_learns_to_reconstruct_and_sample(name, kwargs, reconstruction_bar, mmd_bar, learns_seed, request):
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    model = zoo.load(name, input_shape=data.input_shape, seed=learns_seed, **kwargs)
    labels = data.y_test[:500] if model.conditional else None

    def scores():
        reconstruction = model.evaluate(data.test(), return_dict=True, verbose=0)["reconstruction"]
        samples = model.sample(500, labels=labels, seed=1)
        return reconstruction, float(losses.mmd_squared(samples, data.x_test[:500], (1.0, 2.0, 4.0, 8.0)))

    untrained = scores()
    model.fit(data.train(64), epochs=1, steps_per_epoch=150, verbose=0)
    trained = scores()
    report(request, reconstruction_ratio=trained[0] / untrained[0], mmd_ratio=trained[1] / untrained[1])
    assert trained[0] <= reconstruction_bar * untrained[0], (untrained, trained)
    assert trained[1] <= mmd_bar * untrained[1], (untrained, trained)
