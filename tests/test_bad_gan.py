"""Bad GAN: harness with and without a pluggable density model."""

import keras
import numpy as np
import pytest

import zoo

from tests.harness import run_method_test, tiny_data


def toy_density_model(input_shape):
    """A stand-in for a pre-trained density model: image -> one log density per example."""
    image = keras.Input(shape=input_shape)
    h = keras.layers.Flatten()(image)
    return keras.Model(image, keras.layers.Dense(1)(h), name="toy_density")


def test_harness(tmp_path):
    run_method_test("bad_gan", {"latent_dim": 8}, tmp_path=tmp_path)


def test_harness_with_density_model(tmp_path):
    data = tiny_data()
    model = run_method_test("bad_gan", {"latent_dim": 8, "arch": "mlp", "density_weight": 1.0,
                                        "density_model": toy_density_model(data.input_shape)},
                            data=data, tmp_path=tmp_path)
    assert not model.density_model.trainable_variables


def test_the_reference_optimizers_and_their_schedule():
    """kimiyoung/ssl_bad_gan mnist_trainer.py: Adam D betas (0.5, 0.9999), G (0, 0.9999), PyTorch's eps 1e-8;
    lr * max(0, min(3 (1 - e / E), 1)): constant for 2/3 of the run, then linear to 0."""
    from zoo.schedules import ConstantThenLinearDecay

    model = zoo.load("bad_gan", input_shape=(8, 8, 1), num_classes=10, arch="mlp", latent_dim=4, learning_rate=3e-3,
                     generator_learning_rate=1e-3, decay_steps=300)
    model.compile()
    d, g = model.role_optimizers["d"], model.role_optimizers["g"]
    assert (d.beta_1, d.beta_2, d.epsilon) == (0.5, 0.9999, 1e-8)
    assert (g.beta_1, g.beta_2, g.epsilon) == (0.0, 0.9999, 1e-8)
    schedule = d.learning_rate if isinstance(d.learning_rate, ConstantThenLinearDecay) else d._learning_rate
    rates = [float(schedule(t)) for t in (0, 199, 200, 250, 300, 400)]
    np.testing.assert_allclose(rates, [3e-3, 3e-3, 3e-3, 1.5e-3, 0.0, 0.0], rtol=1e-5, atol=1e-9)
    assert float(g._learning_rate(250)) == pytest.approx(0.5e-3)
    config = keras.saving.serialize_keras_object(schedule)
    assert keras.saving.deserialize_keras_object(config).get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="total_steps"):
        ConstantThenLinearDecay(1e-3, 0)
