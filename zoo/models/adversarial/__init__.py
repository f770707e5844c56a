"""Adversarial training beyond generation: domain-adversarial nets (`dann`); adversarial fairness and
adversarial imitation (GAIL) are to come. Each is a `ZooModel` with role optimizers like the generative
methods, registered with `@zoo.register`, and is imported here (so `zoo/models/__init__.py` registers it)."""

from zoo.models.adversarial import dann  # noqa: F401
