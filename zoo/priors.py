"""Prior distributions that a method only needs to sample from (keras.ops).

The adversarial autoencoder (Makhzani et al. 2015, arXiv 1511.05644, Sec. 2
and Fig. 2-4) matches its aggregated posterior to any prior it can sample:
no density is needed. Each sampler takes `(n, dim, seed)` where `seed` is a
`keras.random.SeedGenerator` (the model's own), and returns float32 `(n, dim)`.

* `gaussian`: N(0, I).
* `mixture`: 10 elongated 2-D Gaussians arranged around the origin like the
  petals of a flower (the paper's Fig. 2 / 4): component k is
  N((radius, 0), diag(s_r^2, s_t^2)) rotated by 2 pi k / K. Its mean is 0
  and, because the K rotations are evenly spaced, its covariance is
  ((radius^2 + s_r^2 + s_t^2) / 2) I.
* `swiss_roll`: a 2-D spiral: s = sqrt(u), u ~ U(0, 1); point =
  R s (cos(2 pi T s), sin(2 pi T s)) + N(0, noise^2 I) with T turns. Its
  second moment E||p||^2 = R^2 / 2 + 2 noise^2.
* `categorical`: one-hot vectors of a uniform categorical (the class prior of
  the semi-supervised AAE, Sec. 5).
"""

from __future__ import annotations

import math

import keras
from keras import ops

PRIORS = ("gaussian", "mixture", "swiss_roll")
TWO_D_PRIORS = ("mixture", "swiss_roll")

MIXTURE_COMPONENTS = 10
MIXTURE_RADIUS = 2.0
MIXTURE_RADIAL_STD = 0.5
MIXTURE_TANGENTIAL_STD = 0.1
SWISS_ROLL_RADIUS = 3.0
SWISS_ROLL_TURNS = 1.5
SWISS_ROLL_NOISE = 0.05


def check_prior(name, dim):
    """Raise a clear error for an unknown prior or a 2-D prior in another dimension."""
    if name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; known: {', '.join(map(repr, PRIORS))}")
    if name in TWO_D_PRIORS and int(dim) != 2:
        raise ValueError(f"prior {name!r} is 2-D: it needs latent_dim=2; got {dim}")


def sample(name, n, dim, seed):
    """`n` draws of prior `name` in `dim` dimensions."""
    check_prior(name, dim)
    return {"gaussian": gaussian, "mixture": mixture, "swiss_roll": swiss_roll}[name](n, dim, seed)


def gaussian(n, dim, seed):
    return keras.random.normal((n, dim), seed=seed)


def mixture(n, dim=2, seed=None, components=MIXTURE_COMPONENTS, radius=MIXTURE_RADIUS,
            radial_std=MIXTURE_RADIAL_STD, tangential_std=MIXTURE_TANGENTIAL_STD):
    k = keras.random.randint((n,), 0, components, seed=seed)
    noise = keras.random.normal((n, 2), seed=seed)
    radial = radius + radial_std * noise[:, 0]
    tangential = tangential_std * noise[:, 1]
    angle = ops.cast(k, "float32") * (2.0 * math.pi / components)
    cos, sin = ops.cos(angle), ops.sin(angle)
    return ops.stack([radial * cos - tangential * sin, radial * sin + tangential * cos], axis=-1)


def swiss_roll(n, dim=2, seed=None, radius=SWISS_ROLL_RADIUS, turns=SWISS_ROLL_TURNS, noise=SWISS_ROLL_NOISE):
    s = ops.sqrt(keras.random.uniform((n,), seed=seed))
    angle = 2.0 * math.pi * turns * s
    points = ops.stack([radius * s * ops.cos(angle), radius * s * ops.sin(angle)], axis=-1)
    return points + noise * keras.random.normal((n, 2), seed=seed)


def categorical(n, num_classes, seed):
    """One-hot draws of a uniform categorical over `num_classes`."""
    return ops.one_hot(keras.random.randint((n,), 0, num_classes, seed=seed), num_classes)
