"""VAEs whose decoder is autoregressive over pixels: PixelVAE (Gulrajani et al. 2016) and the Variational
Lossy Autoencoder (Chen et al. 2016).

Both papers keep the VAE's bound (Kingma & Welling 2013, Eq. 10) and replace its factorised decoder by a
PixelCNN conditioned on the latent z:

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z)),
    p(x|z)  = prod_i p(x_i | x_1, ..., x_{i-1}, z)                       (PixelVAE, Sec. 2; VLAE, Sec. 3)

PixelVAE's point: the autoregressive decoder models the local detail (textures, strokes) that a factorised
decoder blurs, so z can be small and a few PixelCNN layers suffice. VLAE's point (Sec. 3.1-3.2): a decoder
that can model everything leaves z unused (the KL goes to 0, the "posterior collapse" the paper explains
with Bits-Back coding); a decoder whose receptive field is a small local window cannot model the image's
global structure, so that structure must go through z: a "lossy" code of the global content, with the
local detail left to the decoder. VLAE also learns the prior: an autoregressive flow (AF) prior,
p(z) = N(f(z); 0, I) |det df/dz| with f a masked autoregressive transform (Sec. 3.3: an AF prior gives the
same bound as an inverse autoregressive flow on the posterior, and is cheap to evaluate in the density
direction). Then the KL has no closed form and is estimated from the posterior sample:

    KL(q(z|x) || p(z)) ~ log q(z|x) - log p(z),  z ~ q(z|x).

Both classes share `AutoregressiveVAE`: one skeleton, the decoder's depth (hence its window) and the prior
being constructor arguments, so that the two registered methods differ only in their papers' defaults and
either can be run with the other's choices (a PixelVAE with an AF prior, a VLAE with a Gaussian one) to
separate the effects.
"""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.bijectors import MaskedAutoregressiveTransform
from zoo.layers import reparameterize
from zoo.models.likelihood.pixelcnn import binary_raster_sampler, binary_raster_uniforms, gated_pixelcnn_net
from zoo.models.likelihood.vae import VAE
from zoo.registry import register

PRIORS = ("gaussian", "flow")


