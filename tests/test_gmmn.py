"""GMMN and GMMN+AE: the shared harness and "it learns" on digits (the MMD itself: test_inference_losses.py)."""

import keras
import pytest

import zoo
from tests.harness import run_method_test
from zoo import losses


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


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs,bar", [
    # digits, 300 steps of batch 64, seed 0. MMD^2 (bandwidths 1, 2, 4, 8 on [-1, 1] pixels) between
    # 500 samples and 500 test images, measured untrained -> trained:
    #   gmmn (mlp generator): 3.03 -> 0.144 (ratio 0.048), bar: <= 0.2 x untrained;
    #   gmmn_ae (conv_small autoencoder, code_dim 8, trained jointly): 3.22 -> 1.45 (ratio 0.45),
    #   bar: <= 0.7 x untrained (its test reconstruction MSE went 0.716 -> 0.311).
    ("gmmn", {}, 0.2),
    ("gmmn_ae", {"code_dim": 8}, 0.7),
])
def test_gmmn_learns_to_sample(name, kwargs, bar):
    keras.utils.set_random_seed(0)
    data = zoo.data.load("digits", seed=0)
    model = zoo.load(name, input_shape=data.input_shape, seed=0, **kwargs)

    def mmd2():
        return float(losses.mmd_squared(model.sample(500, seed=1), data.x_test[:500], (1.0, 2.0, 4.0, 8.0)))

    untrained = mmd2()
    model.fit(data.train(64), epochs=3, steps_per_epoch=100, verbose=0)
    assert mmd2() <= bar * untrained, (untrained, mmd2())
