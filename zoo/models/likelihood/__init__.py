"""Models with a likelihood or a bound on it: `vae`, `iwae` (ELBO / importance-weighted bound), `pixelcnn`
(exact autoregressive log-likelihood), `pixelvae` and `vlae` (VAEs with an autoregressive decoder,
`autoregressive_vae`), `vq_vae` (discrete latent codes, a bound with its PixelCNN prior). Flows and EM-fitted
models go here too."""

from zoo.models.likelihood import autoregressive_vae, em, flows, iwae, made, pixelcnn, vae, vq_vae  # noqa: F401
