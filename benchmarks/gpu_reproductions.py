"""The reproductions on one GPU: the `paper` scale of the MNIST-100 GAN recipes side by side, within a deadline.

A device call lasts at most 10 minutes. This starts one `python -m recipes run RECIPE --scale SCALE
--backup-dir OUT/RECIPE` process per recipe, all at once on the one GPU (each growing its GPU memory
as it needs, `TF_FORCE_GPU_ALLOW_GROWTH`, so they can share it), stops them at the deadline (each has
kept its state and curve after every epoch: a later call with the same OUT resumes them), and writes
the report of what they reached with `benchmarks.reproductions`:

    python -m benchmarks.gpu_reproductions --minutes 8 --out "$OUT"
    python -m benchmarks.gpu_reproductions --steps 300 --minutes 3 --out /tmp/check   # time it first
    python -m benchmarks.gpu_reproductions --recipes vae --minutes 8 --out "$OUT"     # M2, ADGM, SDGM, M1+M2, AAE

The recipes' data comes from `--data-dir` / `$ZOO_DATA_DIR` (MNIST's IDX files: no network on the
device machine). `--steps N` caps every run at N steps, to time a few hundred steps on CPU and on
the GPU before a long call.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

RECIPES = ("improved_gan_mnist_100", "bad_gan_mnist_100", "triple_gan_mnist_100", "catgan_mnist_100")
SCALES = {"bad_gan_mnist_100": "epochs_100"}  # the FM-only schedule the CPU report runs; the others: paper
# Named sets for --recipes: the GAN reproductions (the default), and the variational / AAE ones, whose paper
# budgets (ADGM / SDGM: ~0.9 s a step on one CPU thread, 1000 epochs) only a GPU reaches.
RECIPE_SETS = {
    "gan": RECIPES,
    "vae": ("m2_mnist_100:paper_equal_weighting", "adgm_mnist_100", "sdgm_mnist_100", "m1_m2_mnist_100",
            "aae_ssl_mnist_100"),
}


def plan(recipes):
    """[(recipe, scale)] from --recipes: set names (`gan`, `vae`) and recipes, each `name` or `name:scale`."""
    import recipes as registry

    chosen = []
    for item in (r.strip() for r in recipes.split(",") if r.strip()):
        for entry in RECIPE_SETS.get(item, (item,)):
            name, _, scale = entry.partition(":")
            scale = scale or SCALES.get(name, "paper")
            recipe = registry.get(name)
            if scale not in recipe.scales:
                raise ValueError(f"recipe {name} has no scale {scale!r}; its scales: {', '.join(recipe.scales)}")
            chosen.append((name, scale))
    return list(dict.fromkeys(chosen))


def launch(recipe, scale, seed, out, data_dir, steps):
    folder = os.path.join(out, recipe if scale in ("paper", SCALES.get(recipe)) else f"{recipe}_{scale}")
    os.makedirs(folder, exist_ok=True)
    command = [sys.executable, "-m", "recipes", "run", recipe, "--scale", scale, "--seed", str(seed),
               "--backup-dir", folder, "--out", os.path.join(folder, "row.json")]
    if steps:
        command += ["--steps", str(steps)]
    env = {**os.environ, "TF_FORCE_GPU_ALLOW_GROWTH": "true", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if data_dir:
        env["ZOO_DATA_DIR"] = data_dir
    log = open(os.path.join(folder, "log.txt"), "a")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), folder


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_reproductions", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="run folders (resumed if there) and the report")
    parser.add_argument("--minutes", type=float, default=8.0, help="deadline for the runs, before the report")
    parser.add_argument("--recipes", default="gan",
                        help="sets (gan, vae) and recipes, comma-separated; a recipe as name or name:scale")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="cap each run (timing checks)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        parser.error("--minutes must be > 0")
    try:
        chosen = plan(args.recipes)
    except ValueError as error:
        parser.error(str(error))
    started = time.monotonic()
    runs = [launch(r, scale, args.seed, args.out, args.data_dir, args.steps) for r, scale in chosen]
    deadline = started + 60.0 * args.minutes
    while time.monotonic() < deadline and any(p.poll() is None for p, _ in runs):
        time.sleep(5)
    for process, folder in runs:
        if process.poll() is None:  # the deadline: stop it; its last finished epoch is in its backup
            os.killpg(process.pid, signal.SIGTERM)
    for process, folder in runs:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        print(f"{os.path.basename(folder)}: exit {process.returncode} after {time.monotonic() - started:.0f} s")
    from benchmarks import reproductions

    folders = [folder for _, folder in runs if os.path.exists(os.path.join(folder, "run.json"))]
    reproductions.main(folders + ["--out", os.path.join(args.out, "results", "gpu")])


if __name__ == "__main__":
    main()
