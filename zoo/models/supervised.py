"""The supervised-only baseline: an SSL method's classifier net trained on the labels alone."""

from __future__ import annotations

import keras

from zoo import losses, nets
from zoo.base import NetClassifier, ZooModel
from zoo.registry import register


@register("supervised")
class Supervised(NetClassifier, ZooModel):
    """Baseline: the zoo's classifier net trained on the labelled examples alone.

    The same `zoo.nets.features` trunk and linear head as the discriminator /
    classifier of the SSL methods (same `arch`, `dropout`, `input_noise`),
    trained by cross-entropy on `"x_labeled"`, `"y_labeled"` only; the
    unlabelled stream is ignored. Every "it learns" bar of an SSL method is
    set against this model with the same net and steps.

    Args:
        input_shape: (height, width, channels).
        num_classes: number of classes.
        arch, dropout, input_noise, width: as `zoo.nets.features` (`width`: the
            baseline of M2's classifier, whose nets are scaled by it).
        weight_norm: weight-normalised layers (the baseline of `improved_gan`,
            `bad_gan`, whose discriminators have them).
        data_init: weight norm's data-dependent initialisation on 500 training
            images before the first step, as those methods do (their D and
            this baseline then start from the same kind of net).
        learning_rate: Adam's learning rate.
        seed: seed of the model's noise.

    Example:
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("supervised", input_shape=data.input_shape, num_classes=10)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=100, verbose=0)
    """

    roles = ("c",)
    log_names = ("loss",)

    def __init__(self, input_shape, num_classes, arch="auto", dropout=0.5, input_noise=0.3, learning_rate=3e-4,
                 seed=None, weight_norm=False, width=1.0, data_init=True, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.arch = arch
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self.learning_rate = float(learning_rate)
        self.weight_norm = bool(weight_norm)
        self.width = float(width)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, num_classes, dropout=self.dropout, input_noise=self.input_noise,
            width=self.width, weight_norm=self.weight_norm, prefix="c")
        self._finish_build()
        self.data_init = self._use_data_init(data_init, [self.features, self.classifier_head])

    def role_layers(self):
        return {"c": [self.features, self.classifier_head]}

    def default_optimizers(self):
        return {"c": keras.optimizers.Adam(self.learning_rate, beta_1=0.5)}

    def train_step(self, batch):
        x_labeled, y_labeled = self.unpack(batch, "x_labeled", "y_labeled")

        def loss_fn():
            loss = losses.cross_entropy(y_labeled, self.logits(x_labeled, training=True))
            return loss, {"loss": loss}

        _, logs = self.minimize("c", loss_fn)
        return self.track(self.log_names, logs)
