"""The variational SSL family: M1, M2 (Kingma et al. 2014), ADGM / SDGM (Maaløe et al. 2016), IWAE (Burda et al. 2015).

alpha, the weight on the mean classification loss, is the paper's alpha = 0.1 N
rescaled to equal-sized labelled and unlabelled batches: 0.1 N / N_l (see
`zoo.models.ssl.ssl_vae.M2`): MNIST-100: 0.1 * 60000 / 100 = 60; digits-50:
0.1 * 1297 / 50 = 2.6.

Architectures: the papers use MLPs (M2: one hidden layer of 500 softplus
units, z of 50; M1: two of 600; ADGM/SDGM: two of 500, z and a of 100; IWAE:
two of 200 tanh, z of 50). The zoo's `mlp` trunk (1000-500-250 leaky ReLU) and
generator (500-500 with batch norm) stand in for them; the heads on top are
`zoo.nets.mlp_head` with the papers' unit counts. This is the main
architectural deviation.

The numbers of the `cpu` scale are in benchmarks/results/cpu/ssl.md (digits-50
at 1000 x 64; MNIST-100 and Fashion-MNIST-100 at `recipes.CPU_28`, one epoch).
An earlier run at 2000 steps of MNIST-100 (3.3 epochs) gave m1 26.69 ± 0.48,
m2 18.59 ± 1.27, m1_m2 17.84 ± 0.46 (2 seeds), adgm 21.71 and sdgm 20.20 (1
seed) % error; the papers train for hundreds to thousands of epochs.
"""

from recipes import CPU_28, Recipe
from recipes.baselines import DIGITS_VARIATIONAL as _DIGITS_CPU
from recipes.baselines import name_28

_MNIST_CPU = CPU_28
_DIGITS_NOTE = "No paper reports digits; the CPU setting of the family on the zoo's 8x8 conv_small nets."
_DIGITS_BASELINE = "supervised_m2net_digits_50"


def _fashion(recipe):
    """The Fashion-MNIST-100 twin of an MNIST-100 recipe: its cpu setting, no paper number."""
    return Recipe(name=recipe.name.replace("_mnist_", "_fashion_mnist_"), method=recipe.method,
                  dataset="fashion_mnist", labels=recipe.labels, hparams=recipe.hparams,
                  scales={"cpu": recipe.scales["cpu"]}, baseline=name_28("m2net", "fashion_mnist"),
                  notes="No paper reports Fashion-MNIST; the MNIST CPU setting.")

