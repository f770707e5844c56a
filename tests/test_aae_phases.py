"""Adversarial autoencoders: each of the paper's phases steps its own optimizer."""

import keras
import numpy as np
import pytest

import zoo


@pytest.fixture(scope="module")
def digits50():
    return zoo.data.load("digits", labels=50, seed=0)


def _model(name, **kwargs):
    keras.utils.set_random_seed(0)
    return zoo.load(name, input_shape=(8, 8, 1), discriminator_units=16, **kwargs)


def _state(optimizer):
    return [v.numpy().copy() for v in optimizer.variables]


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("name,kwargs,optimizers", [
    ("aae", {"latent_dim": 2}, {"e", "g", "d", "e_regularization"}),
    ("aae_supervised", {"num_classes": 10, "latent_dim": 2}, {"e", "g", "d", "e_regularization"}),
    ("aae_ssl", {"num_classes": 10, "latent_dim": 3},
     {"e", "s", "g", "d", "e_regularization", "s_regularization", "e_supervised"}),
    ("aae_clustering", {"num_clusters": 4}, {"e", "s", "g", "d", "e_regularization", "s_regularization"}),
    ("aae_dim_reduction", {"num_classes": 10},
     {"e", "s", "g", "d", "e_regularization", "s_regularization", "e_supervised"}),
])
def test_every_phase_steps_once_with_its_own_optimizer(name, kwargs, optimizers, digits50):
    model = _model(name, **kwargs)
    assert set(model.role_optimizers) == optimizers
    assert len({id(o) for o in model.role_optimizers.values()}) == len(optimizers)
    slots = [id(v) for o in model.role_optimizers.values() for v in o.variables]
    assert len(set(slots)) == len(slots), "two phases share optimizer state"
    batch = next(iter(digits50.train(8)))
    if name in ("aae", "aae_clustering"):
        batch = {"x": batch["x"]}
    elif name == "aae_supervised":
        batch = {"x_labeled": batch["x_labeled"], "y_labeled": batch["y_labeled"]}
    model.train_step(batch)
    assert {r: int(o.iterations) for r, o in model.role_optimizers.items()} == dict.fromkeys(optimizers, 1)


def test_the_supervised_phase_steps_only_its_optimizer(digits50):
    """One classification-phase step changes e_supervised's state and the encoder's trunk and category
    head; no other optimizer, nor the style head, decoder or discriminators."""
    model = _model("aae_ssl", num_classes=10, latent_dim=3)
    batch = next(iter(digits50.train(8)))
    model.train_step(batch)
    optimizers = model.role_optimizers
    before = {r: _state(o) for r, o in optimizers.items()}
    weights = {r: [v.numpy().copy() for v in model.role_variables(r)] for r in model.roles}
    model.minimize("e_supervised", lambda: model.supervised_losses(batch["x_labeled"], batch["y_labeled"]))
    for role, optimizer in optimizers.items():
        assert _changed(before[role], _state(optimizer)) == (role == "e_supervised"), role
    for role in model.roles:
        assert _changed(weights[role], [v.numpy() for v in model.role_variables(role)]) == (role == "e"), role
    # The phases of the same weights keep different moments: the reconstruction phase's "e" Adam has not
    # seen the supervised gradients.
    first_moments = [v.numpy() for v in optimizers["e"].variables if "momentum" in v.path]
    supervised_moments = [v.numpy() for v in optimizers["e_supervised"].variables if "momentum" in v.path]
    assert first_moments and _changed(first_moments, supervised_moments)


def test_phase_optimizers_are_overridden_by_name_and_saved(digits50, tmp_path):
    model = _model("aae_ssl", num_classes=10, latent_dim=3)
    model.compile(optimizers={"e_supervised": keras.optimizers.SGD(0.1, momentum=0.9), "d": "sgd"})
    assert isinstance(model.role_optimizers["e_supervised"], keras.optimizers.SGD)
    assert isinstance(model.role_optimizers["d"], keras.optimizers.SGD)
    assert isinstance(model.role_optimizers["e_regularization"], keras.optimizers.Adam)
    model.fit(digits50.train(8), epochs=1, steps_per_epoch=2, verbose=0)
    model.save(tmp_path / "aae.keras")
    loaded = keras.models.load_model(tmp_path / "aae.keras")
    assert isinstance(loaded.role_optimizers["e_supervised"], keras.optimizers.SGD)
    assert loaded.role_optimizers["e_supervised"].momentum == pytest.approx(0.9)
    for role, optimizer in model.role_optimizers.items():
        for a, b in zip(optimizer.variables, loaded.role_optimizers[role].variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="no optimizer role"):
        model.compile(optimizers={"c": "sgd"})
