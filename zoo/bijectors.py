"""Invertible layers (bijectors) for normalising flows, shared by `nice`, `realnvp` and `glow`.

Each bijector is a Keras layer with `forward(x, training) -> (y, log_det)`, where `log_det` is
log |det dy/dx| per example (shape (batch,)), and `inverse(y) -> x`. `call` is `forward`. A flow's
log-density is then log p(x) = log p_Z(f(x)) + sum of the log-determinants (Dinh et al. 2014, Eq. 1);
tests/test_flows.py checks every bijector's inverse and its log-determinant against
`numpy.linalg.slogdet` of the Jacobian on a small input.

Under mixed precision (`mixed_float16`) a bijector computes y in its `compute_dtype` (float16), its
`forward` and `inverse` casting their input to it (the flows also call them directly, outside Keras'
autocasting), and returns `log_det` in float32: it sums a term per pixel, past float16's precision.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers as _layers
from keras import ops


def _per_example_sum(t):
    t = ops.cast(t, "float32")  # log-determinants and log-densities sum in float32 under mixed precision
    return ops.sum(ops.reshape(t, (ops.shape(t)[0], -1)), axis=-1)


def _shared_log_det(log_det, x):
    """A log-determinant that is the same for every example (a per-channel scale), per example of x, float32."""
    return ops.cast(log_det, "float32") * ops.ones((ops.shape(x)[0],), "float32")


def checkerboard(shape, parity):
    """A (H, W, 1) float mask: 1 where (i + j) % 2 == parity (RealNVP's spatial checkerboard)."""
    h, w = shape[0], shape[1]
    board = (np.add.outer(np.arange(h), np.arange(w)) % 2 == parity).astype("float32")
    return board[:, :, None]


def coupling_net(input_shape, out_channels, hidden, name):
    """The s/t net of an image coupling: 3x3 conv, ReLU, 1x1 conv, ReLU, 3x3 conv with zero initial weights,
    so every coupling starts as the identity (Glow's choice, Sec. 3.3; a stable start for all three)."""
    inputs = keras.Input(input_shape)
    h = _layers.Conv2D(hidden, 3, padding="same", activation="relu")(inputs)
    h = _layers.Conv2D(hidden, 1, padding="same", activation="relu")(h)
    out = _layers.Conv2D(out_channels, 3, padding="same", kernel_initializer="zeros")(h)
    return keras.Model(inputs, out, name=name)


def dense_coupling_net(input_dim, output_dim, hidden, depth, name):
    """NICE's coupling function m: an MLP of `depth` ReLU layers of `hidden` units, linear output."""
    inputs = keras.Input((input_dim,))
    h = inputs
    for _ in range(depth):
        h = _layers.Dense(hidden, activation="relu")(h)
    return keras.Model(inputs, _layers.Dense(output_dim)(h), name=name)


@keras.saving.register_keras_serializable(package="zoo")
class AdditiveCoupling(_layers.Layer):
    """NICE's additive coupling on vectors (Dinh et al. 2014, Eq. 5): with x split into the even- or
    odd-indexed coordinates x_a (kept) and the others x_b, y_a = x_a, y_b = x_b + m(x_a). Volume
    preserving: log |det| = 0."""

    def __init__(self, dim, parity, hidden=256, depth=3, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.parity, self.hidden, self.depth = int(dim), int(parity), int(hidden), int(depth)
        index = np.arange(self.dim)
        self._kept = index[index % 2 == self.parity]
        self._changed = index[index % 2 != self.parity]
        self._order = np.argsort(np.concatenate([self._kept, self._changed]))
        self.m = dense_coupling_net(len(self._kept), len(self._changed), self.hidden, self.depth, f"{self.name}_m")

    def _split(self, x):
        return ops.take(x, self._kept, axis=1), ops.take(x, self._changed, axis=1)

    def _merge(self, a, b):
        return ops.take(ops.concatenate([a, b], axis=1), self._order, axis=1)

    def forward(self, x, training=False):
        a, b = self._split(ops.cast(x, self.compute_dtype))
        return self._merge(a, b + self.m(a, training=training)), ops.zeros((ops.shape(x)[0],), "float32")

    def inverse(self, y):
        a, b = self._split(ops.cast(y, self.compute_dtype))
        return self._merge(a, b - self.m(a))

    def call(self, x, training=False):
        return self.forward(x, training)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "parity": self.parity, "hidden": self.hidden,
                "depth": self.depth}


@keras.saving.register_keras_serializable(package="zoo")
class DiagonalScale(_layers.Layer):
    """NICE's top layer (Sec. 3.3): y = exp(s) * x with a learnt s per coordinate; log |det| = sum s."""

    def build(self, input_shape):
        self.log_scale = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="log_scale")

    def forward(self, x, training=False):
        x = ops.cast(x, self.compute_dtype)
        log_det = ops.sum(ops.cast(self.log_scale, "float32"))
        return x * ops.exp(ops.cast(self.log_scale, x.dtype)), _shared_log_det(log_det, x)

    def inverse(self, y):
        y = ops.cast(y, self.compute_dtype)
        return y * ops.exp(-ops.cast(self.log_scale, y.dtype))

    def call(self, x, training=False):
        return self.forward(x, training)


