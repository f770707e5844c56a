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

import dataclasses
import importlib
import pkgutil
import re
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
            "hparams" / "optimizers" overrides for that scale, and "stream":
            arguments of `SSLData.train` (e.g. {"exclude_labeled": True})}.
        optimizers: role -> optimizer config (keras.optimizers.get form), if
            the paper's differ from the method's defaults.
        paper: what the paper reports for this setting: {"reference": "...,
            Table N", "metric": "error" | ..., "value": float} (None if the
            paper has no such setting).
        notes: anything a reader should know (deviations from the paper).
        baseline: the recipe of the supervised-only baseline for this one (the
            `supervised` model with the method's classifier net, trained on the
            labelled examples alone); the SSL report puts its error beside ours.
        paper_baseline: the baseline of the `paper` scale where its net differs
            from the cpu scale's (the reference nets of the reproductions).
        pairs: a paired image-to-image task instead of the SSL split: the
            `zoo.data.load_pairs` source ("edges": Sobel edges -> images).
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
    paper_baseline: str | None = None
    pairs: str | None = None

    def at_labels(self, labels) -> "Recipe":
        """This recipe at another label budget: the same method, nets, hyper-parameters and steps.

        Named `<name without its budget>_<labels>` (`m2_digits_50` -> `m2_digits_20`),
        its baseline moved to the same budget, and no paper number unless
        `labels` is the paper's own budget (the error-vs-labels curves).
        """
        labels = int(labels)
        suffix = f"_{self.labels}"
        if self.labels is None or not self.name.endswith(suffix):
            raise ValueError(f"recipe {self.name!r} has no label budget in its name to change")
        if labels < 1:
            raise ValueError(f"labels must be >= 1; got {labels}")
        if labels == self.labels:
            return self
        rename = lambda name: name[: -len(suffix)] + f"_{labels}"  # noqa: E731
        return dataclasses.replace(
            self, name=rename(self.name), labels=labels, paper=None,
            baseline=rename(self.baseline) if self.baseline and self.baseline.endswith(suffix) else None,
            paper_baseline=None,
            notes=f"{self.name} at {labels} labels. {self.notes}".strip())

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
    """The recipe `name`, or a registered one at another label budget (`Recipe.at_labels`):
    `m2_digits_20` is `m2_digits_50` at 20 labels when no recipe of that name exists."""
    recipes = all_recipes()
    if name in recipes:
        return recipes[name]
    match = re.fullmatch(r"(.+)_(\d+)", name)
    if match:
        stem, labels = match.groups()
        same = [r for n, r in recipes.items() if r.labels is not None and n == f"{stem}_{r.labels}"]
        if len(same) == 1:
            return same[0].at_labels(int(labels))
        if len(same) > 1:
            raise ValueError(f"recipe {name!r} is ambiguous: {', '.join(r.name for r in same)} could be re-budgeted")
    raise ValueError(f"unknown recipe {name!r}; known: {', '.join(recipes)}")
