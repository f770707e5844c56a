"""The one runner for every recipe: train at a scale, evaluate, return one result row.

    from recipes.runner import run
    row = run("sgan_digits_50", scale="cpu", seed=0)

The row is flat (strings and numbers only), so a sweep can put rows in one
pandas table: the recipe, scale, seed, steps, wall time, the test metrics
(`test_error` for classifiers, `test_elbo` ... for bounds), the paper's number,
the machine, the versions and the git commit. Optionally the runner also
writes the learning curve (training logs after every chunk of `CHUNK_STEPS`
steps) and a grid of samples.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time

CHUNK_STEPS = 100  # steps per Keras "epoch", so progress, curves and callbacks stay responsive


STRATEGIES = ("mirrored", "multiworker")


def make_strategy(name):
    """The `tf.distribute` strategy called `name`: "mirrored" (every local GPU, or the CPU) or "multiworker"
    (`MultiWorkerMirroredStrategy`, the cluster read from `TF_CONFIG`); None for the default strategy.
    Create it before any other TensorFlow work: a multi-worker strategy must start before the runtime does."""
    if name is None:
        return None
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {name!r}")
    import tensorflow as tf

    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("strategy 'multiworker' reads the cluster from TF_CONFIG, which is not set "
                             "(README: Training on several machines)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.MirroredStrategy()


def train(recipe, scale="cpu", seed=0, data_dir=None, verbose=0, steps=None, backup_dir=None, eval_every=1,
          strategy=None):
    """Build and train `recipe` at `scale`; return `(model, data, info)`.

    `info` holds the recipe, the setting, the steps trained, the batch size,
    the wall time of `fit` in seconds and the Keras history. `run` evaluates
    on top of this; `benchmarks.quality` scores the trained model's samples.

    With `backup_dir` the run is a long one that survives interruptions: a
    Keras epoch is one pass over the unlabelled images, `BackupAndRestore`
    keeps the state there after every epoch (a rerun of the same command
    continues from it, also to a larger `steps`), and `curve.jsonl` there gets
    the test error every `eval_every` epochs (`zoo.callbacks.TestErrorCurve`).

    `strategy` ("mirrored", "multiworker" or a `tf.distribute.Strategy`) builds the model in its scope; the
    scale's `batch_size` stays the global batch, split over the replicas (and the workers' data by
    `AutoShardPolicy.DATA`), so a distributed run trains the recipe's setting.
    """
    import contextlib

    import keras

    import recipes
    import zoo

    strategy = make_strategy(strategy) if strategy is None or isinstance(strategy, str) else strategy
    recipe = recipes.get(recipe) if isinstance(recipe, str) else recipe
    setting = recipe.setting(scale)
    keras.utils.set_random_seed(seed)
    if recipe.pairs:
        data = zoo.data.load_pairs(recipe.dataset, source=recipe.pairs, seed=seed, data_dir=data_dir)
    else:
        data = zoo.data.load(recipe.dataset, labels=recipe.labels, seed=seed, data_dir=data_dir)
    cls = zoo.get(recipe.method)
    hparams = {"input_shape": data.input_shape, "seed": seed, **setting["hparams"]}
    if "num_classes" in inspect.signature(cls.__init__).parameters:
        hparams.setdefault("num_classes", data.num_classes)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = zoo.load(recipe.method, optimizers=setting["optimizers"] or None, **hparams)

    steps = int(setting["steps"] if steps is None else steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1; got {steps}")
    batch_size = setting.get("batch_size", 100)
    stream_options = setting.get("stream", {})
    pool = len(data.x_train) - (data.num_labels if stream_options.get("exclude_labeled") else 0)
    per_step = batch_size * model.unlabeled_batches_per_step
    chunk = min(CHUNK_STEPS, steps) if backup_dir is None else max(1, pool // per_step)  # an epoch of the pool
    epochs = -(-steps // chunk)
    callbacks = []
    if backup_dir is not None:
        from zoo.callbacks import TestErrorCurve

        callbacks = [TestErrorCurve(data.x_test, data.y_test, os.path.join(backup_dir, "curve.jsonl"), eval_every),
                     keras.callbacks.BackupAndRestore(os.path.join(backup_dir, "backup"), delete_checkpoint=False)]
    if backup_dir is not None:
        _record_segment(backup_dir, recipe, scale, seed, steps, batch_size, setting)
    load = os.getloadavg()[0]  # how busy the machine was: other jobs slow `fit`'s wall time, not its CPU time
    start, start_cpu = time.perf_counter(), time.process_time()
    # fit(SSLData) streams what the method asks for and runs its data-dependent initialisation (before
    # BackupAndRestore restores a resumed run's weights, the done flag among them).
    history = model.fit(data, batch_size=batch_size, stream=stream_options, epochs=epochs, steps_per_epoch=chunk,
                        verbose=verbose, callbacks=callbacks)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    info = {"recipe": recipe, "setting": setting, "steps": epochs * chunk, "chunk": chunk,
            "batch_size": batch_size, "replicas": model.distribute_strategy.num_replicas_in_sync, "seconds": seconds, "cpu_seconds": cpu_seconds, "load_avg_1min": round(load, 2),
            "history": history.history}
    return model, data, info


def run(recipe, scale="cpu", seed=0, data_dir=None, verbose=0, out=None, *, steps=None, curve_out=None,
        samples_out=None, backup_dir=None, eval_every=1, strategy=None):
    """Train `recipe` (a Recipe or its name) at `scale` with `seed`; return a dict row.

    Args:
        recipe: a `recipes.Recipe` or the name of one.
        scale: a scale of the recipe ("cpu", "paper", ...).
        seed: seeds the label split, the shuffling, the weights and the noise.
        data_dir: folder of the dataset's IDX files (default: `$ZOO_DATA_DIR`).
        verbose: Keras' `fit` verbosity.
        out: also write the row there as JSON.
        steps: override the scale's number of training steps (smoke tests).
        curve_out: write the learning curve (logs after each chunk) there as JSON.
        samples_out: write a PNG grid of 100 samples there (methods that sample).
        backup_dir, eval_every: a long run that resumes and keeps its test-error curve (see `train`).
        strategy: "mirrored" or "multiworker" to train distributed (see `train`).
    """
    model, data, info = train(recipe, scale, seed, data_dir, verbose, steps, backup_dir, eval_every, strategy)
    recipe = info["recipe"]
    results = model.evaluate(data.test(), return_dict=True, verbose=0)
    if "accuracy" in results:
        results["error"] = 1.0 - results["accuracy"]
    paper = recipe.paper or {}
    history = info["history"]
    row = {
        "recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset,
        "labels": data.num_labels if recipe.labels is not None else None, "scale": scale, "seed": seed,
        "steps": info["steps"], "batch_size": info["batch_size"], "replicas": info["replicas"], "train_seconds": round(info["seconds"], 2),
        "train_cpu_seconds": round(info["cpu_seconds"], 2),  # user + system CPU of all threads: robust to sharing
        "load_avg_1min": info["load_avg_1min"],
        "examples_per_second": round(info["steps"] * info["batch_size"] / info["seconds"], 1),
        **{f"test_{k}": float(v) for k, v in results.items()},
        **{f"train_{k}": float(v[-1]) for k, v in history.items() if v},
        # a loss that went inf/NaN: the run diverged, whatever its final error says
        "diverged": any(not math.isfinite(float(x)) for v in history.values() for x in v),
        "paper_metric": paper.get("metric"), "paper_value": paper.get("value"),
        "paper_reference": paper.get("reference"),
        **provenance(), "data_source": data.source,
    }
    if curve_out:
        curve = {"recipe": recipe.name, "scale": scale, "seed": seed,
                 "steps": [info["chunk"] * (i + 1) for i in range(len(next(iter(history.values()), [])))],
                 "logs": {k: [float(x) for x in v] for k, v in history.items()}}
        _write_json(curve, curve_out)
    if samples_out and model.can("sample"):
        save_samples(model, samples_out, seed)
    if out:
        _write_json(row, out)
    return row


def _record_segment(backup_dir, recipe, scale, seed, steps, batch_size, setting):
    """`run.json` in a long run's folder: what runs there, and each process (segment) that trained it, with
    its commit, so that a resumed run's provenance is the list of the code versions it ran under."""
    path = os.path.join(backup_dir, "run.json")
    info = {"recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset, "labels": recipe.labels,
            "scale": scale, "seed": seed, "batch_size": batch_size, "hparams": setting["hparams"], "segments": []}
    if os.path.exists(path):
        with open(path) as f:
            info = {**json.load(f), "recipe": recipe.name}
    info["steps"] = steps
    info["segments"].append({"commit": git_commit(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                             "machine": machine(), "cpu": cpu_model()})
    _write_json(info, path)


def save_samples(model, path, seed=0, n=100):
    """A PNG grid of `n` samples (one column per class for conditional methods)."""
    from zoo.images import save_grid

    labels = list(range(model.num_classes)) * (n // model.num_classes + 1) if model.conditional else None
    columns = model.num_classes if model.conditional else 10
    return save_grid(model.sample(n, labels=labels[:n] if labels else None, seed=seed), path, columns)


def provenance() -> dict:
    """Peak RSS, machine, CPU, versions and git commit, as columns of a result row."""
    import keras
    import tensorflow as tf

    import zoo

    return {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(), "cpu": cpu_model(),
        "versions": f"zoo {zoo.__version__}, keras {keras.__version__}, tensorflow {tf.__version__}, "
                    f"python {platform.python_version()}",
        "git_commit": git_commit(),
    }


def _write_json(obj, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.partial"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


# ------------------------------------------------------------ provenance
def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def machine() -> str:
    """e.g. "x86_64, 2 cpu" or "x86_64, 16 cpu, 1x NVIDIA H100 80GB HBM3"."""
    import tensorflow as tf

    text = f"{platform.machine()}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cpu"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus]
        text += f", {len(gpus)}x {names[0]}"
    return text


@functools.lru_cache(maxsize=None)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@functools.lru_cache(maxsize=None)
def git_commit() -> str:
    """Short commit of the checkout the code runs from, "+dirty" if it has local changes
    to tracked files, "unknown" outside a git checkout."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")
