"""Losses of the zoo as pure functions of tensors (keras.ops).

Every loss returns the mean over the batch it is given; `ZooModel.minimize`
turns that into the mean over the global batch under `tf.distribute`.
Per-example quantities (log-likelihoods, KL terms) return one value per
example, so a method can weight or sum them before taking the mean.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------ batch means
def batch_mean(x):
    """Mean over axis 0 of the *global* batch.

    Losses built on batch statistics (feature matching, MMD, marginal
    entropies) are not sums of per-example terms, so the per-replica mean
    that `ops.mean` gives under `tf.distribute` is not the single-device one.
    In a replica context with several replicas this all-reduces the
    per-replica means (equal per-replica batches, as Keras distributes them);
    the all-reduce is differentiable, so gradients are those of the global
    statistic.
    """
    return _all_reduce(ops.mean(x, axis=0), tf.distribute.ReduceOp.MEAN)


def batch_sum(x):
    """Sum over axis 0 of the *global* batch (all-reduced across replicas, differentiably)."""
    return _all_reduce(ops.sum(x, axis=0), tf.distribute.ReduceOp.SUM)


def replica_sum(local):
    """`local`, a statistic this replica summed over its rows, summed over the replicas (the global batch's)."""
    return _all_reduce(local, tf.distribute.ReduceOp.SUM)


def _all_reduce(local, op):
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return local
    return context.all_reduce(op, local)


def batch_gather(x):
    """The *global* batch of `x`: every replica's rows, concatenated in replica order.

    For losses over pairs of examples (the pull-away term); the all-gather
    passes gradients back to the replica that owns each row.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x
    return context.all_gather(x, axis=0)


# ----------------------------------------------------------- classification
def cross_entropy(labels, logits):
    """Mean softmax cross-entropy of integer `labels` under `logits`."""
    return ops.mean(
        ops.sparse_categorical_crossentropy(ops.cast(labels, "int32"), logits, from_logits=True)
    )


# --------------------------------------------------- K+1 class discriminator
# Salimans et al. 2016 (arXiv 1606.03498), Sec. 5: a K-class classifier with
# logits l_1..l_K is a K+1 class discriminator whose fake logit is fixed at 0,
# so D(x) = p(real|x) = Z(x) / (Z(x) + 1) with Z(x) = sum_k exp l_k(x). Then
#   -log D(x)       = softplus(LSE(l)) - LSE(l)
#   -log (1 - D(x)) = softplus(LSE(l))
def kplus1_real_loss(logits):
    """-E log D(x) for real (or, for the generator, generated) examples."""
    lse = ops.logsumexp(logits, axis=-1)
    return ops.mean(ops.softplus(lse) - lse)


def kplus1_fake_loss(logits):
    """-E log(1 - D(x)) for generated examples."""
    return ops.mean(ops.softplus(ops.logsumexp(logits, axis=-1)))


def feature_matching(real_features, fake_features):
    """|| E f(x) - E f(G(z)) ||^2 averaged over features (Salimans et al. 2016, Sec. 3.1).

    The paper writes the squared L2 norm; its code averages over features,
    which is the same objective scaled by 1 / feature count.
    """
    # In float32: under mixed precision the features are float16 activations, the loss a float32 one.
    real_features, fake_features = ops.cast(real_features, "float32"), ops.cast(fake_features, "float32")
    real_mean = batch_mean(ops.reshape(real_features, (ops.shape(real_features)[0], -1)))
    fake_mean = batch_mean(ops.reshape(fake_features, (ops.shape(fake_features)[0], -1)))
    return ops.mean(ops.square(real_mean - fake_mean))


# ----------------------------------------------------------- variational
def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over latent dimensions.

    Kingma & Welling 2013 (arXiv 1312.6114), Appendix B:
    -KL = 1/2 sum(1 + log s^2 - m^2 - s^2).
    """
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def bottleneck_multiplier(beta, kl, information_constraint, step):
    """The variational discriminator bottleneck's dual ascent on its Lagrange multiplier (Peng et al. 2019,
    arXiv 1810.00821, Eq. 8): beta <- max(0, beta + step (E[KL] - I_c)). beta grows while the encoding carries
    more than I_c nats and shrinks (never below 0) while it carries less. Shared by `vdb` and `vail`."""
    return ops.maximum(0.0, beta + step * (kl - information_constraint))


def gail_reward(logits):
    """-log D(s, a) per pair, D = sigmoid(logits) the discriminator's probability that the pair is the policy's
    (Ho & Ermon 2016, arXiv 1606.03476, Alg. 1: the policy's cost is log D): softplus(-logits). Always > 0,
    and large where D takes the pair for the expert's."""
    return ops.softplus(-logits)


def bernoulli_log_likelihood(targets, logits):
    """log p(x) of targets in [0, 1] under independent Bernoulli(sigmoid(logits)), per example."""
    per_pixel = targets * logits - ops.softplus(logits)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


def gaussian_log_likelihood(x, mean, log_var):
    """log N(x; mean, exp(log_var)) per example, summed over all but the first axis."""
    per_unit = -0.5 * (LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var))
    return ops.sum(ops.reshape(per_unit, (ops.shape(per_unit)[0], -1)), axis=-1)


