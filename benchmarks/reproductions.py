"""Reproductions: long runs of the `paper`-scale recipes, their test-error curves beside the papers' numbers.

    ZOO_DATA_DIR=../shared/datasets python -m recipes run improved_gan_mnist_100 --scale paper --seed 0 \
        --steps 60000 --backup-dir RUNS/improved_gan_mnist_100_s0
    python -m benchmarks.reproductions RUNS/* --out benchmarks/results/cpu

A long run (`recipes.runner.run(..., backup_dir=)`) leaves in its folder
`run.json` (recipe, seed, hyper-parameters, every process that trained it with
its commit), `curve.jsonl` (the test error after every epoch, of the weights
`classify` uses: the weight average where the method keeps one) and, once it
finished, the result row (`row.json`, from `--out`). A rerun of the same
command resumes it, so a budget of hundreds of epochs is reached across
sessions. From those folders this module writes, in `--out`:

* `reproductions.csv`: one row per run, finished or not (`finished` says
  which): recipe, method, dataset, labels, seed, epochs reached,
  test_error_pct at the last epoch, paper_error_pct, baseline_error_pct (the
  recipe's `paper_baseline` run at the same seed, at the same epoch or its
  last one before it), wall_s (training wall time summed over the run's
  processes), commit (of every process, oldest first);
* `reproductions_curves.csv`: every curve point of every run (so the report
  is rebuilt from the repository alone: `--from-csv`);
* `reproductions_<method>.png`: test error against epochs of each seed of each
  recipe of the method, its baseline's, and the paper's number drawn;
* `reproductions.md`: the table, the figures, and each recipe's deviations
  that remain (its notes).

Protocol: the error is that of the last epoch reached, on the whole test set
(no early stopping, no selection on test data).
"""

from __future__ import annotations

import argparse
import json
import os

from benchmarks import report

COLUMNS = ["recipe", "method", "dataset", "labels", "scale", "seed", "epochs", "target_epochs", "finished", "test_error_pct",
           "paper_error_pct", "baseline_error_pct", "baseline_recipe", "wall_s", "commit", "cpu", "run"]
# `cpu`: the processor of each process that trained it (wall_s depends on it; the report's header names only the
# machine that wrote the report). `run`: the run folder's name, which tells two runs of one recipe, scale and seed apart (a budget resumed
# further in a copy of the folder, or two scales of a recipe).
CURVE_COLUMNS = ["run", "recipe", "seed", "epoch", "step", "test_error_pct", "seconds"]


def read_run(folder):
    """(info, curve lines, result row or None) of one long run's folder."""
    from zoo.callbacks import read_curve

    with open(os.path.join(folder, "run.json")) as f:
        info = json.load(f)
    row_path = os.path.join(folder, "row.json")
    row = None
    if os.path.exists(row_path):
        with open(row_path) as f:
            row = json.load(f)
    return info, read_curve(os.path.join(folder, "curve.jsonl")), row


def tables(folders):
    """(runs, curves) DataFrames from the run folders."""
    import pandas as pd

    import recipes

    runs, points = [], []
    for folder in folders:
        info, curve, row = read_run(folder)
        if not curve:
            continue
        recipe = recipes.get(info["recipe"])
        name = os.path.basename(os.path.normpath(folder))
        # (curves written before the callback counted fit's steps have 0 for Triple-GAN's pre-training epochs)
        steps_per_epoch = max(p["step"] / p["epoch"] for p in curve) or 1
        last = curve[-1]
        target_epochs = round(info["steps"] / steps_per_epoch)
        runs.append({
            "recipe": recipe.name, "method": recipe.method, "dataset": recipe.dataset, "labels": recipe.labels,
            "scale": info["scale"], "seed": info["seed"], "epochs": last["epoch"], "target_epochs": target_epochs,
            # a run resumed with a larger budget keeps its earlier result row: finished is the curve's word
            "finished": row is not None and last["epoch"] >= target_epochs, "test_error_pct": 100 * last["test_error"],
            # the paper's number is the target of every long scale of the recipe (paper, epochs_100, ...)
            "paper_error_pct": 100 * recipe.paper["value"] if recipe.paper and info["scale"] != "cpu" else None,
            "baseline_recipe": recipe.paper_baseline, "wall_s": last["seconds"],
            "commit": " ".join(dict.fromkeys(s["commit"] for s in info["segments"])),
            "cpu": "; ".join(dict.fromkeys(s.get("cpu", "?") for s in info["segments"])), "run": name,
        })
        points += [{"run": name, "recipe": recipe.name, "seed": info["seed"], "epoch": p["epoch"], "step": p["step"],
                    "test_error_pct": 100 * p["test_error"], "seconds": p["seconds"]} for p in curve]
    runs = pd.DataFrame(runs, columns=[c for c in COLUMNS if c != "baseline_error_pct"])
    curves = pd.DataFrame(points, columns=CURVE_COLUMNS)
    return with_baselines(runs, curves), curves


