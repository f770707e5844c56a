"""The methods of the zoo, one module per family; importing registers them."""

from zoo.models import (  # noqa: F401
    adgm, bad_gan, catgan, dcgan_features, improved_gan, iwae, sgan, ssl_vae, supervised, triple_gan, vae,
)
