"""Adversarial training beyond generation: domain-adversarial nets (`dann`), a classifier trained against
an adversary that predicts a protected attribute (`fair_adversary`), and adversarial imitation from an expert's
trajectories (`gail`, `vail`, with behavioural cloning `bc` as their baseline; `imitation.py`, on gymnasium
tasks: `pip install -e ".[rl]"`). Each is a `ZooModel` with role optimizers like the generative methods,
registered with `@zoo.register`, and is imported here (so `zoo/models/__init__.py` registers it)."""

from zoo.models.adversarial import dann, fairness, imitation  # noqa: F401
