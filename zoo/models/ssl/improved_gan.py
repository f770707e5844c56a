"""Improved-GAN (Salimans et al. 2016): the K+1 SGAN with the paper's techniques as options."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.averaging import ExponentialAverage
from zoo.base import ZooModel
from zoo.layers import MinibatchDiscrimination
from zoo.models.ssl.sgan import SGAN
from zoo.registry import register


@register("improved_gan")
class ImprovedGAN(SGAN):
    """Improved-GAN: K+1 discriminator as K logits, feature matching, and the paper's techniques.

    The model of `sgan` (read its docstring): D has K logits l(x), the fake
    logit fixed at 0, so D(x) = Z(x) / (Z(x) + 1) with Z = sum_k exp l_k(x)
    (Salimans et al. 2016, Sec. 5), and

        L_D = -E_{x,y} log p(y | x, y < K+1)                    (Eq. 5, L_supervised)
              - w [E_x log D(x) + E_z log(1 - D(G(z)))]          (Eq. 5, L_unsupervised)
              + h sum_i ||theta_i - mean_t theta_i[t]||^2        (Sec. 3.3, historical averaging)
        L_G = || E f(x) - E f(G(z)) ||^2                         (Sec. 3.1, feature matching)

    on the features f of D's last hidden layer. Options, each from the paper:

    * `weight_norm` (default on): weight-normalised layers in D, as in the
      paper's MNIST and CIFAR code (Salimans & Kingma 2016).
    * `input_noise`: Gaussian noise on D's input (MNIST code: 0.3).
    * `minibatch_kernels` > 0: minibatch discrimination (Sec. 3.2, B kernels
      of dimension C = `minibatch_kernel_dim`) between f and the logits;
      the paper recommends it with the non-saturating generator loss for
      sample quality, feature matching for SSL accuracy.
    * `historical_weight` h > 0: historical averaging of D's weights
      (Sec. 3.3), the running mean over all past steps.
    * `label_smoothing` s > 0: one-sided label smoothing (Sec. 3.4), the
      real target is 1 - s in -E[(1 - s) log D(x) + s log(1 - D(x))].
    * `generator_loss="non_saturating"`: -E log D(G(z)) instead of feature matching.
    * `data_init` (default on): the data-dependent initialisation of D's
      weight-normalised layers (Salimans & Kingma 2016, Sec. 2.2) on 500
      training images, with D's noise on as in the reference code
      (`init_param(trainx[:500])`, computed with `deterministic=False`), run
      by the first `fit` (or `model.initialize(images)`) and recorded in the
      model's weights, so that a reloaded or resumed model keeps it.
    * `ema` d in (0, 1): classify, evaluate (and save) with an exponential
      moving average of D's weights, bias-corrected (`zoo.averaging`). The
      MNIST code tests with d = 0.9999, zero-initialised and not corrected.
    * `latent_distribution`: "normal" (z ~ N(0, I)) or "uniform" (U(0, 1),
      the MNIST code).
    * G's step reads a second, independent unlabelled batch (`"x2"`, which
      `fit(SSLData)` asks `zoo.data` for), as the reference code does.

    The reference setting for MNIST is the `improved_gan_mnist_100` recipe:
    the `improved_gan_mnist` nets of `zoo.nets`, w = 0.5 (the code's
    0.5 (real) + 0.5 (fake), against the paper's Eq. 5 weight of 1), Adam
    lr 3e-3, beta_1 0.5, and Adam's epsilon as the code has it. That code
    writes Adam's step as m_hat / sqrt(v_hat + 1e-8): epsilon inside the
    square root, which is epsilon ~ sqrt(1e-8) = 1e-4 in Keras' m_hat /
    (sqrt(v_hat) + epsilon); the zoo's optimizers use 1e-4 for that reason.
    (With Keras' default 1e-7 a port of that script collapsed on 3 of 3
    runs: D's unsupervised loss went to 0 and the error stalled.)

    * `virtual_batch_norm` R > 0: virtual batch normalisation in G (Sec.
      3.4; the paper used it in the generator only, since it costs a second
      forward pass): every generated image is normalised with a fixed
      reference batch of R noise vectors, drawn once from the model's seed
      and saved with it, instead of with its batch-mates
      (`zoo.layers.VirtualBatchNormalization`).

    The unlabelled images reach the unsupervised terms without labels.

    Args:
        input_shape, num_classes, latent_dim, arch, generator_loss,
        unlabeled_weight, dropout, input_noise, seed: as `sgan`.
        weight_norm: weight-normalised D.
        minibatch_kernels, minibatch_kernel_dim: minibatch discrimination (0 = off).
        historical_weight: h above (0 = off).
        virtual_batch_norm: R above (0 = batch norm in G).
        label_smoothing: s above (0 = off).
        data_init: data-dependent init of D's weight-normalised layers.
        ema: decay of the evaluation average of D's weights (None = off).
        latent_distribution: "normal" or "uniform".
        learning_rate: Adam's learning rate for D and G (beta_1 0.5). The
            paper's code: 3e-4 on CIFAR/SVHN, 3e-3 on MNIST.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("improved_gan", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen, "Improved
    Techniques for Training GANs", NeurIPS 2016, arXiv 1606.03498.
    """

    def __init__(self, input_shape, num_classes, latent_dim=100, arch="auto", generator_loss="feature_matching",
                 unlabeled_weight=1.0, dropout=0.5, input_noise=0.3, weight_norm=True, minibatch_kernels=0,
                 minibatch_kernel_dim=5, historical_weight=0.0, label_smoothing=0.0, learning_rate=3e-4,
                 virtual_batch_norm=0, data_init=True, ema=None, latent_distribution="normal", seed=None,
                 **kwargs):
        # SGAN's constructor is not called: this one builds D with the options.
        ZooModel.__init__(self, input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if generator_loss not in self.GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {self.GENERATOR_LOSSES}; got {generator_loss!r}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}")
        if historical_weight < 0 or minibatch_kernels < 0 or virtual_batch_norm < 0:
            raise ValueError("historical_weight, minibatch_kernels and virtual_batch_norm must be >= 0")
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.generator_loss = generator_loss
        self.unlabeled_weight = float(unlabeled_weight)
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self.weight_norm = bool(weight_norm)
        self.minibatch_kernels = int(minibatch_kernels)
        self.minibatch_kernel_dim = int(minibatch_kernel_dim)
        self.historical_weight = float(historical_weight)
        self.label_smoothing = float(label_smoothing)
        self.learning_rate = float(learning_rate)
        self.virtual_batch_norm = int(virtual_batch_norm)
        self._set_latent_distribution(latent_distribution)
        self.ema = None if ema is None else float(ema)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features = nets.features(resolved, self.image_shape, dropout=self.dropout, input_noise=self.input_noise,
                                      weight_norm=self.weight_norm, name="d_features")
        head_inputs = self.features.output.shape[-1]
        self.minibatch = None
        if self.minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim,
                                                     name="minibatch_discrimination")
            self.minibatch.build((None, head_inputs))
            head_inputs += self.minibatch_kernels
        self.classifier_head = nets.classifier_head(resolved, num_classes, head_inputs, "d_logits")
        self.generator = nets.generator(resolved, self.latent_dim, self.image_shape,
                                        virtual_batch=self.virtual_batch_norm)
        # The reference batch of VBN: fixed noise, drawn once from the model's seed, saved with the weights.
        self.reference_z = self.add_weight(
            shape=(self.virtual_batch_norm, self.latent_dim), trainable=False, name="reference_z",
            initializer=keras.initializers.RandomNormal(seed=seed)) if self.virtual_batch_norm else None
        self._finish_build()
        self.data_init = self._use_data_init(data_init, [self.features, self.classifier_head])
        self.weight_average = (ExponentialAverage(self, self.role_variables("d"), self.ema, name="d_average")
                               if self.ema is not None else None)
        self.historical = [
            self.add_weight(shape=v.shape, initializer="zeros", trainable=False, name=f"historical_{i}")
            for i, v in enumerate(self.role_variables("d"))
        ] if self.historical_weight else []

    uses_second_unlabeled = True

    def role_layers(self):
        d = [self.features, self.classifier_head] + ([self.minibatch] if self.minibatch is not None else [])
        return {"d": d, "g": [self.generator]}

    def default_optimizers(self):
        # Salimans et al. 2016 code: Adam, beta_1 0.5; lr 3e-4 (CIFAR/SVHN), 3e-3 (MNIST).
        # Adam's epsilon: the code's 1e-8 inside the square root (see the class docstring).
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=0.5, epsilon=1e-4) for role in self.roles}

    def generate(self, z, training=False):
        if self.reference_z is None:
            return self.generator(z, training=training)
        return nets.run_virtual_batch(self.generator, self.reference_z, z, training)

    def logits(self, x, training=False):
        h = self.features(x, training=training)
        if self.minibatch is not None:
            h = self.minibatch(h)
        return self.classifier_head(h, training=training)

    def discriminator_losses(self, x, x_labeled, y_labeled, z, training=True):
        """L_D and its parts. The unlabelled images `x` come without labels."""
        x_fake = ops.stop_gradient(self.generate(z, training=training))
        supervised = losses.cross_entropy(y_labeled, self.logits(x_labeled, training))
        real = losses.kplus1_real_loss_smoothed(self.logits(x, training), self.label_smoothing)
        unsupervised = real + losses.kplus1_fake_loss(self.logits(x_fake, training))
        loss = supervised + self.unlabeled_weight * unsupervised
        if self.historical:
            started = ops.cast(self.role_optimizers["d"].iterations > 0, "float32")
            loss += started * self.historical_weight * losses.historical_average(self.role_variables("d"),
                                                                                 self.historical)
        return loss, {"d_loss": loss, "d_supervised": supervised, "d_unsupervised": unsupervised}

    def train_step(self, batch):
        logs = super().train_step(batch)  # (ClassifierGAN's step updates the weight average)
        if self.historical:
            # Running mean over every past step: a_t = a_{t-1} + (theta_t - a_{t-1}) / t.
            t = ops.cast(self.role_optimizers["d"].iterations, "float32")
            for average, variable in zip(self.historical, self.role_variables("d")):
                average.assign(average + (variable - average) / t)
        return logs
