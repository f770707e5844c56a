"""Architecture builders shared by the methods, registered by name.

Two kinds of net, each a functional `keras.Model` built at once:

* `features(arch, input_shape)`: image -> feature vector. Methods put their
  own heads on it (class logits, a Gaussian posterior, a real/fake score), so
  a classifier, a discriminator and an encoder of one architecture share it,
  and a supervised baseline uses exactly the SSL method's classifier net.
* `generator(arch, latent_dim, output_shape)`: vector -> image. Decoders are
  generators with another output activation or more output channels.

An architecture is an `Architecture` subclass registered with
`@register(name)`: the image sides it takes, and the bodies of its feature
trunk and of its generator; `get(name)` finds it (an unknown name lists the
known ones), `ARCHITECTURES` names them all. `features` and `generator` add
the options every net shares (input noise, dropout, width, weight norm,
virtual batch norm) and the `keras.Model` around a body. Registered:

* `mlp`: fully connected, any input shape.
* `conv_small`: small convnet for 8x8 images such as scikit-learn's digits
  (any square side that is a multiple of 4).
* `dcgan`: Radford et al. 2015 (arXiv 1511.06434) style, strided 4x4
  convolutions, batch norm and ReLU in the generator, leaky ReLU in the
  discriminator; square sides that are multiples of 4 from 16 up (28x28, 32x32).
* `improved_gan_mnist`: the permutation-invariant MNIST nets of Improved-GAN's
  code (Salimans et al. 2016, `train_mnist_feature_matching.py`), which Bad
  GAN (Dai et al. 2017) reuses: D = five weight-normalised ReLU layers
  1000-500-250-250-250 (hidden scales frozen after the data-dependent
  initialisation, v ~ N(0, 0.1)) with Gaussian noise sigma 0.5 after each,
  then a weight-normalised linear head with a trained scale; the features
  are the last 250 units before their noise (feature matching reads them).
  G = 2 x (dense 500 without bias, batch norm without gamma, softplus), then
  a weight-normalised dense output layer with a trained scale.
* `bad_gan_mnist`: Bad GAN's MNIST nets: `improved_gan_mnist`'s D, and its G
  with batch norm's gamma kept.
* `triple_gan_mnist`: Triple-GAN's MNIST nets: a five-block batch-norm
  convnet C, and D and G of (x, y) with the label before every layer.
* `m1_mnist`: M1's encoder and decoder (Kingma et al. 2014): 2 x 500 softplus.
* `dann_mnist`: DANN's MNIST convnet (Ganin et al. 2016): two 5x5 conv / max-pool
  blocks (32, 48 filters) and a 100-100 label predictor; no generator.
* `conv_large`: the 32x32 SSL benchmark net of Improved-GAN's CIFAR-10/SVHN
  discriminator (Salimans et al. 2016, code of the paper; the "conv-large" of
  Laine & Aila 2017 at 96/192 filters, x4/3 with `width=4/3` for their
  128/256): 3x3 convolutions 96-96-96(stride 2), dropout, 192-192-192(stride
  2), dropout, 192 (valid) and two 1x1 "network in network" layers of 192,
  global average pooling; leaky ReLU 0.2. Its generator is Improved-GAN's
  CIFAR generator: 4x4x512 -> 8x8x256 -> 16x16x128 -> image, 5x5 transposed
  convolutions with batch norm. Square sides that are multiples of 8 from 16 up.

Their parameter counts are pinned, with the arithmetic, in tests/test_nets.py.

Batch norm is `synchronized`: under a `tf.distribute` strategy its statistics
are those of the global batch, so a distributed step equals the single-device
step (outside a strategy this is plain batch norm).
"""

from __future__ import annotations

import math

import keras
from keras import layers

from zoo.registry import Registry

_ARCHITECTURES = Registry("architecture")


def register(name: str):
    """Class decorator: make an `Architecture` subclass the net `name` of `features`, `generator` and the rest."""

    def decorate(cls):
        cls.name = name
        return _ARCHITECTURES.register(name)(cls)

    return decorate


def get(name: str) -> type[Architecture]:
    """The architecture registered as `name`; an unknown name lists the known ones."""
    return _ARCHITECTURES.get(name)


def __getattr__(attribute):
    if attribute == "ARCHITECTURES":  # every registered name, in order, those registered later included
        return _ARCHITECTURES.names()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def default_arch(input_shape) -> str:
    """The architecture the zoo picks for `input_shape` when a method says "auto"."""
    height, width, _ = input_shape
    if height == width and height % 4 == 0:
        return "conv_small" if height < 16 else "dcgan"
    return "mlp"


def resolve_arch(arch, input_shape) -> str:
    arch = default_arch(input_shape) if arch == "auto" else arch
    _ARCHITECTURES.get(arch, also=("auto",))
    check_shape(arch, input_shape)
    return arch


def check_shape(arch, shape):
    """Raise a clear error if `arch` cannot take images of `shape`."""
    if len(shape) != 3:
        raise ValueError(f"{arch} takes (height, width, channels) images; got shape {tuple(shape)}")
    get(arch).check_shape(shape)


class Parts:
    """The options of one `features` / `generator` call, as the layers an architecture's body builds from."""

    def __init__(self, *, width=1.0, dropout=0.0, weight_norm=False, virtual_batch=0, batch_norm=False,
                 spectral_norm=False):
        self.width, self.rate, self.virtual_batch = width, dropout, virtual_batch
        self.feature_batch_norm, self.feature_batch_norm_used = batch_norm, False
        self.spectral_norm = bool(spectral_norm)
        if weight_norm and spectral_norm:
            raise ValueError("weight_norm and spectral_norm are two parametrisations of one kernel: pick one")
        if weight_norm:
            from zoo.layers import WeightNormConv2D, WeightNormDense

            self.dense, self.conv = WeightNormDense, WeightNormConv2D
        elif spectral_norm:
            from zoo.layers import SpectralNormConv2D, SpectralNormDense

            self.dense, self.conv = SpectralNormDense, SpectralNormConv2D
        else:
            self.dense, self.conv = layers.Dense, layers.Conv2D

    def units(self, n):
        """`n` units or filters scaled by `width`."""
        return max(1, int(round(n * self.width)))

    def dropout(self, h):
        """Dropout after a hidden block, where the call asked for it."""
        return layers.Dropout(self.rate)(h) if self.rate else h

    def batch_norm(self, scale=True):
        return _batch_norm(self.virtual_batch, scale)

    def before_norm(self, first=False):
        """Keyword arguments of the layer that `hidden_norm` will follow: no bias where batch norm comes next
        (its offset takes the bias's place; a bias there only gets round-off gradients)."""
        return {"use_bias": False} if self.feature_batch_norm and not first else {}

    def hidden_norm(self, h, first=False):
        """Batch norm after a feature trunk's hidden layer where the call asked for it (`batch_norm=True`),
        except after the first, which sees the pixels (DCGAN's discriminator, Radford et al. 2015, Sec. 3)."""
        if not self.feature_batch_norm:
            return h
        self.feature_batch_norm_used = True
        return h if first else _batch_norm()(h)


