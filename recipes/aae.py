"""Adversarial autoencoders (Makhzani et al. 2015, arXiv 1511.05644)."""

from recipes import CPU_28, Recipe
from recipes.baselines import DIGITS_VARIATIONAL, name_28

_DIGITS = {"cpu": DIGITS_VARIATIONAL}
_MNIST_CPU = {"steps": 3000, "batch_size": 100}

RECIPES = [
    Recipe(
        name="aae_ssl_digits_50", method="aae_ssl", dataset="digits", labels=50,
        hparams={"latent_dim": 8}, scales=_DIGITS,
        baseline="supervised_aae_digits_50",
        notes="No paper reports digits; the CPU setting of the family.",
    ),
    Recipe(
        name="aae_ssl_mnist_100", method="aae_ssl", dataset="mnist", labels=100,
        hparams={"arch": "mlp", "latent_dim": 10, "discriminator_units": 1000},
        scales={"cpu": CPU_28, "paper": {"steps": 500_000, "batch_size": 100}},
        paper={"reference": "Makhzani et al. 2015, Table 2 (MNIST, 100 labels)", "metric": "error",
               "value": 0.0190},
        baseline=name_28("aae", "mnist"),
        # the long runs' labels-alone curve: the same q(y|x) net (its cpu setting, Adam 3e-4) on the 100 labels
        paper_baseline=name_28("aae", "mnist"),
        notes="Paper: 1000-1000 ReLU MLPs, style dimension 10, SGD with momentum and separate learning rates "
              "per phase. Each phase has its own optimizer here too (reconstruction: e/s/g, regularization: d "
              "and e_regularization/s_regularization, semi-supervised: e_supervised), so no phase's moments "
              "reach another's update. Deviations left: the zoo's mlp nets (1000-500-250 encoder, 500-500 "
              "batch-norm decoder, tanh output and MSE on [-1, 1] pixels; the paper's 1000-1000 ReLU, sigmoid "
              "on [0, 1]); Adam (2e-4, beta_1 0.5) for every phase in place of the paper's per-phase SGD with "
              "momentum, whose learning rates and schedule we could not check in the PDF (no author code was "
              "released); the training length is our choice (~830 epochs).",
    ),
    Recipe(
        name="aae_ssl_fashion_mnist_100", method="aae_ssl", dataset="fashion_mnist", labels=100,
        hparams={"arch": "mlp", "latent_dim": 10, "discriminator_units": 1000},
        scales={"cpu": CPU_28}, baseline=name_28("aae", "fashion_mnist"),
        notes="No paper reports Fashion-MNIST; the MNIST CPU setting.",
    ),
    Recipe(
        name="aae_dim_reduction_digits_50", method="aae_dim_reduction", dataset="digits", labels=50,
        hparams={"latent_dim": 2}, scales=_DIGITS, baseline="supervised_aae_digits_50",
        notes="2-D representation (the paper's Fig. 10 setting) on digits; no paper reports digits.",
    ),
    *[Recipe(
        name=f"aae_dim_reduction_{dataset}_100", method="aae_dim_reduction", dataset=dataset, labels=100,
        hparams={"arch": "mlp", "latent_dim": 2, "discriminator_units": 1000},
        scales={"cpu": CPU_28}, baseline=name_28("aae", dataset),
        notes="2-D representation; the paper's numbers (Sec. 7) are for 1000 MNIST labels, not 100.",
    ) for dataset in ("mnist", "fashion_mnist")],
    Recipe(
        name="aae_mnist", method="aae", dataset="mnist", labels=None,
        hparams={"arch": "mlp", "latent_dim": 8, "prior": "gaussian", "discriminator_units": 1000},
        scales={"cpu": _MNIST_CPU, "paper": {"steps": 500_000, "batch_size": 100}},
        paper={"reference": "Makhzani et al. 2015, Table 1 (MNIST Parzen window log-likelihood, nats)",
               "metric": "parzen_log_likelihood", "value": 340.0},
        notes="The paper's number is a Parzen window estimate on 10k samples (the evaluation issue's metric); "
              "the runner reports the test reconstruction error.",
    ),
    Recipe(
        name="aae_digits_mixture", method="aae", dataset="digits", labels=None,
        hparams={"latent_dim": 2, "prior": "mixture", "learning_rate": 1e-3}, scales=_DIGITS,
        notes="The 2-D codes matched to a mixture of 10 Gaussians (the paper's Fig. 4, unsupervised); lr 1e-3: "
              "at 2e-4 the codes stay in a small region after 1000 steps (benchmarks/results/aae_codes_*.png).",
    ),
    Recipe(
        name="aae_clustering_mnist", method="aae_clustering", dataset="mnist", labels=None,
        hparams={"arch": "mlp", "num_clusters": 16, "latent_dim": 5, "discriminator_units": 1000},
        scales={"cpu": _MNIST_CPU, "paper": {"steps": 500_000, "batch_size": 100}},
        paper={"reference": "Makhzani et al. 2015, Table 3 (16 clusters)", "metric": "error", "value": 0.0955},
        notes="The error needs the cluster -> label assignment (benchmarks/aae.py computes it).",
    ),
]
