"""Variational autoencoder (Kingma & Welling 2013)."""

from __future__ import annotations

import math

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import reparameterize, soft_clip, split_gaussian
from zoo.registry import register


@register("vae")
class VAE(ZooModel):
    """Variational autoencoder with a Gaussian latent and a Bernoulli or Gaussian decoder.

    Encoder q(z|x) = N(mu(x), diag sigma^2(x)), prior p(z) = N(0, I), decoder
    p(x|z). Training maximises the evidence lower bound (Kingma & Welling
    2013, Eq. 10), with the KL term in closed form (Appendix B) and one
    reparameterised sample z = mu + sigma * eps (Sec. 2.4):

        ELBO(x) = E_q[log p(x|z)] - beta * KL(q(z|x) || p(z)),   loss = -mean ELBO.

    beta = 1 is the VAE; beta > 1 is the beta-VAE of Higgins et al. 2017.

    Decoders (`likelihood`):

    * "bernoulli": pixels mapped from [-1, 1] to [0, 1] and scored by
      Bernoulli cross-entropy on the decoder's logits (with
      `binarize="dynamic"`, each training step draws binary pixels
      x ~ Bernoulli(x01), the "dynamically binarised" protocol of the IWAE
      paper, `zoo.losses.binarize_dynamically`; otherwise the grey levels are
      the targets). `sample` returns the Bernoulli means, mapped to [-1, 1].
    * "gaussian": per-pixel mean and log-variance in the [-1, 1] pixel space
      (Appendix C.2), the log-variance bounded for stability:
      log_var = 6 tanh(raw / 6).

    Logs `loss`, `reconstruction` (E log p(x|z)) and `kl` in training;
    `evaluate` logs `elbo`, `reconstruction` and `kl` (beta = 1, nats per image).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of z.
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES`.
        likelihood: "bernoulli" or "gaussian".
        beta: weight of the KL term in training.
        binarize: None (grey levels as targets) or "dynamic" (a fresh binary
            draw of every training batch; Bernoulli decoder only). True and
            False are read as "dynamic" and None.
        posterior_log_var_bound: B > 0 soft-bounds q(z|x)'s log-variance to
            B tanh(raw / B); None (default, the paper) leaves it unbounded. A
            mixture of VAEs needs it: each VAE scores inputs it never trained
            on, whose raw log-variance can overflow exp() (see `infinite_vae`).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> vae = zoo.load("vae", input_shape=data.input_shape, latent_dim=8)
        >>> vae.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> vae.evaluate(data.test(), return_dict=True)["elbo"]
        >>> vae.sample(16).shape, vae.encode(data.x_test[:4]).shape
        ((16, 8, 8, 1), (4, 8))

    Paper: Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv 1312.6114.
    """

    roles = ("vae",)
    log_names = ("loss", "reconstruction", "kl")
    eval_log_names = ("elbo", "reconstruction", "kl")
    LIKELIHOODS = ("bernoulli", "gaussian")

    def __init__(self, input_shape, latent_dim=16, arch="auto", likelihood="bernoulli", beta=1.0, binarize=None,
                 posterior_log_var_bound=None, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if likelihood not in self.LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {self.LIKELIHOODS}; got {likelihood!r}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0; got {beta}")
        if posterior_log_var_bound is not None and not posterior_log_var_bound > 0:
            raise ValueError(f"posterior_log_var_bound must be > 0 or None; got {posterior_log_var_bound!r}")
        self.posterior_log_var_bound = None if posterior_log_var_bound is None else float(posterior_log_var_bound)
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.likelihood = likelihood
        self.beta = float(beta)
        self.binarize = losses.binarization(binarize, likelihood)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        self.posterior_head = nets.dense_head(2 * self.latent_dim, self.encoder.output.shape[-1], "posterior")
        height, width, channels = self.image_shape
        out_channels = channels * (2 if likelihood == "gaussian" else 1)
        self.decoder = nets.generator(resolved, self.latent_dim, (height, width, out_channels),
                                      output_activation=None, name="decoder")
        self._finish_build()

    def role_layers(self):
        return {"vae": [self.encoder, self.posterior_head, self.decoder]}

    def default_optimizers(self):
        # The paper used Adagrad; Adam (lr 1e-3) is the common modern default.
        return {"vae": keras.optimizers.Adam(1e-3)}

    # ------------------------------------------------------------ the bound
    def posterior(self, x, training=False):
        """Mean and log-variance of q(z|x)."""
        mean, log_var = split_gaussian(self.posterior_head(self.encoder(x, training=training)))
        if self.posterior_log_var_bound is not None:
            log_var = soft_clip(log_var, self.posterior_log_var_bound)
        return mean, log_var

    def log_likelihood(self, x, z, training=False):
        """log p(x|z) per example; `x` in [-1, 1]."""
        out = self.decoder(z, training=training)
        if self.likelihood == "bernoulli":
            return losses.bernoulli_log_likelihood((x + 1.0) / 2.0, out)
        mean, log_var = self._gaussian_parameters(out)
        return losses.gaussian_log_likelihood(x, mean, log_var)

    def _gaussian_parameters(self, out):
        channels = self.image_shape[-1]
        return out[..., :channels], soft_clip(out[..., channels:], 6.0)

    def bound_terms(self, x, noise, training=False):
        """Per-example E log p(x|z) (one sample) and KL(q(z|x) || p(z))."""
        mean, log_var = self.posterior(x, training)
        z = reparameterize(mean, log_var, noise)
        return self.log_likelihood(x, z, training), self.kl_term(mean, log_var, z, noise)

    def kl_penalty(self, kl):
        """The training loss's KL term from the batch's mean KL: beta KL (a subclass may relax it)."""
        return self.beta * kl

    def kl_term(self, mean, log_var, z, noise):
        """KL(q(z|x) || p(z)) per example, in closed form for the N(0, I) prior (Appendix B). `z` is the sample
        drawn with `noise`: a subclass whose prior has no closed form estimates the KL from it."""
        return losses.gaussian_kl(mean, log_var)

    def prior_log_density(self, z):
        """log p(z) for z of any leading shape (..., latent_dim): the N(0, I) prior (a subclass may learn one)."""
        return losses.standard_normal_log_density(z)

    @staticmethod
    def posterior_log_density(noise, log_var):
        """log q(z|x) of z = mean + sigma * noise: log N(noise; 0, I) - sum log sigma (any leading shape)."""
        return losses.standard_normal_log_density(noise) - 0.5 * ops.sum(log_var, axis=-1)

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        if self.binarize == "dynamic":
            x = losses.binarize_dynamically(x, self.seed_generator)
        noise = self.normal((ops.shape(x)[0], self.latent_dim))

        def loss_fn():
            reconstruction, kl = self.bound_terms(x, noise, training=True)
            reconstruction, kl = ops.mean(reconstruction), ops.mean(kl)
            loss = -(reconstruction - self.kl_penalty(kl))
            return loss, {"loss": loss, "reconstruction": reconstruction, "kl": kl}

        _, logs = self.minimize("vae", loss_fn)
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        reconstruction, kl = self.bound_terms(x, self.normal((ops.shape(x)[0], self.latent_dim)))
        return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}

    def call(self, x, training=False):
        """Reconstruction (decoder mean at the posterior mean), in [-1, 1]."""
        mean, _ = self.posterior(x, training)
        return self._decoder_mean(mean)

    def _decoder_mean(self, z):
        out = self.decoder(z, training=False)
        if self.likelihood == "bernoulli":
            return 2.0 * ops.sigmoid(out) - 1.0
        return ops.clip(self._gaussian_parameters(out)[0], -1.0, 1.0)

    # ------------------------------------------------------------ capabilities
    def _sample_batch(self, n, labels, seed_generator):
        return self._decoder_mean(keras.random.normal((n, self.latent_dim), seed=seed_generator))

    def _encode_batch(self, x):
        return self.posterior(x)[0]

    def _elbo_batch(self, x):
        reconstruction, kl = self.bound_terms(x, self.normal((ops.shape(x)[0], self.latent_dim)))
        return reconstruction - kl

    def log_importance_weights(self, x, noise, training=False):
        """log w_i = log p(x, z_i) - log q(z_i|x) with z_i = mu + sigma * noise_i, shape (k, n).

        `noise` has shape (k, n, latent_dim). Shared by `log_prob` and the IWAE's bound.
        """
        k, n = ops.shape(noise)[0], ops.shape(x)[0]
        mean, log_var = self.posterior(x, training)
        z = reparameterize(mean[None], log_var[None], noise)  # (k, n, d)
        x_rep = ops.reshape(ops.repeat(x[None], k, axis=0), (k * n,) + self.image_shape)
        log_px_z = ops.reshape(
            self.log_likelihood(x_rep, ops.reshape(z, (k * n, self.latent_dim)), training), (k, n))
        return log_px_z + self.prior_log_density(z) - self.posterior_log_density(noise, log_var[None])

    def _log_prob_batch(self, x, k):
        """Importance-sampled log p(x) = log mean_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x)
        (Burda et al. 2015, Eq. 8; Rezende et al. 2014, Appendix E)."""
        noise = self.normal((k, ops.shape(x)[0], self.latent_dim))
        return ops.logsumexp(self.log_importance_weights(x, noise), axis=0) - math.log(k)
