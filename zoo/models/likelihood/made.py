"""MADE: masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle 2015)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from zoo import losses
from zoo.base import ZooModel
from zoo.layers import MaskedDense, made_masks
from zoo.registry import register


@register("made")
class MADE(ZooModel):
    """An autoencoder whose weights are masked so that its outputs are the conditionals of an autoregressive
    model: log p(x) = sum_d log p(x_d | x_{o<d}), exact, in one pass (Germain et al. 2015, Eq. 1 and Sec. 4).

    Pixels are Bernoulli, on the grey levels mapped to [0, 1] (with `binarize="dynamic"` a fresh binary draw
    each step, the protocol of binarised MNIST; on grey targets the value is a cross-entropy, not a
    normalised likelihood). The masks of `zoo.layers.made_masks` connect output d only to inputs earlier in
    the ordering. With `num_masks` > 1 the model is trained order- and connectivity-agnostic (the paper's
    Sec. 4): each step uses the next of `num_masks` mask sets (orderings and hidden degrees drawn once,
    seeded, and saved with the model), and at test time the log-likelihood is that of the ensemble of the
    masks, p(x) = (1/M) sum_m p(x | mask m). The first mask set keeps the natural (raster) order. The
    paper's binarised-MNIST models have one or two hidden layers of hundreds to thousands of units and up
    to 32 masks; the zoo's default is one layer of 500 and one mask (set `num_masks` for the ensemble).

    Capabilities: `log_prob` (exact; the mask ensemble; `k` is ignored), `sample` (ancestral: D passes in
    the first mask's order, pixels drawn from their Bernoulli, returned as -1 / 1).

    Args:
        input_shape: (height, width, channels).
        hidden: units per hidden layer (ReLU).
        num_masks: mask sets cycled in training, averaged at test time.
        binarize: None or "dynamic".
        learning_rate: Adam's.
        seed: seeds the masks and the sampler.

    Paper: arXiv 1502.03509.
    """

    roles = ("made",)
    log_names = ("loss",)
    eval_log_names = ("log_likelihood",)

    def __init__(self, input_shape, hidden=(500,), num_masks=1, binarize=None, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self.hidden = tuple(int(h) for h in ([hidden] if isinstance(hidden, int) else hidden))
        if not self.hidden or min(self.hidden) < 1 or int(num_masks) != num_masks or num_masks < 1:
            raise ValueError(f"need hidden layer sizes >= 1 and an integer num_masks >= 1; got {hidden}, {num_masks}")
        self.num_masks, self.learning_rate = int(num_masks), float(learning_rate)
        self.binarize = losses.binarization(binarize)
        self.dim = int(np.prod(self.image_shape))
        self.layers_ = [MaskedDense(units, self.num_masks, name=f"masked_{i}") for i, units in enumerate(self.hidden)]
        # float32 logits: the likelihood sums D Bernoulli terms, past float16's precision under mixed precision
        self.layers_.append(MaskedDense(self.dim, self.num_masks, dtype="float32", name="masked_logits"))
        h = ops.zeros((1, self.dim))
        for layer in self.layers_:
            h = layer(h)
        orderings, masks = made_masks(self.dim, self.hidden, self.num_masks, np.random.default_rng(seed),
                                      natural_order=True)
        for layer, mask in zip(self.layers_, masks):
            layer.masks.assign(mask)
        self.orderings = self.add_weight(shape=orderings.shape, initializer="zeros", trainable=False,
                                         name="orderings")
        self.orderings.assign(orderings.astype("float32"))
        self.mask_step = self.add_weight(shape=(), initializer="zeros", trainable=False, name="mask_step",
                                         aggregation="only_first_replica")
        self._finish_build()

    def role_layers(self):
        return {"made": self.layers_}

    def default_optimizers(self):
        return {"made": keras.optimizers.Adam(self.learning_rate)}

    def logits(self, targets, mask_index):
        """Per-pixel logits of p(x_d = 1 | x_{o<d}) under mask set `mask_index`; `targets` in [0, 1], (n, D)."""
        h = targets
        for layer in self.layers_[:-1]:
            h = ops.relu(layer(h, mask_index=mask_index))
        return self.layers_[-1](h, mask_index=mask_index)

    def _targets(self, x):
        return ops.reshape((ops.convert_to_tensor(x) + 1.0) / 2.0, (-1, self.dim))

    def log_likelihood(self, targets, mask_index):
        return losses.bernoulli_log_likelihood(targets, self.logits(targets, mask_index))

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        if self.binarize == "dynamic":
            x = losses.binarize_dynamically(x, self.seed_generator)
        targets = self._targets(x)
        mask_index = ops.cast(ops.mod(self.mask_step, self.num_masks), "int32")

        def loss_fn():
            loss = -ops.mean(self.log_likelihood(targets, mask_index))
            return loss, {"loss": loss}

        _, logs = self.minimize("made", loss_fn)
        self.mask_step.assign_add(1.0)
        return self.track(self.log_names, logs)

    def ensemble_log_likelihood(self, x):
        """log (1/M) sum_m p(x | mask m), per example."""
        targets = self._targets(x)
        per_mask = ops.stack([self.log_likelihood(targets, m) for m in range(self.num_masks)], axis=0)
        return ops.logsumexp(per_mask, axis=0) - math.log(self.num_masks)

    def evaluation_terms(self, x):
        return {"log_likelihood": self.ensemble_log_likelihood(x)}

    def _log_prob_batch(self, x, k):
        return self.ensemble_log_likelihood(x)

    def log_prob(self, x, k=1, batch_size=500):
        """Exact log p(x) of the mask ensemble, nats (`k` is ignored)."""
        return super().log_prob(x, k=1, batch_size=batch_size)

    def _sample_batch(self, n, labels, seed_generator):
        order = ops.convert_to_numpy(self.orderings[0]).astype(int)  # mask set 0's ordering
        targets = ops.zeros((n, self.dim))
        for position in np.argsort(order):  # inputs in the order of their degree 1, 2, ..., D
            p = ops.sigmoid(self.logits(targets, 0)[:, position])
            draw = ops.cast(keras.random.uniform((n,), seed=seed_generator) < p, "float32")
            targets = ops.concatenate([targets[:, :position], draw[:, None], targets[:, position + 1:]], axis=1)
        return ops.reshape(2.0 * targets - 1.0, (-1, *self.image_shape))
