"""DCGAN features (Radford et al. 2015): an unsupervised GAN's discriminator features + a linear L2-SVM."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import NoiseGenerator, ZooModel
from zoo.registry import register


@register("dcgan_features")
class DCGANFeatures(NoiseGenerator, ZooModel):
    """A GAN trained on all images (no labels); a linear classifier on its discriminator's features.

    D(x) = sigmoid(w . f(x) + b) with f the `zoo.nets.features` trunk, G(z)
    a `zoo.nets.generator`, trained by the GAN game on the unlabelled stream
    (Goodfellow et al. 2014, with the non-saturating generator loss):

        L_D = -E_x log D(x) - E_z log(1 - D(G(z)))        L_G = -E_z log D(G(z))

    At the same time a linear classifier s(x) = W f(x) + c on the frozen
    features (no gradient reaches D) is trained on the labelled batch with the
    one-vs-rest L2-SVM loss (Radford et al. 2015, Sec. 5.1):

        L_C = E_{x,y} sum_k max(0, 1 - t_k s_k(x))^2,  t_k = +1 if k = y else -1

    (`classifier_loss="cross_entropy"` uses softmax regression instead).
    `classify` returns softmax(s(x)). The GAN never sees a label.

    Deviation: the paper max-pools every discriminator layer to 4x4 and
    concatenates them (28,672 features on CIFAR-10), and fits the SVM after
    the GAN is trained; here the classifier reads the trunk's final features
    and is trained alongside the GAN.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z.
        arch: "auto" or a name in `zoo.nets.ARCHITECTURES`.
        classifier_loss: "squared_hinge" (L2-SVM) or "cross_entropy".
        learning_rate: Adam's learning rate for D and G (DCGAN: 2e-4, beta_1 0.5).
        classifier_learning_rate: Adam's learning rate for the linear classifier.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("dcgan_features", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Radford, Metz, Chintala, "Unsupervised Representation Learning with
    Deep Convolutional Generative Adversarial Networks", arXiv 1511.06434.
    """

    roles = ("d", "g", "c")
    log_names = ("d_loss", "g_loss", "c_loss")
    CLASSIFIER_LOSSES = ("squared_hinge", "cross_entropy")

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", classifier_loss="squared_hinge",
                 learning_rate=2e-4, classifier_learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if classifier_loss not in self.CLASSIFIER_LOSSES:
            raise ValueError(f"classifier_loss must be one of {self.CLASSIFIER_LOSSES}; got {classifier_loss!r}")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.classifier_loss = classifier_loss
        self.learning_rate = float(learning_rate)
        self.classifier_learning_rate = float(classifier_learning_rate)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features = nets.features(resolved, self.image_shape, name="d_features")
        width = self.features.output.shape[-1]
        self.discriminator_head = nets.dense_head(1, width, "d_logit")
        self.classifier_head = nets.dense_head(num_classes, width, "c_scores")
        self.generator = nets.generator(resolved, self.latent_dim, self.image_shape)
        self._finish_build()

    def role_layers(self):
        return {"d": [self.features, self.discriminator_head], "g": [self.generator], "c": [self.classifier_head]}

    def default_optimizers(self):
        # Radford et al. 2015, Sec. 4: Adam, lr 2e-4, beta_1 0.5.
        return {"d": keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                "g": keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                "c": keras.optimizers.Adam(self.classifier_learning_rate)}

    def d_logits(self, x, training=False):
        return ops.squeeze(self.discriminator_head(self.features(x, training=training)), -1)

    def discriminator_losses(self, x, z):
        """L_D on the unlabelled images alone."""
        x_fake = ops.stop_gradient(self.generate(z, training=True))
        loss = losses.real_logit_loss(self.d_logits(x, True)) + losses.fake_logit_loss(self.d_logits(x_fake, True))
        return loss, {"d_loss": loss}

    def generator_losses(self, z):
        loss = losses.real_logit_loss(self.d_logits(self.generate(z, training=True), True))
        return loss, {"g_loss": loss}

    def classifier_losses(self, x_labeled, y_labeled):
        scores = self.classifier_head(ops.stop_gradient(self.features(x_labeled, training=False)))
        if self.classifier_loss == "squared_hinge":
            loss = losses.squared_hinge(y_labeled, scores)
        else:
            loss = losses.cross_entropy(y_labeled, scores)
        return loss, {"c_loss": loss}

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        n = ops.shape(x)[0]
        _, d_logs = self.minimize("d", lambda: self.discriminator_losses(x, self.normal((n, self.latent_dim))))
        _, g_logs = self.minimize("g", lambda: self.generator_losses(self.normal((n, self.latent_dim))))
        _, c_logs = self.minimize("c", lambda: self.classifier_losses(x_labeled, y_labeled))
        return self.track(self.log_names, {**d_logs, **g_logs, **c_logs})

    def call(self, x, training=False):
        """Class probabilities softmax(s(x))."""
        return ops.softmax(self.classifier_head(self.features(x, training=training)))

    # ------------------------------------------------------------ capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

