"""VQ-VAE (van den Oord et al. 2017; unsupervised: its numbers are the test bound with the PixelCNN prior, the
reconstruction, the prior's NLL per code and the codebook's perplexity).

The paper reports no MNIST experiment; its image nets (Sec. 4.1: two 4x4 stride-2 convolutions, two
residual blocks, 256 channels; K = 512; beta = 0.25; Adam 2e-4) are the `paper` scale here, on a 7x7 grid
of codes, with the prior trained after the autoencoder as the paper does (`prior_start_steps` = half the
budget; the autoencoder trains on alongside in the second half, where the paper froze it). Pixels: a
Bernoulli decoder on dynamically binarised MNIST (the zoo's likelihood protocol, `vae`'s likelihood), where
the paper's images used other pixel likelihoods; its bits/dim on CIFAR-10 (Sec. 4.1: 4.67) are not
comparable. The `cpu` scale narrows the nets (64 channels, 32 in the residual blocks), K = 64 and D = 16,
with Adam 1e-3, to finish in minutes on a 2-core CPU.
"""

from recipes import Recipe

_CPU_NETS = {"codebook_size": 64, "embedding_dim": 16, "hidden": 64, "residual_hidden": 32, "prior_filters": 32,
             "prior_layers": 5, "learning_rate": 1e-3, "binarize": "dynamic"}

RECIPES = [
    Recipe(
        name="vq_vae_digits", method="vq_vae", dataset="digits", labels=None,
        hparams={**_CPU_NETS, "codebook_size": 32, "embedding_dim": 8, "prior_start_steps": 1000},
        scales={"cpu": {"steps": 2000, "batch_size": 64}},
        notes="No paper reports digits: a 4x4 grid of codes (one halving of the 8x8 images).",
    ),
    Recipe(
        name="vq_vae_mnist", method="vq_vae", dataset="mnist", labels=None,
        hparams={**_CPU_NETS, "prior_start_steps": 1000},
        scales={"cpu": {"steps": 2000, "batch_size": 100},
                "paper": {"steps": 250000, "batch_size": 128,
                          "hparams": {"codebook_size": 512, "embedding_dim": 64, "hidden": 256,
                                      "residual_hidden": 256, "prior_filters": 128, "prior_layers": 12,
                                      "learning_rate": 2e-4, "prior_start_steps": 125000}}},
        notes="van den Oord et al. 2017, Sec. 4.1's image nets and optimiser (250k steps of batch 128 on "
              "ImageNet/CIFAR-10); no MNIST number in the paper. Prior after the autoencoder's first half.",
    ),
]
