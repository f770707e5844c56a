"""The methods of the zoo, one module per family, grouped by kind; importing this package registers them.

    ssl/          generative semi-supervised methods: sgan, improved_gan, bad_gan, catgan,
                  triple_gan (+ enhanced_triple_gan), dcgan_features, augmented_bigan,
                  ssl_vae (m1, m2, m1_m2), adgm (adgm, sdgm), infinite_vae, aae (aae and its
                  supervised, ssl, clustering and dim_reduction variants)
    gan/          implicit generative models trained without labels: gan (gan, dcgan), wgan
                  (wgan, wgan_gp), sngan (sngan, sngan_projection), sagan, biggan, infogan, vdb,
                  imle, pix2pix (paired translation), bigan (bigan, ali, ali_ssl), bigbigan, gmmn
                  (gmmn, gmmn_ae)
    likelihood/   models with a likelihood or a bound on it: vae, iwae, pixelcnn (+ gated_pixelcnn), made,
                  autoregressive_vae (pixelvae, vlae: VAEs with a PixelCNN decoder), vq_vae (discrete
                  codes and a PixelCNN prior over them), flows, em
    adversarial/  adversarial training beyond generation: dann (domain adaptation), fair_adversary
                  (fairness), imitation (gail, vail and the bc baseline, on gymnasium tasks)
    supervised.py the supervised baseline (`supervised`)

Where a family went and why:

* A module goes where its family's main role in the zoo is, and stays whole
  (one paper, one module), so a few unsupervised members live in `ssl/`:
  `m1` is M1 of Kingma et al.'s SSL paper, and `aae.py` is Makhzani et al.'s
  paper in one module, whose semi-supervised variants (`aae_ssl`,
  `aae_dim_reduction`, the label-conditioned `aae_supervised`) are what the
  zoo runs it for (its recipes are mostly SSL); `aae` and `aae_clustering`
  share their phases and base class.
* `bigan.py` holds BiGAN and ALI, unsupervised adversarial inference, so it is
  in `gan/`; `ali_ssl` (ALI with a K+1 classifier head) stays with its parent
  class. `augmented_bigan` (Kumar et al. 2017) is an SSL method built on it and
  is in `ssl/`.
* `gmmn` is an implicit model like a GAN's generator, trained by a two-sample
  test (the MMD) in place of a discriminator, with no likelihood: it is in
  `gan/` (MMD-GANs are its adversarial descendants), not in `likelihood/`.
* `supervised` is no generative model and is the baseline of every kind (the
  SSL methods' bars, a source-only baseline for DANN): it stays at the top.

The modules lived flat in `zoo/models/` before; every old path still imports
the moved module (`import zoo.models.sgan`, `from zoo.models.sgan import SGAN`,
`from zoo.models import sgan`), through the aliases below. `.keras` files name
classes by `zoo>ClassName`, not by module, so old files load unchanged.
"""

import importlib
import sys

from zoo.models import adversarial, gan, likelihood, ssl, supervised  # noqa: F401

# Flat module name of before the grouping -> the subpackage it moved to.
MOVED = {
    **dict.fromkeys(("aae", "adgm", "augmented_bigan", "bad_gan", "catgan", "dcgan_features", "improved_gan",
                     "infinite_vae", "sgan", "ssl_vae", "triple_gan"), "ssl"),
    **dict.fromkeys(("bigan", "bigbigan", "gmmn"), "gan"),
    **dict.fromkeys(("iwae", "pixelcnn", "vae"), "likelihood"),
}

for _name, _kind in MOVED.items():
    _module = importlib.import_module(f"{__name__}.{_kind}.{_name}")
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
del _name, _kind, _module
