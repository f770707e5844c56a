"""Test log-likelihood of the zoo's density models on MNIST: nats for the binary models, bits per dimension for
the continuous ones, over seeds, at a stated budget.

Protocol:

* binary models (`vae`, `iwae`, `pixelvae`, `vlae`, `pixelcnn`, `gated_pixelcnn`, `made`): trained on dynamically binarised
  images (a fresh Bernoulli draw of every pixel every step, from its grey level); tested on one fixed
  binarisation of the test images (numpy seed 0). Negative log-likelihood in nats: exact for the
  autoregressive models, importance sampled with `--k` samples for the VAEs (`pixelvae`, `vlae` too) (an upper bound on the NLL
  in expectation; the papers use k = 5000).
* continuous models (the flows, `ppca`, `gmm`): trained on the grey images (the flows dequantise them
  themselves); tested on the test images dequantised uniformly with a fixed seed, in bits per dimension of
  the 8-bit image, (D log 256 - log p(u)) / (D log 2) with u in [0, 1]^D (for `ppca` / `gmm`, whose
  density is over [-1, 1] pixels, log p(u) = log p(x) + D log 2 with x = 2u - 1). Any density scored on
  uniformly dequantised pixels bounds the discrete log-likelihood (Theis et al. 2016), so the column
  compares them all.

Each run appends a row to `likelihood_runs.jsonl` in `--out` (resumable), and the report is rewritten from
all rows. The papers' numbers are not in this report yet: the protocol of each must be checked against
this one before it is put beside ours.

    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.likelihood --steps 600 --seeds 0 --out DIR
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

BINARY = ("vae", "iwae", "pixelvae", "vlae", "pixelcnn", "gated_pixelcnn", "made")
LATENT = ("vae", "iwae", "pixelvae", "vlae")  # importance-sampled log_prob
CONTINUOUS = ("nice", "realnvp", "glow", "maf", "ppca", "gmm")
# Settings beside each model's defaults: the Bernoulli models' own dynamic binarisation where they have one.
SETTINGS = {"vae": {"binarize": "dynamic"}, "iwae": {"binarize": "dynamic"}, "made": {"binarize": "dynamic"},
            "pixelcnn": {"first_kernel": 7}, "gmm": {"reg_covar": 1e-2}, "ppca": {"latent_dim": 32}}


def binarized(x, seed):
    import numpy as np

    return np.where(np.random.default_rng(seed).uniform(size=x.shape) < (x + 1) / 2, 1.0, -1.0).astype("float32")


def run(method, dataset, steps, batch_size, seed, k, data_dir=None, test_images=None):
    import keras
    import numpy as np
    import tensorflow as tf

    import zoo

    keras.utils.set_random_seed(seed)
    data = zoo.data.load(dataset, seed=seed, data_dir=data_dir)
    model = zoo.load(method, input_shape=data.input_shape, seed=seed, **SETTINGS.get(method, {}))
    stream = data.train(batch_size)
    if method in ("pixelcnn", "gated_pixelcnn"):  # no binarize option of their own: binarise the stream
        generator = tf.random.Generator.from_seed(seed)
        stream = stream.map(lambda b: {**b, "x": tf.where(generator.uniform(tf.shape(b["x"])) < (b["x"] + 1) / 2,
                                                          1.0, -1.0)})
    if model.needs_data_init:
        model.initialize(data.x_train[:500])
    started = time.perf_counter()
    model.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - started
    x_test = data.x_test[:test_images] if test_images else data.x_test
    dim = int(np.prod(data.input_shape))
    row = {"method": method, "dataset": dataset, "steps": steps, "batch_size": batch_size, "seed": seed,
           "train_seconds": round(seconds, 1), "test_images": len(x_test)}
    if method in BINARY:
        # The VAEs' k samples of each image go through the decoder together: 2000 decoder passes a batch
        # (log_prob's default of 50000 / k images held 19 GB of a dcgan decoder's activations on MNIST).
        log_p = model.log_prob(binarized(x_test, 0), k=k, batch_size=max(1, 2000 // k)) if method in LATENT \
            else model.log_prob(binarized(x_test, 0))
        row.update({"unit": "nats", "nll": float(-np.mean(log_p)), "k": k if method in LATENT else None})
    else:
        if method in ("ppca", "gmm"):
            u = (255.0 * (x_test + 1) / 2 + np.random.default_rng(0).uniform(size=x_test.shape)) / 256.0
            log_p_u = model.log_prob(2.0 * u - 1.0) + dim * math.log(2.0)
        else:  # the flows' log_prob is log p(u) - D log 256 at their own fixed dequantisation draw
            log_p_u = model.log_prob(x_test) + dim * math.log(256.0)
        row.update({"unit": "bits/dim", "nll": float(np.mean((dim * math.log(256.0) - log_p_u) / (dim * math.log(2.0))))})
    from recipes.runner import provenance

    row.update(provenance())
    return row


def write_report(rows, out, command):
    import pandas as pd

    from benchmarks import report

    frame = pd.DataFrame(rows)
    frame.to_csv(os.path.join(out, "likelihood_runs.csv"), index=False)
    summary = (frame.groupby(["method", "dataset", "unit", "steps", "batch_size"])
               .agg(nll_mean=("nll", "mean"), nll_sd=("nll", "std"), seeds=("seed", "nunique"),
                    train_seconds=("train_seconds", "mean"))
               .reset_index().sort_values(["unit", "nll_mean"]))
    summary["nll"] = [report.mean_sd(m, s) for m, s in zip(summary.nll_mean, summary.nll_sd)]
    info = report.provenance()
    info["git commit of the runs"] = report.run_commits(frame)
    info.update(report.row_machines(frame))
    info["protocol"] = __doc__.split("Protocol:")[1].split("Each run")[0].strip().replace("\n", " ")
    text = report.header("Test log-likelihood", command, info)
    text += "\n## Summary (lower is better within a unit)\n\n"
    text += report.markdown_table(summary[["method", "dataset", "unit", "steps", "batch_size", "seeds", "nll",
                                           "train_seconds"]]) + "\n"
    text += ("\nThe papers' numbers are not beside these yet: each paper's protocol (binarisation, test set, "
             "k, dequantisation) must be checked before it is compared.\n")
    report.write_text(text, os.path.join(out, "likelihood.md"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.likelihood", description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(BINARY + CONTINUOUS))
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--k", type=int, default=100, help="importance samples of the VAEs' log_prob")
    parser.add_argument("--test-images", type=int, default=None, help="score only the first N test images")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from benchmarks import report

    os.makedirs(args.out, exist_ok=True)
    runs_path = os.path.join(args.out, "likelihood_runs.jsonl")
    done = {(r["method"], r["dataset"], r["steps"], r["seed"]) for r in report.read_jsonl(runs_path)}
    for seed in (int(s) for s in args.seeds.split(",")):
        for method in (m.strip() for m in args.methods.split(",") if m.strip()):
            if (method, args.dataset, args.steps, seed) in done:
                continue
            print(f"likelihood of {method}, seed {seed} ...", file=sys.stderr, flush=True)
            report.append_jsonl(run(method, args.dataset, args.steps, args.batch_size, seed, args.k, args.data_dir,
                                    args.test_images), runs_path)
    command = report.command_line("benchmarks.likelihood")
    write_report(report.read_jsonl(runs_path), args.out, command)
    print(f"wrote {os.path.join(args.out, 'likelihood.md')}")


if __name__ == "__main__":
    main()
