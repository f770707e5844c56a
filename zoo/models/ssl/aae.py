"""Adversarial autoencoders (Makhzani et al. 2015): the paper's variants in one module.

* `aae`: unsupervised, the code matched to a prior we only sample from
  (Gaussian, mixture of 10 2-D Gaussians, swiss roll; `zoo.priors`);
* `aae_supervised`: the label one-hot into the decoder, the style in z
  (disentangling content and style, Sec. 4);
* `aae_ssl`: semi-supervised, a categorical code y and a style code z, each
  matched by its own adversary, plus the supervised classification phase
  (Sec. 5);
* `aae_clustering`: the same without labels, y over `num_clusters` (Sec. 6);
* `aae_dim_reduction`: the semi-supervised AAE whose decoder reads the n-D
  representation W y + z, with the cluster-head cost (Sec. 7).

Every variant alternates the paper's phases in each `train_step`:
reconstruction (encoder + decoder), regularization (the discriminators, then
the encoder as their generator) and, where labels are used, the
semi-supervised classification phase (encoder only). Each phase has its own
optimizer, as the paper's (Sec. 5: each phase an SGD with momentum of its own
learning rate), so the moments one phase's gradients build never move
another phase's update: the roles' optimizers ("e", "s", "g", "d") serve the
phase in which their weights first step, and `phase_optimizers` names the
later phases' own optimizers of the same weights ("e_regularization": the
encoder as the adversaries' generator, "e_supervised": the classification
phase, ...). `compile(optimizers=...)` overrides them by name too; by
default each is a fresh copy of its role's optimizer.
"""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets, priors
from zoo.base import ZooModel
from zoo.registry import register


class _AdversarialAutoencoder(ZooModel):
    """Shared parts: deterministic encoder trunk, decoder, code adversaries, optimizers."""

    roles = ("e", "g", "d")
    #: Optimizers of the later phases: name -> the role whose weights it steps.
    #: The encoder steps in the reconstruction phase ("e") and in the
    #: regularization phase, as the adversary's generator ("e_regularization").
    phase_optimizers = {"e_regularization": "e"}

    def _build_trunk(self, arch, decoder_input_dim):
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        self.decoder = nets.generator(resolved, decoder_input_dim, self.image_shape, name="decoder")
        return self.encoder.output.shape[-1]

    def _code_discriminator(self, input_dim, name):
        units = (self.discriminator_units,) * 2
        return nets.vector_mlp(input_dim, units, 1, name=name)

    def default_optimizers(self):
        # The paper trains every phase by SGD with momentum (Appendix A);
        # we use Adam(2e-4, beta_1=0.5), the usual adversarial setting, for every
        # phase (a deviation that converges in far fewer steps on CPU), each
        # phase with its own (`compile`).
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5) for role in self.roles}

    def reconstruction_losses(self, x, training=True):
        """Reconstruction phase: mean squared error of decoder(encoder(x)); no labels."""
        loss = losses.mean_squared_error(x, self.decoder(self.decoder_input(x, training), training=training))
        return loss, {"reconstruction": loss}

    def evaluation_terms(self, x):
        return {"reconstruction": ops.mean(ops.square(x - self(x)), axis=(1, 2, 3))}

    def call(self, x, training=False):
        """Reconstruction decoder(encoder(x)) in [-1, 1]."""
        return self.decoder(self.decoder_input(x, training), training=training)