def standard_normal_log_density(z):
    """log N(z; 0, I) per example."""
    return ops.sum(-0.5 * (LOG_2PI + ops.square(z)), axis=-1)


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag exp(log_var)) summed over the last axis (any leading shape)."""
    return ops.sum(-0.5 * (LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var)), axis=-1)


def full_gaussian_log_density(x, mean, scale_tril):
    """log N(x; mean, L L^T) for a lower-triangular Cholesky factor L with a positive diagonal.

    x: (n, d); mean: (..., d); scale_tril: (..., d, d) with the same leading shape as `mean` (a batch of
    Gaussians, e.g. a mixture's components). Returns (..., n):
    -d/2 log 2 pi - sum_i log L_ii - 1/2 ||L^-1 (x - mean)||^2.
    """
    diff = x[None] - mean[..., None, :] if len(mean.shape) > 1 else x - mean
    if len(mean.shape) == 1:
        diff, scale_tril = diff[None], scale_tril[None]
    whitened = ops.solve_triangular(scale_tril, ops.swapaxes(diff, -1, -2), lower=True)  # (..., d, n)
    log_det = ops.sum(ops.log(ops.diagonal(scale_tril, axis1=-2, axis2=-1)), axis=-1)
    d = ops.shape(x)[-1]
    log_density = (-0.5 * ops.cast(d, x.dtype) * LOG_2PI - log_det[..., None]
                   - 0.5 * ops.sum(ops.square(whitened), axis=-2))
    return log_density[0] if len(mean.shape) == 1 else log_density


def categorical_entropy(logits):
    """H(softmax(logits)) = -sum_y q(y) log q(y) per example (last axis: classes)."""
    log_q = ops.log_softmax(logits, axis=-1)
    return -ops.sum(ops.exp(log_q) * log_q, axis=-1)


def marginalized_bound(class_logits, class_bounds):
    """The bound of an unlabelled x with the class summed out exactly, per example.

    Kingma et al. 2014 (arXiv 1406.5298), Eq. 7:
        -U(x) = sum_y q(y|x) (-L(x, y)) + H(q(y|x))
    i.e. U here is returned with the sign of a bound: sum_y q(y|x) L(x,y) + H(q(y|x)).

    Args:
        class_logits: (batch, K) logits of q(y|x).
        class_bounds: (batch, K) the labelled bound L(x, y) for every class y.
    """
    probs = ops.softmax(class_logits, axis=-1)
    return ops.sum(probs * class_bounds, axis=-1) + categorical_entropy(class_logits)


def importance_weighted_bound(log_weights, axis=0):
    """log (1/k) sum_i w_i from log-weights log w_i = log p(x, h_i) - log q(h_i|x).

    Burda et al. 2015 (arXiv 1509.00519), Eq. 8; `axis` holds the k samples.
    With k = 1 it is the one-sample ELBO estimate.
    """
    k = ops.shape(log_weights)[axis]
    return ops.logsumexp(log_weights, axis=axis) - ops.log(ops.cast(k, log_weights.dtype))


def linear_warmup(step, warmup_steps):
    """Deterministic warm-up weight min(1, step / warmup_steps) (Sønderby et al. 2016,
    arXiv 1602.02282, Sec. 2.3); 1 when warmup_steps is 0."""
    if not warmup_steps:
        return 1.0
    return ops.minimum(1.0, ops.cast(step, "float32") / float(warmup_steps))


# ---------------------------------------------------- dynamic binarisation
#: The values a Bernoulli-likelihood method's `binarize` argument takes: None
#: scores the grey levels as Bernoulli targets; "dynamic" re-draws binary pixels
#: every training step.
BINARIZATIONS = (None, "dynamic")


def binarization(binarize, likelihood="bernoulli"):
    """The canonical value of a `binarize` argument: None or "dynamic".

    False is None and True is "dynamic" (the boolean form `vae` and `iwae`
    took first); binarising needs a Bernoulli likelihood.
    """
    value = {False: None, True: "dynamic"}.get(binarize, binarize) if isinstance(binarize, bool) else binarize
    if value not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS} (or a bool); got {binarize!r}")
    if value is not None and likelihood != "bernoulli":
        raise ValueError(f"binarize={value!r} needs likelihood='bernoulli'; got {likelihood!r}")
    return value


def binarize_dynamically(x, seed):
    """Fresh binary pixels b ~ Bernoulli((x + 1) / 2), independently per pixel, on the [-1, 1] scale.

    Dynamic binarisation: each call draws a new binary image whose pixel is
    1 (returned as 1.0) with probability equal to its grey level in [0, 1]
    and 0 (returned as -1.0) otherwise, so that a Bernoulli likelihood scores
    a real binary sample (a normalised likelihood) and every step sees new
    noise. Kingma et al.'s code (nips14-ssl, `np.random.binomial`) and
    Maaløe et al.'s (`_srng.binomial` on the labelled and the unlabelled
    batch) re-draw every minibatch, as does the IWAE protocol (Burda et al.
    2015). `seed` is the model's `keras.random.SeedGenerator`, so the draws are
    reproducible and saved with the model.
    """
    grey = (x + 1.0) / 2.0
    on = keras.random.uniform(ops.shape(x), seed=seed, dtype=x.dtype) < grey
    return ops.where(on, ops.ones_like(x), -ops.ones_like(x))


# ------------------------------------------------- binary GAN terms on logits
# Goodfellow et al. 2014 (arXiv 1406.2661), Eq. 1, with D = sigmoid(l):
#   -log D = softplus(-l) and -log(1 - D) = softplus(l).
# The discriminator minimises real_logit_loss(D(real)) + fake_logit_loss(D(fake));
# the non-saturating generator minimises real_logit_loss(D(fake)).
def real_logit_loss(logits):
    """-E log sigmoid(l): the logits' examples should be judged real."""
    return ops.mean(ops.softplus(-logits))


