"""`python -m recipes list` / `python -m recipes run NAME --scale cpu --seed 0`.

Bad input (an unknown recipe or scale, a missing dataset) is one line
`error: ...` on stderr and exit status 2; `--debug` shows the traceback.
"""

import argparse
import json
import sys

import recipes
from recipes.runner import STRATEGIES, run
from zoo.cli import DEBUG, run_command


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recipes", parents=[DEBUG])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", parents=[DEBUG])
    runner = commands.add_parser("run", parents=[DEBUG])
    runner.add_argument("name")
    runner.add_argument("--scale", default="cpu")
    runner.add_argument("--seed", type=int, default=0)
    runner.add_argument("--data-dir", default=None)
    runner.add_argument("--out", default=None, help="write the result row as JSON here")
    runner.add_argument("--verbose", type=int, default=1)
    runner.add_argument("--steps", type=int, default=None, help="override the scale's training steps")
    runner.add_argument("--curve-out", default=None, help="write the learning curve as JSON here")
    runner.add_argument("--samples-out", default=None, help="write a PNG grid of samples here")
    runner.add_argument("--backup-dir", default=None,
                        help="a long run: keep its state here after every epoch (rerun to resume) and its "
                             "test-error curve in curve.jsonl")
    runner.add_argument("--eval-every", type=int, default=1, help="epochs between test errors of --backup-dir")
    runner.add_argument("--strategy", choices=STRATEGIES, default=None,
                        help="train distributed: mirrored (this machine's GPUs) or multiworker (TF_CONFIG's "
                             "cluster); the scale's batch size is the global batch")
    args = parser.parse_args(argv)
    return run_command({"list": _list, "run": _run}[args.command], args)


def _list(args):
    for name, recipe in recipes.all_recipes().items():
        paper = recipe.paper or {}
        print(f"{name:<32} {recipe.method:<14} {recipe.dataset:<14} labels={recipe.labels} "
              f"scales={','.join(recipe.scales)} paper={paper.get('value')}")
    return 0


def _run(args):
    row = run(args.name, args.scale, args.seed, args.data_dir, args.verbose, args.out, steps=args.steps,
              curve_out=args.curve_out, samples_out=args.samples_out, backup_dir=args.backup_dir,
              eval_every=args.eval_every, strategy=args.strategy)
    print(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
