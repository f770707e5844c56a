"""Latent-variable models fitted by expectation-maximisation: probabilistic PCA and the Gaussian mixture.

Both are the classic models the VAE generalises (a Gaussian latent with a linear-Gaussian decoder; a
discrete latent with Gaussian components). By default `train_step` takes no gradient step: it runs
the E-step on its batch, folds the batch's expected sufficient statistics into running ones, and
assigns the closed-form M-step, so `fit`, callbacks, `BackupAndRestore` and saving work as for every
other method. `fit_by="sgd"` instead maximises the same log-likelihood by Adam on the same
parameters (the alternative the lecture on latent-variable models contrasts with EM).

Minibatches: stepwise EM (Cappe & Moulines 2009, "On-line expectation-maximization algorithm for
latent data models", JRSS-B 71(3), Eq. 6): with batch statistics s_t computed under the current
parameters, the running statistics are

    S_t = (1 - gamma_t) S_{t-1} + gamma_t s_t,     gamma_t = (t + 1)^(-kappa),  t = 0, 1, ...

and the parameters are the M-step of S_t. kappa in (0.5, 1] converges (their Theorem 1); kappa = 0
(gamma = 1) is plain EM on each batch, which is exact batch EM when the batch is the whole data set
(the scikit-learn comparisons in tests/test_em.py run so). For PPCA the statistics are the data's
first and second moments, which do not depend on the parameters, so kappa = 1 makes S_t their exact
running mean: after one pass, every step is one exact EM iteration on the whole data.

Pixels are flattened to d = H W C values in [-1, 1]; densities are over that continuous space (nats,
not comparable with the Bernoulli likelihoods of the binarised models).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import losses
from zoo.base import ZooModel
from zoo.registry import register

FIT_BY = ("em", "sgd")


def _all_replicas_mean(values):
    """The mean of each tensor over the replicas of a `tf.distribute` step (itself outside one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, values)


class _EMFitted(ZooModel):
    """Shared machinery: EM or SGD fitting, the stepwise running statistics, flattening, capabilities."""

    log_names = ("log_likelihood",)
    eval_log_names = ("log_likelihood",)

    def _setup(self, fit_by, step_size_power, learning_rate):
        if fit_by not in FIT_BY:
            raise ValueError(f"fit_by must be one of {FIT_BY}; got {fit_by!r}")
        if not 0.0 <= step_size_power <= 1.0:
            raise ValueError(f"step_size_power (kappa) must be in [0, 1]; got {step_size_power}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {learning_rate}")
        self.fit_by, self.step_size_power, self.learning_rate = fit_by, float(step_size_power), float(learning_rate)
        self.roles = ("model",) if fit_by == "sgd" else ()
        self.dim = int(np.prod(self.image_shape))
        self.data_initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                name="data_initialized")
        self.em_steps = self.add_weight(shape=(), initializer="zeros", trainable=False, name="em_steps",
                                        aggregation="only_first_replica")

    def _parameter(self, shape, name):
        """A parameter of the model: trained by Adam under `fit_by="sgd"`, assigned by the M-step under EM."""
        return self.add_weight(shape=shape, initializer="zeros", trainable=self.fit_by == "sgd", name=name,
                               aggregation="only_first_replica")

    def _statistic(self, shape, name):
        return self.add_weight(shape=shape, initializer="zeros", trainable=False, name=name,
                               aggregation="only_first_replica")

    def role_layers(self):
        # The parameters are the model's own weights (no sub-layers): the only trainable ones, under SGD.
        return {"model": [self]} if self.fit_by == "sgd" else {}

    def default_optimizers(self):
        # SGD on the log-likelihood: Adam, no paper setting to follow (the EM path needs no optimizer).
        return {"model": keras.optimizers.Adam(self.learning_rate)} if self.fit_by == "sgd" else {}

    def flat(self, x):
        return ops.reshape(ops.convert_to_tensor(x, "float32"), (-1, self.dim))

    def train_step(self, batch):
        x = self.flat(self.unpack(batch, "x"))
        if self.fit_by == "sgd":
            def loss_fn():
                log_likelihood = ops.mean(self.log_density(x))
                return -log_likelihood, {"log_likelihood": log_likelihood}

            _, logs = self.minimize("model", loss_fn)
            return self.track(self.log_names, logs)
        log_likelihood, statistics = self.expected_statistics(x)  # the E-step, under the current parameters
        log_likelihood, *statistics = _all_replicas_mean([ops.mean(log_likelihood), *statistics])
        gamma = ops.power(self.em_steps + 1.0, -self.step_size_power)
        running = [r.assign((1.0 - gamma) * r + gamma * s) for r, s in zip(self.running_statistics(), statistics)]
        self.maximize(*running)
        self.em_steps.assign_add(1.0)
        return self.track(self.log_names, {"log_likelihood": log_likelihood})

    def evaluation_terms(self, x):
        return {"log_likelihood": self.log_density(self.flat(x))}

    def _log_prob_batch(self, x, k):
        return self.log_density(self.flat(x))

    def log_prob(self, x, k=1, batch_size=500):
        """Exact log p(x) per image, in nats over the flattened [-1, 1] pixels (`k` is ignored)."""
        return super().log_prob(x, k=1, batch_size=batch_size)

    def _clip_images(self, flat):
        # Gaussian samples have unbounded support; images are in [-1, 1], so samples are clipped there.
        return ops.reshape(ops.clip(flat, -1.0, 1.0), (-1, *self.image_shape))