def fake_logit_loss(logits):
    """-E log(1 - sigmoid(l)): the logits' examples should be judged fake."""
    return ops.mean(ops.softplus(logits))


def domain_classification_loss(source_logits, target_logits):
    """DANN's domain loss (Ganin et al. 2016, Eq. 10's L_d terms): the logistic loss of a domain classifier
    whose logit says "target" (d = 1) against "source" (d = 0), the mean over each domain's examples
    summed: 1/n sum_source -log(1 - sigmoid(l)) + 1/n' sum_target -log sigmoid(l)."""
    return fake_logit_loss(source_logits) + real_logit_loss(target_logits)


def minimax_generator_loss(logits):
    """E log(1 - sigmoid(l)) on G's samples: the generator's side of the minimax game (Goodfellow et al. 2014,
    Eq. 1), which saturates while D rejects the samples confidently; `real_logit_loss` is the non-saturating
    alternative the same paper recommends in practice."""
    return -fake_logit_loss(logits)


# ----------------------------------------------------------- Wasserstein
# Arjovsky, Chintala & Bottou 2017 (arXiv 1701.07875), Eq. 3 and Alg. 1: the critic f maximises
# E f(x) - E f(G(z)), an estimate of the Wasserstein-1 distance when f is 1-Lipschitz; G minimises -E f(G(z)).
def wasserstein_critic_loss(real_scores, fake_scores):
    """E f(G(z)) - E f(x): the critic's loss, minus its Wasserstein estimate."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """-E f(G(z))."""
    return -ops.mean(fake_scores)


def gradient_penalty(critic, real, fake, epsilon, target=1.0):
    """E (||grad f(x_hat)||_2 - target)^2 at x_hat = eps x + (1 - eps) x~ (Gulrajani et al. 2017, arXiv
    1704.00028, Eq. 3 and Alg. 1, with eps ~ U[0, 1] per example, drawn by the caller). The gradient is taken
    per example (the scores are summed: each score depends on its own x_hat only) and keeps its graph, so the
    penalty's gradient reaches the critic's weights."""
    shape = [-1] + [1] * (len(real.shape) - 1)
    epsilon = ops.reshape(ops.cast(epsilon, real.dtype), shape)
    squared_norms = _squared_input_gradient_norms(critic, epsilon * real + (1.0 - epsilon) * fake)
    # The small constant keeps the norm's derivative finite where a gradient vanishes.
    return ops.mean(ops.square(ops.sqrt(squared_norms + 1e-12) - target))


def r1_penalty(critic, real):
    """E ||grad_x f(x)||^2 on real images (Mescheder et al. 2018, arXiv 1801.04406, Eq. 9, without its
    gamma / 2; the caller weighs it): per example, each score depending on its own x only, with the graph
    kept so the penalty's gradient reaches the critic's weights. StyleGAN's R1 and VGAN-GP's penalty."""
    return ops.mean(_squared_input_gradient_norms(critic, real))


def _squared_input_gradient_norms(critic, x):
    """||grad_x f(x_i)||^2 per example (the scores summed: each depends on its own x_i only), the graph kept."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(critic(x))
    gradients = tape.gradient(total, x)
    return ops.sum(ops.square(ops.reshape(gradients, (ops.shape(gradients)[0], -1))), axis=-1)


