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


@pytest.mark.slow
@pytest.mark.parametrize("name,bar", [
    # Digits-50, default nets, 500 steps of batch 64: MMD^2 of 500 samples (aae_ssl: labels 0-9 cycled)
    # to 500 test images, trained / untrained, over seeds 0-4 (2-core Xeon, the suite's numerics):
    #   aae_ssl           0.0151 / 0.0145 / 0.0157 / 0.0138 / 0.0147; bar: the worst x 1.3 = 0.021
    #   aae_dim_reduction 0.1215 / 0.1256 / 0.1321 / 0.1186 / 0.1430; bar: the worst x 1.3 = 0.19
    # Re-measured at 97e3b84 (labelled batches by permutation), seeds 0 / 1 only (python -m tests.measured --seeds 0,1):
    #   aae_ssl 0.0193 / 0.0184, aae_dim_reduction 0.1184 / 0.1263.
    # What digits-50 does NOT show reliably at this budget: that their q(y|x) beats the same net
    # (conv_small + linear head, no dropout or input noise) trained on the 50 labels alone, same steps:
    #   aae_ssl           0.864 / 0.808 / 0.872 / 0.898 / 0.804 (gain +0.066 / +0.032 / +0.040 / +0.068 / -0.008)
    #   aae_dim_reduction 0.848 / 0.816 / 0.898 / 0.892 / 0.820 (gain +0.050 / +0.040 / +0.066 / +0.062 / +0.008)
    #   against 0.798 / 0.776 / 0.832 / 0.830 / 0.812; so no classification bar is claimed here.
    ("aae_ssl", 0.021),
    ("aae_dim_reduction", 0.19),
])
def test_ssl_aae_learns_to_sample(digits50, name, bar, learns_seed, request):
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load(name, input_shape=digits50.input_shape, num_classes=10, seed=learns_seed)
    untrained = sample_mmd2(model, digits50)
    model.fit(digits50.train(64), epochs=1, steps_per_epoch=250, verbose=0)
    trained = sample_mmd2(model, digits50)
    report(request, mmd_ratio=trained / untrained)
    assert trained <= bar * untrained, (name, untrained, trained)


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs,reconstruction_bar,mmd_bar", [
    # digits (every example labelled), 300 steps of batch 64. Test reconstruction MSE and MMD^2
    # (bandwidths 1, 2, 4, 8) between 500 samples (aae_supervised: with the 500 test labels) and 500 test
    # images, trained / untrained, measured over seeds 0-4 (python -m tests.measured; 2-core Xeon):
    #   aae (conv_small, latent 8, Gaussian prior): 0.542 / 0.639 / 0.528 / 0.551 / 0.480;
    #                                               0.054 / 0.051 / 0.062 / 0.060 / 0.055
    #   aae_supervised (style 8):                   0.525 / 0.543 / 0.583 / 0.618 / 0.655;
    #                                               0.115 / 0.090 / 0.095 / 0.100 / 0.076
    #   aae_clustering (16 clusters):               0.571 / 0.448 / 0.567 / 0.536 / 0.559;
    #                                               0.068 / 0.063 / 0.061 / 0.067 / 0.064
    #     (round 1: its cluster accuracy stayed at 0.102 after 300 steps, so no clustering bar is claimed).
    # Bars: the worst seed x ~1.1 (reconstruction) and x ~1.3 (MMD^2).
    ("aae", {}, 0.7, 0.08),
    ("aae_supervised", {"num_classes": 10}, 0.72, 0.15),
    ("aae_clustering", {"num_clusters": 16}, 0.63, 0.09),
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
