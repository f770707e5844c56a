"""Semi-supervised GAN: a K+1 class discriminator that is also the classifier."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses
from zoo.base import ClassifierGAN, ZooModel
from zoo.registry import register


@register("sgan")
class SGAN(ClassifierGAN, ZooModel):
    """Semi-supervised GAN: the discriminator is a (K+1)-class classifier (Odena 2016).

    The discriminator D classifies real images into the K classes and
    generated ones into a (K+1)-th "fake" class; a generator G learns to fool
    it. Following Salimans et al. 2016 (Sec. 5), D outputs K logits l(x) and
    the fake logit is fixed at 0, so

        p(y = k | x, real) = softmax(l(x))_k,   D(x) = Z(x) / (Z(x) + 1),   Z = sum_k exp l_k.

    Discriminator loss (Salimans et al. 2016, Eq. 4-5), means over the batch:

        L_D = L_supervised + w * L_unsupervised
        L_supervised   = -E_{x,y ~ labelled} log p(y | x, y < K+1)
        L_unsupervised = -E_{x ~ unlabelled} log D(x) - E_{z} log(1 - D(G(z)))

    where -log D(x) = softplus(LSE(l)) - LSE(l) and -log(1 - D(x)) =
    softplus(LSE(l)) (`zoo.losses.kplus1_*`). The unlabelled terms never see a
    label: `discriminator_losses` receives the unlabelled images alone.

    Generator loss (`generator_loss`):

    * "feature_matching" (default; Salimans et al. 2016, Sec. 3.1):
      || E f(x) - E f(G(z)) ||^2 on D's penultimate features, which the paper
      found best for semi-supervised accuracy;
    * "non_saturating" (Odena 2016; Goodfellow et al. 2014): -E log D(G(z)).

    Args:
        input_shape: (height, width, channels) of the images.
        num_classes: K.
        latent_dim: size of the generator's noise z ~ N(0, I).
        arch: "auto" (conv_small for 8x8, dcgan for 28x28/32x32, else mlp) or
            a name from `zoo.nets.ARCHITECTURES`.
        generator_loss: "feature_matching" or "non_saturating".
        unlabeled_weight: w above (1 in both papers' equations; the
            Improved-GAN and Bad GAN codes that produced their numbers weigh
            real and fake by 0.5 each, w = 0.5, which their recipes use).
        dropout: dropout in D (Improved-GAN uses 0.5 in its conv nets).
        input_noise: std of Gaussian noise on D's input (Improved-GAN MNIST: 0.3).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("sgan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Papers: Odena, "Semi-Supervised Learning with Generative Adversarial
    Networks", arXiv 1606.01583; Salimans et al., "Improved Techniques for
    Training GANs", arXiv 1606.03498.
    """

    GENERATOR_LOSSES = ("feature_matching", "non_saturating")

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", generator_loss="feature_matching",
                 unlabeled_weight=1.0, dropout=0.5, input_noise=0.3, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if generator_loss not in self.GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {self.GENERATOR_LOSSES}; got {generator_loss!r}")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.generator_loss = generator_loss
        self.unlabeled_weight = float(unlabeled_weight)
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self._build_classifier_gan(arch, self.latent_dim, self.dropout, self.input_noise)
        self._finish_build()

    def default_optimizers(self):
        # Salimans et al. 2016 code: Adam, lr 3e-4, beta_1 0.5 for both players.
        return {role: keras.optimizers.Adam(3e-4, beta_1=0.5) for role in self.roles}

    def discriminator_losses(self, x, x_labeled, y_labeled, z, training=True):
        """L_D and its parts. The unlabelled images `x` come without labels."""
        x_fake = ops.stop_gradient(self.generate(z, training=training))
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, training))
        unsupervised = (losses.kplus1_real_loss(self.logits(x, training))
                        + losses.kplus1_fake_loss(self.logits(x_fake, training)))
        loss = supervised + self.unlabeled_weight * unsupervised
        return loss, {"d_loss": loss, "d_supervised": supervised, "d_unsupervised": unsupervised}

    def generator_losses(self, x, z, training=True):
        x_fake = self.generate(z, training=training)
        if self.generator_loss == "feature_matching":
            loss = losses.feature_matching(self.features(x, training=training),
                                           self.features(x_fake, training=training))
        else:
            loss = losses.kplus1_real_loss(self.logits(x_fake, training))
        return loss, {"g_loss": loss}

