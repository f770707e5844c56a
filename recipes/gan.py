"""The GAN family as samplers on MNIST and Fashion-MNIST (gan, dcgan, wgan, wgan_gp, sngan, sngan_projection,
sagan, biggan, infogan, vdb, progan, stylegan) and IMLE; pix2pix on edges -> images.

Each method's defaults are its paper's (or its authors' code's) optimizers, n_critic and penalties, so
the recipes set the minibatch the paper used and the budgets. None of these papers reports a number on
MNIST or Fashion-MNIST with the zoo's domain-classifier features (Lucic et al. 2018, arXiv 1711.10337,
ran GAN, WGAN and WGAN-GP there, with Inception features: a ranking to compare, not values), so `paper`
is None. Scales: `cpu` ~ minutes on 2 cores; `epochs_20`: 20 passes of the 60,000 training images, each
step taking n_critic minibatches where the method has a critic.
"""

from recipes import Recipe

_BATCH = {
    "gan": 100,               # Goodfellow et al. 2014's code: minibatches of 100
    "dcgan": 128,             # Radford et al. 2015, Sec. 4
    "wgan": 64,               # Arjovsky et al. 2017, Alg. 1 (m = 64)
    "wgan_gp": 64,            # Gulrajani et al. 2017, Alg. 1 (m = 64)
    "sngan": 64,              # the authors' configs (batchsize 64)
    "sngan_projection": 64,
    "sagan": 64,              # ours: the paper's ImageNet runs do not carry over to 28x28
    "biggan": 64,             # ours (the paper: 2048)
    "infogan": 128,           # openai/InfoGAN, launchers/run_mnist_exp.py
    "vdb": 64,                # akanazawa/vgan, configs/cifar10_vgan.1.yaml
    "imle": 64,               # ours (m = 10 x 64 samples searched per step)
    "progan": 16,             # the code's minibatch at 4x4-128x128 is 16 (config.py sched.minibatch_base 16)
    "stylegan": 32,           # NVlabs/stylegan: minibatch_base 32 up to 128x128 (minibatch_dict)
}
_CRITIC_STEPS = {"gan": 1, "dcgan": 1, "wgan": 5, "wgan_gp": 5, "sngan": 5, "sngan_projection": 5,
                 "sagan": 1, "biggan": 2, "infogan": 1, "vdb": 1, "imle": 1,
                 "progan": 1, "stylegan": 1}
_NOTES = {
    "gan": "The paper's maxout MLPs and SGD with momentum: here the zoo's mlp nets and Adam (see gan).",
    "dcgan": "The zoo's dcgan nets at 28x28 (two layers fewer than the paper's 64x64 nets).",
    "wgan": "The clipped critic at c = 0.01 learns G slowly at RMSprop 5e-5: the paper trains 100k+ generator "
            "iterations; the cpu scale shows its critic's estimate more than its samples.",
    "wgan_gp": "The zoo's dcgan nets without batch norm in the critic (the paper's 'no critic batch norm').",
    "sngan": "The zoo's dcgan nets, spectrally normalised in D; the authors' nets are ResNets.",
    "sngan_projection": "Every training image labelled; G conditioned by concatenation, not conditional batch norm.",
    "sagan": "Unconditional, on the zoo's small sagan nets (attention at 14x14); the paper is class-conditional "
             "ImageNet 128x128 with ResNets, conditional batch norm in G and a projection D.",
    "biggan": "Every training image labelled; the paper's optimisers and n_D 2 on the zoo's small non-residual "
              "nets (attention at 14x14), no weight average of G.",
    "infogan": "The code's MNIST run (z 62 from U(-1, 1), one 10-way and two U(-1, 1) codes, lambda 1, Adam 2e-4 / "
               "1e-3 with beta_1 0.5, batch 128) on the zoo's dcgan nets; its budget, 50 x 100 updates, is the "
               "`paper` scale. Its categorical code read as a classifier: Sec. 7.1's 5 % error on MNIST.",
    "vdb": "The code's VGAN settings (I_c 0.1, beta step 1e-5 from 0.1, RMSprop 1e-4) on the zoo's mlp nets; the "
           "KL bounds each image's 64-d code, not each position of a 4x4 map as the code's.",
    "imle": "Exact nearest neighbours in pixel space among 10 samples per image (the paper: approximate DCI "
            "search); one gradient step per search; the zoo's dcgan generator.",
    "progan": "MNIST padded to 32x32 (-1 borders) grows 4 -> 8 -> 16 -> 32; 128 feature maps at 4x4 and 8x8, "
              "halving above (the paper's 512), latent 128 (512). The paper's 800k images per phase is the "
              "default; the recipes' phases: 2k images at cpu (the 7 phases to 32x32 take 14k images, 875 of "
              "the 1000 steps), 120k at epochs_20 (840k of its 1.2M images).",
    "stylegan": "ProGAN's growth (as progan's recipe) under StyleGAN's G: mapping net of 8 layers of 128 (512), "
                "AdaIN, noise, style mixing 0.9, R1 gamma 10; no blur around resampling.",
}
# Images per fade-in (and per stabilisation) of the growing GANs, per scale: 4 -> 32 is 7 phases (4x4, then a
# fade-in and a stabilisation per level), so the budget's last ~10-60 % trains the full resolution.
_GROWTH = {"cpu": 2_000, "epochs_20": 120_000}
# The budget of a method's reference run, where its paper or code states one.
_PAPER_STEPS = {"infogan": 5000}


def _recipe(method, dataset):
    batch = _BATCH[method]
    epoch = 60_000 // (batch * _CRITIC_STEPS[method])
    scales = {"cpu": {"steps": 1000, "batch_size": batch}, "epochs_20": {"steps": 20 * epoch, "batch_size": batch}}
    if method in _PAPER_STEPS:
        scales["paper"] = {"steps": _PAPER_STEPS[method], "batch_size": batch}
    if method in ("progan", "stylegan"):
        for scale, images in _GROWTH.items():
            scales[scale]["hparams"] = {"images_per_phase": images}
    return Recipe(
        name=f"{method}_{dataset}", method=method, dataset=dataset, labels=None,
        hparams={},
        scales=scales,
        paper=None,
        notes=_NOTES[method],
    )


RECIPES = [_recipe(method, dataset) for method in _BATCH for dataset in ("mnist", "fashion_mnist")]
# pix2pix on a paired task built from the same images: Sobel edges -> the image (zoo.data.load_pairs).
RECIPES += [
    Recipe(name=f"pix2pix_edges_{dataset}", method="pix2pix", dataset=dataset, labels=None, pairs="edges",
           hparams={}, scales={"cpu": {"steps": 1000, "batch_size": 64},
                               "epochs_20": {"steps": 20 * (60_000 // 64), "batch_size": 64}},
           notes="The paper's objective and optimiser (lambda 100, Adam 2e-4 beta_1 0.5) on a 2-level U-Net and a "
                 "2-layer PatchGAN (22-pixel patches) for 28x28; batches of 64 (the paper: 1-10). Metric: test L1 "
                 "to the images beside the identity map's (the edges).")
    for dataset in ("mnist", "fashion_mnist")
]
