"""GMMN and GMMN+AE: the shared harness and "it learns" on digits (the MMD itself: test_inference_losses.py)."""

import keras
import pytest

import zoo
from tests.harness import run_method_test, sample_mmd2
from tests.measured import report


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs", [
    ("gmmn", {"latent_dim": 4}),
    ("gmmn_ae", {"code_dim": 4, "generator_units": [8, 8]}),
])
def test_harness(name, kwargs, tmp_path):
    run_method_test(name, kwargs, tmp_path=tmp_path)


def test_bad_input_is_a_clear_error(digits50):
    with pytest.raises(ValueError, match="bandwidths"):
        zoo.load("gmmn", input_shape=digits50.input_shape, bandwidths=[0.0])
    with pytest.raises(ValueError, match="code_dropout"):
        zoo.load("gmmn_ae", input_shape=digits50.input_shape, code_dropout=1.0)


@pytest.mark.learns
@pytest.mark.parametrize("name,kwargs,bar", [
    # digits, 300 steps of batch 64. MMD^2 (bandwidths 1, 2, 4, 8 on [-1, 1] pixels) between 500 samples
    # and 500 test images, trained / untrained, measured over seeds 0-4 (python -m tests.measured):
    #   gmmn (mlp generator): 0.043 / 0.039 / 0.043 / 0.044 / 0.045; bar: the worst x 1.3 = 0.06;
    #   gmmn_ae (conv_small autoencoder, code_dim 8, trained jointly): 0.452 / 0.549 / 0.416 / 0.500 /
    #   0.545; bar: the worst x 1.3 = 0.71.
    ("gmmn", {}, 0.06),
    ("gmmn_ae", {"code_dim": 8}, 0.71),
])
def test_gmmn_learns_to_sample(name, kwargs, bar, learns_seed, request):
    keras.utils.set_random_seed(learns_seed)
    data = zoo.data.load("digits", seed=learns_seed)
    model = zoo.load(name, input_shape=data.input_shape, seed=learns_seed, **kwargs)

    def mmd2():
        return sample_mmd2(model, data)

    untrained = mmd2()
    model.fit(data.train(64), epochs=3, steps_per_epoch=100, verbose=0)
    trained = mmd2()
    report(request, mmd_ratio=trained / untrained)
    assert trained <= bar * untrained, (untrained, trained)