def baseline_curve(curves, recipe, seed):
    """The curve of `recipe`'s run of `seed` (the last of them, if the CSVs hold several), by epoch."""
    theirs = curves[(curves["recipe"] == recipe) & (curves["seed"] == seed)]
    if len(theirs):
        theirs = theirs[theirs["run"] == theirs["run"].iloc[-1]]
    return theirs.sort_values("epoch")


def with_baselines(runs, curves):
    """Fill `baseline_error_pct`: the baseline recipe's run of the same seed at the run's epoch (or the last
    epoch it reached before it)."""
    values = []
    for run in runs.itertuples():
        theirs = baseline_curve(curves, run.baseline_recipe, run.seed)
        theirs = theirs[theirs["epoch"] <= run.epochs]
        values.append(theirs["test_error_pct"].iloc[-1] if len(theirs) else None)
    runs = runs.copy()
    runs["baseline_error_pct"] = values
    return runs[COLUMNS]


def plot(runs, curves, method, path):
    """Test error against epochs for `method`'s runs, its baselines and the paper's number."""
    from benchmarks.plots import _pyplot, _save

    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4.5))
    mine = runs[runs["method"] == method]
    drawn = set()  # each baseline run once
    for run in mine.itertuples():
        points = curves[curves["run"] == run.run].sort_values("epoch")
        scale = "" if run.scale == "paper" else f" ({run.scale})"
        axis.plot(points["epoch"], points["test_error_pct"], label=f"{run.recipe}{scale} seed {run.seed}")
        baseline = baseline_curve(curves, run.baseline_recipe, run.seed)
        if len(baseline) and (run.baseline_recipe, run.seed) not in drawn:
            drawn.add((run.baseline_recipe, run.seed))
            axis.plot(baseline["epoch"], baseline["test_error_pct"], linestyle=":", color="grey",
                      label=f"{run.baseline_recipe} seed {run.seed} (labels alone)")
    for paper in sorted(set(mine["paper_error_pct"].dropna())):
        axis.axhline(paper, linestyle="--", color="black", label=f"paper {paper:.2f}%")
    axis.set_yscale("log")
    axis.set_xlabel("epoch (one pass over the unlabelled images)")
    axis.set_ylabel("test error, % (log scale)")
    axis.set_title(f"{method}: test error against epochs")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    return _save(figure, path)


