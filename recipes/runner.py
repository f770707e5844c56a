"""The one runner for every recipe: train at a scale, evaluate, return one result row."""

from __future__ import annotations

import inspect
import json
import os
import platform
import time

CHUNK_STEPS = 100  # steps per Keras "epoch", so progress and callbacks stay responsive


def run(recipe, scale="cpu", seed=0, data_dir=None, verbose=0, out=None):
    """Train `recipe` (a Recipe or its name) at `scale` with `seed`; return a dict row.

    The row holds the recipe, scale, seed, steps, wall time, the test metrics
    (`error` for classifiers, `elbo` etc. for bounds), the paper's number and
    the machine. With `out`, the row is also written there as JSON.
    """
    import keras
    import tensorflow as tf

    import recipes
    import zoo

    recipe = recipes.get(recipe) if isinstance(recipe, str) else recipe
    setting = recipe.setting(scale)
    keras.utils.set_random_seed(seed)
    data = zoo.data.load(recipe.dataset, labels=recipe.labels, seed=seed, data_dir=data_dir)
    cls = zoo.get(recipe.method)
    hparams = {"input_shape": data.input_shape, "seed": seed, **setting["hparams"]}
    if "num_classes" in inspect.signature(cls.__init__).parameters:
        hparams.setdefault("num_classes", data.num_classes)
    model = zoo.load(recipe.method, optimizers=setting["optimizers"] or None, **hparams)

    steps = int(setting["steps"])
    chunk = min(CHUNK_STEPS, steps)
    epochs = -(-steps // chunk)
    start = time.perf_counter()
    model.fit(data.train(setting.get("batch_size", 100)), epochs=epochs, steps_per_epoch=chunk,
              verbose=verbose, shuffle=False)
    seconds = time.perf_counter() - start
    results = model.evaluate(data.test(), return_dict=True, verbose=0)
    if "accuracy" in results:
        results["error"] = 1.0 - results["accuracy"]
    paper = recipe.paper or {}
    row = {
        "recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset,
        "labels": data.num_labels, "scale": scale, "seed": seed, "steps": epochs * chunk,
        "batch_size": setting.get("batch_size", 100), "train_seconds": round(seconds, 2),
        **{f"test_{k}": float(v) for k, v in results.items()},
        "paper_metric": paper.get("metric"), "paper_value": paper.get("value"),
        "paper_reference": paper.get("reference"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu"
                   + (", gpu" if tf.config.list_physical_devices("GPU") else ""),
        "versions": f"zoo {zoo.__version__}, keras {keras.__version__}, tensorflow {tf.__version__}",
    }
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            json.dump(row, f, indent=2)
    return row
