"""A few training steps of a registered method on the paths a GPU takes by default: XLA (`jit_compile=True`)
and mixed precision (`mixed_float16`), shared by tests/test_compile_paths.py and the mixed-precision worker.

`python -m tests.compile_paths OUT.json NAME...` trains each NAME under `mixed_float16` in this process (the
name "overflow": `overflowing_step_is_skipped`) and writes, per name, "ok" or the error: mixed precision runs in a process of its own (tests/test_foundation.py
says why: the suite's oneDNN ISA cap aborts float16 matmuls on CPUs that have native ones), and one process
for many methods pays TensorFlow's start once.
"""

from __future__ import annotations

import inspect
import json
import sys

import keras
import numpy as np

import zoo
from zoo.base import PAIRED_BATCH_KEYS

STEPS = 2
#: Mixed precision takes more steps: the loss scale starts at 2^15 and a step whose float16 gradients
#: overflow is skipped and halves it, so the first steps of a method with large losses (an ELBO summed over
#: pixels) are skipped by design; eight steps bring the scale down to 2^8 at worst.
MIXED_PRECISION_STEPS = 8
BATCH_SIZE = 16


def tiny_data(name):
    """Digits with 20 labels; digits' (source, target) pairs for a paired method (pix2pix); digits with a
    protected attribute (half inverted) for a method that reads one (fair_adversary)."""
    batch_keys = zoo.get(name).batch_keys
    if batch_keys == PAIRED_BATCH_KEYS:
        return zoo.data.load_pairs("digits")
    if "a_labeled" in batch_keys:
        return zoo.data.load_spurious("digits", rate=0.9, seed=0)
    return zoo.data.load("digits", labels=20)


def train_steps(name, jit_compile=False, steps=STEPS):
    """`name` with its defaults on digits, compiled with its paper's optimizers and `jit_compile`, trained
    `steps` steps; checks that the logs and the weights are finite and that the steps moved the weights.
    An imitation method (gail, vail, bc) trains instead on one CartPole expert trajectory, one iteration
    of a small rollout (`steps` Adam steps for bc). Returns the model."""
    from zoo.models.adversarial.imitation import ImitationModel, expert_trajectories

    keras.utils.set_random_seed(0)
    cls = zoo.get(name)
    if issubclass(cls, ImitationModel):
        small = {} if name == "bc" else {"num_envs": 2, "rollout_steps": 16, "minibatch_size": BATCH_SIZE}
        model = zoo.load(name, compile=False, **small)
        fit = lambda: model.train(expert_trajectories(episodes=1), **({"steps": steps} if name == "bc"  # noqa: E731
                                                                       else {"iterations": 1}))
    else:
        data = tiny_data(name)
        kwargs = {"input_shape": data.input_shape}
        if "num_classes" in inspect.signature(cls.__init__).parameters:
            kwargs["num_classes"] = data.num_classes
        model = zoo.load(name, compile=False, **kwargs)
        fit = lambda: model.fit(data, batch_size=BATCH_SIZE, epochs=1, steps_per_epoch=steps,  # noqa: E731
                                verbose=0).history
    model.compile(jit_compile=jit_compile)
    assert model.jit_compile is jit_compile
    before = [np.array(v) for v in model.trainable_weights]
    logs = {k: v[-1] for k, v in fit().items() if k != "episode_return"}  # NaN where no episode ended
    assert logs and all(np.isfinite(v) for v in logs.values()), logs
    after = [np.array(v) for v in model.trainable_weights]
    assert all(np.isfinite(w).all() for w in after), "a weight is not finite after the steps"
    if model.roles:  # an EM-fitted model (ppca, gmm) has no trainable weights: its M-step assigns parameters
        moved = sum(bool(np.any(w0 != w1)) for w0, w1 in zip(before, after))
        assert moved > 0, "no weight moved: every step was skipped"
    return model


def mixed_precision_steps(name):
    """`train_steps` under `mixed_float16`: every optimizer a `LossScaleOptimizer`, the head float32."""
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = train_steps(name, steps=MIXED_PRECISION_STEPS)
        wrapped = [isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.role_optimizers.values()]
        assert all(wrapped), f"optimizers not loss-scaled: {model.role_optimizers}"
        return model
    finally:
        keras.config.set_dtype_policy("float32")


def overflowing_step_is_skipped():
    """Under `mixed_float16`, a step whose float16 gradients overflow leaves the weights and the optimizer's
    own step count as they were and halves the loss scale; the next finite step trains. The overflow is
    forced by a loss scale of 2^40: the scaled gradients exceed float16's 65504 in every layer."""
    keras.config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        data = zoo.data.load("digits", labels=20)
        model = zoo.load("sgan", input_shape=data.input_shape, num_classes=data.num_classes, latent_dim=8)
        batches = data.train(BATCH_SIZE)
        model.fit(batches, epochs=1, steps_per_epoch=1, verbose=0)  # builds, and a first step to compare
        optimizers = model.role_optimizers
        for optimizer in optimizers.values():
            optimizer.dynamic_scale.assign(2.0**40)
        before = [np.array(v) for v in model.trainable_weights]
        counts = {role: int(o.inner_optimizer.iterations) for role, o in optimizers.items()}
        model.fit(batches, epochs=1, steps_per_epoch=1, verbose=0)
        assert all(np.array_equal(w0, np.array(w1)) for w0, w1 in zip(before, model.trainable_weights)), \
            "an overflowing step changed weights"
        for role, optimizer in optimizers.items():
            assert float(optimizer.dynamic_scale) == 2.0**39, (role, float(optimizer.dynamic_scale))
            assert int(optimizer.inner_optimizer.iterations) == counts[role], role
        for optimizer in optimizers.values():
            optimizer.dynamic_scale.assign(2.0**8)
        model.fit(batches, epochs=1, steps_per_epoch=1, verbose=0)
        assert any(not np.array_equal(w0, np.array(w1)) for w0, w1 in zip(before, model.trainable_weights))
        assert all(int(o.inner_optimizer.iterations) == counts[r] + 1 for r, o in optimizers.items())
    finally:
        keras.config.set_dtype_policy("float32")


def main(out, names):
    results = {}
    checks = {"overflow": overflowing_step_is_skipped}
    for name in names:
        keras.backend.clear_session()
        try:
            checks.get(name, lambda: mixed_precision_steps(name))()
            results[name] = "ok"
        except Exception as error:  # report every method, not the first failure only
            results[name] = f"{type(error).__name__}: {error}"[-2000:]
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
