"""GMMN and GMMN+AE (Li, Swersky & Zemel 2015, arXiv 1502.02761)."""

from recipes import Recipe

RECIPES = [
    Recipe(
        name="gmmn_mnist", method="gmmn", dataset="mnist", labels=None,
        hparams={"latent_dim": 10, "arch": "mlp"},
        scales={"cpu": {"steps": 2000, "batch_size": 1000}, "paper": {"steps": 60_000, "batch_size": 1000}},
        paper={"reference": "Li et al. 2015, Table 1 (MNIST Parzen window log-likelihood, GMMN)",
               "metric": "parzen_log_likelihood", "value": 147.0},
        notes="The paper's generator is a 64-256-256-1024 ReLU MLP; the zoo's mlp generator is 500-500. "
              "The runner reports the test MMD; the Parzen number needs the evaluation issue's metric.",
    ),
    Recipe(
        name="gmmn_ae_mnist", method="gmmn_ae", dataset="mnist", labels=None,
        hparams={"latent_dim": 10, "code_dim": 32, "arch": "mlp", "code_dropout": 0.1},
        scales={"cpu": {"steps": 2000, "batch_size": 1000}, "paper": {"steps": 60_000, "batch_size": 1000}},
        paper={"reference": "Li et al. 2015, Table 1 (MNIST Parzen window log-likelihood, GMMN+AE)",
               "metric": "parzen_log_likelihood", "value": 282.0},
        notes="The paper pre-trains a 1024-32 dropout autoencoder; we train it jointly (see gmmn_ae).",
    ),
]
