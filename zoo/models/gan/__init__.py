"""Implicit generative models trained without labels: the GAN family and adversarial inference.

`gan` and `dcgan` (gan.py, with `ImageGAN`, the base of the image GANs), `wgan` and `wgan_gp`
(wgan.py), `sngan` and `sngan_projection` (sngan.py), `sagan` (sagan.py), `infogan` (infogan.py),
`vdb` (vdb.py), `biggan` (biggan.py), `progan` (progan.py, progressive growing), `stylegan` (stylegan.py, on ProGAN's growing), `imle` (imle.py, no discriminator), `pix2pix` (pix2pix.py, paired translation),
`bigan`, `ali` (and its K+1 variant `ali_ssl`, which lives with them), `bigbigan`, `gmmn`, `gmmn_ae`.
"""

from zoo.models.gan import (  # noqa: F401
    bigan, bigbigan, biggan, gan, gmmn, imle, infogan, pix2pix, progan, sagan, sngan, stylegan, vdb, wgan,
)
