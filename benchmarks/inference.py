"""SSL error of the inference-by-adversaries family over seeds, and the AAE's 2-D codes.

    python benchmarks/inference.py ssl --recipes aae_ssl_digits_50 supervised_aae_digits_50 --seeds 0 1 2
    python benchmarks/inference.py codes --steps 1000

`ssl` runs each recipe (cpu scale unless --scale) per seed through `recipes.runner.run`, appends one
row per run to benchmarks/results/inference_ssl.csv and rewrites inference_ssl.md (mean +- sd per
recipe, the paper's number beside). `codes` trains `aae` with a 2-D code on digits and plots the test
codes coloured by class (benchmarks/results/aae_codes.png).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import report  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def run_ssl(names, seeds, scale, data_dir, steps=None):
    import pandas as pd

    import recipes
    from recipes.runner import run

    csv = os.path.join(RESULTS, "inference_ssl.csv")
    for name in names:
        recipe = recipes.get(name)
        if steps:
            recipe = recipes.Recipe(**{**recipe.__dict__, "scales": {
                scale: {**recipe.scales[scale], "steps": steps}}})
        for seed in seeds:
            row = run(recipe, scale=scale, seed=seed, data_dir=data_dir)
            print({k: row[k] for k in ("recipe", "seed", "steps", "train_seconds") if k in row},
                  {k: v for k, v in row.items() if k.startswith("test_")}, flush=True)
            frame = pd.DataFrame([row])
            frame.to_csv(csv, mode="a", header=not os.path.exists(csv), index=False)
    table = pd.read_csv(csv)
    metric = "test_error" if "test_error" in table else table.filter(like="test_").columns[0]
    summary = (table.groupby(["recipe", "dataset", "labels", "steps"])
               .agg(seeds=("seed", "count"), error_mean=(metric, "mean"), error_sd=(metric, "std"),
                    train_seconds=("train_seconds", "mean"), paper=("paper_value", "first"))
               .reset_index())
    with open(os.path.join(RESULTS, "inference_ssl.md"), "w") as f:
        f.write("# SSL test error, inference-by-adversaries family\n\n")
        f.write(f"Machine: {table['machine'].iloc[-1]}; {table['versions'].iloc[-1]}. "
                "Shared 2-core CPU: wall times are inflated by other jobs.\n\n")
        f.write(report.markdown_table(summary.round(4)))
        f.write("\n")
    print(summary.to_string())


def plot_codes(steps, prior, seed, learning_rate=2e-4):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    keras.utils.set_random_seed(seed)
    data = zoo.data.load("digits", seed=seed)
    model = zoo.load("aae", input_shape=data.input_shape, latent_dim=2, prior=prior, seed=seed,
                     learning_rate=learning_rate)
    model.fit(data.train(64), epochs=max(1, steps // 100), steps_per_epoch=min(100, steps), verbose=0)
    codes = model.encode(data.x_test)
    from zoo import priors
    draws = keras.ops.convert_to_numpy(priors.sample(prior, 2000, 2, keras.random.SeedGenerator(0)))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    axes[0].scatter(draws[:, 0], draws[:, 1], s=2, c="grey")
    axes[0].set_title(f"prior: {prior}")
    scatter = axes[1].scatter(codes[:, 0], codes[:, 1], s=6, c=data.y_test, cmap="tab10")
    axes[1].set_title(f"aae codes of the digits test set ({steps} steps, lr {learning_rate:g})")
    fig.colorbar(scatter, ax=axes[1], ticks=range(10))
    fig.tight_layout()
    path = os.path.join(RESULTS, f"aae_codes_{prior}_lr{learning_rate:g}.png")
    fig.savefig(path, dpi=100)
    print(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    ssl = commands.add_parser("ssl")
    ssl.add_argument("--recipes", nargs="+", required=True)
    ssl.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ssl.add_argument("--scale", default="cpu")
    ssl.add_argument("--steps", type=int, default=None, help="override the scale's steps")
    ssl.add_argument("--data-dir", default="/work/shared/datasets")
    codes = commands.add_parser("codes")
    codes.add_argument("--steps", type=int, default=1000)
    codes.add_argument("--prior", default="mixture")
    codes.add_argument("--seed", type=int, default=0)
    codes.add_argument("--learning-rate", type=float, default=2e-4)
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if args.command == "ssl":
        run_ssl(args.recipes, args.seeds, args.scale, args.data_dir, args.steps)
    else:
        plot_codes(args.steps, args.prior, args.seed, args.learning_rate)
