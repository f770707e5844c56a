"""Generative semi-supervised methods: a few labels, many unlabelled images, one generative model.

GAN-based (`sgan`, `improved_gan`, `bad_gan`, `catgan`, `triple_gan`,
`enhanced_triple_gan`, `dcgan_features`, `augmented_bigan`), variational
(`m1`, `m2`, `m1_m2`, `adgm`, `sdgm`), Bayesian non-parametric
(`infinite_vae`) and adversarial autoencoders (`aae` and its four variants).
"""

from zoo.models.ssl import (  # noqa: F401
    aae, adgm, augmented_bigan, bad_gan, catgan, dcgan_features, improved_gan, infinite_vae, sgan, ssl_vae,
    triple_gan,
)
