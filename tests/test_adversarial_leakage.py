"""Label leakage: the unlabelled stream carries no labels, and the unsupervised terms of every
adversarial method are blind to the labels (they get the unlabelled images alone)."""

import numpy as np
import pytest

import zoo
from tests.harness import tiny_data

NOISELESS = {"dropout": 0.0, "input_noise": 0.0}


def _batch(data, n=16):
    x_labeled, y_labeled = data.labeled()
    return data.x_train[:n], x_labeled[:n], y_labeled[:n].astype("int32")


def _other_labels(y, num_classes):
    return ((y + 1) % num_classes).astype("int32")


@pytest.mark.parametrize("name,unsupervised", [
    ("improved_gan", ("d_unsupervised",)),
    ("bad_gan", ("d_unsupervised", "d_entropy")),
    ("catgan", ("d_unsupervised",)),
])
def test_discriminator_unsupervised_terms_ignore_labels(name, unsupervised):
    data = tiny_data()
    model = zoo.load(name, input_shape=data.input_shape, num_classes=10, latent_dim=8, **NOISELESS)
    x, x_labeled, y_labeled = _batch(data)
    z = np.random.default_rng(0).normal(size=(len(x), 8)).astype("float32")
    _, logs = model.discriminator_losses(x, x_labeled, y_labeled, z)
    _, flipped = model.discriminator_losses(x, x_labeled, _other_labels(y_labeled, 10), z)
    for key in unsupervised:
        assert float(logs[key]) == float(flipped[key]), key
    assert float(logs["d_supervised"]) != float(flipped["d_supervised"])  # the labels do reach L_supervised


@pytest.mark.parametrize("name", ["triple_gan", "enhanced_triple_gan"])
def test_classifier_unsupervised_terms_ignore_labels(name):
    data = tiny_data()
    model = zoo.load(name, input_shape=data.input_shape, num_classes=10, latent_dim=8, d_input_noise=0.0,
                     **NOISELESS)
    x, x_labeled, y_labeled = _batch(data)
    x_fake, y_fake = data.x_train[16:32], np.arange(16, dtype="int32") % 10
    _, logs = model.classifier_losses(x, x_labeled, y_labeled, x_fake, y_fake, 1.0)
    _, flipped = model.classifier_losses(x, x_labeled, _other_labels(y_labeled, 10), x_fake, y_fake, 1.0)
    for key in ("c_adversarial", "c_entropy", "c_pseudo"):
        assert float(logs[key]) == float(flipped[key]), key
    assert float(logs["c_supervised"]) != float(flipped["c_supervised"])


@pytest.mark.parametrize("name", ["improved_gan", "catgan", "bad_gan", "triple_gan", "enhanced_triple_gan"])
def test_unlabelled_stream_with_labels_is_refused(name):
    data = tiny_data()
    model = zoo.load(name, input_shape=data.input_shape, num_classes=10, latent_dim=8)
    x, x_labeled, y_labeled = _batch(data)
    with pytest.raises(ValueError, match="carries no labels"):
        model.train_step({"x": x, "y": y_labeled, "x_labeled": x_labeled, "y_labeled": y_labeled})