def orthogonal_regularization(kernels):
    """sum_W ||W^T W (1 - I)||_F^2 over `kernels`, each as an (inputs, outputs) matrix: BigGAN's
    orthogonal regularisation (Brock et al. 2019, Eq. 3, without its beta), which pushes the filters apart
    without constraining their norms (the diagonal is masked out)."""
    total = 0.0
    for kernel in kernels:
        w = ops.reshape(kernel, (-1, kernel.shape[-1]))
        gram = ops.matmul(ops.transpose(w), w)
        total = total + ops.sum(ops.square(gram * (1.0 - ops.eye(gram.shape[0], dtype=gram.dtype))))
    return total


def kplus1_real_loss_smoothed(logits, smoothing):
    """One-sided label smoothing of the K+1 real term (Salimans et al. 2016, Sec. 3.4).

    The real target is 1 - smoothing instead of 1 (fake targets stay 0):
    -E[(1 - s) log D(x) + s log(1 - D(x))], with D from `kplus1_real_loss`.
    """
    lse = ops.logsumexp(logits, axis=-1)
    return ops.mean(ops.softplus(lse) - (1.0 - smoothing) * lse)


def historical_average(variables, averages):
    """sum_i ||theta_i - mean of past theta_i||^2 (Salimans et al. 2016, Sec. 3.3).

    `averages` are the running means of `variables` (the caller updates them).
    """
    return sum(ops.sum(ops.square(v - ops.stop_gradient(a))) for v, a in zip(variables, averages))


# ------------------------------------------------------- policy gradients
def ppo_clipped_surrogate(log_prob, old_log_prob, advantages, clip_ratio):
    """PPO's clipped surrogate objective to maximise (Schulman et al. 2017, arXiv 1707.06347, Eq. 7):
    E[min(r A, clip(r, 1 - eps, 1 + eps) A)] with r = pi(a|s) / pi_old(a|s) = exp(log_prob - old_log_prob)."""
    ratio = ops.exp(log_prob - old_log_prob)
    clipped = ops.clip(ratio, 1.0 - clip_ratio, 1.0 + clip_ratio)
    return ops.mean(ops.minimum(ratio * advantages, clipped * advantages))


def categorical_log_prob(actions, logits):
    """log pi(a|s) per example of integer `actions` under a softmax policy's `logits`."""
    return -ops.sparse_categorical_crossentropy(ops.cast(actions, "int32"), logits, from_logits=True)


# --------------------------------------------------------------- entropies
def entropy(logits):
    """Mean over the batch of H[p(y|x)] = -sum_y p log p, p = softmax(logits) (nats)."""
    return ops.mean(categorical_entropy(logits))


def marginal_entropy(logits):
    """H[E_x p(y|x)]: entropy of the class distribution averaged over the batch (nats)."""
    p = batch_mean(ops.softmax(logits, axis=-1))  # over the global batch under tf.distribute
    return -ops.sum(p * ops.log(p + 1e-8))


