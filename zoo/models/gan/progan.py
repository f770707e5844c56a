"""Progressive growing of GANs: ProGAN (Karras, Aila, Laine & Lehtinen 2018)."""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf
from keras import ops

from zoo import losses, nets
from zoo.averaging import ExponentialAverage
from zoo.base import NoiseGenerator, ZooModel
from zoo.registry import register


def upsample(x, factor=2):
    """Nearest-neighbour upsampling by `factor` (ProGAN's upscale2d)."""
    return ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2) if factor > 1 else x


def downsample(x, factor=2):
    """`factor` x `factor` average pooling (ProGAN's downscale2d)."""
    return ops.average_pool(x, factor, factor, padding="valid") if factor > 1 else x


def lerp(a, b, t):
    return a + (b - a) * ops.cast(t, a.dtype)


@register("progan")
class ProGAN(NoiseGenerator, ZooModel):
    """ProGAN: G and D grown together from 4x4 to the data's resolution, each new level faded in.

    Karras et al. 2018. Training starts with a 4x4 G and D; each new level
    doubles the side with a block of two 3x3 convolutions on both nets
    (`zoo.nets.progressive_generator`, `progressive_discriminator`). A new
    level is faded in over `images_per_phase` images (Sec. 2, Fig. 2):

        G(z) = (1 - alpha) up(to_rgb_{l-1}(h_{l-1})) + alpha to_rgb_l(h_l),
        D(x) = D_{<l}((1 - alpha) from_rgb_{l-1}(down(x)) + alpha block_l(from_rgb_l(x))),

    alpha rising linearly from 0 to 1, and the real images shown to D are
    blended the same way (up(down(x)) to x); then the level is stabilised
    with alpha = 1 for as many images. The schedule: phase 0 trains 4x4,
    phase 2l - 1 fades level l in, phase 2l stabilises it, and the last
    level trains on. It is counted in images seen (`images_seen`, a weight
    of the model), so `fit` over several calls, `BackupAndRestore` and a
    saved model resume it where it was.

    The paper's other techniques:

    - minibatch standard deviation in D's last block (Sec. 3,
      `zoo.layers.MinibatchStandardDeviation`, groups of 4);
    - equalised learning rate (Sec. 4.1): N(0, 1) weights scaled at run time
      by He's constant (`EqualizedDense`, `EqualizedConv2D`);
    - pixel norm after every convolution of G (Sec. 4.2);
    - the WGAN-GP loss (lambda 10, one D step per G step) with the drift
      term eps_drift E[D(x)^2], eps_drift = 0.001 (Appendix A.1):

          L_D = E D(G(z)) - E D(x) + lambda E (||grad D(x_hat)|| - 1)^2 + eps_drift E D(x)^2,
          L_G = -E D(G(z));

    - Adam(1e-3, beta_1 0, beta_2 0.99, eps 1e-8) for both (A.1), z ~ N(0, I)
      normalised onto the sphere (pixel norm of z);
    - samples from an exponential average of G's weights (decay 0.999, the
      code's Gs), bias-corrected (`zoo.averaging`).

    Images whose side is not 4 * 2^L are padded with -1 (black) to the next
    one (MNIST's 28 to 32, as the issue asks) and samples cropped back; G's
    output is linear, as the paper's, and samples are clipped to [-1, 1].
    A sample is drawn at the current level and upsampled to the data's side.

    Deviations (small scale): `filters` feature maps at 4x4 and 8x8, halving
    above (the paper's 512 up to 32x32); one minibatch size throughout (the
    paper lowers it at high resolutions); the paper's 800k images per phase
    is the default, the recipes use fewer; the gradient penalty sums D's
    scores over the batch before differentiating, so with the minibatch
    standard deviation an image's gradient includes its group's terms, as
    in the code.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z (the paper's 512).
        filters: feature maps of the 4x4 and 8x8 levels.
        images_per_phase: images of each fade-in and each stabilisation (800k).
        gradient_penalty_weight: lambda.
        drift_weight: eps_drift.
        learning_rate, beta_1, beta_2, epsilon: Adam's, both players.
        ema: decay of G's sampling average (None: sample from G itself).
        group_size: the minibatch standard deviation's group.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("progan", images_per_phase=2000)
        >>> model.fit(zoo.data.load("digits"), epochs=2, batch_size=16, verbose=0)
        >>> model.resolution, model.sample(4).shape
        (8, (4, 8, 8, 1))

    Paper: Karras et al., "Progressive Growing of GANs for Improved Quality, Stability, and Variation",
    arXiv 1710.10196; code: github.com/tkarras/progressive_growing_of_gans.
    """

    roles = ("d", "g")
    log_names = ("d_loss", "g_loss", "gradient_penalty", "resolution", "alpha")
    eval_log_names = ("d_loss",)

    def __init__(self, input_shape, latent_dim=128, filters=128, images_per_phase=800_000,
                 gradient_penalty_weight=10.0, drift_weight=1e-3, learning_rate=1e-3, beta_1=0.0, beta_2=0.99,
                 epsilon=1e-8, ema=0.999, group_size=4, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if int(images_per_phase) < 1:
            raise ValueError(f"images_per_phase must be >= 1; got {images_per_phase!r}")
        self.latent_dim, self.filters = int(latent_dim), int(filters)
        self.images_per_phase = int(images_per_phase)
        self.gradient_penalty_weight, self.drift_weight = float(gradient_penalty_weight), float(drift_weight)
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), float(beta_1), float(beta_2)
        self.epsilon, self.group_size = float(epsilon), int(group_size)
        height, width, channels = self.image_shape
        self.levels = nets.progressive_levels(max(height, width))
        self.grown_side = 4 * 2 ** self.levels
        self.build_nets(channels)
        # SUM: under a strategy each replica adds its share of the global batch.
        self.images_seen = self.add_weight(shape=(), initializer="zeros", trainable=False, aggregation="sum",
                                           name="images_seen")
        self.ema = None if ema is None else float(ema)
        self.generator_average = (None if self.ema is None else
                                  ExponentialAverage(self, self.role_variables("g"), self.ema, name="g_average"))
        self._finish_build()

    def build_nets(self, channels):
        """G's per-level blocks and to_rgb layers, D's from_rgb layers and blocks (StyleGAN replaces G)."""
        self.generator_blocks, self.to_rgb = nets.progressive_generator(
            self.latent_dim, self.levels, channels, filters=self.filters)
        self.from_rgb, self.discriminator_blocks = nets.progressive_discriminator(
            self.levels, channels, filters=self.filters, group_size=self.group_size)

    def role_layers(self):
        return {"d": self.from_rgb + self.discriminator_blocks, "g": self.generator_blocks + self.to_rgb}

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2,
                                            epsilon=self.epsilon) for role in self.roles}

    # ------------------------------------------------------------ the schedule
    def schedule(self, images_seen):
        """(level, alpha) after `images_seen` images: level an int32 tensor, alpha a float in [0, 1]."""
        position = ops.cast(images_seen, "float32") / float(self.images_per_phase)
        phase = ops.cast(ops.floor(position), "int32")
        level = ops.minimum((phase + 1) // 2, self.levels)
        fading = ops.logical_and(ops.equal(phase % 2, 1), (phase + 1) // 2 <= self.levels)
        return level, ops.where(fading, position - ops.floor(position), 1.0)

    @property
    def level(self) -> int:
        return int(self.schedule(self.images_seen)[0])

    @property
    def resolution(self) -> int:
        """The side the nets train at now (4 * 2^level, before cropping to the data's)."""
        return 4 * 2 ** self.level

    @property
    def alpha(self) -> float:
        return float(self.schedule(self.images_seen)[1])

    # ------------------------------------------------------ nets at one level
    def generator_inputs(self, n, seed_generator=None):
        """What `generate_at` takes for `n` images, drawn from `seed_generator` (default: the model's): z."""
        return self.latent_noise(n, seed_generator)

    def generate_at(self, z, level, alpha, training=False):
        """G's image at `level` (a Python int): the chain of blocks, the new level faded in by alpha."""
        h = self.generator_blocks[0](z, training=training)
        for l in range(1, level + 1):
            previous, h = h, self.generator_blocks[l](h, training=training)
        return self.fade_in(h, previous if level else None, level, alpha, training)

    def fade_in(self, h, previous, level, alpha, training=False):
        """to_rgb of level `level`'s maps h, blended by alpha with the previous level's, upsampled."""
        image = self.to_rgb[level](h, training=training)
        if level == 0:
            return image
        return lerp(upsample(self.to_rgb[level - 1](previous, training=training)), image, alpha)

    def score_at(self, x, level, alpha, training=False):
        """D's score of level-`level` images, shape (batch,)."""
        h = self.from_rgb[level](x, training=training)
        if level > 0:
            h = self.discriminator_blocks[level](h, training=training)
            h = lerp(self.from_rgb[level - 1](downsample(x), training=training), h, alpha)
        for l in range(level - 1, 0, -1):
            h = self.discriminator_blocks[l](h, training=training)
        return self.discriminator_blocks[0](h, training=training)

    def real_at(self, x, level, alpha):
        """The data's images as D sees them at `level`: padded, pooled to the level's side, and while a level
        fades in, blended from the previous level's (upsampled) by alpha."""
        x = downsample(self.pad(x), 2 ** (self.levels - level))
        return x if level == 0 else lerp(upsample(downsample(x)), x, alpha)

    def pad(self, x):
        height, width, _ = self.image_shape
        if (height, width) == (self.grown_side, self.grown_side):
            return x
        top, left = (self.grown_side - height) // 2, (self.grown_side - width) // 2
        paddings = [[0, 0], [top, self.grown_side - height - top], [left, self.grown_side - width - left], [0, 0]]
        return tf.pad(x, paddings, constant_values=-1.0)

    def crop(self, images):
        height, width, _ = self.image_shape
        top, left = (self.grown_side - height) // 2, (self.grown_side - width) // 2
        return images[:, top:top + height, left:left + width, :]

    def at_level(self, level, branch):
        """`branch(l)` (a function of a Python level) run at the tensor `level`: one graph branch per level, or
        the one level a step is being compiled for under XLA (`_compiled_level`)."""
        if self._compiled_level is not None:
            return branch(self._compiled_level)
        return tf.switch_case(ops.cast(level, "int32"), [lambda l=l: branch(l) for l in range(self.levels + 1)])

    # ------------------------------------------------- XLA: a step per level
    # A switch over every level's branch, differentiated twice by the gradient penalty, takes XLA minutes to
    # compile on CPU (two levels, digits: 507 s at LLVM opt level 0, 1462 s at the default, for two steps);
    # one level's step compiles in 12 s. So under XLA the step is compiled per level, picked before each call
    # by the level the schedule is at (a Python int inside the compiled step); graph mode keeps the switch.
    _compiled_level = None
    compiles_one_step_per_level = True

    @property
    def unconnected_weights_get_zero_gradients(self):
        # The other levels' weights, as the switch's gradient gives them in graph mode.
        return self._compiled_level is not None

    def make_train_function(self, force=False):
        return self._function_per_level("train_function", super().make_train_function, force)

    def make_test_function(self, force=False):
        return self._function_per_level("test_function", super().make_test_function, force)

    def _function_per_level(self, attribute, make, force):
        if not self.jit_compile or self.run_eagerly:
            make(force)
            return getattr(self, attribute)
        if getattr(self, attribute) is not None and not force:
            return getattr(self, attribute)
        if self.steps_per_execution != 1:
            # The level is picked once per call: several steps in one call could cross into the next level.
            raise ValueError(f"{type(self).__name__} under XLA (jit_compile=True) compiles one step per level and "
                             f"picks it before each step: steps_per_execution must be 1, got "
                             f"{self.steps_per_execution}")
        compiled = {}

        def function(iterator):
            level = self.level
            if level not in compiled:
                make(True)  # Keras' make_*_function sets the attribute (and returns nothing in Keras 3.15)
                compiled[level] = getattr(self, attribute)
                setattr(self, attribute, function)
            self._compiled_level = level
            try:
                return compiled[level](iterator)
            finally:
                self._compiled_level = None

        setattr(self, attribute, function)
        return function

    # ------------------------------------------------------------------ losses
    def discriminator_losses(self, x, z, epsilon, level, alpha, training=True):
        def at(l):
            real = self.real_at(x, l, alpha)
            fake = ops.stop_gradient(self.generate_at(z, l, alpha, training=training))
            return self.discriminator_objective(lambda images: self.score_at(images, l, alpha, training), real, fake,
                                                epsilon)

        return self.at_level(level, at)

    def discriminator_objective(self, critic, real, fake, epsilon):
        """D's loss and logs with `critic` (D at one level) on real and fake images: WGAN-GP with the drift
        term (StyleGAN: the logistic loss with R1)."""
        real_scores, fake_scores = critic(real), critic(fake)
        penalty = losses.gradient_penalty(critic, real, fake, epsilon)
        loss = (losses.wasserstein_critic_loss(real_scores, fake_scores) + self.gradient_penalty_weight * penalty
                + self.drift_weight * ops.mean(ops.square(real_scores)))
        return loss, {"d_loss": loss, "gradient_penalty": penalty}

    def generator_losses(self, z, level, alpha):
        def at(l):
            loss = self.generator_objective(self.score_at(self.generate_at(z, l, alpha, training=True), l, alpha,
                                                          training=True))
            return loss, {"g_loss": loss}

        return self.at_level(level, at)

    def generator_objective(self, fake_scores):
        """G's loss from D's scores of its samples: -E D(G(z)) (StyleGAN: non-saturating)."""
        return losses.wasserstein_generator_loss(fake_scores)

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        n = ops.shape(x)[0]
        level, alpha = self.schedule(self.images_seen)
        inputs, epsilon = self.generator_inputs(n), self.uniform((n,))
        _, d_logs = self.minimize("d", lambda: self.discriminator_losses(x, inputs, epsilon, level, alpha))
        g_inputs = self.generator_inputs(n)
        _, g_logs = self.minimize("g", lambda: self.generator_losses(g_inputs, level, alpha))
        self.after_generator_step(g_inputs)
        if self.generator_average is not None:
            self.generator_average.update()
        self.images_seen.assign_add(ops.cast(n, "float32"))
        # The losses averaged over the epoch; the schedule's resolution and alpha as of this step.
        for name in ("resolution", "alpha"):
            self._trackers[name].reset_state()
        return self.track(self.log_names, {**d_logs, **g_logs, "resolution": 4.0 * 2.0 ** ops.cast(level, "float32"),
                                           "alpha": alpha})

    def after_generator_step(self, inputs):
        """A method's own update after G's step on `inputs` (StyleGAN's average of w)."""
        return None  # a body beyond the docstring: AutoGraph cannot convert an empty one (and warns)

    def evaluation_terms(self, x):
        n = ops.shape(x)[0]
        level, alpha = self.schedule(self.images_seen)
        loss, _ = self.discriminator_losses(x, self.generator_inputs(n), self.uniform((n,)), level, alpha,
                                            training=False)
        return {"d_loss": loss}

    # ---------------------------------------------------------------- sampling
    def _sample_batch(self, n, labels, seed_generator):
        return self.generate(self.generator_inputs(n, seed_generator))

    def generate(self, z, training=False):
        """Images at the data's shape from G's inputs z (`generator_inputs`): G at the current level (its average where it keeps one),
        upsampled to the grown side, cropped, clipped to [-1, 1]."""
        level, alpha = self.schedule(self.images_seen)

        def at(l):
            return upsample(self.generate_at(z, l, alpha, training=training), 2 ** (self.levels - l))

        averaged = self.generator_average is not None and not training
        with self.generator_average.scope() if averaged else contextlib.nullcontext():
            images = self.at_level(level, at)
        return ops.clip(self.crop(images), -1.0, 1.0)

    def call(self, z, training=False):
        return self.generate(z, training=training)