def write(runs, curves, out, command):
    import recipes

    os.makedirs(out, exist_ok=True)
    runs.to_csv(os.path.join(out, "reproductions.csv"), index=False)
    curves.to_csv(os.path.join(out, "reproductions_curves.csv"), index=False)
    reproduced = runs[runs["paper_error_pct"].notna()]
    figures = [plot(runs, curves, method, os.path.join(out, f"reproductions_{method}.png"))
               for method in sorted(set(reproduced["method"]))]
    text = report.header("Reproductions: the papers' settings, run long, beside the papers' numbers", command,
                         report.provenance())
    text += ("\nEach row is one run of a recipe at its `paper` scale (the authors' settings; the deviations that "
             "remain are listed below): the test error of the last epoch reached, on the 10,000 test images, of "
             "the weights `classify` uses (a method's weight average where it keeps one), no selection on test "
             "data. `epochs` / `target_epochs`: how far the run got of the budget it was started with; a run not "
             "`finished` resumes from its backup. `baseline_error_pct`: the same net trained on the same labels "
             "alone, same seed, at the same epoch. `wall_s`: training wall time summed over the run's processes "
             "(one TensorFlow thread each, sharing the machine's two cores with other work), `commit` and `cpu`: the "
             "code and the processor of each process that trained it.\n\n")
    text += report.markdown_table(reproduced if len(reproduced) else runs) + "\n"
    text += ("\nEach run: `ZOO_DATA_DIR=../shared/datasets TF_NUM_INTRAOP_THREADS=1 python -m recipes run RECIPE "
             "--scale SCALE --seed SEED --steps EPOCHS_X_STEPS_PER_EPOCH --backup-dir DIR` (rerun to resume); the "
             "baselines: " + ", ".join(f"`{r.recipe}` ({r.scale}, {r.epochs} epochs)"
                                       for r in runs[runs["paper_error_pct"].isna()].itertuples()) + ".\n")
    for path in figures:
        text += f"\n![{os.path.basename(path)}]({os.path.basename(path)})\n"
    text += "\n## Deviations that remain, per recipe\n\n"
    for name in sorted(set(reproduced["recipe"])):
        text += f"- **{name}**: {recipes.get(name).notes}\n"
    report.write_text(text, os.path.join(out, "reproductions.md"))
    return figures


def readme_table(runs):
    """The README's table: one row per run, ours beside the paper's and the labels-alone baseline's."""
    import pandas as pd

    rows = []
    for run in runs[runs["paper_error_pct"].notna()].itertuples():
        reached = f"{run.epochs} of {run.target_epochs} epochs" + ("" if run.finished else ", resumable")
        scale = "" if run.scale == "paper" else f" ({run.scale})"  # a scale beside the paper's own
        rows.append({"recipe": run.recipe + scale, "paper": f"{run.paper_error_pct:.2f}",
                     "ours (seed, epochs)": f"{run.test_error_pct:.2f} (seed {run.seed}, {reached})",
                     "same net, labels alone": "" if pd.isna(run.baseline_error_pct)
                     else f"{run.baseline_error_pct:.2f}",
                     "wall clock": f"{run.wall_s / 3600:.1f} h", "commit": run.commit})
    return report.markdown_table(pd.DataFrame(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reproductions", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", help="long-run folders (--backup-dir of `python -m recipes run`)")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results/<cpu|gpu>)")
    parser.add_argument("--readme", action="store_true", help="print the README's table instead")
    parser.add_argument("--from-csv", action="store_true",
                        help="rebuild the report from the CSVs already in --out (no run folders needed)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out's CSVs, the given folders' runs replacing theirs")
    args = parser.parse_args(argv)
    out = args.out or report.default_out()
    if args.from_csv or args.merge:
        import pandas as pd

        runs = pd.read_csv(os.path.join(out, "reproductions.csv"))
        curves = pd.read_csv(os.path.join(out, "reproductions_curves.csv"))
        if args.merge and args.folders:
            new_runs, new_curves = tables(args.folders)
            runs = pd.concat([runs[~runs["run"].isin(new_runs["run"])], new_runs], ignore_index=True)
            curves = pd.concat([curves[~curves["run"].isin(new_runs["run"])], new_curves], ignore_index=True)
            runs = with_baselines(runs.drop(columns="baseline_error_pct"), curves)
    else:
        if not args.folders:
            parser.error("give the run folders, or --from-csv / --merge")
        runs, curves = tables(args.folders)
    if args.readme:
        print(readme_table(runs))
        return 0
    write(runs, curves, out, report.command_line("benchmarks.reproductions"))
    print(report.markdown_table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
