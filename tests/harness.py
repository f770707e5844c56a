"""The shared method harness: every registered method runs through `run_method_test`.

It checks the contracts of DESIGN.md on tiny data, in a few seconds:
build and compile through `zoo.load`; every trainable weight belongs to exactly
one role; a few training steps change every trainable weight of every role and
log exactly `log_names` with finite values; evaluation changes no weight and
logs exactly what it should; each claimed capability works (and each other one
raises `CapabilityError`); the config round-trips; a `.keras` round trip gives a
model that samples, classifies and encodes exactly as before, with its
optimizers' state, and trains on (one eager step) without Keras warnings.
"""

from __future__ import annotations

import inspect
import warnings

import keras
import numpy as np

import zoo
from zoo.base import CAPABILITIES, CapabilityError


def tiny_data(labels=20, seed=0):
    """Digits with a small label budget: the default tiny training data."""
    return zoo.data.load("digits", labels=labels, seed=seed)


def seeded_model(name, input_shape=(8, 8, 1), **kwargs):
    """`zoo.load(name)` for digits-shaped images, with Keras' global seed set first (weights reproducible)."""
    keras.utils.set_random_seed(0)
    return zoo.load(name, input_shape=input_shape, **kwargs)


def snapshot(variables):
    """Values by position (paths differ between a model and its reloaded copy)."""
    return {f"{i}:{v.path}": np.array(v.numpy()) for i, v in enumerate(variables)}


def model_state(model):
    """Every weight of the model's nets (trainable and not), without RNG states."""
    return snapshot(v for v in model.weights if "seed_generator" not in v.path)


def optimizer_state(model):
    return {role: snapshot(opt.variables) for role, opt in model.role_optimizers.items()}


def keras_warnings(caught):
    return [str(w.message) for w in caught if "keras" in w.filename and issubclass(w.category, UserWarning)]


def run_method_test(name, init_kwargs=None, *, data=None, batch_size=16, steps=2, tmp_path=None,
                    not_trained=()):
    """Run the shared checks on method `name`; returns the trained model.

    Args:
        init_kwargs: constructor arguments besides input_shape / num_classes.
        data: an `SSLData` (default: digits with 20 labels).
        not_trained: substrings of variable paths that legitimately get no
            update in a few steps (say why at the call site).
        tmp_path: folder for the `.keras` round trip (pytest's tmp_path).
    """
    data = data or tiny_data()
    # Built as the project's card builds it: no shapes, the model reads them from the data it is fitted on.
    model = zoo.load(name, **(init_kwargs or {}))
    assert model.awaiting_data and not model.built
    check_not_built_errors(model, data)

    initial = _InitialWeights()
    history = model.fit(data, batch_size=batch_size, epochs=1, steps_per_epoch=steps, verbose=0,
                        callbacks=[initial])
    assert model.compiled and model.built and not model.awaiting_data
    assert model.image_shape == data.input_shape
    if "num_classes" in inspect.signature(type(model).__init__).parameters:
        assert model.num_classes == data.num_classes

    # Roles partition the trainable weights.
    owners = {}
    for role in model.roles:
        for v in model.role_variables(role):
            assert v.path not in owners, f"{v.path} is in roles {owners[v.path]} and {role}"
            owners[v.path] = role
    assert set(owners) == {v.path for v in model.trainable_variables}, "trainable weights outside every role"

    # Training changes every trainable weight and logs exactly log_names.
    before = initial.weights
    assert set(history.history) == set(model.log_names), history.history.keys()
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), f"{key} is not finite: {values}"
    after = snapshot(model.trainable_variables)
    unchanged = [p for p in before if np.array_equal(before[p], after[p])
                 and not any(s in p for s in not_trained)]
    assert not unchanged, f"training did not change {unchanged}"
    for role, optimizer in model.role_optimizers.items():
        expected_steps = steps * model.updates_per_step.get(role, 1)
        assert int(optimizer.iterations.numpy()) == expected_steps, f"role {role} stepped {optimizer.iterations.numpy()}"

    # Evaluation changes nothing and logs exactly what it should.
    state = model_state(model)
    results = model.evaluate(data.test(64), return_dict=True, verbose=0)
    expected = set(model.eval_log_names) | ({"accuracy"} if model.can("classify") else set())
    assert set(results) == expected, results
    assert all(np.isfinite(v) for v in results.values()), results
    assert _equal_states(state, model_state(model)), "evaluate() changed weights"

    check_capabilities(model, data)

    # Config round trip.
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config

    if tmp_path is not None:
        check_saving(model, data, tmp_path / f"{name}.keras", batch_size)
    return model


