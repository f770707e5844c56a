"""It learns: the variational SSL methods on digits with 50 labels against their supervised-only baselines.

Bars are set from measurements over seeds 0-4 (`python -m tests.measured`; digits, 50 labels,
500 test images), stated beside each test: the worst seed's gain less 0.01.
"""

import keras
import numpy as np
import pytest

import zoo
from tests.measured import report

M2_STEPS = 200
AUXILIARY_STEPS, AUXILIARY_BATCH = 300, 32
SSL = {"alpha": 2.6, "dropout": 0.5, "input_noise": 0.3, "learning_rate": 1e-3}


def _accuracy(name, data, steps, seed, batch_size=64, **kwargs):
    keras.utils.set_random_seed(seed)
    model = zoo.load(name, input_shape=data.input_shape, num_classes=data.num_classes, seed=seed, **kwargs)
    if steps:
        model.fit(data.train(batch_size), epochs=1, steps_per_epoch=steps, verbose=0)
    elif name == "m1":  # untrained encoder: fit the head alone
        model.fit_classifier(*data.labeled())
    return zoo.metrics.accuracy(model, data.x_test, data.y_test), model


@pytest.fixture(scope="module")
def supervised_accuracy(digits50, learns_seed):
    """steps -> test accuracy of the classifier net of m2 / adgm / sdgm (conv_small trunk, dropout 0.5,
    input noise 0.3) trained on the 50 labels alone, with the same steps and learning rate (1e-3),
    each budget trained once per module."""
    cache = {}

    def accuracy(steps, batch_size=64):
        if (steps, batch_size) not in cache:
            cache[steps, batch_size] = _accuracy("supervised", digits50, steps, learns_seed, batch_size,
                                                 learning_rate=1e-3)[0]
        return cache[steps, batch_size]

    return accuracy


@pytest.mark.learns
def test_m2_beats_supervised(digits50, supervised_accuracy, learns_seed, request):
    # 200 steps of 64, over seeds 0-4 (python -m tests.measured -n 1 -k test_m2_beats, commit c22fe11):
    # M2 0.876 / 0.868 / 0.898 / 0.900 / 0.894 vs supervised 0.820 / 0.786 / 0.836 / 0.866 / 0.844
    # (+0.056 / +0.082 / +0.062 / +0.034 / +0.050). Bar: the worst - 0.01 = +0.024. Half the budget of
    # before (400 steps: +0.066 / +0.080 / +0.082 / +0.028 / +0.040, commit 61465f2) and half the time
    # (25 s against 50 s here): the gain is as real at 200 steps. (Round 1: alpha 10 gave 0.890 against
    # 0.916 for 2.6.)
    # The bar is for the weighting it was measured with, the two batch means alike (weighting="equal",
    # Maaløe's convention, M2's default before Eq. 9's). With Eq. 9's (weighting="paper", N_l = 50,
    # N_u = 1297), seed 0, 400 steps: 0.810 vs supervised 0.832 (-0.022; equal: 0.898): the
    # labelled terms weigh 27x less beside U, and 400 steps do not make up for it on digits-50.
    accuracy, _ = _accuracy("m2", digits50, M2_STEPS, learns_seed, latent_dim=16, hidden=128, weighting="equal",
                            **SSL)
    baseline = supervised_accuracy(M2_STEPS)
    report(request, accuracy=accuracy, baseline=baseline, gain=accuracy - baseline)
    assert accuracy >= baseline + 0.024, (accuracy, baseline)


@pytest.mark.learns
def test_m1_latent_features_beat_untrained_features(digits50, learns_seed, request):
    """M1's only supervised learner is its head (logistic regression on the latent means);
    the baseline is that head on the same, untrained, encoder. Trained 600 steps (latent 32, C 10),
    over seeds 0-4 (python -m tests.measured -n 1 -k test_m1_latent, commit c22fe11): trained 0.844 /
    0.832 / 0.854 / 0.852 / 0.820 vs untrained 0.590 / 0.590 / 0.634 / 0.592 / 0.690 (+0.254 / +0.242 /
    +0.220 / +0.260 / +0.130). Bar: the worst - 0.01 = +0.12. (At 1500 steps, 2.5x the time: 0.836 /
    0.840 / 0.836 / 0.856 / 0.838, no better.)

    On digits, M1 does NOT beat the supervised conv net (0.816) or logistic regression on the
    64 raw pixels (0.832-0.844): the 8x8 digits are nearly linearly separable already.
    """
    untrained, model = _accuracy("m1", digits50, 0, learns_seed, latent_dim=32, head_c=10.0)
    trained, _ = _accuracy("m1", digits50, 600, learns_seed, latent_dim=32, head_c=10.0)
    report(request, accuracy=trained, baseline=untrained, gain=trained - untrained)
    assert trained >= untrained + 0.12, (trained, untrained)


@pytest.mark.learns
@pytest.mark.parametrize("name,margin", [("adgm", 0.002), ("sdgm", 0.006)])
def test_auxiliary_models_beat_supervised(name, margin, digits50, supervised_accuracy, learns_seed, request):
    """ADGM / SDGM with small heads, 300 steps of batch 32, warm-up over the first 100.

    Measured over seeds 0-4 (python -m tests.measured -n 1 -k "auxiliary_models or m2_beats", at the
    commit that runs the class-free trunks once per image instead of once per image and class, 1.7x
    faster a step, the same function up to summation order): ADGM 0.870 / 0.880 / 0.912 / 0.894 /
    0.890, SDGM 0.884 / 0.872 / 0.910 / 0.898 / 0.874, vs the same classifier net trained on the
    labels alone with the same steps, batch and learning rate: 0.834 / 0.808 / 0.838 / 0.882 / 0.844
    (gains ADGM +0.036 / +0.072 / +0.074 / +0.012 / +0.046, SDGM +0.050 / +0.064 / +0.072 / +0.016 /
    +0.030). Bars: the worst - 0.01 = +0.002 (ADGM), +0.006 (SDGM): at this budget the gain is real
    at every seed but small at seed 3. (Before that change, commit 61465f2: gains ADGM +0.038 / +0.074
    / +0.076 / +0.012 / +0.042, SDGM +0.050 / +0.060 / +0.074 / +0.018 / +0.030. Before a entered
    q(y|a,x) at its first hidden layer the two were identical at 4 of 5 seeds, a read linearly: gains
    >= +0.046. Round 1, 400 steps of 64, seed 0: ADGM 0.930, SDGM 0.918 vs 0.838.)
    """
    supervised = supervised_accuracy(AUXILIARY_STEPS, AUXILIARY_BATCH)
    accuracy, _ = _accuracy(name, digits50, AUXILIARY_STEPS, learns_seed, AUXILIARY_BATCH, latent_dim=8, aux_dim=8, hidden=64,
                            warmup_steps=100, **SSL)
    report(request, accuracy=accuracy, baseline=supervised, gain=accuracy - supervised)
    assert accuracy >= supervised + margin, (accuracy, supervised)
