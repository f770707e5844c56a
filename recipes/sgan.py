"""SGAN (Odena 2016; the foundation's simplest GAN classifier)."""

from recipes import CPU_28, Recipe
from recipes.baselines import DIGITS_CONV, hparams_28, name_28

RECIPES = [
    Recipe(
        name="sgan_digits_50", method="sgan", dataset="digits", labels=50,
        scales={"cpu": DIGITS_CONV}, baseline="supervised_digits_50",
        notes="No paper reports digits; the CPU smoke setting of the family.",
    ),
    Recipe(
        name="sgan_mnist_100", method="sgan", dataset="mnist", labels=100,
        hparams=hparams_28("mlp"),
        scales={"cpu": CPU_28, "paper": {"steps": 180000, "batch_size": 100}},
        paper={"reference": "Salimans et al. 2016, Table 1 (feature matching, 100 labels)",
               "metric": "error", "value": 0.0093},
        baseline=name_28("mlp", "mnist"),
        notes="Improved-GAN's MNIST net also uses weight normalisation, which the plain mlp lacks.",
    ),
    Recipe(
        name="sgan_fashion_mnist_100", method="sgan", dataset="fashion_mnist", labels=100,
        hparams=hparams_28("mlp"),
        scales={"cpu": CPU_28, "paper": {"steps": 180000, "batch_size": 100}},
        baseline=name_28("mlp", "fashion_mnist"),
        notes="No GAN paper of the family reports Fashion-MNIST; the MNIST recipe's net and budget.",
    ),
]