class AutoregressiveVAE(VAE):
    """A VAE with a Gated PixelCNN decoder conditioned on z (the shared skeleton of `pixelvae` and `vlae`).

    * Encoder q(z|x) = N(mu(x), diag sigma^2(x)): the zoo's VAE encoder (`zoo.nets.features` of `arch`
      and a dense head).
    * Decoder p(x|z) = prod_i Bernoulli(x_i; sigmoid(logit_i(x_<i, z))): z goes through the VAE decoder's
      net of `arch` (`zoo.nets.generator`) to a feature map s(z) of the image's size, and `decoder_layers`
      gated layers (`zoo.models.likelihood.pixelcnn.GatedStacks` with kernel `kernel_size`) add a 1x1
      convolution of s(z) to their gates. Single-channel binary pixels, as the zoo's PixelCNNs.
    * Prior: N(0, I) (`prior="gaussian"`, KL in closed form) or VLAE's AF prior (`prior="flow"`:
      `prior_flows` masked autoregressive transforms of `zoo.bijectors`, orders alternating, each starting
      as the identity; KL estimated from the posterior sample).

    The decoder's receptive field (`receptive_field`): with L layers of kernel k (r = k // 2), the logit of
    pixel (i, j) reads the L r + 1 rows above it over columns j - L r .. j + L r, and the L r + 1 pixels
    left of it in its row; nothing else (tests/test_autoregressive_vae.py checks it by gradients).

    Pixels are scored as Bernoulli on [0, 1]; with `binarize="dynamic"` (the default) each training step
    draws fresh binary pixels (`zoo.losses.binarize_dynamically`), so the decoder is trained on the binary
    images it samples. Logs `loss`, `reconstruction` (E log p(x|z)), `kl` in training; `evaluate` logs
    `elbo`, `reconstruction`, `kl` (nats per image). Capabilities: `elbo`, `log_prob` (importance sampled,
    the VAE's), `encode` (posterior mean), `sample` (z from the prior, then pixels one at a time through
    a traced decoder, in [-1, 1]).
    """

    def __init__(self, input_shape, latent_dim=16, arch="auto", decoder_filters=32, decoder_layers=3, kernel_size=3,
                 prior="gaussian", prior_flows=2, prior_hidden=(64,), beta=1.0, free_bits=0.0,
                 binarize="dynamic", learning_rate=1e-3, seed=None, **kwargs):
        ZooModel.__init__(self, input_shape, seed=seed, **kwargs)  # not VAE's: the decoder is another net
        if self.image_shape[-1] != 1:
            raise ValueError(f"{type(self).__name__} models single-channel binary images; got "
                             f"{self.image_shape[-1]} channels")
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}; got {prior!r}")
        if int(decoder_layers) != decoder_layers or decoder_layers < 1 or decoder_filters < 1 \
                or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"need decoder_layers >= 1, decoder_filters >= 1 and a positive odd kernel_size; got "
                             f"{decoder_layers}, {decoder_filters}, {kernel_size}")
        if beta < 0 or free_bits < 0:
            raise ValueError(f"beta and free_bits must be >= 0; got {beta}, {free_bits}")
        self.free_bits = float(free_bits)
        self.latent_dim, self.arch, self.beta = int(latent_dim), arch, float(beta)
        self.decoder_filters, self.decoder_layers, self.kernel_size = (int(decoder_filters), int(decoder_layers),
                                                                       int(kernel_size))
        self.prior, self.prior_flows = prior, int(prior_flows)
        self.prior_hidden = tuple(int(h) for h in ([prior_hidden] if isinstance(prior_hidden, int) else prior_hidden))
        self.binarize, self.learning_rate = losses.binarization(binarize), float(learning_rate)
        self.likelihood, self.posterior_log_var_bound = "bernoulli", None  # what the VAE's methods read
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        self.posterior_head = nets.dense_head(2 * self.latent_dim, self.encoder.output.shape[-1], "posterior")
        height, width, _ = self.image_shape
        self.latent_map = nets.generator(resolved, self.latent_dim, (height, width, self.decoder_filters),
                                         output_activation=None, name="latent_map")
        # Any height: sampling runs it on the rows within its window only (`binary_raster_sampler`).
        self.decoder = gated_pixelcnn_net((None, width, 1), self.decoder_filters, self.decoder_layers,
                                          self.kernel_size, condition_channels=self.decoder_filters,
                                          name="pixel_decoder")
        self.flows = [MaskedAutoregressiveTransform(self.latent_dim, self.prior_hidden, reverse=bool(i % 2), seed=i,
                                                    name=f"prior_flow_{i}")
                      for i in range(self.prior_flows if prior == "flow" else 0)]
        for flow in self.flows:
            flow(ops.zeros((1, self.latent_dim)))  # a call marks the layer built (its MADE is built already)
        self._finish_build()

    def role_layers(self):
        return {"vae": [self.encoder, self.posterior_head, self.latent_map, self.decoder, *self.flows]}

    def default_optimizers(self):
        # Both papers train with Adam; 1e-3 as the zoo's VAE.
        return {"vae": keras.optimizers.Adam(self.learning_rate)}

    @property
    def receptive_field(self):
        """The decoder's window around pixel (i, j): rows above it, columns either side of j in those rows,
        and pixels left of it in its own row (see the class docstring)."""
        reach = self.decoder_layers * (self.kernel_size // 2)
        return {"rows_above": reach + 1, "columns_each_side": reach, "left_in_row": reach + 1}

    # ------------------------------------------------------------ the bound
    def kl_penalty(self, kl):
        """beta max(KL, free_bits) of the batch's mean KL: free bits (Kingma et al. 2016, the IAF paper, with
        one group: the whole code), which VLAE trains with. Below `free_bits` nats the KL costs nothing, so the
        encoder is not pushed onto the prior while the decoder learns the local statistics first (without it
        the KL of both models collapsed to ~0.02 nats on digits). `evaluate` reports the true KL and ELBO."""
        if not self.free_bits:  # the bound itself: a one-sample KL estimate may be negative, max(KL, 0) is not it
            return self.beta * kl
        return self.beta * ops.maximum(kl, self.free_bits)

    def pixel_logits(self, x, z, training=False):
        """logit of p(x_i = 1 | x_<i, z) for every pixel, shape (n, H, W, 1)."""
        x = ops.convert_to_tensor(x)  # numpy from `elbo` / `log_prob`: the decoder takes tensors only
        return self.decoder([x, self.latent_map(z, training=training)], training=training)

    def log_likelihood(self, x, z, training=False):
        """log p(x|z) = sum_i log p(x_i | x_<i, z) per example; `x` in [-1, 1] (binary for a density)."""
        return losses.bernoulli_log_likelihood((x + 1.0) / 2.0, self.pixel_logits(x, z, training))

    def prior_log_density(self, z):
        """log p(z): N(0, I), or the AF prior log N(f(z); 0, I) + log |det df/dz| (z of any leading shape)."""
        if not self.flows:
            return super().prior_log_density(z)
        leading = ops.shape(z)[:-1]
        h = ops.reshape(z, (-1, self.latent_dim))
        log_det = 0.0
        for flow in self.flows:
            h, flow_log_det = flow.forward(h)
            log_det = log_det + flow_log_det
        log_p = losses.standard_normal_log_density(ops.cast(h, "float32")) + log_det
        return ops.reshape(log_p, leading)

    def kl_term(self, mean, log_var, z, noise):
        if not self.flows:
            return super().kl_term(mean, log_var, z, noise)
        # No closed form under the AF prior: the one-sample estimate log q(z|x) - log p(z).
        return self.posterior_log_density(noise, log_var) - self.prior_log_density(z)

    def call(self, x, training=False):
        """The decoder's Bernoulli means of each pixel given the pixels before it and z = the posterior mean
        (a teacher-forced reconstruction), in [-1, 1]."""
        mean, _ = self.posterior(x, training)
        return 2.0 * ops.sigmoid(self.pixel_logits(x, mean, training)) - 1.0

    # ------------------------------------------------------------ capabilities
    def prior_sample(self, n, seed_generator):
        """z ~ p(z): under the AF prior, eps ~ N(0, I) through the inverse flows (`prior_inverse`)."""
        eps = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        if not self.flows:
            return eps
        if getattr(self, "_traced_prior_inverse", None) is None:
            import tensorflow as tf

            # latent_dim MADE passes per flow: eagerly 0.85 s for 64 draws of a 16-d z, traced a few ms.
            self._traced_prior_inverse = tf.function(self.prior_inverse, reduce_retracing=True)
        return self._traced_prior_inverse(eps)

    def prior_inverse(self, eps):
        """z = f^-1(eps), the flows inverted in the reverse of their density order."""
        z = eps
        for flow in reversed(self.flows):
            z = flow.inverse(z)
        return ops.cast(z, "float32")

    def _sample_batch(self, n, labels, seed_generator):
        condition = self.latent_map(self.prior_sample(n, seed_generator), training=False)
        if getattr(self, "_sampler", None) is None:  # traced on first use, not saved
            self._sampler = binary_raster_sampler(self.decoder, self.image_shape,
                                                  rows_above=self.receptive_field["rows_above"])
        return self._sampler(binary_raster_uniforms(n, self.image_shape, seed_generator), condition)


@register("pixelvae")
class PixelVAE(AutoregressiveVAE):
    """PixelVAE: a VAE whose decoder is a PixelCNN conditioned on z, trained on the ELBO.

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)) with p(x|z) = prod_i p(x_i | x_<i, z) (Gulrajani et al.
    2016, Sec. 2, Eq. 1 and the factorisation of their conditional PixelCNN), the KL in closed form. The
    latent z reaches every gated layer as a feature map (Gated PixelCNN's spatial conditioning) rather than
    the paper's concatenation of the upsampled latent with the image: both condition every pixel on z.
    The skeleton and the receptive field are `AutoregressiveVAE`'s; here the decoder has `decoder_layers`
    = 3 gated layers of kernel 3 (a 4-row window: most of an 8x8 digit), the paper's observation being
    that a few PixelCNN layers on top of a latent do as well as a deep PixelCNN.

    Deviations: one latent level (the paper's hierarchical PixelVAE is not implemented), the zoo's VAE
    encoder and decoder nets in place of the paper's ResNets, Bernoulli pixels only (the paper's 256-way
    softmax on 8-bit images is not implemented).

    Args:
        input_shape: (height, width, 1).
        latent_dim: size of z.
        arch: the encoder's and the z -> feature map net's architecture ("auto" or `zoo.nets`).
        decoder_filters: channels of the gated stacks (and of the z feature map).
        decoder_layers, kernel_size: the gated PixelCNN's depth and kernel.
        prior: "gaussian" (the paper's) or "flow" (VLAE's AF prior).
        prior_flows, prior_hidden: the AF prior's transforms and their MADE's hidden layers.
        beta: weight of the KL term in training.
        free_bits: nats of KL (the batch mean, whole code) that cost nothing in training (`kl_penalty`); 0 (the
            paper's PixelVAE) trains on the ELBO itself.
        binarize: "dynamic" (default) or None.
        learning_rate: Adam's.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("pixelvae", input_shape=data.input_shape, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["kl"]
        >>> model.sample(16, seed=0).shape, model.log_prob(data.x_test[:4], k=100).shape
        ((16, 8, 8, 1), (4,))

    Paper: Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez & Courville, "PixelVAE: A Latent Variable Model
    for Natural Images", ICLR 2017, arXiv 1611.05013.
    """

    def __init__(self, input_shape, latent_dim=16, arch="auto", decoder_filters=32, decoder_layers=3, kernel_size=3,
                 prior="gaussian", prior_flows=2, prior_hidden=(64,), beta=1.0, free_bits=0.0, binarize="dynamic",
                 learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, decoder_filters=decoder_filters,
                         decoder_layers=decoder_layers, kernel_size=kernel_size, prior=prior, prior_flows=prior_flows,
                         prior_hidden=prior_hidden, beta=beta, free_bits=free_bits, binarize=binarize,
                         learning_rate=learning_rate,
                         seed=seed, **kwargs)


@register("vlae")
class VLAE(AutoregressiveVAE):
    """Variational Lossy Autoencoder: an autoregressive decoder of small receptive field and an AF prior.

    The bound is the ELBO with p(x|z) = prod_i p(x_i | x_window(i), z) (Chen et al. 2016, Sec. 3.2: the
    decoder sees only a local window of the pixels before x_i, so the global structure must be coded in z)
    and the learnt autoregressive-flow prior of Sec. 3.3, p(z) = N(f(z); 0, I) |det df/dz|, f a stack of
    `prior_flows` masked autoregressive transforms (`zoo.bijectors.MaskedAutoregressiveTransform`, MAF's
    layer: the density direction is one pass, sampling `latent_dim` passes). KL(q || p) is estimated by
    log q(z|x) - log p(z) at the posterior sample.

    The default decoder is one gated layer of kernel 3: pixel (i, j) reads the 2 rows above it over
    columns j-1..j+1 and the 2 pixels left of it (8 pixels; `receptive_field`). Training uses free bits
    (`free_bits` = 4 nats of the whole code, `kl_penalty`): on digits the KL collapsed to ~0.02 nats without
    them even with this window; with them it holds 3.5-4.9 nats (tests/test_autoregressive_vae.py).

    Deviations: the paper's posterior is a diagonal Gaussian here too, but its encoder and decoder are
    ResNets and its MNIST decoder's window is its own (not this one); free bits over the whole code in one
    group (the paper's grouping of latent dimensions is not implemented; the AF prior's KL does not split
    by dimension); Bernoulli single-channel pixels only.

    Args: as `pixelvae`, with `decoder_layers=1`, `prior="flow"` and `free_bits=4.0` by default.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("vlae", input_shape=data.input_shape, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.receptive_field
        {'rows_above': 2, 'columns_each_side': 1, 'left_in_row': 2}
        >>> model.sample(16, seed=0).shape
        (16, 8, 8, 1)

    Paper: Chen, Kingma, Salimans, Duan, Dhariwal, Schulman, Sutskever & Abbeel, "Variational Lossy
    Autoencoder", ICLR 2017, arXiv 1611.02731.
    """

    def __init__(self, input_shape, latent_dim=16, arch="auto", decoder_filters=32, decoder_layers=1, kernel_size=3,
                 prior="flow", prior_flows=2, prior_hidden=(64,), beta=1.0, free_bits=4.0, binarize="dynamic",
                 learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, decoder_filters=decoder_filters,
                         decoder_layers=decoder_layers, kernel_size=kernel_size, prior=prior, prior_flows=prior_flows,
                         prior_hidden=prior_hidden, beta=beta, free_bits=free_bits, binarize=binarize,
                         learning_rate=learning_rate,
                         seed=seed, **kwargs)
