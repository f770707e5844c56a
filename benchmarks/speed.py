"""Training throughput of every method's `fit`, beside a hand-written `tf.function` loop.

    python -m benchmarks.speed                                  # every registered method, digits
    python -m benchmarks.speed --methods sgan --dataset mnist --batch-size 100
    python -m benchmarks.speed --mixed-precision                # GPU: float16 compute

For each registered method (each in its own Python process, so its peak RSS
is its own), on the same cached batches:

* **zoo overhead**: examples/s of `model.fit` against a minimal hand-written
  loop (`tf.GradientTape` + `optimizer.apply`, the same nets, the same
  `zoo.losses`, no metric tracking, no callbacks), timed alternately in one
  process (`--repeats` rounds, median), in three execution modes: eager
  (`run_eagerly=True` / a plain Python step), graph (`tf.function`) and XLA
  (`jit_compile=True`; eager and XLA rounds run steps/5, they are slow on CPU). `fit / hand` near 1.0 means the zoo's base class,
  trackers and Keras' loop cost nothing measurable. A method without a
  hand-written loop in `HAND_WRITTEN` is compared with its own `train_step`
  wrapped in `tf.function` (that isolates Keras' `fit` loop only; the
  `baseline` column says which).
* **scaling**: seconds per epoch (one pass over the unlabelled images
  through the real `data.train` pipeline, shuffling included) for several
  dataset sizes and batch sizes, graph mode.
* **memory**: peak RSS of the process (and peak GPU memory on a GPU).

Writes `speed.md`, `speed.csv`, `speed_scaling.csv` and bar charts to
`--out` (default `benchmarks/results/<cpu|gpu>/`). Timings on a shared
machine are noisy: the ratio is the robust number (both loops suffer alike,
interleaved).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import statistics
import time

from benchmarks import report

MODES = ("eager", "graph", "xla")
#: A diagnostic mode, asked for by name: XLA with TensorFlow's stateless random ops on the Philox algorithm.
#: TF's default (`alg="auto_select"`) is Philox in graph mode on CPU, but XLA on CPU lowers it to ThreeFry,
#: measured 40-50x slower per random op (a 64x1000 uniform: 1.5 ms in graph mode, 81 ms under XLA, 2.0 ms
#: with Philox); the ratio xla / xla_philox says how much of a method's XLA time that is.
DIAGNOSTIC_MODES = ("xla_philox",)


# ------------------------------------------------------- hand-written loops
# Each factory takes a compiled model and returns a Python function
# `step(batch) -> losses` that does what the method's `train_step` does, written
# out with a plain GradientTape, the model's nets, its optimizers and
# `zoo.losses`, without the base class (`minimize`, `track`, `unpack`).
def _hand_supervised(model):
    import tensorflow as tf

    from zoo import losses

    variables, optimizer = model.role_variables("c"), model.role_optimizers["c"]

    def step(batch):
        with tf.GradientTape() as tape:
            logits = model.classifier_head(model.features(batch["x_labeled"], training=True))
            loss = losses.cross_entropy(batch["y_labeled"], logits)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    return step


def _hand_sgan(model):
    import keras
    import tensorflow as tf

    from zoo import losses

    d_vars, g_vars = model.role_variables("d"), model.role_variables("g")
    d_opt, g_opt = model.role_optimizers["d"], model.role_optimizers["g"]
    noise = keras.random.SeedGenerator(0)

    def logits(x):
        return model.classifier_head(model.features(x, training=True))

    def step(batch):
        x = batch["x"]
        z = keras.random.normal((tf.shape(x)[0], model.latent_dim), seed=noise)
        with tf.GradientTape() as tape:
            fake = tf.stop_gradient(model.generator(z, training=True))
            d_loss = losses.cross_entropy(batch["y_labeled"], logits(batch["x_labeled"])) + model.unlabeled_weight * (
                losses.kplus1_real_loss(logits(x)) + losses.kplus1_fake_loss(logits(fake)))
        d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        z = keras.random.normal((tf.shape(x)[0], model.latent_dim), seed=noise)
        with tf.GradientTape() as tape:
            fake = model.generator(z, training=True)
            if model.generator_loss == "feature_matching":
                g_loss = losses.feature_matching(model.features(x, training=True), model.features(fake, training=True))
            else:
                g_loss = losses.kplus1_real_loss(logits(fake))
        g_opt.apply(tape.gradient(g_loss, g_vars), g_vars)
        return d_loss, g_loss

    return step


def _hand_vae(model):
    import keras
    import tensorflow as tf

    from zoo import losses
    from zoo.layers import reparameterize

    variables, optimizer = model.role_variables("vae"), model.role_optimizers["vae"]
    noise = keras.random.SeedGenerator(0)

    def step(batch):
        x = batch["x"]
        if model.binarize:
            x = tf.where(keras.random.uniform(tf.shape(x), seed=noise) < (x + 1.0) / 2.0, 1.0, -1.0)
        eps = keras.random.normal((tf.shape(x)[0], model.latent_dim), seed=noise)
        with tf.GradientTape() as tape:
            stats = model.posterior_head(model.encoder(x, training=True))
            mean, log_var = stats[:, : model.latent_dim], stats[:, model.latent_dim:]
            reconstruction = model.log_likelihood(x, reparameterize(mean, log_var, eps), training=True)
            loss = -(tf.reduce_mean(reconstruction) - model.beta * tf.reduce_mean(losses.gaussian_kl(mean, log_var)))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    return step


#: registered name -> factory of its hand-written step; methods merged later add theirs here.
HAND_WRITTEN = {"supervised": _hand_supervised, "sgan": _hand_sgan, "vae": _hand_vae}


def _train_step_baseline(model):
    return model.train_step


# ------------------------------------------------------------- measuring
def build(method, data, hparams=None, seed=0):
    import zoo

    cls = zoo.get(method)
    kwargs = {"input_shape": data.input_shape, "seed": seed, **(hparams or {})}
    if "num_classes" in inspect.signature(cls.__init__).parameters:
        kwargs.setdefault("num_classes", data.num_classes)
    return zoo.load(method, compile=False, **kwargs)


def _compile(model, mode):
    model.compile(run_eagerly=mode == "eager", jit_compile=mode.startswith("xla"))


def _wrap(step, mode):
    import tensorflow as tf

    if mode == "eager":
        return step
    return tf.function(step, jit_compile=mode.startswith("xla"))


@contextlib.contextmanager
def _random_algorithm(mode):
    """In `xla_philox` mode, TF's stateless random ops (those Keras' TensorFlow backend calls) take
    `alg="philox"` while the steps are traced and timed; a no-op in every other mode."""
    import tensorflow as tf

    if mode != "xla_philox":
        yield
        return
    originals = [(tf.random, name, "alg") for name in ("stateless_uniform", "stateless_normal",
                                                        "stateless_truncated_normal")]
    originals.append((tf.nn.experimental, "stateless_dropout", "rng_alg"))
    saved = [getattr(module, name) for module, name, _ in originals]
    try:
        for (module, name, keyword), function in zip(originals, saved):
            setattr(module, name, functools.partial(function, **{keyword: "philox"}))
        yield
    finally:
        for (module, name, _), function in zip(originals, saved):
            setattr(module, name, function)


def measure_overhead(model, batches, steps, mode, repeats, batch_size):
    """Median examples/s of `fit` and of the hand-written loop, timed alternately."""
    _compile(model, mode)
    if mode.startswith("xla") and model.compiles_one_step_per_level:
        # fit compiles ProGAN's / StyleGAN's step once per level; train_step itself holds the switch over every
        # level, which XLA takes 507 s to compile for digits' two: no baseline, fit alone is timed.
        return _measure_fit_only(model, batches, steps, repeats, batch_size)
    factory = HAND_WRITTEN.get(model.registered_name, _train_step_baseline)
    hand = _wrap(factory(model), mode)
    fixed = batches.take(steps)

    def run_fit():
        model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)

    def run_hand():
        for batch in fixed:
            hand(batch)

    # warm-up: tracing / compilation of both, not timed
    model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    for batch in batches.take(2):
        hand(batch)
    fit_rates, hand_rates, fit_cpu, hand_cpu = [], [], [], []
    for _ in range(repeats):
        for run_it, rates, cpu in ((run_fit, fit_rates, fit_cpu), (run_hand, hand_rates, hand_cpu)):
            start, start_cpu = time.perf_counter(), time.process_time()
            run_it()
            rates.append(steps * batch_size / (time.perf_counter() - start))
            cpu.append(1e3 * (time.process_time() - start_cpu) / steps)
    return {
        "baseline": "hand-written" if factory is not _train_step_baseline else "train_step in tf.function",
        "fit_examples_per_s": statistics.median(fit_rates),
        "hand_examples_per_s": statistics.median(hand_rates),
        "fit_over_hand": statistics.median(f / h for f, h in zip(fit_rates, hand_rates)),
        # CPU time (all threads) per step: on a shared machine it moves far less than wall time
        "fit_cpu_ms_per_step": statistics.median(fit_cpu),
        "hand_cpu_ms_per_step": statistics.median(hand_cpu),
        "fit_over_hand_cpu": statistics.median(h / f for f, h in zip(fit_cpu, hand_cpu)),
    }


def _measure_fit_only(model, batches, steps, repeats, batch_size):
    model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)  # warm-up: compilation
    rates, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
        rates.append(steps * batch_size / (time.perf_counter() - start))
        cpu.append(1e3 * (time.process_time() - start_cpu) / steps)
    return {"baseline": "none (one compiled step per level)", "fit_examples_per_s": statistics.median(rates),
            "fit_cpu_ms_per_step": statistics.median(cpu)}


def measure_scaling(method, data, sizes, batch_sizes, hparams=None):
    """Seconds per epoch (graph mode, real pipeline) for each dataset size x batch size."""
    import zoo

    rows = []
    for size in sizes:
        size = min(int(size), len(data.x_train))
        subset = zoo.data.SSLData(data.name, data.x_train[:size], data.y_train[:size], data.x_test, data.y_test,
                                  _labeled_subset(data.y_train[:size], data.num_classes), data.source, data.seed)
        for batch_size in batch_sizes:
            if batch_size > size:
                continue
            model = build(method, subset, hparams)
            _compile(model, "graph")
            steps = size // batch_size
            model.fit(subset.train(batch_size), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)  # trace
            start = time.perf_counter()
            model.fit(subset.train(batch_size), epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
            seconds = time.perf_counter() - start
            rows.append({"method": method, "dataset": data.name, "dataset_size": size, "batch_size": batch_size,
                         "steps_per_epoch": steps, "seconds_per_epoch": round(seconds, 3),
                         "examples_per_s": round(steps * batch_size / seconds, 1)})
    return rows


def _labeled_subset(y, num_classes):
    import numpy as np

    return np.sort(np.concatenate([np.flatnonzero(y == c)[:5] for c in range(num_classes)]))


def run_method(method, dataset="digits", batch_size=64, steps=50, repeats=3, modes=MODES, sizes=(),
               batch_sizes=(), hparams=None, data_dir=None, mixed_precision=False):
    """All measurements of one method (call in a fresh process for a meaningful peak RSS)."""
    import keras
    import tensorflow as tf

    import zoo
    from recipes.runner import provenance

    if mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    keras.utils.set_random_seed(0)
    from zoo.base import PAIRED_BATCH_KEYS

    if zoo.get(method).batch_keys == PAIRED_BATCH_KEYS:  # pix2pix: (source, target) pairs of the same images
        data = zoo.data.load_pairs(dataset, data_dir=data_dir)
    else:
        data = zoo.data.load(dataset, labels=None, seed=0, data_dir=data_dir)
        data.labeled_index = _labeled_subset(data.y_train, data.num_classes)
    # A step of a method that takes several unlabelled minibatches (a WGAN critic's n_critic) reads them all.
    images_per_step = batch_size * build(method, data, hparams).unlabeled_batches_per_step
    batches = data.train(images_per_step).take(steps).cache().repeat()
    for _ in batches.take(steps):  # fill the cache: both loops then read the same in-memory batches
        pass
    rows = []
    for mode in modes:
        model = build(method, data, hparams)
        row = {"method": method, "dataset": dataset, "batch_size": batch_size, "images_per_step": images_per_step,
               "steps": steps, "repeats": repeats,
               "mode": mode, "precision": "mixed_float16" if mixed_precision else "float32",
               # other jobs on the machine move wall-clock rates: say how busy it was
               "load_avg_1min": round(os.getloadavg()[0], 2)}
        try:
            with _random_algorithm(mode):
                row.update(measure_overhead(model, batches, steps if mode == "graph" else max(5, steps // 5), mode,
                                            repeats, images_per_step))
        except Exception as error:  # e.g. an op XLA cannot compile: report it, go on
            row["failure"] = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        rows.append(row)
    scaling = measure_scaling(method, data, sizes, batch_sizes, hparams) if sizes and batch_sizes else []
    memory = provenance()
    if tf.config.list_physical_devices("GPU"):
        memory["peak_gpu_mb"] = round(tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, 1)
    for row in rows:
        row.update(memory)
    return rows, scaling


def _run_in_child(method, args):
    arguments = ["-m", "benchmarks.speed", "--one", method, "--dataset", args.dataset,
                 "--batch-size", str(args.batch_size), "--steps", str(args.steps), "--repeats", str(args.repeats),
                 "--modes", args.modes, "--sizes", args.sizes, "--batch-sizes", args.batch_sizes,
                 "--set", json.dumps(args.hparams)]
    arguments += ["--data-dir", args.data_dir] if args.data_dir else []
    arguments += ["--mixed-precision"] if args.mixed_precision else []
    result = report.run_child(arguments)
    return result["rows"], result["scaling"]


def write_report(rows, scaling, out, command, plots=True):
    import pandas as pd

    os.makedirs(out, exist_ok=True)
    frame = pd.DataFrame(rows)
    scale_frame = pd.DataFrame(scaling)
    frame.to_csv(os.path.join(out, "speed.csv"), index=False)
    scale_frame.to_csv(os.path.join(out, "speed_scaling.csv"), index=False)
    info = report.provenance()
    info.update(report.row_machines(frame))
    info["protocol"] = ("same cached batches for both loops; warm-up (tracing/compilation) excluded; `--repeats` "
                        "alternating rounds of fit and hand loop, median examples/s; eager and XLA rounds use steps/5 (they are "
                        "slow on CPU); "
                        "peak RSS is the whole process (every mode of the method); `load_avg_1min` is the "
                        "machine's 1-minute load average when the method's mode started (above the core count, "
                        "other jobs were competing and wall-clock rates are low)")
    text = report.header("Training speed", command, info)
    text += ("\n## fit vs hand-written loop (examples/s)\n\n`fit_over_hand` = throughput of `model.fit` / "
             "throughput of the hand-written loop of the same nets and losses (1.0 = no overhead), from wall "
             "time; `fit_over_hand_cpu` is the same ratio from CPU time per step (hand / fit), which a shared "
             "machine disturbs far less.\n\n")
    columns = [c for c in ("method", "mode", "precision", "batch_size", "images_per_step", "fit_examples_per_s",
                           "hand_examples_per_s", "fit_over_hand", "fit_cpu_ms_per_step", "hand_cpu_ms_per_step", "fit_over_hand_cpu",
                           "baseline", "load_avg_1min", "peak_rss_mb", "peak_gpu_mb", "failure") if c in frame]
    text += report.markdown_table(frame[columns]) + "\n"
    xla = xla_against_graph(frame)
    if xla is not None:
        text += ("\n## XLA against graph mode\n\nCPU milliseconds per step of `fit`, both modes in the same "
                 "process (`xla_over_graph` > 1: XLA slower). `xla_philox` is the diagnostic mode (the same XLA "
                 "step with TensorFlow's stateless random ops on Philox); `cause` is read off the measurements: "
                 "`random ops (ThreeFry)` where Philox gives back most of the difference (XLA on CPU lowers TF's "
                 "default random algorithm to ThreeFry, measured 40x slower per op than graph mode's Philox), "
                 "`not random ops` where it does not, `not measured` where xla_philox was not run, `-` where XLA "
                 "is not slower than 1.5x.\n\n")
        text += report.markdown_table(xla) + "\n"
    if not scale_frame.empty:
        text += "\n## Time per epoch vs dataset size and batch size (graph mode)\n\n"
        text += report.markdown_table(scale_frame) + "\n"
    if plots and not frame.empty and "fit_over_hand" in frame:
        from benchmarks import plots as plotting

        good = frame.dropna(subset=["fit_over_hand"])
        path = plotting.bar_chart(good, "method", "fit_examples_per_s", "mode", os.path.join(out, "speed_modes.png"),
                                  "fit examples/s", log=True)
        text += f"\n![speed_modes.png]({os.path.basename(path)})\n"
    return report.write_text(text, os.path.join(out, "speed.md"))


def xla_against_graph(frame):
    """Per method: `fit`'s CPU ms per step in graph mode, under XLA and (where measured) under XLA with Philox,
    their ratio and the cause of a slowdown as the measurements show it; None without graph and XLA rows."""
    import pandas as pd

    if "mode" not in frame or not {"graph", "xla"} <= set(frame["mode"]) or "fit_cpu_ms_per_step" not in frame:
        return None
    times = frame.pivot_table(index="method", columns="mode", values="fit_cpu_ms_per_step", aggfunc="first")
    table = pd.DataFrame({"graph_cpu_ms_per_step": times["graph"], "xla_cpu_ms_per_step": times["xla"]})
    table["xla_over_graph"] = (table["xla_cpu_ms_per_step"] / table["graph_cpu_ms_per_step"]).round(2)
    philox = times["xla_philox"] if "xla_philox" in times else pd.Series(float("nan"), index=times.index)
    table["xla_philox_cpu_ms_per_step"] = philox

    def cause(row):
        if not row["xla_over_graph"] > 1.5:
            return "-"
        if pd.isna(row["xla_philox_cpu_ms_per_step"]):
            return "not measured"
        given_back = ((row["xla_cpu_ms_per_step"] - row["xla_philox_cpu_ms_per_step"])
                      / (row["xla_cpu_ms_per_step"] - row["graph_cpu_ms_per_step"]))
        return f"random ops (ThreeFry): {given_back:.0%} of it" if given_back >= 0.5 else "not random ops"

    table["cause"] = table.apply(cause, axis=1)
    return table.reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=None, help="comma-separated (default: every registered method)")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per round (eager and XLA: steps/5)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated, of {', '.join(MODES + DIAGNOSTIC_MODES)} (default: {','.join(MODES)})")
    parser.add_argument("--sizes", default="300,600,1200", help="dataset sizes of the scaling table ('' skips)")
    parser.add_argument("--batch-sizes", default="32,64,128", help="batch sizes of the scaling table")
    parser.add_argument("--set", dest="hparams", type=json.loads, default={},
                        help='JSON constructor arguments for every method, e.g. \'{"arch": "mlp"}\'')
    parser.add_argument("--mixed-precision", action="store_true", help="mixed_float16 (meaningful on a GPU)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--runs-dir", default=None,
                        help="keep each method's measurements in DIR/METHOD.json and reuse them: a sweep that is "
                             "interrupted resumes where it stopped")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    ints = lambda s: [int(v) for v in s.split(",") if v.strip()]  # noqa: E731
    kwargs = dict(dataset=args.dataset, batch_size=args.batch_size, steps=args.steps, repeats=args.repeats,
                  modes=tuple(m for m in args.modes.split(",") if m), sizes=ints(args.sizes),
                  batch_sizes=ints(args.batch_sizes), hparams=args.hparams, data_dir=args.data_dir,
                  mixed_precision=args.mixed_precision)
    unknown = set(kwargs["modes"]) - set(MODES + DIAGNOSTIC_MODES)
    if unknown:
        raise SystemExit(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES + DIAGNOSTIC_MODES)}")
    if args.one:
        rows, scaling = run_method(args.one, **kwargs)
        report.write_text(json.dumps({"rows": rows, "scaling": scaling}), args.out)
        return
    import zoo

    # By default every method that trains by `fit` on batches (the imitation methods act in an environment).
    methods = [m.strip() for m in args.methods.split(",")] if args.methods else [
        m for m in zoo.list_models() if zoo.get(m).trains_on_batches]
    rows, scaling = [], []
    for method in methods:
        kept = os.path.join(args.runs_dir, f"{method}.json") if args.runs_dir else None
        if kept and os.path.exists(kept):  # measured by an earlier, interrupted sweep
            with open(kept) as f:
                result = json.load(f)
            rows += result["rows"]
            scaling += result["scaling"]
            continue
        print(f"speed of {method} ...", flush=True)
        try:
            method_rows, method_scaling = _run_in_child(method, args)
            if kept:
                report.write_text(json.dumps({"rows": method_rows, "scaling": method_scaling}), kept)
        except Exception as error:
            print(f"FAILED {method}: {error}")
            method_rows, method_scaling = [{"method": method, "failure": str(error).splitlines()[-1][:300]}], []
        rows += method_rows
        scaling += method_scaling
    out = args.out or report.default_out()
    suffix = "_mixed" if args.mixed_precision else ""
    path = write_report(rows, scaling, out if not suffix else os.path.join(out, "mixed_precision"),
                        report.command_line("benchmarks.speed"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
