"""SGAN and the supervised baseline (the foundation's classifiers)."""

from recipes import Recipe

_CPU = {"steps": 2000, "batch_size": 64}
# 28x28 at the cpu scale: 600 steps (one epoch of MNIST) so that 3 seeds of every method x
# dataset finish in well under an hour on a shared 2-core CPU; the paper scale is the paper's budget.
_CPU_28 = {"steps": 600, "batch_size": 100}

RECIPES = [
    Recipe(
        name="sgan_digits_50", method="sgan", dataset="digits", labels=50,
        scales={"cpu": _CPU},
        notes="No paper reports digits; the CPU smoke setting of the family.",
    ),
    Recipe(
        name="supervised_digits_50", method="supervised", dataset="digits", labels=50,
        scales={"cpu": _CPU},
        notes="Baseline: the SGAN discriminator's net on the 50 labels alone.",
    ),
    Recipe(
        name="sgan_mnist_100", method="sgan", dataset="mnist", labels=100,
        hparams={"arch": "mlp", "input_noise": 0.3, "dropout": 0.0},
        scales={"cpu": _CPU_28, "paper": {"steps": 180000, "batch_size": 100}},
        paper={"reference": "Salimans et al. 2016, Table 1 (feature matching, 100 labels)",
               "metric": "error", "value": 0.0093},
        notes="Improved-GAN's MNIST net also uses weight normalisation, which the plain mlp lacks.",
    ),
    Recipe(
        name="supervised_mnist_100", method="supervised", dataset="mnist", labels=100,
        hparams={"arch": "mlp", "input_noise": 0.3, "dropout": 0.0},
        scales={"cpu": _CPU_28},
    ),
    Recipe(
        name="sgan_fashion_mnist_100", method="sgan", dataset="fashion_mnist", labels=100,
        hparams={"arch": "mlp", "input_noise": 0.3, "dropout": 0.0},
        scales={"cpu": _CPU_28, "paper": {"steps": 180000, "batch_size": 100}},
        notes="No GAN paper of the family reports Fashion-MNIST; the MNIST recipe's net and budget.",
    ),
    Recipe(
        name="supervised_fashion_mnist_100", method="supervised", dataset="fashion_mnist", labels=100,
        hparams={"arch": "mlp", "input_noise": 0.3, "dropout": 0.0},
        scales={"cpu": _CPU_28},
        notes="Baseline: the SGAN discriminator's net on the 100 labels alone.",
    ),
]
