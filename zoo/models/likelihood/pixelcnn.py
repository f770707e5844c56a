"""PixelCNN (van den Oord et al. 2016): an exact-likelihood density model, Bad GAN's low-density term."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from zoo import losses
from zoo.base import ZooModel
from zoo.layers import BernoulliLogDensity, MaskedConv2D
from zoo.registry import register


@register("pixelcnn")
class PixelCNN(ZooModel):
    """A small PixelCNN: log p(x) = sum_i log p(x_i | x_<i), exact, with masked convolutions.

    van den Oord, Kalchbrenner & Kavukcuoglu 2016, Sec. 3.5 and Table 4: one
    7x7 convolution with mask A, residual blocks of 3x3 convolutions with
    mask B (`zoo.layers.MaskedConv2D`), then two 1x1 layers and one logit per
    pixel; pixels are visited in raster order:

        log p(x) = sum_{i=1}^{HW} log p(x_i | x_1, ..., x_{i-1})                    (Eq. 1)

    Each conditional is a Bernoulli on the pixel mapped to [0, 1] (the paper's
    binarised-MNIST model; grey levels are used as soft targets, so on grey
    images the value is a cross-entropy, not a normalised density). Trained by
    maximum likelihood on the unlabelled images (role "p"; Adam as in the
    paper's code; 1e-3 here).

    The zoo uses it as the pre-trained density model of `bad_gan`'s low-density
    term (Dai et al. 2017 used PixelCNN++ on MNIST): `density_model()` is a
    frozen Keras model image -> log p(x) to pass as `density_model=`.

    Capabilities: `log_prob` (exact; its `k` is ignored), `sample` (ancestral,
    one pixel at a time: H x W passes of the net).

    Args:
        input_shape: (height, width, 1); single-channel images only.
        filters: h, the channels inside a residual block (2h between blocks, the
            paper's Fig. 5 layout); small by default, the paper's nets are larger.
        residual_blocks: number of residual blocks with a 3x3 mask-B convolution.
        first_kernel: the mask-A kernel size (paper: 7; use 5 or 3 for 8x8 digits).
        learning_rate: Adam's learning rate.
        seed: seed of the model's sampling noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("pixelcnn", input_shape=data.input_shape, first_kernel=5)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.log_prob(data.x_test[:4]).shape
        (4,)
        >>> bad_gan = zoo.load("bad_gan", input_shape=data.input_shape, num_classes=10,
        ...                    density_model=model.density_model())

    Paper: van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural
    Networks", ICML 2016, arXiv 1601.06759.
    """

    roles = ("p",)
    log_names = ("nll",)
    eval_log_names = ("log_prob",)

    def __init__(self, input_shape, filters=32, residual_blocks=4, first_kernel=7, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if self.image_shape[-1] != 1:
            raise ValueError(f"pixelcnn models single-channel images; got {self.image_shape[-1]} channels")
        if filters < 1 or residual_blocks < 0 or first_kernel < 1 or first_kernel % 2 == 0:
            raise ValueError("filters must be >= 1, residual_blocks >= 0 and first_kernel a positive odd number")
        self.filters, self.residual_blocks = int(filters), int(residual_blocks)
        self.first_kernel, self.learning_rate = int(first_kernel), float(learning_rate)
        self.net = self._build_net()
        self._finish_build()

    def _build_net(self):
        """Image in [-1, 1] -> one Bernoulli logit per pixel."""
        image = keras.Input(self.image_shape, name="image")
        h = MaskedConv2D(2 * self.filters, self.first_kernel, mask_type="A", name="mask_a")(image)
        for i in range(self.residual_blocks):  # Fig. 5 of the paper: 1x1 down, 3x3 masked, 1x1 up
            r = layers.ReLU()(h)
            r = MaskedConv2D(self.filters, 1, name=f"block{i}_in")(r)
            r = layers.ReLU()(r)
            r = MaskedConv2D(self.filters, 3, name=f"block{i}_mask_b")(r)
            r = layers.ReLU()(r)
            r = MaskedConv2D(2 * self.filters, 1, name=f"block{i}_out")(r)
            h = layers.Add()([h, r])
        h = layers.ReLU()(h)
        h = MaskedConv2D(2 * self.filters, 1, name="head")(h)
        h = layers.ReLU()(h)
        logits = MaskedConv2D(1, 1, dtype="float32", name="logits")(h)
        return keras.Model(image, logits, name="pixelcnn")

    def role_layers(self):
        return {"p": [self.net]}

    def default_optimizers(self):
        return {"p": keras.optimizers.Adam(self.learning_rate)}

    def log_density(self, x, training=False):
        """log p(x) per example (Eq. 1)."""
        return losses.bernoulli_log_likelihood((x + 1.0) / 2.0, self.net(x, training=training))

    def train_step(self, batch):
        x = self.unpack(batch, "x")

        def loss_fn():
            nll = -ops.mean(self.log_density(x, training=True))
            return nll, {"nll": nll}

        _, logs = self.minimize("p", loss_fn)
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        return {"log_prob": ops.mean(self.log_density(x))}

    def density_model(self):
        """A frozen functional model image -> log p(x) per example, for `bad_gan(density_model=...)`."""
        image = keras.Input(self.image_shape, name="image")
        log_p = BernoulliLogDensity(name="log_density")([image, self.net(image)])
        model = keras.Model(image, log_p, name="pixelcnn_density")
        model.trainable = False
        return model

    # ------------------------------------------------------------ capabilities
    def _log_prob_batch(self, x, k):
        return self.log_density(ops.convert_to_tensor(x))

    def _sample_batch(self, n, labels, seed_generator):
        height, width, _ = self.image_shape
        x = np.zeros((n, *self.image_shape), "float32")
        for i in range(height):  # raster order: pixel (i, j) depends on the ones drawn before it
            for j in range(width):
                logits = self.net(x, training=False)[:, i, j, 0]
                bits = keras.random.uniform((n,), seed=seed_generator) < ops.sigmoid(logits)
                x[:, i, j, 0] = 2.0 * ops.convert_to_numpy(ops.cast(bits, "float32")) - 1.0
        return x
