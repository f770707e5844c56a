"""Sample quality of every generating recipe x seed (FID, KID, IS, precision/recall, MMD, Parzen).

    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.quality --scale cpu --seeds 0,1,2
    python -m benchmarks.quality --scale cpu --methods vae --datasets digits --seeds 0 --n 2000

Trains each recipe whose method samples (`recipes.runner.train`, as the SSL
sweep does) and scores `n` samples with `zoo.metrics.evaluate(model, data,
n=n, extractor=...)`, which returns the metrics and the protocol (feature
extractor, reference split, sizes). Every row carries its extractor: numbers
from different extractors are not comparable, so the summary groups by it.
Each run is appended to `quality_runs.jsonl` (resumable, like
`benchmarks.ssl`); the report is `quality.md` + `quality_runs.csv` +
`quality_summary.csv` + sample grids, in `--out` (default
`benchmarks/results/<cpu|gpu>/`).

Beside the models, each dataset gets its real-vs-real floor (`n` training
images scored as if generated, per seed: what a perfect sampler would score
with this extractor and sample size), every method of the GAN family its FID
beside `dcgan`'s at the same scale (`fid_vs_dcgan`, < 1: better), and each
dataset one PNG of every method's first-seed samples.
"""

from __future__ import annotations

import argparse
import json
import math
import os

from benchmarks import report

KEY = ("recipe", "scale", "seed", "steps", "n_generated", "extractor")
#: Metrics summarised as mean ± sd over seeds, when `evaluate` returns them.
SUMMARY_METRICS = ("fid", "kid", "inception_score", "precision", "recall", "mmd", "parzen_log_likelihood",
                   "error_rate")


def require_evaluate():
    """`zoo.metrics.evaluate`, or a clear error saying what is missing."""
    import zoo

    evaluate = getattr(zoo.metrics, "evaluate", None)
    if evaluate is None:
        raise RuntimeError(
            "benchmarks.quality needs zoo.metrics.evaluate(model, data, n=..., extractor='auto') (the sample-"
            "quality metrics of the evaluation issue), and this checkout's zoo.metrics has no `evaluate` "
            f"(it has: {', '.join(n for n in dir(zoo.metrics) if not n.startswith('_'))}). Merge the metrics "
            "work first."
        )
    return evaluate


def select(scale, methods=None, datasets=None):
    """The recipes at `scale` whose registered method can sample."""
    import recipes
    import zoo

    chosen = []
    for recipe in recipes.all_recipes().values():
        if scale not in recipe.scales or (methods and recipe.method not in methods) or (
                datasets and recipe.dataset not in datasets):
            continue
        try:
            cls = zoo.get(recipe.method)
        except ValueError:
            continue
        if cls.can("sample"):
            chosen.append(recipe)
    return chosen


def run_one(recipe, scale, seed, n, extractor="auto", data_dir=None, steps=None, samples_out=None, verbose=0):
    """Train one recipe and score its samples: one flat result row."""
    from recipes.runner import provenance, save_samples, train

    evaluate = require_evaluate()
    model, data, info = train(recipe, scale, seed, data_dir, verbose, steps)
    recipe = info["recipe"]
    # The run's seed also seeds the sampling and the metrics' subsets.
    metrics = evaluate(model, data, n=n, extractor=extractor, seed=seed)
    if samples_out:
        save_samples(model, samples_out, seed)
    row = {"recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset,
           "labels": data.num_labels if recipe.labels is not None else None, "scale": scale, "seed": seed,
           "steps": info["steps"], "batch_size": info["batch_size"], "train_seconds": round(info["seconds"], 2)}
    for key, value in metrics.items():
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = value.item()  # numpy scalars
        value = value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value)
        # The metrics' protocol echoes `seed` and `dataset`: never let it overwrite the run's own keys.
        row[key if key not in row or row[key] == value else f"evaluate_{key}"] = value
    row.setdefault("extractor", str(extractor))
    row.setdefault("n_generated", n)
    row.update(provenance())
    return row


