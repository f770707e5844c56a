"""It learns: the variational SSL methods on digits with 50 labels against their supervised-only baselines.

Bars are set from measurements (seed 0, digits, 50 labels, 500 test images),
stated beside each test; they are margins below the measured gains, never
loosened to get green.
"""

import keras
import numpy as np
import pytest

import zoo

STEPS = 600
SSL = {"alpha": 2.6, "dropout": 0.5, "input_noise": 0.3, "learning_rate": 1e-3}


def _accuracy(name, data, steps, **kwargs):
    keras.utils.set_random_seed(0)
    model = zoo.load(name, input_shape=data.input_shape, num_classes=data.num_classes, seed=0, **kwargs)
    if steps:
        model.fit(data.train(64), epochs=1, steps_per_epoch=steps, verbose=0)
    elif name == "m1":  # untrained encoder: fit the head alone
        model.fit_classifier(*data.labeled())
    return zoo.metrics.accuracy(model, data.x_test, data.y_test), model


@pytest.fixture(scope="module")
def supervised_accuracy(digits50):
    """The classifier net of m2 / adgm / sdgm (conv_small trunk, dropout 0.5, input noise 0.3)
    trained on the 50 labels alone, same steps and learning rate (1e-3). Measured: 0.850 (seed 0),
    0.854 (seed 1); with its default learning rate 3e-4: 0.816, 0.826."""
    return _accuracy("supervised", digits50, STEPS, learning_rate=1e-3)[0]


@pytest.mark.slow
def test_m2_beats_supervised(digits50, supervised_accuracy):
    # Measured, 600 steps, seed 0: M2 0.916 (alpha 2.6; alpha 10 gave 0.890) vs supervised 0.850
    # (+0.066). Bar: +0.03.
    accuracy, _ = _accuracy("m2", digits50, STEPS, latent_dim=16, hidden=128, **SSL)
    assert accuracy >= supervised_accuracy + 0.03, (accuracy, supervised_accuracy)


@pytest.mark.slow
def test_m1_latent_features_beat_untrained_features(digits50):
    """M1's only supervised learner is its head (logistic regression on the latent means);
    the baseline is that head on the same, untrained, encoder. Measured, seed 0: trained
    1500 steps 0.842 (latent 32, C 10) vs untrained 0.590. Bar: +0.15.

    On digits, M1 does NOT beat the supervised conv net (0.816) or logistic regression on the
    64 raw pixels (0.832-0.844): the 8x8 digits are nearly linearly separable already.
    """
    untrained, model = _accuracy("m1", digits50, 0, latent_dim=32, head_c=10.0)
    trained, _ = _accuracy("m1", digits50, 1500, latent_dim=32, head_c=10.0)
    assert trained >= untrained + 0.15, (trained, untrained)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["adgm", "sdgm"])
def test_auxiliary_models_beat_supervised(name, digits50):
    """ADGM / SDGM with small heads, 400 steps, warm-up over the first 100.

    Measured, seed 0, 400 steps: ADGM 0.930, SDGM 0.918, vs the same classifier net trained
    on the labels alone with the same steps and learning rate: 0.838. (With 600 steps and
    128-unit heads: ADGM 0.918, SDGM 0.924 vs 0.850.) Bar: +0.03.
    """
    supervised, _ = _accuracy("supervised", digits50, 400, learning_rate=1e-3)
    accuracy, _ = _accuracy(name, digits50, 400, latent_dim=8, aux_dim=8, hidden=64, warmup_steps=100, **SSL)
    assert accuracy >= supervised + 0.03, (accuracy, supervised)
