"""The reports' figures (matplotlib, the `bench` extra), written as PNG."""

from __future__ import annotations

import json
import os


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("the benchmark plots need matplotlib: pip install 'keras-ssl-zoo[bench]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def ssl_plots(runs, summary, out):
    """The error of each method beside its baseline and the paper, error vs label budget (where a method ran
    at two budgets or more) and learning curves; return the PNG paths."""
    paths = [error_chart(summary, os.path.join(out, "ssl_errors.png"))]
    budgets = runs.groupby(["dataset", "method", "scale"])["labels"].nunique()
    if (budgets > 1).any():
        paths.append(error_vs_labels(runs, os.path.join(out, "ssl_error_vs_labels.png")))
    for dataset in sorted(set(runs["dataset"])):
        path = learning_curves(runs[runs["dataset"] == dataset], os.path.join(out, "curves"),
                               os.path.join(out, f"ssl_curves_{dataset}.png"))
        if path:
            paths.append(path)
    return paths


def error_chart(summary, path):
    """One panel per dataset x label budget: each method's test error (mean ± sd over seeds, dots), its
    supervised baseline on the same net (open squares) and the paper's number (stars), methods sorted by error."""
    plt = _pyplot()
    summary = summary[summary["method"] != "supervised"]  # the baselines: drawn beside the methods they serve
    panels = list(summary.groupby(["dataset", "labels"], sort=True))
    tallest = max(len(group) for _, group in panels)
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 1.6 + 0.3 * tallest), squeeze=False)
    for axis, ((dataset, labels), group) in zip(axes[0], panels):
        group = group.sort_values("error_mean", ascending=False).reset_index(drop=True)
        rows = range(len(group))
        axis.errorbar(group["error_mean"], rows, xerr=group["error_sd"].fillna(0), fmt="o", color="C0", capsize=3,
                      label="ours (mean ± sd over seeds)")
        for column, marker, style, label in (
                ("baseline_error_pct", "s", dict(facecolors="none", edgecolors="C3"), "baseline: same net, labels only"),
                ("paper_error_pct", "*", dict(color="k", s=90), "paper")):
            values = group[column].astype(float) if column in group else None
            if values is not None and values.notna().any():
                axis.scatter(values, rows, marker=marker, zorder=5, label=label, **style)
        axis.set_yticks(list(rows), [f"{m} ({s})" for m, s in zip(group["method"], group["scale"])], fontsize=8)
        axis.set_title(f"{dataset}, {labels} labels", fontsize=10)
        axis.set_xlabel("test error (%)")
        axis.set_xlim(left=0)
        axis.grid(alpha=0.3, axis="x")
    legend = {}
    for axis in axes[0]:
        legend.update(zip(*reversed(axis.get_legend_handles_labels())))
    figure.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend), fontsize=8)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    return _save(figure, path)


def error_vs_labels(runs, path):
    """One panel per dataset where some recipe ran at two label budgets or more: test error (%, mean ± sd
    over seeds) against the budget, one line per recipe (a method with its nets; the supervised baselines
    dashed), so each method can be read against its own baseline net."""
    plt = _pyplot()
    runs = runs.assign(stem=[name[: -len(f"_{labels}")] if name.endswith(f"_{labels}") else name
                             for name, labels in zip(runs["recipe"], runs["labels"])])
    curves = runs.groupby(["dataset", "stem", "scale"]).filter(lambda g: g["labels"].nunique() > 1)
    datasets = sorted(set(curves["dataset"]))
    figure, axes = plt.subplots(1, len(datasets), figsize=(7.5 * len(datasets), 5.0), squeeze=False)
    colours = plt.get_cmap("tab20")
    for axis, dataset in zip(axes[0], datasets):
        subset = curves[curves["dataset"] == dataset]
        for i, ((stem, scale), group) in enumerate(subset.groupby(["stem", "scale"])):
            stats = (100 * group["test_error"]).groupby(group["labels"]).agg(["mean", "std"])
            baseline = group["method"].iloc[0] == "supervised"
            axis.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="s" if baseline else "o",
                          linestyle="--" if baseline else "-", capsize=3, color=colours(i % 20),
                          label=f"{stem.removesuffix('_' + dataset)} ({scale})")
        budgets = sorted(set(subset["labels"]))
        axis.set_xscale("log")
        axis.set_xticks(budgets, [str(b) for b in budgets])
        axis.minorticks_off()
        axis.set_title(f"{dataset}: error vs labelled examples")
        axis.set_xlabel("labelled examples")
        axis.set_ylabel("test error (%)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return _save(figure, path)


def learning_curves(runs, curves_dir, path):
    """Training losses against steps, one panel per recipe (mean over its seeds)."""
    import numpy as np

    plt = _pyplot()
    panels = []
    for recipe, group in runs.groupby("recipe"):
        curves = []
        for _, row in group.iterrows():
            file = os.path.join(curves_dir, f"{recipe}_{row['scale']}_seed{row['seed']}.json")
            if os.path.exists(file):
                with open(file) as f:
                    curves.append(json.load(f))
        if curves:
            panels.append((recipe, curves))
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), squeeze=False)
    for axis, (recipe, curves) in zip(axes[0], panels):
        steps = curves[0]["steps"]
        for key in curves[0]["logs"]:
            series = [c["logs"][key] for c in curves if len(c["logs"].get(key, [])) == len(steps)]
            if series:
                axis.plot(steps, np.mean(series, axis=0), label=key)
        axis.set_title(f"{recipe} ({len(curves)} seeds)", fontsize=9)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return _save(figure, path)


def bar_chart(frame, x, y, hue, path, ylabel, log=False):
    """Grouped bars of `y` per `x`, one colour per `hue` (speed reports)."""
    import numpy as np

    plt = _pyplot()
    xs = list(dict.fromkeys(frame[x]))
    hues = list(dict.fromkeys(frame[hue]))
    width = 0.8 / max(1, len(hues))
    figure, axis = plt.subplots(figsize=(min(16, max(5, 0.45 * len(xs) * len(hues) + 2)), 4.2))
    for i, h in enumerate(hues):
        values = [frame[(frame[x] == v) & (frame[hue] == h)][y].mean() for v in xs]
        axis.bar(np.arange(len(xs)) + i * width, values, width, label=str(h))
    axis.set_xticks(np.arange(len(xs)) + width * (len(hues) - 1) / 2, xs, rotation=60, ha="right", fontsize=8)
    axis.set_ylabel(ylabel)
    if log:
        axis.set_yscale("log")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)
    return path