def sweep(recipes_, scale, seeds, out, n, extractor="auto", data_dir=None, steps=None, isolate=True, verbose=0,
          log=print):
    """Run every recipe x seed not yet in `out/quality_runs.jsonl`; return all rows there."""
    require_evaluate()  # fail before any training
    runs_path = os.path.join(out, "quality_runs.jsonl")
    for recipe in recipes_:
        for seed in seeds:
            done = {(r["recipe"], r["scale"], r["seed"]) for r in report.read_jsonl(runs_path)
                    if "failure" not in r and (steps is None or r.get("steps") == steps)}
            if (recipe.name, scale, seed) in done:
                log(f"skip {recipe.name} seed {seed}: already in {runs_path}")
                continue
            samples = os.path.join(out, "samples", f"{recipe.name}_{scale}_seed{seed}.png") if seed == seeds[0] else None
            log(f"run {recipe.name} --scale {scale} --seed {seed}, n={n}, extractor={extractor}")
            try:
                if isolate:
                    row = _run_in_child(recipe.name, scale, seed, n, extractor, data_dir, steps, samples, verbose)
                else:
                    row = run_one(recipe, scale, seed, n, extractor, data_dir, steps, samples, verbose)
            except Exception as error:  # record and go on
                log(f"FAILED {recipe.name} seed {seed}: {error}")
                row = {"recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset, "scale": scale,
                       "seed": seed, "failure": str(error)[-2000:]}
            report.append_jsonl(row, runs_path)
    return report.read_jsonl(runs_path)


FLOOR_METHOD = "real_train_images"


def floor_row(dataset, seed, n, extractor="auto", data_dir=None):
    """The real-vs-real floor of `dataset`: `n` training images scored against the test split as a sample."""
    import zoo
    from recipes.runner import provenance

    evaluate = require_evaluate()
    data = zoo.data.load(dataset, seed=seed, data_dir=data_dir)
    metrics = evaluate(data.x_train, data, n=n, extractor=extractor, seed=seed)
    row = {"recipe": f"floor_{dataset}", "method": FLOOR_METHOD, "dataset": dataset, "labels": None,
           "scale": "floor", "seed": seed, "steps": 0, "batch_size": None, "train_seconds": 0.0}
    for key, value in metrics.items():
        value = value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value
        if isinstance(value, (int, float, str, bool)) or value is None:
            row[key if key not in row or row[key] == value else f"evaluate_{key}"] = value
    row.setdefault("extractor", str(extractor))
    row.setdefault("n_generated", n)
    row.update(provenance())
    return row


def floors(datasets, seeds, out, n, extractor="auto", data_dir=None, log=print):
    """The floor of each dataset x seed not yet in `out/quality_runs.jsonl`."""
    runs_path = os.path.join(out, "quality_runs.jsonl")
    done = {(r["recipe"], r["seed"], r.get("n_generated")) for r in report.read_jsonl(runs_path) if "failure" not in r}
    for dataset in datasets:
        for seed in seeds:
            if (f"floor_{dataset}", seed, n) not in done:
                log(f"floor {dataset} seed {seed}, n={n}")
                report.append_jsonl(floor_row(dataset, seed, n, extractor, data_dir), runs_path)


def _run_in_child(name, scale, seed, n, extractor, data_dir, steps, samples, verbose):
    arguments = ["-m", "benchmarks.quality", "--one", name, "--scale", scale, "--seeds", str(seed), "--n", str(n),
                 "--extractor", extractor, "--verbose", str(verbose)]
    arguments += ["--data-dir", data_dir] if data_dir else []
    arguments += ["--steps", str(steps)] if steps is not None else []
    arguments += ["--samples-out", samples] if samples else []
    return report.run_child(arguments, verbose)