def catgan_discriminator_loss(real_logits, fake_logits):
    """CatGAN's unsupervised discriminator loss (Springenberg 2015, arXiv 1511.06390, Eq. 7).

    D maximises H_X[p(y|D)] - E_x H[p(y|x,D)] + E_z H[p(y|G(z),D)]: certain on
    real data, uncertain on generated data, all classes used equally on the
    real data. Returned as the loss to minimise:

        E_x H[p(y|x)] - H[E_x p(y|x)] - E_z H[p(y|G(z))]
    """
    return entropy(real_logits) - marginal_entropy(real_logits) - entropy(fake_logits)


def catgan_generator_loss(fake_logits):
    """CatGAN's generator loss (Springenberg 2015, Eq. 8): G minimises
    -H_G[p(y|D)] + E_z H[p(y|G(z),D)]: certain class assignments, all classes used."""
    return entropy(fake_logits) - marginal_entropy(fake_logits)


# ------------------------------------------------------------- Triple-GAN
def triple_gan_discriminator_loss(real_logits, classifier_logits, generator_logits, alpha, classifier_weights=None):
    """Triple-GAN's discriminator loss (Li et al. 2017, arXiv 1703.02291, Eq. 1 / Eq. 5):

        -E_p log D(x, y) - alpha E_{p_c} log(1 - D(x, y)) - (1 - alpha) E_{p_g} log(1 - D(x, y))

    on D's logits for the labelled pairs, the classifier's pairs
    (x, y ~ p_c(y|x)) and the generator's pairs (G(y, z), y). With
    `classifier_weights` (shape (batch, K), p_c(y|x) of every label, and
    `classifier_logits` of shape (batch, K) for every pair (x, y)), the
    expectation over y ~ p_c(y|x) is taken exactly: E_x sum_y p_c(y|x) (...).
    """
    if classifier_weights is None:
        classifier_term = fake_logit_loss(classifier_logits)
    else:
        weighted = ops.stop_gradient(classifier_weights) * ops.softplus(classifier_logits)
        classifier_term = ops.mean(ops.sum(weighted, axis=-1))
    return real_logit_loss(real_logits) + alpha * classifier_term + (1.0 - alpha) * fake_logit_loss(generator_logits)


def triple_gan_classifier_adversarial_loss(pair_logits, probabilities, alpha):
    """The classifier's adversarial term of Triple-GAN (Li et al. 2017, Eq. 1), non-saturating.

    C's pairs (x, y) should fool D: alpha * E_x sum_y p_c(y|x) (-log D(x, y)),
    D's logits held fixed, so the gradient reaches C through p_c(y|x) (Eq. 5).
    `pair_logits` and `probabilities` are both (batch, K) for the exact
    expectation over labels, or both (batch,) for the argmax approximation of
    the paper's code (y = argmax p_c(y|x), weighted by its probability).
    """
    weighted = probabilities * ops.softplus(-ops.stop_gradient(pair_logits))
    if len(weighted.shape) == 2:
        weighted = ops.sum(weighted, axis=-1)
    return alpha * ops.mean(weighted)


def triple_gan_generator_loss(generator_logits, alpha):
    """(1 - alpha) * -E_{p_g} log D(G(y, z), y): the non-saturating form of Eq. 1 for G."""
    return (1.0 - alpha) * real_logit_loss(generator_logits)


def consistency(logits_a, logits_b):
    """Mean squared difference of the class probabilities of two stochastic passes
    (the Pi-model regulariser, Laine & Aila 2017, arXiv 1610.02242; Triple-GAN's
    classifier regulariser on SVHN/CIFAR), summed over classes, mean over the batch."""
    diff = ops.softmax(logits_a, axis=-1) - ops.softmax(logits_b, axis=-1)
    return ops.mean(ops.sum(ops.square(diff), axis=-1))


def classwise_feature_matching(real_features, real_labels, fake_features, fake_labels, num_classes):
    """Class-wise mean feature matching (Enhanced Triple-GAN, Wu et al. 2019):

        (1/K) sum_k || mean_{i: y_i = k} f(x_i) - mean_{j: y_j = k} f(G(z_j, k)) ||^2 / dim

    Classes absent from either batch contribute 0. Class sums and counts are
    those of the global batch under `tf.distribute` (`batch_sum`).
    """
    # In float32 (as the one-hots): under mixed precision the features are float16 activations.
    real_features, fake_features = ops.cast(real_features, "float32"), ops.cast(fake_features, "float32")
    real_onehot = ops.one_hot(ops.cast(real_labels, "int32"), num_classes)
    fake_onehot = ops.one_hot(ops.cast(fake_labels, "int32"), num_classes)
    real_counts = batch_sum(real_onehot)
    fake_counts = batch_sum(fake_onehot)
    # (K, dim) class sums as a batch sum of per-example outer products onehot_i f_i^T.
    real_sums = batch_sum(real_onehot[:, :, None] * real_features[:, None, :])
    fake_sums = batch_sum(fake_onehot[:, :, None] * fake_features[:, None, :])
    real_means = real_sums / ops.maximum(real_counts, 1.0)[:, None]
    fake_means = fake_sums / ops.maximum(fake_counts, 1.0)[:, None]
    present = ops.cast((real_counts > 0) & (fake_counts > 0), real_features.dtype)
    per_class = ops.mean(ops.square(real_means - fake_means), axis=-1)
    return ops.sum(present * per_class) / num_classes


