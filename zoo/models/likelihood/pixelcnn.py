"""PixelCNN (van den Oord et al. 2016): an exact-likelihood density model, Bad GAN's low-density term."""

from __future__ import annotations

import math

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

    def log_density(self, x, y=None, training=False):
        """log p(x) per example (Eq. 1); `y`: the images' labels, for a class-conditional subclass."""
        return losses.bernoulli_log_likelihood((x + 1.0) / 2.0, self.net(self._net_inputs(x, y), training=training))

    def _training_batch(self, batch):
        """(images, labels or None) that a training step models."""
        return self.unpack(batch, "x"), None

    def train_step(self, batch):
        x, y = self._training_batch(batch)

        def loss_fn():
            nll = -ops.mean(self.log_density(x, y, training=True))
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
        context = self._net_inputs(np.zeros((n, *self.image_shape), "float32"), labels)
        context = context[1:] if isinstance(context, list) else []
        return self._compiled_sampler()(binary_raster_uniforms(n, self.image_shape, seed_generator), *context)

    def _net_inputs(self, x, labels):
        """The net's inputs for images `x` (a class-conditional subclass adds their labels)."""
        return x

    def _compiled_sampler(self):
        """`binary_raster_sampler` of the net, traced on first use (not saved with the model)."""
        if getattr(self, "_sampler", None) is None:
            self._sampler = binary_raster_sampler(self.net, self.image_shape)
        return self._sampler


def binary_raster_uniforms(n, image_shape, seed_generator):
    """The uniform draws of `binary_raster_sampler` for `n` images: one per pixel and image, (H W, n)."""
    return keras.random.uniform((image_shape[0] * image_shape[1], n), seed=seed_generator)


def binary_raster_sampler(net, image_shape, rows_above=None):
    """A traced function (uniforms, *context) -> n single-channel binary images (-1 / 1), drawn pixel by pixel
    in raster order from `net([x, *context])`'s Bernoulli logits: pixel p = (i, j) is 1 where uniforms[p] <
    sigmoid(logit_p(x)), `x` holding the pixels drawn before it (zeros after). `context` is what the net
    reads besides the image (a class's one-hot, a VAE's z feature map). Shared by the PixelCNNs and the
    autoregressive VAEs.

    The whole loop is one graph (`ops.while_loop` in a `tf.function`): sampling runs the net once per pixel
    (784 times for MNIST), and each eager pass costs ~45 ms of Python on a 3-layer 8x8 net where a traced one
    costs ~3 ms. `rows_above` R, where the net's logit of a pixel reads no row more than R above it: each
    pass then runs on the R + 1 rows ending at the pixel's (the image's top rows while it is within R of
    the top, where the net's own padding is the image's), and context maps of the image's height are cropped
    alike (the net must then take images of any height); the logits of that row are those of the whole image
    (a 28x28 VLAE with R = 2 draws ~9x faster). Traced once per batch shape."""
    import tensorflow as tf

    height, width, _ = image_shape
    pixels = height * width
    rows = height if rows_above is None else min(height, int(rows_above) + 1)

    @tf.function(reduce_retracing=True)
    def sample(uniforms, *context):
        n = ops.shape(uniforms)[1]

        def crop(t, top):
            return t[:, top:top + rows] if len(t.shape) == 4 else t

        def draw_pixel(position, x):
            i, j = position // width, position % width
            top = ops.clip(i - (rows - 1), 0, height - rows)
            inputs = [crop(t, top) for t in (x, *context)]
            logits = net(inputs if context else inputs[0], training=False)
            logit = ops.take(ops.reshape(ops.cast(logits, "float32"), (n, rows * width)), (i - top) * width + j,
                             axis=1)
            value = ops.where(uniforms[position] < ops.sigmoid(logit), 1.0, -1.0)
            at = ops.reshape(ops.one_hot(position, pixels), (1, height, width, 1))
            return position + 1, x * (1.0 - at) + value[:, None, None, None] * at

        start = (ops.convert_to_tensor(0, "int32"), ops.zeros((n, *image_shape), "float32"))
        return ops.while_loop(lambda position, x: position < pixels, draw_pixel, start)[1]

    return sample


