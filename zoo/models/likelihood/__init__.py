"""Models with a likelihood or a bound on it: `vae`, `iwae` (ELBO / importance-weighted bound) and
`pixelcnn` (exact autoregressive log-likelihood), `vq_vae` (discrete latent codes, a bound with its PixelCNN
prior). Flows and EM-fitted models go here too."""

from zoo.models.likelihood import em, flows, iwae, made, pixelcnn, vae, vq_vae  # noqa: F401
