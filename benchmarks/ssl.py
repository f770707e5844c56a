"""Semi-supervised error of every recipe x seed, beside the papers' numbers.

    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.ssl --scale cpu --seeds 0,1,2
    python -m benchmarks.ssl --scale cpu --methods sgan,supervised --datasets digits --seeds 0
    python -m benchmarks.ssl --scale cpu --methods m2,supervised --datasets digits --at-labels 20,50,100

Runs every recipe of `recipes.all_recipes()` whose method classifies and that
has the scale and a label budget (optionally narrowed by `--methods`,
`--datasets`, `--labels`; `--at-labels` re-runs each chosen recipe at other
label budgets, `Recipe.at_labels`), for each seed, each run in its own Python process
(so one run's memory and graphs do not leak into the next, and its peak RSS is
its own). Each finished run is appended to `ssl_runs.jsonl`; a re-run of the
same command skips the runs already there, so an interrupted sweep resumes.
From all rows it writes, in `--out` (default `benchmarks/results/<cpu|gpu>/`):

* `ssl_runs.csv`: one row per method x dataset x label budget x seed;
* `ssl_summary.csv` and `ssl.md`: test error mean ± sd over seeds, steps,
  wall time, the paper's number in the next column, machine, versions, commit;
* `ssl_errors.png` (each method's error beside its baseline's and the
  paper's), `ssl_error_vs_labels.png` (only where a method ran at two label
  budgets or more), `ssl_curves_<dataset>.png` (learning curves),
  `samples/<recipe>_seed<k>.png` (sample grids of the methods that sample).

Protocol: error = 1 - accuracy of `model.classify` on the whole test set after
the last training step (no early stopping, no model selection on test data);
labelled examples balanced per class, drawn from the seed.
"""

from __future__ import annotations

import argparse
import math
import os

from benchmarks import report

KEY = ("recipe", "scale", "seed", "steps")
SUMMARY_COLUMNS = ["method", "dataset", "labels", "scale", "error_pct", "seeds", "diverged", "steps", "batch_size",
                   "train_seconds", "train_cpu_seconds", "baseline_error_pct", "paper_error_pct", "paper_reference", "recipe",
                   "baseline"]


def select(scale, methods=None, datasets=None, labels=None):
    """The recipes of classifying methods with `scale` and a label budget, filtered."""
    import recipes
    import zoo

    chosen = []
    for recipe in recipes.all_recipes().values():
        if scale not in recipe.scales or recipe.labels is None:
            continue
        if methods and recipe.method not in methods:
            continue
        if datasets and recipe.dataset not in datasets:
            continue
        if labels and recipe.labels not in labels:
            continue
        try:
            cls = zoo.get(recipe.method)
        except ValueError:
            continue  # a recipe whose method is not registered on this branch yet
        if cls.can("classify"):
            chosen.append(recipe)
    return chosen


def sweep(recipes_, scale, seeds, out, data_dir=None, steps=None, isolate=True, verbose=0, log=print,
          strategy=None):
    """Run every recipe x seed not yet in `out/ssl_runs.jsonl`; return all rows there.

    Args:
        recipes_: Recipe objects (e.g. from `select`); with `isolate=True` they
            must be registered recipes or their `at_labels` variants (the child
            process looks them up by name with `recipes.get`).
        steps: override every recipe's steps (smoke tests).
        isolate: run each in a fresh Python process (`python -m recipes run`).
        strategy: "mirrored" or "multiworker" (`recipes.runner.make_strategy`), every run under it; with
            "multiworker" every worker runs the same sweep, each into its own `out`.
    """
    if strategy is not None and not isolate:
        from recipes.runner import make_strategy

        strategy = make_strategy(strategy)  # once per process: a multi-worker runtime starts only once
    runs_path = os.path.join(out, "ssl_runs.jsonl")
    for recipe in recipes_:
        for seed in seeds:
            run_steps = int(steps if steps is not None else recipe.setting(scale)["steps"])
            done = {tuple(r.get(k) for k in KEY) for r in report.read_jsonl(runs_path) if "error" not in r}
            if (recipe.name, scale, seed, _chunked(run_steps)) in done:
                log(f"skip {recipe.name} seed {seed}: already in {runs_path}")
                continue
            curve = os.path.join(out, "curves", f"{recipe.name}_{scale}_seed{seed}.json")
            samples = os.path.join(out, "samples", f"{recipe.name}_{scale}_seed{seed}.png") if seed == seeds[0] else None
            log(f"run {recipe.name} --scale {scale} --seed {seed} ({run_steps} steps)")
            try:
                if isolate:
                    row = _run_in_child(recipe.name, scale, seed, data_dir, steps, curve, samples, verbose, strategy)
                else:
                    from recipes.runner import run

                    row = run(recipe, scale, seed, data_dir, verbose, steps=steps, curve_out=curve,
                              samples_out=samples, strategy=strategy)
            except Exception as error:  # record and go on: one broken method must not stop a sweep
                log(f"FAILED {recipe.name} seed {seed}: {error}")
                row = {"recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset,
                       "scale": scale, "seed": seed, "steps": run_steps, "error": str(error)[-2000:]}
            report.append_jsonl(row, runs_path)
    return report.read_jsonl(runs_path)


