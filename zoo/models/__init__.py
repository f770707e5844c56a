"""The methods of the zoo, one module per family; importing registers them."""

from zoo.models import adgm, iwae, sgan, ssl_vae, supervised, vae  # noqa: F401
