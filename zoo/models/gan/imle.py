"""Implicit maximum likelihood estimation: IMLE (Li & Malik 2018), an implicit model without a discriminator."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import NoiseGenerator, ZooModel
from zoo.registry import register


@register("imle")
class IMLE(NoiseGenerator, ZooModel):
    """IMLE: every data point pulls the nearest of many samples towards itself.

    Li & Malik 2018. A GAN's G need only cover the modes D rewards; IMLE
    asks the reverse: that every data point x_i have a sample near it. Each
    outer step (Alg. 1) takes a batch S of data points, draws m samples
    x~_j = T_theta(z_j) and picks for each x_i its nearest one,

        sigma(i) = argmin_j ||x_i - x~_j||^2,

    then takes L gradient steps on minibatches S~ of S, with the codes
    z_sigma(i) held fixed and the samples re-drawn through the current G,

        theta <- theta - eta grad (1/|S~|) sum_{i in S~} ||x_i - T_theta(z_sigma(i))||^2.

    Under conditions the paper states (Sec. 3), this maximises the likelihood
    without evaluating it, and no sample is left without a data point nor a
    data point without a sample: no mode collapse by construction.

    Here one `train_step` is one outer step: `"x"` is S (its n images), m =
    `samples_per_example` x n samples, the nearest neighbours found exactly
    (squared Euclidean distances on the pixels, a matrix product), and L =
    `inner_steps` minibatches of n / L. Deviations: the paper searches
    neighbours approximately (DCI) over many more samples and picks m, L and
    the nets per data set; the zoo's generator nets and Adam here.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        samples_per_example: m / n.
        inner_steps: L, gradient steps per neighbour search (n must divide by it).
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        learning_rate: Adam's.
        latent_distribution: "normal", "uniform" or "symmetric_uniform".
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("imle")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Li & Malik, "Implicit Maximum Likelihood Estimation", arXiv 1809.09087.
    """

    roles = ("g",)
    log_names = ("loss", "nearest_distance")
    eval_log_names = ("nearest_distance",)

    def __init__(self, input_shape, latent_dim=32, samples_per_example=10, inner_steps=1, arch="auto",
                 learning_rate=1e-3, latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        for name, value in (("samples_per_example", samples_per_example), ("inner_steps", inner_steps)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        self.latent_dim, self.arch = int(latent_dim), arch
        self.samples_per_example, self.inner_steps = int(samples_per_example), int(inner_steps)
        self.learning_rate = float(learning_rate)
        self._set_latent_distribution(latent_distribution)
        self.generator = nets.generator(nets.resolve_arch(arch, self.image_shape), self.latent_dim, self.image_shape)
        self._finish_build()

    def role_layers(self):
        return {"g": [self.generator]}

    @property
    def updates_per_step(self):
        return {"g": self.inner_steps}

    def default_optimizers(self):
        return {"g": keras.optimizers.Adam(self.learning_rate)}

    def nearest_codes(self, x, z):
        """For each image of `x`, the code among `z` whose sample G(z) is nearest, and that squared distance."""
        distances = losses.pairwise_squared_distances(x, ops.stop_gradient(self.generate(z, training=False)))
        nearest = ops.argmin(distances, axis=1)
        return ops.take(z, nearest, axis=0), ops.min(distances, axis=1)

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        n = x.shape[0]
        if n is not None and n % self.inner_steps:
            raise ValueError(f"imle splits each batch into inner_steps={self.inner_steps} minibatches: the batch "
                             f"size must divide by it (got {n})")
        codes, nearest = self.nearest_codes(x, self.latent_noise(ops.shape(x)[0] * self.samples_per_example))
        for images, z in zip(ops.split(x, self.inner_steps), ops.split(codes, self.inner_steps)):
            loss, _ = self.minimize("g", lambda images=images, z=z: self.pull_loss(images, z))
        return self.track(self.log_names, {"loss": loss, "nearest_distance": ops.mean(nearest)})

    def pull_loss(self, x, z):
        """(1/|S~|) sum_i ||x_i - G(z_sigma(i))||^2 (per image, summed over its pixels)."""
        difference = ops.reshape(x - self.generate(z, training=True), (ops.shape(x)[0], -1))
        loss = ops.mean(ops.sum(ops.square(difference), axis=1))
        return loss, {"loss": loss}

    def evaluation_terms(self, x):
        """The mean squared distance from each held-out image to its nearest of m fresh samples."""
        _, nearest = self.nearest_codes(x, self.latent_noise(ops.shape(x)[0] * self.samples_per_example))
        return {"nearest_distance": ops.mean(nearest)}

    def call(self, z, training=False):
        """Images G(z) from codes z."""
        return self.generate(z, training=training)
