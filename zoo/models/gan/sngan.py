"""Spectrally normalised GANs: SNGAN (Miyato et al. 2018) and its class-conditional projection
discriminator (Miyato & Koyama 2018)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.models.gan.gan import ImageGAN
from zoo.registry import register


@register("sngan")
class SNGAN(ImageGAN):
    """SNGAN: every layer of D spectrally normalised, trained with the hinge loss.

    Miyato, Kataoka, Koyama & Yoshida 2018. Each weight W of D is used as
    W / sigma(W), sigma its largest singular value estimated by one step of
    power iteration per training step (Alg. 1; `zoo.layers.SpectralNormDense`
    / `SpectralNormConv2D`, the gradient flowing through sigma as in Eq. 12),
    so each layer is 1-Lipschitz and D is too, with no penalty and no
    clipping. The loss is the hinge loss of the authors' code (its
    `loss_hinge_dis` / `loss_hinge_gen`, also Lim & Ye 2017):

        L_D = E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))),     L_G = -E D(G(z)),

    with the code's settings for its unconditional CIFAR-10 run
    (configs/sn_cifar10_unconditional.yml): Adam(2e-4, beta_1 0, beta_2 0.9),
    n_dis = 5 D steps per G step, minibatch 64, z ~ N(0, I) of size 128, and
    D's last layer without a bias.

    Deviations: the code's nets are ResNets (D of 4 residual blocks, G with
    batch-norm residual blocks); here the zoo's architectures (conv_small on
    8x8 digits, dcgan on 28x28/32x32), spectrally normalised in D. The code
    takes its G step on 128 samples, twice the D minibatch; here on m.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        critic_steps: n_dis.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES` (mlp, conv_small, dcgan).
        learning_rate, beta_1, beta_2: Adam's, for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("sngan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Miyato et al., "Spectral Normalization for Generative Adversarial Networks",
    arXiv 1802.05957; code: github.com/pfnet-research/sngan_projection.
    """

    score_bias = False

    def __init__(self, input_shape, latent_dim=128, critic_steps=5, arch="auto", learning_rate=2e-4, beta_1=0.0,
                 beta_2=0.9, latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), float(beta_1), float(beta_2)
        self._build_image_gan(latent_dim, arch, False, latent_distribution, critic_steps, spectral_norm=True)
        self._finish_build()

    def d_objective(self, real_scores, fake_scores):
        return losses.hinge_real_loss(real_scores[:, None]) + losses.hinge_fake_loss(fake_scores[:, None])

    def g_objective(self, fake_scores):
        return losses.wasserstein_generator_loss(fake_scores)  # -E D(G(z)), the hinge GAN's generator loss


@register("sngan_projection")
class SNGANProjection(SNGAN):
    """SNGAN with the projection discriminator: a class-conditional GAN that projects the label onto D's features.

    Miyato & Koyama 2018, Eq. 3 and Fig. 14: with phi(x) D's (spectrally
    normalised) feature trunk and V an embedding of the K classes,

        D(x, y) = psi(phi(x)) + <V y, phi(x)>,

    psi a linear layer; the inner product replaces concatenating y to the
    input or to a hidden layer. The authors' code spectrally normalises V too
    (SNEmbedID); so does this one (a bias-free `SpectralNormDense` of the
    one-hot y). Trained with the hinge loss on labelled pairs, G(z, y) with
    y drawn uniformly (the code's `sample_categorical`); the code's settings
    (configs/sn_cifar10_conditional.yml) as SNGAN's. It reads the batches'
    labelled stream `"x_labeled"`, `"y_labeled"` (every example, or the
    labelled ones of an SSL split: `zoo.data.load(name)`, whose default
    labels=None labels every example, trains it on everything).

    Deviation: the code's G is a ResNet with categorical conditional batch
    norm; here the zoo's `conditional_generator` (the one-hot y concatenated
    to z, or the architecture's own conditioning).

    Args: those of `sngan`, and
        num_classes: K.

    Example:
        >>> import zoo
        >>> model = zoo.load("sngan_projection")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Miyato & Koyama, "cGANs with Projection Discriminator", arXiv 1802.05637.
    """

    conditional = True

    def __init__(self, input_shape, num_classes, latent_dim=128, critic_steps=5, arch="auto", learning_rate=2e-4,
                 beta_1=0.0, beta_2=0.9, latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, critic_steps=critic_steps, arch=arch,
                         learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         latent_distribution=latent_distribution, seed=seed, num_classes=num_classes, **kwargs)

    def _build_image_gan(self, latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps,
                         spectral_norm=False):
        super()._build_image_gan(latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps,
                                 spectral_norm)
        width = self.discriminator_features.output.shape[-1]
        self.class_embedding = nets.dense_head(width, self.num_classes, "d_class_embedding", use_bias=False,
                                               spectral_norm=True)

    def build_generator(self, arch):
        return nets.conditional_generator(arch, self.latent_dim, self.num_classes, self.image_shape)

    def role_layers(self):
        return {"d": [self.discriminator_features, self.discriminator_head, self.class_embedding],
                "g": [self.generator]}

    def generate(self, z, labels, training=False):
        return self.generator([z, ops.one_hot(ops.cast(labels, "int32"), self.num_classes)], training=training)

    def scores(self, x, labels, training=False):
        """D(x, y) = psi(phi(x)) + <V y, phi(x)>, shape (batch,)."""
        features = self.discriminator_features(x, training=training)
        # The inner product in float32, as psi's: under mixed precision phi(x) is float16, V y float32.
        projection = ops.sum(self.class_embedding(ops.one_hot(ops.cast(labels, "int32"), self.num_classes),
                                                  training=training) * ops.cast(features, "float32"), axis=-1)
        return ops.squeeze(self.discriminator_head(features, training=training), -1) + projection

    def draw_labels(self, n):
        return keras.random.randint((n,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")

    def discriminator_losses(self, x, y, z, fake_labels, training=True):
        fake = ops.stop_gradient(self.generate(z, fake_labels, training=training))
        loss = self.d_objective(self.scores(x, y, training), self.scores(fake, fake_labels, training))
        return loss, {"d_loss": loss}

    def generator_losses(self, z, labels):
        loss = self.g_objective(self.scores(self.generate(z, labels, training=True), labels, training=True))
        return loss, {"g_loss": loss}

    def train_step(self, batch):
        x, y = self.unpack(batch, "x_labeled", "y_labeled")
        for real, labels in zip(self.split_minibatches(x), self.split_minibatches(y)):
            n = ops.shape(real)[0]
            _, d_logs = self.minimize("d", lambda real=real, labels=labels, n=n: self.discriminator_losses(
                real, labels, self.latent_noise(n), self.draw_labels(n)))
        m = ops.shape(real)[0]
        _, g_logs = self.minimize("g", lambda: self.generator_losses(self.latent_noise(m), self.draw_labels(m)))
        return self.track(self.log_names, {**d_logs, **g_logs})

    def test_step(self, data):
        """D's hinge loss on labelled test pairs (x, y) against as many samples of uniformly drawn labels."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("evaluate() of sngan_projection needs labelled (x, y) batches")
        n = ops.shape(x)[0]
        loss, _ = self.discriminator_losses(x, y, self.latent_noise(n), self.draw_labels(n), training=False)
        return self.track(self.eval_log_names, {"d_loss": loss})

    def call(self, inputs, training=False):
        """Images G(z, y) from `[z, labels]`."""
        z, labels = inputs
        return self.generate(z, labels, training=training)

    def _sample_batch(self, n, labels, seed_generator):
        return self.generate(self.latent_noise(n, seed_generator), ops.convert_to_tensor(labels, "int32"))