class Architecture:
    """An image architecture: a feature trunk (image -> vector) and a generator (vector -> image) of one design.

    Subclass, implement `features` and `generator` (static methods building
    layers on a Keras tensor with `parts`, a `Parts`), set the sides it takes
    and register it with `@register(name)`.

    Attributes:
        side: `(minimum, multiple, example)`: square images whose side is a
            multiple of `multiple` and at least `minimum` (`example` for the
            error message); None for any (height, width, channels).
    """

    name = None
    side = (4, 4, "8x8")

    @classmethod
    def check_shape(cls, shape):
        if cls.side is None:
            return
        height, width, _ = shape
        minimum, multiple, example = cls.side
        if height != width or height % multiple or height < minimum:
            raise ValueError(
                f"net {cls.name!r} needs square images whose side is a multiple of {multiple} and at least "
                f"{minimum} (e.g. {example}); got {tuple(shape)}. Use 'conv_small' for 8x8 digits, "
                "'dcgan' for 28x28/32x32, 'conv_large' for 32x32, or 'mlp' for any shape."
            )

    @staticmethod
    def features(h, parts):
        """Image tensor -> feature vector tensor."""
        raise NotImplementedError

    @staticmethod
    def generator(z, output_shape, parts):
        """Latent tensor -> image tensor of `output_shape` (logits: `generator` adds the output activation)."""
        raise NotImplementedError

    #: Whether `generator` builds its layers from `parts.dense` / `parts.conv` (so that
    #: `generator(..., spectral_norm=True)` normalises them; SAGAN's G).
    generator_spectral_norm = False
    #: None: the classifier head is a plain linear layer (`dense_head`).
    head = None
    #: None: `pair_discriminator` is this trunk with the label at its top two layers.
    pair_discriminator = None
    #: None: `conditional_generator` is `generator` on [z; one-hot y].
    conditional_generator = None
    #: False for a discriminative net (`dann_mnist`): `generator` is a clear error.
    has_generator = True


def _batch_norm(virtual_batch=0, scale=True):
    if virtual_batch:
        from zoo.layers import VirtualBatchNormalization

        if not scale:
            raise ValueError("virtual batch norm is built with its scale")
        return VirtualBatchNormalization(virtual_batch)
    return layers.BatchNormalization(synchronized=True, scale=scale)


def _dense_stem(z, side, filters, parts):
    """The generators' first block: a bias-free dense layer to a side x side x filters map, batch norm, ReLU."""
    h = parts.dense(side * side * filters, use_bias=False)(z)
    h = parts.batch_norm()(h)
    h = layers.ReLU()(h)
    return layers.Reshape((side, side, filters))(h)