# ---------------------------------------------------------------- Bad GAN
def pull_away_term(features):
    """Pull-away term (Zhao et al. 2017, arXiv 1609.03126, Eq. 8; Bad GAN's generator entropy
    surrogate, Dai et al. 2017, Sec. 4):

        PT = 1 / (N (N - 1)) sum_{i != j} ( f_i . f_j / (||f_i|| ||f_j||) )^2

    over the global batch under `tf.distribute` (`batch_gather`).
    """
    # In float32: under mixed precision the features are float16, where the 1e-12 is 0 and squares overflow.
    features = batch_gather(ops.cast(features, "float32"))
    f = ops.reshape(features, (ops.shape(features)[0], -1))
    f = f / ops.sqrt(ops.sum(ops.square(f), axis=-1, keepdims=True) + 1e-12)
    n = ops.cast(ops.shape(f)[0], f.dtype)
    cosine = ops.matmul(f, ops.transpose(f))
    return (ops.sum(ops.square(cosine)) - ops.sum(ops.square(ops.diagonal(cosine)))) / (n * (n - 1.0))


# --------------------------------------------------------------- L2-SVM
def squared_hinge(labels, scores):
    """One-vs-rest L2-SVM loss: mean over the batch of sum_k max(0, 1 - t_k s_k)^2,
    t_k = +1 for the true class and -1 otherwise (the linear L2-SVM that Radford
    et al. 2015 train on DCGAN features)."""
    targets = 2.0 * ops.one_hot(ops.cast(labels, "int32"), ops.shape(scores)[-1]) - 1.0
    return ops.mean(ops.sum(ops.square(ops.relu(1.0 - targets * scores)), axis=-1))


# ------------------------------------------------------------------ hinge
# The hinge GAN loss (Lim & Ye 2017, arXiv 1705.02894; Miyato et al. 2018), summed
# over the last axis so that a discriminator with several scores per example
# (BigBiGAN's s_x, s_z, s_xz; Donahue & Simonyan 2019, arXiv 1907.02544, Sec. 2)
# is trained on the sum of one hinge term per score.
def hinge_real_loss(scores):
    """E sum_k max(0, 1 - s_k): the scores' examples should be judged real."""
    return ops.mean(ops.sum(ops.relu(1.0 - scores), axis=-1))


def hinge_fake_loss(scores):
    """E sum_k max(0, 1 + s_k): the scores' examples should be judged fake."""
    return ops.mean(ops.sum(ops.relu(1.0 + scores), axis=-1))


def score_loss(scores, sign):
    """E [sign * sum_k s_k]: the generator side of the hinge GAN (BigBiGAN's l_EG(x, z, y) =
    y (s_x + s_z + s_xz) with y = sign: +1 for data pairs (x, E(x)), -1 for generated pairs (G(z), z))."""
    return sign * ops.mean(ops.sum(scores, axis=-1))


# ------------------------------------------------ tangent (Jacobian) penalty
def tangent_penalty(directional_derivatives):
    """E ||J_x f(x) v||^2: the mean over the batch of the squared norm of a net's
    directional derivatives along tangent vectors v (Kumar et al. 2017, arXiv
    1705.08850, Sec. 3: the classifier should not change along the data manifold).
    `directional_derivatives` is J_x f(x) v, shape (batch, outputs)."""
    d = ops.reshape(directional_derivatives, (ops.shape(directional_derivatives)[0], -1))
    return ops.mean(ops.sum(ops.square(d), axis=-1))


# ------------------------------------------------- binary (real/fake) GAN
# ------------------------------------------------------------ autoencoders
def mean_squared_error(x, x_hat):
    """Mean over the batch of the per-example mean squared error."""
    return ops.mean(ops.square(x - x_hat))


