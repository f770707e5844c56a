"""The methods of the zoo, one module per family; importing registers them."""

from zoo.models import aae, bigan, gmmn, sgan, supervised, vae  # noqa: F401
