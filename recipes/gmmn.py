"""GMMN and GMMN+AE (Li, Swersky & Zemel 2015, arXiv 1502.02761)."""

from recipes import Recipe

RECIPES = [
    Recipe(
        name="gmmn_mnist", method="gmmn", dataset="mnist", labels=None,
        hparams={"latent_dim": 10, "arch": "mlp"},
        scales={"cpu": {"steps": 2000, "batch_size": 1000}, "paper": {"steps": 60_000, "batch_size": 1000}},
        paper={"reference": "Li et al. 2015, Table 1 (MNIST Parzen window log-likelihood, GMMN)",
               "metric": "parzen_log_likelihood", "value": 147.0},
        notes="The zoo's mlp generator (500-500, batch norm) stands in for the paper's ReLU MLP. "
              "The runner reports the test MMD; the Parzen number needs the evaluation issue's metric.",
    ),
    Recipe(
        name="gmmn_ae_mnist", method="gmmn_ae", dataset="mnist", labels=None,
        hparams={"latent_dim": 10, "code_dim": 32, "arch": "mlp", "code_dropout": 0.1},
        scales={"cpu": {"steps": 2000, "batch_size": 1000}, "paper": {"steps": 60_000, "batch_size": 1000}},
        paper={"reference": "Li et al. 2015, Table 1 (MNIST Parzen window log-likelihood, GMMN+AE)",
               "metric": "parzen_log_likelihood", "value": 282.0},
        notes="The paper pre-trains a dropout autoencoder, then fits the GMMN; we train both jointly (see gmmn_ae).",
    ),
]