# --------------------------------------------------------------- unsupervised
@register("aae")
class AAE(_AdversarialAutoencoder):
    """Adversarial autoencoder: an autoencoder whose code is matched to a prior by a GAN.

    A deterministic encoder q(z|x) = delta(z - E(x)), a decoder G(z) and a
    discriminator D on codes. The aggregated posterior q(z) = E_x q(z|x) is
    matched to the prior p(z) (Makhzani et al. 2015, Sec. 2), which is only
    sampled, never evaluated. Each `train_step` runs the paper's two phases
    on the unlabelled images x:

    * reconstruction phase (encoder "e" + decoder "g"):
          L_rec = mean ||x - G(E(x))||^2
    * regularization phase, the GAN of Goodfellow et al. 2014 (Eq. 1) on codes:
          L_D = -E_{z~p} log D(z) - E_x log(1 - D(E(x)))            (discriminator "d")
          L_E = -E_x log D(E(x))                                    (encoder "e", non-saturating)

    `sample` decodes prior draws; `encode` returns E(x); `evaluate` logs
    the per-image reconstruction error.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z (2 for the 2-D priors).
        prior: "gaussian", "mixture" (10 2-D Gaussians) or "swiss_roll" (`zoo.priors`).
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (encoder and decoder).
        discriminator_units: width of the code discriminator's two hidden layers
            (the paper: 1000).
        learning_rate: Adam's learning rate, for every player.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> aae = zoo.load("aae", input_shape=data.input_shape, latent_dim=2, prior="mixture")
        >>> aae.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> aae.encode(data.x_test[:5]).shape, aae.sample(16).shape
        ((5, 2), (16, 8, 8, 1))

    Paper: Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial
    Autoencoders", arXiv 1511.05644.
    """

    log_names = ("reconstruction", "d_loss", "e_adversarial")
    eval_log_names = ("reconstruction",)

    def __init__(self, input_shape, latent_dim=8, prior="gaussian", arch="auto", discriminator_units=256,
                 learning_rate=2e-4, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        priors.check_prior(prior, latent_dim)
        self.latent_dim = int(latent_dim)
        self.prior = prior
        self.arch = arch
        self.discriminator_units = int(discriminator_units)
        self.learning_rate = float(learning_rate)
        feature_dim = self._build_trunk(arch, self.latent_dim)
        self.code_head = nets.dense_head(self.latent_dim, feature_dim, "code")
        self.discriminator = self._code_discriminator(self.latent_dim, "code_discriminator")
        self._finish_build()

    def role_layers(self):
        return {"e": [self.encoder, self.code_head], "g": [self.decoder], "d": [self.discriminator]}

    def code(self, x, training=False):
        return self.code_head(self.encoder(x, training=training))

    decoder_input = code

    def regularization_losses(self, x, z_prior, training=True):
        """L_D on prior draws vs codes of the unlabelled x (no labels)."""
        z = ops.stop_gradient(self.code(x, training))
        loss = (losses.real_logit_loss(self.discriminator(z_prior, training=training))
                + losses.fake_logit_loss(self.discriminator(z, training=training)))
        return loss, {"d_loss": loss}

    def encoder_adversarial_losses(self, x, training=True):
        loss = losses.real_logit_loss(self.discriminator(self.code(x, training), training=training))
        return loss, {"e_adversarial": loss}

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        z_prior = priors.sample(self.prior, ops.shape(x)[0], self.latent_dim, self.seed_generator)
        _, rec_logs = self.minimize(("e", "g"), lambda: self.reconstruction_losses(x))
        _, d_logs = self.minimize("d", lambda: self.regularization_losses(x, z_prior))
        _, e_logs = self.minimize("e_regularization", lambda: self.encoder_adversarial_losses(x))
        return self.track(self.log_names, {**rec_logs, **d_logs, **e_logs})

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        return self.decoder(priors.sample(self.prior, n, self.latent_dim, seed_generator), training=False)

    def _encode_batch(self, x):
        return self.code(x)


# ----------------------------------------------------------------- supervised
@register("aae_supervised")
class SupervisedAAE(_AdversarialAutoencoder):
    """Supervised adversarial autoencoder: the label goes to the decoder, the style to z.

    Makhzani et al. 2015, Sec. 4 (Fig. 6): the encoder E(x) = z, the decoder
    G([onehot(y), z]) sees the label, so the adversary that matches q(z) to
    N(0, I) pushes the label information out of z and z keeps the style.
    A fully supervised method: it trains on `"x_labeled"`, `"y_labeled"`
    (load the data with `labels=None`, which labels every example).

        L_rec = mean ||x - G([onehot(y), E(x)])||^2                (e + g)
        L_D   = -E_{z~N(0,I)} log D(z) - E_x log(1 - D(E(x)))       (d)
        L_E   = -E_x log D(E(x))                                   (e)

    `sample(n, labels=...)` decodes N(0, I) styles with the given digits;
    `encode` returns the style; `evaluate` logs the reconstruction error on
    (x, y) batches.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        latent_dim: size of the style z.
        arch, discriminator_units, learning_rate, seed: as `aae`.

    Example:
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("aae_supervised", input_shape=data.input_shape, num_classes=10, latent_dim=4)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Makhzani et al., "Adversarial Autoencoders", arXiv 1511.05644.
    """

    conditional = True
    log_names = ("reconstruction", "d_loss", "e_adversarial")
    eval_log_names = ("reconstruction",)

    def __init__(self, input_shape, num_classes, latent_dim=8, arch="auto", discriminator_units=256,
                 learning_rate=2e-4, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.discriminator_units = int(discriminator_units)
        self.learning_rate = float(learning_rate)
        feature_dim = self._build_trunk(arch, self.num_classes + self.latent_dim)
        self.code_head = nets.dense_head(self.latent_dim, feature_dim, "style")
        self.discriminator = self._code_discriminator(self.latent_dim, "style_discriminator")
        self._finish_build()

    def role_layers(self):
        return {"e": [self.encoder, self.code_head], "g": [self.decoder], "d": [self.discriminator]}

    def code(self, x, training=False):
        return self.code_head(self.encoder(x, training=training))

    def reconstruct(self, x, y, training=False):
        z = self.code(x, training)
        return self.decoder(ops.concatenate([ops.one_hot(ops.cast(y, "int32"), self.num_classes), z], -1),
                            training=training)

    def train_step(self, batch):
        x, y = self.unpack(batch, "x_labeled", "y_labeled")
        z_prior = self.normal((ops.shape(x)[0], self.latent_dim))

        def reconstruction():
            loss = losses.mean_squared_error(x, self.reconstruct(x, y, training=True))
            return loss, {"reconstruction": loss}

        def regularization():
            z = ops.stop_gradient(self.code(x, training=True))
            loss = (losses.real_logit_loss(self.discriminator(z_prior, training=True))
                    + losses.fake_logit_loss(self.discriminator(z, training=True)))
            return loss, {"d_loss": loss}

        def adversarial():
            loss = losses.real_logit_loss(self.discriminator(self.code(x, training=True), training=True))
            return loss, {"e_adversarial": loss}

        _, rec_logs = self.minimize(("e", "g"), reconstruction)
        _, d_logs = self.minimize("d", regularization)
        _, e_logs = self.minimize("e_regularization", adversarial)
        return self.track(self.log_names, {**rec_logs, **d_logs, **e_logs})

    def test_step(self, data):
        """Reconstruction error on (x, y) batches (the decoder needs the label)."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("evaluate() of aae_supervised needs labelled (x, y) batches")
        error = ops.mean(ops.square(x - self.reconstruct(x, y)), axis=(1, 2, 3))
        return self.track(self.eval_log_names, {"reconstruction": error})

    def call(self, x, training=False):
        """The style code E(x)."""
        return self.code(x, training)

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        y = ops.one_hot(ops.convert_to_tensor(labels, "int32"), self.num_classes)
        return self.decoder(ops.concatenate([y, z], -1), training=False)

    def _encode_batch(self, x):
        return self.code(x)


# ------------------------------------------------------------ semi-supervised
@register("aae_ssl")
class SemiSupervisedAAE(_AdversarialAutoencoder):
    """Semi-supervised adversarial autoencoder: categorical y and style z, each with its adversary.

    Makhzani et al. 2015, Sec. 5 (Fig. 8). The encoder gives q(y|x) =
    softmax(l(x)) over K classes and a deterministic style z(x); the decoder
    reconstructs from [q(y|x), z(x)]. Two adversaries match the aggregated
    q(y) to Cat(K) (one-hot draws) and q(z) to N(0, I). Each `train_step`
    alternates the paper's three phases:

    * reconstruction (e + g), on the unlabelled x:
          L_rec = mean ||x - G([softmax(l(x)), z(x)])||^2
    * regularization: the discriminators ("d"), then the encoder ("e"):
          L_D = -E log D_y(y~Cat) - E log(1 - D_y(q(y|x))) - E log D_z(z~N) - E log(1 - D_z(z(x)))
          L_E = -E log D_y(q(y|x)) - E log D_z(z(x))
    * semi-supervised classification (e), on the labelled batch only:
          L_sup = -E_{(x,y) labelled} log q(y|x)

    The first two phases read the unlabelled images alone
    (`reconstruction_losses(x)`, `regularization_losses(x, ...)`,
    `encoder_adversarial_losses(x)`); labels reach only the third.
    `classify` is q(y|x); `encode` returns [q(y|x), z(x)]; `sample` decodes a
    uniform one-hot y with z ~ N(0, I).

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of the style z (the paper: 10 on MNIST).
        arch, discriminator_units, learning_rate, seed: as `aae`.
        supervised_weight: weight of L_sup (1: the paper's plain phase).

    Example:
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("aae_ssl", input_shape=data.input_shape, num_classes=10, latent_dim=4)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Makhzani et al., "Adversarial Autoencoders", arXiv 1511.05644.
    """

    log_names = ("reconstruction", "d_loss", "e_adversarial", "supervised")
    uses_labels = True
    # The encoder's trunk and category head ("e") step in the reconstruction,
    # regularization and classification phases; its style head ("s") in the
    # first two; each phase with its own optimizer.
    roles = ("e", "s", "g", "d")
    phase_optimizers = {"e_regularization": "e", "s_regularization": "s", "e_supervised": "e"}

    def __init__(self, input_shape, num_classes, latent_dim=8, arch="auto", discriminator_units=256,
                 learning_rate=2e-4, supervised_weight=1.0, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self._store(latent_dim, arch, discriminator_units, learning_rate, supervised_weight)
        self._build_model()

    def _store(self, latent_dim, arch, discriminator_units, learning_rate, supervised_weight):
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.discriminator_units = int(discriminator_units)
        self.learning_rate = float(learning_rate)
        self.supervised_weight = float(supervised_weight)

    @property
    def categories(self):
        """Size of the categorical code y."""
        return self.num_classes

    @property
    def representation_dim(self):
        return self.categories + self.latent_dim

    def _build_model(self):
        feature_dim = self._build_trunk(self.arch, self.representation_dim)
        self.category_head = nets.dense_head(self.categories, feature_dim, "category_logits")
        self.style_head = nets.dense_head(self.latent_dim, feature_dim, "style")
        self.category_discriminator = self._code_discriminator(self.categories, "category_discriminator")
        self.style_discriminator = self._code_discriminator(self.latent_dim, "style_discriminator")
        self._finish_build()

    def role_layers(self):
        return {"e": [self.encoder, self.category_head], "s": [self.style_head], "g": [self.decoder],
                "d": [self.category_discriminator, self.style_discriminator]}

    def codes(self, x, training=False):
        """Category logits l(x) and style z(x)."""
        h = self.encoder(x, training=training)
        return self.category_head(h), self.style_head(h)

    def decoder_input(self, x, training=False):
        logits, z = self.codes(x, training)
        return ops.concatenate([ops.softmax(logits), z], -1)

    def regularization_losses(self, x, y_prior, z_prior, training=True):
        """L_D: both adversaries, prior draws vs the codes of the unlabelled x."""
        logits, z = self.codes(x, training)
        y, z = ops.stop_gradient(ops.softmax(logits)), ops.stop_gradient(z)
        category = (losses.real_logit_loss(self.category_discriminator(y_prior, training=training))
                    + losses.fake_logit_loss(self.category_discriminator(y, training=training)))
        style = (losses.real_logit_loss(self.style_discriminator(z_prior, training=training))
                 + losses.fake_logit_loss(self.style_discriminator(z, training=training)))
        return category + style, {"d_loss": category + style}

    def encoder_adversarial_losses(self, x, training=True):
        logits, z = self.codes(x, training)
        loss = (losses.real_logit_loss(self.category_discriminator(ops.softmax(logits), training=training))
                + losses.real_logit_loss(self.style_discriminator(z, training=training)))
        return loss, {"e_adversarial": loss}

    def supervised_losses(self, x_labeled, y_labeled, training=True):
        loss = losses.cross_entropy(y_labeled, self.codes(x_labeled, training)[0])
        return self.supervised_weight * loss, {"supervised": loss}

    def train_step(self, batch):
        if self.uses_labels:
            x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        else:
            x = self.unpack(batch, "x")
        n = ops.shape(x)[0]
        y_prior = priors.categorical(n, self.categories, self.seed_generator)
        z_prior = self.normal((n, self.latent_dim))
        _, logs = self.minimize(("e", "s", "g"), lambda: self.reconstruction_losses(x))
        logs.update(self.minimize("d", lambda: self.regularization_losses(x, y_prior, z_prior))[1])
        logs.update(self.minimize(("e_regularization", "s_regularization"),
                                  lambda: self.encoder_adversarial_losses(x))[1])
        if self.uses_labels:
            logs.update(self.minimize("e_supervised", lambda: self.supervised_losses(x_labeled, y_labeled))[1])
        return self.track(self.log_names, logs)

    def call(self, x, training=False):
        """Class probabilities q(y|x)."""
        return ops.softmax(self.codes(x, training)[0])

    def reconstruct(self, x):
        return self.decoder(self.decoder_input(x), training=False)

    def evaluation_terms(self, x):
        return {"reconstruction": ops.mean(ops.square(x - self.reconstruct(x)), axis=(1, 2, 3))}

    # ------------------------------------------------------------ capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

    def _encode_batch(self, x):
        return self.decoder_input(x)

    def _sample_batch(self, n, labels, seed_generator):
        y = priors.categorical(n, self.categories, seed_generator)
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        return self.decoder(self.decoder_code(y, z), training=False)

    def decoder_code(self, y, z):
        """The decoder's input for a one-hot (or soft) y and a style z."""
        return ops.concatenate([y, z], -1)


@register("aae_clustering")
class ClusteringAAE(SemiSupervisedAAE):
    """Unsupervised clustering with an adversarial autoencoder: `aae_ssl` without labels.

    Makhzani et al. 2015, Sec. 6: the same reconstruction and regularization
    phases, y over `num_clusters` categories, and no semi-supervised phase, so
    the model never reads a label. `cluster(x)` gives the cluster
    probabilities q(y|x); `encode` gives [q(y|x), z(x)]. The paper reports
    the error after assigning each cluster the label of its most confident
    training image (16 clusters: 9.55%, 30 clusters: 4.10% on MNIST).

    Args:
        input_shape: (height, width, channels).
        num_clusters: number of categories of y (the paper: 16 or 30).
        latent_dim, arch, discriminator_units, learning_rate, seed: as `aae_ssl`.

    Example:
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("aae_clustering", input_shape=data.input_shape, num_clusters=16)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.cluster(data.x_test[:5]).shape
        (5, 16)

    Paper: Makhzani et al., "Adversarial Autoencoders", arXiv 1511.05644.
    """

    log_names = ("reconstruction", "d_loss", "e_adversarial")
    eval_log_names = ("reconstruction",)
    uses_labels = False
    phase_optimizers = {"e_regularization": "e", "s_regularization": "s"}

    def __init__(self, input_shape, num_clusters=16, latent_dim=8, arch="auto", discriminator_units=256,
                 learning_rate=2e-4, seed=None, **kwargs):
        if int(num_clusters) != num_clusters or num_clusters < 2:
            raise ValueError(f"num_clusters must be an integer >= 2; got {num_clusters!r}")
        _AdversarialAutoencoder.__init__(self, input_shape, seed=seed, **kwargs)
        self.num_clusters = int(num_clusters)
        self._store(latent_dim, arch, discriminator_units, learning_rate, 0.0)
        self._build_model()

    @property
    def categories(self):
        return self.num_clusters

    def cluster(self, x, batch_size=500):
        """Cluster probabilities q(y|x), shape (len(x), num_clusters)."""
        return self._map_batches(lambda b: self(b, training=False), x, batch_size)

    # No labels, so no classify capability (the hook stays the base's).
    _classify_batch = ZooModel._classify_batch


@register("aae_dim_reduction")
class DimReductionAAE(SemiSupervisedAAE):
    """Semi-supervised dimensionality reduction with an adversarial autoencoder.

    Makhzani et al. 2015, Sec. 7 (Fig. 9-10): the encoder's q(y|x) (K
    categories) and n-D style z form the n-D representation r = W q(y|x) + z,
    where the K columns of W (n x K) are learned cluster heads; the decoder
    reconstructs from r. The phases are those of `aae_ssl`, and the
    reconstruction phase adds the cluster-head cost, which penalises every two
    heads closer than a threshold eta:

          L_rec = mean ||x - G(W q(y|x) + z(x))||^2 + sum_{i<j} max(0, eta - ||W_i - W_j||)

    With n = 2, `encode` gives the 2-D representation to plot.

    Args:
        input_shape: (height, width, channels).
        num_classes: K (the labelled classes; the paper: 10 with 1000 MNIST labels).
        latent_dim: n, the dimension of the representation (2 to plot).
        head_threshold: eta.
        style_std: standard deviation of the style prior N(0, style_std^2 I),
            small beside eta so that the clusters separate.
        arch, discriminator_units, learning_rate, supervised_weight, seed: as `aae_ssl`.

    Example:
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("aae_dim_reduction", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.encode(data.x_test[:5]).shape
        (5, 2)

    Paper: Makhzani et al., "Adversarial Autoencoders", arXiv 1511.05644.
    """

    log_names = ("reconstruction", "cluster_heads", "d_loss", "e_adversarial", "supervised")

    def __init__(self, input_shape, num_classes, latent_dim=2, head_threshold=6.0, style_std=1.0, arch="auto",
                 discriminator_units=256, learning_rate=2e-4, supervised_weight=1.0, seed=None, **kwargs):
        if head_threshold <= 0 or style_std <= 0:
            raise ValueError("head_threshold and style_std must be positive")
        _AdversarialAutoencoder.__init__(self, input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.head_threshold = float(head_threshold)
        self.style_std = float(style_std)
        self._store(latent_dim, arch, discriminator_units, learning_rate, supervised_weight)
        self._build_model()

    @property
    def representation_dim(self):
        return self.latent_dim

    def _build_model(self):
        heads = keras.layers.Dense(self.latent_dim, use_bias=False, name="cluster_heads", dtype="float32",
                                   kernel_initializer=keras.initializers.RandomNormal(stddev=self.head_threshold))
        heads.build((None, self.categories))
        self.cluster_heads = heads
        super()._build_model()

    def role_layers(self):
        # The heads W map the codes to the decoder's input: they step with the
        # decoder, in the reconstruction phase.
        layers = super().role_layers()
        layers["g"] = [self.cluster_heads] + layers["g"]
        return layers

    def decoder_code(self, y, z):
        return self.cluster_heads(y) + z

    def decoder_input(self, x, training=False):
        logits, z = self.codes(x, training)
        return self.decoder_code(ops.softmax(logits), z)

    def reconstruction_losses(self, x, training=True):
        rec, _ = super().reconstruction_losses(x, training)
        heads = losses.cluster_head_penalty(self.cluster_heads.kernel, self.head_threshold)
        # The kernel is (K, n): row k is cluster head k.
        return rec + heads, {"reconstruction": rec, "cluster_heads": heads}

    def regularization_losses(self, x, y_prior, z_prior, training=True):
        return super().regularization_losses(x, y_prior, self.style_std * z_prior, training)

    def _sample_batch(self, n, labels, seed_generator):
        y = priors.categorical(n, self.categories, seed_generator)
        z = self.style_std * keras.random.normal((n, self.latent_dim), seed=seed_generator)
        return self.decoder(self.decoder_code(y, z), training=False)
