"""Bad GAN (Dai et al. 2017): a complement ("bad") generator for the K+1 discriminator."""

from __future__ import annotations

import copy
import json

import keras
from keras import ops

from zoo import losses
from zoo.models.ssl.improved_gan import ImprovedGAN
from zoo.schedules import ConstantThenLinearDecay
from zoo.registry import register


@register("bad_gan")
class BadGAN(ImprovedGAN):
    """Bad GAN: the K+1 discriminator of Improved-GAN with a complement generator.

    Dai et al. 2017 show that good semi-supervised accuracy needs a *bad*
    generator: one that covers the low-density gaps between the classes, not
    the data. D is Improved-GAN's (K logits, fake logit fixed at 0; read
    `improved_gan`), plus the conditional entropy on unlabelled data (Sec. 4):

        L_D = L_supervised + L_unsupervised + w_ent E_{x~U} H[p_D(y | x, y <= K)]

    and the generator minimises (Sec. 4, Eq. for the complement generator)

        L_G = ||E f(x) - E f(G(z))||^2                           feature matching
              + w_pt PT(f(G(z)))                                 -H(p_G) by the pull-away term
              + w_p E_{x~G} [log p(x) 1{log p(x) > eps}]           low density

    PT is the pull-away term (`zoo.losses.pull_away_term`) on D's features of
    a generated batch, the paper's entropy surrogate on MNIST/SVHN. The low-
    density term needs a pre-trained density model p (the paper: PixelCNN++;
    the zoo's `pixelcnn`, once trained, gives one: `.density_model()`):
    `density_model` is any Keras model image -> per-example log density
    (frozen here); eps is the `density_quantile` quantile of log p on the
    current unlabelled batch (the paper's code: a 10% quantile threshold).
    Without a density model the term is off. The unlabelled images reach
    every unsupervised term without labels.

    Not implemented: the variational-inference entropy term (the paper's CIFAR
    setting, which needs an encoder).

    Optimizers as the code (`mnist_trainer.py`): Adam for D with betas (0.5,
    0.9999) at `learning_rate`, for G with betas (0, 0.9999) at
    `generator_learning_rate`, PyTorch's epsilon 1e-8 (outside the square
    root, as Keras writes it); with `decay_steps` T both rates stay constant
    for 2/3 of T and fall linearly to 0 at T (`zoo.schedules`; the code: 2000
    epochs, decay over the last 667). The MNIST setting (`bad_gan_mnist_100`):
    the `bad_gan_mnist` nets, w = 0.5 (the code's 0.5 real + 0.5 fake),
    z ~ U(0, 1), rates 3e-3 / 1e-3, and an unlabelled pool without the
    labelled images.

    Args:
        As `improved_gan`, plus:
        entropy_weight: w_ent (SVHN code 0.1; 0 on MNIST).
        pull_away_weight: w_pt (SVHN code 0.8).
        density_model: a Keras model image -> log p(x) per example, or None.
        density_weight: w_p (the paper's code: 1e-4).
        density_quantile: quantile of log p on the real batch used as eps (0.1).
        generator_learning_rate: G's Adam rate (None: `learning_rate`).
        decay_steps: T of the learning-rate decay (None: constant rates).

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("bad_gan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Dai, Yang, Yang, Cohen, Salakhutdinov, "Good Semi-supervised
    Learning that Requires a Bad GAN", NeurIPS 2017, arXiv 1705.09783.
    """

    log_names = ("d_loss", "d_supervised", "d_unsupervised", "d_entropy", "g_loss", "g_pull_away", "g_density")

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", unlabeled_weight=1.0, dropout=0.5,
                 input_noise=0.3, weight_norm=True, learning_rate=3e-4, entropy_weight=0.1, pull_away_weight=0.8,
                 density_model=None, density_weight=1e-4, density_quantile=0.1, data_init=True, ema=None,
                 latent_distribution="normal", generator_learning_rate=None, decay_steps=None, seed=None, **kwargs):
        super().__init__(input_shape, num_classes, latent_dim=latent_dim, arch=arch,
                         generator_loss="feature_matching", unlabeled_weight=unlabeled_weight, dropout=dropout,
                         input_noise=input_noise, weight_norm=weight_norm, learning_rate=learning_rate,
                         data_init=data_init, ema=ema, latent_distribution=latent_distribution, seed=seed, **kwargs)
        if min(entropy_weight, pull_away_weight, density_weight) < 0 or not 0 < density_quantile < 1:
            raise ValueError("weights must be >= 0 and density_quantile in (0, 1)")
        self.entropy_weight = float(entropy_weight)
        self.pull_away_weight = float(pull_away_weight)
        self.density_weight = float(density_weight)
        self.density_quantile = float(density_quantile)
        self.generator_learning_rate = None if generator_learning_rate is None else float(generator_learning_rate)
        self.decay_steps = None if decay_steps is None else int(decay_steps)
        if isinstance(density_model, dict):
            # A copy: deserialization consumes the dict it is given.
            density_model = keras.saving.deserialize_keras_object(copy.deepcopy(density_model))
        if density_model is not None:
            if not isinstance(density_model, keras.Model):
                raise ValueError("density_model must be a keras.Model mapping images to log densities")
            density_model.trainable = False
        self.density_model = density_model

    def get_config(self):
        config = super().get_config()
        if not self.awaiting_data and self.density_model is not None:
            # Through JSON, so that the config compares equal after a round trip (tuples become lists).
            config["density_model"] = json.loads(json.dumps(keras.saving.serialize_keras_object(self.density_model)))
        return config

    def default_optimizers(self):
        def rate(value):
            return value if self.decay_steps is None else ConstantThenLinearDecay(value, self.decay_steps)

        generator_rate = self.learning_rate if self.generator_learning_rate is None else self.generator_learning_rate
        return {"d": keras.optimizers.Adam(rate(self.learning_rate), beta_1=0.5, beta_2=0.9999, epsilon=1e-8),
                "g": keras.optimizers.Adam(rate(generator_rate), beta_1=0.0, beta_2=0.9999, epsilon=1e-8)}

    def log_density(self, x):
        return ops.reshape(self.density_model(x, training=False), (-1,))

    def discriminator_losses(self, x, x_labeled, y_labeled, z, training=True):
        """L_D and its parts. The unlabelled images `x` come without labels."""
        x_fake = ops.stop_gradient(self.generate(z, training=training))
        logits = self.logits(x, training)
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, training))
        unsupervised = losses.kplus1_real_loss(logits) + losses.kplus1_fake_loss(self.logits(x_fake, training))
        entropy = losses.entropy(logits)
        loss = supervised + self.unlabeled_weight * unsupervised + self.entropy_weight * entropy
        return loss, {"d_loss": loss, "d_supervised": supervised, "d_unsupervised": unsupervised,
                      "d_entropy": entropy}

    def generator_losses(self, x, z, training=True):
        x_fake = self.generate(z, training=training)
        fake_features = self.features(x_fake, training=training)
        matching = losses.feature_matching(self.features(x, training=training), fake_features)
        pull_away = losses.pull_away_term(fake_features)
        density = ops.zeros(())
        if self.density_model is not None:
            threshold = ops.quantile(ops.stop_gradient(self.log_density(x)), self.density_quantile)
            log_p = self.log_density(x_fake)
            density = ops.mean(log_p * ops.cast(log_p > threshold, log_p.dtype))
        loss = matching + self.pull_away_weight * pull_away + self.density_weight * density
        return loss, {"g_loss": loss, "g_pull_away": pull_away, "g_density": density}
