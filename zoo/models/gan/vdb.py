"""The variational discriminator bottleneck on a GAN: VGAN (Peng et al. 2019)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.layers import reparameterize
from zoo.models.gan.gan import ImageGAN
from zoo.registry import register


@register("vdb")
class VDBGAN(ImageGAN):
    """VGAN: a GAN whose discriminator sees its input only through a stochastic encoding of bounded information.

    Peng, Kanazawa, Toyer, Abbeel & Levine 2019. D encodes x into
    E(z|x) = N(mu(x), diag sigma^2(x)) and classifies a sample z of it,
    D(z); the information the encoding carries about x is bounded through
    the KL to the prior r(z) = N(0, I), averaged over real and generated
    images alike (p~ = p*/2 + G/2). Eq. 5:

        min_{D, E}  E_{x ~ p*} E_{z ~ E(z|x)} [-log D(z)] + E_{x ~ G} E_{z ~ E(z|x)} [-log (1 - D(z))]
        s.t.        E_{x ~ p~} [KL(E(z|x) || r(z))] <= I_c,

    solved by dual gradient descent on its Lagrangian (Eqs. 6-8): D and E
    take a gradient step on the GAN loss + beta (KL - I_c), then the
    multiplier beta >= 0 one of ascent,

        beta <- max(0, beta + alpha_beta (E_{p~}[KL] - I_c)),

    so beta grows while the encoding carries more than I_c nats and shrinks
    otherwise: an adaptive beta, where a fixed one would need tuning per
    data set. A bottleneck keeps D from becoming so accurate that its
    gradients vanish for G. G plays the non-saturating game on D(z) of
    its samples' (sampled) encodings.

    Settings of the authors' image code (akanazawa/vgan, configs/
    cifar10_vgan.1.yaml): I_c = 0.1 (`information_constraint`), alpha_beta
    = 1e-5 (`beta_step`), beta starting at 0.1, RMSprop(1e-4) for both nets,
    one D step per G step, z ~ N(0, I). beta is updated after D's step with
    the step's own KL, and lives in the model's state (it saves and resumes).
    `r1_weight` > 0 adds the code's gradient penalty on real images (its
    "vgan_real", VGAN-GP: 10 E||grad_x D||^2, `zoo.losses.r1_penalty`).

    Deviations: the code encodes each position of D's last 4x4 feature map
    (1x1 convolutions to mu and log sigma, the KL summed over channels and
    averaged over positions); the zoo's trunks end in a vector, so here E is
    a linear layer on it (`bottleneck_dim` units) and the KL is per image —
    so I_c = 0.1 bounds a whole image's code, not a position's. The code's
    ResNets and G's 0.999 weight average are not used: the zoo's `mlp` nets
    are the default, as `gan`'s (on digits, conv_small's D without batch
    norm at RMSprop 1e-4 did not learn: FID ratio 0.73 -> 1.01 over 600
    steps at seed 1, against 0.54 -> 0.08 with `mlp`).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of G's noise z.
        bottleneck_dim: size of D's stochastic encoding.
        information_constraint: I_c, in nats.
        beta_step: alpha_beta, the dual step size.
        initial_beta: beta before the first step.
        r1_weight: weight of the gradient penalty on real images (0: VGAN; 10: VGAN-GP).
        arch: a name in `zoo.nets.ARCHITECTURES` (or "auto": conv_small / dcgan).
        discriminator_batch_norm: batch norm in D's trunk.
        learning_rate: RMSprop's, for both players.
        latent_distribution: "normal", "uniform" or "symmetric_uniform".
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("vdb")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Peng et al., "Variational Discriminator Bottleneck: Improving Imitation Learning, Inverse RL,
    and GANs by Constraining Information Flow", arXiv 1810.00821; code: github.com/akanazawa/vgan.
    """

    log_names = ("d_loss", "g_loss", "kl", "beta")
    eval_log_names = ("d_loss", "kl")

    def __init__(self, input_shape, latent_dim=128, bottleneck_dim=64, information_constraint=0.1, beta_step=1e-5,
                 initial_beta=0.1, r1_weight=0.0, arch="mlp", discriminator_batch_norm=False, learning_rate=1e-4,
                 latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        for name, value in (("information_constraint", information_constraint), ("beta_step", beta_step),
                            ("initial_beta", initial_beta), ("r1_weight", r1_weight)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0; got {value!r}")
        if int(bottleneck_dim) != bottleneck_dim or bottleneck_dim < 1:
            raise ValueError(f"bottleneck_dim must be an integer >= 1; got {bottleneck_dim!r}")
        self.bottleneck_dim = int(bottleneck_dim)
        self.information_constraint, self.beta_step = float(information_constraint), float(beta_step)
        self.initial_beta, self.r1_weight = float(initial_beta), float(r1_weight)
        self.learning_rate = float(learning_rate)
        self._build_image_gan(latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps=1)
        width = self.discriminator_features.output.shape[-1]
        self.encoder_head = nets.dense_head(2 * self.bottleneck_dim, width, "d_encoding")
        # The Lagrange multiplier: state, not a weight any optimizer steps (the same on every replica).
        self.beta = self.add_weight(name="beta", shape=(), initializer=keras.initializers.Constant(initial_beta),
                                    trainable=False, aggregation="only_first_replica")
        self._finish_build()

    def score_input_dim(self, width):
        return self.bottleneck_dim  # D(z) reads the code z, not the trunk's features

    def role_layers(self):
        return {"d": [self.discriminator_features, self.encoder_head, self.discriminator_head],
                "g": [self.generator]}

    def default_optimizers(self):
        return {role: keras.optimizers.RMSprop(self.learning_rate) for role in self.roles}

    def encoding(self, x, training=False):
        """(mu, log sigma^2) of E(z|x)."""
        stats = self.encoder_head(self.discriminator_features(x, training=training), training=training)
        return stats[:, :self.bottleneck_dim], stats[:, self.bottleneck_dim:]

    def scores_and_kl(self, x, training=False):
        """D's logit of a sample z ~ E(z|x) per image, and KL(E(z|x) || N(0, I)) per image."""
        mean, log_var = self.encoding(x, training)
        z = reparameterize(mean, log_var, self.normal(ops.shape(mean)))
        logits = ops.squeeze(self.discriminator_head(z, training=training), -1)
        return logits, losses.gaussian_kl(mean, log_var)

    def scores(self, x, training=False):
        return self.scores_and_kl(x, training)[0]

    def discriminator_terms(self, real, fake, training=True):
        real_logits, kl_real = self.scores_and_kl(real, training)
        fake_logits, kl_fake = self.scores_and_kl(fake, training)
        gan_loss = losses.real_logit_loss(real_logits) + losses.fake_logit_loss(fake_logits)
        kl = 0.5 * (ops.mean(kl_real) + ops.mean(kl_fake))  # E over p~ = p*/2 + G/2
        loss = gan_loss + ops.stop_gradient(self.beta) * (kl - self.information_constraint)
        if self.r1_weight:
            loss = loss + self.r1_weight * losses.r1_penalty(lambda x: self.scores(x, training), real)
        return loss, {"d_loss": gan_loss, "kl": kl}

    def g_objective(self, fake_logits):
        return losses.real_logit_loss(fake_logits)  # non-saturating -log D(z), z ~ E(z|G(z'))

    def after_critic_steps(self, d_logs):
        """Dual ascent on beta with D's step's KL, the global batch's (all-reduced: one beta on every replica)."""
        kl = losses.batch_mean(d_logs["kl"][None])
        self.beta.assign(losses.bottleneck_multiplier(self.beta, kl, self.information_constraint, self.beta_step))
        return {"beta": self.beta}

    def evaluation_terms(self, x):
        _, logs = self.discriminator_losses(x, self.latent_noise(ops.shape(x)[0]), training=False)
        return {"d_loss": logs["d_loss"], "kl": logs["kl"]}
