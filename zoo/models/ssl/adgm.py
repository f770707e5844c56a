"""Auxiliary deep generative models (Maaløe et al. 2016): ADGM and its skip variant SDGM."""

from __future__ import annotations

import math

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import expand_classes, reparameterize, split_gaussian
from zoo.models.ssl.ssl_vae import dense_net, flat_trunk
from zoo.registry import register

SAMPLE_BOUNDS = ("mean", "importance_weighted")


@register("adgm")
class ADGM(ZooModel):
    """Auxiliary deep generative model: M2 with an auxiliary variable a that makes q richer.

    Inference model (Maaløe et al. 2016, Fig. 1):
        q(a, y, z | x) = q(a|x) q(y|a, x) q(z|a, y, x),  Gaussian a and z, categorical y.
    Generative model:
        ADGM:  p(x, y, z, a) = p(a|x, y, z) p(x|y, z) p(y) p(z)
        SDGM:  p(x, y, z, a) = p(x|a, y, z) p(a|y, z) p(y) p(z)   (a generated first, skip to x)
    with p(y) = Cat(1/K), p(z) = N(0, I), Bernoulli p(x|.) on pixels in [0, 1].

    Labelled bound, with a ~ q(a|x), z ~ q(z|a, y, x) reparameterised:
        L(x, y) = E[log p(x|.) + log p(y) + beta (log p(a|.) - log q(a|x) - KL(q(z|a,y,x) || p(z)))]
    Unlabelled bound, y summed exactly over the K classes given each a:
        U(x) = E_q(a|x)[ sum_y q(y|a,x) (L(x, y, a) + beta log q(a|x)) + H(q(y|a,x)) - beta log q(a|x) ]
    Objective, weighted as Maaløe et al.'s code (`sdgmssl.py`): the labelled
    and unlabelled batch means alike, beta n / n_l = 0.1 N / N_l on the mean
    cross-entropy (`alpha`, 60 for MNIST-100; the "equal" weighting of
    `zoo.models.ssl.ssl_vae.M2`, which also has Kingma's Eq. 9 weighting):

        loss = -mean_l L - mean_u U + alpha mean_l [-log q(y|a, x)],  a ~ q(a|x)

    The classifier q(y|a, x): a enters its first hidden layer beside x
    (features of x and a concatenated, then a hidden layer of `hidden` units),
    so q(y|.) depends on a non-linearly, as Maaløe's code (W_a a + W_x x,
    batch norm, ReLU, then a second 500-unit layer): the auxiliary variable
    is what makes the classifier richer than M2's.

    Pixels: `binarize="dynamic"` re-draws both training batches from
    Bernoulli(x) every step (`zoo.losses.binarize_dynamically`), as Maaløe's
    code (`_srng.binomial` on the labelled and unlabelled batches); the test
    images stay grey.

    Nets: `reference_nets=True` builds Maaløe's: every distribution an MLP of
    two hidden layers of `hidden` units (Dense, batch norm, ReLU) reading the
    flattened x and its other inputs at the first layer: q(a|x), q(y|a,x),
    q(z|a,x,y), p(a|x,y,z) (ADGM) or p(a|y,z) (SDGM), p(x|.) with a Bernoulli
    output. Otherwise one `zoo.nets` trunk per distribution that sees x,
    with `zoo.nets.vector_mlp` heads of `hidden` softplus units.

    Optimiser: Adam (lr 3e-4, beta 0.9 / 0.999); `decay_every` > 0 steps
    multiplies the learning rate by `decay_rate` every `decay_every` steps,
    down to `min_learning_rate` (Maaløe: x0.75 every 200 epochs, floor 3e-5);
    `clip_norm` clips the gradient's global norm (Maaløe: 5, then every
    element to +-1, which Keras' optimizers cannot chain: the elementwise
    clip is left out).

    Choices (the paper's text leaves them open or we chose for speed):
    * the KL of z is taken in closed form given a (it is the expectation of
      log p(z) - log q(z|a,y,x) the paper samples); the terms of a are sampled;
    (Equation numbers of Maaløe et al. are not cited: we could not check them
    offline; the bounds are the paper's, written out in full above.)

    * warm-up (Sønderby et al. 2016, arXiv 1602.02282): beta rises linearly
      from 0 to 1 over `warmup_steps` optimizer steps on the latent terms
      (a and z); the log-likelihood, log p(y) and H(q(y|a,x)) are never
      scaled. Maaløe's released SDGM script uses none (0 here by default);
    * `samples` S > 1 draws of a (and z) per example: `sample_bound="mean"`
      averages the S one-sample bounds (Maaløe's code: `eq_samples=5`,
      density layers meaned over the sample axes), "importance_weighted"
      takes log (1/S) sum_s exp(bound_s) (Burda et al. 2015), also a valid
      bound since each bound_s <= log p(x, a_s) / q(a_s|x); the cross-entropy
      is averaged over the draws either way;
    * `classify` uses q(y | a = E q(a|x), x) (deterministic, so a saved model
      classifies exactly as before; Maaløe's code averages q(y|a_s, x) over
      sampled a_s); training samples a.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z (paper: 100).
        aux_dim: size of a (paper: 100).
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES`.
        hidden: units of the hidden layer of every head (paper: 500 in 2 layers,
            the `reference_nets`).
        width: width multiplier of the trunks and decoder (not with `reference_nets`).
        alpha: weight of the mean classification loss.
        warmup_steps: steps of the linear KL warm-up (0: none).
        samples: draws of a per example.
        sample_bound: how `samples` > 1 bounds combine: "mean" or "importance_weighted".
        binarize: None (grey levels as Bernoulli targets) or "dynamic".
        reference_nets: Maaløe's nets (see above) instead of `arch`'s.
        decay_every, decay_rate, min_learning_rate: the step decay of the
            learning rate (`decay_every` 0: constant).
        clip_norm: global-norm gradient clipping (None: none).
        dropout, input_noise: regularisers of the classifier's trunk.
        learning_rate: Adam's learning rate (paper: 3e-4).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("adgm", input_shape=data.input_shape, num_classes=10, alpha=2.6, latent_dim=8,
        ...                  aux_dim=8, hidden=64)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.classify(data.x_test[:4]).shape, model.sample(10, labels=range(10)).shape
        ((4, 10), (10, 8, 8, 1))

    Paper: Maaløe, Sønderby, Sønderby, Winther, "Auxiliary Deep Generative
    Models", ICML 2016, arXiv 1602.05473.
    """

    roles = ("vae",)
    log_names = ("loss", "labeled_bound", "unlabeled_bound", "classification", "beta")
    eval_log_names = ("elbo",)
    conditional = True
    skip = False

    def __init__(self, input_shape, num_classes, latent_dim=100, aux_dim=100, arch="auto", hidden=500, width=1.0,
                 alpha=60.0, warmup_steps=0, samples=1, dropout=0.0, input_noise=0.0, learning_rate=3e-4,
                 sample_bound="mean", binarize=None, reference_nets=False, decay_every=0, decay_rate=0.75,
                 min_learning_rate=3e-5, clip_norm=None, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if alpha < 0 or warmup_steps < 0 or int(samples) != samples or samples < 1:
            raise ValueError(f"need alpha >= 0, warmup_steps >= 0, integer samples >= 1; got {alpha}, "
                             f"{warmup_steps}, {samples}")
        if sample_bound not in SAMPLE_BOUNDS:
            raise ValueError(f"sample_bound must be one of {SAMPLE_BOUNDS}; got {sample_bound!r}")
        if decay_every < 0 or not 0 < decay_rate <= 1 or (clip_norm is not None and clip_norm <= 0):
            raise ValueError(f"need decay_every >= 0, 0 < decay_rate <= 1, clip_norm > 0 or None; got "
                             f"{decay_every}, {decay_rate}, {clip_norm}")
        self.sample_bound = sample_bound
        self.binarize = losses.binarization(binarize)
        self.reference_nets = bool(reference_nets)
        self.decay_every, self.decay_rate = int(decay_every), float(decay_rate)
        self.min_learning_rate = float(min_learning_rate)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.latent_dim, self.aux_dim = int(latent_dim), int(aux_dim)
        self.arch, self.hidden, self.width = arch, int(hidden), float(width)
        self.alpha, self.warmup_steps, self.samples = float(alpha), int(warmup_steps), int(samples)
        self.dropout, self.input_noise = float(dropout), float(input_noise)
        self.learning_rate = float(learning_rate)
        k, a_dim, z_dim = self.num_classes, self.aux_dim, self.latent_dim
        if self.reference_nets:  # Maaløe's: no trunk, every net 2 x `hidden` (Dense, batch norm, ReLU)
            units = [self.hidden] * 2

            def trunk(name, **kw):
                return flat_trunk(self.image_shape, name)

            def head(input_dim, output_shape, name):
                return dense_net(input_dim, units, output_shape, activation="relu", batch_norm=True, name=name)
        else:
            resolved = nets.resolve_arch(arch, self.image_shape)

            def trunk(name, **kw):
                return nets.features(resolved, self.image_shape, width=self.width, name=name, **kw)

            def head(input_dim, output_dim, name):
                return nets.vector_mlp(input_dim, [self.hidden], output_dim, activation="softplus", name=name)

        self.q_a_features = trunk("q_a_features")
        f = self.q_a_features.output.shape[-1]
        self.q_a_head = head(f, 2 * a_dim, "q_a")
        self.classifier = trunk("c_features", dropout=self.dropout, input_noise=self.input_noise)
        if self.reference_nets and (self.dropout or self.input_noise):
            raise ValueError("reference_nets has no dropout or input noise (Maaløe's nets have none)")
        # q(y|a, x): a enters the first hidden layer with x's features, so q(y|.) is non-linear in a.
        self.classifier_head = head(f + a_dim, k, "c_logits")
        self.q_z_features = trunk("q_z_features")
        self.q_z_head = head(f + a_dim + k, 2 * z_dim, "q_z")
        if self.skip:  # p(a|y, z)
            self.p_a_features = None
            self.p_a_head = head(k + z_dim, 2 * a_dim, "p_a")
        else:  # p(a|x, y, z)
            self.p_a_features = trunk("p_a_features")
            self.p_a_head = head(f + k + z_dim, 2 * a_dim, "p_a")
        decoder_in = z_dim + k + (a_dim if self.skip else 0)
        if self.reference_nets:
            self.decoder = head(decoder_in, self.image_shape, "decoder")
        else:
            self.decoder = nets.generator(resolved, decoder_in, self.image_shape, output_activation=None,
                                          width=self.width, name="decoder")
        self._finish_build()

    def role_layers(self):
        nets_ = [self.q_a_features, self.q_a_head, self.classifier, self.classifier_head, self.q_z_features,
                 self.q_z_head, self.p_a_head, self.decoder]
        return {"vae": nets_ + ([self.p_a_features] if self.p_a_features is not None else [])}

    def default_optimizers(self):
        # Maaløe et al. 2016 (run_mnist.py): Adam, learning rate 3e-4, beta_1 0.9, beta_2 0.999, the rate
        # annealed x0.75 every 200 epochs down to 3e-5, gradients clipped to global norm 5.
        return {"vae": keras.optimizers.Adam(self.learning_rate_schedule(), beta_1=0.9, beta_2=0.999,
                                             global_clipnorm=self.clip_norm)}

    def learning_rate_schedule(self):
        """The learning rate, or its step decay: x`decay_rate` every `decay_every` steps, floored."""
        if not self.decay_every:
            return self.learning_rate
        values, rate = [self.learning_rate], self.learning_rate
        while rate * self.decay_rate > self.min_learning_rate:
            rate *= self.decay_rate
            values.append(rate)
        values.append(self.min_learning_rate)
        boundaries = [self.decay_every * i for i in range(1, len(values))]
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)

    # ------------------------------------------------------------ the bounds
    def auxiliary(self, x, noise, training=False, q_a_features=None):
        """a ~ q(a|x) (a = mean when `noise` is None), log q(a|x), and the logits of q(y|a, x).
        `q_a_features`: q(a|x)'s trunk on x, where the caller has it already."""
        if q_a_features is None:
            q_a_features = self.q_a_features(x, training=training)
        mean, log_var = split_gaussian(self.q_a_head(q_a_features, training=training))
        a = mean if noise is None else reparameterize(mean, log_var, noise)
        logits = self.classifier_head(ops.concatenate([self.classifier(x, training=training), a], axis=-1))
        return a, losses.gaussian_log_density(a, mean, log_var), logits

    def _trunk_features(self, x, draws, training):
        """The trunks of q(a|x), q(z|a, y, x) and p(a|x, y, z) (None for the SDGM) on x, run once per image
        and tiled over the `draws` draws of a: none of them sees a, y or z or has dropout, so running them
        on the tiled (S * K * n) rows would give the same values at S * K times the cost."""
        nets_ = (self.q_a_features, self.q_z_features, self.p_a_features)
        return [None if net is None else ops.tile(net(x, training=training), (draws, 1)) for net in nets_]

    def _class_terms(self, x, q_z_features, p_a_features, a, onehot, noise_z, beta, analytic, training):
        """log p(x|.) + log p(y) + beta (log p(a|.) + log p(z) - log q(z|.)) per row; the `*_features`
        are the trunks' outputs on the rows' images (`_trunk_features`)."""
        q_z = self.q_z_head(ops.concatenate([q_z_features, a, onehot], -1), training=training)
        mean, log_var = split_gaussian(q_z)
        z = reparameterize(mean, log_var, noise_z)
        if self.skip:
            p_a_in = ops.concatenate([onehot, z], -1)
            decoder_in = ops.concatenate([z, onehot, a], -1)
        else:
            p_a_in = ops.concatenate([p_a_features, onehot, z], -1)
            decoder_in = ops.concatenate([z, onehot], -1)
        log_pa = losses.gaussian_log_density(a, *split_gaussian(self.p_a_head(p_a_in, training=training)))
        log_px = losses.bernoulli_log_likelihood((x + 1.0) / 2.0, self.decoder(decoder_in, training=training))
        if analytic:
            latent_z = -losses.gaussian_kl(mean, log_var)
        else:
            latent_z = losses.standard_normal_log_density(z) - losses.gaussian_log_density(z, mean, log_var)
        return log_px - math.log(self.num_classes) + beta * (log_pa + latent_z)

    def labeled_bound(self, x, y, noise_a, noise_z, beta=1.0, training=False):
        """L(x, y) per example and the logits of q(y|a, x) of every draw.

        noise_a: (S, n, aux_dim); noise_z: (S, n, latent_dim).
        """
        s, n = ops.shape(noise_a)[0], ops.shape(x)[0]
        x_s = ops.tile(x, (s, 1, 1, 1))
        q_a_features, q_z_features, p_a_features = self._trunk_features(x, s, training)
        a, log_qa, logits = self.auxiliary(x_s, ops.reshape(noise_a, (s * n, self.aux_dim)), training, q_a_features)
        onehot = ops.one_hot(ops.tile(ops.cast(y, "int32"), (s,)), self.num_classes)
        terms = self._class_terms(x_s, q_z_features, p_a_features, a, onehot,
                                  ops.reshape(noise_z, (s * n, self.latent_dim)), beta, True, training)
        return self.combine_samples(ops.reshape(terms - beta * log_qa, (s, n))), logits

    def combine_samples(self, bounds):
        """One bound per example from the (S, n) bounds of S draws (`sample_bound`)."""
        if self.sample_bound == "mean":
            return ops.mean(bounds, axis=0)
        return losses.importance_weighted_bound(bounds)

    def _all_class_terms(self, x, noise_a, noise_z, beta, analytic, training):
        """Per draw of a: terms of every class (S*n, K), logits (S*n, K), log q(a|x) (S*n,). No label enters."""
        s, n, k = ops.shape(noise_a)[0], ops.shape(x)[0], self.num_classes
        x_s = ops.tile(x, (s, 1, 1, 1))
        q_a_features, q_z_features, p_a_features = self._trunk_features(x, s, training)
        a, log_qa, logits = self.auxiliary(x_s, ops.reshape(noise_a, (s * n, self.aux_dim)), training, q_a_features)
        if p_a_features is None:
            onehot, (x_k, q_z_k, a_k) = expand_classes(k, x_s, q_z_features, a)
            p_a_k = None
        else:
            onehot, (x_k, q_z_k, p_a_k, a_k) = expand_classes(k, x_s, q_z_features, p_a_features, a)
        noise_z = ops.reshape(noise_z, (k * s * n, self.latent_dim))
        terms = self._class_terms(x_k, q_z_k, p_a_k, a_k, onehot, noise_z, beta, analytic, training)
        return ops.transpose(ops.reshape(terms, (k, s * n))), logits, log_qa

    def unlabeled_bound(self, x, noise_a, noise_z, beta=1.0, training=False):
        """U(x) per example; noise_a: (S, n, aux_dim), noise_z: (K, S, n, latent_dim). No label enters."""
        s, n = ops.shape(noise_a)[0], ops.shape(x)[0]
        terms, logits, log_qa = self._all_class_terms(x, noise_a, noise_z, beta, True, training)
        per_draw = losses.marginalized_bound(logits, terms) - beta * log_qa
        return self.combine_samples(ops.reshape(per_draw, (s, n)))

    def _noise(self, n, samples, all_classes):
        shape_z = ((self.num_classes,) if all_classes else ()) + (samples, n, self.latent_dim)
        return self.normal((samples, n, self.aux_dim)), self.normal(shape_z)

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        if self.binarize == "dynamic":  # both batches, as Maaløe's code
            x = losses.binarize_dynamically(x, self.seed_generator)
            x_labeled = losses.binarize_dynamically(x_labeled, self.seed_generator)
        noise_l = self._noise(ops.shape(x_labeled)[0], self.samples, False)
        noise_u = self._noise(ops.shape(x)[0], self.samples, True)
        beta = losses.linear_warmup(self.role_optimizers["vae"].iterations, self.warmup_steps)

        def loss_fn():
            labeled, logits = self.labeled_bound(x_labeled, y_labeled, *noise_l, beta, training=True)
            labeled = ops.mean(labeled)
            unlabeled = ops.mean(self.unlabeled_bound(x, *noise_u, beta, training=True))
            classification = losses.cross_entropy(ops.tile(y_labeled, (self.samples,)), logits)
            loss = -(labeled + unlabeled) + self.alpha * classification
            return loss, {"loss": loss, "labeled_bound": labeled, "unlabeled_bound": unlabeled,
                          "classification": classification, "beta": ops.convert_to_tensor(beta, "float32")}

        _, logs = self.minimize("vae", loss_fn)
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        return {"elbo": self._elbo_batch(x)}

    def call(self, x, training=False):
        """Class probabilities q(y | a = E q(a|x), x)."""
        return ops.softmax(self.auxiliary(x, None, training)[2])

    # ------------------------------------------------------------ capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

    def _sample_batch(self, n, labels, seed_generator):
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        onehot = ops.one_hot(ops.convert_to_tensor(labels, "int32"), self.num_classes)
        decoder_in = ops.concatenate([z, onehot], -1)
        if self.skip:  # a ~ p(a|y, z), then x ~ p(x|a, y, z)
            mean, log_var = split_gaussian(self.p_a_head(decoder_in))
            a = reparameterize(mean, log_var, keras.random.normal((n, self.aux_dim), seed=seed_generator))
            decoder_in = ops.concatenate([decoder_in, a], -1)
        return 2.0 * ops.sigmoid(self.decoder(decoder_in, training=False)) - 1.0

    def _elbo_batch(self, x):
        return self.unlabeled_bound(x, *self._noise(ops.shape(x)[0], 1, True))

    def log_prob(self, x, k=5000, batch_size=None):
        """Importance-sampled log p(x), batched over K * k passes (see `_log_prob_batch`)."""
        self._require("log_prob")
        return super().log_prob(x, k, batch_size or max(1, 5_000 // (int(k) * self.num_classes)))

    def _log_prob_batch(self, x, k):
        """log p(x) ~= log (1/k) sum_s sum_y p(x, y, a_s, z_sy) / (q(a_s|x) q(z_sy|a_s, y, x)):
        k draws of a from q(a|x), the class summed exactly, one z per draw and class."""
        n = ops.shape(x)[0]
        terms, _, log_qa = self._all_class_terms(x, *self._noise(n, k, True), 1.0, False, False)
        log_w = ops.logsumexp(terms, axis=-1) - log_qa
        return losses.importance_weighted_bound(ops.reshape(log_w, (k, n)))


@register("sdgm")
class SDGM(ADGM):
    """Skip deep generative model: the ADGM whose a is generated first, p(x|a, y, z) p(a|y, z).

    Maaløe et al. 2016: a two-stochastic-layer model; the inference
    model is the ADGM's, the generative model is
    p(x, y, z, a) = p(x|a, y, z) p(a|y, z) p(y) p(z), so sampling draws
    z, then a ~ p(a|y, z), then x. Everything else (bounds, warm-up,
    arguments) is `ADGM`'s; see its docstring.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("sdgm", input_shape=data.input_shape, num_classes=10, alpha=2.6, latent_dim=8,
        ...                  aux_dim=8, hidden=64)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Maaløe et al., "Auxiliary Deep Generative Models", arXiv 1602.05473.
    """

    skip = True
