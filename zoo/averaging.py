"""Running averages of a model's weights, for evaluation (Polyak averaging).

Improved-GAN (Salimans et al. 2016) tests its discriminator, and Triple-GAN
(Li et al. 2017) its classifier, with an exponential moving average of the
weights rather than the last step's: the average smooths the oscillation of
the adversarial game. A method that averages holds an `ExponentialAverage`,
updates it after each optimizer step, and evaluates inside its `scope()`.
"""

from __future__ import annotations

import keras
from keras import ops


class ExponentialAverage:
    """Bias-corrected exponential moving average of `variables`, held as weights of `model`.

    After step t (t = 1, 2, ...):

        s_t = d s_{t-1} + (1 - d) theta_t,   s_0 = 0,
        average_t = s_t / (1 - d^t),

    i.e. the weighted mean sum_i d^(t-i) theta_i / sum_i d^(t-i) of the
    weights seen after every step. The reference codes start s at 0 and read
    s_t itself, which shrinks every averaged weight by (1 - d^t) (0.06 after
    600 steps at d = 0.9999): their early test errors measure the shrinkage,
    not the model. Dividing by (1 - d^t) removes it and changes nothing once
    d^t ~ 0 (Adam's bias correction, Kingma & Ba 2015, Sec. 3). Before the
    first update the average is the weights themselves.

    The shadow weights and the step count are weights of `model`, so saving,
    `BackupAndRestore` and `load_model` keep them.

    Args:
        model: the Keras model that owns the shadow weights.
        variables: the variables averaged (e.g. the classifier's trainable ones).
        decay: d in (0, 1).
        name: prefix of the shadow weights' names.
    """

    def __init__(self, model, variables, decay, name="average"):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the average's decay must be in (0, 1); got {decay}")
        self.decay = float(decay)
        self.variables = list(variables)
        self.shadows = [model.add_weight(shape=v.shape, initializer="zeros", trainable=False, aggregation="mean",
                                         name=f"{name}_{i}") for i, v in enumerate(self.variables)]
        self.steps = model.add_weight(shape=(), initializer="zeros", trainable=False, aggregation="mean",
                                      name=f"{name}_steps")

    def update(self):
        """Fold the current weights in (call after each optimizer step)."""
        self.steps.assign_add(1.0)
        for shadow, variable in zip(self.shadows, self.variables):
            shadow.assign(self.decay * shadow + (1.0 - self.decay) * ops.cast(variable, shadow.dtype))

    def values(self):
        """The averaged weights, in the order of `variables`."""
        correction = 1.0 - ops.power(self.decay, self.steps)
        started = self.steps > 0
        return [ops.where(started, shadow / ops.maximum(correction, 1e-12), variable)
                for shadow, variable in zip(self.shadows, self.variables)]

    def scope(self):
        """A context in which reading `variables` gives their averages (no assignment is made)."""
        return keras.StatelessScope(state_mapping=list(zip(self.variables, self.values())))
