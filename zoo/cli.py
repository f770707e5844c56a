"""Command line: `python -m zoo list | train | sample`.

    python -m zoo list
    python -m zoo train sgan                        # digits, 50 labels
    python -m zoo train vae --dataset fashion_mnist --epochs 5 --set latent_dim=32
    python -m zoo sample runs/sgan-digits/model.keras --n 64 --out grid.png

Bad input (an unknown name, an impossible label budget, a missing file) is one
line `error: ...` on stderr and exit status 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import os
import sys
import time

from zoo.base import CapabilityError

#: The errors a person can fix, reported as one line rather than a traceback: bad
#: input, as the zoo raises it (ValueError: an unknown model or recipe, an
#: impossible label budget, a bad hyper-parameter; CapabilityError: a method
#: asked for what it cannot do), a missing or unreadable file or a failed download
#: (OSError, FileNotFoundError: a dataset or model file that is not there), and a
#: broken install (ImportError). Anything else (TypeError, KeyError, a plain
#: AttributeError, ...) is a bug in the zoo and keeps its traceback.
USER_ERRORS = (ValueError, OSError, ImportError, CapabilityError)

#: Parent parser of every command line and sub-command, so `--debug` may come
#: before or after the sub-command (SUPPRESS: a sub-command's default would
#: otherwise overwrite a `--debug` given before it).
DEBUG = argparse.ArgumentParser(add_help=False)
DEBUG.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="on an error, show the full traceback instead of one line")


def run_command(command, args):
    """`command(args)`'s exit status, with the errors a person can fix as one line.

    A `USER_ERRORS` exception prints `error: <message>` on stderr and gives 2,
    the status argparse gives bad arguments; Ctrl-C gives 130 (128 + SIGINT)
    without a traceback. Any other exception propagates with its traceback. With
    `--debug` nothing is caught. Shared by `python -m zoo` and `python -m recipes`.
    """
    if getattr(args, "debug", False):
        return command(args)
    try:
        return command(args)
    except KeyboardInterrupt:
        return 130
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__.splitlines()[0], parents=[DEBUG])
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list the registered methods", parents=[DEBUG])

    train = commands.add_parser("train", help="train a method and write model, samples and metrics",
                                parents=[DEBUG])
    train.add_argument("model", help="registered name, e.g. sgan (see `list`)")
    train.add_argument("--dataset", default="digits")
    train.add_argument("--labels", type=_labels, default=50,
                       help="labelled examples, balanced over classes; 'all' labels everything (default 50)")
    train.add_argument("--data-dir", default=None, help="folder of IDX files or prepared tfds data")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--steps-per-epoch", type=int, default=100)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="constructor argument of the method, e.g. --set latent_dim=32 (repeatable)")
    train.add_argument("--jit", action="store_true", help="compile the steps with XLA")
    train.add_argument("--out", default=None, help="output folder (default runs/MODEL-DATASET)")
    train.add_argument("--samples-every", type=int, default=0, help="also write a sample grid every N epochs")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))

    sample = commands.add_parser("sample", help="sample a grid from a saved .keras model", parents=[DEBUG])
    sample.add_argument("path")
    sample.add_argument("--n", type=int, default=64)
    sample.add_argument("--labels", type=int, nargs="*", default=None, help="class labels, cycled to n")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", default="samples.png")

    args = parser.parse_args(argv)
    return run_command({"list": _list, "train": _train, "sample": _sample}[args.command], args)


def _labels(text):
    if text in ("all", "none", "None"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of labels or 'all'; got {text!r}") from None


def _list(args):
    import zoo

    models = zoo.list_models()
    width = max(map(len, models))
    for name, summary in models.items():
        print(f"{name:<{width}}  {summary}")
    return 0


def _parse_sets(pairs):
    hparams = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE; got {pair!r}")
        try:
            hparams[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            hparams[key] = value
    return hparams


def _train(args):
    import keras

    import zoo
    from zoo.callbacks import SampleGrid
    from zoo.images import save_grid

    cls = zoo.get(args.model)
    keras.utils.set_random_seed(args.seed)
    data = zoo.data.load(args.dataset, labels=args.labels, seed=args.seed, data_dir=args.data_dir)
    hparams = {"input_shape": data.input_shape, "seed": args.seed, **_parse_sets(args.set)}
    if "num_classes" in inspect.signature(cls.__init__).parameters:
        hparams.setdefault("num_classes", data.num_classes)
    model = zoo.load(args.model, **hparams)
    if args.jit:
        model.compile(optimizers=model.role_optimizers, jit_compile=True)
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    os.makedirs(out, exist_ok=True)
    print(f"{args.model} on {data} -> {out}", flush=True)

    callbacks = [SampleGrid(out, every=args.samples_every)] if args.samples_every and model.can("sample") else []
    start = time.perf_counter()
    # fit(SSLData) builds the stream the method asks for (critic minibatches, a second unlabelled batch, its
    # data-dependent initialisation), as in Python.
    history = model.fit(data, batch_size=args.batch_size, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                        callbacks=callbacks, verbose=args.verbose)
    seconds = time.perf_counter() - start
    test = model.evaluate(data.test(), return_dict=True, verbose=0) if model.eval_log_names or model.can(
        "classify") else {}
    for key, value in test.items():
        print(f"test {key}: {value:.4f}")

    model.save(os.path.join(out, "model.keras"))
    if model.can("sample"):
        labels = range(data.num_classes) if model.conditional else None
        save_grid(model.sample(64, labels=labels, seed=args.seed), os.path.join(out, "samples.png"))
    report = {
        "model": args.model, "dataset": args.dataset, "labels": data.num_labels, "seed": args.seed,
        "epochs": args.epochs, "steps": args.epochs * args.steps_per_epoch, "batch_size": args.batch_size,
        "train_seconds": round(seconds, 2), "hparams": {k: v for k, v in model.get_config().items()
                                                      if k not in ("name", "trainable")},
        "train": {k: float(v[-1]) for k, v in history.history.items()},
        "test": {k: float(v) for k, v in test.items()},
    }
    _write_json(os.path.join(out, "metrics.json"), report)
    print(f"wrote {out}/model.keras, metrics.json" + (", samples.png" if model.can("sample") else ""))
    return 0


def _sample(args):
    import keras

    import zoo  # noqa: F401  (registers the classes load_model needs)
    from zoo.images import save_grid

    if not os.path.isfile(args.path):
        raise FileNotFoundError(f"no such model file: {args.path}")
    model = keras.models.load_model(args.path)
    images = model.sample(args.n, labels=args.labels, seed=args.seed)
    save_grid(images, args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def _write_json(path, report):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
