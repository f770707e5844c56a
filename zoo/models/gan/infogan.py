"""InfoGAN (Chen et al. 2016): a GAN whose generator's codes are kept readable from its samples."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from zoo import losses
from zoo.models.gan.gan import ImageGAN
from zoo.registry import register


@register("infogan")
class InfoGAN(ImageGAN):
    """InfoGAN: the GAN game plus a variational lower bound on I(c; G(z, c)).

    Chen et al. 2016. G takes incompressible noise z and a latent code
    c = (c_cat, c_cont): one categorical code of K values and
    `continuous_codes` continuous ones, c_cat ~ Cat(1/K) and c_cont ~ U(-1, 1)
    (the authors' MNIST run: z of 62 from U(-1, 1), K = 10, two continuous
    codes). Maximising I(c; G(z, c)) directly needs the posterior P(c|x), so
    an auxiliary Q(c|x) — a head on D's trunk — gives the lower bound (Lemma
    5.1, Eq. 4)

        L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)} [log Q(c|x)] + H(c)  <=  I(c; G(z, c)),

    and the game is (Eq. 5)

        min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q).

    Q's categorical part is a softmax over K, its continuous part a Gaussian
    of mean mu(x) and fixed unit standard deviation (the code's
    `Uniform(1, fix_std=True)`), so -L_I is a cross-entropy on c_cat plus
    (c_cont - mu)^2 / 2 up to constants. D's step (its trunk, D's head and
    Q's head: Q lives in D's role, as in the code) and G's step both add
    lambda (-L_I) to their GAN losses, D the standard one, G the
    non-saturating one (the code's). lambda = `info_weight`, 1 for both codes
    as the MNIST run. `mutual_information` logs L_I itself, H(c) included
    (log K for c_cat, log 2 per U(-1, 1) code): a lower bound on I(c; x) in
    nats, at most log K + d log 2 (far from it while Q's fixed variance is loose).

    Optimisers as the code: Adam(beta_1 0.5), D 2e-4 and G 1e-3; batch 128.

    Deviations: the code's nets (D: 4x4/2 convs 64 and 128 with batch norm, a
    1024-unit dense layer; Q: 128 units with batch norm; G: dense 1024 and
    7x7x128, two transposed convs, a Bernoulli-mean output) are the zoo's
    `features` / `generator` nets here (conv_small on 8x8 digits, dcgan on
    28x28, batch norm in D's trunk), with Q's 128-unit hidden layer on top
    (batch norm, leaky ReLU) and G's tanh output on [-1, 1] pixels.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of the noise z.
        categories: K, the values of the categorical code (0 for none).
        continuous_codes: the number of U(-1, 1) codes.
        info_weight: lambda.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        discriminator_batch_norm: batch norm in D's trunk (the code's).
        q_units: Q's hidden units.
        d_learning_rate, g_learning_rate, beta_1, beta_2: Adam's.
        latent_distribution: z's: "symmetric_uniform" (U(-1, 1), the code's), "normal" or "uniform".
        seed: seed of the model's noise and codes.

    Example:
        >>> import zoo
        >>> model = zoo.load("infogan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=128, verbose=0)
        >>> model.generate_with_codes(category=[0, 1, 2], continuous=[[-1, 0], [0, 0], [1, 0]]).shape
        (3, 8, 8, 1)

    Paper: Chen et al., "InfoGAN: Interpretable Representation Learning by Information Maximizing
    Generative Adversarial Nets", arXiv 1606.03657; code: github.com/openai/InfoGAN.
    """

    log_names = ("d_loss", "g_loss", "info_loss", "mutual_information")
    eval_log_names = ("d_loss", "mutual_information")

    def __init__(self, input_shape, latent_dim=62, categories=10, continuous_codes=2, info_weight=1.0, arch="auto",
                 discriminator_batch_norm=True, q_units=128, d_learning_rate=2e-4, g_learning_rate=1e-3, beta_1=0.5,
                 beta_2=0.999, latent_distribution="symmetric_uniform", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if int(categories) != categories or categories == 1 or categories < 0:
            raise ValueError(f"categories must be 0 (no categorical code) or an integer >= 2; got {categories!r}")
        if int(continuous_codes) != continuous_codes or continuous_codes < 0:
            raise ValueError(f"continuous_codes must be an integer >= 0; got {continuous_codes!r}")
        if categories + continuous_codes == 0:
            raise ValueError("InfoGAN needs a code: categories >= 2 or continuous_codes >= 1")
        if info_weight < 0:
            raise ValueError(f"info_weight must be >= 0; got {info_weight!r}")
        self.categories, self.continuous_codes = int(categories), int(continuous_codes)
        self.info_weight, self.q_units = float(info_weight), int(q_units)
        self.d_learning_rate, self.g_learning_rate = float(d_learning_rate), float(g_learning_rate)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self._build_image_gan(latent_dim, arch, discriminator_batch_norm, latent_distribution, critic_steps=1)
        width = self.discriminator_features.output.shape[-1]
        self.code_head = keras.Sequential([
            keras.Input(shape=(width,)), layers.Dense(self.q_units, use_bias=False),
            layers.BatchNormalization(synchronized=True),  # the global batch's statistics, as the zoo's nets
            layers.LeakyReLU(0.2), layers.Dense(self.categories + self.continuous_codes, dtype="float32"),
        ], name="q_code")
        self._finish_build()

    @property
    def code_dim(self):
        return self.categories + self.continuous_codes

    def build_generator(self, arch):
        from zoo import nets

        return nets.generator(arch, self.latent_dim + self.code_dim, self.image_shape)

    def role_layers(self):
        return {"d": [self.discriminator_features, self.discriminator_head, self.code_head], "g": [self.generator]}

    def default_optimizers(self):
        rates = {"d": self.d_learning_rate, "g": self.g_learning_rate}
        return {role: keras.optimizers.Adam(rates[role], beta_1=self.beta_1, beta_2=self.beta_2)
                for role in self.roles}

    # --------------------------------------------------------------- codes
    def draw_codes(self, n, seed_generator=None):
        """(c_cat as int32 of shape (n,), c_cont of shape (n, continuous_codes)), from the prior P(c): from the
        model's own seed generator (`draw_labels`, `uniform`) or from `seed_generator`."""
        if seed_generator is None:
            return self.draw_labels(n), self.uniform((n, self.continuous_codes), -1.0, 1.0)
        category = keras.random.randint((n,), 0, max(self.categories, 1), seed=seed_generator, dtype="int32")
        continuous = keras.random.uniform((n, self.continuous_codes), minval=-1.0, maxval=1.0, seed=seed_generator)
        return category, continuous

    def draw_labels(self, n):
        """n categorical codes c_cat ~ Cat(1/K) (zeros where there is no categorical code)."""
        return keras.random.randint((n,), 0, max(self.categories, 1), seed=self.seed_generator, dtype="int32")

    def generator_input(self, z, category, continuous):
        """G's input [z; one-hot c_cat; c_cont]."""
        parts = [z]
        if self.categories:
            parts.append(ops.one_hot(ops.cast(category, "int32"), self.categories, dtype=z.dtype))
        parts.append(ops.cast(continuous, z.dtype))
        return ops.concatenate(parts, axis=-1)

    def code_terms(self, x, category, continuous, training=True):
        """(-L_I without H(c), L_I): Q's cross-entropy on c_cat plus the fixed-variance Gaussian negative
        log-likelihood of c_cont (both means over the batch), and the bound L_I in nats."""
        features = self.discriminator_features(x, training=training)
        q = self.code_head(features, training=training)
        info_loss = ops.zeros(())
        entropy = 0.0
        if self.categories:
            info_loss = info_loss + losses.cross_entropy(category, q[:, :self.categories])
            entropy += math.log(self.categories)
        if self.continuous_codes:
            mean = q[:, self.categories:]
            info_loss = info_loss - ops.mean(losses.gaussian_log_density(continuous, mean, ops.zeros_like(mean)))
            entropy += self.continuous_codes * math.log(2.0)  # H(U(-1, 1)) per code
        return info_loss, entropy - info_loss

    # ---------------------------------------------------------------- steps
    def discriminator_losses(self, x, z, training=True):
        n = ops.shape(x)[0]
        category, continuous = self.draw_codes(n)
        fake = ops.stop_gradient(self.generate(self.generator_input(z, category, continuous), training=training))
        gan_loss = self.d_objective(self.scores(x, training), self.scores(fake, training))
        info_loss, bound = self.code_terms(fake, category, continuous, training)
        return gan_loss + self.info_weight * info_loss, {"d_loss": gan_loss, "info_loss": info_loss,
                                                         "mutual_information": bound}

    def generator_losses(self, z, codes=None):
        category, continuous = self.draw_codes(ops.shape(z)[0]) if codes is None else codes
        fake = self.generate(self.generator_input(z, category, continuous), training=True)
        gan_loss = self.g_objective(self.scores(fake, training=True))
        info_loss, _ = self.code_terms(fake, category, continuous, training=True)
        return gan_loss + self.info_weight * info_loss, {"g_loss": gan_loss}

    def d_objective(self, real_logits, fake_logits):
        return losses.real_logit_loss(real_logits) + losses.fake_logit_loss(fake_logits)

    def g_objective(self, fake_logits):
        return losses.real_logit_loss(fake_logits)  # non-saturating, the code's -log D(G(z, c))

    def evaluation_terms(self, x):
        loss, logs = self.discriminator_losses(x, self.latent_noise(ops.shape(x)[0]), training=False)
        return {"d_loss": logs["d_loss"], "mutual_information": logs["mutual_information"]}

    # ---------------------------------------------------------- capabilities
    def call(self, z, training=False):
        """Images G from G's full input [z; one-hot c_cat; c_cont] (`generator_input`)."""
        return self.generate(z, training=training)

    def _sample_batch(self, n, labels, seed_generator):
        category, continuous = self.draw_codes(n, seed_generator)
        return self.generate(self.generator_input(self.latent_noise(n, seed_generator), category, continuous))

    def _encode_batch(self, x):
        """Q's code of x: [softmax of c_cat's K logits; the means of c_cont]."""
        q = self.code_head(self.discriminator_features(x, training=False), training=False)
        parts = [ops.softmax(q[:, :self.categories], axis=-1)] if self.categories else []
        return ops.concatenate(parts + [q[:, self.categories:]], axis=-1)

    def generate_with_codes(self, category=None, continuous=None, z=None, seed=0):
        """Images for chosen codes (the paper's Fig. 2 traversals): `category` ints (n,), `continuous`
        (n, continuous_codes) in [-1, 1], `z` (n, latent_dim) or None to draw it from `seed`; the n of
        whichever is given, a missing code drawn from its prior."""
        self._require("sample")
        given = [a for a in (category, continuous, z) if a is not None]
        if not given:
            raise ValueError("generate_with_codes needs at least one of category, continuous, z")
        n = len(given[0])
        generator = keras.random.SeedGenerator(seed)
        drawn_category, drawn_continuous = self.draw_codes(n, generator)
        category = drawn_category if category is None else ops.convert_to_tensor(category, "int32")
        if continuous is None:
            continuous = drawn_continuous
        else:
            continuous = ops.reshape(ops.convert_to_tensor(continuous, "float32"), (n, self.continuous_codes))
        z = self.latent_noise(n, generator) if z is None else ops.convert_to_tensor(z, "float32")
        return ops.convert_to_numpy(self.generate(self.generator_input(z, category, continuous)))
