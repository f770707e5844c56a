"""The VAE (unsupervised; its number is the test ELBO)."""

from recipes import Recipe

RECIPES = [
    Recipe(
        name="vae_digits", method="vae", dataset="digits", labels=None,
        hparams={"latent_dim": 8}, scales={"cpu": {"steps": 2000, "batch_size": 64}},
    ),
    Recipe(
        name="vae_mnist", method="vae", dataset="mnist", labels=None,
        hparams={"latent_dim": 20, "arch": "mlp"},
        scales={"cpu": {"steps": 2000, "batch_size": 100}, "paper": {"steps": 600000, "batch_size": 100}},
        notes="Kingma & Welling 2013, Fig. 2 reports the bound on MNIST in plots only.",
    ),
]