def _upsampling_generator(z, output_shape, parts, filters):
    """Dense to (side/4)^2 x filters[0], then two stride-2 4x4 transposed convolutions (conv_small, dcgan)."""
    height, _, channels = output_shape
    h = _dense_stem(z, height // 4, parts.units(filters[0]), parts)
    h = layers.Conv2DTranspose(parts.units(filters[1]), 4, strides=2, padding="same", use_bias=False)(h)
    h = parts.batch_norm()(h)
    h = layers.ReLU()(h)
    return layers.Conv2DTranspose(channels, 4, strides=2, padding="same", dtype="float32")(h)


@register("mlp")
class MLP(Architecture):
    """Fully connected: features 1000-500-250 (leaky ReLU); generator 500-500 (batch norm, ReLU)."""

    side = None

    @staticmethod
    def features(h, parts):
        h = layers.Flatten()(h)
        for i, n in enumerate((1000, 500, 250)):
            h = parts.dense(parts.units(n), **parts.before_norm(first=i == 0))(h)
            h = parts.hidden_norm(h, first=i == 0)
            h = layers.LeakyReLU(0.2)(h)
            h = parts.dropout(h)
        return h

    @staticmethod
    def generator(z, output_shape, parts):
        h = z
        for n in (500, 500):
            h = layers.Dense(parts.units(n), use_bias=False)(h)
            h = parts.batch_norm()(h)
            h = layers.ReLU()(h)
        h = layers.Dense(math.prod(output_shape), dtype="float32")(h)
        return layers.Reshape(tuple(output_shape), dtype="float32")(h)  # a mixed one would cast back to float16


@register("conv_small")
class ConvSmall(Architecture):
    """3x3 convolutions 32, 64/2, 128/2 and global pooling; generator 128 -> 64 -> image (x4)."""

    side = (4, 4, "8x8")

    @staticmethod
    def features(h, parts):
        for i, (filters, stride) in enumerate(((32, 1), (64, 2), (128, 2))):
            h = parts.conv(parts.units(filters), 3, strides=stride, padding="same", **parts.before_norm(i == 0))(h)
            h = parts.hidden_norm(h, first=i == 0)
            h = layers.LeakyReLU(0.2)(h)
            h = parts.dropout(h)
        return layers.GlobalAveragePooling2D()(h)

    @staticmethod
    def generator(z, output_shape, parts):
        return _upsampling_generator(z, output_shape, parts, (128, 64))


@register("dcgan")
class DCGAN(Architecture):
    """Strided 4x4 convolutions 64/2, 128/2, flattened; generator 256 -> 128 -> image (x4)."""

    side = (16, 4, "28x28 or 32x32")

    @staticmethod
    def features(h, parts):
        for i, filters in enumerate((64, 128)):
            h = parts.conv(parts.units(filters), 4, strides=2, padding="same", **parts.before_norm(i == 0))(h)
            h = parts.hidden_norm(h, first=i == 0)
            h = layers.LeakyReLU(0.2)(h)
            h = parts.dropout(h)
        return layers.Flatten()(h)

    @staticmethod
    def generator(z, output_shape, parts):
        return _upsampling_generator(z, output_shape, parts, (256, 128))


@register("improved_gan_mnist")
class ImprovedGANMNIST(Architecture):
    """Improved-GAN's MNIST discriminator and generator (see the module docstring).

    The trunk and head are weight-normalised whatever `weight_norm` says, and
    carry their own noise (the call's `input_noise` is the input's); dropout
    is not part of this net. Reference: openai/improved-gan,
    `mnist_svhn_cifar10/train_mnist_feature_matching.py` and `nn.py`
    (`DenseLayer`: theta ~ N(0, 0.1), weight_scale frozen unless train_scale).
    """

    side = None
    hidden_noise = 0.5
    hidden_units = (1000, 500, 250, 250, 250)

    @classmethod
    def features(cls, h, parts):
        from zoo.layers import WeightNormDense

        h = layers.Flatten()(h)
        for i, n in enumerate(cls.hidden_units):
            if i:
                h = layers.GaussianNoise(cls.hidden_noise)(h)
            h = WeightNormDense(parts.units(n), activation="relu", train_scale=False, kernel_stddev=0.1)(h)
        return h

    @classmethod
    def head(cls, input_dim, units, name):
        from zoo.layers import WeightNormDense

        inputs = keras.Input(shape=(int(input_dim),), name="features")
        h = layers.GaussianNoise(cls.hidden_noise)(inputs)
        logits = WeightNormDense(units, train_scale=True, kernel_stddev=0.1, dtype="float32")(h)
        return keras.Model(inputs, logits, name=name)

    @staticmethod
    def generator(z, output_shape, parts):
        from zoo.layers import WeightNormDense

        h = z
        for _ in range(2):
            h = layers.Dense(parts.units(500), use_bias=False)(h)
            h = parts.batch_norm(scale=False)(h)
            h = layers.Activation("softplus")(h)
        h = WeightNormDense(math.prod(output_shape), train_scale=True, kernel_initializer="glorot_uniform",
                            dtype="float32")(h)
        # The code's output is sigmoid(a) on [0, 1] pixels; tanh(a / 2) = 2 sigmoid(a) - 1 is the same image
        # on the zoo's [-1, 1] pixels, with the same a (a plain tanh(a) would double G's output scale).
        h = layers.Rescaling(0.5)(h)
        return layers.Reshape(tuple(output_shape))(h)


@register("bad_gan_mnist")
class BadGANMNIST(ImprovedGANMNIST):
    """Bad GAN's MNIST nets (Dai et al. 2017, kimiyoung/ssl_bad_gan `mnist_model.py`): D is Improved-GAN's
    (`improved_gan_mnist`); G's batch norm keeps its gamma (PyTorch's affine BatchNorm1d) and its
    weight-normalised output layer starts from N(0, 0.1) weights (`WN_Linear.reset_parameters`)."""

    @staticmethod
    def generator(z, output_shape, parts):
        from zoo.layers import WeightNormDense

        h = z
        for _ in range(2):
            h = layers.Dense(parts.units(500), use_bias=False)(h)
            h = parts.batch_norm()(h)
            h = layers.Activation("softplus")(h)
        h = WeightNormDense(math.prod(output_shape), train_scale=True, kernel_stddev=0.1, dtype="float32")(h)
        h = layers.Rescaling(0.5)(h)  # sigmoid(a) on [0, 1] pixels = tanh(a / 2) on [-1, 1]
        return layers.Reshape(tuple(output_shape))(h)


@register("triple_gan_mnist")
class TripleGANMNIST(Architecture):
    """Triple-GAN's MNIST nets (Li et al. 2017, zhenxuan00/triple-gan `x2y_yz2x_xy2p_ssl_mnist.py`).

    C: five convolution blocks (conv without bias -> batch norm -> ReLU, as
    lasagne's `batch_norm` wraps a conv layer), 5x5 32 valid + max-pool 2 +
    dropout 0.5, 3x3 64 same, 3x3 64 valid + max-pool 2 + dropout 0.5, 3x3
    128 same, 3x3 128 same, global average pooling; weights N(0, 0.05); head
    dense 10 with weights N(0, 0.01). D of (x, y): input noise 0.3, then the
    one-hot y concatenated before every layer, five weight-normalised ReLU
    layers 1000-500-250-250-250 with their scale fixed at 1 (not trained, no
    data-dependent init: the code never calls it) and noise 0.5 after each,
    and a weight-normalised sigmoid unit. G of (z, y): y concatenated to z and
    before every layer, two dense 500 softplus layers with batch norm, a
    weight-normalised dense output (trained scale; the code's sigmoid, written
    tanh(a / 2) on [-1, 1] pixels). `generator` is G without the label.
    """

    side = (28, 28, "28x28")
    hidden_noise = 0.5
    d_units = (1000, 500, 250, 250, 250)

    @staticmethod
    def features(h, parts):
        normal = keras.initializers.RandomNormal(stddev=0.05)
        for filters, size, padding, pool, drop in ((32, 5, "valid", True, 0.5), (64, 3, "same", False, 0.0),
                                                   (64, 3, "valid", True, 0.5), (128, 3, "same", False, 0.0),
                                                   (128, 3, "same", False, 0.0)):
            h = layers.Conv2D(parts.units(filters), size, padding=padding, use_bias=False, kernel_initializer=normal)(h)
            h = parts.batch_norm()(h)
            h = layers.ReLU()(h)
            if pool:
                h = layers.MaxPooling2D(2)(h)
            if drop:
                h = layers.Dropout(drop)(h)
        return layers.GlobalAveragePooling2D()(h)

    @staticmethod
    def head(input_dim, units, name):
        head = layers.Dense(units, dtype="float32", name=name,
                            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))
        head.build((None, int(input_dim)))
        return head

    @staticmethod
    def _generator_body(z, label, output_shape, parts):
        from zoo.layers import WeightNormDense

        joined = (lambda h: layers.Concatenate()([h, label])) if label is not None else (lambda h: h)
        h = joined(z)
        for _ in range(2):
            h = layers.Dense(parts.units(500), use_bias=False)(h)
            h = parts.batch_norm()(h)
            h = layers.Activation("softplus")(h)
            h = joined(h)
        h = WeightNormDense(math.prod(output_shape), train_scale=True, kernel_initializer="glorot_uniform",
                            dtype="float32")(h)
        h = layers.Rescaling(0.5)(h)  # sigmoid(a) on [0, 1] = tanh(a / 2) on [-1, 1]
        return layers.Reshape(tuple(output_shape))(h)

    @classmethod
    def generator(cls, z, output_shape, parts):
        return cls._generator_body(z, None, output_shape, parts)

    @classmethod
    def conditional_generator(cls, latent_dim, num_classes, output_shape, name):
        z = keras.Input(shape=(int(latent_dim),), name="latent")
        label = keras.Input(shape=(int(num_classes),), name="label")
        h = cls._generator_body(z, label, output_shape, Parts())
        return keras.Model([z, label], layers.Activation("tanh", dtype="float32")(h), name=name)

    @classmethod
    def pair_discriminator(cls, input_shape, num_classes, input_noise, name):
        from zoo.layers import WeightNormDense

        image = keras.Input(shape=tuple(input_shape), name="image")
        label = keras.Input(shape=(int(num_classes),), name="label")
        h = layers.Flatten()(layers.GaussianNoise(input_noise)(image) if input_noise else image)
        for units in cls.d_units:
            h = layers.Concatenate()([h, label])
            h = WeightNormDense(units, activation="relu", train_scale=False, kernel_stddev=0.1)(h)
            h = layers.GaussianNoise(cls.hidden_noise)(h)
        h = layers.Concatenate()([h, label])
        logit = WeightNormDense(1, train_scale=False, kernel_stddev=0.1, dtype="float32")(h)
        return keras.Model([image, label], logit, name=name)


@register("m1_mnist")
class M1MNIST(Architecture):
    """Kingma et al. 2014's M1 nets (dpkingma/nips14-ssl, the released MNIST model): encoder 2 x 500
    softplus (the posterior head on top is the method's), decoder 2 x 500 softplus then the pixels' logits."""

    side = None

    @staticmethod
    def features(h, parts):
        h = layers.Flatten()(h)
        for _ in range(2):
            h = layers.Dense(parts.units(500), activation="softplus")(h)
        return h

    @staticmethod
    def generator(z, output_shape, parts):
        h = z
        for _ in range(2):
            h = layers.Dense(parts.units(500), activation="softplus")(h)
        h = layers.Dense(math.prod(output_shape), dtype="float32")(h)
        return layers.Reshape(tuple(output_shape))(h)


@register("m2_mnist")
class M2MNIST(Architecture):
    """Kingma et al. 2014's M2 nets (Sec. 4.4): one hidden layer of 500 softplus units on the flat pixels. The
    features are q(y|x)'s hidden layer, so `supervised` on them (with its linear head) is M2's classifier
    `reference_nets=True` builds: its baseline. Generator: 500 softplus, then the pixels."""

    side = None

    @staticmethod
    def features(h, parts):
        return layers.Dense(parts.units(500), activation="softplus")(layers.Flatten()(h))

    @staticmethod
    def generator(z, output_shape, parts):
        h = layers.Dense(parts.units(500), activation="softplus")(z)
        h = layers.Dense(math.prod(output_shape), dtype="float32")(h)
        return layers.Reshape(tuple(output_shape))(h)


