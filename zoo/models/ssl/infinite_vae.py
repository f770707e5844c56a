"""Infinite VAE: a Dirichlet-process mixture of VAEs with a mixture-of-experts classifier.

Abbasnejad, Dick & van den Hengel, "Infinite Variational Autoencoder for
Semi-Supervised Learning", CVPR 2017, arXiv 1611.07800.

The paper
---------
A mixture of VAEs whose mixing weights have a Dirichlet-process prior, so that
the number of VAEs adapts to the data: each example x_i is assigned to one
VAE c_i, and the generative model is

    pi ~ DP(alpha)  (stick-breaking weights),   c_i | pi ~ Cat(pi),
    z_i ~ N(0, I),  x_i | c_i, z_i ~ p_theta_{c_i}(x | z),

i.e. p(c, pi, x, z) = p(c | pi) p_alpha(pi) p_theta(x | c, z) p(z). Inference
combines Gibbs sampling of the assignments c (pi integrated out: the Chinese
restaurant process, CRP) with variational inference of each VAE. The
unlabelled data train the generative model; the labelled examples train a
discriminative model on its output, a mixture of experts in which expert k
classifies from VAE k's latent code and the experts are weighted by how well
each VAE explains x.

Equations this module implements
--------------------------------
ELBO of component k (Kingma & Welling 2013, Eq. 10; one reparameterised z):

    L_k(x) = E_{q_k(z|x)} log p_k(x | z) - KL(q_k(z|x) || N(0, I))

Gibbs step for an unlabelled x_i (collapsed CRP; Neal 2000, Algorithm 8 with
one auxiliary component whose parameters are a draw of the base measure G0):

    p(c_i = k | c_-i, x_i) ∝ n_k / (n + alpha) * exp L_k(x_i)        (k active)
    p(c_i = new | c_-i, x_i) ∝ alpha / (n + alpha) * exp L_new(x_i)   (first free slot)

(`crp_log_prior`, `assignment_probabilities`; exp L_k stands in for the
intractable p_k(x).) Each VAE then takes a gradient step on the ELBO of the
examples assigned to it:

    loss_vae = -(1/n) sum_i sum_k [c_i = k] L_k(x_i)

Mixture of experts (Jacobs et al. 1991) with gates from the generative model:

    w_k(x) = p(c = k | x) = pi_k exp L_k(x) / sum_j pi_j exp L_j(x),  pi_k = n_k / n
    p(y | x) = sum_k w_k(x) softmax(expert_k(mu_k(x)))_y,             mu_k = E q_k(z|x)
    loss_c = -(1/n_l) sum_l log p(y_l | x_l)

One step minimises loss_vae + loss_c: the VAEs' weights (role "vae") follow
loss_vae + lambda * loss_c (the gates held fixed, the codes mu_k carrying the
classification gradient scaled by lambda = `classification_weight`), the
experts (role "c") follow loss_c.

Mixture bound (`elbo`), since p_k(x) >= exp L_k(x):

    log p(x) = log sum_k pi_k p_k(x) >= logsumexp_k (log pi_k + L_k(x))

Choices we made where the paper is silent (or where the text we could read was)
-------------------------------------------------------------------------------
1. Truncation: `max_components` VAEs (and experts) are preallocated, because a
   Keras graph needs static shapes. A slot is *active* while its count is above
   `min_count`; the CRP's "new table" is the first inactive slot, whose
   untrained weights (the Keras initialisers) play the role of the draw from
   G0. When every slot is active no new component is offered (the truncated
   DP). `initial_components` slots start active, each with a count of 1.
2. Counts n_k: the input stream carries no example indices, so per-example
   assignments of the whole data set cannot be stored and re-sampled one at a
   time. The counts are instead a decayed running sum of the assignments
   sampled in recent batches, n_k <- count_decay * n_k + #{i in batch: c_i = k}
   (remembering about 1 / (1 - count_decay) batches), a non-trainable weight
   saved with the model. A slot whose count decays below `min_count` is
   emptied (count 0, inactive); it keeps its weights, so when it is re-offered
   as the new component it is not a fresh draw of G0.
3. Gibbs step: one parallel sweep per training batch: every unlabelled x_i in
   the batch is sampled given the counts before the batch (not sequentially
   within the batch), and all examples of a batch that choose "new" open the
   same new slot. The likelihood is the one-sample ELBO of the training step
   (the same noise as the gradient step), as in the equations above.
4. Training schedule: the paper trains the generative model on the
   unlabelled data and a discriminative model on its output; here both happen
   in every step (one tape, each role its own optimizer), so `fit` is one
   loop. lambda = `classification_weight` weights the experts' cross-entropy
   in the encoders' gradient: lambda = 0 keeps the codes fixed for the experts
   (our closest reading of "trained on its output"); the default 1 and the
   recipes' 5 let the few labels shape the codes too, as M2's alpha does
   (Kingma et al. 2014, Eq. 9), which we measured to classify better
   (digits-50, 3 slots, 300 steps, seed 0: accuracy 0.744 with lambda 0,
   0.802 with 1, 0.822 with 5). The gates always see a stop-gradient: labels
   never change which VAE explains x.
5. The Gibbs step and the VAEs' loss use the unlabelled batch only (the
   unlabelled stream already holds every training image, see `zoo.data`);
   the labelled batch only feeds the experts (and the encoders, through
   lambda). Both batches go through each VAE in one call (batch norm sees
   their union); the labelled rows get zero noise.
6. Gates and codes for classification are deterministic: z is the posterior
   mean, L_k(x) ~ log p_k(x | mu_k) - KL_k (so `classify` is a function of the
   weights and the counts). pi_k = n_k / sum of active counts.
6b. Each slot's posterior log-variance is soft-bounded to 20 tanh(raw / 20)
   (`POSTERIOR_LOG_VAR_BOUND`): every slot scores every input, also inputs it
   never trained on, where an unbounded log-variance overflowed exp() and
   turned the whole step NaN (the paper does not say; a bound of 20 leaves
   the usual range, |log sigma^2| < 10, nearly unchanged).
7. Experts: an MLP (`expert_hidden` ReLU units, 0 for a linear expert) on the
   posterior mean mu_k(x), one per slot.
8. Optimizers: Adam(`learning_rate`) for each role ("vae" and "c"); the
   optimiser and learning rate of the paper were not in the text we could read.
9. `sample`: a component k ~ Cat(pi) over the active ones, z ~ N(0, I), the
   decoder mean of VAE k. `encode`: mu of the component with the largest gate.
   `elbo`: the bound above over the active components (the new-component term
   alpha / (n + alpha) is left out), with one noise sample per component.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import reparameterize, scale_gradient
from zoo.models.likelihood.vae import VAE
from zoo.registry import register

NEVER = -1e30  # log-weight of a slot that cannot be chosen
# Soft bound of every slot's posterior log-variance. Each slot's VAE scores every
# input, also inputs it never trained on, and there its raw log-variance can pass
# 88 (exp overflows float32): an infinite ELBO, and NaN gradients even where the
# assignment weight is 0 (0 * inf). Measured on Fashion-MNIST-100 (cpu recipe):
# raw log-variances of -34..93 in a young slot, NaN from step 130 in 2 of 3 seeds.
POSTERIOR_LOG_VAR_BOUND = 20.0


# -------------------------------------------------------------- the CRP rule
def crp_log_prior(counts, log_concentration, min_count=0.0):
    """log p(c_i = k | c_-i) of the Chinese restaurant process over preallocated slots.

    Active slots (count > `min_count`) get n_k / (n + alpha), the first inactive
    slot (the new component) alpha / (n + alpha), every other slot probability 0
    (log-weight `NEVER`). With no inactive slot left, the active slots share
    all the mass. Returns a vector of length `len(counts)`.
    """
    counts = ops.convert_to_tensor(counts, "float32")
    active = counts > min_count
    free = ops.logical_not(active)
    first_free = ops.logical_and(free, ops.cumsum(ops.cast(free, "int32")) == 1)
    log_prior = ops.where(active, ops.log(ops.maximum(counts, 1e-30)),
                          ops.where(first_free, float(log_concentration), NEVER))
    return log_prior - ops.logsumexp(log_prior)


def assignment_probabilities(elbos, counts, log_concentration, min_count=0.0):
    """Gibbs conditional p(c_i = k | c_-i, x_i) ∝ CRP prior x exp ELBO_k(x_i), shape (n, K)."""
    return ops.softmax(crp_log_prior(counts, log_concentration, min_count)[None, :] + elbos, axis=-1)


def active_slots(counts, min_count):
    """Which slots hold a component: count above `min_count`."""
    return counts > min_count


# -------------------------------------------------------------------- model
@register("infinite_vae")
class InfiniteVAE(ZooModel):
    """Infinite VAE: a Dirichlet-process mixture of VAEs and a mixture-of-experts classifier.

    The unlabelled batch is assigned to the mixture's VAEs by a Gibbs step of
    the Chinese restaurant process (prior counts n_k, concentration alpha,
    likelihood approximated by each VAE's ELBO), which opens a new VAE when the
    CRP rule says so; each VAE takes a gradient step on the ELBO of its
    examples. The classifier is a mixture of experts: expert k reads VAE k's
    latent code and is weighted by p(c = k | x) ∝ pi_k exp ELBO_k(x). See the
    module docstring for the equations and every choice where the paper is
    silent.

    Logs `loss` (the VAEs' loss), `unlabeled_bound` (mean ELBO of the
    unlabelled batch under the sampled assignments), `classification` (the
    experts' mixture cross-entropy on the labelled batch) and
    `active_components`; `evaluate` logs `elbo` (the mixture bound) and
    `accuracy`.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        max_components: slots preallocated (the truncation of the DP).
        concentration: alpha > 0 of the DP; larger opens new components more readily.
        initial_components: slots active at the start (count 1 each).
        count_decay: decay of the running assignment counts per batch, in [0, 1).
        min_count: a slot whose count falls to or below this is empty (inactive).
        latent_dim, arch, likelihood: each component's `zoo.models.likelihood.vae.VAE`.
        expert_hidden: hidden ReLU units of each expert (0: linear expert).
        classification_weight: lambda, the weight of the experts' cross-entropy in
            the encoders' gradient (0: the experts read fixed codes).
        learning_rate: Adam's learning rate of both roles.
        seed: seed of the model's noise (Gibbs draws, reparameterisation).

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("infinite_vae", input_shape=data.input_shape, num_classes=10,
        ...                  max_components=4, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> int(model.active_components()), model.sample(4).shape
        (..., (4, 8, 8, 1))

    Paper: Abbasnejad, Dick, van den Hengel, "Infinite Variational Autoencoder
    for Semi-Supervised Learning", CVPR 2017, arXiv 1611.07800.
    """

    roles = ("vae", "c")
    log_names = ("loss", "unlabeled_bound", "classification", "active_components")
    eval_log_names = ("elbo",)

    def __init__(self, input_shape, num_classes, max_components=10, concentration=1.0, initial_components=1,
                 count_decay=0.99, min_count=0.01, latent_dim=16, arch="auto", likelihood="bernoulli",
                 expert_hidden=64, classification_weight=1.0, learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if int(max_components) != max_components or max_components < 1:
            raise ValueError(f"max_components must be an integer >= 1; got {max_components!r}")
        if not concentration > 0 or math.isinf(concentration):
            raise ValueError(f"concentration (the DP's alpha) must be a finite number > 0; got {concentration!r}")
        if int(initial_components) != initial_components or not 1 <= initial_components <= max_components:
            raise ValueError(f"initial_components must be an integer in [1, max_components={max_components}]; "
                             f"got {initial_components!r}")
        if not 0.0 <= count_decay < 1.0:
            raise ValueError(f"count_decay must be in [0, 1); got {count_decay!r}")
        if not 0.0 <= min_count < 1.0:
            raise ValueError(f"min_count must be in [0, 1) (an assigned example counts 1); got {min_count!r}")
        if not classification_weight >= 0:
            raise ValueError(f"classification_weight must be >= 0; got {classification_weight!r}")
        if int(expert_hidden) != expert_hidden or expert_hidden < 0:
            raise ValueError(f"expert_hidden must be an integer >= 0; got {expert_hidden!r}")
        self.max_components = int(max_components)
        self.concentration = float(concentration)
        self.log_concentration = math.log(self.concentration)
        self.initial_components = int(initial_components)
        self.count_decay = float(count_decay)
        self.min_count = float(min_count)
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.likelihood = likelihood
        self.expert_hidden = int(expert_hidden)
        self.classification_weight = float(classification_weight)
        self.learning_rate = float(learning_rate)
        k = self.max_components
        hidden = [self.expert_hidden] if self.expert_hidden else []
        self.vaes, self.experts = [], []
        for i in range(k):
            with keras.name_scope(f"slot_{i}"):  # distinct weight paths for the slots' identical nets
                self.vaes.append(VAE(self.image_shape, latent_dim=self.latent_dim, arch=arch,
                                     likelihood=likelihood, posterior_log_var_bound=POSTERIOR_LOG_VAR_BOUND,
                                     name=f"vae_{i}"))
                self.experts.append(nets.vector_mlp(self.latent_dim, hidden, self.num_classes, name=f"expert_{i}"))
        initial = [1.0] * self.initial_components + [0.0] * (k - self.initial_components)
        self.counts = self.add_weight(shape=(k,), initializer=keras.initializers.Constant(initial),
                                      trainable=False, name="counts", aggregation="only_first_replica")
        self._finish_build()

    def role_layers(self):
        return {"vae": [layer for vae in self.vaes for layer in vae.role_layers()["vae"]],
                "c": list(self.experts)}

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate) for role in self.roles}

    # ------------------------------------------------------------ components
    def components(self, x, noise=None, training=False):
        """Posterior means (n, K, latent_dim) and ELBOs (n, K) of every slot's VAE.

        With `noise` (K, n, latent_dim), z = mu + sigma * noise (the one-sample
        ELBO); without, z = mu (the deterministic plug-in of the gates).
        """
        means, elbos = [], []
        for k, vae in enumerate(self.vaes):
            mean, log_var = vae.posterior(x, training)
            z = mean if noise is None else reparameterize(mean, log_var, noise[k])
            elbos.append(vae.log_likelihood(x, z, training) - losses.gaussian_kl(mean, log_var))
            means.append(mean)
        return ops.stack(means, axis=1), ops.stack(elbos, axis=1)

    def active_components(self):
        """Number of active slots (as a tensor)."""
        return ops.sum(ops.cast(active_slots(self.counts, self.min_count), "int32"))

    def log_weights(self):
        """log pi_k = log n_k / sum of active counts; `NEVER` for inactive slots."""
        active = active_slots(self.counts, self.min_count)
        log_pi = ops.where(active, ops.log(ops.maximum(self.counts, 1e-30)), NEVER)
        return log_pi - ops.logsumexp(log_pi)

    def gates(self, elbos):
        """log w_k(x) = log p(c = k | x) ∝ log pi_k + ELBO_k(x), shape (n, K)."""
        return ops.log_softmax(self.log_weights()[None, :] + elbos, axis=-1)

    def expert_log_probs(self, means):
        """log softmax of every expert on its own component's code, shape (n, K, classes)."""
        return ops.stack([ops.log_softmax(expert(means[:, k])) for k, expert in enumerate(self.experts)], axis=1)

    def class_log_probs(self, x, training=False):
        """log p(y|x) = log sum_k w_k(x) p_k(y | mu_k(x)): the mixture of experts."""
        means, elbos = self.components(x)
        return ops.logsumexp(self.gates(elbos)[..., None] + self.expert_log_probs(means), axis=1)

    # -------------------------------------------------------------- training
    def gibbs_step(self, elbos):
        """Sample c_i for every row of `elbos` (n, K) from the CRP conditional; one-hot (n, K)."""
        logits = crp_log_prior(self.counts, self.log_concentration, self.min_count)[None, :] + elbos
        choice = keras.random.categorical(logits, 1, seed=self.seed_generator)[:, 0]
        return ops.one_hot(choice, self.max_components)

    def update_counts(self, assignment):
        """n_k <- decay * n_k + (examples assigned to k); emptied slots become inactive."""
        batch_counts = ops.sum(assignment, axis=0)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            batch_counts = context.all_reduce(tf.distribute.ReduceOp.SUM, batch_counts)
        counts = self.count_decay * self.counts + batch_counts
        self.counts.assign(ops.where(counts > self.min_count, counts, 0.0))

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        n, n_labeled = ops.shape(x)[0], ops.shape(x_labeled)[0]
        # One pass of every VAE over both batches: one-sample ELBOs of the unlabelled
        # images, deterministic ELBOs (zero noise: z = mu) and codes of the labelled ones.
        noise = ops.concatenate([self.normal((self.max_components, n, self.latent_dim)),
                                 ops.zeros((self.max_components, n_labeled, self.latent_dim))], axis=1)

        def loss_fn():
            means, elbos = self.components(ops.concatenate([x, x_labeled], axis=0), noise, training=True)
            # Unlabelled: a Gibbs step of the assignments, then each VAE's ELBO on its examples.
            assignment = self.gibbs_step(ops.stop_gradient(elbos[:n]))
            bound = ops.mean(ops.sum(assignment * elbos[:n], axis=-1))
            # Labelled: the experts' mixture likelihood of y; gates fixed, the codes' gradient scaled.
            log_gates = ops.stop_gradient(self.gates(elbos[n:]))
            codes = scale_gradient(means[n:], self.classification_weight)
            log_p = ops.logsumexp(log_gates[..., None] + self.expert_log_probs(codes), axis=1)
            classification = -ops.mean(ops.take_along_axis(log_p, ops.cast(y_labeled, "int32")[:, None], axis=1))
            loss = -bound + classification
            return loss, {"loss": loss, "unlabeled_bound": bound, "classification": classification,
                          "assignment": assignment}

        _, logs = self.minimize(("vae", "c"), loss_fn)
        self.update_counts(logs.pop("assignment"))
        logs["active_components"] = ops.cast(self.active_components(), "float32")
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        return {"elbo": self._elbo_batch(x)}

    def call(self, x, training=False):
        """Class probabilities p(y|x) of the mixture of experts."""
        return ops.exp(self.class_log_probs(x, training))

    # ---------------------------------------------------------- capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

    def _encode_batch(self, x):
        means, elbos = self.components(x)
        best = ops.argmax(self.gates(elbos), axis=-1)
        return ops.sum(means * ops.one_hot(best, self.max_components)[..., None], axis=1)

    def _elbo_batch(self, x):
        noise = self.normal((self.max_components, ops.shape(x)[0], self.latent_dim))
        elbos = self.components(x, noise)[1]
        return ops.logsumexp(self.log_weights()[None, :] + elbos, axis=-1)

    def _sample_batch(self, n, labels, seed_generator):
        logits = ops.repeat(self.log_weights()[None, :], n, axis=0)
        component = keras.random.categorical(logits, 1, seed=seed_generator)[:, 0]
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        images = ops.stack([vae._decoder_mean(z) for vae in self.vaes], axis=1)  # (n, K, h, w, c)
        pick = ops.reshape(ops.one_hot(component, self.max_components), (n, self.max_components, 1, 1, 1))
        return ops.sum(images * pick, axis=1)
