"""Models with a likelihood or a bound on it: `vae`, `iwae` (ELBO / importance-weighted bound) and
`pixelcnn` (exact autoregressive log-likelihood). Flows and EM-fitted models go here too."""

from zoo.models.likelihood import em, flows, iwae, made, pixelcnn, vae  # noqa: F401
