"""The supervised-only baselines: each SSL method's classifier net trained on its labelled examples alone.

An SSL recipe names its baseline (`Recipe.baseline`); the SSL report puts the
baseline's error beside the method's. A baseline has the method's classifier
net (same `arch`, `dropout`, `input_noise`, `weight_norm`, `width`), the same
labelled examples (the seed draws the same balanced label set), steps and
batch size, and sees no unlabelled image. Where a method's classifier is not
exactly a `supervised` net (ADGM's q(y|a,x) also reads the auxiliary a; ALI's
classifier reads (x, E(x))), the note of the method's recipe says which
baseline is nearest.
"""

from recipes import CPU_28, Recipe

DIGITS_CONV = {"steps": 2000, "batch_size": 64}
DIGITS_MLP = {"steps": 600, "batch_size": 64}
DIGITS_VARIATIONAL = {"steps": 1000, "batch_size": 64}

_NETS_28 = {
    # name -> (hparams, what it is the baseline of)
    "mlp": ({"arch": "mlp", "input_noise": 0.3, "dropout": 0.0},
            "the mlp discriminator / classifier of sgan, catgan, triple_gan, enhanced_triple_gan"),
    "mlp_wn": ({"arch": "mlp", "input_noise": 0.3, "dropout": 0.0, "weight_norm": True},
               "the weight-normalised mlp discriminator of improved_gan and bad_gan"),
    "m2net": ({"arch": "mlp", "input_noise": 0.0, "dropout": 0.0, "width": 0.5, "learning_rate": 1e-3},
              "M2's q(y|x) at the cpu scale (mlp trunk of width 0.5, lr 1e-3); nearest for m1_m2, adgm, sdgm"),
    "aae": ({"arch": "mlp", "input_noise": 0.0, "dropout": 0.0},
            "aae_ssl's q(y|x) (mlp trunk + linear head, no dropout or noise)"),
}

RECIPES = [
    Recipe(name="supervised_digits_50", method="supervised", dataset="digits", labels=50,
           scales={"cpu": DIGITS_CONV},
           notes="Baseline: the SGAN discriminator's conv_small net on the 50 labels alone."),
    Recipe(name="supervised_mlp_digits_50", method="supervised", dataset="digits", labels=50,
           hparams={"arch": "mlp"}, scales={"cpu": DIGITS_MLP},
           notes="Baseline of the adversarial family on digits (tests/test_adversarial_learns.py): mlp, "
                 "dropout 0.5, input noise 0.3."),
    Recipe(name="supervised_mlp_wn_digits_50", method="supervised", dataset="digits", labels=50,
           hparams={"arch": "mlp", "weight_norm": True}, scales={"cpu": DIGITS_MLP},
           notes="Baseline of improved_gan and bad_gan on digits: the weight-normalised mlp."),
    Recipe(name="supervised_m2net_digits_50", method="supervised", dataset="digits", labels=50,
           hparams={"learning_rate": 1e-3}, scales={"cpu": DIGITS_VARIATIONAL},
           notes="Baseline of m2 / adgm / sdgm / m1_m2 on digits (tests/test_variational_learns.py): "
                 "conv_small, dropout 0.5, input noise 0.3, lr 1e-3."),
    Recipe(name="supervised_aae_digits_50", method="supervised", dataset="digits", labels=50,
           hparams={"dropout": 0.0, "input_noise": 0.0}, scales={"cpu": DIGITS_VARIATIONAL},
           notes="Baseline: aae_ssl's classifier net (conv_small trunk + linear head) on the 50 labels alone."),
    *[Recipe(name=f"supervised_{net}_{dataset}_100", method="supervised", dataset=dataset, labels=100,
             hparams=hparams, scales={"cpu": CPU_28}, notes=f"Baseline: {what}, on the 100 labels alone.")
      for dataset in ("mnist", "fashion_mnist") for net, (hparams, what) in _NETS_28.items()],
    # M2's reference classifier, at the paper scale of its reproduction (30 epochs of steps).
    Recipe(name="supervised_m2_mnist_mnist_100", method="supervised", dataset="mnist", labels=100,
           hparams={"arch": "m2_mnist", "input_noise": 0.0, "dropout": 0.0, "learning_rate": 3e-4},
           scales={"cpu": CPU_28, "paper": {"steps": 18000, "batch_size": 100}},
           notes="Baseline of m2_mnist_100 at its paper scales: M2's q(y|x) with reference_nets (784-500 softplus "
                 "-10) on the 100 labels alone, at M2's Adam 3e-4. Deviations: supervised's beta_1 0.5 (M2's "
                 "0.9); grey pixels (M2 trains on dynamically binarised ones)."),
    # The reference D's baseline, at the paper scale of the reproductions (100 epochs of steps).
    Recipe(name="supervised_improved_gan_mnist_mnist_100", method="supervised", dataset="mnist", labels=100,
           hparams={"arch": "improved_gan_mnist", "input_noise": 0.6, "dropout": 0.0, "learning_rate": 3e-3},
           scales={"cpu": CPU_28, "paper": {"steps": 60000, "batch_size": 100}},
           notes="Baseline of improved_gan_mnist_100 and bad_gan_mnist_100 at their paper scales: the "
                 "Improved-GAN MNIST discriminator (Bad GAN's is the same net; data-dependent init, noise 0.6 on "
                 "the input and 0.5 after each layer) trained on the 100 labels alone with D's rate (Adam 3e-3, "
                 "beta_1 0.5), every step on all 100."),
]


def name_28(net, dataset):
    """The baseline recipe of classifier net `net` (a key of `_NETS_28`) on a 28x28 dataset."""
    if net not in _NETS_28:
        raise ValueError(f"no 28x28 baseline net {net!r}; known: {sorted(_NETS_28)}")
    return f"supervised_{net}_{dataset}_100"


def hparams_28(net):
    """The classifier-net hyper-parameters of baseline `net`, for the SSL recipes that share it."""
    return dict(_NETS_28[net][0])
