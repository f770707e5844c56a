"""Adversarial inference on (x, z) pairs: BiGAN, ALI and ALI's semi-supervised K+1 variant."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import reparameterize
from zoo.registry import register

PRIORS = ("uniform", "gaussian")


@register("bigan")
class BiGAN(ZooModel):
    """Bidirectional GAN: an encoder E learnt with the generator G by a discriminator on (x, z) pairs.

    Donahue, Kraehenbuehl & Darrell 2016. The discriminator D(x, z) tells
    data pairs (x, E(x)) from generated pairs (G(z), z); its value function
    (Eq. 3) is

        V(D, E, G) = E_x log D(x, E(x)) + E_{z~p(z)} log(1 - D(G(z), z)),

    maximised by D and minimised by G and E together. At the optimum E and G
    invert each other (Theorem 2), so G(E(x)) reconstructs x. As the paper
    does (Sec. 3.4), G and E minimise the "inverted labels" objective with
    non-saturating gradients:

        L_D  = -E_x log D(x, E(x)) - E_z log(1 - D(G(z), z))              (role "d")
        L_GE = -E_z log D(G(z), z) - E_x log(1 - D(x, E(x)))              (role "g": G and E)

    with D = sigmoid(logits) (`zoo.losses.binary_*`). The prior is uniform on
    [-1, 1]^d (the paper) or N(0, I).

    `sample` is G(z); `encode` is E(x); calling the model gives the
    reconstruction G(E(x)), whose mean squared error `evaluate` logs.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z (the paper: 50 on MNIST).
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (E, G and D's image path).
        prior: "uniform" or "gaussian".
        discriminator_units: width of D's code path and joint layers.
        dropout: dropout in D (ALI: 0.2).
        learning_rate: Adam's learning rate for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("bigan", input_shape=data.input_shape, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.encode(data.x_test[:4]).shape, model.sample(9).shape
        ((4, 8), (9, 8, 8, 1))

    Paper: Donahue et al., "Adversarial Feature Learning", arXiv 1605.09782.
    """

    roles = ("d", "g")
    log_names = ("d_loss", "g_loss")
    eval_log_names = ("reconstruction",)
    stochastic_encoder = False

    def __init__(self, input_shape, latent_dim=50, arch="auto", prior="uniform", discriminator_units=512,
                 dropout=0.2, learning_rate=2e-4, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self._store(latent_dim, arch, prior, discriminator_units, dropout, learning_rate)
        self._build_nets(outputs=1)

    def _store(self, latent_dim, arch, prior, discriminator_units, dropout, learning_rate):
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}; got {prior!r}")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.prior = prior
        self.discriminator_units = int(discriminator_units)
        self.dropout = float(dropout)
        self.learning_rate = float(learning_rate)

    def _build_nets(self, outputs):
        resolved = nets.resolve_arch(self.arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        head_units = self.latent_dim * (2 if self.stochastic_encoder else 1)
        self.encoder_head = nets.dense_head(head_units, self.encoder.output.shape[-1], "encoder_head")
        self.generator = nets.generator(resolved, self.latent_dim, self.image_shape)
        self.discriminator = nets.joint_discriminator(
            resolved, self.image_shape, self.latent_dim, units=self.discriminator_units, outputs=outputs,
            dropout=self.dropout)
        self._finish_build()

    def role_layers(self):
        return {"d": [self.discriminator], "g": [self.generator, self.encoder, self.encoder_head]}

    def default_optimizers(self):
        # BiGAN (Sec. 4): Adam, learning rate 2e-4, beta_1 0.5 (we omit its
        # weight decay of 2.5e-5 and the linear decay of the learning rate).
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5) for role in self.roles}

    # ----------------------------------------------------------------- nets
    def prior_sample(self, n, seed=None):
        seed = self.seed_generator if seed is None else seed
        if self.prior == "uniform":
            return keras.random.uniform((n, self.latent_dim), -1.0, 1.0, seed=seed)
        return keras.random.normal((n, self.latent_dim), seed=seed)

    def posterior(self, x, training=False):
        """Mean and log-variance of q(z|x) (log-variance None for a deterministic encoder)."""
        stats = self.encoder_head(self.encoder(x, training=training))
        if not self.stochastic_encoder:
            return stats, None
        return stats[:, : self.latent_dim], stats[:, self.latent_dim:]

    def encode_sample(self, x, noise, training=False):
        """z ~ q(z|x): E(x) for BiGAN, the reparameterised draw for ALI."""
        mean, log_var = self.posterior(x, training)
        return mean if log_var is None else reparameterize(mean, log_var, noise)

    def pair_logits(self, x, z_prior, noise, training=True, stop=False):
        """D's logits on data pairs (x, E(x)) and generated pairs (G(z), z)."""
        x = ops.convert_to_tensor(x)
        z_data = self.encode_sample(x, noise, training)
        x_fake = self.generator(z_prior, training=training)
        if stop:
            z_data, x_fake = ops.stop_gradient(z_data), ops.stop_gradient(x_fake)
        real = self.discriminator([x, z_data], training=training)
        fake = self.discriminator([x_fake, z_prior], training=training)
        return real, fake

    # --------------------------------------------------------------- losses
    # -log D and -log(1 - D) of the discriminator's logits: a sigmoid here, the
    # K+1 form in the semi-supervised subclass.
    real_loss = staticmethod(losses.real_logit_loss)
    fake_loss = staticmethod(losses.fake_logit_loss)

    def discriminator_losses(self, x, z_prior, noise, training=True):
        """L_D on the unlabelled images (no labels)."""
        real, fake = self.pair_logits(x, z_prior, noise, training, stop=True)
        loss = self.real_loss(real) + self.fake_loss(fake)
        return loss, {"d_loss": loss}

    def generator_losses(self, x, z_prior, noise, training=True):
        """L_GE, the inverted-labels objective of G and E (no labels)."""
        real, fake = self.pair_logits(x, z_prior, noise, training)
        loss = self.real_loss(fake) + self.fake_loss(real)
        return loss, {"g_loss": loss}

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        return self.adversarial_step(x)

    def adversarial_step(self, x, extra_d_losses=None):
        n = ops.shape(x)[0]
        noise, z = self.normal((n, self.latent_dim)), self.prior_sample(n)

        def d_loss():
            loss, logs = self.discriminator_losses(x, z, noise)
            if extra_d_losses is not None:
                extra, extra_logs = extra_d_losses()
                loss, logs = loss + extra, {**logs, **extra_logs, "d_loss": loss + extra}
            return loss, logs

        _, d_logs = self.minimize("d", d_loss)
        noise, z = self.normal((n, self.latent_dim)), self.prior_sample(n)
        _, g_logs = self.minimize("g", lambda: self.generator_losses(x, z, noise))
        return self.track(self.log_names, {**d_logs, **g_logs})

    def call(self, x, training=False):
        """Reconstruction G(E(x)) (E's mean for ALI), in [-1, 1]."""
        return self.generator(self.posterior(x, training)[0], training=training)

    def evaluation_terms(self, x):
        return {"reconstruction": ops.mean(ops.square(x - self(x)), axis=(1, 2, 3))}

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        return self.generator(self.prior_sample(n, seed_generator), training=False)

    def _encode_batch(self, x):
        return self.posterior(x)[0]


@register("ali")
class ALI(BiGAN):
    """Adversarially learned inference: BiGAN with a stochastic, reparameterised encoder.

    Dumoulin et al. 2016. The encoder is q(z|x) = N(mu(x), diag sigma^2(x)),
    sampled as z = mu + sigma * eps (Sec. 2.2, the reparameterisation trick),
    the prior is N(0, I), and D(x, z) plays the same game as in BiGAN
    (Eq. 1-2); E and G minimise the non-saturating objective of the paper's
    Algorithm 1:

        L_D    = -E_x log D(x, z_hat) - E_z log(1 - D(G(z), z)),   z_hat ~ q(z|x)
        L_GE   = -E_z log D(G(z), z) - E_x log(1 - D(x, z_hat))

    `encode` returns the posterior mean mu(x).

    Args: as `bigan`, with `prior` "gaussian" and a learning rate of 1e-4 by
    default (ALI, Appendix A: Adam, 1e-4, beta_1 0.5).

    Example:
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("ali", input_shape=data.input_shape, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)

    Paper: Dumoulin et al., "Adversarially Learned Inference", arXiv 1606.00704.
    """

    stochastic_encoder = True

    def __init__(self, input_shape, latent_dim=64, arch="auto", prior="gaussian", discriminator_units=512,
                 dropout=0.2, learning_rate=1e-4, seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, prior=prior,
                         discriminator_units=discriminator_units, dropout=dropout, learning_rate=learning_rate,
                         seed=seed, **kwargs)


@register("ali_ssl")
class SemiSupervisedALI(ALI):
    """ALI with a K+1 class discriminator on (x, z) pairs: ALI's semi-supervised variant.

    Dumoulin et al. 2016, Sec. 4.3: the discriminator D(x, z) gives K class
    logits l(x, z) and, as in Salimans et al. 2016 (Sec. 5), the fake class's
    logit is fixed at 0, so p(real | x, z) = Z / (Z + 1) with Z = sum_k exp l_k.

        L_D  = -E_{(x,y) labelled} log softmax(l(x, z_hat))_y
               - E_x log D(x, z_hat) - E_z log(1 - D(G(z), z))                   (role "d")
        L_GE = -E_z log D(G(z), z) - E_x log(1 - D(x, z_hat))                   (role "g")

    with z_hat ~ q(z|x) and -log D, -log(1 - D) from `zoo.losses.kplus1_*`.
    The adversarial terms read the unlabelled images alone
    (`discriminator_losses(x, ...)`, `generator_losses(x, ...)`); the labels
    enter only the supervised term of L_D. `classify(x)` is
    softmax(l(x, mu(x))).

    Args: as `ali`, plus `num_classes` (K) and `supervised_weight`.

    Example:
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("ali_ssl", input_shape=data.input_shape, num_classes=10, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Dumoulin et al., "Adversarially Learned Inference", arXiv 1606.00704;
    Salimans et al., "Improved Techniques for Training GANs", arXiv 1606.03498.
    """

    log_names = ("d_loss", "d_supervised", "g_loss")
    eval_log_names = ()

    def __init__(self, input_shape, num_classes, latent_dim=64, arch="auto", prior="gaussian",
                 discriminator_units=512, dropout=0.2, learning_rate=1e-4, supervised_weight=1.0, seed=None,
                 **kwargs):
        ZooModel.__init__(self, input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self._store(latent_dim, arch, prior, discriminator_units, dropout, learning_rate)
        self.supervised_weight = float(supervised_weight)
        self._build_nets(outputs=self.num_classes)

    real_loss = staticmethod(losses.kplus1_real_loss)
    fake_loss = staticmethod(losses.kplus1_fake_loss)

    def supervised_losses(self, x_labeled, y_labeled, noise, training=True):
        x_labeled = ops.convert_to_tensor(x_labeled)
        z = ops.stop_gradient(self.encode_sample(x_labeled, noise, training))
        loss = losses.cross_entropy(y_labeled, self.discriminator([x_labeled, z], training=training))
        return self.supervised_weight * loss, {"d_supervised": loss}

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        noise = self.normal((ops.shape(x_labeled)[0], self.latent_dim))
        return self.adversarial_step(x, lambda: self.supervised_losses(x_labeled, y_labeled, noise))

    def logits(self, x, training=False):
        x = ops.convert_to_tensor(x)
        return self.discriminator([x, self.posterior(x, training)[0]], training=training)

    def _classify_batch(self, x):
        return ops.softmax(self.logits(x))
