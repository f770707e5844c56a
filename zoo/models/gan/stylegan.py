"""Style-based generator: StyleGAN (Karras, Laine & Aila 2019)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.models.gan.progan import ProGAN
from zoo.registry import register


@register("stylegan")
class StyleGAN(ProGAN):
    """StyleGAN: a mapping network to W, styles by AdaIN at every layer, per-layer noise, style mixing.

    Karras et al. 2019. G = g(f(z)): the mapping network f (8 equalised
    dense layers, learning 100x slower, `zoo.nets.style_mapping`) maps z to
    w in an intermediate latent space W; the synthesis network g
    (`zoo.nets.style_synthesis`) starts from a learnt 4x4 constant and, after
    every 3x3 convolution, adds per-pixel noise scaled per channel (Sec. 3.2)
    and applies AdaIN with that layer's style A(w) (Eq. 1, the StyleGAN 1
    design: not StyleGAN 2's modulated convolutions):

        AdaIN(x_i, y) = y_s,i (x_i - mu(x_i)) / sigma(x_i) + y_b,i.

    Style mixing regularisation (Sec. 3.1): for `mixing_probability` (90 %)
    of the batches two latents z1, z2 are mapped and the layers from a
    random crossover point on (among those of the current level) take
    w2's style. The truncation trick in W (Sec. 2.1 and Appendix B):

        w' = w_avg + psi (w - w_avg),

    w_avg a running average of the mapped w during training (decay 0.995),
    applied to the first `truncation_cutoff` (8) layers: `sample(n, psi=0.7)`.

    G and D grow progressively as ProGAN's (StyleGAN 1 did; its D is
    ProGAN's, minibatch standard deviation included), with the schedule and
    the sampling average of G (`ema`) of `progan`. The loss is the FFHQ
    configuration's: the non-saturating logistic loss with the R1 penalty
    on real images (Mescheder et al. 2018), gamma 10:

        L_D = E softplus(D(G(z))) + E softplus(-D(x)) + gamma / 2 E ||grad_x D(x)||^2,
        L_G = E softplus(-D(G(z))),

    Adam(1e-3, beta_1 0, beta_2 0.99, eps 1e-8), 600k images per phase
    (lod_training_kimg = lod_transition_kimg = 600).

    Deviations (small scale): `latent_dim` (the paper's 512) wide mapping
    and styles, `filters` maps (the paper's 512); no bilinear blur around
    resampling; one minibatch size throughout.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z and w.
        mapping_layers: depth of f (8).
        mapping_lr_multiplier: f's learning-rate multiplier (0.01).
        mixing_probability: share of batches with style mixing (0.9).
        w_average_decay: decay of w_avg (0.995).
        truncation_cutoff: the layers truncation applies to (8).
        r1_weight: gamma.
        others: as `progan`.

    Example:
        >>> import zoo
        >>> model = zoo.load("stylegan", images_per_phase=2000)
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=16, verbose=0)
        >>> model.sample(4, psi=0.7).shape
        (4, 8, 8, 1)

    Paper: Karras, Laine & Aila, "A Style-Based Generator Architecture for Generative Adversarial
    Networks", arXiv 1812.04948; code: github.com/NVlabs/stylegan.
    """

    log_names = ("d_loss", "g_loss", "r1_penalty", "resolution", "alpha")

    def __init__(self, input_shape, latent_dim=128, filters=128, images_per_phase=600_000, mapping_layers=8,
                 mapping_lr_multiplier=0.01, mixing_probability=0.9, w_average_decay=0.995, truncation_cutoff=8,
                 r1_weight=10.0, learning_rate=1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8, ema=0.999,
                 group_size=4, seed=None, **kwargs):
        if not 0.0 <= mixing_probability <= 1.0:
            raise ValueError(f"mixing_probability must be in [0, 1]; got {mixing_probability!r}")
        self.mapping_layers, self.mapping_lr_multiplier = int(mapping_layers), float(mapping_lr_multiplier)
        self.mixing_probability, self.w_average_decay = float(mixing_probability), float(w_average_decay)
        self.truncation_cutoff, self.r1_weight = int(truncation_cutoff), float(r1_weight)
        self.psi = 1.0  # set for one sample() call
        super().__init__(input_shape, latent_dim=latent_dim, filters=filters, images_per_phase=images_per_phase,
                         learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, ema=ema,
                         group_size=group_size, seed=seed, **kwargs)
        self.w_average = self.add_weight(shape=(self.latent_dim,), initializer="zeros", trainable=False,
                                         aggregation="only_first_replica", name="w_average")

    def build_nets(self, channels):
        self.mapping = nets.style_mapping(self.latent_dim, layers_=self.mapping_layers,
                                          lr_multiplier=self.mapping_lr_multiplier)
        self.generator_blocks, self.to_rgb = nets.style_synthesis(self.latent_dim, self.levels, channels,
                                                                  filters=self.filters)
        self.from_rgb, self.discriminator_blocks = nets.progressive_discriminator(
            self.levels, channels, filters=self.filters, group_size=self.group_size)

    def role_layers(self):
        return {"d": self.from_rgb + self.discriminator_blocks,
                "g": [self.mapping] + self.generator_blocks + self.to_rgb}

    @property
    def style_layers(self):
        """Layers of g that take a style (two per level)."""
        return 2 * (self.levels + 1)

    # ----------------------------------------------------------------- G's inputs
    def generator_inputs(self, n, seed_generator=None, mixing=None):
        """z, a second z for style mixing, the crossover layer per image, and every layer's noise map.

        The crossover is drawn among the layers of the level being trained (`generate_at` caps it); an
        image that does not mix gets crossover = every layer (w2 never used). `mixing` defaults to
        `mixing_probability` (sampling passes 0)."""
        seed_generator = seed_generator or self.seed_generator
        mixing = self.mixing_probability if mixing is None else mixing
        z, z_mix = self.latent_noise(n, seed_generator), self.latent_noise(n, seed_generator)
        draw = keras.random.uniform((n,), seed=seed_generator)
        position = keras.random.uniform((n,), seed=seed_generator)
        noise = [keras.random.normal((n, 4 * 2 ** (i // 2), 4 * 2 ** (i // 2), 1), seed=seed_generator)
                 for i in range(self.style_layers)]
        return {"z": z, "z_mix": z_mix, "mix": ops.cast(draw < mixing, "float32"), "position": position,
                "noise": noise}

    def styles(self, inputs, level, training=False):
        """w per style layer of the `level`'s 2 (level + 1) layers: f(z), or f(z_mix) from the crossover on;
        truncated towards w_avg by psi in the first `truncation_cutoff` layers."""
        layers_now = 2 * (level + 1)
        w = self.map_latent(inputs["z"], training=training)
        w_mix = self.map_latent(inputs["z_mix"], training=training)
        # crossover in {1, ..., layers_now - 1} where mixing, layers_now (no mixing) elsewhere
        crossover = ops.floor(1.0 + inputs["position"] * (layers_now - 1))
        crossover = ops.where(inputs["mix"] > 0, crossover, float(layers_now))[:, None]
        styles = []
        for i in range(layers_now):
            style = ops.where(float(i) < crossover, w, w_mix)
            if self.psi != 1.0 and i < self.truncation_cutoff:
                style = self.w_average + self.psi * (style - self.w_average)
            styles.append(style)
        return styles, w

    def map_latent(self, z, training=False):
        """w = f(z), float32: under mixed precision f computes in float16, and w meets w_avg, a float32 weight."""
        return ops.cast(self.mapping(z, training=training), "float32")

    def generate_at(self, inputs, level, alpha, training=False):
        if not isinstance(inputs, dict):  # a bare z (`call`): no mixing, fresh noise
            inputs = {**self.generator_inputs(ops.shape(inputs)[0], mixing=0.0), "z": inputs}
        styles, _ = self.styles(inputs, level, training)
        noise = inputs["noise"]
        h = self.generator_blocks[0]([styles[0], styles[1], noise[0], noise[1]], training=training)
        for l in range(1, level + 1):
            previous = h
            h = self.generator_blocks[l]([h, styles[2 * l], styles[2 * l + 1], noise[2 * l], noise[2 * l + 1]],
                                         training=training)
        return self.fade_in(h, previous if level else None, level, alpha, training)

    # ------------------------------------------------------------------ losses
    def discriminator_objective(self, critic, real, fake, epsilon):
        """The logistic loss with R1 on the real images (epsilon, WGAN-GP's interpolation weights, unused)."""
        real_scores, fake_scores = critic(real), critic(fake)
        penalty = losses.r1_penalty(critic, real)
        loss = losses.real_logit_loss(real_scores) + losses.fake_logit_loss(fake_scores) + 0.5 * self.r1_weight * penalty
        return loss, {"d_loss": loss, "r1_penalty": penalty}

    def generator_objective(self, fake_scores):
        """The non-saturating loss, E softplus(-D(G(z)))."""
        return losses.real_logit_loss(fake_scores)

    def after_generator_step(self, inputs):
        """w_avg <- lerp(mean of the G step's w, w_avg, decay) (the code's dlatent_avg)."""
        batch_mean = ops.mean(self.map_latent(inputs["z"]), axis=0)
        self.w_average.assign(batch_mean + (self.w_average - batch_mean) * self.w_average_decay)

    # ---------------------------------------------------------------- sampling
    def sample(self, n, labels=None, seed=None, batch_size=500, psi=1.0):
        """Images as `ZooModel.sample`, without style mixing; `psi` < 1 truncates w towards w_avg in the first
        `truncation_cutoff` layers (psi 1: no truncation, the distribution FID measures)."""
        if not psi >= 0:
            raise ValueError(f"psi must be >= 0; got {psi!r}")
        self.psi = float(psi)
        try:
            return super().sample(n, labels=labels, seed=seed, batch_size=batch_size)
        finally:
            self.psi = 1.0

    def _sample_batch(self, n, labels, seed_generator):
        return self.generate(self.generator_inputs(n, seed_generator, mixing=0.0))
