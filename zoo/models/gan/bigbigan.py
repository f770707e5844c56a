"""BigBiGAN (Donahue & Simonyan 2019) at the zoo's small scale."""

from __future__ import annotations

import keras

from zoo import losses, nets
from zoo.models.gan.bigan import ALI
from zoo.registry import register


@register("bigbigan")
class BigBiGAN(ALI):
    """BiGAN with unary and joint discriminator scores and the hinge loss (BigBiGAN, small scale).

    Donahue & Simonyan 2019, Sec. 2. As in BiGAN, D tells data pairs
    (x, z_hat ~ E(x)) from generated pairs (G(z), z), z ~ N(0, I); but D gives
    three scores: a unary one on the image alone, s_x = theta_x . F(x), a unary
    one on the code alone, s_z = theta_z . H(z), and a joint one,
    s_xz = theta_xz . J(F(x), H(z)) (`zoo.nets.unary_joint_discriminator`).
    With y = +1 for data pairs and y = -1 for generated pairs, the per-pair losses
    are

        l_EG(x, z, y) = y (s_x + s_z + s_xz)
        l_D(x, z, y)  = h(y s_x) + h(y s_z) + h(y s_xz),   h(t) = max(0, 1 - t)

    and the players minimise their expectations over both kinds of pairs:

        L_D  = E_x h(s(x, z_hat)) + E_z h(-s(G(z), z))   summed over the 3 scores   (role "d")
        L_EG = E_x [s_x + s_z + s_xz](x, z_hat) - E_z [s_x + s_z + s_xz](G(z), z)   (role "g": G and E)

    (`zoo.losses.hinge_real_loss`, `hinge_fake_loss`, `score_loss`). The unary
    s_x is a plain GAN discriminator on images, which the paper finds improves
    sample quality; s_z tells E's codes from the prior.

    The encoder is stochastic, as the paper's: a diagonal Gaussian whose mean
    and log-variance E predicts, sampled by reparameterisation (the paper's
    ablation finds it better than a deterministic E); `encode` returns the mean.

    Scale: the paper's nets are BigGAN's (ResNet G and F, RevNet E, 8-layer
    MLPs H and J of 2048 units with skip connections, spectral norm,
    batch 2048 on 128x128 ImageNet). Here F, E and G are the zoo's nets for
    the image size (conv_small for 8x8 digits, dcgan for 28x28 and 32x32),
    H and J are two leaky-ReLU layers of `discriminator_units`, without
    spectral normalisation or skip connections. Optimiser: the paper trains
    with Adam as BigGAN does; here Adam with BiGAN's lr 2e-4, beta_1 0.5 for
    both players, one D step per E/G step.

    Capabilities: `sample` (G(z)), `encode` (E's mean); calling the model
    reconstructs G(E(x)), whose mean squared error `evaluate` logs. It does
    not classify: the paper's representation is evaluated by a linear
    classifier trained on E's codes afterwards, which is not part of the model
    (e.g. scikit-learn's `LogisticRegression` on `model.encode(x)`).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z (the paper: 120).
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (E, G and F).
        prior: "gaussian" (the paper) or "uniform".
        discriminator_units: width of H and J.
        dropout: dropout in D (0: the paper has none).
        learning_rate: Adam's learning rate for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("bigbigan", input_shape=data.input_shape, latent_dim=16)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.encode(data.x_test[:4]).shape, model.sample(9).shape
        ((4, 16), (9, 8, 8, 1))

    Paper: Donahue & Simonyan, "Large Scale Adversarial Representation
    Learning", NeurIPS 2019, arXiv 1907.02544.
    """

    def __init__(self, input_shape, latent_dim=120, arch="auto", prior="gaussian", discriminator_units=512,
                 dropout=0.0, learning_rate=2e-4, seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, prior=prior,
                         discriminator_units=discriminator_units, dropout=dropout, learning_rate=learning_rate,
                         seed=seed, **kwargs)

    def _build_nets(self, outputs):
        resolved = nets.resolve_arch(self.arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        self.encoder_head = nets.dense_head(2 * self.latent_dim, self.encoder.output.shape[-1], "encoder_head")
        self.generator = nets.generator(resolved, self.latent_dim, self.image_shape)
        self.discriminator = nets.unary_joint_discriminator(
            resolved, self.image_shape, self.latent_dim, units=self.discriminator_units, dropout=self.dropout)
        self._finish_build()

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5) for role in self.roles}

    # D: one hinge term per score (BiGAN's discriminator_losses with these).
    real_loss = staticmethod(losses.hinge_real_loss)
    fake_loss = staticmethod(losses.hinge_fake_loss)

    def generator_losses(self, x, z_prior, noise, training=True):
        """L_EG = E_x sum s(x, z_hat) - E_z sum s(G(z), z) (no labels)."""
        real, fake = self.pair_logits(x, z_prior, noise, training)
        loss = losses.score_loss(real, +1.0) + losses.score_loss(fake, -1.0)
        return loss, {"g_loss": loss}
