"""The pieces of the distribution tests shared by the one-machine (tests/test_distribution.py) and the
multi-worker (tests/test_multiworker.py) checks: a model whose step is a fixed function of the global batch.

Optimizers are plain SGD: Adam's first step is nearly invariant to the scale of the gradient, so it would
hide a gradient summed instead of averaged over replicas (DESIGN.md, pitfall 3). Noise is a fixed function
of the global batch row (each replica takes its rows, by its replica id in the whole cluster), so a
distributed step and the single-device step on the global batch see the same numbers.
"""

import keras
import numpy as np
import tensorflow as tf

import zoo

GLOBAL_BATCH = 16


def _replica_rows(table, n, axis=0):
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    return tf.gather(table, tf.range(n) + tf.cast(replica, tf.int32) * n, axis=axis)


def patch_noise(model):
    """model.normal, model.uniform (WGAN-GP's interpolation weights) and Triple-GAN's draw_labels -> rows
    [r*n, (r+1)*n) of a fixed table, r the replica id."""

    def normal(shape):
        # the batch axis: 0, or 1 for (samples, batch, dim) noise (M2's one draw per class, IWAE's k draws)
        axis = 1 if len(shape) == 3 else 0
        table_shape = tuple(GLOBAL_BATCH if i == axis else int(d) for i, d in enumerate(shape))
        table = tf.constant(np.random.default_rng(7).normal(size=table_shape), tf.float32)
        return _replica_rows(table, shape[axis], axis)

    def uniform(shape, minval=0.0, maxval=1.0):
        rest = tuple(int(d) for d in shape[1:])
        table = tf.constant(np.random.default_rng(8).uniform(minval, maxval, size=(GLOBAL_BATCH,) + rest), tf.float32)
        return _replica_rows(table, shape[0])

    model.normal = normal
    model.uniform = uniform
    if hasattr(model, "draw_labels"):
        def draw_labels(n):
            return _replica_rows(tf.constant(np.arange(GLOBAL_BATCH) % 10, tf.int32), n)

        model.draw_labels = draw_labels


def build(name, kwargs, weights=None):
    """`name` with SGD(0.5) for every role, seeded, its noise patched; `weights` set if given."""
    keras.utils.set_random_seed(0)
    model = zoo.load(name, optimizers={role: keras.optimizers.SGD(0.5) for role in zoo.get(name).roles}, **kwargs)
    if weights is not None:
        model.set_weights(weights)
    patch_noise(model)
    return model


def one_batch(data):
    """The first global batch of `data`'s training stream, as a one-batch `tf.data` stream."""
    batch = {k: v.numpy() for k, v in next(iter(data.train(GLOBAL_BATCH, GLOBAL_BATCH))).items()}
    return tf.data.Dataset.from_tensor_slices(batch).batch(GLOBAL_BATCH)


def assert_same_updates(start, single, distributed):
    """The distributed step moved every weight as the single-device step did (the updates, not the weights:
    some updates, the generator's under feature matching, are tiny next to the weights they change), and
    the step moved most weights (else the comparison would prove nothing)."""
    for w0, w1, w2 in zip(start, single, distributed):
        expected, actual = w1 - w0, w2 - w0
        np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max() + 1e-9)
    moved = [np.abs(w1 - w0).max() > 0 for w0, w1 in zip(start, single)]
    assert sum(moved) > len(moved) // 2, "the step barely changed the weights: the test would prove nothing"