@register("ppca")
class PPCA(_EMFitted):
    """Probabilistic PCA (Tipping & Bishop 1999), fitted by EM.

    The model: z ~ N(0, I_q), x | z ~ N(W z + mu, sigma^2 I_d), so x ~ N(mu, C) with C = W W^T + sigma^2 I.
    Its maximum-likelihood W spans the q leading principal directions, and sigma^2 is the mean of the
    d - q discarded eigenvalues of the sample covariance S (the paper's Sec. 3.2; tests/test_em.py checks
    both against scikit-learn's PCA).

    EM (Tipping & Bishop 1999, JRSS-B, Eqs. 29-30, with M = W^T W + sigma^2 I):

        W_new      = S W (sigma^2 I + M^-1 W^T S W)^-1
        sigma2_new = tr(S - S W M^-1 W_new^T) / d,       mu = the sample mean,

    with S from the running moments of the stepwise scheme (module docstring; kappa = 1 by default: the
    exact running mean, so after one pass each step is one exact EM iteration). `fit_by="sgd"` maximises
    the log-likelihood (log N(x; mu, C), exact) by Adam instead, sigma^2 as exp(log_noise_variance).

    Capabilities: `log_prob` (exact), `encode` (the posterior mean E[z|x] = M^-1 W^T (x - mu)),
    `sample` (x = W z + mu + sigma eps, clipped to [-1, 1]).

    Initialisation (`fit` runs it on 500 training images): mu their mean, W Gaussian with entries of
    standard deviation 0.1 / sqrt(q) (seeded), sigma^2 the mean pixel variance.

    Args:
        input_shape: (height, width, channels).
        latent_dim: q.
        fit_by: "em" (default) or "sgd".
        step_size_power: kappa of the stepwise running statistics.
        min_noise_variance: floor of sigma^2 (pixels that never vary would drive it to 0).
        learning_rate: Adam's, for `fit_by="sgd"`.
        seed: seeds the initial W and the sampling noise.

    Example:
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("ppca", input_shape=data.input_shape, latent_dim=10)
        >>> model.fit(data.train(len(data.x_train)), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.log_prob(data.x_test).mean(), model.encode(data.x_test[:4]).shape

    Paper: Tipping & Bishop, "Probabilistic principal component analysis", JRSS-B 61(3), 1999.
    """

    def __init__(self, input_shape, latent_dim=16, fit_by="em", step_size_power=1.0, min_noise_variance=1e-4,
                 learning_rate=1e-2, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self.latent_dim = int(latent_dim)
        if not self.latent_dim >= 1:
            raise ValueError(f"latent_dim must be >= 1; got {latent_dim}")
        if not min_noise_variance > 0:
            raise ValueError(f"min_noise_variance must be > 0; got {min_noise_variance}")
        self.min_noise_variance = float(min_noise_variance)
        self._setup(fit_by, step_size_power, learning_rate)
        d, q = self.dim, self.latent_dim
        if q >= d:
            raise ValueError(f"latent_dim must be below the {d} pixels; got {q}")
        self.mean = self._parameter((d,), "mean")
        self.loading = self._parameter((d, q), "loading")
        self.log_noise_variance = self._parameter((), "log_noise_variance")
        if fit_by == "em":
            self.first_moment, self.second_moment = self._statistic((d,), "first_moment"), self._statistic(
                (d, d), "second_moment")
        self.built = True

    def parameters(self):
        return [self.mean, self.loading, self.log_noise_variance]

    def running_statistics(self):
        return [self.first_moment, self.second_moment]

    def _data_dependent_init(self, x):
        x = self.flat(x)
        self.mean.assign(ops.mean(x, axis=0))
        rng = np.random.default_rng(self.seed)
        self.loading.assign(rng.normal(0.0, 0.1 / math.sqrt(self.latent_dim), (self.dim, self.latent_dim))
                            .astype("float32"))
        variance = ops.maximum(ops.mean(ops.var(x, axis=0)), self.min_noise_variance)
        self.log_noise_variance.assign(ops.log(variance))

    def noise_variance(self):
        return ops.maximum(ops.exp(self.log_noise_variance), self.min_noise_variance)

    def covariance(self):
        """C = W W^T + sigma^2 I."""
        return ops.matmul(self.loading, ops.transpose(self.loading)) + self.noise_variance() * ops.eye(self.dim)

    def log_density(self, x):
        return losses.full_gaussian_log_density(x, self.mean, ops.cholesky(self.covariance()))

    def expected_statistics(self, x):
        # The moments of x; log p(x) under the current parameters for the log.
        return self.log_density(x), [ops.mean(x, axis=0), ops.matmul(ops.transpose(x), x) / ops.cast(
            ops.shape(x)[0], "float32")]

    def maximize(self, first_moment, second_moment):
        mu = first_moment
        s = second_moment - mu[:, None] * mu[None, :]
        w, sigma2 = self.loading, self.noise_variance()
        eye_q = ops.eye(self.latent_dim)
        m = ops.matmul(ops.transpose(w), w) + sigma2 * eye_q
        m_inv = ops.inv(m)
        sw = ops.matmul(s, w)
        w_new = ops.transpose(ops.solve(ops.transpose(sigma2 * eye_q + ops.matmul(m_inv, ops.matmul(ops.transpose(w), sw))),
                                        ops.transpose(sw)))
        sigma2_new = (ops.trace(s) - ops.trace(ops.matmul(sw, ops.matmul(m_inv, ops.transpose(w_new))))) / self.dim
        self.mean.assign(mu)
        self.loading.assign(w_new)
        self.log_noise_variance.assign(ops.log(ops.maximum(sigma2_new, self.min_noise_variance)))

    def _encode_batch(self, x):
        w = self.loading
        m = ops.matmul(ops.transpose(w), w) + self.noise_variance() * ops.eye(self.latent_dim)
        return ops.transpose(ops.solve(m, ops.matmul(ops.transpose(w), ops.transpose(self.flat(x) - self.mean))))

    def _sample_batch(self, n, labels, seed_generator):
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        noise = keras.random.normal((n, self.dim), seed=seed_generator)
        flat = ops.matmul(z, ops.transpose(self.loading)) + self.mean + ops.sqrt(self.noise_variance()) * noise
        return self._clip_images(flat)


@register("gmm")
class GaussianMixture(_EMFitted):
    """A mixture of K full-covariance Gaussians, fitted by EM.

    p(x) = sum_k pi_k N(x; mu_k, Sigma_k). E-step: responsibilities r_ik = p(k | x_i). M-step from the
    expected sufficient statistics s0_k = mean_i r_ik, s1_k = mean_i r_ik x_i, s2_k = mean_i r_ik x_i x_i^T
    (Bishop 2006, Eqs. 9.24-9.27):

        pi_k = s0_k,   mu_k = s1_k / s0_k,   Sigma_k = s2_k / s0_k - mu_k mu_k^T + reg I,

    with the statistics the stepwise running means of the module docstring (kappa = 0.6 by default;
    kappa = 0 with the whole data in one batch is batch EM, as scikit-learn's `GaussianMixture`, whose
    `reg_covar` is `reg` here). Sigma_k is kept as its Cholesky factor L_k (a raw matrix whose strict
    lower triangle is L's and whose diagonal is log diag L), so `fit_by="sgd"` can train the same
    parameters by Adam (mixture weights as logits). `reg` enters the M-step only: SGD maximises the
    unregularised likelihood, which is unbounded where a covariance can collapse (pixels that never vary):
    on digits, Adam (lr 1e-3, 2000 full-batch steps) was at 36.6 nats per image and still rising where EM
    with reg 1e-2 converged at 6.8. tests/test_em.py compares the two on data without such directions.

    Initialisation (`fit` runs it on 500 training images, seeded): "kmeans++" picks K centres by
    k-means++ seeding (Arthur & Vassilvitskii 2007), "random" K distinct images; each image is then
    assigned to its nearest centre and the M-step of those hard responsibilities gives pi, mu, Sigma
    (scikit-learn's initialisation, one k-means++ seeding and no Lloyd iterations).

    Capabilities: `log_prob` (exact), `encode` (the responsibilities p(k|x), shape (n, K)), `sample`
    (k ~ pi, x = mu_k + L_k eps, clipped to [-1, 1]).

    Args:
        input_shape: (height, width, channels).
        components: K.
        init: "kmeans++" or "random".
        reg_covar: added to each covariance's diagonal. 1e-3 by default (pixel units of [-1, 1]: a
            standard deviation of 0.03, about 4 grey levels), because image pixels that never vary give
            singular covariances; scikit-learn's default is 1e-6.
        fit_by, step_size_power, learning_rate, seed: as `ppca`.

    Paper: Dempster, Laird & Rubin, "Maximum likelihood from incomplete data via the EM algorithm",
    JRSS-B 39(1), 1977; Cappe & Moulines 2009 for the stepwise version.
    """

    INITS = ("kmeans++", "random")

    def __init__(self, input_shape, components=10, init="kmeans++", reg_covar=1e-3, fit_by="em",
                 step_size_power=0.6, learning_rate=1e-2, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if int(components) != components or components < 1:
            raise ValueError(f"components must be an integer >= 1; got {components!r}")
        if init not in self.INITS:
            raise ValueError(f"init must be one of {self.INITS}; got {init!r}")
        if not reg_covar > 0:
            raise ValueError(f"reg_covar must be > 0; got {reg_covar}")
        self.components, self.init, self.reg_covar = int(components), init, float(reg_covar)
        self._setup(fit_by, step_size_power, learning_rate)
        k, d = self.components, self.dim
        self.weight_logits = self._parameter((k,), "weight_logits")
        self.means = self._parameter((k, d), "means")
        self.raw_scale_tril = self._parameter((k, d, d), "raw_scale_tril")
        if fit_by == "em":
            self.s0, self.s1, self.s2 = (self._statistic(shape, name) for shape, name in
                                         (((k,), "s0"), ((k, d), "s1"), ((k, d, d), "s2")))
        self.built = True

    def parameters(self):
        return [self.weight_logits, self.means, self.raw_scale_tril]

    def running_statistics(self):
        return [self.s0, self.s1, self.s2]

    def scale_tril(self):
        """L_k: the strict lower triangle of the raw matrix, exp of its diagonal on the diagonal."""
        raw = self.raw_scale_tril
        diagonal = ops.diagonal(raw, axis1=-2, axis2=-1)
        strict = raw * ops.tril(ops.ones((self.dim, self.dim)), -1)
        return strict + ops.exp(diagonal)[..., None] * ops.eye(self.dim)

    def component_log_densities(self, x):
        """log pi_k + log N(x_i; mu_k, Sigma_k), shape (n, K)."""
        log_densities = losses.full_gaussian_log_density(x, self.means, self.scale_tril())  # (K, n)
        return ops.transpose(log_densities) + ops.log_softmax(self.weight_logits)

    def log_density(self, x):
        return ops.logsumexp(self.component_log_densities(x), axis=-1)

    def expected_statistics(self, x):
        joint = self.component_log_densities(x)
        log_likelihood = ops.logsumexp(joint, axis=-1)
        return log_likelihood, self._statistics_of(x, ops.exp(joint - log_likelihood[:, None]))

    @staticmethod
    def _statistics_of(x, responsibilities):
        n = ops.cast(ops.shape(x)[0], "float32")
        s0 = ops.mean(responsibilities, axis=0)
        s1 = ops.matmul(ops.transpose(responsibilities), x) / n
        s2 = ops.einsum("nk,ni,nj->kij", responsibilities, x, x) / n
        return [s0, s1, s2]

    def maximize(self, s0, s1, s2):
        s0 = ops.maximum(s0, 1e-10)  # an emptied component keeps a finite mean and covariance
        means = s1 / s0[:, None]
        covariances = s2 / s0[:, None, None] - means[:, :, None] * means[:, None, :]
        covariances = covariances + self.reg_covar * ops.eye(self.dim)
        scale_tril = ops.cholesky(covariances)
        diagonal = ops.diagonal(scale_tril, axis1=-2, axis2=-1)
        raw = scale_tril - diagonal[..., None] * ops.eye(self.dim) + ops.log(diagonal)[..., None] * ops.eye(self.dim)
        self.weight_logits.assign(ops.log(s0 / ops.sum(s0)))
        self.means.assign(means)
        self.raw_scale_tril.assign(raw)

    def _data_dependent_init(self, x):
        x = ops.convert_to_numpy(self.flat(x)).astype("float64")
        rng = np.random.default_rng(self.seed)
        if len(x) < self.components:
            raise ValueError(f"{self.components} components need at least as many images; got {len(x)}")
        if self.init == "random":
            centres = x[rng.choice(len(x), self.components, replace=False)]
        else:
            centres = [x[rng.integers(len(x))]]
            for _ in range(1, self.components):
                distances = np.min([np.sum((x - c) ** 2, axis=1) for c in centres], axis=0)
                centres.append(x[rng.choice(len(x), p=distances / distances.sum())])
            centres = np.stack(centres)
        nearest = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        hard = np.eye(self.components)[nearest].astype("float32")
        x32 = ops.convert_to_tensor(x.astype("float32"))
        self.maximize(*self._statistics_of(x32, ops.convert_to_tensor(hard)))

    def _encode_batch(self, x):
        return ops.softmax(self.component_log_densities(self.flat(x)), axis=-1)

    def _sample_batch(self, n, labels, seed_generator):
        component = keras.random.categorical(self.weight_logits[None], n, seed=seed_generator)[0]
        noise = keras.random.normal((n, self.dim), seed=seed_generator)
        scale = ops.take(self.scale_tril(), component, axis=0)
        flat = ops.take(self.means, component, axis=0) + ops.einsum("nij,nj->ni", scale, noise)
        return self._clip_images(flat)
