"""Reusable layers and layer-level operations of the zoo."""

from __future__ import annotations

from keras import ops


def reparameterize(mean, log_var, noise):
    """z = mean + exp(log_var / 2) * noise with noise ~ N(0, I): the
    reparameterisation trick of Kingma & Welling 2013 (arXiv 1312.6114), Sec. 2.4.
    The caller draws `noise` (from its model's seed generator)."""
    return mean + ops.exp(0.5 * log_var) * noise


def soft_clip(x, bound):
    """bound * tanh(x / bound): about x near 0, smoothly limited to (-bound, bound),
    with a gradient that never vanishes exactly. Keeps log-variances where
    exp() stays finite in float32."""
    return bound * ops.tanh(x / bound)


def jvp(fn, primal, tangent):
    """The Jacobian-vector product J_fn(primal) . tangent, exactly, by forward-mode
    differentiation (one extra forward pass; no Jacobian is formed).

    `fn` maps a batch to a batch (a net); `tangent` has `primal`'s shape. The
    result is differentiable, so a loss built on it trains the nets inside `fn`
    (the tangent penalty of `augmented_bigan`). Keras has no forward mode in
    `keras.ops`, hence TensorFlow's `ForwardAccumulator` here.
    """
    import tensorflow as tf

    primal = tf.convert_to_tensor(primal)
    tangent = tf.cast(tf.convert_to_tensor(tangent), primal.dtype)
    with tf.autodiff.ForwardAccumulator(primal, tangent) as accumulator:
        output = fn(primal)
    return accumulator.jvp(output, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def expand_classes(num_classes, *tensors):
    """Pair every row of `tensors` with every class, for bounds that sum the class out.

    Returns `(onehot, tiled)`: `onehot` has shape (num_classes * n, num_classes)
    and row c * n + i pairs class c with row i of each tensor (tiled along
    the first axis). Kingma et al. 2014, Eq. 7 sums over all classes this way.
    """
    n = ops.shape(tensors[0])[0]
    onehot = ops.repeat(ops.eye(num_classes), n, axis=0)
    tiled = [ops.tile(t, (num_classes,) + (1,) * (len(t.shape) - 1)) for t in tensors]
    return onehot, tiled


def split_gaussian(stats):
    """(mean, log_var) from a head's output whose last axis holds both halves."""
    half = stats.shape[-1] // 2
    return stats[..., :half], stats[..., half:]


# ------------------------------------------------------- weight normalization
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as _layers  # noqa: E402


@keras.saving.register_keras_serializable(package="zoo")
class WeightNormDense(_layers.Layer):
    """Dense layer with weight normalization (Salimans & Kingma 2016, arXiv 1602.07868, Eq. 2).

    y = x . (g * v / ||v||) + b, the norm taken per output unit (over the
    input axis). Improved-GAN's MNIST and CIFAR discriminators use it.

    Data-dependent initialisation (Sec. 2.2): inside `data_dependent_init`,
    the layer's first call sets, per unit, g <- g / sigma and b <- -mu / sigma
    from the mean mu and standard deviation sigma of its pre-activations
    x . (g v / ||v||) on that batch, so that they start at zero mean and unit
    variance on it; that call returns the normalised pre-activations (through
    the activation), as the new weights would. Without it, g starts at 1.

    Args:
        units: output units.
        activation: a Keras activation (None: linear).
        use_bias: add b.
        train_scale: whether g is trained. The Improved-GAN and Bad GAN codes
            freeze the hidden layers' g after the initialisation and train
            only the output layer's.
        kernel_stddev: standard deviation of v's normal initialiser (the
            Improved-GAN code: 0.1 for its dense layers; 0.05 here by default).
        kernel_initializer: replaces the normal initialiser of v when given
            (the Improved-GAN generator's output layer is Glorot-uniform).
    """

    def __init__(self, units, activation=None, use_bias=True, train_scale=True, kernel_stddev=0.05,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.train_scale = bool(train_scale)
        self.kernel_stddev = float(kernel_stddev)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.RandomNormal(stddev=self.kernel_stddev))
        self._initializing = False

    def build(self, input_shape):
        self.v = self.add_weight(name="v", shape=(int(input_shape[-1]), self.units),
                                 initializer=self.kernel_initializer)
        self.g = self.add_weight(name="g", shape=(self.units,), initializer="ones", trainable=self.train_scale)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        kernel = self.g * self.v / ops.sqrt(ops.sum(ops.square(self.v), axis=0) + 1e-12)
        y = ops.matmul(inputs, ops.cast(kernel, inputs.dtype))
        if self._initializing:
            y = _initialize_scale(self, y, axes=(0,))
        elif self.bias is not None:
            y = y + ops.cast(self.bias, inputs.dtype)
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation), "use_bias": self.use_bias,
                "train_scale": self.train_scale, "kernel_stddev": self.kernel_stddev,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _initialize_scale(layer, pre_activations, axes):
    """Data-dependent init of a weight-normed layer on `pre_activations` (computed with b = 0).

    Sets g <- g / sigma, b <- -mu / sigma per unit and returns (y - mu) / sigma,
    which is what the layer now computes on the same inputs. Runs eagerly,
    once per layer (see `data_dependent_init`).
    """
    mean = ops.mean(pre_activations, axis=axes)
    std = ops.sqrt(ops.mean(ops.square(pre_activations - mean), axis=axes) + 1e-8)
    layer.g.assign(layer.g / std)
    if layer.bias is None:
        raise ValueError(f"{layer.name}: data-dependent initialisation needs use_bias=True")
    layer.bias.assign(-mean / std)
    layer._initializing = False  # once: a second call inside the same pass is a normal call
    layer._initialized_now = True
    return (pre_activations - mean) / std