@keras.saving.register_keras_serializable(package="zoo")
class AffineCoupling(_layers.Layer):
    """RealNVP's affine coupling on images (Dinh et al. 2016, Eqs. 4-9): x_a kept, x_b -> x_b * exp(s(x_a)) +
    t(x_a), log |det| = sum s. `mask="checkerboard"` picks x_a by the spatial checkerboard of `parity`
    (Eq. 9: y = b x + (1 - b)(x exp(s(b x)) + t(b x))); `mask="channel"` keeps the first (parity 0) or
    second half of the channels. s = scale_bound * tanh(raw / scale_bound) keeps early steps finite."""

    MASKS = ("checkerboard", "channel")

    def __init__(self, image_shape, mask, parity, hidden=64, scale_bound=3.0, **kwargs):
        super().__init__(**kwargs)
        if mask not in self.MASKS:
            raise ValueError(f"mask must be one of {self.MASKS}; got {mask!r}")
        self.image_shape, self.mask, self.parity = tuple(int(d) for d in image_shape), mask, int(parity)
        self.hidden, self.scale_bound = int(hidden), float(scale_bound)
        h, w, c = self.image_shape
        if mask == "channel" and c % 2:
            raise ValueError(f"a channel coupling needs an even channel count; got {c}")
        in_shape = (h, w, c) if mask == "checkerboard" else (h, w, c // 2)
        out_channels = 2 * (c if mask == "checkerboard" else c // 2)
        self.net = coupling_net(in_shape, out_channels, self.hidden, f"{self.name}_st")
        if mask == "checkerboard":
            self._board = checkerboard(self.image_shape, self.parity)

    def _scale_shift(self, kept, training):
        raw_s, t = ops.split(self.net(kept, training=training), 2, axis=-1)
        return self.scale_bound * ops.tanh(raw_s / self.scale_bound), t

    def _halves(self, x):
        a, b = ops.split(x, 2, axis=-1)
        return (a, b) if self.parity == 0 else (b, a)

    def _join(self, kept, changed):
        return ops.concatenate([kept, changed] if self.parity == 0 else [changed, kept], axis=-1)

    def forward(self, x, training=False):
        x = ops.cast(x, self.compute_dtype)
        if self.mask == "checkerboard":
            board = ops.convert_to_tensor(self._board, x.dtype)
            s, t = self._scale_shift(x * board, training)
            s, t = s * (1.0 - board), t * (1.0 - board)
            return x * board + (1.0 - board) * (x * ops.exp(s) + t), _per_example_sum(s)
        kept, changed = self._halves(x)
        s, t = self._scale_shift(kept, training)
        return self._join(kept, changed * ops.exp(s) + t), _per_example_sum(s)

    def inverse(self, y):
        y = ops.cast(y, self.compute_dtype)
        if self.mask == "checkerboard":
            board = ops.convert_to_tensor(self._board, y.dtype)
            s, t = self._scale_shift(y * board, False)
            s, t = s * (1.0 - board), t * (1.0 - board)
            return y * board + (1.0 - board) * ((y - t) * ops.exp(-s))
        kept, changed = self._halves(y)
        s, t = self._scale_shift(kept, False)
        return self._join(kept, (changed - t) * ops.exp(-s))

    def call(self, x, training=False):
        return self.forward(x, training)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "mask": self.mask, "parity": self.parity,
                "hidden": self.hidden, "scale_bound": self.scale_bound}


@keras.saving.register_keras_serializable(package="zoo")
class ActNorm(_layers.Layer):
    """Glow's activation normalisation (Kingma & Dhariwal 2018, Sec. 3.1): y = exp(log_scale) * (x + bias)
    per channel, log |det| = H W sum log_scale. `initialize(x)` sets bias and scale from a batch so that
    y has zero mean and unit variance per channel (the data-dependent initialisation); a flow calls it on
    its first batch."""

    def build(self, input_shape):
        c = input_shape[-1]
        self.bias = self.add_weight(shape=(c,), initializer="zeros", name="bias")
        self.log_scale = self.add_weight(shape=(c,), initializer="zeros", name="log_scale")

    def initialize(self, x):
        x = ops.cast(x, "float32")  # float32 statistics under mixed precision: float16 rounds them, can overflow
        axes = tuple(range(len(x.shape) - 1))
        mean, var = ops.mean(x, axis=axes), ops.var(x, axis=axes)
        self.bias.assign(-mean)
        self.log_scale.assign(-0.5 * ops.log(var + 1e-6))

    def forward(self, x, training=False):
        x = ops.cast(x, self.compute_dtype)
        pixels = float(np.prod(x.shape[1:-1]))
        bias, log_scale = ops.cast(self.bias, x.dtype), ops.cast(self.log_scale, x.dtype)
        log_det = pixels * ops.sum(ops.cast(self.log_scale, "float32"))
        return (x + bias) * ops.exp(log_scale), _shared_log_det(log_det, x)

    def inverse(self, y):
        y = ops.cast(y, self.compute_dtype)
        return y * ops.exp(-ops.cast(self.log_scale, y.dtype)) - ops.cast(self.bias, y.dtype)

    def call(self, x, training=False):
        return self.forward(x, training)


@keras.saving.register_keras_serializable(package="zoo")
class Invertible1x1Conv(_layers.Layer):
    """Glow's invertible 1x1 convolution in its LU form (Kingma & Dhariwal 2018, Eq. 10): W = P L (U +
    diag(sign(s) exp(log|s|))), P a fixed permutation, L unit lower-triangular, U strictly upper-triangular;
    log |det| = H W sum log|s|. Initialised from a random rotation (seeded) as the paper."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def build(self, input_shape):
        c = int(input_shape[-1])
        rotation = np.linalg.qr(np.random.default_rng(self.seed).normal(size=(c, c)))[0]
        p, lower, upper = lu_decomposition(rotation)
        s = np.diag(upper)
        self.permutation = self.add_weight(shape=(c, c), initializer=keras.initializers.Constant(p),
                                           trainable=False, name="permutation")
        self.sign_s = self.add_weight(shape=(c,), initializer=keras.initializers.Constant(np.sign(s)),
                                      trainable=False, name="sign_s")
        self.lower = self.add_weight(shape=(c, c), initializer=keras.initializers.Constant(lower), name="lower")
        self.upper = self.add_weight(shape=(c, c), initializer=keras.initializers.Constant(np.triu(upper, 1)),
                                     name="upper")
        self.log_abs_s = self.add_weight(shape=(c,), initializer=keras.initializers.Constant(np.log(np.abs(s))),
                                         name="log_abs_s")
        self._c = c

    def weight(self):
        """W in float32 (its inverse too: `inv` has no float16 kernel), whatever the compute dtype."""
        c = self._c
        permutation, sign_s, lower, upper, log_abs_s = (
            ops.cast(v, "float32") for v in (self.permutation, self.sign_s, self.lower, self.upper, self.log_abs_s))
        lower = lower * ops.tril(ops.ones((c, c)), -1) + ops.eye(c)
        upper = upper * ops.triu(ops.ones((c, c)), 1) + ops.diag(sign_s * ops.exp(log_abs_s))
        return ops.matmul(permutation, ops.matmul(lower, upper))

    def forward(self, x, training=False):
        x = ops.cast(x, self.compute_dtype)
        pixels = float(np.prod(x.shape[1:-1]))
        y = _mix_channels(x, ops.cast(self.weight(), x.dtype))
        return y, _shared_log_det(pixels * ops.sum(ops.cast(self.log_abs_s, "float32")), x)

    def inverse(self, y):
        y = ops.cast(y, self.compute_dtype)
        return _mix_channels(y, ops.cast(ops.inv(self.weight()), y.dtype))

    def call(self, x, training=False):
        return self.forward(x, training)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _mix_channels(x, w):
    """x W^T over the last axis (a 1x1 convolution by W)."""
    if ops.dtype(x) == "float32":  # einsum, as before: float32 results stay bit for bit those measured
        return ops.einsum("...i,ji->...j", x, w)
    # TF's float16 einsum "...i,ji->...j" is wrong on oneDNN CPUs (relative error 1.4 measured, TF 2.21): matmul
    return ops.matmul(x, ops.transpose(w))


def lu_decomposition(a):
    """a = P L U with partial pivoting (Doolittle): P a permutation, L unit lower-, U upper-triangular."""
    n = len(a)
    u, lower, perm = np.array(a, dtype="float64"), np.eye(n), np.arange(n)
    for k in range(n - 1):
        pivot = k + int(np.argmax(np.abs(u[k:, k])))
        u[[k, pivot]], perm[[k, pivot]] = u[[pivot, k]], perm[[pivot, k]]
        lower[[k, pivot], :k] = lower[[pivot, k], :k]
        lower[k + 1:, k] = u[k + 1:, k] / u[k, k]
        u[k + 1:] -= lower[k + 1:, k, None] * u[k]
    return np.eye(n)[perm].T, lower, np.triu(u)


def squeeze(x):
    """(H, W, C) -> (H/2, W/2, 4C): each 2x2 block of pixels becomes 4 channels (RealNVP Sec. 3.6)."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x = ops.reshape(x, (-1, h // 2, 2, w // 2, 2, c))
    return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (-1, h // 2, w // 2, 4 * c))


def unsqueeze(x):
    """The inverse of `squeeze`."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x = ops.reshape(x, (-1, h, w, 2, 2, c // 4))
    return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (-1, 2 * h, 2 * w, c // 4))


@keras.saving.register_keras_serializable(package="zoo")
class MaskedAutoregressiveTransform(_layers.Layer):
    """MAF's layer (Papamakarios, Pavlakou & Murray 2017, Sec. 3.1, Eqs. 2-3, 6): a Gaussian MADE gives
    mu_i and alpha_i from x_{<i} (in this layer's order), and z_i = (x_i - mu_i) exp(-alpha_i); log |det dz/dx|
    = -sum alpha_i. The density direction is one pass; `inverse` (sampling) is D passes,
    x_i = z_i exp(alpha_i) + mu_i in order. `reverse` runs the layer in the reversed order (MAF alternates
    orders between layers). alpha = 3 tanh(raw / 3) keeps early steps finite (the paper's is unbounded)."""

    def __init__(self, dim, hidden=(256,), reverse=False, seed=None, scale_bound=3.0, **kwargs):
        super().__init__(**kwargs)
        from zoo.layers import MaskedDense, made_masks

        self.dim, self.hidden, self.reverse, self.seed = int(dim), tuple(int(h) for h in hidden), bool(reverse), seed
        self.scale_bound = float(scale_bound)
        _, masks = made_masks(self.dim, self.hidden, 1, np.random.default_rng(seed), natural_order=True)
        masks[-1] = np.concatenate([masks[-1], masks[-1]], axis=-1)  # mu and alpha: the same connectivity
        self.made = [MaskedDense(units, 1, name=f"{self.name}_masked_{i}") for i, units in enumerate(self.hidden)]
        # Zero initial output weights: each transform starts as the identity (as the couplings; the paper's
        # random start compounds exp(-alpha) over the stack, 3.4e5 bits per dimension on digits untrained).
        self.made.append(MaskedDense(2 * self.dim, 1, kernel_initializer="zeros", name=f"{self.name}_masked_out"))
        h = ops.zeros((1, self.dim))
        for layer, mask in zip(self.made, masks):
            h = layer(h)
            layer.masks.assign(mask)

    def _mu_alpha(self, x):
        h = x
        for layer in self.made[:-1]:
            h = ops.relu(layer(h))
        mu, raw = ops.split(self.made[-1](h), 2, axis=-1)
        return mu, self.scale_bound * ops.tanh(raw / self.scale_bound)

    def _flip(self, x):
        return ops.flip(x, axis=-1) if self.reverse else x

    def forward(self, x, training=False):
        x = self._flip(ops.cast(x, self.compute_dtype))
        mu, alpha = self._mu_alpha(x)
        return self._flip((x - mu) * ops.exp(-alpha)), -_per_example_sum(alpha)

    def inverse(self, z):
        z = self._flip(ops.cast(z, self.compute_dtype))
        x = ops.zeros_like(z)
        for i in range(self.dim):  # x_i needs x_{<i}: one pass per coordinate
            mu, alpha = self._mu_alpha(x)
            value = z[:, i] * ops.exp(alpha[:, i]) + mu[:, i]
            x = ops.concatenate([x[:, :i], value[:, None], x[:, i + 1:]], axis=1)
        return self._flip(x)

    def call(self, x, training=False):
        return self.forward(x, training)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": self.hidden, "reverse": self.reverse,
                "seed": self.seed, "scale_bound": self.scale_bound}
