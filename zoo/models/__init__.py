"""The methods of the zoo, one module per family; importing registers them."""

from zoo.models import (  # noqa: F401
    aae, adgm, augmented_bigan, bad_gan, bigan, bigbigan, catgan, dcgan_features, gmmn, improved_gan, infinite_vae,
    iwae, pixelcnn, sgan, ssl_vae, supervised, triple_gan, vae,
)
