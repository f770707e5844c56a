"""Models with a likelihood or a bound on it: `vae`, `iwae` (ELBO / importance-weighted bound), `pixelcnn`
(exact autoregressive log-likelihood), `pixelvae` and `vlae` (VAEs with an autoregressive decoder,
`autoregressive_vae`). Flows and EM-fitted models go here too."""

from zoo.models.likelihood import autoregressive_vae, em, flows, iwae, made, pixelcnn, vae  # noqa: F401
