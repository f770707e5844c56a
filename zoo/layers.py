"""Reusable layers and layer-level operations of the zoo."""

from __future__ import annotations

from keras import ops


def reparameterize(mean, log_var, noise):
    """z = mean + exp(log_var / 2) * noise with noise ~ N(0, I): the
    reparameterisation trick of Kingma & Welling 2013 (arXiv 1312.6114), Sec. 2.4.
    The caller draws `noise` (from its model's seed generator)."""
    return mean + ops.exp(0.5 * log_var) * noise


def expand_classes(num_classes, *tensors):
    """Pair every row of `tensors` with every class, for bounds that sum the class out.

    Returns `(onehot, tiled)`: `onehot` has shape (num_classes * n, num_classes)
    and row c * n + i pairs class c with row i of each tensor (tiled along
    the first axis). Kingma et al. 2014, Eq. 7 sums over all classes this way.
    """
    n = ops.shape(tensors[0])[0]
    onehot = ops.repeat(ops.eye(num_classes), n, axis=0)
    tiled = [ops.tile(t, (num_classes,) + (1,) * (len(t.shape) - 1)) for t in tensors]
    return onehot, tiled


def split_gaussian(stats):
    """(mean, log_var) from a head's output whose last axis holds both halves."""
    half = stats.shape[-1] // 2
    return stats[..., :half], stats[..., half:]
