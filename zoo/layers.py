"""Reusable layers and layer-level operations of the zoo."""

from __future__ import annotations

from keras import ops


def reparameterize(mean, log_var, noise):
    """z = mean + exp(log_var / 2) * noise with noise ~ N(0, I): the
    reparameterisation trick of Kingma & Welling 2013 (arXiv 1312.6114), Sec. 2.4.
    The caller draws `noise` (from its model's seed generator)."""
    return mean + ops.exp(0.5 * log_var) * noise
