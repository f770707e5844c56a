"""CatGAN (Springenberg 2015): a K-class discriminator trained by entropy objectives."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses
from zoo.averaging import ExponentialAverage
from zoo.base import ClassifierGAN, ZooModel
from zoo.registry import register
from zoo.schedules import ConstantThenLinearDecay


@register("catgan")
class CatGAN(ClassifierGAN, ZooModel):
    """Categorical GAN: a K-class discriminator, certain on data, uncertain on samples.

    D outputs p(y | x, D) = softmax(l(x)) over the K classes (no real/fake
    output). With H the entropy, the objectives of Springenberg 2015, written
    as losses to minimise (means over the batch, `zoo.losses.catgan_*`):

        L_D = E_x H[p(y|x,D)] - H_X[p(y|D)] - E_z H[p(y|G(z),D)] + lambda CE_labelled   (Eq. 7, Eq. 9)
        L_G = E_z H[p(y|G(z),D)] - H_G[p(y|D)]                                           (Eq. 8)

    where H_X[p(y|D)] = H[E_x p(y|x,D)] is the entropy of the class marginal
    on the unlabelled batch (so that every class is used) and H_G the same on
    generated samples; the marginals are estimated on each minibatch, as in
    the paper. CE_labelled is the cross-entropy on the labelled batch
    (Eq. 9's lambda term). The unsupervised terms see the unlabelled images
    only (`discriminator_losses` gets `x` without labels).

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z ~ N(0, I) (the paper: uniform noise).
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        labeled_weight: lambda (1 here).
        dropout, input_noise: D's net (the supervised baseline takes the same).
        learning_rate: Adam's learning rate (beta_1 0.5) of both players.
        ema: decay of an evaluation average of D's weights (None: off), used by
            `classify`, `evaluate` and `save` (`zoo.averaging`, bias-corrected).
            Not the paper's: its training details are in an appendix we could
            not check, and its live weights swing by points from epoch to
            epoch on MNIST-100 (recipes/adversarial.py).
        decay_steps: T of a learning-rate decay, constant for 2/3 of T and
            then linear to 0 (`zoo.schedules.ConstantThenLinearDecay`, Bad
            GAN's schedule; None: constant rates). Not the paper's either.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("catgan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Springenberg, "Unsupervised and Semi-supervised Learning with
    Categorical Generative Adversarial Networks", ICLR 2016, arXiv 1511.06390.
    """

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", labeled_weight=1.0, dropout=0.5,
                 input_noise=0.3, learning_rate=3e-4, ema=None, decay_steps=None, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if labeled_weight < 0:
            raise ValueError(f"labeled_weight must be >= 0; got {labeled_weight}")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.labeled_weight = float(labeled_weight)
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self.learning_rate = float(learning_rate)
        self.ema = None if ema is None else float(ema)
        self.decay_steps = None if decay_steps is None else int(decay_steps)
        self._build_classifier_gan(arch, self.latent_dim, self.dropout, self.input_noise)
        self._finish_build()
        self.weight_average = (ExponentialAverage(self, self.role_variables("d"), self.ema, name="d_average")
                               if self.ema is not None else None)

    def default_optimizers(self):
        # Springenberg 2015 trains both players with Adam; beta_1 0.5 as in DCGAN.
        rate = (self.learning_rate if self.decay_steps is None
                else ConstantThenLinearDecay(self.learning_rate, self.decay_steps))
        return {role: keras.optimizers.Adam(rate, beta_1=0.5) for role in self.roles}

    def discriminator_losses(self, x, x_labeled, y_labeled, z):
        """L_D. The unlabelled images `x` come without labels."""
        x_fake = ops.stop_gradient(self.generate(z, training=True))
        unsupervised = losses.catgan_discriminator_loss(self.logits(x, True), self.logits(x_fake, True))
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, True))
        loss = unsupervised + self.labeled_weight * supervised
        return loss, {"d_loss": loss, "d_supervised": supervised, "d_unsupervised": unsupervised}

    def generator_losses(self, x, z):
        """L_G. CatGAN's generator needs no real images; `x` is taken for the shared step's signature."""
        del x
        loss = losses.catgan_generator_loss(self.logits(self.generate(z, training=True), True))
        return loss, {"g_loss": loss}