class _InitialWeights(keras.callbacks.Callback):
    """The trainable weights as `fit` starts, i.e. once a model created without shapes is built."""

    def on_train_begin(self, logs=None):
        self.weights = snapshot(self.model.trainable_variables)


def check_not_built_errors(model, data):
    """Before it has seen data, every capability of a model created without shapes is a clear
    NotBuiltError, and its config round-trips (to another model awaiting data)."""
    from zoo.base import NotBuiltError

    for capability in model.capabilities:
        try:
            getattr(model, capability)(data.x_test[:2]) if capability != "sample" else model.sample(2)
        except NotBuiltError:
            continue
        raise AssertionError(f"{capability} of a model awaiting data should raise NotBuiltError")
    config = model.get_config()
    assert config.get("input_shape") is None
    assert type(model).from_config(config).awaiting_data


def check_capabilities(model, data):
    x = data.x_test[:6]
    for capability in CAPABILITIES:
        if not model.can(capability):
            try:
                getattr(model, capability)(x) if capability != "sample" else model.sample(2)
            except CapabilityError:
                continue
            raise AssertionError(f"{capability} should raise CapabilityError")
    if model.can("sample"):
        images = model.sample(5, seed=3)
        assert images.shape == (5,) + model.image_shape
        assert np.isfinite(images).all() and images.min() >= -1 and images.max() <= 1
        np.testing.assert_array_equal(images, model.sample(5, seed=3))
        if model.conditional:
            assert model.sample(model.num_classes, labels=range(model.num_classes)).shape[0] == model.num_classes
        else:
            try:
                model.sample(2, labels=[0, 1])
            except ValueError:
                pass
            else:
                raise AssertionError("an unconditional model must reject labels")
    if model.can("classify"):
        probabilities = model.classify(x)
        assert probabilities.shape == (len(x), model.num_classes)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    if model.can("encode"):
        codes = model.encode(x)
        assert codes.shape[0] == len(x) and np.isfinite(codes).all()
    if model.can("elbo"):
        assert model.elbo(x).shape == (len(x),) and np.isfinite(model.elbo(x)).all()
    if model.can("log_prob"):
        log_p = model.log_prob(x, k=8)
        assert log_p.shape == (len(x),) and np.isfinite(log_p).all()


