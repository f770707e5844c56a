"""Implicit generative models without labels: adversarial inference and moment matching.

`bigan`, `ali` (and its K+1 variant `ali_ssl`, which lives with them),
`bigbigan`, `gmmn`, `gmmn_ae`. Unconditional and conditional GANs (WGAN-GP,
SNGAN, ...) go here too.
"""

from zoo.models.gan import bigan, bigbigan, gmmn  # noqa: F401