def cluster_head_penalty(heads, threshold):
    """Sum over pairs i < j of max(0, threshold - ||W_i - W_j||) for cluster heads W (K, n).

    Makhzani et al. 2015 (arXiv 1511.05644), Sec. 7: the dimensionality
    reduction AAE penalises every two cluster heads closer than a threshold eta.
    """
    k = ops.shape(heads)[0]
    squared = ops.sum(ops.square(heads[:, None, :] - heads[None, :, :]), axis=-1)
    upper = ops.triu(ops.ones((k, k)), 1)
    # Distances of the pairs i < j; the diagonal (0) is masked before the sqrt.
    distances = ops.sqrt(squared + (1.0 - upper))
    return ops.sum(upper * ops.relu(threshold - distances))


# ---------------------------------------------------------- moment matching
def pairwise_squared_distances(a, b):
    """||a_i - b_j||^2 for every pair (i, j) of the flattened rows: shape (len(a), len(b)), clipped at 0."""
    a = ops.reshape(a, (ops.shape(a)[0], -1))
    b = ops.reshape(b, (ops.shape(b)[0], -1))
    squared = (ops.sum(ops.square(a), axis=-1)[:, None] + ops.sum(ops.square(b), axis=-1)[None, :]
               - 2.0 * ops.matmul(a, ops.transpose(b)))
    return ops.maximum(squared, 0.0)


def gaussian_kernel_sum(a, b, bandwidths):
    """sum_s exp(-||a_i - b_j||^2 / (2 s^2)) for every pair (i, j): shape (len(a), len(b))."""
    squared = pairwise_squared_distances(a, b)
    return sum(ops.exp(-squared / (2.0 * float(s) ** 2)) for s in bandwidths)


def mmd_squared(x, y, bandwidths):
    """Biased (V-statistic) estimate of MMD^2 between samples x and y with a mix of Gaussian kernels.

    Li, Swersky & Zemel 2015 (arXiv 1502.02761), Eq. 2 and Sec. 3.2:
        MMD^2 = 1/N^2 sum k(x_i, x_i') - 2/(NM) sum k(x_i, y_j) + 1/M^2 sum k(y_j, y_j')
    with k = sum_s exp(-||a - b||^2 / (2 s^2)).
    """
    return (ops.mean(gaussian_kernel_sum(x, x, bandwidths)) - 2.0 * ops.mean(gaussian_kernel_sum(x, y, bandwidths))
            + ops.mean(gaussian_kernel_sum(y, y, bandwidths)))


def mmd(x, y, bandwidths, eps=1e-8):
    """sqrt(MMD^2) (clipped at 0): the loss GMMN trains, which the paper found better than MMD^2 (Sec. 3.2)."""
    return ops.sqrt(ops.maximum(mmd_squared(x, y, bandwidths), 0.0) + eps)


# ------------------------------------------------------------ vector quantisation
def _per_example_sum(x):
    return ops.sum(ops.reshape(x, (ops.shape(x)[0], -1)), axis=-1)


def codebook_loss(z_e, z_q):
    """||sg[z_e] - e||^2 of the VQ-VAE (van den Oord et al. 2017, arXiv 1711.00937, Eq. 3, second term):
    moves the chosen codes e = z_q towards the encoder outputs, which it leaves alone. Squared distances
    summed over the latent grid and its D dimensions, per example; mean over the batch."""
    return ops.mean(_per_example_sum(ops.square(ops.stop_gradient(z_e) - z_q)))


def commitment_loss(z_e, z_q):
    """||z_e - sg[e]||^2 (Eq. 3, third term, weighted by beta there): keeps the encoder outputs near the codes
    they chose, which it leaves alone. Summed per example as `codebook_loss`; mean over the batch."""
    return ops.mean(_per_example_sum(ops.square(z_e - ops.stop_gradient(z_q))))


def codebook_perplexity(codes, codebook_size):
    """exp(H(u)) of the codes' usage u over the global batch and every position (u_k: the share of positions
    that chose code k): 1 when one code takes all, K when all K are used equally."""
    onehot = ops.one_hot(ops.reshape(codes, (ops.shape(codes)[0], -1)), codebook_size, dtype="float32")
    usage = batch_mean(ops.mean(onehot, axis=1))
    return ops.exp(-ops.sum(usage * ops.log(usage + 1e-10)))
