"""Wasserstein GANs: the critic with weight clipping (Arjovsky et al. 2017) and with a gradient penalty
(Gulrajani et al. 2017)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses
from zoo.models.gan.gan import ImageGAN
from zoo.registry import register


class WeightClip(keras.constraints.Constraint):
    """Clip a weight to [-c, c] after every update (WGAN's crude way to keep the critic Lipschitz)."""

    def __init__(self, clip):
        self.clip = float(clip)

    def __call__(self, w):
        return ops.clip(w, -self.clip, self.clip)

    def get_config(self):
        return {"clip": self.clip}


class WassersteinGAN(ImageGAN):
    """The Wasserstein game of both critics (Arjovsky et al. 2017, Eq. 3): L_f = E f(G(z)) - E f(x),
    L_G = -E f(G(z)); the critic's score has no bias (the loss cannot see one)."""

    score_bias = False

    def d_objective(self, real_scores, fake_scores):
        return losses.wasserstein_critic_loss(real_scores, fake_scores)

    def g_objective(self, fake_scores):
        return losses.wasserstein_generator_loss(fake_scores)


@register("wgan")
class WGAN(WassersteinGAN):
    """Wasserstein GAN: a critic f kept K-Lipschitz by clipping its weights, and G trained against it.

    Arjovsky, Chintala & Bottou 2017, Alg. 1. With f ranging over
    1-Lipschitz functions, max_f E_x f(x) - E_z f(G(z)) is the Wasserstein-1
    distance between data and samples (Eq. 3, Kantorovich-Rubinstein); the
    paper approximates the set by a critic net whose weights are clipped to
    [-c, c] after each step. Per generator iteration:

        n_critic times:  L_f = E f(G(z)) - E f(x)  on a fresh minibatch, RMSprop step, clip to [-c, c]
        once:            L_G = -E f(G(z))

    (`losses.wasserstein_critic_loss` / `wasserstein_generator_loss`.) The
    paper's defaults: c = 0.01, n_critic = 5, RMSprop lr 5e-5, minibatch 64
    (`fit(data, batch_size=64)`: a step streams 5 x 64 images). Every critic
    weight is clipped, batch norm's scale and offset included, as the
    authors' code does; its moving statistics are not weights of the game.
    The critic's `d_loss` is minus its Wasserstein estimate (on test images
    in `evaluate`), the curve the paper plots against sample quality.

    Deviation: the authors' code trains the critic 100 times per generator
    iteration for the first 25 iterations and every 500th; here n_critic is
    constant.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        clip: c.
        critic_steps: n_critic.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        discriminator_batch_norm: batch norm in the critic's hidden layers
            (the paper's DCGAN critic has it).
        learning_rate: RMSprop's, for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("wgan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Arjovsky, Chintala & Bottou, "Wasserstein GAN", arXiv 1701.07875.
    """

    def __init__(self, input_shape, latent_dim=100, clip=0.01, critic_steps=5, arch="auto",
                 discriminator_batch_norm=True, learning_rate=5e-5, latent_distribution="normal", seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if not clip > 0:
            raise ValueError(f"clip must be positive; got {clip!r}")
        self.clip = float(clip)
        self.learning_rate = float(learning_rate)
        self._build_image_gan(latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps)
        # The optimizer applies a variable's constraint after each update: the clipping of Alg. 1, line 7.
        for variable in self.role_variables("d"):
            variable.constraint = WeightClip(self.clip)
        self._finish_build()

    def default_optimizers(self):
        return {role: keras.optimizers.RMSprop(self.learning_rate) for role in self.roles}


@register("wgan_gp")
class WGANGP(WassersteinGAN):
    """WGAN-GP: the Wasserstein critic kept 1-Lipschitz by a penalty on its gradient norm.

    Gulrajani et al. 2017, Alg. 1. In place of weight clipping, the critic's
    loss gets a two-sided penalty on the norm of its gradient at random
    interpolates between real and generated images (Eq. 3):

        L_f = E f(x~) - E f(x) + lambda E (||grad f(x_hat)||_2 - 1)^2,
        x_hat = eps x + (1 - eps) x~,  eps ~ U[0, 1] per example,  x~ = G(z),
        L_G = -E f(G(z)),

    `losses.gradient_penalty`. The paper's defaults: lambda = 10,
    n_critic = 5, Adam(1e-4, beta_1 0, beta_2 0.9), minibatch 64; no batch
    norm in the critic (the penalty is per example, which batch norm would
    break; the paper suggests layer norm), batch norm in G. `d_loss` logs
    L_f, `gradient_penalty` its penalty term, and `evaluate` minus the
    Wasserstein estimate on test images (without the penalty).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        penalty_weight: lambda.
        critic_steps: n_critic.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        learning_rate, beta_1, beta_2: Adam's, for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("wgan_gp")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville, "Improved Training of
    Wasserstein GANs", arXiv 1704.00028.
    """

    log_names = ("d_loss", "gradient_penalty", "g_loss")

    def __init__(self, input_shape, latent_dim=128, penalty_weight=10.0, critic_steps=5, arch="auto",
                 learning_rate=1e-4, beta_1=0.0, beta_2=0.9, latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if penalty_weight < 0:
            raise ValueError(f"penalty_weight must be >= 0; got {penalty_weight!r}")
        self.penalty_weight = float(penalty_weight)
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), float(beta_1), float(beta_2)
        self._build_image_gan(latent_dim, arch, False, latent_distribution, critic_steps)
        self._finish_build()

    def discriminator_terms(self, real, fake, training=True):
        critic, logs = super().discriminator_terms(real, fake, training)
        if not training:  # evaluate: minus the Wasserstein estimate, without the penalty
            return critic, logs
        epsilon = self.uniform((ops.shape(real)[0],))
        penalty = losses.gradient_penalty(lambda images: self.scores(images, training=True), real, fake, epsilon)
        loss = critic + self.penalty_weight * penalty
        return loss, {"d_loss": loss, "gradient_penalty": penalty}
