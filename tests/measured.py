"""Bars of the "it learns" tests, measured over several seeds.

A learns test trains from `learns_seed` (a fixture: 0 in the default run, which sets the model's
seed and the label split), passes its scores to `report(request, ...)`, then asserts its bar. Each
bar is the worst of 5 seeds (0-4) minus a slack stated at the test, and the test states those
measurements. To measure them again (after changing a method, a budget or TensorFlow):

    python -m tests.measured                 # seeds 0-4, the learns tests; prints the table
    python -m tests.measured --seeds 0,1 -k aae --log /tmp/aae.jsonl

runs `pytest -m learns` once per seed with `ZOO_LEARNS_SEED` set, each test appending its scores
to the JSON-lines log (`ZOO_LEARNS_LOG`), and prints min / mean / max per test and score, and
the values per seed. Tests may fail at other seeds while measuring (a changed method, a new budget):
the log is what counts there, and the new bar is its worst seed less the slack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def learns_seed() -> int:
    return int(os.environ.get("ZOO_LEARNS_SEED", "0"))


def report(request, **scores):
    """Record the scores of the learns test `request.node` at this seed (when a log is asked for)."""
    path = os.environ.get("ZOO_LEARNS_LOG")
    if not path:
        return
    row = {"test": request.node.nodeid, "seed": learns_seed(), **{k: float(v) for k, v in scores.items()}}
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def table(path):
    import pandas as pd

    rows = pd.read_json(path, lines=True)
    long = rows.melt(id_vars=["test", "seed"], var_name="score").dropna()
    per_seed = long.pivot_table(index=["test", "score"], columns="seed", values="value", aggfunc="last")
    summary = long.groupby(["test", "score"])["value"].agg(["min", "mean", "max"])
    return summary.join(per_seed).round(4)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.measured", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--log", default="learns_bars.jsonl", help="JSON-lines log (appended to)")
    parser.add_argument("-k", default=None, help="pytest -k expression")
    parser.add_argument("-n", default="2", help="pytest-xdist workers")
    args = parser.parse_args(argv)
    for seed in args.seeds.split(","):
        command = [sys.executable, "-m", "pytest", "-m", "learns", "-q", "-n", args.n, "-p", "no:cacheprovider",
                   "--durations=0"]
        command += ["-k", args.k] if args.k else []
        env = {**os.environ, "ZOO_LEARNS_SEED": seed, "ZOO_LEARNS_LOG": os.path.abspath(args.log)}
        print(f"seed {seed}: {' '.join(command)}", flush=True)
        subprocess.run(command, env=env, check=False)
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 90):
        print(table(args.log))


if __name__ == "__main__":
    main()
