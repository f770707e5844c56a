"""Weight norm's data-dependent initialisation and the evaluation weight average (Improved-GAN's reference pieces)."""

import keras
import numpy as np
import pytest

import zoo
from zoo import nets
from zoo.averaging import ExponentialAverage
from zoo.layers import WeightNormConv2D, WeightNormDense, data_dependent_init


def test_data_dependent_init_gives_zero_mean_unit_variance_pre_activations():
    """Salimans & Kingma 2016, Sec. 2.2: after the init, each unit's pre-activation has mean 0 and variance 1
    on the batch it was computed from; layers are initialised in order, each on the output of the one below."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(300, 12)) * 3 + 5).astype("float32")
    first = WeightNormDense(16, activation="relu", train_scale=False)
    second = WeightNormDense(8)
    net = keras.Sequential([keras.Input((12,)), first, second])
    with data_dependent_init([net]):
        out_during_init = keras.ops.convert_to_numpy(net(x))
    hidden = keras.ops.convert_to_numpy(first(x))
    pre = keras.ops.convert_to_numpy(keras.ops.matmul(
        x, first.g * first.v / keras.ops.sqrt(keras.ops.sum(first.v ** 2, axis=0) + 1e-12)) + first.bias)
    np.testing.assert_allclose(pre.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(pre.std(0), 1, rtol=1e-3)
    top = keras.ops.convert_to_numpy(second(hidden))  # the second layer was initialised on the first's output
    np.testing.assert_allclose(top.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(top.std(0), 1, rtol=1e-3)
    np.testing.assert_allclose(out_during_init, keras.ops.convert_to_numpy(net(x)), rtol=1e-4, atol=1e-4)
    assert not first.g.trainable and second.g.trainable


def test_data_dependent_init_of_a_convolution_and_its_errors():
    x = np.random.default_rng(1).normal(2, 4, size=(20, 6, 6, 3)).astype("float32")
    conv = WeightNormConv2D(5, 3)
    net = keras.Sequential([keras.Input((6, 6, 3)), conv])
    with data_dependent_init([net]):
        net(x)
    y = keras.ops.convert_to_numpy(net(x))
    np.testing.assert_allclose(y.mean((0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(y.std((0, 1, 2)), 1, rtol=1e-3)
    with pytest.raises(RuntimeError, match="did not reach"):
        with data_dependent_init([net, keras.Sequential([keras.Input((3,)), WeightNormDense(2)])]):
            net(x)
    with pytest.raises(ValueError, match="no weight-normalised"):
        data_dependent_init([keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])])


def test_improved_gan_initialises_once_and_the_flag_is_saved(tmp_path):
    data = zoo.data.load("digits", labels=50)
    model = zoo.load("improved_gan", input_shape=data.input_shape, num_classes=10, arch="mlp", latent_dim=4,
                     seed=0)
    assert model.needs_data_init
    model.fit(data, epochs=1, steps_per_epoch=1, verbose=0)
    assert not model.needs_data_init
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert not loaded.needs_data_init
    first = next(layer for layer in loaded.features.layers if isinstance(layer, WeightNormDense))
    g, bias = keras.ops.convert_to_numpy(first.g).copy(), keras.ops.convert_to_numpy(first.bias).copy()
    loaded.initialize(data.x_train[:100])  # already done: a no-op
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(first.g), g)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(first.bias), bias)
    assert not np.allclose(g, 1.0)  # the init did move the scales from their constant start
    without = zoo.load("improved_gan", input_shape=data.input_shape, num_classes=10, arch="mlp", weight_norm=False)
    assert not without.needs_data_init


def test_exponential_average_by_hand_and_used_by_classify():
    """After k steps the average is sum_i d^(k-i) theta_i / sum_i d^(k-i) of the weights after each step
    (bias-corrected), and classify/evaluate read it, while training reads the live weights."""
    data = zoo.data.load("digits", labels=50)
    decay = 0.9
    model = zoo.load("improved_gan", input_shape=data.input_shape, num_classes=10, arch="mlp", latent_dim=4,
                     ema=decay, seed=0)
    model.compile()
    history = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            history.append([keras.ops.convert_to_numpy(v).copy() for v in model.role_variables("d")])

    model.fit(data, epochs=1, steps_per_epoch=5, verbose=0, callbacks=[Record()])
    k = len(history)
    weights = np.array([decay ** (k - 1 - i) for i in range(k)])
    weights /= weights.sum()
    averaged = [keras.ops.convert_to_numpy(v) for v in model.weight_average.values()]
    for j, value in enumerate(averaged):
        np.testing.assert_allclose(value, sum(w * h[j] for w, h in zip(weights, history)), rtol=1e-4, atol=1e-6)
    x = data.x_test[:50]
    live = keras.ops.convert_to_numpy(model(x, training=False))
    probabilities = model.classify(x)
    assert not np.allclose(probabilities, live, atol=1e-4)
    with model.weight_average.scope():
        np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(model(x, training=False)), rtol=1e-5,
                                   atol=1e-6)
    accuracy = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(np.mean(model.classify(data.x_test).argmax(-1) == data.y_test), abs=1e-6)
    # the live weights are untouched by evaluating
    for v, h in zip(model.role_variables("d"), history[-1]):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v), h)


def test_exponential_average_before_any_step_and_bad_decay():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    average = ExponentialAverage(model, model.trainable_variables, 0.99)
    for value, variable in zip(average.values(), model.trainable_variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(value), keras.ops.convert_to_numpy(variable))
    with pytest.raises(ValueError, match="decay"):
        ExponentialAverage(model, model.trainable_variables, 1.0)


def test_the_reference_d_of_improved_gan_starts_well_conditioned():
    """On 500 MNIST-like images the initialised D's first layer has no unit stuck on one side of zero (the
    un-initialised net had 29% of units with more than 95% of the examples on one side, research note)."""
    data = zoo.data.load("digits", labels=50)
    model = zoo.load("improved_gan", input_shape=data.input_shape, num_classes=10, arch="improved_gan_mnist",
                     input_noise=0.6, seed=0)
    model.initialize(data.sample_images(500, seed=0))
    first = model.features.layers[3]
    assert isinstance(first, WeightNormDense) and first.units == 1000
    h = keras.ops.convert_to_numpy(model.features.layers[2](data.sample_images(500, seed=0)))
    kernel = first.g * first.v / keras.ops.sqrt(keras.ops.sum(first.v ** 2, axis=0))
    pre = h @ keras.ops.convert_to_numpy(kernel) + keras.ops.convert_to_numpy(first.bias)
    one_sided = np.mean(np.maximum((pre > 0).mean(0), (pre < 0).mean(0)) > 0.95)
    assert one_sided < 0.05
    assert nets.get("improved_gan_mnist").hidden_noise == 0.5