def check_saving(model, data, path, batch_size=16):
    """`.keras` round trip: same outputs, same optimizer state, trains on, no Keras warnings."""
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(path)
    assert not keras_warnings(caught), keras_warnings(caught)
    assert type(loaded) is type(model)
    assert _equal_states(model_state(model), model_state(loaded))
    saved_optimizers, loaded_optimizers = optimizer_state(model), optimizer_state(loaded)
    assert set(saved_optimizers) == set(loaded_optimizers)
    assert all(len(s) > 1 for s in saved_optimizers.values()), "optimizers were not built"
    for role in saved_optimizers:
        assert _equal_states(saved_optimizers[role], loaded_optimizers[role]), f"optimizer {role} not restored"
    x = data.x_test[:8]
    if model.can("sample"):
        labels = range(model.num_classes) if model.conditional else None
        np.testing.assert_array_equal(model.sample(8, labels=labels, seed=5),
                                      loaded.sample(8, labels=labels, seed=5))
    for capability in ("classify", "encode"):
        if model.can(capability):
            np.testing.assert_array_equal(getattr(model, capability)(x), getattr(loaded, capability)(x))
    steps_before = {r: int(o.iterations.numpy()) for r, o in loaded.role_optimizers.items()}
    # One eager step: the restored state (weights, optimizer slots, random states) trains on. The graph
    # path of train_step was traced by the first fit; tracing it again costs a third of the harness's time.
    loaded.run_eagerly = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded.fit(data.train(batch_size), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    assert not keras_warnings(caught), keras_warnings(caught)
    for role, optimizer in loaded.role_optimizers.items():
        assert int(optimizer.iterations.numpy()) == steps_before[role] + loaded.updates_per_step.get(role, 1)
    return loaded


def train_supervised_term(model, data, steps, batch_size=64):
    """The supervised-only baseline of a K+1 pair classifier (`ali_ssl`, `augmented_bigan`): the
    same discriminator net D(x, E(x)) (encoder left at its initialisation), its role "d" stepping on
    the method's labelled term alone, with the method's optimizer, for `steps` batches."""
    import tensorflow as tf

    @tf.function
    def step(batch):
        noise = model.normal((tf.shape(batch["x_labeled"])[0], model.latent_dim))
        return model.minimize("d", lambda: model.supervised_losses(batch["x_labeled"], batch["y_labeled"], noise))

    for batch in data.train(batch_size).take(steps):
        step(batch)


def pair_classifier_gain(name, data, steps_per_epoch, epochs=1, seed=0, **kwargs):
    """Test accuracy of K+1 pair classifier `name` trained as an SSL method and as its supervised-only
    baseline (`train_supervised_term`, the same number of steps), both from `seed`."""
    import keras

    accuracies = {}
    for mode in ("ssl", "baseline"):
        keras.utils.set_random_seed(seed)
        model = zoo.load(name, input_shape=data.input_shape, num_classes=data.num_classes, seed=seed, **kwargs)
        if mode == "ssl":
            model.fit(data.train(64), epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0)
        else:
            train_supervised_term(model, data, epochs * steps_per_epoch)
        accuracies[mode] = model.evaluate(data.test(), return_dict=True, verbose=0)["accuracy"]
    return accuracies


def assert_take_no_labels(functions):
    """Each function's signature has no label argument (`y`, or a name with "label")."""
    import inspect

    for fn in functions:
        assert not any(p == "y" or "label" in p for p in inspect.signature(fn).parameters), fn


def train_on_two_labelings(name, data, steps, shift, **kwargs):
    """Two models of `name` from the same seed, each trained `steps` steps on the same 16 unlabelled and
    16 labelled images; the second's labels are the first's shifted by `shift` (mod 10). Label leakage
    tests compare their weights."""
    import keras

    x = data.x_train[:16]
    x_labeled, y_labeled = data.labeled()
    x_labeled, y_labeled = x_labeled[:16], y_labeled[:16].astype("int32")
    models = []
    for labels in (y_labeled, (y_labeled + shift) % 10):
        keras.utils.set_random_seed(0)
        model = zoo.load(name, input_shape=data.input_shape, num_classes=10, seed=0, **kwargs)
        for _ in range(steps):
            model.train_step({"x": x, "x_labeled": x_labeled, "y_labeled": labels})
        models.append(model)
    return models


def assert_labels_reach_no_unsupervised_term(name, data, label_free, **kwargs):
    """Label leakage of a K+1 pair classifier: the functions `label_free` take no labels (by signature),
    and with its supervised term off (`supervised_weight=0`) two steps on batches that differ only in
    `y_labeled` leave every weight identical. Returns the trained model (for further checks)."""
    assert_take_no_labels(label_free)
    models = train_on_two_labelings(name, data, steps=2, shift=3, dropout=0.0, supervised_weight=0.0, **kwargs)
    for a, b in zip(models[0].trainable_variables, models[1].trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    return models[0]


def _equal_states(a, b):
    """Equal values at equal positions (names may differ after a reload)."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a.values(), b.values()))


def sample_mmd2(model, data, n=500, seed=1):
    """MMD^2 (Gaussian kernels of bandwidths 1, 2, 4, 8 on [-1, 1] pixels) between `n` samples of `model`
    (class-conditional ones: labels 0..K-1 cycled) and the first `n` test images: the learns tests'
    sample-quality score, compared before and after training."""
    from zoo import losses

    labels = range(model.num_classes) if model.conditional else None
    return float(losses.mmd_squared(model.sample(n, labels=labels, seed=seed), data.x_test[:n], (1.0, 2.0, 4.0, 8.0)))


def reconstruction_and_mmd2(model, data):
    """(test reconstruction error from `evaluate`, `sample_mmd2`): the learns tests' two scores of a model
    that both reconstructs and samples, compared before and after training."""
    reconstruction = model.evaluate(data.test(), return_dict=True, verbose=0)["reconstruction"]
    return reconstruction, sample_mmd2(model, data)
