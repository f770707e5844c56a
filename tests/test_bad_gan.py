"""Bad GAN: harness with and without a pluggable density model."""

import keras

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
