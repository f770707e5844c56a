"""Large-scale class-conditional GAN training at small scale: BigGAN (Brock, Donahue & Simonyan 2019)."""

from __future__ import annotations

import math

import keras
from keras import ops

from zoo import losses, nets
from zoo.models.gan.sngan import SNGANProjection
from zoo.registry import register


@register("biggan")
class BigGAN(SNGANProjection):
    """BigGAN at small scale: SAGAN's conditional game with a shared class embedding, hierarchical latents,
    orthogonal regularisation and the truncation trick.

    Brock et al. 2019 start from SAGAN (spectral norm in G and D, self-attention,
    the hinge loss, a projection D, class-conditional batch norm in G) and add:

    - a shared class embedding: one linear embedding of y feeds every
      conditional batch norm of G, each projecting it to its own gains and
      biases (Sec. 3, "shared embedding");
    - hierarchical latents: z is split into chunks, one into G's first layer
      and one concatenated to the embedding at each block ("skip-z");
      `zoo.nets.biggan_generator`;
    - orthogonal regularisation of G's weights (Eq. 3):
          R_beta(W) = beta ||W^T W (1 - I)||_F^2,   beta = 1e-4
      (`losses.orthogonal_regularization`; the shared embedding left out, as
      the authors' code), which keeps G amenable to truncation;
    - the truncation trick (Sec. 3.1): `sample(..., truncation=t)` draws z
      from N(0, I) truncated to [-t, t], trading variety for fidelity.

    D is the projection discriminator (`sngan_projection`) on SAGAN's trunk
    (the `sagan` nets); settings of the paper's 128x128 runs (Appendix C):
    Adam(beta_1 0, beta_2 0.999), D 2e-4 and G 5e-5, two D steps per G step.

    Deviations: the paper's nets are residual and wide, its batches 2048, and
    it evaluates an exponential average of G's weights (with batch
    statistics recomputed); here plain blocks on 8x8 / 28x28 images
    (attention at half resolution), the zoo's batches, G's own weights.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z (a multiple of 4: four chunks).
        critic_steps: D steps per G step.
        arch: D's trunk ("sagan").
        embedding_dim: width of the shared class embedding.
        orthogonal_weight: beta of Eq. 3.
        d_learning_rate, g_learning_rate, beta_1, beta_2: Adam's.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("biggan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(10, labels=range(10), truncation=0.5).shape
        (10, 8, 8, 1)

    Paper: Brock, Donahue & Simonyan, "Large Scale GAN Training for High Fidelity Natural Image
    Synthesis", arXiv 1809.11096; code: github.com/ajbrock/BigGAN-PyTorch.
    """

    def __init__(self, input_shape, num_classes, latent_dim=64, critic_steps=2, arch="sagan", embedding_dim=32,
                 orthogonal_weight=1e-4, d_learning_rate=2e-4, g_learning_rate=5e-5, beta_1=0.0, beta_2=0.999,
                 seed=None, **kwargs):
        if orthogonal_weight < 0:
            raise ValueError(f"orthogonal_weight must be >= 0; got {orthogonal_weight!r}")
        self.embedding_dim, self.orthogonal_weight = int(embedding_dim), float(orthogonal_weight)
        super().__init__(input_shape, num_classes, latent_dim=latent_dim, critic_steps=critic_steps, arch=arch,
                         learning_rate=d_learning_rate, beta_1=beta_1, beta_2=beta_2, latent_distribution="normal",
                         seed=seed, **kwargs)
        self.d_learning_rate, self.g_learning_rate = float(d_learning_rate), float(g_learning_rate)
        self.truncation = None  # set for one sample() call

    def build_generator(self, arch):
        return nets.biggan_generator(self.latent_dim, self.num_classes, self.image_shape,
                                     embedding_dim=self.embedding_dim)

    def default_optimizers(self):
        rates = {"d": self.d_learning_rate, "g": self.g_learning_rate}
        return {role: keras.optimizers.Adam(rates[role], beta_1=self.beta_1, beta_2=self.beta_2)
                for role in self.roles}

    def regularized_kernels(self):
        """G's weight matrices under Eq. 3: every kernel but the shared embedding's (the code's blacklist)."""
        return [v for v in self.generator.trainable_variables
                if len(v.shape) >= 2 and "shared_embedding" not in v.path]

    def generator_losses(self, z, labels):
        loss, logs = super().generator_losses(z, labels)
        if self.orthogonal_weight:
            loss = loss + self.orthogonal_weight * losses.orthogonal_regularization(self.regularized_kernels())
        return loss, logs

    # ------------------------------------------------------------- sampling
    def sample(self, n, labels=None, seed=None, batch_size=500, truncation=None):
        """Images as `ZooModel.sample`; `truncation=t` draws z from N(0, I) truncated to [-t, t] (Sec. 3.1)."""
        if truncation is not None and not truncation > 0:
            raise ValueError(f"truncation must be > 0 (or None); got {truncation!r}")
        self.truncation = truncation
        try:
            return super().sample(n, labels=labels, seed=seed, batch_size=batch_size)
        finally:
            self.truncation = None

    def _sample_batch(self, n, labels, seed_generator):
        if self.truncation is None:
            z = self.latent_noise(n, seed_generator)
        else:  # inverse CDF of the normal on [Phi(-t), Phi(t)]: exactly N(0, 1) truncated, no resampling loop
            edge = 0.5 * (1.0 + math.erf(-self.truncation / math.sqrt(2.0)))
            u = keras.random.uniform((n, self.latent_dim), minval=edge, maxval=1.0 - edge, seed=seed_generator)
            z = math.sqrt(2.0) * ops.erfinv(2.0 * u - 1.0)
        return self.generate(z, ops.convert_to_tensor(labels, "int32"))
