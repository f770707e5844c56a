"""Domain-adversarial neural networks (DANN): Ganin & Lempitsky 2015 (arXiv 1409.7495) and Ganin et al.
2016, "Domain-Adversarial Training of Neural Networks", JMLR 17(59) (arXiv 1505.07818)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets, schedules
from zoo.base import NetClassifier, ZooModel
from zoo.layers import GradientReversal
from zoo.registry import register


@register("dann")
class DANN(NetClassifier, ZooModel):
    """Features that predict the source's labels and that a domain classifier cannot tell apart by domain.

    Three nets: features G_f, a label predictor G_y on them (the classifier,
    `classify`) and a domain classifier G_d (source or target). With n labelled
    source images and n' unlabelled target images, the paper's objective
    (Ganin et al. 2016, Eq. 10) is the saddle point of

        E(f, y, d) = 1/n sum_source L_y(G_y(G_f(x)), y)
                     - lambda (1/n sum_source L_d(G_d(G_f(x)), 0) + 1/n' sum_target L_d(G_d(G_f(x)), 1)),

    minimised by the features and the label predictor, maximised by the domain
    classifier (i.e. it minimises its own logistic loss L_d). The gradient
    reversal layer R (identity forward, -lambda times the gradient backward;
    `zoo.layers.GradientReversal`) between G_f and G_d turns the saddle point
    into one descent step on L_y + L_d through G_d(R(G_f(x))): the domain
    classifier steps down dL_d/d(theta_d), the features by
    dL_y/d(theta_f) - lambda dL_d/d(theta_f) (the paper's stochastic updates,
    Sec. 3.2 of Ganin & Lempitsky 2015). One tape, one step per role.

    Schedules of the paper (Ganin et al. 2016, Sec. 5.2.2), with p the
    training progress from 0 to 1 over `total_steps`:

        lambda_p = 2 / (1 + exp(-gamma p)) - 1,   gamma = 10
        mu_p = mu_0 / (1 + alpha p)^beta,          mu_0 = 0.01, alpha = 10, beta = 0.75

    and SGD with momentum 0.9 for every net (`zoo.schedules.InverseDecay`,
    `zoo.schedules.domain_adaptation_weight`).

    Batches (DESIGN.md's, `zoo.data.load_domains`): `"x"` the target's
    unlabelled images, `"x_labeled"` / `"y_labeled"` the source's images and
    labels. `evaluate` on the target's test set gives the adaptation's score.
    `adaptation=False` is the paper's source-only baseline: the same nets,
    optimizers and schedule, the domain term off (trained on the target's own
    labels, `load_domains(t, t)`, it is the target-supervised ceiling).

    Args:
        input_shape: (height, width, channels).
        num_classes: the label predictor's classes.
        arch: a `zoo.nets` architecture; "dann_mnist" (default) is the paper's
            MNIST net (two 5x5 conv / max-pool blocks, a 100-100 label predictor).
        domain_units: hidden units of the domain classifier (the paper's
            MNIST one: a single layer of 100).
        adaptation: train the domain term (False: source only).
        total_steps: the run's length, for p (the schedules reach p = 1 there
            and stay).
        gamma: lambda's schedule rate.
        learning_rate, lr_alpha, lr_beta, momentum: mu_0, alpha, beta and SGD's
            momentum.
        dropout, input_noise: as `zoo.nets.features` (the paper: none).
        seed: seed of the model's noise.

    Example:
        >>> data = zoo.data.load_domains("mnist", "digits")     # MNIST -> digits at 28x28
        >>> model = zoo.load("dann", total_steps=3000)
        >>> model.fit(data, batch_size=64, epochs=1, steps_per_epoch=3000)
        >>> model.evaluate(data.test())                          # the target's test accuracy
    """

    roles = ("f", "c", "d")
    log_names = ("loss", "label_loss", "domain_loss", "domain_accuracy", "adaptation_weight")

    def __init__(self, input_shape, num_classes, arch="dann_mnist", domain_units=(100,), adaptation=True,
                 total_steps=10_000, gamma=10.0, learning_rate=0.01, lr_alpha=10.0, lr_beta=0.75, momentum=0.9,
                 dropout=0.0, input_noise=0.0, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if int(total_steps) < 1:
            raise ValueError(f"total_steps must be >= 1; got {total_steps}")
        self.arch = arch
        self.domain_units = tuple(int(u) for u in domain_units)
        self.adaptation = bool(adaptation)
        self.total_steps = int(total_steps)
        self.gamma, self.learning_rate = float(gamma), float(learning_rate)
        self.lr_alpha, self.lr_beta, self.momentum = float(lr_alpha), float(lr_beta), float(momentum)
        self.dropout, self.input_noise = float(dropout), float(input_noise)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, num_classes, dropout=self.dropout, input_noise=self.input_noise, prefix="f")
        self.domain_classifier = nets.vector_mlp(self.features.output.shape[-1], self.domain_units, 1,
                                                 name="d_domain")
        self.gradient_reversal = GradientReversal(name="gradient_reversal")
        self.gradient_reversal.build(self.features.output.shape)
        self._finish_build()

    def role_layers(self):
        return {"f": [self.features], "c": [self.classifier_head], "d": [self.domain_classifier]}

    def default_optimizers(self):
        def sgd():
            rate = schedules.InverseDecay(self.learning_rate, self.total_steps, self.lr_alpha, self.lr_beta)
            return keras.optimizers.SGD(rate, momentum=self.momentum)

        return {role: sgd() for role in self.roles}

    def adaptation_weight(self):
        """lambda_p at this step (0 without adaptation)."""
        if not self.adaptation:
            return ops.zeros(())
        progress = schedules.training_progress(self.role_optimizers["f"].iterations, self.total_steps)
        return schedules.domain_adaptation_weight(progress, self.gamma)

    def train_step(self, batch):
        x_target, x_source, y_source = self.unpack(batch, "x", "x_labeled", "y_labeled")
        weight = self.adaptation_weight()

        def loss_fn():
            source_features = self.features(x_source, training=True)
            label_loss = losses.cross_entropy(y_source, self.classifier_head(source_features, training=True))
            if not self.adaptation:
                zero = ops.zeros(())
                return label_loss, {"loss": label_loss, "label_loss": label_loss, "domain_loss": zero,
                                    "domain_accuracy": zero, "adaptation_weight": weight}
            target_features = self.features(x_target, training=True)
            source_logits, target_logits = (
                self.domain_classifier(self.gradient_reversal(h, scale=weight), training=True)
                for h in (source_features, target_features))
            domain_loss = losses.domain_classification_loss(source_logits, target_logits)
            domain_accuracy = 0.5 * (ops.mean(ops.cast(source_logits < 0, "float32"))
                                     + ops.mean(ops.cast(target_logits > 0, "float32")))
            loss = label_loss + domain_loss
            return loss, {"loss": loss, "label_loss": label_loss, "domain_loss": domain_loss,
                          "domain_accuracy": domain_accuracy, "adaptation_weight": weight}

        _, logs = self.minimize(("f", "c", "d") if self.adaptation else ("f", "c"), loss_fn)
        return self.track(self.log_names, logs)