def summarize(runs):
    """Mean ± sd over seeds of each metric, per method x dataset x scale x steps x extractor."""
    import pandas as pd

    if runs.empty:
        return pd.DataFrame()
    keys = ["method", "dataset", "scale", "steps", "extractor", "n_generated"]
    rows = []
    for values, group in runs.groupby(keys, dropna=False, sort=True):
        row = dict(zip(keys, values))
        row["seeds"] = len(group)
        for metric in SUMMARY_METRICS:
            if metric in group and group[metric].notna().any():
                x = group[metric].astype(float)
                row[metric] = f"{x.mean():.4g} ± {x.std(ddof=1):.2g}" if len(x) > 1 else f"{x.mean():.4g}"
        row["train_seconds"] = round(float(group["train_seconds"].mean()), 1)
        row["fid_mean"] = float(group["fid"].mean()) if "fid" in group else float("nan")
        row.update(_paper(group["recipe"].iloc[0]))
        rows.append(row)
    summary = pd.DataFrame(rows)
    # FID relative to dcgan's at the same dataset, scale, extractor and sample size (the GAN papers' baseline).
    reference = summary[summary["method"] == "dcgan"].set_index(["dataset", "scale", "extractor", "n_generated"])
    ratios = []
    for _, row in summary.iterrows():
        key = (row["dataset"], row["scale"], row["extractor"], row["n_generated"])
        ratios.append(row["fid_mean"] / reference.loc[key, "fid_mean"] if key in reference.index else float("nan"))
    summary["fid_vs_dcgan"] = [round(r, 3) for r in ratios]
    return summary.drop(columns="fid_mean")


def _paper(name):
    """The paper's number of a recipe whose paper reports a sample-quality metric (e.g. Parzen nats)."""
    import recipes

    recipe = recipes.all_recipes().get(name)
    paper = getattr(recipe, "paper", None) or {}
    if paper.get("metric") not in SUMMARY_METRICS:
        return {}
    return {f"paper_{paper['metric']}": paper["value"], "paper_reference": paper["reference"]}


def write_report(rows, out, command):
    import pandas as pd

    good = [r for r in rows if "failure" not in r]
    runs = pd.DataFrame(good)
    if not runs.empty:
        runs = runs.sort_values(["dataset", "method", "scale", "seed"]).reset_index(drop=True)
    summary = summarize(runs)
    os.makedirs(out, exist_ok=True)
    runs.to_csv(os.path.join(out, "quality_runs.csv"), index=False)
    summary.to_csv(os.path.join(out, "quality_summary.csv"), index=False)
    info = report.provenance()
    info["protocol"] = ("each run trains the recipe at its scale, then zoo.metrics.evaluate scores n samples "
                        "against the test split with the named feature extractor (numbers from different "
                        "extractors are not comparable); mean ± sample sd over seeds")
    text = report.header("Sample quality", command, info)
    text += "\n## Summary\n\n" + (report.markdown_table(summary) if not summary.empty else "No runs yet.") + "\n"
    text += LUCIC
    panels = [sample_panel(out, runs, dataset) for dataset in sorted(set(runs["dataset"]))] if not runs.empty else []
    text += "".join(f"\n![{os.path.basename(p)}]({os.path.basename(p)})\n" for p in panels if p)
    text += report.sample_grids(out, runs, "\n## Samples\n\n")
    failed = [r for r in rows if "failure" in r]
    if failed:
        text += "\n## Failed runs\n\n" + "".join(
            f"- {r['recipe']} seed {r['seed']}: {r['failure'].splitlines()[-1] if r['failure'] else ''}\n"
            for r in failed)
    return report.write_text(text, os.path.join(out, "quality.md"))


