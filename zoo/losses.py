"""Losses of the zoo as pure functions of tensors (keras.ops).

Every loss returns the mean over the batch it is given; `ZooModel.minimize`
turns that into the mean over the global batch under `tf.distribute`.
Per-example quantities (log-likelihoods, KL terms) return one value per
example, so a method can weight or sum them before taking the mean.
"""

from __future__ import annotations

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


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
    real_mean = ops.mean(ops.reshape(real_features, (ops.shape(real_features)[0], -1)), axis=0)
    fake_mean = ops.mean(ops.reshape(fake_features, (ops.shape(fake_features)[0], -1)), axis=0)
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


# ------------------------------------------------- binary (real/fake) GAN
# Goodfellow et al. 2014 (arXiv 1406.2661), Eq. 1, with D = sigmoid(logits):
#   -log D(a)      = softplus(-logits),   -log (1 - D(a)) = softplus(logits).
# The discriminator minimises binary_real_loss(D(real)) + binary_fake_loss(D(fake));
# the non-saturating generator minimises binary_real_loss(D(fake)).
def binary_real_loss(logits):
    """-E log sigmoid(logits): "this is real" (the discriminator on data, or a non-saturating generator)."""
    return ops.mean(ops.softplus(-logits))


def binary_fake_loss(logits):
    """-E log(1 - sigmoid(logits)): "this is fake"."""
    return ops.mean(ops.softplus(logits))


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
def gaussian_kernel_sum(a, b, bandwidths):
    """sum_s exp(-||a_i - b_j||^2 / (2 s^2)) for every pair (i, j): shape (len(a), len(b))."""
    a = ops.reshape(a, (ops.shape(a)[0], -1))
    b = ops.reshape(b, (ops.shape(b)[0], -1))
    squared = (ops.sum(ops.square(a), axis=-1)[:, None] + ops.sum(ops.square(b), axis=-1)[None, :]
               - 2.0 * ops.matmul(a, ops.transpose(b)))
    squared = ops.maximum(squared, 0.0)
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
