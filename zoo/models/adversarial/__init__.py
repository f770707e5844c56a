"""Adversarial training beyond generation: domain-adversarial nets (`dann`) and a classifier trained against
an adversary that predicts a protected attribute (`fair_adversary`); adversarial imitation (GAIL, VAIL) is
to come. Each is a `ZooModel` with role optimizers like the generative methods, registered with
`@zoo.register`, and is imported here (so `zoo/models/__init__.py` registers it)."""

from zoo.models.adversarial import dann, fairness  # noqa: F401
