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


def ssl_plots(runs, out):
    """Error vs label budget (error bars over seeds) and learning curves; return the PNG paths."""
    paths = [error_vs_labels(runs, os.path.join(out, "ssl_error_vs_labels.png"))]
    for dataset in sorted(set(runs["dataset"])):
        path = learning_curves(runs[runs["dataset"] == dataset], os.path.join(out, "curves"),
                               os.path.join(out, f"ssl_curves_{dataset}.png"))
        if path:
            paths.append(path)
    return paths


def error_vs_labels(runs, path):
    """One panel per dataset: test error (%) against label budget, one line per method x scale."""
    plt = _pyplot()
    datasets = sorted(set(runs["dataset"]))
    figure, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.6), squeeze=False)
    for axis, dataset in zip(axes[0], datasets):
        subset = runs[runs["dataset"] == dataset]
        for (method, scale), group in subset.groupby(["method", "scale"]):
            stats = (100 * group["test_error"]).groupby(group["labels"]).agg(["mean", "std", "count"])
            axis.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=4,
                          label=f"{method} ({scale})")
        paper = subset.dropna(subset=["paper_value"]) if "paper_value" in subset else subset.iloc[:0]
        for (method, labels), group in paper.groupby(["method", "labels"]):
            axis.scatter([labels], [100 * float(group["paper_value"].iloc[0])], marker="*", s=120, color="k",
                         zorder=5, label=f"{method} paper")
        axis.set_xscale("log")
        axis.set_title(dataset)
        axis.set_xlabel("labelled examples")
        axis.set_ylabel("test error (%)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
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
    figure, axis = plt.subplots(figsize=(max(5, 1.6 * len(xs)), 3.6))
    for i, h in enumerate(hues):
        values = [frame[(frame[x] == v) & (frame[hue] == h)][y].mean() for v in xs]
        axis.bar(np.arange(len(xs)) + i * width, values, width, label=str(h))
    axis.set_xticks(np.arange(len(xs)) + width * (len(hues) - 1) / 2, xs)
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