def traced_inference(net):
    """`net(inputs, training=False)` as one traced graph, for the one-position-at-a-time loops of sampling: they
    run it once per pixel (784 times for MNIST), and eagerly each pass costs ~45 ms of Python on a 3-layer 8x8
    net (3 s for 5 digits-sized images), traced ~3 ms. Traced once per batch shape (not saved with a model)."""
    import tensorflow as tf

    return tf.function(lambda inputs: net(inputs, training=False), reduce_retracing=True)


def _shift_down(x):
    """Row i takes row i - 1's values (row 0 zeros): a vertical-stack output then holds only rows above."""
    return ops.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


def _shift_right(x):
    return ops.pad(x, ((0, 0), (0, 0), (1, 0), (0, 0)))[:, :, :-1]


@keras.saving.register_keras_serializable(package="zoo")
class GatedStacks(layers.Layer):
    """One layer of the Gated PixelCNN's two stacks (van den Oord et al. 2016b, Sec. 2.2 and Fig. 2).

    The vertical stack convolves a (k // 2 + 1) x k window of the rows at and above each pixel; the
    horizontal stack a 1 x (k // 2 + 1) window of the pixels at and left of it in its row (`first`: left of it
    only, the mask A of the first layer). The vertical features, shifted down one row so they hold only rows
    above, enter the horizontal stack through a 1x1 convolution; both pass the gated unit

        y = tanh(W_f * x + V_f h) . sigmoid(W_g * x + V_g h)                       (Eqs. 2 and 4)

    with h the class's embedding (a bias per channel, V h, when the model is class-conditional), and the
    horizontal stack keeps a residual connection through a 1x1 convolution (not in the first layer; the `last`
    layer returns the horizontal stack alone, its vertical output would go nowhere). The two
    stacks together see every pixel before the current one: no blind spot (tests/test_pixelcnn.py).

    With `spatial_condition`, the layer takes a last input s, a feature map of the image's height and width
    computed from something other than x (a VAE's latent z, `zoo.models.likelihood.autoregressive_vae`), and
    adds V * s, a 1x1 convolution, to both stacks' gates: the paper's location-dependent conditioning
    (Sec. 2.3, y = tanh(W_f * x + V_f * s) . sigmoid(W_g * x + V_g * s)). s depends on no pixel, so the
    stacks stay causal."""

    def __init__(self, filters, kernel_size, first=False, last=False, num_classes=None, spatial_condition=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.first, self.last = int(filters), int(kernel_size), bool(first), bool(last)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.spatial_condition = bool(spatial_condition)
        k, f = self.kernel_size, self.filters
        self.vertical = layers.Conv2D(2 * f, (k // 2 + 1, k), padding="valid", name="vertical")
        self.horizontal = layers.Conv2D(2 * f, (1, k // 2 + 1), padding="valid", name="horizontal")
        self.vertical_to_horizontal = layers.Conv2D(2 * f, 1, name="vertical_to_horizontal")
        self.residual = None if self.first else layers.Conv2D(f, 1, name="residual")
        if self.num_classes and not self.last:  # the last layer's vertical output goes nowhere
            self.condition_vertical = layers.Dense(2 * f, use_bias=False, name="condition_vertical")
        if self.num_classes:
            self.condition_horizontal = layers.Dense(2 * f, use_bias=False, name="condition_horizontal")
        if self.spatial_condition:
            if not self.last:
                self.map_to_vertical = layers.Conv2D(2 * f, 1, use_bias=False, name="map_to_vertical")
            self.map_to_horizontal = layers.Conv2D(2 * f, 1, use_bias=False, name="map_to_horizontal")

    @staticmethod
    def _gate(x):
        f, g = ops.split(x, 2, axis=-1)
        return ops.tanh(f) * ops.sigmoid(g)

    def call(self, inputs):
        inputs = list(inputs)
        condition_map = inputs.pop() if self.spatial_condition else None
        v, h, onehot = inputs if self.num_classes else (*inputs, None)
        k = self.kernel_size
        v_pre = self.vertical(ops.pad(v, ((0, 0), (k // 2, 0), (k // 2, k // 2), (0, 0))))
        h_in = _shift_right(h) if self.first else h
        h_pre = self.horizontal(ops.pad(h_in, ((0, 0), (0, 0), (k // 2, 0), (0, 0))))
        h_pre = h_pre + self.vertical_to_horizontal(_shift_down(v_pre))
        if self.num_classes:
            h_pre = h_pre + self.condition_horizontal(onehot)[:, None, None, :]
            if not self.last:
                v_pre = v_pre + self.condition_vertical(onehot)[:, None, None, :]
        if self.spatial_condition:
            h_pre = h_pre + self.map_to_horizontal(condition_map)
            if not self.last:
                v_pre = v_pre + self.map_to_vertical(condition_map)
        v_out = None if self.last else self._gate(v_pre)
        h_gated = self._gate(h_pre)
        h_out = h_gated if self.first else h + self.residual(h_gated)
        return h_out if self.last else (v_out, h_out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "first": self.first, "last": self.last, "num_classes": self.num_classes,
                "spatial_condition": self.spatial_condition}


def gated_pixelcnn_net(shape, filters, layers_count, kernel_size, num_classes=None, categories=None,
                       condition_channels=None, name="gated_pixelcnn"):
    """The Gated PixelCNN's net (`GatedPixelCNN` below): `layers_count` layers of `GatedStacks` (the first with
    the horizontal mask A), ReLU, a 1x1 convolution of 2 `filters` channels, ReLU, and a float32 1x1
    convolution to the outputs.

    Binary images (`categories=None`): input an image of `shape` (height, width, 1), one Bernoulli logit per
    pixel. Categorical grids (`categories=K`): input a (height, width) grid of integers in [0, K), each
    embedded in `filters` channels (`layers.Embedding`), and K logits of a softmax per position: the
    autoregressive prior over a VQ-VAE's code grid (`zoo.models.likelihood.vq_vae`). Further inputs, in this
    order, each only when asked for: the one-hot class (`num_classes`; every layer adds a class embedding to
    its gates, Eq. 4) and a conditioning map of shape (height, width, `condition_channels`) (`GatedStacks`'
    spatial condition: a VAE's z, `zoo.models.likelihood.autoregressive_vae`). The height may be None (a net
    that takes images of any height)."""
    height, width = shape[0], int(shape[1])
    if categories is None:
        grid = keras.Input(tuple(shape), name="image")
        v = h = grid
    else:
        grid = keras.Input((height, width), dtype="int32", name="codes")
        v = h = layers.Embedding(int(categories), filters, name="code_embedding")(grid)
    inputs = [grid]
    if num_classes:
        inputs.append(keras.Input((num_classes,), name="onehot"))
    if condition_channels:
        inputs.append(keras.Input((height, width, condition_channels), name="condition"))
    for i in range(layers_count):
        last = i == layers_count - 1
        stack = GatedStacks(filters, kernel_size, first=i == 0, last=last, num_classes=num_classes or None,
                            spatial_condition=bool(condition_channels), name=f"gated_{i}")
        out = stack([v, h, *inputs[1:]])
        v, h = (None, out) if last else out
    h = layers.ReLU()(h)
    h = layers.Conv2D(2 * filters, 1, name="head")(h)
    h = layers.ReLU()(h)
    logits = layers.Conv2D(1 if categories is None else int(categories), 1, dtype="float32", name="logits")(h)
    return keras.Model(inputs if len(inputs) > 1 else grid, logits, name=name)


@register("gated_pixelcnn")
class GatedPixelCNN(PixelCNN):
    """Gated PixelCNN (van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu 2016): PixelCNN's
    likelihood (Eq. 1 of `pixelcnn`) with gated units, vertical and horizontal stacks that remove the masked
    convolutions' blind spot, and optional class conditioning p(x | y) (Eq. 4).

    `layers` layers of `zoo.models.likelihood.pixelcnn.GatedStacks` (the first with the horizontal mask A),
    then ReLU, a 1x1 convolution of 2 `filters` channels, ReLU, and one Bernoulli logit per pixel (the zoo's
    single-channel binary likelihood, as `pixelcnn`; the paper's 256-way softmax on 8-bit colour is not
    implemented). With `class_conditional=True` every layer adds a class embedding to its gates, training
    reads the labelled stream (`"x_labeled"`, `"y_labeled"`: `zoo.data.load(name)` labels every example) and
    `sample(n, labels=...)` draws p(x | y).

    Args:
        input_shape: (height, width, 1).
        num_classes: classes of y (read from the data when built lazily; used when class_conditional).
        class_conditional: model p(x | y) instead of p(x).
        filters: p, the channels of each stack (the paper: 384 on ImageNet; small here).
        layers: gated layers (the paper: 15-20).
        kernel_size: k of both stacks (odd; the paper: 3 after a first 7).
        learning_rate, seed: as `pixelcnn`.

    Paper: "Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016, arXiv 1606.05328.
    """

    log_names = ("nll",)

    def __init__(self, input_shape, classes=None, class_conditional=False, filters=32, layers=5, kernel_size=3,
                 learning_rate=1e-3, seed=None, **kwargs):
        # ZooModel's constructor, not PixelCNN's: the stacks replace its masked convolutions.
        ZooModel.__init__(self, input_shape, num_classes=classes if class_conditional else None, seed=seed, **kwargs)
        if self.image_shape[-1] != 1:
            raise ValueError(f"gated_pixelcnn models single-channel images; got {self.image_shape[-1]} channels")
        if class_conditional and (classes is None or int(classes) != classes or classes < 2):
            raise ValueError(f"class_conditional=True needs classes, an integer >= 2 (e.g. data.num_classes); "
                             f"got {classes!r}")
        if int(layers) != layers or layers < 1 or filters < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"need layers >= 1, filters >= 1 and a positive odd kernel_size; got {layers}, "
                             f"{filters}, {kernel_size}")
        self.classes = None if classes is None else int(classes)
        self.class_conditional, self.conditional = bool(class_conditional), bool(class_conditional)
        self.filters, self.layers_count, self.kernel_size = int(filters), int(layers), int(kernel_size)
        self.learning_rate = float(learning_rate)
        self.net = self._build_net()
        self._finish_build()

    def get_config(self):
        return {**ZooModel.get_config(self), "layers": self.layers_count} if not self.awaiting_data \
            else ZooModel.get_config(self)

    def _build_net(self):
        return gated_pixelcnn_net(self.image_shape, self.filters, self.layers_count, self.kernel_size,
                                  num_classes=self.num_classes if self.class_conditional else None)

    def _net_inputs(self, x, y):
        if not self.class_conditional:
            return x
        if y is None:
            raise ValueError("a class-conditional gated_pixelcnn needs the labels y of the images")
        return [ops.convert_to_tensor(x), ops.one_hot(ops.cast(y, "int32"), self.num_classes)]

    def _training_batch(self, batch):
        if self.class_conditional:  # p(x | y) from the labelled stream
            return self.unpack(batch, "x_labeled", "y_labeled")
        return super()._training_batch(batch)

    def test_step(self, data):
        if self.class_conditional:  # evaluate() on (x, y) batches: log p(x | y)
            x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
            return self.track(self.eval_log_names, {"log_prob": ops.mean(self.log_density(x, y))})
        return super().test_step(data)

    def density_model(self):
        if self.class_conditional:
            raise ValueError("density_model() is p(x); this gated_pixelcnn models p(x | y)")
        return super().density_model()

    def _log_prob_batch(self, x, k):
        x = ops.convert_to_tensor(x)
        if not self.class_conditional:
            return self.log_density(x)
        # p(x) = (1/K) sum_y p(x | y): the class summed out under a uniform prior.
        n = ops.shape(x)[0]
        per_class = ops.stack([self.log_density(x, ops.full((n,), c, "int32")) for c in range(self.num_classes)])
        return ops.logsumexp(per_class, axis=0) - math.log(self.num_classes)

    def log_prob(self, x, k=1, batch_size=500, labels=None):
        """Exact log p(x) per image (`k` is ignored). A class-conditional model gives log p(x | y) for `labels`
        (an int or one per image), and without them log p(x) with the class summed out (uniform p(y))."""
        if labels is None or not self.class_conditional:
            if labels is not None:
                raise ValueError("labels= is for a class-conditional gated_pixelcnn")
            return super().log_prob(x, k, batch_size)
        self._require("log_prob")
        x = self.check_images(x)
        y = np.resize(np.asarray(labels, "int32"), len(x))
        return np.concatenate([ops.convert_to_numpy(self.log_density(ops.convert_to_tensor(x[i:i + batch_size]),
                                                                     y[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)])