def _chunked(steps):
    from recipes.runner import CHUNK_STEPS

    chunk = min(CHUNK_STEPS, steps)
    return -(-steps // chunk) * chunk


def _run_in_child(name, scale, seed, data_dir, steps, curve, samples, verbose, strategy=None):
    arguments = ["-m", "recipes", "run", name, "--scale", scale, "--seed", str(seed), "--verbose", str(verbose),
                 "--curve-out", curve]
    arguments += ["--data-dir", data_dir] if data_dir else []
    arguments += ["--steps", str(steps)] if steps is not None else []
    arguments += ["--samples-out", samples] if samples else []
    arguments += ["--strategy", strategy] if strategy else []
    return report.run_child(arguments, verbose)


# ---------------------------------------------------------------- tables
def runs_table(rows):
    """The successful runs as a tidy DataFrame, one row per run, sorted."""
    import pandas as pd

    frame = pd.DataFrame([{**r, "diverged": _diverged(r)} for r in rows if "error" not in r])
    if frame.empty:
        return frame
    frame = frame.drop_duplicates(subset=list(KEY), keep="last")
    return frame.sort_values(["dataset", "labels", "method", "scale", "seed"]).reset_index(drop=True)


def _diverged(row):
    """Whether a run's training losses went inf/NaN: recorded by the runner, or (rows from before it
    recorded that) a non-finite final training loss."""
    finals = (v for k, v in row.items() if k.startswith("train_") and isinstance(v, float))
    return bool(row.get("diverged")) or any(not math.isfinite(v) for v in finals)


def summarize(runs):
    """Mean ± sd of the test error over seeds per method x dataset x labels x scale x steps.

    `baseline_error_pct` is the mean error of the recipe's `baseline` (its
    classifier net trained on the labels alone) at the same scale, where it ran.
    """
    import pandas as pd

    if runs.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    groups = runs.groupby(["method", "dataset", "labels", "scale", "steps", "recipe"], dropna=False, sort=True)
    rows = []
    for (method, dataset, labels, scale, steps, recipe), group in groups:
        errors = 100.0 * group["test_error"].astype(float)
        sd = errors.std(ddof=1) if len(errors) > 1 else float("nan")
        paper = group["paper_value"].iloc[0]
        rows.append({
            "method": method, "dataset": dataset, "labels": int(labels), "scale": scale,
            "error_mean": errors.mean(), "error_sd": sd,
            "error_pct": f"{errors.mean():.2f} ± {sd:.2f}" if len(errors) > 1 else f"{errors.mean():.2f}",
            "seeds": len(group), "diverged": int(group["diverged"].sum()),  # runs_table's `_diverged`
            "steps": int(steps), "batch_size": int(group["batch_size"].iloc[0]),
            "train_seconds": round(float(group["train_seconds"].mean()), 1),
            "train_cpu_seconds": round(float(group["train_cpu_seconds"].mean()), 1)
            if "train_cpu_seconds" in group and group["train_cpu_seconds"].notna().all() else None,
            "paper_error_pct": None if paper is None or pd.isna(paper) else round(100.0 * float(paper), 2),
            "paper_reference": group["paper_reference"].iloc[0] if "paper_reference" in group else None,
            "recipe": recipe,
        })
    frame = pd.DataFrame(rows)
    # Each recipe names its baseline recipe (the method's classifier net on the labels alone).
    frame["baseline"] = [getattr(_find(name), "baseline", None) for name in frame["recipe"]]
    errors = {(r.recipe, r.scale): r.error_mean for r in frame.itertuples()}
    frame.insert(frame.columns.get_loc("paper_error_pct"), "baseline_error_pct",
                 [round(errors[(b, s)], 2) if (b, s) in errors else None
                  for b, s in zip(frame["baseline"], frame["scale"])])
    return frame.sort_values(["dataset", "labels", "error_mean"]).reset_index(drop=True)


def write_report(rows, out, command, plots=True):
    """Write the CSVs, the Markdown report and the plots; return the Markdown path."""
    runs = runs_table(rows)
    summary = summarize(runs)
    os.makedirs(out, exist_ok=True)
    runs.to_csv(os.path.join(out, "ssl_runs.csv"), index=False)
    summary.to_csv(os.path.join(out, "ssl_summary.csv"), index=False)
    info = report.provenance()
    if not runs.empty:
        info["machine"] = "; ".join(sorted(set(runs["machine"])))
        info["cpu"] = "; ".join(sorted(set(runs["cpu"]))) if "cpu" in runs else info["cpu"]
        info["git commit of the runs"] = report.run_commits(runs)
        info["data"] = "; ".join(sorted({f"{d}: {s}" for d, s in zip(runs["dataset"], runs["data_source"])})) \
            if "data_source" in runs else "?"
    info["protocol"] = ("error = 1 - accuracy on the whole test set after the last step; no early stopping or "
                        "model selection; labels balanced per class and drawn from the seed; mean ± sample sd "
                        "over seeds; train_seconds = wall time of `fit` per run (other jobs may have run "
                        "beside it: `load_avg_1min` in ssl_runs.csv, the machine's load when `fit` started, for "
                        "runs since it was recorded), train_cpu_seconds = CPU time of the run's process during `fit` (blank for runs "
                        "recorded before it was measured)")
    text = report.header("Semi-supervised test error", command, info)
    text += "\n## Summary (error in %)\n\n"
    shown = summary.drop(columns=["error_mean", "error_sd"], errors="ignore")
    text += report.markdown_table(shown) + "\n"
    if plots and not runs.empty:
        from benchmarks import plots as plotting

        text += "\n## Plots\n\n"
        for path in plotting.ssl_plots(runs, summary, out):
            text += f"![{os.path.basename(path)}]({os.path.relpath(path, out)})\n\n"
        text += report.sample_grids(out, runs, "### Samples (seed of the first run)\n\n")
    text += "\n## Recipe notes\n\n" + _recipe_notes(summary)
    diverged = runs[runs["diverged"]] if "diverged" in runs else runs.iloc[:0]
    if not diverged.empty:
        text += "\n## Diverged runs\n\nTraining losses went inf/NaN; their errors are in the table above.\n\n" + \
            "".join(f"- {r.recipe} seed {r.seed}: test error {100 * r.test_error:.2f} %\n" for r in diverged.itertuples())
    failed = [r for r in rows if "error" in r]
    if failed:
        text += "\n## Failed runs\n\n" + "".join(
            f"- {r['recipe']} seed {r['seed']}: {r['error'].splitlines()[-1] if r['error'] else ''}\n" for r in failed)
    text += "\n## All runs\n\n`ssl_runs.csv` (one row per run, with the training losses at the last step, peak RSS, " \
            "versions and commit).\n"
    return report.write_text(text, os.path.join(out, "ssl.md"))


def readme_table(summary):
    """The README's table: one row per method, one column per dataset x label budget of the registered
    recipes, each cell "error (baseline error)" in %; the paper's numbers in the last column.

    The steps x batch of a column go in its header when all its methods share them, else in each cell.
    """
    import recipes

    registered = recipes.all_recipes()
    shown = summary[(summary["method"] != "supervised") & summary["recipe"].isin(list(registered))]
    if shown.empty:
        return ""
    names = {"digits": "digits", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
    columns = sorted({(d, int(n)) for d, n in zip(shown["dataset"], shown["labels"])},
                     key=lambda c: (list(names).index(c[0]) if c[0] in names else len(names), c))
    budget = shown["steps"].astype(str) + " x " + shown["batch_size"].astype(str)
    budgets = {(d, n): set(budget[(shown["dataset"] == d) & (shown["labels"] == n)]) for d, n in columns}

    def number(value):
        return None if value is None or value != value else f"{value:.2f}"

    header = ["method"] + [f"{names.get(d, d)}-{n}" + (f" ({next(iter(budgets[(d, n)]))})"
                                                      if len(budgets[(d, n)]) == 1 else "") for d, n in columns]
    lines = ["| " + " | ".join(header + ["paper"]) + " |", "|" + " --- |" * (len(header) + 1)]
    order = shown.groupby("method")["error_mean"].mean().sort_values().index
    for method in order:
        rows = shown[shown["method"] == method]
        cells, papers = [method], []
        for dataset, labels in columns:
            match = rows[(rows["dataset"] == dataset) & (rows["labels"] == labels)]
            if match.empty:
                cells.append("—")
                continue
            row = match.iloc[0]
            baseline = number(row["baseline_error_pct"])
            cell = row["error_pct"] + (f" ({baseline})" if baseline else "")
            if len(budgets[(dataset, labels)]) > 1:
                cell += f" [{row['steps']} x {row['batch_size']}]"
            cells.append(cell)
            paper = number(row["paper_error_pct"])
            if paper:
                papers.append(f"{names.get(dataset, dataset)}-{labels}: {paper} ({row['paper_reference']})")
        lines.append("| " + " | ".join(cells + ["; ".join(papers) or "—"]) + " |")
    return "\n".join(lines) + "\n"


def _find(name):
    """The recipe `name` (registered, or one at another label budget), None if unknown on this checkout."""
    import recipes

    try:
        return recipes.get(name)
    except ValueError:
        return None


def _recipe_notes(summary):
    """Each reported recipe's steps at its scales and its notes (deviations from the paper)."""
    lines = []
    for name in dict.fromkeys(summary["recipe"]) if not summary.empty else []:
        recipe = _find(name)
        if recipe is None:
            continue
        scales = ", ".join(f"{s}: {v.get('steps')} steps x {v.get('batch_size', 100)}" for s, v in recipe.scales.items())
        lines.append(f"- `{name}` ({scales}). {recipe.notes}".rstrip() + "\n")
    return "".join(lines) or "None.\n"


def main(argv=None):
    from recipes.runner import STRATEGIES

    parser = argparse.ArgumentParser(prog="python -m benchmarks.ssl", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="cpu")
    parser.add_argument("--methods", default=None, help="comma-separated registered names (default: all)")
    parser.add_argument("--datasets", default=None, help="comma-separated datasets (default: all)")
    parser.add_argument("--labels", default=None, help="comma-separated label budgets (default: all)")
    parser.add_argument("--at-labels", default=None,
                        help="comma-separated label budgets to run each selected recipe at instead of its own "
                             "(e.g. 20,50,100 on digits: the error-vs-labels curves; see Recipe.at_labels)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=None, help="override every recipe's steps (smoke runs)")
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $ZOO_DATA_DIR)")
    parser.add_argument("--out", default=None, help="report folder (default benchmarks/results/<cpu|gpu>)")
    parser.add_argument("--in-process", action="store_true", help="run in this process (faster start, shared memory)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the runs already there")
    parser.add_argument("--readme", action="store_true", help="print the README's summary table of the report")
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--strategy", default=None, choices=STRATEGIES,
                        help="train every run under this tf.distribute strategy (README: Training on several machines)")
    args = parser.parse_args(argv)
    split = lambda s: [v.strip() for v in s.split(",") if v.strip()] if s else None  # noqa: E731
    out = args.out or report.default_out()
    chosen = select(args.scale, split(args.methods), split(args.datasets),
                    [int(v) for v in split(args.labels)] if args.labels else None)
    if args.at_labels:
        chosen = [recipe.at_labels(int(n)) for recipe in chosen for n in split(args.at_labels)]
    if not chosen and not args.report_only:
        raise SystemExit(f"no recipe matches scale={args.scale!r}, methods={args.methods}, "
                         f"datasets={args.datasets}, labels={args.labels}")
    command_file = os.path.join(out, "ssl_command.txt")
    if args.report_only:
        rows = report.read_jsonl(os.path.join(out, "ssl_runs.jsonl"))
        command = open(command_file).read().strip() if os.path.exists(command_file) else \
            report.command_line("benchmarks.ssl")
    else:
        command = report.command_line("benchmarks.ssl")
        report.write_text(command + "\n", command_file)
        rows = sweep(chosen, args.scale, [int(s) for s in split(args.seeds)], out, args.data_dir, args.steps,
                     isolate=not args.in_process, verbose=args.verbose, strategy=args.strategy)
    path = write_report(rows, out, command)
    print(f"wrote {path}")
    if args.readme:
        print(readme_table(summarize(runs_table(rows))))


if __name__ == "__main__":
    main()
