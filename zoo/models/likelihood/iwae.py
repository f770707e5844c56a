"""Importance weighted autoencoder (Burda et al. 2015)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses
from zoo.models.likelihood.vae import VAE
from zoo.registry import register


@register("iwae")
class IWAE(VAE):
    """Importance weighted autoencoder: the VAE trained on the k-sample bound.

    Same generative and inference nets as `zoo.models.likelihood.vae.VAE`; training
    maximises (Burda et al. 2015, Eq. 8)

        L_k(x) = E_{z_1..z_k ~ q(z|x)} [ log (1/k) sum_i p(x, z_i) / q(z_i|x) ]

    with reparameterised z_i (Eq. 13-14 give its gradient). L_1 is the VAE's
    ELBO (with the KL estimated by sampling), and log p(x) >= L_{k+1} >= L_k
    (Theorem 1). `log_prob(x, k=5000)` is the paper's evaluation (Sec. 5.1).

    Logs `loss` (= -mean L_k) in training; `evaluate` logs the VAE's one-sample
    `elbo`, `reconstruction` and `kl` (so IWAE and VAE are compared on one scale)
    and `iw_bound`, L_k on the test batch.

    Args:
        input_shape, latent_dim, arch, likelihood, binarize, seed: as `VAE`.
        k: importance samples per example in training (paper: 1, 5, 50).

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("iwae", input_shape=data.input_shape, latent_dim=8, k=5)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.log_prob(data.x_test[:10], k=500).shape
        (10,)

    Paper: Burda, Grosse, Salakhutdinov, "Importance Weighted Autoencoders",
    arXiv 1509.00519.
    """

    log_names = ("loss",)
    eval_log_names = ("elbo", "reconstruction", "kl", "iw_bound")

    def __init__(self, input_shape, latent_dim=16, arch="auto", likelihood="bernoulli", k=5, binarize=False,
                 seed=None, **kwargs):
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, likelihood=likelihood, binarize=binarize,
                         seed=seed, **kwargs)
        if int(k) != k or k < 1:
            raise ValueError(f"k must be an integer >= 1; got {k!r}")
        self.k = int(k)

    def default_optimizers(self):
        # Burda et al. 2015, Sec. 5: Adam with beta_1 0.9, beta_2 0.999, eps 1e-4;
        # the learning rate 1e-3 decays by 10^(-1/7) over 3^i epochs: the
        # schedule belongs to the recipe, the first learning rate is here.
        return {"vae": keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-4)}

    def iw_bound(self, x, noise, training=False):
        """L_k per example; `noise` ~ N(0, I) of shape (k, n, latent_dim)."""
        return losses.importance_weighted_bound(self.log_importance_weights(x, noise, training))

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        if self.binarize:
            x = ops.where(self.uniform(ops.shape(x)) < (x + 1.0) / 2.0, 1.0, -1.0)
        noise = self.normal((self.k, ops.shape(x)[0], self.latent_dim))

        def loss_fn():
            loss = -ops.mean(self.iw_bound(x, noise, training=True))
            return loss, {"loss": loss}

        _, logs = self.minimize("vae", loss_fn)
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        terms = super().evaluation_terms(x)
        terms["iw_bound"] = self.iw_bound(x, self.normal((self.k, ops.shape(x)[0], self.latent_dim)))
        return terms
