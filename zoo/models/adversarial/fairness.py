"""A classifier trained against an adversary that predicts a protected attribute: Edwards & Storkey 2016,
"Censoring Representations with an Adversary" (arXiv 1511.05897), and the equalised-odds adversary of
Zhang, Lemoine & Mitchell 2018, "Mitigating Unwanted Biases with Adversarial Learning" (arXiv 1801.07593)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import BATCH_KEYS, NetClassifier, ZooModel
from zoo.layers import GradientReversal
from zoo.registry import register

CRITERIA = ("parity", "odds")


@register("fair_adversary")
class FairAdversary(NetClassifier, ZooModel):
    """A classifier whose predictions an adversary cannot use to recover a protected attribute a.

    Nets: features h = f(x), the label head c(h) (`classify`) and an adversary
    A predicting the group a from what the criterion says must not carry it:

    * `criterion="parity"` (demographic parity; Edwards & Storkey 2016,
      Sec. 3): A reads the representation h, so that h (and every prediction
      made from it) is independent of a;
    * `criterion="odds"` (equalised odds; Zhang et al. 2018, Sec. 3): A reads
      the prediction p(y|x) together with the true label y, so that given y
      the prediction carries no information about a.

    The min-max game, with alpha the adversary's weight:

        min_{f, c} max_A  L_y(c(f(x)), y) - alpha L_A(A(.), a),

    the adversary minimising its own cross-entropy L_A. As in `dann`, a
    gradient reversal layer (scale alpha) between the criterion's input and A
    turns it into one descent step on L_y + L_A (Edwards & Storkey's
    alternating updates taken together; Zhang et al. also project the
    predictor's gradient onto the adversary's orthogonal complement, which is
    not implemented here). alpha = 0 trains the adversary as a probe only:
    the classifier without it, for comparison.

    Batches: DESIGN.md's labelled stream with the labelled examples' groups
    as `"a_labeled"` (`zoo.data.load_spurious`); `"x"` is not read.

    Args:
        input_shape: (height, width, channels).
        num_classes: the label's classes.
        num_groups: the protected attribute's values.
        criterion: "parity" or "odds".
        adversary_weight: alpha >= 0.
        arch, dropout, input_noise: the classifier net (`zoo.nets.classifier`).
        adversary_units: hidden units of the adversary (an MLP).
        learning_rate: Adam's (beta_1 0.9) for the three nets.
        seed: seed of the model's noise.

    Example:
        >>> data = zoo.data.load_spurious("digits", rate=0.9)
        >>> model = zoo.load("fair_adversary", adversary_weight=1.0)
        >>> model.fit(data, batch_size=64, epochs=1, steps_per_epoch=300)
        >>> zoo.metrics.fairness_report(data.y_test, model.classify(data.x_test).argmax(-1), data.a_test)
    """

    roles = ("f", "c", "a")
    log_names = ("loss", "label_loss", "adversary_loss", "adversary_accuracy")
    batch_keys = BATCH_KEYS + ("a_labeled",)

    def __init__(self, input_shape, num_classes, num_groups=2, criterion="parity", adversary_weight=1.0,
                 arch="auto", adversary_units=(100,), dropout=0.0, input_noise=0.0, learning_rate=1e-3, seed=None,
                 **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}; got {criterion!r}")
        if adversary_weight < 0:
            raise ValueError(f"adversary_weight must be >= 0; got {adversary_weight}")
        if int(num_groups) < 2:
            raise ValueError(f"num_groups must be >= 2; got {num_groups}")
        self.num_groups, self.criterion = int(num_groups), criterion
        self.adversary_weight = float(adversary_weight)
        self.arch, self.adversary_units = arch, tuple(int(u) for u in adversary_units)
        self.dropout, self.input_noise, self.learning_rate = float(dropout), float(input_noise), float(learning_rate)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, num_classes, dropout=self.dropout, input_noise=self.input_noise, prefix="f")
        reads = self.features.output.shape[-1] if criterion == "parity" else 2 * self.num_classes
        self.adversary = nets.vector_mlp(reads, self.adversary_units, self.num_groups, name="a_adversary")
        self.gradient_reversal = GradientReversal(self.adversary_weight, name="gradient_reversal")
        self.gradient_reversal.build((None, reads))
        self._finish_build()

    def role_layers(self):
        return {"f": [self.features], "c": [self.classifier_head], "a": [self.adversary]}

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate) for role in self.roles}

    def adversary_inputs(self, h, logits, y):
        """What the adversary reads, through the reversal: h (parity), or [p(y|x); one-hot y] (odds)."""
        if self.criterion == "parity":
            return self.gradient_reversal(h)
        onehot = ops.one_hot(ops.cast(y, "int32"), self.num_classes)
        return ops.concatenate([self.gradient_reversal(ops.softmax(logits)), onehot], axis=-1)

    def train_step(self, batch):
        x, y, groups = self.unpack(batch, "x_labeled", "y_labeled", "a_labeled")

        def loss_fn():
            h = self.features(x, training=True)
            logits = self.classifier_head(h, training=True)
            label_loss = losses.cross_entropy(y, logits)
            adversary_logits = self.adversary(self.adversary_inputs(h, logits, y), training=True)
            adversary_loss = losses.cross_entropy(groups, adversary_logits)
            hits = ops.argmax(adversary_logits, axis=-1) == ops.cast(groups, "int32")
            loss = label_loss + adversary_loss
            return loss, {"loss": loss, "label_loss": label_loss, "adversary_loss": adversary_loss,
                          "adversary_accuracy": ops.mean(ops.cast(hits, "float32"))}

        _, logs = self.minimize(("f", "c", "a"), loss_fn)
        return self.track(self.log_names, logs)
