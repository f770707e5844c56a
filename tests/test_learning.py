""""It learns" on the embedded digits, with bars set from measurements."""

import keras
import numpy as np
import pytest

import zoo


def _fit_and_score(name, data, steps, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    model = zoo.load(name, input_shape=data.input_shape, num_classes=data.num_classes, seed=seed, **kwargs)
    model.fit(data.train(64), epochs=steps // 100, steps_per_epoch=100, verbose=0)
    return model.evaluate(data.test(), return_dict=True, verbose=0)["accuracy"]


@pytest.mark.slow
def test_sgan_beats_its_supervised_baseline_on_digits_50():
    # Measured (1,000 steps, batch 64, default nets; seeds 0, 1, 2):
    #   sgan 0.872, 0.848, 0.866   supervised (same D net, labels only) 0.830, 0.806, 0.850
    #   i.e. +4.2, +4.2, +1.6 points. This test runs seed 0 and asks for +2 points.
    data = zoo.data.load("digits", labels=50, seed=0)
    sgan = _fit_and_score("sgan", data, 1000)
    supervised = _fit_and_score("supervised", data, 1000)
    assert sgan >= supervised + 0.02, (sgan, supervised)
    assert supervised > 0.6  # the baseline itself trained: the comparison is not against a broken net


@pytest.mark.slow
def test_vae_elbo_on_held_out_digits_improves():
    # Measured (seed 0): untrained test ELBO -44.3 nats; after 300 steps (batch 64)
    # -25.3 nats, +19.0. The bar asks for +12 nats.
    data = zoo.data.load("digits")
    keras.utils.set_random_seed(0)
    vae = zoo.load("vae", input_shape=data.input_shape, latent_dim=8, seed=0)
    before = vae.evaluate(data.test(), return_dict=True, verbose=0)["elbo"]
    vae.fit(data.train(64), epochs=3, steps_per_epoch=100, verbose=0)
    after = vae.evaluate(data.test(), return_dict=True, verbose=0)["elbo"]
    print(f"test ELBO before {before:.2f} after {after:.2f}")
    assert after >= before + 12.0, (before, after)
    # The importance-weighted estimate is a tighter bound than the ELBO
    # (Burda et al. 2015, Theorem 1): on average log p_k(x) >= ELBO(x).
    x = data.x_test[:100]
    assert vae.log_prob(x, k=200).mean() > vae.elbo(x).mean()
