"""Augmented BiGAN with manifold invariance (Kumar, Sattigeri & Fletcher 2017)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import jvp
from zoo.models.gan.bigan import SemiSupervisedALI
from zoo.registry import register


@register("augmented_bigan")
class AugmentedBiGAN(SemiSupervisedALI):
    """Semi-supervised BiGAN with feature matching, an augmented pair, and a tangent-invariance penalty.

    Kumar, Sattigeri & Fletcher 2017. Three players: an encoder E (the paper's
    h), a generator G (the paper's g) and a discriminator D(x, z) on BiGAN
    pairs with K class logits l(x, z) and the fake logit fixed at 0 (K+1
    classes, as in Salimans et al. 2016, Sec. 5), so D's probability that a
    pair is real is Z / (Z + 1) with Z = sum_k exp l_k. The classifier is
    c(x) = softmax(l(x, E(x))).

    Improved inference (the paper's Sec. 2). To BiGAN's two kinds of pairs,
    data pairs (x, E(x)) and generated pairs (G(z), z), the augmented BiGAN
    adds a third, the reconstruction pairs (G(E(x)), E(x)), which D must also
    call fake; G and E are trained by feature matching (Salimans et al. 2016,
    Sec. 3.1) on D's last hidden layer f(x, z), against generated pairs and
    against reconstruction pairs:

        L_GE = || E_x f(x, E(x)) - E_z f(G(z), z) ||^2
               + a || E_x f(x, E(x)) - E_x f(G(E(x)), E(x)) ||^2             (role "g": G and E)

    Manifold invariance (the paper's Sec. 3). The tangent space of the data
    manifold at x is estimated through the generator at the encoded point:
    the columns of J_z G(z) at z = E(x) span it. A tangent direction is
    v = J_z G(E(x)) eps / ||J_z G(E(x)) eps|| for a random eps ~ N(0, I), and the
    classifier should not change along it:

        Omega = E_x || J_x l(x, E(x)) v ||^2

    D then minimises the K+1 loss of Improved-GAN on the pairs, plus Omega:

        L_D = -E_{(x,y) labelled} log softmax(l(x, E(x)))_y
              - E_x log D(x, E(x)) - E_z log(1 - D(G(z), z))
              - a E_x log(1 - D(G(E(x)), E(x))) + lambda Omega                (role "d")

    The tangent J_z G(E(x)) eps is computed exactly by forward-mode
    differentiation (`zoo.layers.jvp`; it needs no gradient, G is not trained
    by Omega). The classifier's derivative along it, J_x l v, is a central
    difference, (l(x + h v) - l(x - h v)) / 2h with h = 0.01 (the unit v moves
    x by 0.01 in L2 norm), because Omega must itself be differentiated to train
    D: a forward-mode product inside the training tape is second-order, which
    XLA (on by default on GPUs) cannot differentiate through D's concatenation.
    tests/test_augmented_bigan.py checks both against numpy central differences.

    Choices where the paper is silent or where we could not check it (the
    paper's full text was not at hand when this was written: the equations
    above follow its Sec. 2-3 as summarised, without equation numbers):

    * l's derivative is the total one, through both of D's inputs (x and
      E(x)), since c(x) = l(x, E(x)) is the classifier that is used; Omega
      steps D only (E is not asked to make the classifier invariant).
    * Omega penalises the K logits (not the softmax), so it also keeps D's
      real/fake score flat along the manifold; one random direction per
      example and step (eps is the step's latent noise), normalised to unit
      length so that lambda does not depend on the scale of G's Jacobian.
    * G is evaluated in inference mode for the tangents (batch norm with its
      moving statistics: G as it samples), and D in inference mode for the
      two finite-difference points (no dropout, so both see the same net).
    * The paper's further refinement of the tangent space (a low-dimensional
      latent auto-encoder p, p-bar whose Jacobian picks the dominant
      directions) is not implemented: the tangents are those of G itself.
    * The unlabelled images reach the adversarial and invariance terms
      without labels; the labels enter only the cross-entropy term of L_D.

    `classify(x)` is softmax(l(x, E(x))); `sample` is G(z); `encode` is E(x);
    calling the model gives the reconstruction G(E(x)), whose mean squared
    error `evaluate` logs beside the accuracy.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z.
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (E, G and D's image path).
        prior: "uniform" on [-1, 1]^d (BiGAN) or "gaussian".
        discriminator_units: width of D's code path and joint layers.
        dropout: dropout in D.
        learning_rate: Adam's learning rate for D and for G, E (beta_1 0.5, as
            Improved-GAN's code, on which the paper builds).
        supervised_weight: weight of the cross-entropy term.
        augmented_weight: a, the weight of the reconstruction pairs (1 = as the
            generated pairs).
        tangent_weight: lambda, the weight of Omega (0 = no invariance penalty).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("augmented_bigan", input_shape=data.input_shape, num_classes=10, latent_dim=16)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Kumar, Sattigeri & Fletcher, "Semi-supervised Learning with GANs:
    Manifold Invariance with Improved Inference", NIPS 2017, arXiv 1705.08850.
    """

    log_names = ("d_loss", "d_supervised", "d_tangent", "g_loss", "g_augmented")
    eval_log_names = ("reconstruction",)
    stochastic_encoder = False
    #: Step h of the central difference (l(x + h v) - l(x - h v)) / 2h along a unit tangent v.
    finite_difference_step = 1e-2

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", prior="uniform",
                 discriminator_units=512, dropout=0.2, learning_rate=3e-4, supervised_weight=1.0,
                 augmented_weight=1.0, tangent_weight=1.0, seed=None, **kwargs):
        ZooModel.__init__(self, input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if augmented_weight < 0 or tangent_weight < 0:
            raise ValueError("augmented_weight and tangent_weight must be >= 0")
        self._store(latent_dim, arch, prior, discriminator_units, dropout, learning_rate)
        self.supervised_weight = float(supervised_weight)
        self.augmented_weight = float(augmented_weight)
        self.tangent_weight = float(tangent_weight)
        self._build_nets(outputs=self.num_classes)
        # D's last hidden layer, for feature matching (shares D's weights).
        self.discriminator_features = nets.penultimate(self.discriminator, "discriminator_features")

    def default_optimizers(self):
        # The paper builds on Improved-GAN's code: Adam, beta_1 0.5, for D and for G with E.
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5) for role in self.roles}

    # --------------------------------------------------------------- pairs
    def pairs(self, x, z_prior, training=True):
        """The three kinds of pairs, stacked along the batch: data (x, E(x)), generated (G(z), z),
        reconstruction (G(E(x)), E(x)); `x` and `z_prior` have the same batch size."""
        x = ops.convert_to_tensor(x)
        z_data = self.posterior(x, training)[0]
        images = [x, self.generator(z_prior, training=training), self.generator(z_data, training=training)]
        return ops.concatenate(images), ops.concatenate([z_data, z_prior, z_data])

    @staticmethod
    def split_pairs(outputs):
        """D's outputs on `pairs(...)` -> (data, generated, reconstruction)."""
        return ops.split(outputs, 3)

    def tangents(self, x, eps):
        """Unit tangent vectors of the data manifold at x: J_z G(z) eps at z = E(x), normalised."""
        z = ops.stop_gradient(self.posterior(ops.convert_to_tensor(x))[0])
        v = ops.stop_gradient(jvp(lambda z_: self.generator(z_, training=False), z, eps))
        norm = ops.sqrt(ops.sum(ops.square(v), axis=(1, 2, 3), keepdims=True))
        return v / (norm + 1e-12)

    def tangent_penalty(self, x, eps):
        """Omega = E_x ||J_x l(x, E(x)) v||^2 along the tangents v of `tangents(x, eps)`,
        J_x l v by central differences of step `finite_difference_step`, D in inference mode."""
        x = ops.convert_to_tensor(x)
        v = self.finite_difference_step * self.tangents(x, eps)
        ahead, behind = ops.split(self.logits(ops.concatenate([x + v, x - v]), training=False), 2)
        return losses.tangent_penalty((ahead - behind) / (2.0 * self.finite_difference_step))

    # -------------------------------------------------------------- losses
    def discriminator_losses(self, x, z_prior, noise, training=True):
        """L_D's unsupervised terms and Omega, on the unlabelled images (no labels)."""
        images, codes = (ops.stop_gradient(t) for t in self.pairs(x, z_prior, training))
        data, generated, reconstructed = self.split_pairs(self.discriminator([images, codes], training=training))
        loss = (self.real_loss(data) + self.fake_loss(generated)
                + self.augmented_weight * self.fake_loss(reconstructed))
        tangent = self.tangent_penalty(x, noise) if self.tangent_weight else ops.zeros(())
        loss = loss + self.tangent_weight * tangent
        return loss, {"d_loss": loss, "d_tangent": tangent}

    def generator_losses(self, x, z_prior, noise, training=True):
        """L_GE: feature matching of data pairs against generated and reconstruction pairs (no labels)."""
        features = self.discriminator_features(list(self.pairs(x, z_prior, training)), training=training)
        data, generated, reconstructed = self.split_pairs(features)
        augmented = losses.feature_matching(data, reconstructed)
        loss = losses.feature_matching(data, generated) + self.augmented_weight * augmented
        return loss, {"g_loss": loss, "g_augmented": augmented}
