"""Adversarial training beyond generation, none yet: domain-adversarial nets (DANN), adversarial
fairness (a representation that hides a protected attribute from an adversary) and adversarial
imitation (GAIL). Each is a `ZooModel` with role optimizers like the generative methods, registered
with `@zoo.register`, and is imported by `zoo/models/__init__.py`."""