class data_dependent_init:
    """Context: the weight-normed layers of `nets` initialise themselves on their next call.

        with zoo.layers.data_dependent_init([model.features, model.classifier_head]):
            model.logits(x_batch, training=True)

    Run the forward pass eagerly, inside the context, on a batch of training
    data (Salimans & Kingma 2016, Sec. 2.2). Layers initialise in the order
    the pass reaches them, so each sees the already-initialised outputs of
    the layers below it, as in the reference codes. Leaving the context
    checks that every weight-normed layer of `nets` was reached.
    """

    def __init__(self, nets):
        self.layers = [layer for net in nets for layer in _weight_normed(net)]
        if not self.layers:
            raise ValueError("data_dependent_init: the nets have no weight-normalised layers")

    def __enter__(self):
        import tensorflow as tf

        if not tf.executing_eagerly():
            raise RuntimeError("data_dependent_init runs eagerly (it assigns weights from a batch's statistics)")
        for layer in self.layers:
            layer._initializing, layer._initialized_now = True, False
        return self

    def __exit__(self, kind, value, traceback):
        missed = [layer.name for layer in self.layers if not layer._initialized_now]
        for layer in self.layers:
            layer._initializing = False
        if kind is None and missed:
            raise RuntimeError(f"data_dependent_init: the forward pass did not reach {missed}")
        return False


def _weight_normed(net):
    if isinstance(net, (WeightNormDense, WeightNormConv2D)):
        return [net]
    return [layer for layer in net._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, (WeightNormDense, WeightNormConv2D))]


