"""Recipes: a method, its architecture and hyper-parameters, paired with a dataset
and label budget as its paper did, at two scales.

A recipe is plain data (`Recipe`); one shared runner (`recipes.runner.run`)
trains and evaluates any of them:

    python -m recipes list
    python -m recipes run sgan_digits_50 --scale cpu --seed 0

Scales: `cpu` finishes in minutes on a 2-core CPU; `paper` is the paper's
training budget (for a GPU). Each family's recipes live in their own module
(`recipes/sgan.py`, ...) as a list `RECIPES`, collected here.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

# The cpu scale of every 28x28 SSL recipe (MNIST-100, Fashion-MNIST-100): one
# budget for all methods, one epoch of the 60k unlabelled images, so that the
# whole sweep (every SSL method x 2 datasets x 3 seeds, ~120 runs of ~1 CPU
# minute) fits in about two hours of this project's 2-core CPU.
CPU_28 = {"steps": 600, "batch_size": 100}


@dataclass(frozen=True)
class Recipe:
    """One method x dataset x label budget.

    Attributes:
        name: unique, e.g. "sgan_digits_50".
        method: a registered zoo model name.
        dataset: a `zoo.data` dataset name.
        labels: labelled examples (None: all labelled, or unsupervised).
        hparams: constructor arguments of the method (besides input_shape,
            num_classes, seed).
        scales: scale name -> {"steps": int, "batch_size": int, and optional
            "hparams" / "optimizers" overrides for that scale}.
        optimizers: role -> optimizer config (keras.optimizers.get form), if
            the paper's differ from the method's defaults.
        paper: what the paper reports for this setting: {"reference": "...,
            Table N", "metric": "error" | ..., "value": float} (None if the
            paper has no such setting).
        notes: anything a reader should know (deviations from the paper).
        baseline: the recipe of the supervised-only baseline for this one (the
            `supervised` model with the method's classifier net, trained on the
            labelled examples alone); the SSL report puts its error beside ours.
    """

    name: str
    method: str
    dataset: str
    labels: int | None
    scales: dict
    hparams: dict = field(default_factory=dict)
    optimizers: dict = field(default_factory=dict)
    paper: dict | None = None
    notes: str = ""
    baseline: str | None = None

    def setting(self, scale):
        if scale not in self.scales:
            raise ValueError(f"recipe {self.name!r} has no scale {scale!r}; it has {sorted(self.scales)}")
        setting = dict(self.scales[scale])
        setting["hparams"] = {**self.hparams, **setting.get("hparams", {})}
        setting["optimizers"] = {**self.optimizers, **setting.get("optimizers", {})}
        return setting


def all_recipes() -> dict[str, Recipe]:
    """Every recipe of every module in this package, by name."""
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name in ("runner", "__main__"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for recipe in getattr(module, "RECIPES", []):
            if recipe.name in found:
                raise ValueError(f"two recipes are named {recipe.name!r}")
            found[recipe.name] = recipe
    return dict(sorted(found.items()))


def get(name) -> Recipe:
    recipes = all_recipes()
    if name not in recipes:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(recipes)}")
    return recipes[name]
