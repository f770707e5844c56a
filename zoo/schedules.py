"""Learning-rate schedules of the papers that Keras does not ship."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(t) = lr_0 * clip((1 - t / T) / (1 - f), 0, 1): constant for the first fraction f of T steps,
    then linear to 0 at step T.

    Bad GAN's code (Dai et al. 2017, `mnist_trainer.py`) sets, every epoch e of
    E, lr = lr_0 * max(0, min(3 (1 - e / E), 1)): f = 2/3. Here the factor is
    computed per step (t / T) rather than per epoch, which differs by at most
    one epoch's worth of decay.

    Args:
        initial_learning_rate: lr_0.
        total_steps: T, the step at which the rate reaches 0.
        constant_fraction: f in [0, 1).
    """

    def __init__(self, initial_learning_rate, total_steps, constant_fraction=2 / 3):
        if total_steps < 1 or not 0.0 <= constant_fraction < 1.0:
            raise ValueError("total_steps must be >= 1 and constant_fraction in [0, 1)")
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(total_steps)
        self.constant_fraction = float(constant_fraction)

    def __call__(self, step):
        remaining = 1.0 - ops.cast(step, "float32") / self.total_steps
        return self.initial_learning_rate * ops.clip(remaining / (1.0 - self.constant_fraction), 0.0, 1.0)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "total_steps": self.total_steps,
                "constant_fraction": self.constant_fraction}
