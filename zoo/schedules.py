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


@keras.saving.register_keras_serializable(package="zoo")
class ConstantThenExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(t) = lr_0 for t < S, then lr_0 * r^(1 + floor((t - S) / E)): multiplied by r every E steps from step S.

    Triple-GAN's MNIST code (Li et al. 2017) multiplies the rate by 0.995
    after every epoch from epoch 300 on: S = 300 epochs, E = one epoch.

    Args:
        initial_learning_rate: lr_0.
        start_step: S.
        every: E, steps between decays.
        rate: r.
    """

    def __init__(self, initial_learning_rate, start_step, every, rate):
        if start_step < 0 or every < 1 or not 0.0 < rate <= 1.0:
            raise ValueError("start_step must be >= 0, every >= 1 and rate in (0, 1]")
        self.initial_learning_rate = float(initial_learning_rate)
        self.start_step, self.every, self.rate = int(start_step), int(every), float(rate)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decays = ops.where(step >= self.start_step, 1.0 + ops.floor((step - self.start_step) / self.every), 0.0)
        return self.initial_learning_rate * ops.power(self.rate, decays)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "start_step": self.start_step,
                "every": self.every, "rate": self.rate}


@keras.saving.register_keras_serializable(package="zoo")
class InverseDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(t) = lr_0 / (1 + alpha p)^beta with p = min(t / T, 1), the training progress.

    DANN's annealing (Ganin et al. 2016, JMLR, Sec. 5.2.2: mu_0 = 0.01, alpha = 10, beta = 0.75, "optimized
    to promote convergence and low error on the source domain"); at p = 1 the rate is lr_0 / 11^0.75.

    Args:
        initial_learning_rate: lr_0.
        total_steps: T, the steps of the whole run (progress 1).
        alpha, beta: as above.
    """

    def __init__(self, initial_learning_rate, total_steps, alpha=10.0, beta=0.75):
        if total_steps < 1 or alpha < 0 or beta < 0:
            raise ValueError("total_steps must be >= 1 and alpha, beta >= 0")
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps, self.alpha, self.beta = int(total_steps), float(alpha), float(beta)

    def __call__(self, step):
        progress = training_progress(step, self.total_steps)
        return self.initial_learning_rate / ops.power(1.0 + self.alpha * progress, self.beta)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "total_steps": self.total_steps,
                "alpha": self.alpha, "beta": self.beta}


def training_progress(step, total_steps):
    """p = min(step / total_steps, 1): DANN's progress, from 0 to 1 over the run and 1 after it."""
    return ops.minimum(ops.cast(step, "float32") / total_steps, 1.0)


def domain_adaptation_weight(progress, gamma=10.0):
    """DANN's lambda_p = 2 / (1 + exp(-gamma p)) - 1 (Ganin et al. 2016, JMLR, Sec. 5.2.2, gamma = 10): 0 at
    the start, so the domain classifier's noisy early signal does not reach the features, rising to ~1."""
    progress = ops.cast(progress, "float32")
    return 2.0 / (1.0 + ops.exp(-gamma * progress)) - 1.0
