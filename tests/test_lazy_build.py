"""A model created without shapes (`zoo.load("triple_gan")`) builds itself from its data, and then
behaves exactly as one built eagerly with the same shapes: same weights, same steps, same
distribution. (Every method's harness test builds it this way, saving and reloading included;
test_foundation's BackupAndRestore test resumes one.)"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.harness import model_state
from zoo.base import NotBuiltError


def _weights(model):
    return list(model_state(model).values())


@pytest.mark.parametrize("name,kwargs", [("triple_gan", {"latent_dim": 8}), ("vae", {"latent_dim": 4})])
def test_lazy_model_equals_eager_model(name, kwargs, digits50):
    """Same seed: identical initial weights and identical weights after two steps on the same batches."""
    keras.utils.set_random_seed(1)
    eager = zoo.load(name, input_shape=digits50.input_shape, seed=3, **kwargs,
                     **({"num_classes": 10} if name == "triple_gan" else {}))
    keras.utils.set_random_seed(1)
    lazy = zoo.load(name, seed=3, **kwargs)
    lazy.build_from(digits50)
    assert lazy.get_config() == {**eager.get_config(), "name": lazy.name}
    for a, b in zip(_weights(eager), _weights(lazy), strict=True):
        np.testing.assert_array_equal(a, b)
    for model in (eager, lazy):
        model.fit(digits50.train(16), epochs=1, steps_per_epoch=2, verbose=0)
    for a, b in zip(_weights(eager), _weights(lazy), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_on_ssldata_takes_an_epoch_over_the_unlabelled_images(digits50):
    model = zoo.load("supervised", arch="mlp")
    history = model.fit(digits50, epochs=1, batch_size=100, verbose=0)
    assert history.history and model.role_optimizers["c"].iterations.numpy() == len(digits50.x_train) // 100
    assert "accuracy" in model.evaluate(digits50, return_dict=True, verbose=0)


def test_fit_shapes_an_ssldata_stream_as_asked(digits50):
    """`stream=` reaches `data.train` (Bad GAN's recipes leave the labelled images out of the pool); a ready
    stream cannot be reshaped."""
    model = zoo.load("supervised", arch="mlp")
    seen = []
    original = digits50.train

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return original(*args, **kwargs)

    digits50.train = spy
    try:
        model.fit(digits50, batch_size=50, stream={"exclude_labeled": True}, epochs=1, steps_per_epoch=1, verbose=0)
    finally:
        del digits50.train
    assert seen == [{"second_unlabeled": False, "exclude_labeled": True}]
    with pytest.raises(ValueError, match="stream"):
        model.fit(digits50.train(16), stream={"exclude_labeled": True}, epochs=1, steps_per_epoch=1, verbose=0)


def test_a_tf_data_stream_builds_it_when_the_classes_are_given(digits50):
    model = zoo.load("sgan", num_classes=10, latent_dim=8)
    model.fit(digits50.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    assert model.image_shape == (8, 8, 1) and model.num_classes == 10

    unknown = zoo.load("sgan", latent_dim=8)
    with pytest.raises(NotBuiltError, match="num_classes"):
        unknown.fit(digits50.train(16), epochs=1, steps_per_epoch=1, verbose=0)
    # An unsupervised method needs the shape only; an array of images is enough.
    vae = zoo.load("vae", latent_dim=4)
    vae.fit(digits50.x_train[:64], epochs=1, batch_size=32, verbose=0)
    assert vae.image_shape == (8, 8, 1)


def test_keras_build_and_data_that_does_not_fit(digits50):
    model = zoo.load("supervised", arch="mlp", num_classes=10)
    model.build((None, 8, 8, 1))
    assert model.built and model.image_shape == (8, 8, 1)
    model.summary(print_fn=lambda *a, **k: None)
    with pytest.raises(ValueError, match="shape"):
        model.build_from((28, 28, 1))
    with pytest.raises(ValueError, match="classes"):
        model.build_from(digits50, num_classes=3)
    with pytest.raises(NotBuiltError, match="fit it first"):
        zoo.load("supervised").save("never.keras")


def test_created_under_a_strategy_it_is_built_under_it(digits50, mirrored_strategy):
    with mirrored_strategy.scope():
        model = zoo.load("supervised", arch="mlp")
    model.fit(digits50, batch_size=32, epochs=1, steps_per_epoch=2, verbose=0)
    assert all(isinstance(v.value, tf.distribute.DistributedValues) for v in model.trainable_variables)
