"""Triple-GAN (Li et al. 2017) and Enhanced Triple-GAN (Wu et al. 2019):
a classifier, a conditional generator and a discriminator of (image, label) pairs."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import NetClassifier, ZooModel
from zoo.registry import register


@register("triple_gan")
class TripleGAN(NetClassifier, ZooModel):
    """Triple-GAN: classifier C, conditional generator G, discriminator D of (x, y) pairs.

    C models p_c(y|x), G models p_g(x|y) (x = G(y, z), z ~ N(0, I), y uniform),
    and D tells the data's labelled pairs from the pairs of C and of G. The
    game (Li et al. 2017, Eq. 1), with the mixing weight alpha:

        min_{C,G} max_D  E_p log D(x,y) + alpha E_{p_c} log(1 - D(x,y))
                                        + (1 - alpha) E_{p_g} log(1 - D(G(y,z),y))

    Losses, means over the batch (`zoo.losses.triple_gan_*`):

        L_D = -E_p log D - alpha E_{p_c} log(1 - D) - (1 - alpha) E_{p_g} log(1 - D)
        L_G = -(1 - alpha) E_{p_g} log D(G(y, z), y)                 (non-saturating)
        L_C = alpha E_x sum_y p_c(y|x) (-log D(x, y))                (non-saturating, Eq. 5)
              + R_L                        cross-entropy on the labelled pairs (Eq. 3)
              + alpha_P(t) R_P             cross-entropy of C on G's pairs (Eq. 4)
              + w_H E_x H[p_c(y|x)]        conditional entropy on unlabelled x (Sec. 4)
              + w_Pi ||p_c(.|x) - p_c(.|x)'||^2   consistency of two noisy passes (Sec. 4)

    alpha_P(t) is the schedule of the paper: 0 before `pseudo_start` classifier
    steps, `pseudo_weight` after (MNIST code: 0.1 after 300 epochs). C's pairs
    use y = argmax p_c(y|x) weighted by p_c(y|x) (`classifier_pairs="argmax"`,
    the paper's code) or the exact sum over the K labels ("expectation", K
    times the discriminator's work). The unlabelled images reach C's
    unsupervised terms and D without labels (`classifier_losses`,
    `discriminator_losses` get `x` alone).

    Deviations: no
    pre-training of C, no EMA of C's weights, no learning-rate annealing; D
    concatenates y to its top two layers (the paper: every layer).

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`, for C, D and G.
        alpha: the mixing weight of C's and G's pairs (0.5 in the paper).
        pseudo_weight: alpha_P, weight of R_P once it is on (0.1, MNIST code).
        pseudo_start: classifier steps before R_P is switched on.
        entropy_weight: w_H (0.3 in the paper's MNIST code).
        consistency_weight: w_Pi (0 = off; the paper's CIFAR/SVHN setting uses
            a Pi-model regulariser on C).
        classifier_pairs: "argmax" or "expectation" (see above).
        dropout, input_noise: C's net (as the supervised baseline's).
        d_dropout, d_input_noise, d_weight_norm, d_hidden: D's net (the
            paper's MNIST D: input noise 0.3, weight norm).
        learning_rate: Adam's learning rate for the three players (1e-3, beta_1 0.5).
        pseudo_real_pairs: the paper code's biased trick (default on): half of
            each unlabelled batch, labelled by C's argmax, joins D's real pairs,
            so D cannot call every unlabelled image fake. Off, D's real pairs are
            the labelled ones alone, D memorises them and C's adversarial term
            drowns its confidence (digits-50: 0.648 accuracy vs 0.882 on).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("triple_gan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Li, Xu, Zhu, Zhang, "Triple Generative Adversarial Nets", NeurIPS
    2017, arXiv 1703.02291.
    """

    roles = ("d", "c", "g")
    log_names = ("d_loss", "c_loss", "c_supervised", "c_adversarial", "c_pseudo", "c_entropy", "g_loss")
    conditional = True
    CLASSIFIER_PAIRS = ("argmax", "expectation")

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", alpha=0.5, pseudo_weight=0.1,
                 pseudo_start=0, entropy_weight=0.3, consistency_weight=0.0, classifier_pairs="argmax",
                 dropout=0.5, input_noise=0.3, d_dropout=0.0, d_input_noise=0.3, d_weight_norm=True, d_hidden=256,
                 learning_rate=1e-3, pseudo_real_pairs=True, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]; got {alpha}")
        if classifier_pairs not in self.CLASSIFIER_PAIRS:
            raise ValueError(f"classifier_pairs must be one of {self.CLASSIFIER_PAIRS}; got {classifier_pairs!r}")
        if min(pseudo_weight, entropy_weight, consistency_weight, pseudo_start) < 0:
            raise ValueError("pseudo_weight, entropy_weight, consistency_weight and pseudo_start must be >= 0")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.alpha = float(alpha)
        self.pseudo_weight = float(pseudo_weight)
        self.pseudo_start = int(pseudo_start)
        self.entropy_weight = float(entropy_weight)
        self.consistency_weight = float(consistency_weight)
        self.classifier_pairs = classifier_pairs
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self.d_dropout = float(d_dropout)
        self.d_input_noise = float(d_input_noise)
        self.d_weight_norm = bool(d_weight_norm)
        self.d_hidden = int(d_hidden)
        self.learning_rate = float(learning_rate)
        self.pseudo_real_pairs = bool(pseudo_real_pairs)
        resolved = nets.resolve_arch(arch, self.image_shape)
        # C: exactly the supervised baseline's net (same arch, dropout, input noise).
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, num_classes, dropout=self.dropout, input_noise=self.input_noise,
            prefix="c")
        self.discriminator = nets.pair_discriminator(
            resolved, self.image_shape, num_classes, hidden=self.d_hidden, dropout=self.d_dropout,
            input_noise=self.d_input_noise, weight_norm=self.d_weight_norm, name="discriminator")
        self.generator = nets.generator(resolved, self.latent_dim + num_classes, self.image_shape)
        self._finish_build()

    def role_layers(self):
        return {"c": [self.features, self.classifier_head], "d": [self.discriminator], "g": [self.generator]}

    def default_optimizers(self):
        # Li et al. 2017 code (MNIST): Adam, lr 1e-3, beta_1 0.5 for C, D and G.
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5) for role in self.roles}

    # ----------------------------------------------------------------- nets
    def generate(self, z, labels, training=False):
        return self.generator(ops.concatenate([z, ops.one_hot(labels, self.num_classes)], axis=-1),
                              training=training)

    def pair_logits(self, x, labels, training=True):
        """D's logits of the pairs (x, y), shape (batch,)."""
        x = ops.convert_to_tensor(x)
        return ops.squeeze(self.discriminator([x, ops.one_hot(labels, self.num_classes)], training=training), -1)

    def all_pair_logits(self, x, training=True):
        """D's logits of (x, y) for every label y, shape (batch, K)."""
        n, k = ops.shape(x)[0], self.num_classes
        repeated = ops.repeat(x, k, axis=0)
        labels = ops.tile(ops.arange(k, dtype="int32"), [n])
        return ops.reshape(self.pair_logits(repeated, labels, training), (n, k))

    # --------------------------------------------------------------- losses
    def discriminator_losses(self, x, x_labeled, y_labeled, x_fake, y_fake):
        """L_D. The unlabelled `x` come without labels; C labels them."""
        real_logits = self.pair_logits(x_labeled, y_labeled)
        if self.pseudo_real_pairs:
            # The paper's code: half of the unlabelled batch, with C's argmax labels, joins the real pairs.
            half = ops.shape(x)[0] // 2
            x_pseudo, x = x[:half], x[half:]
            y_pseudo = ops.argmax(self.logits(x_pseudo, training=True), axis=-1)
            real_logits = ops.concatenate([real_logits, self.pair_logits(x_pseudo, y_pseudo)], 0)
        p_c = ops.stop_gradient(ops.softmax(self.logits(x, training=True)))
        if self.classifier_pairs == "expectation":
            c_logits, weights = self.all_pair_logits(x), p_c
        else:
            c_logits, weights = self.pair_logits(x, ops.argmax(p_c, axis=-1)), None
        loss = losses.triple_gan_discriminator_loss(
            real_logits, c_logits, self.pair_logits(x_fake, y_fake), self.alpha, weights)
        return loss, {"d_loss": loss}

    def classifier_losses(self, x, x_labeled, y_labeled, x_fake, y_fake, pseudo_on):
        """L_C. The unsupervised terms see the unlabelled `x` only."""
        logits = self.logits(x, training=True)
        p_c = ops.softmax(logits)
        if self.classifier_pairs == "expectation":
            adversarial = losses.triple_gan_classifier_adversarial_loss(self.all_pair_logits(x), p_c, self.alpha)
        else:
            y_c = ops.argmax(p_c, axis=-1)
            adversarial = losses.triple_gan_classifier_adversarial_loss(
                self.pair_logits(x, y_c), ops.max(p_c, axis=-1), self.alpha)
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, training=True))
        pseudo = losses.cross_entropy(y_fake, self.logits(x_fake, training=True))
        entropy = losses.entropy(logits)
        loss = supervised + adversarial + pseudo_on * self.pseudo_weight * pseudo + self.entropy_weight * entropy
        if self.consistency_weight:
            loss += self.consistency_weight * losses.consistency(logits, self.logits(x, training=True))
        return loss, {"c_loss": loss, "c_supervised": supervised, "c_adversarial": adversarial,
                      "c_pseudo": pseudo, "c_entropy": entropy}

    def generator_losses(self, z, y_fake, x, x_labeled, y_labeled):
        """L_G (the images are for subclasses that match statistics of real data)."""
        loss = losses.triple_gan_generator_loss(self.pair_logits(self.generate(z, y_fake, True), y_fake), self.alpha)
        return loss, {"g_loss": loss}

    # ------------------------------------------------------------------ step
    def draw_labels(self, n):
        return keras.random.randint((n,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        n = ops.shape(x)[0]
        y_fake = self.draw_labels(n)
        x_fake = ops.stop_gradient(self.generate(self.normal((n, self.latent_dim)), y_fake, training=True))
        pseudo_on = ops.cast(self.role_optimizers["c"].iterations >= self.pseudo_start, "float32")
        _, d_logs = self.minimize("d", lambda: self.discriminator_losses(x, x_labeled, y_labeled, x_fake, y_fake))
        _, c_logs = self.minimize(
            "c", lambda: self.classifier_losses(x, x_labeled, y_labeled, x_fake, y_fake, pseudo_on))
        y_g = self.draw_labels(n)
        _, g_logs = self.minimize(
            "g", lambda: self.generator_losses(self.normal((n, self.latent_dim)), y_g, x, x_labeled, y_labeled))
        return self.track(self.log_names, {**d_logs, **c_logs, **g_logs})

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        return self.generate(z, ops.convert_to_tensor(labels, "int32"), training=False)


@register("enhanced_triple_gan")
class EnhancedTripleGAN(TripleGAN):
    """Enhanced Triple-GAN: Triple-GAN whose generator also matches C's class-wise features and semantics.

    The game, D's and C's losses are Triple-GAN's (read its docstring). The
    generator's loss adds the two terms of Wu et al. 2019's feature-semantics
    matching, both computed in the classifier C (whose weights G does not
    update):

        L_G = (1 - alpha) E log(1 / D(G(y,z), y))
              + w_F (1/K) sum_k || mean_{x in class k} f_C(x) - mean_{z} f_C(G(k, z)) ||^2 / dim
              + w_S E_{y,z} CE(y, p_c(. | G(y, z)))

    The first added term is the class-wise mean feature matching: the real
    class means of C's features f_C use the labelled images with their labels
    and the unlabelled images with C's argmax labels (no true label of the
    unlabelled stream is read). The second is the semantic matching: C must
    recognise y in G(y, z).

    Deviation: the paper trains two classifiers collaboratively; this model
    keeps Triple-GAN's single classifier.

    Args:
        feature_matching_weight: w_F.
        semantic_weight: w_S.
        Others: as `triple_gan`.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("enhanced_triple_gan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Wu, Deng, Li, Li, Yu, Wong, "Enhancing TripleGAN for Semi-Supervised
    Conditional Instance Synthesis and Classification", CVPR 2019.
    """

    log_names = TripleGAN.log_names + ("g_feature_matching", "g_semantic")

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", alpha=0.5, pseudo_weight=0.1,
                 pseudo_start=0, entropy_weight=0.3, consistency_weight=0.0, classifier_pairs="argmax",
                 dropout=0.5, input_noise=0.3, d_dropout=0.0, d_input_noise=0.3, d_weight_norm=True, d_hidden=256,
                 learning_rate=1e-3, pseudo_real_pairs=True, feature_matching_weight=1.0, semantic_weight=1.0,
                 seed=None, **kwargs):
        super().__init__(input_shape, num_classes, latent_dim=latent_dim, arch=arch, alpha=alpha,
                         pseudo_weight=pseudo_weight, pseudo_start=pseudo_start, entropy_weight=entropy_weight,
                         consistency_weight=consistency_weight, classifier_pairs=classifier_pairs, dropout=dropout,
                         input_noise=input_noise, d_dropout=d_dropout, d_input_noise=d_input_noise,
                         d_weight_norm=d_weight_norm, d_hidden=d_hidden, learning_rate=learning_rate,
                         pseudo_real_pairs=pseudo_real_pairs, seed=seed, **kwargs)
        if feature_matching_weight < 0 or semantic_weight < 0:
            raise ValueError("feature_matching_weight and semantic_weight must be >= 0")
        self.feature_matching_weight = float(feature_matching_weight)
        self.semantic_weight = float(semantic_weight)

    def generator_losses(self, z, y_fake, x, x_labeled, y_labeled):
        x_fake = self.generate(z, y_fake, True)
        adversarial = losses.triple_gan_generator_loss(self.pair_logits(x_fake, y_fake), self.alpha)
        f_unlabeled = self.features(x, training=False)
        y_unlabeled = ops.argmax(self.classifier_head(f_unlabeled), axis=-1)
        f_real = ops.stop_gradient(ops.concatenate([self.features(x_labeled, training=False), f_unlabeled], 0))
        y_real = ops.concatenate([ops.cast(y_labeled, "int32"), ops.cast(y_unlabeled, "int32")], 0)
        f_fake = self.features(x_fake, training=False)
        matching = losses.classwise_feature_matching(f_real, y_real, f_fake, y_fake, self.num_classes)
        semantic = losses.cross_entropy(y_fake, self.classifier_head(f_fake))
        loss = adversarial + self.feature_matching_weight * matching + self.semantic_weight * semantic
        return loss, {"g_loss": loss, "g_feature_matching": matching, "g_semantic": semantic}
