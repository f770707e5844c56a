"""The GAN game (Goodfellow et al. 2014) and DCGAN as a sampler (Radford et al. 2015); `ImageGAN`, the
shared base of the image GANs (`wgan.py` and `sngan.py` build on it)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from zoo import losses, nets
from zoo.base import NoiseGenerator, ZooModel
from zoo.registry import register


class ImageGAN(NoiseGenerator, ZooModel):
    """Base of the image GANs: a scoring discriminator (or critic) D and a generator G.

    D(x) = w . f(x) + b on the `zoo.nets.features` trunk f (a logit for the
    GAN game, a score for a critic), G a `zoo.nets.generator` of noise z. One
    `train_step` is one generator iteration of the papers' algorithms: D
    steps `critic_steps` times, each on its own minibatch of real images and
    fresh noise, then G steps once on fresh noise (Goodfellow et al. 2014,
    Alg. 1, with k = `critic_steps`; Arjovsky et al. 2017, Alg. 1, n_critic).
    The batch's `"x"` holds those minibatches one after the other, so
    `fit(data, batch_size=m)` streams m x `critic_steps` images per step (the
    papers' minibatch size is m); a `tf.data` stream's batches must divide
    by `critic_steps`. `d_loss` logs the last critic step's loss.
    Subclasses give `d_objective(real_scores, fake_scores)` and
    `g_objective(fake_scores)` (and may add terms in `discriminator_losses`);
    a class-conditional one overrides `build_generator`, `scores` and the
    steps (`sngan_projection`).

    `evaluate` on test images logs D's loss on them against as many fresh
    samples (for a critic: minus its Wasserstein estimate on held-out data).
    """

    roles = ("d", "g")
    log_names = ("d_loss", "g_loss")
    eval_log_names = ("d_loss",)
    #: Whether D's score has a bias: not where the loss cannot see one (a Wasserstein critic's
    #: E f(G(z)) - E f(x)) or where the authors' code has none (SNGAN's last layer).
    score_bias = True

    def _build_image_gan(self, latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps,
                         spectral_norm=False):
        if int(critic_steps) != critic_steps or critic_steps < 1:
            raise ValueError(f"critic_steps must be an integer >= 1; got {critic_steps!r}")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.discriminator_batch_norm = bool(discriminator_batch_norm)
        self.critic_steps = int(critic_steps)
        self._set_latent_distribution(latent_distribution)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.discriminator_features = nets.features(resolved, self.image_shape, batch_norm=discriminator_batch_norm,
                                                    spectral_norm=spectral_norm, name="d_features")
        width = self.discriminator_features.output.shape[-1]
        self.discriminator_head = nets.dense_head(1, self.score_input_dim(width), "d_score", use_bias=self.score_bias,
                                                  spectral_norm=spectral_norm)
        self.generator = self.build_generator(resolved)

    def score_input_dim(self, width):
        """The size of what D's score layer reads: the trunk's `width` features (VDB: its bottleneck code)."""
        return width

    def build_generator(self, arch):
        """G of noise z (a conditional method builds G(z, y) here)."""
        return nets.generator(arch, self.latent_dim, self.image_shape)

    def role_layers(self):
        return {"d": [self.discriminator_features, self.discriminator_head], "g": [self.generator]}

    @property
    def updates_per_step(self):
        return {"d": self.critic_steps}

    @property
    def unlabeled_batches_per_step(self):
        return self.critic_steps

    def scores(self, x, training=False):
        """D's logit (or critic score) per image, shape (batch,)."""
        features = self.discriminator_features(x, training=training)
        return ops.squeeze(self.discriminator_head(features, training=training), -1)

    def default_optimizers(self):
        """Adam(learning_rate, beta_1, beta_2) for both players, the papers' usual choice (WGAN overrides it)."""
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2)
                for role in self.roles}

    def discriminator_losses(self, x, z, training=True):
        fake = ops.stop_gradient(self.generate(z, training=training))
        return self.discriminator_terms(x, fake, training)

    def discriminator_terms(self, real, fake, training=True):
        """D's loss and logs on real images and (gradient-stopped) samples; a penalty adds its term here."""
        loss = self.d_objective(self.scores(real, training), self.scores(fake, training))
        return loss, {"d_loss": loss}

    def generator_losses(self, z):
        loss = self.g_objective(self.scores(self.generate(z, training=True), training=True))
        return loss, {"g_loss": loss}

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        minibatches = self.split_minibatches(x)
        for real in minibatches:
            _, d_logs = self.minimize("d", lambda real=real: self.discriminator_losses(
                real, self.latent_noise(ops.shape(real)[0])))
        d_logs = {**d_logs, **self.after_critic_steps(d_logs)}
        m = ops.shape(minibatches[0])[0]
        _, g_logs = self.minimize("g", lambda: self.generator_losses(self.latent_noise(m)))
        return self.track(self.log_names, {**d_logs, **g_logs})

    def after_critic_steps(self, d_logs):
        """Between D's steps and G's: a method's own update (VDB's dual step on beta); returns extra logs."""
        return {}

    def split_minibatches(self, x):
        """`x` as `critic_steps` equal minibatches (a clear error where it does not divide)."""
        if self.critic_steps == 1:
            return [x]
        message = (f"{type(self).__name__} takes {self.critic_steps} critic minibatches per step from each "
                   "batch: its size must divide by critic_steps; fit(data, batch_size=m) streams m x critic_steps")
        n = x.shape[0]
        if n is not None and n % self.critic_steps:
            raise ValueError(f"{message} (got {n})")
        if n is None:  # Keras traces fit with an unknown batch size: checked when it runs
            with tf.control_dependencies([tf.debugging.assert_equal(tf.shape(x)[0] % self.critic_steps, 0,
                                                                    message=message)]):
                x = tf.identity(x)
        return ops.split(x, self.critic_steps, axis=0)

    def evaluation_terms(self, x):
        return {"d_loss": self.discriminator_losses(x, self.latent_noise(ops.shape(x)[0]), training=False)[0]}

    def call(self, z, training=False):
        """Images G(z) from noise z."""
        return self.generate(z, training=training)


