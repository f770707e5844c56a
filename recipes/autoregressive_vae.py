"""PixelVAE and VLAE (unsupervised; their number is the test ELBO, nats per binarised image).

Both train on dynamically binarised pixels (their default `binarize="dynamic"`), as the papers' binarised
MNIST. The `paper` scale keeps the papers' single-latent setting on MNIST but not their nets: the zoo's
conv encoder and z -> feature-map net, and a small Gated PixelCNN decoder (see the class docstrings).
"""

from recipes import CPU_28, Recipe

RECIPES = [
    Recipe(
        name="pixelvae_digits", method="pixelvae", dataset="digits", labels=None,
        hparams={"latent_dim": 16}, scales={"cpu": {"steps": 2000, "batch_size": 64}},
    ),
    Recipe(
        name="pixelvae_mnist", method="pixelvae", dataset="mnist", labels=None,
        hparams={"latent_dim": 32, "arch": "dcgan", "decoder_layers": 3},
        scales={"cpu": dict(CPU_28), "paper": {"steps": 300000, "batch_size": 64}},
        notes="Gulrajani et al. 2016, Table 1 (binarised MNIST): the paper's PixelVAE has ResNet encoder and "
              "decoder nets and a deeper PixelCNN; here the zoo's dcgan nets and 3 gated layers. The paper's "
              "step count is not stated in this form: the paper scale is a long run, not a reproduction.",
    ),
    Recipe(
        name="vlae_digits", method="vlae", dataset="digits", labels=None,
        hparams={"latent_dim": 16}, scales={"cpu": {"steps": 2000, "batch_size": 64}},
    ),
    Recipe(
        name="vlae_mnist", method="vlae", dataset="mnist", labels=None,
        hparams={"latent_dim": 32, "arch": "dcgan", "decoder_layers": 2},
        scales={"cpu": dict(CPU_28), "paper": {"steps": 300000, "batch_size": 64}},
        notes="Chen et al. 2016, Sec. 5.1 (binarised MNIST): the paper's VLAE has ResNet nets, an AF prior and "
              "free bits; here the zoo's dcgan nets, 2 gated layers (a 3-row window: 3 rows above x 5 columns, "
              "3 pixels left) and the AF prior of zoo.bijectors, free bits over the whole code (4 nats). The paper "
              "scale is a long run, not a reproduction.",
    ),
]