@register("sagan")
class SAGANNet(Architecture):
    """A small SAGAN pair (Zhang et al. 2019): convolutional D and G, each with a self-attention block
    (`zoo.layers.SelfAttention2D`) on its half-resolution feature map, spectrally normalised where the
    call asks (`spectral_norm=True`: SAGAN normalises both nets, G included).

    D: 3x3 conv 32, 4x4/2 conv 64, attention, 4x4/2 conv 128 (leaky ReLU 0.1, SNGAN's), global average
    pooling. G: dense to (side/4)^2 x 128, then twice nearest-neighbour upsampling x2 and a 3x3 conv
    (64, then 32; batch norm, ReLU), attention after the first, a 3x3 conv to the image. The paper's
    nets are 128x128 ResNets with the attention at 32x32 (its Table 1 "feat32"); this is their 8x8 /
    28x28 miniature, the attention at side/2 in both (4x4 on digits, 14x14 on MNIST).
    """

    side = (8, 4, "8x8 or 28x28")
    generator_spectral_norm = True

    @staticmethod
    def features(h, parts):
        from zoo.layers import SelfAttention2D

        h = parts.conv(parts.units(32), 3, padding="same")(h)
        h = layers.LeakyReLU(0.1)(h)
        h = parts.conv(parts.units(64), 4, strides=2, padding="same")(h)
        h = layers.LeakyReLU(0.1)(h)
        h = SelfAttention2D(spectral_norm=parts.spectral_norm)(h)
        h = parts.conv(parts.units(128), 4, strides=2, padding="same")(h)
        h = layers.LeakyReLU(0.1)(h)
        return layers.GlobalAveragePooling2D()(h)

    @staticmethod
    def generator(z, output_shape, parts):
        from zoo.layers import SelfAttention2D

        height, _, channels = output_shape
        h = _dense_stem(z, height // 4, parts.units(128), parts)
        for i, filters in enumerate((64, 32)):
            h = layers.UpSampling2D(2)(h)
            h = parts.conv(parts.units(filters), 3, padding="same", use_bias=False)(h)
            h = parts.batch_norm()(h)
            h = layers.ReLU()(h)
            if i == 0:
                h = SelfAttention2D(spectral_norm=parts.spectral_norm)(h)
        return parts.conv(channels, 3, padding="same", dtype="float32")(h)


@register("conv_large")
class ConvLarge(Architecture):
    """Improved-GAN's CIFAR-10/SVHN discriminator trunk and generator (see the module docstring)."""

    side = (16, 8, "32x32")

    @staticmethod
    def features(h, parts):
        for filters in (96, 192):
            for stride in (1, 1, 2):
                h = parts.conv(parts.units(filters), 3, strides=stride, padding="same")(h)
                h = layers.LeakyReLU(0.2)(h)
            h = parts.dropout(h)
        h = parts.conv(parts.units(192), 3, padding="valid")(h)
        h = layers.LeakyReLU(0.2)(h)
        for _ in range(2):  # network in network
            h = parts.conv(parts.units(192), 1)(h)
            h = layers.LeakyReLU(0.2)(h)
        return layers.GlobalAveragePooling2D()(h)

    @staticmethod
    def generator(z, output_shape, parts):
        height, _, channels = output_shape
        h = _dense_stem(z, height // 8, parts.units(512), parts)
        for filters in (256, 128):
            h = layers.Conv2DTranspose(parts.units(filters), 5, strides=2, padding="same", use_bias=False)(h)
            h = parts.batch_norm()(h)
            h = layers.ReLU()(h)
        return layers.Conv2DTranspose(channels, 5, strides=2, padding="same", dtype="float32")(h)


@register("dann_mnist")
class DANNMNIST(Architecture):
    """DANN's MNIST -> MNIST-M nets (Ganin et al. 2016, JMLR, Fig. 4a; Sec. 5.2.2): features = 5x5 conv 32,
    ReLU, 2x2 max-pool, 5x5 conv 48, ReLU, 2x2 max-pool, flattened; the label predictor (the `head`) =
    dense 100, ReLU, dense 100, ReLU, logits. The domain classifier (dense 100, ReLU, one logit) is the
    method's (`dann`). 'same' padding (the figure gives none): 7x7x48 features on 28x28 images. A
    discriminative net only: it has no generator."""

    side = (4, 4, "28x28")
    has_generator = False

    @staticmethod
    def features(h, parts):
        for filters in (32, 48):
            h = parts.conv(parts.units(filters), 5, padding="same", activation="relu")(h)
            h = layers.MaxPooling2D(2)(h)
            h = parts.dropout(h)
        return layers.Flatten()(h)

    @staticmethod
    def head(input_dim, units, name):
        return vector_mlp(input_dim, (100, 100), units, name=name)


# ------------------------------------------------------------------ features
def features(arch, input_shape, *, dropout=0.0, input_noise=0.0, width=1.0, weight_norm=False, batch_norm=False,
             spectral_norm=False, name="features"):
    """Image -> feature vector.

    Args:
        arch: a registered name (`ARCHITECTURES`).
        input_shape: (height, width, channels).
        dropout: dropout rate after each hidden block (discriminators of
            Improved-GAN use 0.5 on conv nets).
        input_noise: standard deviation of Gaussian noise added to the input
            in training (Improved-GAN's discriminators).
        width: multiplier of the number of units/filters.
        weight_norm: weight-normalized dense/conv layers (Salimans & Kingma
            2016), as in Improved-GAN's and Triple-GAN's discriminators.
        batch_norm: batch norm after every hidden layer but the first (the
            DCGAN discriminator); `mlp`, `conv_small` and `dcgan` have it.
        spectral_norm: spectrally normalised dense/conv layers (Miyato et
            al. 2018, `zoo.layers.SpectralNormDense`), as in SNGAN's D.
    """
    check_shape(arch, input_shape)
    parts = Parts(width=width, dropout=dropout, weight_norm=weight_norm, batch_norm=batch_norm,
                  spectral_norm=spectral_norm)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = inputs
    if input_noise:
        h = layers.GaussianNoise(input_noise)(h)
    outputs = get(arch).features(h, parts)
    if batch_norm and not parts.feature_batch_norm_used:
        raise ValueError(f"net {arch!r} has no batch-norm option for its feature trunk (mlp, conv_small and dcgan do)")
    return keras.Model(inputs, outputs, name=name)


# ----------------------------------------------------------------- generator
def generator(arch, latent_dim, output_shape, *, output_activation="tanh", width=1.0, virtual_batch=0,
              spectral_norm=False, name="generator"):
    """Vector of size `latent_dim` -> image of `output_shape`.

    Args:
        virtual_batch: R > 0 puts virtual batch normalisation
            (`zoo.layers.VirtualBatchNormalization`) in place of batch norm:
            the net must then be called on [R reference vectors; inputs] and
            its first R outputs dropped (`zoo.nets.run_virtual_batch`).
        output_activation: "tanh" for images in [-1, 1]; None for logits or
            unconstrained means (decoders).
        output_shape: (height, width, channels); a decoder that also predicts
            a variance asks for twice the channels.
        spectral_norm: spectrally normalised layers (SAGAN's G); only the
            architectures whose generator takes it (`sagan`).
    """
    check_shape(arch, output_shape)
    if not get(arch).has_generator:
        makers = [n for n in _ARCHITECTURES.names() if get(n).has_generator]
        raise ValueError(f"net {arch!r} is a classifier net without a generator; the generators: {', '.join(makers)}")
    if spectral_norm and not get(arch).generator_spectral_norm:
        takes = [n for n in _ARCHITECTURES.names() if get(n).generator_spectral_norm]
        raise ValueError(f"net {arch!r} has no spectral-norm option for its generator ({', '.join(takes)} has)")
    inputs = keras.Input(shape=(int(latent_dim),), name="latent")
    h = get(arch).generator(inputs, tuple(output_shape),
                            Parts(width=width, virtual_batch=virtual_batch, spectral_norm=spectral_norm))
    if output_activation is not None:
        h = layers.Activation(output_activation, dtype="float32")(h)
    return keras.Model(inputs, h, name=name)


def conditional_generator(arch, latent_dim, num_classes, output_shape, *, width=1.0, name="generator"):
    """[z, one-hot y] -> image in [-1, 1]: the architecture's own conditional generator (`triple_gan_mnist`:
    y before every layer), or `generator` on the concatenation [z; y]. Called as `net([z, onehot])`."""
    check_shape(arch, output_shape)
    own = get(arch).conditional_generator
    if own is not None:
        return own(latent_dim, num_classes, output_shape, name)
    body = generator(arch, int(latent_dim) + int(num_classes), output_shape, width=width, name=f"{name}_body")
    z = keras.Input(shape=(int(latent_dim),), name="latent")
    label = keras.Input(shape=(int(num_classes),), name="label")
    return keras.Model([z, label], body(layers.Concatenate()([z, label])), name=name)


def run_virtual_batch(net, reference, inputs, training=False):
    """net([reference; inputs]) without the reference rows: a net built with `virtual_batch=len(reference)`."""
    from keras import ops

    outputs = net(ops.concatenate([ops.cast(reference, inputs.dtype), inputs], axis=0), training=training)
    return outputs[ops.shape(reference)[0]:]


def classifier(arch, input_shape, num_classes, *, dropout=0.0, input_noise=0.0, width=1.0, weight_norm=False,
               prefix="c"):
    """The zoo's classifier net: `features` and a linear head of `num_classes` logits.

    Returns `(features_model, head)`; logits = head(features_model(x)). SSL
    discriminators/classifiers and the supervised baseline share it, so the
    baseline is the same net.
    """
    trunk = features(arch, input_shape, dropout=dropout, input_noise=input_noise, width=width,
                     weight_norm=weight_norm, name=f"{prefix}_features")
    return trunk, classifier_head(arch, num_classes, trunk.output.shape[-1], f"{prefix}_logits")


def classifier_head(arch, units, input_dim, name):
    """The class-logit head of `arch` on its feature vector: the architecture's own (e.g.
    `improved_gan_mnist`'s noisy weight-normalised layer) or a plain `dense_head`."""
    head = get(arch).head
    return dense_head(units, input_dim, name) if head is None else head(input_dim, units, name)


def dense_head(units, input_dim, name, use_bias=True, spectral_norm=False):
    """A float32 linear layer on a feature vector, built at once (spectrally normalised: SNGAN's last layer)."""
    if spectral_norm:
        from zoo.layers import SpectralNormDense

        head = SpectralNormDense(units, use_bias=use_bias, dtype="float32", name=name)
    else:
        head = layers.Dense(units, use_bias=use_bias, dtype="float32", name=name)
    head.build((None, int(input_dim)))
    return head


def pair_discriminator(arch, input_shape, num_classes, *, hidden=256, dropout=0.0, input_noise=0.0, width=1.0,
                       weight_norm=False, name="pair_discriminator"):
    """(image, one-hot label) -> real/fake logit of shape (batch, 1), for discriminators of pairs (Triple-GAN).

    An architecture with its own (`triple_gan_mnist`: y before every layer,
    as the paper's code) builds it with `input_noise`; otherwise the image
    goes through `features(arch, ...)` and the label is concatenated to the
    features and to a hidden layer of `hidden` units.
    """
    own = get(arch).pair_discriminator
    if own is not None:
        check_shape(arch, input_shape)
        return own(input_shape, num_classes, input_noise, name)
    trunk = features(arch, input_shape, dropout=dropout, input_noise=input_noise, width=width,
                     weight_norm=weight_norm, name=f"{name}_features")
    image = keras.Input(shape=tuple(input_shape), name="image")
    label = keras.Input(shape=(int(num_classes),), name="label")
    h = layers.Concatenate()([trunk(image), label])
    h = layers.Dense(hidden)(h)
    h = layers.LeakyReLU(0.2)(h)
    if dropout:
        h = layers.Dropout(dropout)(h)
    h = layers.Concatenate()([h, label])
    logit = layers.Dense(1, dtype="float32")(h)
    return keras.Model([image, label], logit, name=name)


def vector_mlp(input_dim, units=(1000, 1000), output_dim=1, *, activation="relu", output_activation=None,
               name="mlp"):
    """Vector -> vector MLP (code discriminators, code generators, the heads of the
    variational models on a `features` trunk or on latent codes), built at once.

    Hidden layers `units` with `activation` ("relu" or "leaky_relu"), a float32
    linear output of size `output_dim` (then `output_activation` if any).
    """
    inputs = keras.Input(shape=(int(input_dim),), name="vector")
    h = inputs
    for n in units:
        h = layers.Dense(int(n))(h)
        h = layers.LeakyReLU(0.2)(h) if activation == "leaky_relu" else layers.Activation(activation)(h)
    h = layers.Dense(int(output_dim), dtype="float32")(h)
    if output_activation is not None:
        h = layers.Activation(output_activation, dtype="float32")(h)
    return keras.Model(inputs, h, name=name)


def joint_discriminator(arch, input_shape, latent_dim, *, units=512, outputs=1, dropout=0.2, width=1.0,
                        name="joint_discriminator"):
    """(image, code) -> `outputs` logits: the discriminator of BiGAN / ALI on (x, z) pairs.

    The image goes through `features(arch, ...)`, the code through a dense
    layer of `units`; the two are concatenated and go through two dense layers
    of `units` (leaky ReLU, dropout) to a float32 linear output. Returns a
    functional model with inputs `[image, code]`.
    """
    image_features = features(arch, input_shape, dropout=dropout, width=width, name=f"{name}_x")
    image = keras.Input(shape=tuple(input_shape), name="image")
    code = keras.Input(shape=(int(latent_dim),), name="code")
    hz = layers.LeakyReLU(0.2)(layers.Dense(int(units))(code))
    if dropout:
        hz = layers.Dropout(dropout)(hz)
    h = layers.Concatenate()([image_features(image), hz])
    for _ in range(2):
        h = layers.LeakyReLU(0.2)(layers.Dense(int(units))(h))
        if dropout:
            h = layers.Dropout(dropout)(h)
    logits = layers.Dense(int(outputs), dtype="float32")(h)
    return keras.Model([image, code], logits, name=name)


def penultimate(model, name):
    """The features a feature-matching loss reads: a model with `model`'s inputs
    whose output is the input of `model`'s last layer (e.g. the last hidden layer
    of `joint_discriminator`, below its logits). It shares `model`'s layers, so
    it has no weights of its own."""
    return keras.Model(model.inputs, model.layers[-1].input, name=name)


def unary_joint_discriminator(arch, input_shape, latent_dim, *, units=512, dropout=0.0, width=1.0,
                              name="unary_joint_discriminator"):
    """(image, code) -> three scores (s_x, s_z, s_xz), shape (batch, 3): BigBiGAN's discriminator.

    Donahue & Simonyan 2019 (arXiv 1907.02544), Sec. 2: F(x) is an image
    feature net (`features(arch, ...)`), H(z) an MLP on the code (two leaky-ReLU
    layers of `units`), J an MLP (two layers of `units`) on the concatenation
    [F(x), H(z)]; each of the three gets its own linear score, without bias as
    in the paper: s_x = theta_x . F(x), s_z = theta_z . H(z), s_xz = theta_xz . J(F(x), H(z)).
    """
    image_features = features(arch, input_shape, dropout=dropout, width=width, name=f"{name}_F")
    image = keras.Input(shape=tuple(input_shape), name="image")
    code = keras.Input(shape=(int(latent_dim),), name="code")

    def mlp(h):
        for _ in range(2):
            h = layers.LeakyReLU(0.2)(layers.Dense(int(units))(h))
            if dropout:
                h = layers.Dropout(dropout)(h)
        return h

    fx = image_features(image)
    hz = mlp(code)
    jxz = mlp(layers.Concatenate()([fx, hz]))
    scores = [layers.Dense(1, use_bias=False, dtype="float32", name=f"{name}_{s}")(h)
              for s, h in (("s_x", fx), ("s_z", hz), ("s_xz", jxz))]
    return keras.Model([image, code], layers.Concatenate(dtype="float32")(scores), name=name)


# ------------------------------------------------------------- BigGAN's G
def biggan_generator(latent_dim, num_classes, output_shape, *, embedding_dim=32, width=1.0, name="generator"):
    """BigGAN's generator at small scale (Brock et al. 2019, Sec. 3 and Fig. 15): hierarchical latents and
    class-conditional batch norm from a shared embedding, spectral norm, self-attention.

    z (`latent_dim`, divisible by 4) is split into 4 chunks: the first goes through a spectrally
    normalised dense layer to a (side/4)^2 x 128 map; each of the two upsampling blocks (batch norm
    conditioned on [shared(y); its chunk of z], `zoo.layers.ConditionalBatchNormalization`, ReLU, nearest
    x2, 3x3 convolution; 64 then 32 filters) and the output block (conditional batch norm, ReLU, 3x3
    convolution to the image, tanh) get one each: the "skip-z" connections. `shared` is one linear
    embedding of the one-hot y, `embedding_dim` wide, shared by every conditional batch norm (each
    projects it with its own gain and bias layers). Self-attention after the first block, as SAGAN's
    net (`sagan`). Called as `net([z, one-hot y])`. The paper's blocks are residual; these are plain: a
    deviation at this size.
    """
    from zoo.layers import (ConditionalBatchNormalization, LatentChunk, SelfAttention2D, SpectralNormConv2D,
                            SpectralNormDense)

    height, _, channels = output_shape
    if int(latent_dim) % 4:
        raise ValueError(f"latent_dim must divide into BigGAN's 4 chunks of z; got {latent_dim}")
    size = int(latent_dim) // 4
    units = Parts(width=width).units
    z = keras.Input(shape=(int(latent_dim),), name="latent")
    label = keras.Input(shape=(int(num_classes),), name="label")
    chunks = [LatentChunk(i * size, size, name=f"z_chunk_{i}")(z) for i in range(4)]
    shared = layers.Dense(int(embedding_dim), use_bias=False, name="shared_embedding")(label)
    base = height // 4
    # No bias where (conditional) batch norm comes next: its offset takes the bias's place.
    h = SpectralNormDense(base * base * units(128), use_bias=False, name="z_to_map")(chunks[0])
    h = layers.Reshape((base, base, units(128)))(h)
    for i, filters in enumerate((64, 32)):
        h = ConditionalBatchNormalization()([h, layers.Concatenate()([shared, chunks[i + 1]])])
        h = layers.ReLU()(h)
        h = layers.UpSampling2D(2)(h)
        h = SpectralNormConv2D(units(filters), 3, padding="same", use_bias=False)(h)
        if i == 0:
            h = SelfAttention2D()(h)
    h = ConditionalBatchNormalization()([h, layers.Concatenate()([shared, chunks[3]])])
    h = layers.ReLU()(h)
    h = SpectralNormConv2D(int(channels), 3, padding="same", dtype="float32")(h)
    return keras.Model([z, label], layers.Activation("tanh", dtype="float32")(h), name=name)


# ------------------------------------------------------ image-to-image nets
def unet_depth(shape, limit=4):
    """The number of stride-2 halvings a U-Net can make of `shape`'s sides and invert exactly (<= `limit`)."""
    depth = 0
    while depth < limit and shape[0] % 2 ** (depth + 1) == 0 and shape[1] % 2 ** (depth + 1) == 0:
        depth += 1
    if depth == 0:
        raise ValueError(f"a U-Net needs even image sides; got {tuple(shape)}")
    return depth


def unet(input_shape, output_channels, *, filters=64, depth=None, dropout=0.5, dropout_layers=3, name="unet"):
    """pix2pix's U-Net generator (Isola et al. 2017, Sec. 3.2.1 and Appendix 6.1.1), at the depth the image allows.

    Encoder: `depth` blocks C_k of 4x4 stride-2 convolution, batch norm (not in the first), leaky ReLU 0.2,
    with k = filters x 1, 2, 4, 8, 8, ...; decoder: as many 4x4 stride-2 transposed convolutions with
    batch norm and ReLU, each concatenated with the encoder block of its resolution (the skips), dropout
    0.5 in the first `dropout_layers` decoder blocks (the paper's only noise: G has no z), then a 4x4
    convolution to the output channels and tanh. Decoder widths mirror the encoder's (k of the level above,
    at least `filters`).
    """
    depth = unet_depth(input_shape) if depth is None else int(depth)
    inputs = keras.Input(shape=tuple(input_shape), name="source")
    widths = [filters * min(2 ** i, 8) for i in range(depth)]
    h, skips = inputs, []
    for i, width in enumerate(widths):
        h = layers.Conv2D(width, 4, strides=2, padding="same", use_bias=i == 0)(h)
        if i:
            h = _batch_norm()(h)
        h = layers.LeakyReLU(0.2)(h)
        skips.append(h)
    for i, (width, skip) in enumerate(zip(reversed([int(input_shape[-1])] + widths[:-1]), reversed(skips))):
        if i:
            h = layers.Concatenate()([h, skip])
        h = layers.Conv2DTranspose(max(width, filters), 4, strides=2, padding="same", use_bias=False)(h)
        h = _batch_norm()(h)
        if i < dropout_layers and dropout:
            h = layers.Dropout(dropout)(h)
        h = layers.ReLU()(h)
    h = layers.Conv2D(int(output_channels), 4, padding="same", dtype="float32")(h)
    return keras.Model(inputs, layers.Activation("tanh", dtype="float32")(h), name=name)


def patch_discriminator(input_shape, *, filters=64, layers_=3, name="patch_discriminator"):
    """pix2pix's PatchGAN D (Sec. 3.2.2, Appendix 6.1.2): C64-C128-C256... (4x4 stride-2 convolutions,
    batch norm but in the first, leaky ReLU 0.2), then a 4x4 convolution to one logit per patch: D judges
    each N x N patch as real or fake (a Markov random field on patches), its logits averaged by the loss.
    `input_shape` is that of what D reads: the (source, target) pair concatenated on channels."""
    inputs = keras.Input(shape=tuple(input_shape), name="pair")
    h = inputs
    for i in range(int(layers_)):
        h = layers.Conv2D(filters * min(2 ** i, 8), 4, strides=2, padding="same", use_bias=i == 0)(h)
        if i:
            h = _batch_norm()(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Conv2D(1, 4, padding="same", dtype="float32")(h)
    return keras.Model(inputs, h, name=name)


# ------------------------------------------------------------- VQ-VAE's nets
def vq_vae_downsamplings(shape, limit=2):
    """The stride-2 halvings of a VQ-VAE's encoder for images of `shape`: as many as the paper's two (28x28 ->
    a 7x7 code grid, 32x32 -> 8x8) while both sides stay even and the grid at least 4 on a side (8x8 digits:
    one, a 4x4 grid)."""
    count = 0
    while (count < limit and all(int(side) % 2 ** (count + 1) == 0 and int(side) // 2 ** (count + 1) >= 4
                                 for side in shape[:2])):
        count += 1
    if count == 0:
        raise ValueError(f"a VQ-VAE's encoder halves the image at least once to a grid of 4 or more a side; "
                         f"got images of shape {tuple(shape)}")
    return count


def _vq_residual_blocks(h, blocks, hidden, residual_hidden, prefix):
    """`blocks` residual blocks h + conv1x1(ReLU(conv3x3(ReLU(h)))) (van den Oord et al. 2017, Sec. 4.1)."""
    for i in range(int(blocks)):
        r = layers.ReLU()(h)
        r = layers.Conv2D(int(residual_hidden), 3, padding="same", name=f"{prefix}_residual{i}_3x3")(r)
        r = layers.ReLU()(r)
        r = layers.Conv2D(int(hidden), 1, name=f"{prefix}_residual{i}_1x1")(r)
        h = layers.Add()([h, r])
    return layers.ReLU()(h)


def vq_vae_encoder(input_shape, embedding_dim, *, hidden=256, residual_hidden=256, residual_blocks=2,
                   downsamplings=2, name="encoder"):
    """The VQ-VAE's image encoder (van den Oord et al. 2017, arXiv 1711.00937, Sec. 4.1): `downsamplings`
    4x4 stride-2 convolutions of `hidden` channels (ReLU between), `residual_blocks` residual 3x3 blocks
    (ReLU, 3x3 convolution of `residual_hidden`, ReLU, 1x1 convolution back to `hidden`), ReLU, and a float32
    1x1 convolution to the `embedding_dim` channels of z_e(x): image -> (H / 2^s, W / 2^s, D) grid."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = inputs
    for i in range(int(downsamplings)):
        if i:
            h = layers.ReLU()(h)
        h = layers.Conv2D(int(hidden), 4, strides=2, padding="same", name=f"down{i}")(h)
    h = _vq_residual_blocks(h, residual_blocks, hidden, residual_hidden, "encoder")
    z_e = layers.Conv2D(int(embedding_dim), 1, dtype="float32", name="z_e")(h)
    return keras.Model(inputs, z_e, name=name)


def vq_vae_decoder(grid_shape, output_channels, *, hidden=256, residual_hidden=256, residual_blocks=2,
                   upsamplings=2, name="decoder"):
    """The VQ-VAE's decoder (Sec. 4.1), the encoder's mirror: a 3x3 convolution of the (h, w, D) grid of z_q to
    `hidden` channels, `residual_blocks` residual blocks, ReLU, then `upsamplings` 4x4 stride-2 transposed
    convolutions (ReLU between), the last one float32 to `output_channels` logits per pixel."""
    inputs = keras.Input(shape=tuple(grid_shape), name="z_q")
    h = layers.Conv2D(int(hidden), 3, padding="same", name="decoder_in")(inputs)
    h = _vq_residual_blocks(h, residual_blocks, hidden, residual_hidden, "decoder")
    for i in range(int(upsamplings)):
        last = i == int(upsamplings) - 1
        if i:
            h = layers.ReLU()(h)
        h = layers.Conv2DTranspose(int(output_channels) if last else int(hidden), 4, strides=2, padding="same",
                                   dtype="float32" if last else None, name=f"up{i}")(h)
    return keras.Model(inputs, h, name=name)


# ------------------------------------------------------- ProGAN's growing nets
def progressive_channels(level, filters):
    """Feature maps at `level` (side 4 * 2^level): `filters` at 4x4 and 8x8, halving with each doubling above
    (ProGAN's fmap_base / 2^stage capped at fmap_max, at small scale), at least 16."""
    return max(16, int(filters) // 2 ** max(0, int(level) - 1))


def progressive_levels(side):
    """The levels 4 * 2^l a net grows through to reach a `side` (rounded up to 4 * 2^L)."""
    return max(0, math.ceil(math.log2(max(int(side), 4) / 4)))


def _equalized_conv_block(x, filters, count, pixel_norm):
    from zoo.layers import EqualizedConv2D, PixelNormalization

    for _ in range(count):
        x = layers.LeakyReLU(0.2)(EqualizedConv2D(filters, 3)(x))
        if pixel_norm:
            x = PixelNormalization()(x)
    return x


def _to_rgb_layers(levels, channels, filters, name):
    """Per level, the linear equalised 1x1 convolution of its feature maps to the image's channels (gain 1)."""
    from zoo.layers import EqualizedConv2D

    to_rgb = []
    for level in range(levels + 1):
        side = 4 * 2 ** level
        x = keras.Input(shape=(side, side, progressive_channels(level, filters)))
        to_rgb.append(keras.Model(x, EqualizedConv2D(int(channels), 1, gain=1.0, dtype="float32")(x),
                                  name=f"{name}_to_rgb_{level}"))
    return to_rgb


def progressive_generator(latent_dim, levels, channels, *, filters=128, name="generator"):
    """ProGAN's generator (Karras et al. 2018, Table 2 at small scale), as per-level pieces.

    Returns `(blocks, to_rgb)`, lists of `levels + 1` functional nets: block 0 maps the latent (pixel-normed)
    through an equalised dense layer to a 4x4 map and a 3x3 convolution; block l >= 1 doubles the side
    (nearest neighbour) and applies two 3x3 convolutions; every convolution is equalised (`EqualizedConv2D`),
    with leaky ReLU 0.2 and pixel norm after it. to_rgb[l] is the 1x1 convolution of level l's map to the
    image's `channels` (linear, gain 1). `ProGAN.generate_at` chains them.
    """
    from zoo.layers import EqualizedDense, PixelNormalization

    z = keras.Input(shape=(int(latent_dim),), name="latent")
    width = progressive_channels(0, filters)
    # The code's gain sqrt(2) / 4 on the dense layer to the 4x4 map (it counts it as a 4x4 convolution).
    h = EqualizedDense(16 * width, gain=2.0 ** 0.5 / 4)(PixelNormalization()(z))
    h = PixelNormalization()(layers.LeakyReLU(0.2)(layers.Reshape((4, 4, width))(h)))
    blocks = [keras.Model(z, _equalized_conv_block(h, width, 1, True), name=f"{name}_block_0")]
    for level in range(1, levels + 1):
        side, previous = 4 * 2 ** (level - 1), progressive_channels(level - 1, filters)
        x = keras.Input(shape=(side, side, previous))
        h = _equalized_conv_block(layers.UpSampling2D(2)(x), progressive_channels(level, filters), 2, True)
        blocks.append(keras.Model(x, h, name=f"{name}_block_{level}"))
    return blocks, _to_rgb_layers(levels, channels, filters, name)


def progressive_discriminator(levels, channels, *, filters=128, group_size=4, name="discriminator"):
    """ProGAN's discriminator (Table 2 at small scale), as per-level pieces, the generator's mirror.

    Returns `(from_rgb, blocks)`: from_rgb[l] is a 1x1 equalised convolution of a level-l image to level l's
    feature maps (leaky ReLU); block l >= 1 applies two 3x3 convolutions (the second to level l-1's width)
    and 2x2 average pooling; block 0 appends the minibatch standard deviation (`MinibatchStandardDeviation`,
    groups of `group_size`), a 3x3 convolution, a dense layer of the 4x4 map and the linear score. No
    normalisation in D, as the paper's. `ProGAN.score_at` chains them.
    """
    from zoo.layers import EqualizedConv2D, EqualizedDense, MinibatchStandardDeviation

    from_rgb, blocks = [], []
    for level in range(levels + 1):
        side, width = 4 * 2 ** level, progressive_channels(level, filters)
        x = keras.Input(shape=(side, side, int(channels)))
        from_rgb.append(keras.Model(x, layers.LeakyReLU(0.2)(EqualizedConv2D(width, 1)(x)),
                                    name=f"{name}_from_rgb_{level}"))
    width = progressive_channels(0, filters)
    x = keras.Input(shape=(4, 4, width))
    h = _equalized_conv_block(MinibatchStandardDeviation(group_size)(x), width, 1, False)
    h = layers.LeakyReLU(0.2)(EqualizedDense(width)(layers.Flatten()(h)))
    score = EqualizedDense(1, gain=1.0, dtype="float32")(h)
    # A float32 Reshape: a mixed one would cast the float32 score back to float16.
    blocks.append(keras.Model(x, layers.Reshape((), dtype="float32")(score), name=f"{name}_block_0"))
    for level in range(1, levels + 1):
        side, width = 4 * 2 ** level, progressive_channels(level, filters)
        x = keras.Input(shape=(side, side, width))
        h = _equalized_conv_block(x, width, 1, False)
        h = _equalized_conv_block(h, progressive_channels(level - 1, filters), 1, False)
        blocks.append(keras.Model(x, layers.AveragePooling2D(2)(h), name=f"{name}_block_{level}"))
    return from_rgb, blocks


# ------------------------------------------------------ StyleGAN's generator
def style_mapping(latent_dim, *, layers_=8, lr_multiplier=0.01, name="mapping"):
    """StyleGAN's mapping network f: Z -> W (Karras et al. 2019, Sec. 2): z pixel-normed, then `layers_`
    equalised dense layers of `latent_dim` units with leaky ReLU 0.2, learning 100x slower than the rest
    (`lr_multiplier`, the code's mapping_lrmul)."""
    from zoo.layers import EqualizedDense, PixelNormalization

    z = keras.Input(shape=(int(latent_dim),), name="latent")
    h = PixelNormalization()(z)
    for _ in range(int(layers_)):
        h = layers.LeakyReLU(0.2)(EqualizedDense(int(latent_dim), lr_multiplier=lr_multiplier)(h))
    return keras.Model(z, h, name=name)


def _style_epilogue(h, w, noise, dtype=None):
    """After each synthesis convolution: per-pixel noise, bias, leaky ReLU, AdaIN with the layer's w (the
    code's layer_epilogue, instance norm and style modulation folded into `AdaptiveInstanceNormalization`)."""
    from zoo.layers import AdaptiveInstanceNormalization, NoiseInjection

    h = NoiseInjection(dtype=dtype)([h, noise])
    h = layers.LeakyReLU(0.2, dtype=dtype)(h)
    return AdaptiveInstanceNormalization(dtype=dtype)([h, w])


def style_synthesis(latent_dim, levels, channels, *, filters=128, name="synthesis"):
    """StyleGAN's synthesis network g (Sec. 2, Fig. 1b), as per-level pieces like `progressive_generator`.

    Returns `(blocks, to_rgb)`. Every block takes `[input, w_a, w_b, noise_a, noise_b]`: the styles w of its
    two layers and their noise maps (side x side x 1). Block 0 starts from a learnt 4x4 constant
    (`LearnedConstant`; its input is w_a, for the batch size): epilogue, 3x3 convolution, epilogue; block
    l >= 1 doubles the side (nearest neighbour), then two 3x3 convolutions, each followed by the epilogue
    (`NoiseInjection`, bias, leaky ReLU, `AdaptiveInstanceNormalization`). Equalised convolutions
    throughout; to_rgb[l] the linear 1x1 convolution of level l, as ProGAN's. The code's bilinear blur
    around the resampling is left out (a deviation)."""
    from zoo.layers import EqualizedConv2D, LearnedConstant

    def inputs(side):
        return [keras.Input(shape=(int(latent_dim),), name="w_a"), keras.Input(shape=(int(latent_dim),), name="w_b"),
                keras.Input(shape=(side, side, 1), name="noise_a"), keras.Input(shape=(side, side, 1), name="noise_b")]

    blocks = []
    width = progressive_channels(0, filters)
    w_a, w_b, noise_a, noise_b = inputs(4)
    # The constant's bias-free start: the code adds the noise and the bias to it before the first AdaIN.
    # Float32 up to that AdaIN under mixed precision: the constant's maps start with variance 0, where AdaIN's
    # 1 / sqrt(var + 1e-8) = 1e4 scales their gradients past float16's range at any useful loss scale.
    h = _style_epilogue(LearnedConstant((4, 4, width), dtype="float32")(w_a), w_a, noise_a, dtype="float32")
    h = _style_epilogue(EqualizedConv2D(width, 3)(h), w_b, noise_b)
    blocks.append(keras.Model([w_a, w_b, noise_a, noise_b], h, name=f"{name}_block_0"))
    for level in range(1, levels + 1):
        side, width = 4 * 2 ** level, progressive_channels(level, filters)
        x = keras.Input(shape=(side // 2, side // 2, progressive_channels(level - 1, filters)))
        w_a, w_b, noise_a, noise_b = inputs(side)
        h = _style_epilogue(EqualizedConv2D(width, 3)(layers.UpSampling2D(2)(x)), w_a, noise_a)
        h = _style_epilogue(EqualizedConv2D(width, 3)(h), w_b, noise_b)
        blocks.append(keras.Model([x, w_a, w_b, noise_a, noise_b], h, name=f"{name}_block_{level}"))
    return blocks, _to_rgb_layers(levels, channels, filters, name)
