"""It learns: each adversarial SSL method beats the supervised-only baseline of the same classifier net.

Digits, 50 labels (5 per class), batch 64, 600 steps, `arch="mlp"`
(the zoo's 1000-500-250 MLP, dropout 0.5, input noise 0.3), for the method
and for `zoo.load("supervised", ...)` with exactly that net (weight-normalised
where the method's discriminator is). Both are trained inside the test.

Measured with `python -m tests.measured -k test_beats_supervised_baseline -n 1` (the suite's
numerics, 2-core Xeon, at commit 27f23d2: labelled batches by permutation, weight norm's
data-dependent init in the weight-normed nets, Adam's epsilon of each reference code; test
accuracy on the 500 digits test images, seeds 0 / 1 / 2 / 3 / 4 of model and label split):

    supervised mlp                    0.868 / 0.816 / 0.858 / 0.870 / 0.846
    supervised mlp, weight norm       0.856 / 0.834 / 0.876 / 0.878 / 0.848
    catgan                            0.918 / 0.900 / 0.942 / 0.914 / 0.932  gain >= +0.044
    improved_gan (weight norm)        0.902 / 0.878 / 0.916 / 0.912 / 0.902  gain >= +0.034
    bad_gan (weight norm, no density) 0.902 / 0.904 / 0.936 / 0.910 / 0.906  gain >= +0.032

Each bar is the worst seed's gain less 0.01 (5 of the 500 test images). Tried for the suite's time and
rejected: 400 steps (seeds 0-3: catgan +0.048 / +0.062 / +0.072 / +0.042, improved_gan +0.022 / +0.040 /
+0.036 / +0.020, bad_gan +0.028 / +0.050 / +0.044 / +0.018): bars of +0.01 would claim little. Triple-GAN is not here:
at this budget its classifier's gain over the same mlp was -0.006 (seed 0) and within +-0.02 in
every earlier measurement, so its learns test is about what it does learn (tests/test_triple_gan.py).
"""

import keras
import pytest

import zoo
from tests.measured import report

STEPS = 600


def accuracy(name, data, seed, **kwargs):
    keras.utils.set_random_seed(seed)
    model = zoo.load(name, input_shape=data.input_shape, num_classes=data.num_classes, seed=seed, arch="mlp",
                     **kwargs)
    model.fit(data.train(64), epochs=1, steps_per_epoch=STEPS, verbose=0)
    return model.evaluate(data.test(), return_dict=True, verbose=0)["accuracy"]


@pytest.fixture(scope="module")
def baselines(digits50, learns_seed):
    return {wn: accuracy("supervised", digits50, learns_seed, weight_norm=wn) for wn in (False, True)}


@pytest.mark.learns
@pytest.mark.parametrize("name,kwargs,weight_norm,margin", [
    ("catgan", {}, False, 0.034),       # worst of 5 seeds +0.044
    ("improved_gan", {}, True, 0.024),  # worst of 5 seeds +0.034
    ("bad_gan", {}, True, 0.022),       # worst of 5 seeds +0.032
])
def test_beats_supervised_baseline(name, kwargs, weight_norm, margin, digits50, baselines, learns_seed, request):
    got = accuracy(name, digits50, learns_seed, latent_dim=32, **kwargs)
    report(request, accuracy=got, baseline=baselines[weight_norm], gain=got - baselines[weight_norm])
    assert got >= baselines[weight_norm] + margin, (name, got, baselines[weight_norm])