@register("gan")
class GAN(ImageGAN):
    """The generative adversarial net of Goodfellow et al. 2014: the minimax game, or its non-saturating G.

    D(x) = sigmoid(l(x)) and G(z) play (Eq. 1)

        min_G max_D  V(D, G) = E_x log D(x) + E_z log(1 - D(G(z))),

    D ascending V (`losses.real_logit_loss` + `fake_logit_loss`) for k steps
    per G step (Alg. 1; `critic_steps`, the paper's k = 1). G descends
    E_z log(1 - D(G(z))) with `generator_loss="minimax"`, or ascends
    E_z log D(G(z)) with "non_saturating", which the paper recommends because
    the minimax gradient vanishes while D rejects G's samples (Sec. 3).

    The paper's nets were maxout MLPs with dropout, trained by SGD with
    momentum; the zoo's `mlp` nets (leaky ReLU D, batch-norm G) and Adam
    (lr 2e-4, beta_1 0.5) are its defaults instead: deviations.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        generator_loss: "non_saturating" or "minimax".
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        discriminator_batch_norm: batch norm in D's hidden layers (not the paper's).
        critic_steps: D steps per G step (k).
        learning_rate, beta_1, beta_2: Adam's, for both players (beta_2: Keras' default).
        latent_distribution: "normal" or "uniform" (U(0, 1)).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("gan", generator_loss="minimax")
        >>> model.fit(data, epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Goodfellow et al., "Generative Adversarial Nets", arXiv 1406.2661.
    """

    GENERATOR_LOSSES = ("non_saturating", "minimax")

    def __init__(self, input_shape, latent_dim=100, generator_loss="non_saturating", arch="mlp",
                 discriminator_batch_norm=False, critic_steps=1, learning_rate=2e-4, beta_1=0.5, beta_2=0.999,
                 latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if generator_loss not in self.GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {self.GENERATOR_LOSSES}; got {generator_loss!r}")
        self.generator_loss = generator_loss
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), float(beta_1), float(beta_2)
        self._build_image_gan(latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps)
        self._finish_build()

    def d_objective(self, real_logits, fake_logits):
        return losses.real_logit_loss(real_logits) + losses.fake_logit_loss(fake_logits)

    def g_objective(self, fake_logits):
        if self.generator_loss == "minimax":
            return losses.minimax_generator_loss(fake_logits)
        return losses.real_logit_loss(fake_logits)


@register("dcgan")
class DCGAN(GAN):
    """DCGAN (Radford et al. 2015) as a sampler: the GAN game on deep convolutional nets.

    The architecture guidelines of Sec. 3: strided convolutions in D and
    fractionally-strided (transposed) ones in G, no pooling and no hidden
    dense layers; batch norm in both nets except G's output and D's input
    layer; ReLU in G with a tanh output, leaky ReLU (0.2) in D. The
    non-saturating GAN loss, Adam with lr 2e-4 and beta_1 0.5, minibatches of
    128, z of size 100 drawn uniformly (Sec. 4 and Fig. 1: U(-1, 1); here
    `latent_distribution` "normal" or "uniform" U(0, 1), a deviation: the
    zoo has no symmetric uniform). The nets are the zoo's `dcgan`
    architecture (shared with `dcgan_features`, the method's SSL use) on
    28x28/32x32 images and `conv_small` on 8x8 digits ("auto"); the paper's
    64x64 nets have two more layers each, and its N(0, 0.02) weight
    initialisation is not used (Keras' Glorot): deviations.

    Args: those of `gan` (defaults: `arch="auto"`, `discriminator_batch_norm=True`).

    Example:
        >>> import zoo
        >>> model = zoo.load("dcgan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=128, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", arXiv 1511.06434.
    """

    def __init__(self, input_shape, latent_dim=100, generator_loss="non_saturating", arch="auto",
                 discriminator_batch_norm=True, critic_steps=1, learning_rate=2e-4, beta_1=0.5, beta_2=0.999,
                 latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, generator_loss=generator_loss, arch=arch,
                         discriminator_batch_norm=discriminator_batch_norm, critic_steps=critic_steps,
                         learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         latent_distribution=latent_distribution, seed=seed, **kwargs)