LUCIC = """
## Beside Lucic et al. 2018

Lucic et al. ("Are GANs Created Equal? A Large-Scale Study", arXiv 1711.10337) trained MM GAN, NS GAN, LSGAN,
WGAN, WGAN-GP, DRAGAN, BEGAN and a VAE on MNIST, Fashion-MNIST, CIFAR-10 and CelebA under a large
hyper-parameter search and random restarts, and scored them with FID on Inception features. Their finding:
most models reach similar scores with enough tuning and restarts, and none of them consistently beats the
non-saturating GAN. Their FIDs use Inception features, ours the zoo's domain classifier, at one setting per
method and a CPU budget: the values are not comparable, only the ranking is, and at this budget a ranking
measures speed of learning as much as the method.
"""


def sample_panel(out, runs, dataset):
    """One PNG of every method's first-seed sample grid on `dataset` (`quality_samples_<dataset>.png`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    samples_dir = os.path.join(out, "samples")
    chosen = runs[runs["dataset"] == dataset].sort_values(["method", "seed"]).drop_duplicates(["method", "scale"])
    grids = []
    for _, run in chosen.iterrows():
        path = os.path.join(samples_dir, f"{run['recipe']}_{run['scale']}_seed{run['seed']}.png")
        if os.path.exists(path):
            grids.append((f"{run['method']} ({run['scale']})", path))
    if not grids:
        return None
    columns = min(6, len(grids))
    rows = -(-len(grids) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, (title, path) in zip(axes.flat, grids):
        axis.imshow(Image.open(path), cmap="gray")
        axis.set_title(title, fontsize=8)
    figure.tight_layout()
    target = os.path.join(out, f"quality_samples_{dataset}.png")
    figure.savefig(target, dpi=100)
    plt.close(figure)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="cpu")
    parser.add_argument("--methods", default=None)
    parser.add_argument("--datasets", default=None)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--n", type=int, default=10000, help="generated images per run")
    parser.add_argument("--extractor", default="auto", help="feature extractor for zoo.metrics.evaluate")
    parser.add_argument("--steps", type=int, default=None, help="override every recipe's steps (smoke runs)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the runs already there")
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--no-floor", action="store_true", help="skip the real-vs-real floor of each dataset")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child mode: one recipe, row to --out
    parser.add_argument("--samples-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    split = lambda s: [v.strip() for v in s.split(",") if v.strip()] if s else None  # noqa: E731
    seeds = [int(s) for s in split(args.seeds)]
    if args.one:
        row = run_one(args.one, args.scale, seeds[0], args.n, args.extractor, args.data_dir, args.steps,
                      args.samples_out, args.verbose)
        report.write_text(json.dumps(row, indent=2, default=_jsonable), args.out)
        return
    try:
        require_evaluate()
    except RuntimeError as error:
        raise SystemExit(f"error: {error}") from None
    out = args.out or report.default_out()
    command_file = os.path.join(out, "quality_command.txt")
    if args.report_only:
        command = open(command_file).read().strip() if os.path.exists(command_file) else \
            report.command_line("benchmarks.quality")
        rows = report.read_jsonl(os.path.join(out, "quality_runs.jsonl"))
        print(f"wrote {write_report(rows, out, command)}")
        return
    chosen = select(args.scale, split(args.methods), split(args.datasets))
    if not chosen:
        raise SystemExit(f"no generating recipe matches scale={args.scale!r}, methods={args.methods}, "
                         f"datasets={args.datasets}")
    command = report.command_line("benchmarks.quality")
    report.write_text(command + "\n", command_file)
    if not args.no_floor:
        floors(sorted({r.dataset for r in chosen}), seeds, out, args.n, args.extractor, args.data_dir)
    rows = sweep(chosen, args.scale, seeds, out, args.n, args.extractor, args.data_dir, args.steps,
                 isolate=not args.in_process, verbose=args.verbose)
    print(f"wrote {write_report(rows, out, command)}")


def _jsonable(value):
    try:
        number = float(value)
        return None if math.isnan(number) else number
    except (TypeError, ValueError):
        return str(value)


if __name__ == "__main__":
    main()