@keras.saving.register_keras_serializable(package="zoo")
class WeightNormConv2D(_layers.Layer):
    """2-D convolution with weight normalization (Salimans & Kingma 2016, Eq. 2), the
    norm taken per output filter (over the kernel's spatial and input axes);
    data-dependent initialisation as `WeightNormDense` (statistics over the
    batch and both spatial axes)."""

    def __init__(self, filters, kernel_size, strides=1, padding="same", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.padding = padding
        self.use_bias = use_bias

    def build(self, input_shape):
        shape = (self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters)
        self.v = self.add_weight(name="v", shape=shape, initializer=keras.initializers.RandomNormal(stddev=0.05))
        self.g = self.add_weight(name="g", shape=(self.filters,), initializer="ones")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        kernel = self.g * self.v / ops.sqrt(ops.sum(ops.square(self.v), axis=(0, 1, 2)) + 1e-12)
        y = ops.conv(inputs, ops.cast(kernel, inputs.dtype), strides=self.strides, padding=self.padding)
        if getattr(self, "_initializing", False):
            return _initialize_scale(self, y, axes=(0, 1, 2))
        if self.bias is not None:
            y = y + ops.cast(self.bias, inputs.dtype)
        return y

    def compute_output_shape(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        if self.padding == "same":
            size = lambda n: None if n is None else -(-n // self.strides)  # noqa: E731
        else:
            size = lambda n: None if n is None else (n - self.kernel_size) // self.strides + 1  # noqa: E731
        return (input_shape[0], size(height), size(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "use_bias": self.use_bias}


# ------------------------------------------------------- spectral normalisation
def spectral_normalize(kernel, u, power_iterations=1):
    """(W / sigma(W), u'): the kernel divided by its largest singular value, estimated by power iteration.

    Miyato et al. 2018 (arXiv 1802.05957), Alg. 1: with W the kernel as an
    (inputs, outputs) matrix (a convolution's spatial and input axes
    flattened) and u the running estimate of its first left singular vector,
    v <- normalize(u W^T), u' <- normalize(v W), sigma = v W u'^T. u and v
    are constants for the gradient, which flows through sigma(W) as the paper
    derives (Eq. 12): unlike `keras.layers.SpectralNormalization`, which
    writes W / sigma back into the kernel and differentiates as if sigma
    were fixed.
    """
    w = ops.reshape(kernel, (-1, kernel.shape[-1]))
    for _ in range(int(power_iterations)):
        v = _unit(ops.matmul(u, ops.transpose(w)))
        u = _unit(ops.matmul(v, w))
    u, v = ops.stop_gradient(u), ops.stop_gradient(v)
    sigma = ops.sum(ops.matmul(v, w) * u)
    return kernel / sigma, u


def _unit(x, eps=1e-12):
    return x / ops.sqrt(ops.sum(ops.square(x)) + eps)


class _SpectralNorm(_layers.Layer):
    """Base of the spectrally normalised layers: the kernel, the bias and the singular-vector estimate u
    (a non-trainable weight, updated in training only; the same on every replica)."""

    def __init__(self, use_bias=True, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if int(power_iterations) < 1:
            raise ValueError(f"power_iterations must be >= 1; got {power_iterations!r}")
        self.use_bias = use_bias
        self.power_iterations = int(power_iterations)

    def _build_weights(self, kernel_shape):
        self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer="glorot_uniform")
        outputs = kernel_shape[-1]
        self.bias = self.add_weight(name="bias", shape=(outputs,), initializer="zeros") if self.use_bias else None
        self.u = self.add_weight(name="u", shape=(1, outputs), initializer=keras.initializers.RandomNormal(),
                                 trainable=False, aggregation="only_first_replica")

    def normalized_kernel(self, training=False):
        kernel, u = spectral_normalize(self.kernel, self.u, self.power_iterations)
        if training:
            self.u.assign(u)
        return kernel

    def _add_bias(self, y):
        return y + ops.cast(self.bias, y.dtype) if self.bias is not None else y

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias, "power_iterations": self.power_iterations}


@keras.saving.register_keras_serializable(package="zoo")
class SpectralNormDense(_SpectralNorm):
    """Dense layer y = x (W / sigma(W)) + b (Miyato et al. 2018; see `spectral_normalize`)."""

    def __init__(self, units, use_bias=True, power_iterations=1, **kwargs):
        super().__init__(use_bias, power_iterations, **kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self._build_weights((int(input_shape[-1]), self.units))

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training)
        return self._add_bias(ops.matmul(inputs, ops.cast(kernel, inputs.dtype)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="zoo")
class SpectralNormConv2D(_SpectralNorm):
    """2-D convolution with the kernel divided by its spectral norm (the kernel as a (k*k*in, out) matrix,
    as the paper and its code do)."""

    def __init__(self, filters, kernel_size, strides=1, padding="same", use_bias=True, power_iterations=1, **kwargs):
        super().__init__(use_bias, power_iterations, **kwargs)
        self.filters, self.kernel_size, self.strides, self.padding = int(filters), int(kernel_size), int(strides), padding

    def build(self, input_shape):
        self._build_weights((self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters))

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training)
        y = ops.conv(inputs, ops.cast(kernel, inputs.dtype), strides=self.strides, padding=self.padding)
        return self._add_bias(y)

    def compute_output_shape(self, input_shape):
        return _layers.Conv2D(self.filters, self.kernel_size, strides=self.strides,
                              padding=self.padding).compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding}


# ------------------------------------------------------------ self-attention
@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention2D(_layers.Layer):
    """SAGAN's self-attention block on a feature map (Zhang et al. 2019, arXiv 1805.08318, Sec. 3).

    With x_i the C features of position i of the N = H W positions, and 1x1
    convolutions f(x) = W_f x, g(x) = W_g x, h(x) = W_h x (C / key_ratio,
    C / key_ratio and C / value_ratio channels) and v(x) = W_v x (back to C):

        s_ij = f(x_i)^T g(x_j),   beta_{j,i} = exp(s_ij) / sum_i exp(s_ij)        (Eq. 1)
        o_j = v(sum_i beta_{j,i} h(x_i))                                         (Eq. 2)
        y_i = gamma o_i + x_i,    gamma a learnt scalar initialised to 0           (Eq. 3)

    so the block starts as the identity and the net learns how much non-local
    evidence to use. The paper's C-bar is C / 8 for all three maps (key_ratio =
    value_ratio = 8); the authors' code takes C / 2 for h and max-pools g and h
    2x2 (a cost saving on 128x128 images), which `value_ratio=2` half follows
    (no pooling here). The 1x1 convolutions have no bias, as the code's, and
    are spectrally normalised where the net is (`spectral_norm`, SAGAN's G and D).
    """

    def __init__(self, key_ratio=8, value_ratio=8, spectral_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.key_ratio, self.value_ratio, self.spectral_norm = int(key_ratio), int(value_ratio), bool(spectral_norm)

    def _conv(self, filters, name):
        if self.spectral_norm:
            return SpectralNormConv2D(filters, 1, use_bias=False, name=name)
        return _layers.Conv2D(filters, 1, use_bias=False, name=name)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        key, value = max(1, channels // self.key_ratio), max(1, channels // self.value_ratio)
        self.query_conv, self.key_conv = self._conv(key, "f"), self._conv(key, "g")
        self.value_conv, self.output_conv = self._conv(value, "h"), self._conv(channels, "v")
        for conv in (self.query_conv, self.key_conv, self.value_conv):
            conv.build(input_shape)
        self.output_conv.build(tuple(input_shape[:-1]) + (value,))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def attention(self, x, training=False):
        """beta, shape (batch, N, N): row j is position j's softmax over the positions i it reads."""
        f = self._flat(self.query_conv(x, training=training))
        g = self._flat(self.key_conv(x, training=training))
        return ops.softmax(ops.matmul(g, ops.transpose(f, (0, 2, 1))), axis=-1)  # [j, i] = s_ij

    def call(self, x, training=False):
        beta = self.attention(x, training)
        h = self._flat(self.value_conv(x, training=training))
        gathered = ops.reshape(ops.matmul(beta, h), ops.shape(x)[:-1] + (h.shape[-1],))
        return x + ops.cast(self.gamma, x.dtype) * self.output_conv(gathered, training=training)

    @staticmethod
    def _flat(t):
        return ops.reshape(t, (ops.shape(t)[0], -1, t.shape[-1]))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "key_ratio": self.key_ratio, "value_ratio": self.value_ratio,
                "spectral_norm": self.spectral_norm}


# ------------------------------------------------- conditional batch norm
@keras.saving.register_keras_serializable(package="zoo")
class ConditionalBatchNormalization(_layers.Layer):
    """Batch norm whose gain and bias are linear functions of a condition vector (BigGAN's, Brock et al. 2019,
    Sec. 3 and Appendix B; after de Vries et al. 2017 and Dumoulin et al. 2017).

    Called on `[h, condition]`: h normalised by its batch statistics (no learnt scale or offset of its own,
    synchronised across replicas), then h_hat * (1 + gain(c)) + bias(c), gain and bias linear in c
    (spectrally normalised where `spectral_norm`, as BigGAN's G). BigGAN's c is [the shared class
    embedding; this block's chunk of z].
    """

    def __init__(self, spectral_norm=True, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.spectral_norm, self.momentum = bool(spectral_norm), float(momentum)

    def build(self, input_shape):
        h_shape, c_shape = input_shape
        channels = int(h_shape[-1])
        self.normalize = _layers.BatchNormalization(center=False, scale=False, momentum=self.momentum,
                                                    synchronized=True, name="bn")
        self.normalize.build(h_shape)
        linear = (lambda name: SpectralNormDense(channels, name=name)) if self.spectral_norm else (
            lambda name: _layers.Dense(channels, name=name))
        self.gain, self.bias = linear("gain"), linear("bias")
        for layer in (self.gain, self.bias):
            layer.build(c_shape)

    def call(self, inputs, training=False):
        h, condition = inputs
        normalized = self.normalize(h, training=training)
        shape = [-1] + [1] * (len(h.shape) - 2) + [h.shape[-1]]
        gain = ops.reshape(self.gain(condition, training=training), shape)
        bias = ops.reshape(self.bias(condition, training=training), shape)
        return normalized * (1.0 + ops.cast(gain, h.dtype)) + ops.cast(bias, h.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "spectral_norm": self.spectral_norm, "momentum": self.momentum}


@keras.saving.register_keras_serializable(package="zoo")
class LatentChunk(_layers.Layer):
    """z[:, start:start + size]: one chunk of a hierarchical latent (BigGAN's skip-z)."""

    def __init__(self, start, size, **kwargs):
        super().__init__(**kwargs)
        self.start, self.size = int(start), int(size)

    def call(self, z):
        return z[:, self.start:self.start + self.size]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.size,)

    def get_config(self):
        return {**super().get_config(), "start": self.start, "size": self.size}


# ----------------------------------------------------- minibatch discrimination
@keras.saving.register_keras_serializable(package="zoo")
class MinibatchDiscrimination(_layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, arXiv 1606.03498, Sec. 3.2).

    Features f(x_i) in R^A are multiplied by a tensor T in R^{A x B x C} into
    matrices M_i in R^{B x C}; then for each kernel b

        c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_L1),   o(x_i)_b = sum_j c_b(x_i, x_j)

    and the layer outputs [f(x_i), o(x_i)] (A + B features). The sum runs over
    the other examples (j != i), i.e. the self term exp(0) = 1 is removed.
    """

    def __init__(self, num_kernels=100, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)

    def build(self, input_shape):
        self.tensor = self.add_weight(name="tensor", shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
                                      initializer=keras.initializers.RandomNormal(stddev=0.05))

    def call(self, inputs):
        m = ops.reshape(ops.matmul(inputs, self.tensor), (-1, self.num_kernels, self.kernel_dim))
        distances = ops.sum(ops.abs(m[:, None] - m[None, :]), axis=-1)  # (n, n, B)
        closeness = ops.sum(ops.exp(-distances), axis=1) - 1.0
        return ops.concatenate([inputs, closeness], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (int(input_shape[-1]) + self.num_kernels,)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}


# ------------------------------------------------- virtual batch normalization
@keras.saving.register_keras_serializable(package="zoo")
class VirtualBatchNormalization(_layers.Layer):
    """Virtual batch normalisation (Salimans et al. 2016, arXiv 1606.03498, Sec. 3.4).

    Each example is normalised with the statistics of a fixed reference batch
    together with itself, never with the other examples of its minibatch, so
    an example's output does not depend on its batch-mates. The layer's input
    holds the reference batch's activations in its first `reference_size`
    rows (the net is run on [reference inputs; inputs], see
    `zoo.nets.generator(virtual_batch=...)`); for an example row x with
    reference moments m_r = mean(ref), s_r = mean(ref^2) over the reference
    rows (and the spatial axes), per channel:

        mean = (x + R m_r) / (R + 1),  var = (x^2 + R s_r) / (R + 1) - mean^2       (R = reference_size)
        y = gamma (x - mean) / sqrt(var + eps) + beta

    with x, x^2 averaged over the example's own spatial positions. The
    reference rows themselves are normalised with (m_r, s_r) alone. The
    statistics are those of the current forward pass in training and in
    inference alike (no moving averages: the reference batch is always there).
    """

    def __init__(self, reference_size, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if int(reference_size) < 1:
            raise ValueError(f"reference_size must be >= 1; got {reference_size}")
        self.reference_size = int(reference_size)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        spatial = tuple(range(1, len(inputs.shape) - 1))  # the example's own positions
        own_mean = ops.mean(inputs, axis=spatial, keepdims=True) if spatial else inputs
        own_square = ops.mean(ops.square(inputs), axis=spatial, keepdims=True) if spatial else ops.square(inputs)
        r = self.reference_size
        reference_mean = ops.mean(own_mean[:r], axis=0, keepdims=True)
        reference_square = ops.mean(own_square[:r], axis=0, keepdims=True)
        mean = (own_mean + r * reference_mean) / (r + 1)
        square = (own_square + r * reference_square) / (r + 1)
        is_reference = ops.reshape(ops.arange(ops.shape(inputs)[0]) < r, (-1,) + (1,) * (len(inputs.shape) - 1))
        mean = ops.where(is_reference, reference_mean, mean)
        square = ops.where(is_reference, reference_square, square)
        variance = ops.maximum(square - ops.square(mean), 0.0)
        return self.gamma * (inputs - mean) * ops.rsqrt(variance + self.epsilon) + self.beta

    def get_config(self):
        return {**super().get_config(), "reference_size": self.reference_size, "epsilon": self.epsilon}


# ------------------------------------------------------------- masked convolution
@keras.saving.register_keras_serializable(package="zoo")
class MaskedConv2D(_layers.Conv2D):
    """A PixelCNN convolution (van den Oord et al. 2016, arXiv 1601.06759, Sec. 3.5, Fig. 2).

    The kernel is masked so that an output pixel sees only the input pixels
    before it in raster order (rows above; the same row to its left): mask
    "A" (the first layer) also hides the pixel itself, mask "B" (the later
    layers) lets it see its own position, which by then holds only
    information from earlier pixels. Single-channel images (the colour
    ordering of RGB PixelCNNs is not implemented). `padding` is "same".
    """

    def __init__(self, filters, kernel_size, mask_type="B", **kwargs):
        kwargs.pop("padding", None)
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B'; got {mask_type!r}")
        self.mask_type = mask_type

    def build(self, input_shape):
        super().build(input_shape)
        height, width = self.kernel_size
        if height % 2 == 0 or width % 2 == 0:
            raise ValueError(f"MaskedConv2D needs an odd kernel size; got {self.kernel_size}")
        mask = np.ones((height, width, 1, 1), "float32")
        mask[height // 2, width // 2 + (self.mask_type == "B"):] = 0.0
        mask[height // 2 + 1:] = 0.0
        self.mask = mask

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * ops.cast(self.mask, kernel.dtype))

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        return {**config, "mask_type": self.mask_type}


@keras.saving.register_keras_serializable(package="zoo")
class BernoulliLogDensity(_layers.Layer):
    """[images in [-1, 1], per-pixel logits] -> log p(x) per example under independent Bernoulli
    pixels with the grey levels mapped to [0, 1] as targets (`zoo.losses.bernoulli_log_likelihood`)."""

    def call(self, inputs):
        from zoo.losses import bernoulli_log_likelihood

        images, logits = inputs
        return bernoulli_log_likelihood((ops.cast(images, logits.dtype) + 1.0) / 2.0, logits)


# ------------------------------------------- ProGAN / StyleGAN building blocks
@keras.saving.register_keras_serializable(package="zoo")
class EqualizedDense(_layers.Layer):
    """Dense layer with the equalised learning rate of ProGAN (Karras et al. 2018, arXiv 1710.10196, Sec. 4.1).

    The weights are drawn from N(0, 1 / lr_multiplier^2) and scaled at run time by
    c = lr_multiplier * gain / sqrt(fan_in) (He's constant for gain sqrt(2)): y = x (c W) + lr_multiplier b.
    Adam's step is invariant to a weight's scale, so with the constant outside the weight every layer
    learns at the same speed. `lr_multiplier` < 1 slows a layer down (StyleGAN's mapping net, 0.01).
    """

    def __init__(self, units, gain=2.0 ** 0.5, lr_multiplier=1.0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.gain, self.lr_multiplier, self.use_bias = int(units), float(gain), float(lr_multiplier), use_bias

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.lr_multiplier * self.gain / fan_in ** 0.5
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None

    def call(self, x):
        y = ops.matmul(x, ops.cast(self.kernel * self.scale, x.dtype))
        return y + ops.cast(self.bias * self.lr_multiplier, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain, "lr_multiplier": self.lr_multiplier,
                "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="zoo")
class EqualizedConv2D(_layers.Layer):
    """Stride-1 "same" 2-D convolution with ProGAN's equalised learning rate (`EqualizedDense`; fan_in = k*k*in)."""

    def __init__(self, filters, kernel_size, gain=2.0 ** 0.5, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.gain, self.use_bias = int(filters), int(kernel_size), float(gain), use_bias

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.scale = self.gain / (self.kernel_size * self.kernel_size * channels) ** 0.5
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_size, self.kernel_size, channels, self.filters),
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    def call(self, x):
        y = ops.conv(x, ops.cast(self.kernel * self.scale, x.dtype), padding="same")
        return y + ops.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain,
                "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="zoo")
class PixelNormalization(_layers.Layer):
    """ProGAN's pixelwise feature vector normalisation (Sec. 4.2): b = a / sqrt(mean_j a_j^2 + 1e-8) over the
    channels of each position (of each vector, for a latent)."""

    def call(self, x):
        # The mean square in float32 under mixed precision: float16 rounds the 1e-8 to 0 (and a square can overflow).
        scale = ops.rsqrt(ops.mean(ops.square(ops.cast(x, "float32")), axis=-1, keepdims=True) + 1e-8)
        return x * ops.cast(scale, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="zoo")
class MinibatchStandardDeviation(_layers.Layer):
    """ProGAN's minibatch standard deviation (Sec. 3): one feature map appended to D's last block, the
    standard deviation of every feature over a group of images, averaged over features and positions.

    As the authors' code, the batch is split into groups of `group_size` (4) images, the i-th group holding
    images i, i + n/g, ...; where the batch does not divide by 4 the largest group size <= 4 that divides
    it is used (a batch of 5 is five groups of one: a zero map). D then sees how varied the batch is and can
    penalise a generator whose samples lack variety.
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, x):
        n = ops.shape(x)[0]
        group = 1
        for size in range(2, self.group_size + 1):  # the largest size <= group_size dividing n
            group = ops.where(ops.equal(n % size, 0), size, group)
        height, width, channels = x.shape[1], x.shape[2], x.shape[3]
        # The statistic in float32 under mixed precision: float16 rounds the 1e-8 to 0, an infinite sqrt' at var 0.
        grouped = ops.reshape(ops.cast(x, "float32"), (group, -1, height, width, channels))
        deviation = ops.sqrt(ops.var(grouped, axis=0) + 1e-8)  # (n / group, H, W, C)
        statistic = ops.mean(deviation, axis=(1, 2, 3), keepdims=True)  # (n / group, 1, 1, 1)
        statistic = ops.tile(statistic, (group, height, width, 1))  # image j of a group at index j n/g + i
        return ops.concatenate([x, ops.cast(statistic, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="zoo")
class AdaptiveInstanceNormalization(_layers.Layer):
    """StyleGAN's AdaIN (Karras et al. 2019, arXiv 1812.04948, Eq. 1): called on `[x, w]`, each feature map of
    x normalised over its positions (instance norm), then scaled and shifted by a style y = A(w), A an
    equalised dense layer of w (gain 1):

        AdaIN(x_i, y) = (1 + y_s,i) (x_i - mu(x_i)) / sigma(x_i) + y_b,i,

    the code's `x * (y_s + 1) + y_b`, so a zero style is the identity on normalised maps."""

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        self.channels = int(x_shape[-1])
        self.style = EqualizedDense(2 * self.channels, gain=1.0, name="style")
        self.style.build(w_shape)

    def call(self, inputs):
        x, w = inputs
        # The moments in float32 under mixed precision: float16 rounds the 1e-8 to 0, and the learnt constant's
        # maps have variance 0 (rsqrt(0) = inf).
        h = ops.cast(x, "float32")
        mean, variance = ops.moments(h, axes=(1, 2), keepdims=True)
        normalized = ops.cast((h - mean) * ops.rsqrt(variance + 1e-8), x.dtype)
        style = ops.cast(self.style(w), x.dtype)
        scale = ops.reshape(style[:, :self.channels], (-1, 1, 1, self.channels))
        shift = ops.reshape(style[:, self.channels:], (-1, 1, 1, self.channels))
        return normalized * (1.0 + scale) + shift

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="zoo")
class NoiseInjection(_layers.Layer):
    """StyleGAN's per-layer noise (Sec. 3.2, "B" in Fig. 1): called on `[x, noise]`, noise a single-channel
    N(0, 1) map per image (drawn by the caller, so samples are reproducible), broadcast to every channel
    with a learnt per-channel strength that starts at 0: x + b * noise."""

    def build(self, input_shape):
        self.strength = self.add_weight(name="strength", shape=(int(input_shape[0][-1]),), initializer="zeros")

    def call(self, inputs):
        x, noise = inputs
        return x + ops.cast(noise, x.dtype) * ops.cast(self.strength, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="zoo")
class LearnedConstant(_layers.Layer):
    """StyleGAN's synthesis input (Sec. 2): a learnt 4x4 (`shape`) map, initialised to ones, repeated over the
    batch of the tensor it is called on (whose values it ignores)."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape_ = tuple(int(d) for d in shape)

    def build(self, input_shape):
        self.constant = self.add_weight(name="constant", shape=self.shape_, initializer="ones")

    def call(self, like):
        batch = ops.shape(like)[0]
        return ops.broadcast_to(ops.cast(self.constant, like.dtype)[None], (batch,) + self.shape_)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.shape_

    def get_config(self):
        return {**super().get_config(), "shape": self.shape_}


def scale_gradient(x, weight):
    """`x` in the forward pass; its gradient multiplied by `weight` in the backward pass
    (0: a stop-gradient, 1: the identity, -lambda: gradient reversal). `weight` is a number or a
    scalar tensor (a schedule's value inside a step); the forward value is `x` exactly either way
    (`x - stop_gradient(x)` is exactly 0)."""
    if isinstance(weight, (int, float)) and weight == 1.0:
        return x
    held = ops.stop_gradient(x)
    if isinstance(weight, (int, float)) and weight == 0.0:
        return held
    return held + ops.stop_gradient(ops.cast(weight, x.dtype)) * (x - held)


@keras.saving.register_keras_serializable(package="zoo")
class GradientReversal(_layers.Layer):
    """The gradient reversal layer of Ganin & Lempitsky 2015 (arXiv 1409.7495, Sec. 3.2; Ganin et al. 2016,
    JMLR, Eq. 18-19): R(x) = x forward, dR/dx = -lambda I backward.

    Put between a feature extractor and a domain classifier, one gradient step on the sum of the label
    and domain losses then moves the domain classifier down the domain loss and the features *up* it
    (times lambda): the saddle point of DANN's Eq. 10 by plain backpropagation.

    Call it as `layer(x, scale=lambda_)` with lambda_ (a number or a scalar tensor, e.g. the paper's
    schedule `zoo.schedules.domain_adaptation_weight`); `scale` defaults to the layer's `scale`.
    """

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs, scale=None):
        return scale_gradient(inputs, -(self.scale if scale is None else scale))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# ------------------------------------------------------------------ MADE
def made_masks(dim, hidden, num_masks, rng, natural_order=False):
    """MADE's masks (Germain et al. 2015, Sec. 4), `num_masks` sets of them.

    Each set draws an input ordering m^0 (a permutation of 1..D; the natural order for the first set
    when `natural_order`) and for every hidden layer l a degree m^l(k) per unit, uniform in
    [min_j m^{l-1}(j), D - 1]. Hidden mask: unit k of layer l sees unit j of layer l - 1 iff
    m^l(k) >= m^{l-1}(j); output mask: output d sees hidden unit k iff m^0(d) > m^L(k) (strict), so output d
    depends only on the inputs before it in the ordering. Returns (orderings (M, D), a list with one
    (M, fan_in, fan_out) array per layer, the output layer's last).
    """
    orderings, per_layer = [], [[] for _ in range(len(hidden) + 1)]
    for m in range(num_masks):
        order = np.arange(1, dim + 1) if (natural_order and m == 0) else rng.permutation(dim) + 1
        degrees = [order]
        for units in hidden:
            low = min(int(degrees[-1].min()), dim - 1)
            degrees.append(rng.integers(low, dim, size=units))  # uniform in [low, D - 1]
        for layer, (previous, current) in enumerate(zip(degrees[:-1], degrees[1:])):
            per_layer[layer].append((current[None, :] >= previous[:, None]).astype("float32"))
        per_layer[-1].append((order[None, :] > degrees[-1][:, None]).astype("float32"))
        orderings.append(order)
    return np.stack(orderings), [np.stack(masks) for masks in per_layer]


@keras.saving.register_keras_serializable(package="zoo")
class MaskedDense(_layers.Layer):
    """y = x (W * M) + b with M one of several fixed masks (MADE), chosen by an integer index at call time.

    The masks are a non-trainable weight (M, fan_in, fan_out), so they are saved with the model."""

    def __init__(self, units, num_masks, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_masks = int(units), int(num_masks)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(fan_in, self.units), initializer=self.kernel_initializer, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.masks = self.add_weight(shape=(self.num_masks, fan_in, self.units), initializer="ones",
                                     trainable=False, name="masks")

    def call(self, x, mask_index=0):
        return ops.matmul(x, self.kernel * ops.take(self.masks, mask_index, axis=0)) + self.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_masks": self.num_masks,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


# ---------------------------------------------------------------- vector quantisation
def straight_through(z_e, z_q):
    """z_q in the forward pass, the identity to z_e in the backward pass: z_e + sg[z_q - z_e].

    The straight-through estimator of van den Oord et al. 2017 (arXiv 1711.00937), Sec. 3.2: the nearest-code
    lookup has no gradient, so the decoder's gradient at z_q is copied to the encoder's output z_e."""
    return z_e + ops.stop_gradient(z_q - z_e)


@keras.saving.register_keras_serializable(package="zoo")
class VectorQuantizer(_layers.Layer):
    """The VQ-VAE's codebook e_1..e_K in R^D and its nearest-neighbour lookup (van den Oord et al. 2017,
    arXiv 1711.00937, Eqs. 1-2):

        k(z) = argmin_j ||z - e_j||^2,    z_q = e_k(z)

    applied at every position of a grid of D-vectors (the last axis). `update` says how the codebook learns:

    * "loss": a trainable weight, moved by the gradient of the codebook term ||sg[z_e] - e||^2 (Eq. 3);
    * "ema": a non-trainable weight, set after each step by `ema_update` from exponential moving averages of
      the counts N_i and sums m_i of the encoder outputs assigned to each code (Appendix A.1, Eqs. 6-8):
      N_i <- g N_i + (1 - g) n_i, m_i <- g m_i + (1 - g) sum_j z_j, e_i <- m_i / N_i', with the counts
      Laplace-smoothed, N_i' = (N_i + eps) / (sum_l N_l + K eps) sum_l N_l, so that a rarely used code is no
      division by zero (the smoothing is not in the appendix's equations). A code never assigned yet keeps
      its initial vector rather than falling to the origin. Counts and sums are over the global batch
      (`zoo.losses.batch_sum`, `replica_sum`), so a distributed update equals the single-device one.

    Always float32 (distances between nearly equal codes, and the EMA state, need it under mixed precision).
    """

    UPDATES = ("loss", "ema")

    def __init__(self, codebook_size, embedding_dim, update="loss", decay=0.99, epsilon=1e-5, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        if update not in self.UPDATES:
            raise ValueError(f"update must be one of {self.UPDATES}; got {update!r}")
        if not 0.0 <= decay < 1.0 or epsilon <= 0:
            raise ValueError(f"need 0 <= decay < 1 and epsilon > 0; got {decay}, {epsilon}")
        self.codebook_size, self.embedding_dim = int(codebook_size), int(embedding_dim)
        self.update, self.decay, self.epsilon = update, float(decay), float(epsilon)

    def build(self, input_shape=None):
        k, d = self.codebook_size, self.embedding_dim
        # Uniform in +-sqrt(3 / D): codes of unit expected squared norm per dimension, the scale of a
        # freshly initialised encoder's outputs, so the first assignments spread over many codes.
        limit = float(np.sqrt(3.0 / d))
        self.codebook = self.add_weight(shape=(k, d), name="codebook", trainable=self.update == "loss",
                                        initializer=keras.initializers.RandomUniform(-limit, limit))
        if self.update == "ema":
            self.ema_counts = self.add_weight(shape=(k,), initializer="zeros", trainable=False, name="ema_counts")
            self.ema_sums = self.add_weight(shape=(k, d), initializer="zeros", trainable=False, name="ema_sums")

    def nearest_codes(self, z):
        """k(z): the index of the nearest code at every position, int32 of z's shape less its last axis."""
        z = ops.cast(z, "float32")
        flat = ops.reshape(z, (-1, self.embedding_dim))
        distances = (ops.sum(ops.square(flat), axis=-1, keepdims=True) - 2.0 * ops.matmul(flat, ops.transpose(
            self.codebook)) + ops.sum(ops.square(self.codebook), axis=-1)[None])
        return ops.reshape(ops.cast(ops.argmin(distances, axis=-1), "int32"), ops.shape(z)[:-1])

    def lookup(self, codes):
        """e_k for integer codes of any shape: their vectors, on a new last axis."""
        return ops.take(self.codebook, ops.cast(codes, "int32"), axis=0)

    def call(self, z):
        """(z_q, codes): the nearest codes' vectors and their indices."""
        codes = self.nearest_codes(z)
        return self.lookup(codes), codes

    def ema_update(self, z_e, codes):
        """One EMA step of the codebook ("ema" only) from encoder outputs `z_e` and their `codes`."""
        from zoo.losses import batch_sum, replica_sum

        onehot = ops.one_hot(ops.reshape(codes, (-1,)), self.codebook_size, dtype="float32")
        flat = ops.reshape(ops.stop_gradient(ops.cast(z_e, "float32")), (-1, self.embedding_dim))
        counts = batch_sum(onehot)                                # n_i over the global batch
        sums = replica_sum(ops.matmul(ops.transpose(onehot), flat))  # sum of the z_e assigned to code i
        g = self.decay
        self.ema_counts.assign(g * self.ema_counts + (1.0 - g) * counts)
        self.ema_sums.assign(g * self.ema_sums + (1.0 - g) * sums)
        total = ops.sum(self.ema_counts)
        smoothed = (self.ema_counts + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        means = self.ema_sums / ops.maximum(smoothed, 1e-12)[:, None]
        self.codebook.assign(ops.where((self.ema_counts > 0.0)[:, None], means, self.codebook))

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        return {**config, "codebook_size": self.codebook_size, "embedding_dim": self.embedding_dim,
                "update": self.update, "decay": self.decay, "epsilon": self.epsilon}
