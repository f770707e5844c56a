"""One step under MirroredStrategy over two logical CPUs equals the single-device step.

Optimizers are plain SGD here: Adam's first step is nearly invariant to the
scale of the gradient, so it would hide a gradient summed instead of averaged
over replicas (DESIGN.md, pitfall 3). Noise is made a fixed function of the
global batch row (each replica takes its rows), dropout and input noise are off,
and batch norm is synchronized, so both runs see the same numbers.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

GLOBAL_BATCH = 16


@pytest.fixture
def strategy(mirrored_strategy):
    return mirrored_strategy


def _patch_noise(model):
    """model.normal (and Triple-GAN's draw_labels) -> rows [r*n, (r+1)*n) of a fixed table, r the replica id."""

    def normal(shape):
        rest = tuple(int(d) for d in shape[1:])
        table = tf.constant(np.random.default_rng(7).normal(size=(GLOBAL_BATCH,) + rest), tf.float32)
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        n = shape[0]
        return tf.gather(table, tf.range(n) + tf.cast(replica, tf.int32) * n)

    def uniform(shape, minval=0.0, maxval=1.0):  # WGAN-GP's interpolation weights
        rest = tuple(int(d) for d in shape[1:])
        table = tf.constant(np.random.default_rng(8).uniform(minval, maxval, size=(GLOBAL_BATCH,) + rest), tf.float32)
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        n = shape[0]
        return tf.gather(table, tf.range(n) + tf.cast(replica, tf.int32) * n)

    model.normal = normal
    model.uniform = uniform
    if hasattr(model, "draw_labels"):  # Triple-GAN's class labels of G: a fixed table too
        def draw_labels(n):
            table = tf.constant(np.arange(GLOBAL_BATCH) % 10, tf.int32)
            context = tf.distribute.get_replica_context()
            replica = 0 if context is None else context.replica_id_in_sync_group
            return tf.gather(table, tf.range(n) + tf.cast(replica, tf.int32) * n)

        model.draw_labels = draw_labels


def _build(name, kwargs, weights=None):
    keras.utils.set_random_seed(0)
    model = zoo.load(name, optimizers={role: keras.optimizers.SGD(0.5) for role in zoo.get(name).roles}, **kwargs)
    if weights is not None:
        model.set_weights(weights)
    _patch_noise(model)
    return model


@pytest.mark.parametrize("name,kwargs", [
    ("sgan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0}),
    ("sgan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0,
              "generator_loss": "non_saturating", "arch": "mlp"}),
    ("vae", {"latent_dim": 4}),
    # Batch statistics beyond means: Bad GAN's pull-away term (pairs of the global batch) and Enhanced
    # Triple-GAN's class-wise feature matching (class sums and counts of the global batch).
    ("bad_gan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0, "arch": "mlp",
                 "pull_away_weight": 0.8, "entropy_weight": 0.1}),
    ("enhanced_triple_gan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0,
                             "d_input_noise": 0.0, "arch": "mlp",
                             # The paper code's split of each (per-replica) unlabelled batch in halves picks
                             # other rows than the one-device split: off, to compare like with like.
                             "pseudo_real_pairs": False}),
    # The GAN family: batch norm in D and G (dcgan), the per-example gradient penalty (wgan_gp), the
    # clipping constraint applied by each replica's optimizer update (wgan). One critic step per step: with
    # several, each replica splits its own rows into the critic minibatches, other rows than one device's.
    ("dcgan", {"latent_dim": 8}),
    ("wgan_gp", {"latent_dim": 8, "critic_steps": 1}),
    ("wgan", {"latent_dim": 8, "critic_steps": 1, "clip": 0.05}),
    ("sngan", {"latent_dim": 8, "critic_steps": 1}),  # the power iteration's u, updated on every replica
    # biggan also covers SAGAN's batch norm under spectral norm in G, with the attention blocks.
    ("biggan", {"num_classes": 10, "latent_dim": 8, "critic_steps": 1}),  # conditional BN, shared embedding
    ("vdb", {"latent_dim": 8}),  # the multiplier beta: one dual step from the global batch's KL
    ("infogan", {"latent_dim": 8}),  # batch norm in D, Q and G; the codes drawn per global row
    ("pix2pix", {"filters": 8, "dropout": 0.0}),  # batch norm in the U-Net and the PatchGAN, patch-mean losses
    # Likelihood models: MADE's mask counter (one per step, not per replica) and a flow's dequantisation
    # noise and log-determinants (nice: realnvp's and glow's zero-initialised couplings move few weights in
    # one step). ppca / gmm: tests/test_em.py, their E-step statistics all-reduced.
    ("made", {"hidden": (16,), "num_masks": 2}),
    ("nice", {"hidden": 16, "depth": 2}),
])
def test_mirrored_step_equals_single_device_step(name, kwargs, strategy):
    # pix2pix trains on (edges, image) pairs; every other method on the SSL split.
    data = zoo.data.load_pairs("digits") if name == "pix2pix" else zoo.data.load("digits", labels=20)
    batch = {k: v.numpy() for k, v in next(iter(data.train(GLOBAL_BATCH, GLOBAL_BATCH))).items()}
    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(GLOBAL_BATCH)
    kwargs = {"input_shape": data.input_shape, **kwargs}

    single = _build(name, kwargs)
    start = single.get_weights()
    single.fit(dataset, epochs=1, verbose=0, shuffle=False)

    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        mirrored = _build(name, kwargs, weights=start)
    mirrored.fit(dataset, epochs=1, verbose=0, shuffle=False)

    # Compare the updates, not the weights: some updates (the generator's under
    # feature matching) are tiny next to the weights they change.
    for w0, w1, w2 in zip(start, single.get_weights(), mirrored.get_weights()):
        expected, actual = w1 - w0, w2 - w0
        np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max() + 1e-9)
    moved = [np.abs(w1 - w0).max() > 0 for w0, w1 in zip(start, single.get_weights())]
    assert sum(moved) > len(moved) // 2, "the step barely changed the weights: the test would prove nothing"
