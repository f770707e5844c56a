"""Normalising flows on images: NICE (Dinh et al. 2014), RealNVP (Dinh et al. 2016), Glow (Kingma & Dhariwal 2018).

A flow is a bijection f from data v to latents z with a tractable Jacobian (the bijectors of
`zoo.bijectors`), so the change of variables gives the exact density

    log p(v) = log p_Z(f(v)) + log |det df/dv|                        (NICE, Eq. 1; RealNVP, Eq. 3)

Data, as the three papers: 8-bit pixels u8 (from our [-1, 1] pixels: u8 = 255 (x + 1) / 2) are
dequantised uniformly, u = (u8 + U(0, 1)) / 256 in [0, 1]^D, a fresh draw every training step. NICE models u
itself; RealNVP and Glow model v = logit(a + (1 - 2a) u) with a = 0.05 (RealNVP Sec. 4.1), whose log-Jacobian
is added. Theis et al. (2016) show E_U log p(u) - D log 256 is a lower bound on the log-probability of the
8-bit image: `log_prob` returns one draw of it (a fixed seed, so it is reproducible), in nats, and
`evaluate` logs it with bits per dimension, (D log 256 - log p(u)) / (D log 2), the papers' unit.

On digits the 8x8 images have 17 grey levels, spread 16 apart on the 8-bit scale, so a flow can put
its mass on them and bits per dimension fall far below MNIST's; compare numbers on one data set only.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from zoo import bijectors, losses
from zoo.base import ZooModel
from zoo.registry import register

LOG_256 = math.log(256.0)


class _Flow(ZooModel):
    """Shared: dequantisation, the logit pre-processing, the step list (bijectors, squeezes and
    factor-outs), the bound, sampling. Subclasses add their steps in `__init__` (`_add`) and set `prior`."""

    roles = ("flow",)
    log_names = ("loss", "bits_per_dim")
    eval_log_names = ("log_likelihood", "bits_per_dim")
    #: "normal" or "logistic" (NICE's prior on MNIST).
    prior = "normal"

    def _start(self, logit_alpha, learning_rate):
        if logit_alpha is not None and not 0 < logit_alpha < 0.5:
            raise ValueError(f"logit_alpha must be in (0, 0.5) or None; got {logit_alpha}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {learning_rate}")
        self.logit_alpha = None if logit_alpha is None else float(logit_alpha)
        self.learning_rate = float(learning_rate)
        self.dim = int(np.prod(self.image_shape))
        self.bijectors = []
        self.plan = []  # "bijector" (the next of self.bijectors), "squeeze" or "split", in the order of f

    def _add(self, step):
        """Append a step to the flow: a bijector layer, or "squeeze" / "split"."""
        if isinstance(step, str):
            self.plan.append(step)
        else:
            self.bijectors.append(step)
            self.plan.append("bijector")

    def steps(self):
        """(kind, layer or None) in the order of f."""
        layers = iter(self.bijectors)
        return [(kind, next(layers) if kind == "bijector" else None) for kind in self.plan]

    def _finish(self, x_shape):
        # Build every layer on its own input shape by one pass of a dummy batch, which also gives the shapes
        # of the latent pieces that `sample` draws.
        pieces, _ = self.transform(ops.zeros((1, *x_shape)))
        object.__setattr__(self, "latent_shapes", [tuple(int(d) for d in p.shape[1:]) for p in pieces])
        self._finish_build()

    def role_layers(self):
        return {"flow": self.bijectors}

    def default_optimizers(self):
        # Adam with learning rate 1e-3, as the RealNVP and Glow papers (NICE: Adam too).
        return {"flow": keras.optimizers.Adam(self.learning_rate)}

    # --------------------------------------------------------- pre-processing
    def dequantize(self, x, noise):
        """u = (u8 + noise) / 256 in (0, 1), u8 = 255 (x + 1) / 2 the 8-bit pixel, noise in [0, 1)."""
        return (255.0 * (x + 1.0) / 2.0 + noise) / 256.0

    def to_flow_input(self, u):
        """v = logit(a + (1 - 2a) u) and its log-Jacobian per example (u itself, 0, without the logit)."""
        if self.logit_alpha is None:
            return u, ops.zeros((ops.shape(u)[0],))
        a = self.logit_alpha
        p = a + (1.0 - 2.0 * a) * u
        log_jacobian = math.log(1.0 - 2.0 * a) - ops.log(p) - ops.log1p(-p)
        return ops.log(p) - ops.log1p(-p), bijectors._per_example_sum(log_jacobian)

    def from_flow_input(self, v):
        u = v if self.logit_alpha is None else (ops.sigmoid(v) - self.logit_alpha) / (1.0 - 2.0 * self.logit_alpha)
        return ops.clip(2.0 * u - 1.0, -1.0, 1.0)

    # --------------------------------------------------------------- the flow
    def transform(self, v, training=False):
        """z = f(v) as the list of factored-out pieces and the last one, with log |det df/dv| per example;
        all float32 (under mixed precision the bijectors compute in float16, their log-dets in float32)."""
        h, log_det, pieces = v, ops.zeros((ops.shape(v)[0],)), []
        for kind, layer in self.steps():
            if kind == "bijector":
                h, step_log_det = layer(h, training=training)
                log_det = log_det + step_log_det
            elif kind == "squeeze":
                h = bijectors.squeeze(h)
            else:  # "split": half the channels leave the flow here (RealNVP's multi-scale, Sec. 3.6)
                z, h = ops.split(h, 2, axis=-1)
                pieces.append(z)
        return [ops.cast(z, "float32") for z in pieces + [h]], log_det

    def invert(self, pieces):
        pieces = list(pieces)
        h = pieces.pop()
        for kind, layer in reversed(self.steps()):
            if kind == "bijector":
                h = layer.inverse(h)
            elif kind == "squeeze":
                h = bijectors.unsqueeze(h)
            else:
                h = ops.concatenate([ops.cast(pieces.pop(), h.dtype), h], axis=-1)
        return ops.cast(h, "float32")  # v, as `transform` gives z: float32 under mixed precision too

    def prior_log_density(self, z):
        if self.prior == "logistic":  # log p(z) = -(softplus(z) + softplus(-z)) per coordinate
            return -bijectors._per_example_sum(ops.softplus(z) + ops.softplus(-z))
        return losses.standard_normal_log_density(ops.reshape(z, (ops.shape(z)[0], -1)))

    def log_density(self, u, training=False):
        """log p(u) over [0, 1]^D, exact."""
        v, pre_log_det = self.to_flow_input(u)
        pieces, log_det = self.transform(v, training)
        return sum(self.prior_log_density(z) for z in pieces) + log_det + pre_log_det

    def bits_per_dim(self, log_density):
        return (self.dim * LOG_256 - log_density) / (self.dim * math.log(2.0))

    # ---------------------------------------------------------------- training
    def train_step(self, batch):
        x = self.unpack(batch, "x")
        u = self.dequantize(x, self.uniform(ops.shape(x)))

        def loss_fn():
            log_density = self.log_density(u, training=True)
            loss = -ops.mean(log_density) / self.dim  # nats per dimension: the same step size at any image size
            return loss, {"loss": loss, "bits_per_dim": ops.mean(self.bits_per_dim(log_density))}

        _, logs = self.minimize("flow", loss_fn)
        return self.track(self.log_names, logs)

    def _bound(self, x):
        noise = keras.random.uniform(ops.shape(x), seed=0)  # a fixed draw: log_prob is reproducible
        return self.log_density(self.dequantize(x, noise))

    def evaluation_terms(self, x):
        log_density = self._bound(x)
        return {"log_likelihood": log_density - self.dim * LOG_256, "bits_per_dim": self.bits_per_dim(log_density)}

    def _log_prob_batch(self, x, k):
        return self._bound(x) - self.dim * LOG_256

    def log_prob(self, x, k=1, batch_size=500):
        """log P(x) >= E_U log p((u8 + U) / 256) - D log 256 for the 8-bit image x, one fixed draw, nats.
        `k` is ignored (the flow's density is exact; the one draw is of the dequantisation)."""
        return super().log_prob(x, k=1, batch_size=batch_size)

    def _sample_batch(self, n, labels, seed_generator):
        shapes = self.latent_shapes
        if self.prior == "logistic":
            pieces = []
            for shape in shapes:
                p = keras.random.uniform((n, *shape), 1e-6, 1.0 - 1e-6, seed=seed_generator)
                pieces.append(ops.log(p) - ops.log1p(-p))
        else:
            pieces = [keras.random.normal((n, *shape), seed=seed_generator) for shape in shapes]
        return self.from_flow_input(self.invert(pieces))


@register("nice")
class NICE(_Flow):
    """NICE: non-linear independent components estimation (Dinh, Krueger & Bengio 2014).

    The flattened image u in [0, 1]^D passes through `couplings` additive coupling layers (Eq. 5,
    y_b = x_b + m(x_a), unit Jacobian), alternating which half (even or odd coordinates) is kept, and a
    diagonal scaling on top (Sec. 3.3: log |det| = sum s); the prior is the standard logistic (the paper's
    MNIST prior, Sec. 5.1), so log p(u) = sum_d log p_logistic(h_d(u)) + sum_d s_d (Eq. 6). The paper's
    MNIST model: 4 couplings, m of 5 ReLU layers of 1000 units; here `hidden` and `depth` default smaller
    (the zoo's CPU scale) and the paper's recipe sets them.

    Args:
        input_shape: (height, width, channels).
        couplings, hidden, depth: the coupling layers and their m nets.
        learning_rate: Adam's.
        seed: seed of the dequantisation noise and the sampler.

    Paper: arXiv 1410.8516.
    """

    prior = "logistic"

    def __init__(self, input_shape, couplings=4, hidden=256, depth=3, learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if couplings < 2 or hidden < 1 or depth < 1:
            raise ValueError(f"need couplings >= 2, hidden >= 1, depth >= 1; got {couplings}, {hidden}, {depth}")
        self.couplings, self.hidden, self.depth = int(couplings), int(hidden), int(depth)
        self._start(None, learning_rate)
        for i in range(self.couplings):
            self._add(bijectors.AdditiveCoupling(self.dim, i % 2, self.hidden, self.depth, name=f"coupling_{i}"))
        self._add(bijectors.DiagonalScale(name="scale"))
        self._finish((self.dim,))

    def to_flow_input(self, u):
        return ops.reshape(u, (-1, self.dim)), ops.zeros((ops.shape(u)[0],))

    def from_flow_input(self, v):
        return ops.clip(2.0 * ops.reshape(v, (-1, *self.image_shape)) - 1.0, -1.0, 1.0)

@register("realnvp")
class RealNVP(_Flow):
    """RealNVP: affine coupling layers with checkerboard and channel masks, squeezing, multi-scale (Dinh,
    Sohl-Dickstein & Bengio 2016).

    v = logit(0.05 + 0.9 u) (Sec. 4.1). Each of `scales` scales (Sec. 3.6): 3 checkerboard affine couplings
    (Eqs. 7-9, alternating masks), a squeeze (H, W, C) -> (H/2, W/2, 4C), 3 channel-wise affine couplings,
    and half the channels factored out to the prior; the last scale is 4 checkerboard couplings. The
    couplings' s and t come from one small conv net (`zoo.bijectors.coupling_net`; the paper's are deep
    ResNets with batch norm, left out here: batch statistics would make log p(x) depend on the batch); s is
    bounded by 3 tanh(raw / 3). Prior N(0, I).

    Args:
        input_shape: (height, width, channels), height and width divisible by 2^scales.
        scales: multi-scale levels before the final one.
        hidden: channels of the coupling nets.
        learning_rate, seed: as `nice`.

    Paper: arXiv 1605.08803.
    """

    def __init__(self, input_shape, scales=1, hidden=64, logit_alpha=0.05, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        h, w, c = self.image_shape
        if scales < 1 or h % 2 ** scales or w % 2 ** scales:
            raise ValueError(f"image sides {h}x{w} must be divisible by 2^scales (scales={scales} >= 1)")
        self.scales, self.hidden = int(scales), int(hidden)
        self._start(logit_alpha, learning_rate)
        shape = (h, w, c)
        for level in range(self.scales):
            for i in range(3):
                self._coupling(shape, "checkerboard", i % 2, f"s{level}_checkerboard_{i}")
            self._add("squeeze")
            shape = (shape[0] // 2, shape[1] // 2, 4 * shape[2])
            for i in range(3):
                self._coupling(shape, "channel", i % 2, f"s{level}_channel_{i}")
            self._add("split")
            shape = (shape[0], shape[1], shape[2] // 2)
        for i in range(4):
            self._coupling(shape, "checkerboard", i % 2, f"final_checkerboard_{i}")
        self._finish(self.image_shape)

    def _coupling(self, shape, mask, parity, name):
        self._add(bijectors.AffineCoupling(shape, mask, parity, self.hidden, name=name))


@register("glow")
class Glow(_Flow):
    """Glow: actnorm, invertible 1x1 convolutions and affine couplings (Kingma & Dhariwal 2018).

    v = logit(0.05 + 0.9 u) as RealNVP. `levels` levels (Sec. 3, Fig. 2): a squeeze, then `depth` steps
    of flow, each actnorm (Sec. 3.1, initialised from the first batch so its output has zero mean and unit
    variance per channel), an invertible 1x1 convolution in LU form (Sec. 3.2 and Eq. 10) and an affine
    coupling on channel halves (Sec. 3.3, zero-initialised last layer); every level but the last factors
    half its channels out. Prior N(0, I) for every piece (the paper learns the split priors' means and
    scales from the remaining half; not here).

    Args:
        input_shape: (height, width, channels), sides divisible by 2^levels.
        levels, depth: L and K of the paper.
        hidden: channels of the coupling nets (the paper: 512).
        learning_rate, seed: as `nice`.

    Paper: arXiv 1807.03039.
    """

    def __init__(self, input_shape, levels=2, depth=4, hidden=64, logit_alpha=0.05, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        h, w, c = self.image_shape
        if levels < 1 or depth < 1 or h % 2 ** levels or w % 2 ** levels:
            raise ValueError(f"need levels >= 1, depth >= 1 and sides {h}x{w} divisible by 2^levels; got "
                             f"levels={levels}, depth={depth}")
        self.levels, self.depth, self.hidden = int(levels), int(depth), int(hidden)
        self._start(logit_alpha, learning_rate)
        shape = (h, w, c)
        rng = np.random.default_rng(seed)
        for level in range(self.levels):
            self._add("squeeze")
            shape = (shape[0] // 2, shape[1] // 2, 4 * shape[2])
            for k in range(self.depth):
                self._add(bijectors.ActNorm(name=f"l{level}_actnorm_{k}"))
                self._add(bijectors.Invertible1x1Conv(seed=int(rng.integers(2**31)), name=f"l{level}_conv1x1_{k}"))
                self._add(bijectors.AffineCoupling(shape, "channel", 0, self.hidden, name=f"l{level}_coupling_{k}"))
            if level < self.levels - 1:
                self._add("split")
                shape = (shape[0], shape[1], shape[2] // 2)
        self.data_initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                name="data_initialized")
        self._finish(self.image_shape)

    def _data_dependent_init(self, x):
        """Actnorm's initialisation: one pass of a batch, each actnorm set from the input it receives."""
        v, _ = self.to_flow_input(self.dequantize(x, keras.random.uniform(ops.shape(x), seed=0)))
        h = v
        for kind, layer in self.steps():
            if kind == "bijector":
                if isinstance(layer, bijectors.ActNorm):
                    layer.initialize(h)
                h, _ = layer.forward(h)
            elif kind == "squeeze":
                h = bijectors.squeeze(h)
            else:
                h = ops.split(h, 2, axis=-1)[1]


@register("maf")
class MAF(_Flow):
    """Masked autoregressive flow (Papamakarios, Pavlakou & Murray 2017): a stack of Gaussian MADEs
    (`zoo.bijectors.MaskedAutoregressiveTransform`), each in the reverse order of the one before.

    v = logit(a + (1 - 2a) u) on the flattened image (a = 0.05 as RealNVP; the paper's MNIST pre-processing
    is the same logit with a = 1e-6), then `transforms` MADE transforms, prior N(0, I). The paper's MNIST model:
    5 MADEs of one hidden layer of 1024 units with batch norm between them; here 5 of 256 units and no batch
    norm (batch statistics would make log p(x) depend on the batch). Density: one pass per layer; sampling:
    D passes per layer.

    Args:
        input_shape: (height, width, channels).
        transforms: MADE transforms.
        hidden: their hidden layer sizes.
        learning_rate, seed: as `nice`.

    Paper: arXiv 1705.07057.
    """

    def __init__(self, input_shape, transforms=5, hidden=(256,), logit_alpha=0.05, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self.hidden = tuple(int(h) for h in ([hidden] if isinstance(hidden, int) else hidden))
        if transforms < 1 or not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"need transforms >= 1 and hidden sizes >= 1; got {transforms}, {hidden}")
        self.transforms = int(transforms)
        self._start(logit_alpha, learning_rate)
        rng = np.random.default_rng(seed)
        for i in range(self.transforms):
            self._add(bijectors.MaskedAutoregressiveTransform(self.dim, self.hidden, reverse=bool(i % 2),
                                                              seed=int(rng.integers(2**31)), name=f"made_{i}"))
        self._finish((self.dim,))

    def to_flow_input(self, u):
        v, log_jacobian = super().to_flow_input(u)
        return ops.reshape(v, (-1, self.dim)), log_jacobian

    def from_flow_input(self, v):
        return super().from_flow_input(ops.reshape(v, (-1, *self.image_shape)))