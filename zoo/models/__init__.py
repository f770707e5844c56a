"""The methods of the zoo, one module per family; importing registers them."""

from zoo.models import bad_gan, catgan, dcgan_features, improved_gan, sgan, supervised, triple_gan, vae  # noqa: F401
