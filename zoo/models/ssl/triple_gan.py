"""Triple-GAN (Li et al. 2017) and Enhanced Triple-GAN (Wu et al. 2019):
a classifier, a conditional generator and a discriminator of (image, label) pairs."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.averaging import ExponentialAverage
from zoo.base import NetClassifier, ZooModel
from zoo.registry import register
from zoo.schedules import ConstantThenExponentialDecay


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

    The paper's MNIST code (`x2y_yz2x_xy2p_ssl_mnist.py`), each piece an
    option (all set by the `triple_gan_mnist_100` recipe):

    * nets `arch="triple_gan_mnist"`: C a five-block batch-norm convnet; D and
      G with y concatenated before every layer (`zoo.nets`);
    * D's real pairs: `d_labeled_pairs` labelled pairs (the code: 1 per step)
      and `d_pseudo_batch` more unlabelled images labelled by C's argmax, from
      a second unlabelled batch (`"x2"`, the code: 400); C's pairs in D are
      the whole unlabelled batch (100);
    * G's batch `generator_batch` with balanced labels (the code: 200);
    * C's loss adds `balance_weight` CE(mean_x p_c(.|x), uniform) (1e-3) and
      `weight_decay` ||W||^2 of its last layer (1e-4);
    * `pretrain_steps` of C alone first (the code: 30 epochs of 500
      unlabelled images, 3,600 steps), with its own Adam ("c_pretrain", lr
      `pretrain_learning_rate` 3e-4, betas (0.9, 0.999), eps 1e-8),
      entropy `pretrain_entropy_weight` 0.3 and balance
      `pretrain_balance_weight` 0.3; its unlabelled batch is `"x"` and `"x2"`
      together (100 + 400 = the code's 500). D and G do not step meanwhile;
    * `ema` d: classify with an exponential moving average of all of C's
      weights, batch-norm statistics included (the code: 0.99, updated at
      every C step, pre-training too; bias-corrected here, `zoo.averaging`);
    * `anneal_start`, `anneal_every`, `anneal_rate`: every rate times 0.995
      after every epoch from epoch 300 (`zoo.schedules`);
    * z ~ U(0, 1) with `latent_distribution="uniform"`.

    Deviations left: each step updates D, then C, then G (the code: D, G,
    C), and C's pseudo term reads the fake batch D saw (the code draws a
    fresh one); pre-training under a `tf.distribute` strategy is not
    supported (it switches phases with a conditional).

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
        pseudo_real_pairs: the paper code's trick (default on): unlabelled
            images labelled by C's argmax join D's real pairs, so D cannot
            call every unlabelled image fake: the `"x2"` batch where
            `d_pseudo_batch` > 0 (the code), else half of the unlabelled
            batch. Off, D's real pairs are the labelled ones alone, D
            memorises them and C's adversarial term drowns its confidence
            (digits-50: 0.648 accuracy vs 0.882 on).
        d_labeled_pairs, d_pseudo_batch, generator_batch, balance_weight,
        weight_decay, pretrain_steps, pretrain_learning_rate,
        pretrain_entropy_weight, pretrain_balance_weight, ema, anneal_start,
        anneal_every, anneal_rate, latent_distribution: the code's pieces
            above (None / 0: off, and the zoo's defaults).
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

    phase_optimizers = {"c_pretrain": "c"}

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", alpha=0.5, pseudo_weight=0.1,
                 pseudo_start=0, entropy_weight=0.3, consistency_weight=0.0, classifier_pairs="argmax",
                 dropout=0.5, input_noise=0.3, d_dropout=0.0, d_input_noise=0.3, d_weight_norm=True, d_hidden=256,
                 learning_rate=1e-3, pseudo_real_pairs=True, d_labeled_pairs=None, d_pseudo_batch=0,
                 generator_batch=None, balance_weight=0.0, weight_decay=0.0, pretrain_steps=0,
                 pretrain_learning_rate=3e-4, pretrain_entropy_weight=0.3, pretrain_balance_weight=0.3, ema=None,
                 anneal_start=None, anneal_every=600, anneal_rate=0.995, latent_distribution="normal", seed=None,
                 **kwargs):
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
        self.d_labeled_pairs = None if d_labeled_pairs is None else int(d_labeled_pairs)
        self.d_pseudo_batch = int(d_pseudo_batch)
        self.generator_batch = None if generator_batch is None else int(generator_batch)
        if self.generator_batch is not None and self.generator_batch % num_classes:
            raise ValueError(f"generator_batch must be a multiple of num_classes ({num_classes}) for balanced "
                             f"labels; got {generator_batch}")
        if min(balance_weight, weight_decay, pretrain_steps, self.d_pseudo_batch) < 0 or (
                self.d_labeled_pairs is not None and self.d_labeled_pairs < 1):
            raise ValueError("balance_weight, weight_decay, pretrain_steps, d_pseudo_batch must be >= 0 and "
                             "d_labeled_pairs >= 1")
        self.balance_weight = float(balance_weight)
        self.weight_decay = float(weight_decay)
        self.pretrain_steps = int(pretrain_steps)
        self.pretrain_learning_rate = float(pretrain_learning_rate)
        self.pretrain_entropy_weight = float(pretrain_entropy_weight)
        self.pretrain_balance_weight = float(pretrain_balance_weight)
        self.ema = None if ema is None else float(ema)
        self.anneal_start = None if anneal_start is None else int(anneal_start)
        self.anneal_every = int(anneal_every)
        self.anneal_rate = float(anneal_rate)
        self._set_latent_distribution(latent_distribution)
        resolved = nets.resolve_arch(arch, self.image_shape)
        # C: exactly the supervised baseline's net (same arch, dropout, input noise).
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, num_classes, dropout=self.dropout, input_noise=self.input_noise,
            prefix="c")
        self.discriminator = nets.pair_discriminator(
            resolved, self.image_shape, num_classes, hidden=self.d_hidden, dropout=self.d_dropout,
            input_noise=self.d_input_noise, weight_norm=self.d_weight_norm, name="discriminator")
        self.generator = nets.conditional_generator(resolved, self.latent_dim, num_classes, self.image_shape)
        self._finish_build()
        # C's average covers all its weights, batch-norm statistics too (the code averages every parameter).
        classifier_state = [v for v in self.features.variables + self.classifier_head.variables
                            if "seed_generator" not in v.path]
        self.weight_average = (ExponentialAverage(self, classifier_state, self.ema, name="c_average")
                               if self.ema is not None else None)

    @property
    def uses_second_unlabeled(self):
        """D's pseudo-labelled real pairs come from a second unlabelled batch of `d_pseudo_batch` images."""
        return self.d_pseudo_batch if self.pseudo_real_pairs else 0

    @property
    def updates_per_step(self):
        # Without pre-training, C's pre-training optimizer never steps.
        return {} if self.pretrain_steps else {"c_pretrain": 0}

    def role_layers(self):
        return {"c": [self.features, self.classifier_head], "d": [self.discriminator], "g": [self.generator]}

    def default_optimizers(self):
        # Li et al. 2017 code (MNIST): Adam, lr 1e-3, beta_1 0.5 for C, D and G, annealed from epoch 300.
        rate = self.learning_rate if self.anneal_start is None else ConstantThenExponentialDecay(
            self.learning_rate, self.anneal_start, self.anneal_every, self.anneal_rate)
        return {role: keras.optimizers.Adam(rate, beta_1=0.5) for role in self.roles}

    def default_phase_optimizers(self):
        # The code's pre-training of C: Adam(3e-4, 0.9, 0.999, 1e-8).
        return {"c_pretrain": keras.optimizers.Adam(self.pretrain_learning_rate, beta_1=0.9, beta_2=0.999,
                                                    epsilon=1e-8)}

    # ----------------------------------------------------------------- nets
    def generate(self, z, labels, training=False):
        return self.generator([z, ops.one_hot(labels, self.num_classes)], training=training)

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
    def discriminator_losses(self, x, x_labeled, y_labeled, x_fake, y_fake, x_pseudo=None):
        """L_D. The unlabelled `x` (and `x_pseudo`) come without labels; C labels them."""
        if self.d_labeled_pairs is not None:
            x_labeled, y_labeled = x_labeled[:self.d_labeled_pairs], y_labeled[:self.d_labeled_pairs]
        real_logits = self.pair_logits(x_labeled, y_labeled)
        if self.pseudo_real_pairs and x_pseudo is not None:
            # The code: a second unlabelled batch, labelled by C's argmax, joins the real pairs.
            y_pseudo = ops.argmax(self.logits(x_pseudo, training=True), axis=-1)
            real_logits = ops.concatenate([real_logits, self.pair_logits(x_pseudo, y_pseudo)], 0)
        elif self.pseudo_real_pairs:
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
        loss += self._classifier_regularizers(logits, self.balance_weight)
        if self.consistency_weight:
            loss += self.consistency_weight * losses.consistency(logits, self.logits(x, training=True))
        return loss, {"c_loss": loss, "c_supervised": supervised, "c_adversarial": adversarial,
                      "c_pseudo": pseudo, "c_entropy": entropy}

    def generator_losses(self, z, y_fake, x, x_labeled, y_labeled):
        """L_G (the images are for subclasses that match statistics of real data)."""
        loss = losses.triple_gan_generator_loss(self.pair_logits(self.generate(z, y_fake, True), y_fake), self.alpha)
        return loss, {"g_loss": loss}

    def _classifier_regularizers(self, logits, balance_weight):
        """balance * CE(mean_x p_c(.|x), uniform) + weight_decay * ||W||^2 of C's last layer (the code's
        `categorical_crossentropy_ssl_separated` terms besides the labelled CE and the entropy)."""
        total = ops.zeros(())
        if balance_weight:
            mean_p = losses.batch_mean(ops.softmax(logits, axis=-1))
            total += balance_weight * -ops.mean(ops.log(mean_p + 1e-8))
        if self.weight_decay:
            total += self.weight_decay * ops.sum(ops.square(self.classifier_head.kernel))
        return total

    def pretrain_losses(self, x, x_labeled, y_labeled):
        """C alone on the labels, with entropy and balance on the unlabelled `x` (the code's pre-training)."""
        logits = self.logits(x, training=True)
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, training=True))
        entropy = losses.entropy(logits)
        loss = (supervised + self.pretrain_entropy_weight * entropy
                + self._classifier_regularizers(logits, self.pretrain_balance_weight))
        return loss, {"c_loss": loss, "c_supervised": supervised, "c_entropy": entropy}

    # ------------------------------------------------------------------ step
    def draw_labels(self, n):
        return keras.random.randint((n,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")

    def generator_labels(self, n):
        """G's labels: `generator_batch` balanced ones (the code's repeat(arange(K), ...)), else n uniform."""
        if self.generator_batch is None:
            return self.draw_labels(n)
        return ops.repeat(ops.arange(self.num_classes, dtype="int32"), self.generator_batch // self.num_classes)

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        x_pseudo = batch.get("x2") if self.d_pseudo_batch else None
        if not self.pretrain_steps:
            logs = self._game_step(x, x_labeled, y_labeled, x_pseudo)
        else:
            x_pretrain = x if x_pseudo is None else ops.concatenate([x, x_pseudo], 0)
            logs = ops.cond(self.role_optimizers["c_pretrain"].iterations < self.pretrain_steps,
                            lambda: self._pretrain_step(x_pretrain, x_labeled, y_labeled),
                            lambda: self._game_step(x, x_labeled, y_labeled, x_pseudo))
        return self.track(self.log_names, logs)

    def _pretrain_step(self, x, x_labeled, y_labeled):
        _, logs = self.minimize("c_pretrain", lambda: self.pretrain_losses(x, x_labeled, y_labeled))
        if self.weight_average is not None:
            self.weight_average.update()
        return {name: logs.get(name, ops.zeros(())) for name in self.log_names}

    def _game_step(self, x, x_labeled, y_labeled, x_pseudo):
        n = ops.shape(x)[0]
        n_g = n if self.generator_batch is None else self.generator_batch
        y_fake = self.generator_labels(n_g)
        x_fake = ops.stop_gradient(self.generate(self.latent_noise(n_g), y_fake, training=True))
        pseudo_on = ops.cast(self.role_optimizers["c"].iterations >= self.pseudo_start, "float32")
        _, d_logs = self.minimize(
            "d", lambda: self.discriminator_losses(x, x_labeled, y_labeled, x_fake, y_fake, x_pseudo))
        _, c_logs = self.minimize(
            "c", lambda: self.classifier_losses(x, x_labeled, y_labeled, x_fake, y_fake, pseudo_on))
        if self.weight_average is not None:
            self.weight_average.update()
        y_g = self.generator_labels(n_g)
        _, g_logs = self.minimize(
            "g", lambda: self.generator_losses(self.latent_noise(n_g), y_g, x, x_labeled, y_labeled))
        return {**d_logs, **c_logs, **g_logs}

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        z = self.latent_noise(n, seed_generator)
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
