"""Losses of the zoo as pure functions of tensors (keras.ops).

Every loss returns the mean over the batch it is given; `ZooModel.minimize`
turns that into the mean over the global batch under `tf.distribute`.
Per-example quantities (log-likelihoods, KL terms) return one value per
example, so a method can weight or sum them before taking the mean.
"""

from __future__ import annotations

import math

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
    local = ops.mean(x, axis=0)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return local
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, local)


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