RECIPES = [
    # ------------------------------------------------------------------ M2
    Recipe(
        name="m2_digits_50", method="m2", dataset="digits", labels=50, baseline=_DIGITS_BASELINE,
        hparams={"latent_dim": 16, "hidden": 128, "alpha": 2.6, "dropout": 0.5, "input_noise": 0.3,
                 "learning_rate": 1e-3},
        scales={"cpu": _DIGITS_CPU}, notes=_DIGITS_NOTE,
    ),
    Recipe(
        name="m2_mnist_100", method="m2", dataset="mnist", labels=100, baseline=name_28("m2net", "mnist"),
        hparams={"arch": "mlp", "latent_dim": 50, "hidden": 500, "alpha": 60.0},
        scales={"cpu": {**_MNIST_CPU, "hparams": {"width": 0.5, "learning_rate": 1e-3}},
                "paper": {"steps": 600 * 1000, "batch_size": 100}},
        paper={"reference": "Kingma et al. 2014 (arXiv 1406.5298), Table 1, M2, 100 labels",
               "metric": "error", "value": 0.1197},
        notes="Paper: Adam-like RMSProp lr 3e-4 (Sec. 4.4), one 500-unit softplus layer per net, z of 50. "
              "The CPU scale halves the width and raises the learning rate to 1e-3.",
    ),
    # ------------------------------------------------------------------ M1
    Recipe(
        name="m1_digits_50", method="m1", dataset="digits", labels=50, baseline=_DIGITS_BASELINE,
        hparams={"latent_dim": 32, "head_c": 10.0}, scales={"cpu": _DIGITS_CPU}, notes=_DIGITS_NOTE,
    ),
    Recipe(
        name="m1_mnist_100", method="m1", dataset="mnist", labels=100, baseline=name_28("m2net", "mnist"),
        hparams={"arch": "mlp", "latent_dim": 50},
        scales={"cpu": _MNIST_CPU, "paper": {"steps": 600 * 1000, "batch_size": 100}},
        paper={"reference": "Kingma et al. 2014 (arXiv 1406.5298), Table 1, M1+TSVM, 100 labels",
               "metric": "error", "value": 0.1182},
        notes="Head: multinomial logistic regression instead of the paper's transductive SVM.",
    ),
    # --------------------------------------------------------------- M1+M2
    Recipe(
        name="m1_m2_digits_50", method="m1_m2", dataset="digits", labels=50, baseline=_DIGITS_BASELINE,
        hparams={"latent_dim": 32, "latent2_dim": 16, "hidden": 128, "m2_width": 0.5, "alpha": 2.6,
                 "learning_rate": 1e-3, "dropout": 0.5},
        scales={"cpu": _DIGITS_CPU}, notes=_DIGITS_NOTE,
    ),
    Recipe(
        name="m1_m2_mnist_100", method="m1_m2", dataset="mnist", labels=100, baseline=name_28("m2net", "mnist"),
        hparams={"arch": "mlp", "latent_dim": 50, "latent2_dim": 50, "hidden": 500, "alpha": 60.0},
        scales={"cpu": {**_MNIST_CPU, "hparams": {"m2_width": 0.5, "learning_rate": 1e-3}},
                "paper": {"steps": 600 * 1000, "batch_size": 100, "hparams": {"m1_pretrain_steps": 600 * 500}}},
        paper={"reference": "Kingma et al. 2014 (arXiv 1406.5298), Table 1, M1+M2, 100 labels",
               "metric": "error", "value": 0.0333},
        notes="M1 and M2 are updated in turn each step (M2 on z1 held fixed); the paper trained M1 first "
              "(the paper scale pretrains M1 for half the steps).",
    ),
    # ---------------------------------------------------------- ADGM / SDGM
    *[recipe for method, value in (("adgm", 0.0096), ("sdgm", 0.0132)) for recipe in (
        Recipe(
            name=f"{method}_digits_50", method=method, dataset="digits", labels=50, baseline=_DIGITS_BASELINE,
            hparams={"latent_dim": 16, "aux_dim": 16, "hidden": 128, "alpha": 2.6, "dropout": 0.5,
                     "input_noise": 0.3, "learning_rate": 1e-3, "warmup_steps": 500},
            scales={"cpu": _DIGITS_CPU}, notes=_DIGITS_NOTE,
        ),
        Recipe(
            name=f"{method}_mnist_100", method=method, dataset="mnist", labels=100,
            baseline=name_28("m2net", "mnist"),
            hparams={"arch": "mlp", "latent_dim": 100, "aux_dim": 100, "hidden": 500, "alpha": 60.0,
                     "warmup_steps": 200 * 600, "samples": 10},
            scales={"cpu": {**_MNIST_CPU, "hparams": {"width": 0.5, "learning_rate": 1e-3, "warmup_steps": 500,
                                                      "samples": 1}},
                    "paper": {"steps": 3000 * 600, "batch_size": 100}},
            paper={"reference": f"Maaløe et al. 2016 (arXiv 1602.05473), MNIST results table, {method.upper()}, "
                                "100 labels", "metric": "error", "value": value},
            notes="Paper (experiments section): Adam lr 3e-4, warm-up over 200 epochs, several importance-"
                  "weighted samples (10 here; our reading, to verify). CPU: width 0.5, lr 1e-3, 500 warm-up "
                  "steps, 1 sample.",
        ))],
    # ---------------------------------------------------------------- IWAE
    Recipe(
        name="iwae_digits", method="iwae", dataset="digits", labels=None,
        hparams={"latent_dim": 8, "k": 5}, scales={"cpu": _DIGITS_CPU}, notes=_DIGITS_NOTE,
    ),
    Recipe(
        name="iwae_mnist", method="iwae", dataset="mnist", labels=None,
        hparams={"arch": "mlp", "latent_dim": 50, "k": 50, "binarize": True},
        scales={"cpu": {**_MNIST_CPU, "hparams": {"k": 5}}, "paper": {"steps": 3280 * 300, "batch_size": 20}},
        paper={"reference": "Burda et al. 2015 (arXiv 1509.00519), Table 1, IWAE 1 stochastic layer, k=50, "
                            "test log-likelihood (k=5000)", "metric": "log_prob", "value": -84.78},
        notes="The runner's row reports the test ELBO and L_k; the paper's number is log p(x) with k=5000 "
              "(`model.log_prob`). Paper: 2x200 tanh units, Adam eps 1e-4, lr 1e-3 decayed by 10^(-1/7) over "
              "3^i epochs, batch 20.",
    ),
]
RECIPES += [_fashion(r) for r in RECIPES if r.dataset == "mnist" and r.labels]
