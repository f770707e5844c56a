"""Self-attention GAN: SAGAN (Zhang, Goodfellow, Metaxas & Odena 2019)."""

from __future__ import annotations

import keras

from zoo import nets
from zoo.models.gan.sngan import SNGAN
from zoo.registry import register


@register("sagan")
class SAGAN(SNGAN):
    """SAGAN: self-attention blocks and spectral norm in both nets, the hinge loss, two time-scale updates.

    Zhang et al. 2019. Convolutions see a local neighbourhood, so a GAN
    learns long-range structure only through depth; a self-attention block
    (Sec. 3, Eqs. 1-3, `zoo.layers.SelfAttention2D`) lets every position of
    a feature map read every other, weighted by a softmax over
    f(x_i)^T g(x_j), and adds the result scaled by a learnt gamma that
    starts at 0. The blocks sit in G and in D. Sec. 4 adds two techniques:

    - spectral normalisation (Miyato et al. 2018) in G as well as D, which
      the paper finds makes G's training stable with fewer D steps per G
      step (here 1:1, the paper's);
    - the two time-scale update rule (TTUR, Heusel et al. 2017): D learns
      faster than G, Adam(beta_1 0, beta_2 0.9) at 4e-4 for D and 1e-4 for G.

    The loss is the hinge loss of SNGAN (Eq. 4):

        L_D = E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))),     L_G = -E D(G(z)).

    Deviations: the paper is class-conditional on ImageNet 128x128 (G with
    conditional batch norm, D a projection discriminator, ResNets with the
    attention at 32x32); this `sagan` is the unconditional game on the zoo's
    `sagan` nets, a miniature with the attention at half resolution
    (`zoo.nets.SAGANNet`). The attention maps follow the paper's C / 8
    channels (the authors' code: C / 2 for h and 2x2 max pooling).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z (the paper's 128).
        critic_steps: D steps per G step (1).
        arch: "sagan" (or another architecture whose generator takes spectral norm).
        d_learning_rate, g_learning_rate: TTUR's Adam rates of D and G.
        beta_1, beta_2: Adam's, for both players.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> model = zoo.load("sagan")
        >>> model.fit(zoo.data.load("digits"), epochs=1, batch_size=64, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Zhang et al., "Self-Attention Generative Adversarial Networks", arXiv 1805.08318;
    code: github.com/brain-research/self-attention-gan.
    """

    def __init__(self, input_shape, latent_dim=128, critic_steps=1, arch="sagan", d_learning_rate=4e-4,
                 g_learning_rate=1e-4, beta_1=0.0, beta_2=0.9, latent_distribution="normal", seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, critic_steps=critic_steps, arch=arch,
                         learning_rate=d_learning_rate, beta_1=beta_1, beta_2=beta_2,
                         latent_distribution=latent_distribution, seed=seed, **kwargs)
        self.d_learning_rate, self.g_learning_rate = float(d_learning_rate), float(g_learning_rate)

    def build_generator(self, arch):
        return nets.generator(arch, self.latent_dim, self.image_shape, spectral_norm=True)

    def default_optimizers(self):
        """TTUR: Adam at d_learning_rate for D and g_learning_rate for G."""
        rates = {"d": self.d_learning_rate, "g": self.g_learning_rate}
        return {role: keras.optimizers.Adam(rates[role], beta_1=self.beta_1, beta_2=self.beta_2)
                for role in self.roles}
