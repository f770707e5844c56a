"""Adversarial objectives beyond generation, measured: domain adaptation (`dann`) between real datasets.

DANN (Ganin et al. 2016) on two directions built offline from real data: MNIST -> scikit-learn's digits
resized to 28x28 (as MNIST's own digits were made: scaled into the central 20x20 box, `zoo.data.load_domains`'
default), and the reverse. For each direction and seed, three runs of
the same net (`dann_mnist`), optimizer and schedule:

* `source_only`: trained on the labelled source alone (`adaptation=False`);
* `dann`: the source's labels and the target's unlabelled images, with the domain classifier behind the
  gradient reversal layer;
* `target_supervised`: trained on the target's own training labels (the ceiling).

Each is scored on the target's test set (digits: its 500 held-out images; MNIST: its 10,000), with the
last step's weights (no selection on test data). `closed` = (dann - source_only) / (target_supervised -
source_only), the part of the gap DANN closes.

Fairness (`--part fairness`): `fair_adversary` on Fashion-MNIST with half the images inverted, the inversion
tied to the class in the training split only (`zoo.data.load_spurious`: P(inverted) 0.9 for classes 0-4 and
0.1 for 5-9 in training, 1/2 in test), the zoo's `mlp` net, for each criterion (`parity`: the adversary
reads the representation; `odds`: it reads [p(y|x); y]) over a sweep of the adversary's weight alpha (0:
the classifier free, the adversary a probe only). Scored on the test set: accuracy, the demographic-parity
and equalised-odds gaps (`zoo.metrics.fairness`; the largest spread over classes, and over true labels),
each group's accuracy.

Imitation (`--part imitation`): GAIL, VAIL and behavioural cloning (`zoo.models.adversarial.imitation`) on
CartPole-v1 from 1, 4, 10 and 25 trajectories of the physics-based expert (the sign of an LQR force), as the
GAIL paper's Fig. 1 plots them (Ho & Ermon 2016). Each seed draws 25 expert episodes once and gives each
method the first k. GAIL and VAIL train `--iterations` PPO iterations of 8 x 256 environment steps (64x64
tanh policy and value nets, 64x64 ReLU discriminator); BC trains `--bc-steps` Adam steps on minibatches of 64
expert pairs. VAIL uses I_c = 0.5 (the paper's) and beta starting at 0.1 (the authors' VGAN code's), with the
dual step alpha_beta of `--vail-beta-step`: the paper's 1e-5 moves beta by ~0.002 over the ~320 D steps of a
40-iteration run, so the run uses 1e-3 (set before any run, not tuned). Each policy is scored by the mean return of 10 episodes of its most
probable action (resets seeded 10000-10009), beside the expert's and a uniformly random policy's returns on
the same resets. The environment's reward is never shown to GAIL or VAIL; their reward -log D is positive,
which on CartPole is also a bonus for surviving (the module docstring says more).

Each run appends a row to `adversarial_runs.jsonl` in `--out` (resumable); the report is rewritten from
all rows.

    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.adversarial --steps 3000 --seeds 0,1,2 --out DIR
    ZOO_DATA_DIR=../shared/datasets python -m benchmarks.adversarial --part fairness --steps 2000 --out DIR
    python -m benchmarks.adversarial --part imitation --iterations 40 --seeds 0,1,2 --out DIR
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DIRECTIONS = ("mnist:digits", "digits:mnist")
SETTINGS = ("source_only", "dann", "target_supervised")


def run_dann(source, target, setting, steps, batch_size, seed, learning_rate=0.01, data_dir=None):
    import keras

    import zoo

    keras.utils.set_random_seed(seed)
    task = zoo.data.load_domains(source, target, side=28, seed=seed, data_dir=data_dir)
    data = zoo.data.load_domains(target, target, side=28, seed=seed, data_dir=data_dir) \
        if setting == "target_supervised" else task
    model = zoo.load("dann", input_shape=task.input_shape, num_classes=task.num_classes, seed=seed,
                     total_steps=steps, adaptation=setting == "dann", learning_rate=learning_rate)
    started = time.perf_counter()
    history = model.fit(data.train(batch_size), epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - started
    target_accuracy = model.evaluate(task.test(), return_dict=True, verbose=0)["accuracy"]
    source_accuracy = model.evaluate(task.source_test(), return_dict=True, verbose=0)["accuracy"]
    row = {"benchmark": "dann", "direction": f"{source}->{target}", "setting": setting, "seed": seed,
           "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate, "target_accuracy": float(target_accuracy),
           "source_accuracy": float(source_accuracy),
           "final_domain_accuracy": float(history.history["domain_accuracy"][-1]),
           "train_seconds": round(seconds, 1)}
    from recipes.runner import provenance

    row.update(provenance())
    return row


WEIGHTS = (0.0, 0.3, 1.0, 3.0)
CRITERIA = ("parity", "odds")


def run_fairness(criterion, weight, steps, batch_size, seed, rate=0.9, dataset="fashion_mnist", data_dir=None):
    import keras

    import zoo

    keras.utils.set_random_seed(seed)
    data = zoo.data.load_spurious(dataset, rate=rate, seed=seed, data_dir=data_dir)
    model = zoo.load("fair_adversary", input_shape=data.input_shape, num_classes=data.num_classes, seed=seed,
                     criterion=criterion, adversary_weight=weight, arch="mlp")
    started = time.perf_counter()
    history = model.fit(data.train(batch_size), epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - started
    predictions = model.classify(data.x_test).argmax(-1)
    row = {"benchmark": "fairness", "dataset": dataset, "rate": rate, "criterion": criterion,
           "adversary_weight": weight, "seed": seed, "steps": steps, "batch_size": batch_size,
           **zoo.metrics.fairness_report(data.y_test, predictions, data.a_test, data.num_classes),
           "final_adversary_accuracy": float(history.history["adversary_accuracy"][-1]),
           "train_seconds": round(seconds, 1)}
    from recipes.runner import provenance

    row.update(provenance())
    return row


TRAJECTORIES = (1, 4, 10, 25)
IMITATORS = ("gail", "vail", "bc")
#: The resets every policy is scored on (none of them an expert trajectory's: those use seed * 1000 + i).
EVALUATION_SEED, EVALUATION_EPISODES = 10_000, 10


def run_imitation(method, trajectories, seed, iterations, bc_steps, vail_beta_step, env_id="CartPole-v1"):
    """One imitator (or the "expert" / "random" reference) at a number of expert trajectories and a seed."""
    import keras

    import zoo
    from zoo.models.adversarial import imitation

    keras.utils.set_random_seed(seed)
    expert = imitation.expert_trajectories(env_id, episodes=max(TRAJECTORIES), seed=seed * 1000).first(trajectories)
    started, history, settings = time.perf_counter(), {}, {}
    if method == "expert":
        returns = imitation.expert_trajectories(env_id, EVALUATION_EPISODES, EVALUATION_SEED).returns
    elif method == "random":
        returns = imitation.random_policy_returns(env_id, EVALUATION_EPISODES, EVALUATION_SEED)
    else:
        if method == "bc":
            model = zoo.load("bc", env_id=env_id, seed=seed)
            history, settings = model.train(expert, steps=bc_steps), {"bc_steps": bc_steps}
        else:
            extra = {"beta_step": vail_beta_step} if method == "vail" else {}
            model = zoo.load(method, env_id=env_id, seed=seed, **extra)
            history, settings = model.train(expert, iterations=iterations), {"iterations": iterations, **extra}
        returns = model.policy_returns(EVALUATION_EPISODES, EVALUATION_SEED)
    seconds = time.perf_counter() - started
    key = _imitation_settings(method, iterations, bc_steps, vail_beta_step)
    row = {"benchmark": "imitation", "env": env_id, "method": method, "trajectories": trajectories, "seed": seed,
           **dict(zip(("iterations", "bc_steps", "vail_beta_step"), key)),
           "return_mean": float(returns.mean()), "return_sd": float(returns.std()),
           "expert_data_return": float(expert.returns.mean()), "train_seconds": round(seconds, 1),
           **{f"final_{k}": float(v[-1]) for k, v in history.items() if k in (
               "d_accuracy", "beta", "kl", "episode_return", "environment_steps", "action_accuracy")}}
    from recipes.runner import provenance

    row.update(provenance())
    return row


def _imitation_settings(method, iterations, bc_steps, vail_beta_step):
    """(iterations, bc_steps, vail_beta_step) as far as `method` reads them (None where it does not)."""
    return (iterations if method in ("gail", "vail") else None, bc_steps if method == "bc" else None,
            vail_beta_step if method == "vail" else None)


def imitation_table(frame):
    """Per method: the policy's return (mean +- sd over seeds) at each number of expert trajectories."""
    import pandas as pd

    from benchmarks import report

    rows = []
    for (env_id, iterations, bc_steps, method), group in frame.groupby(["env", "iterations", "bc_steps", "method"],
                                                                        sort=False, dropna=False):
        row = {"env": env_id, "method": method, "iterations": "" if pd.isna(iterations) else int(iterations),
               "bc_steps": "" if pd.isna(bc_steps) else int(bc_steps), "seeds": group.seed.nunique()}
        for k in TRAJECTORIES:
            values = group[group.trajectories == k].return_mean
            row[f"{k} traj."] = report.mean_sd(values.mean(), values.std(), ".1f", ".1f") if len(values) else ""
        rows.append(row)
    order = {m: i for i, m in enumerate(("expert", "random") + IMITATORS)}
    return pd.DataFrame(rows).sort_values("method", key=lambda c: c.map(order), kind="stable")


def fairness_table(frame):
    """Per criterion and weight: accuracy and the gaps (mean +- sd over seeds)."""
    import pandas as pd

    from benchmarks import report

    columns = ["accuracy", "demographic_parity_gap", "equalized_odds_gap", "accuracy_group_0", "accuracy_group_1"]
    rows = []
    for (dataset, steps, criterion, weight), group in frame.groupby(["dataset", "steps", "criterion",
                                                                      "adversary_weight"]):
        row = {"dataset": dataset, "steps": steps, "criterion": criterion, "alpha": weight,
               "seeds": group.seed.nunique()}
        for column in columns:
            scale = 100 if column.startswith("accuracy") else 1
            row[column] = report.mean_sd(group[column].mean(), group[column].std(), scale=scale)
        rows.append(row)
    return pd.DataFrame(rows)


def dann_table(frame):
    """Per direction: target accuracy (mean +- sd over seeds) of each setting and the gap DANN closes."""
    import pandas as pd

    from benchmarks import report

    rows = []
    for (direction, steps, rate), group in frame.groupby(["direction", "steps", "learning_rate"]):
        row = {"direction": direction, "steps": steps, "mu_0": rate, "seeds": group.seed.nunique()}
        means = {}
        for setting in SETTINGS:
            values = group[group.setting == setting].target_accuracy
            means[setting] = values.mean() if len(values) else float("nan")
            row[setting] = report.mean_sd(values.mean(), values.std(), ".1f", ".1f", 100) if len(values) else ""
        gap = means["target_supervised"] - means["source_only"]
        row["closed"] = f"{(means['dann'] - means['source_only']) / gap:.2f}" if gap and not pd.isna(gap) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _paragraphs():
    """The module docstring's paragraphs, each on one line (bullets kept one per line)."""
    return [p.replace("\n  ", " ").replace("\n", "\n" if p.startswith("*") else " ")
            for p in __doc__.split("\n\n")]


def _commands(out, command):
    """The commands of the report already in `out` (each part's sweep wrote rows), then `command` if new: the
    report is rewritten from every part's rows, so its header keeps every command that made them."""
    path = os.path.join(out, "adversarial.md")
    previous = []
    if os.path.exists(path):
        text = open(path).read()
        if "```bash\n" in text:
            previous = text.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    return "\n".join(dict.fromkeys(previous + [command]))


def write_report(rows, out, command):
    import pandas as pd

    from benchmarks import report

    frame = pd.DataFrame(rows)
    frame.to_csv(os.path.join(out, "adversarial_runs.csv"), index=False)
    info = report.provenance()
    info["git commit of the runs"] = report.run_commits(frame)
    text = report.header("Adversarial objectives beyond generation", _commands(out, command), info)
    dann = frame[frame.benchmark == "dann"]
    if len(dann):
        text += ("\n## Domain adaptation: DANN (Ganin et al. 2016)\n\n" + "\n\n".join(_paragraphs()[1:4])
                 + "\n\nTarget test accuracy (%), mean ± sd over seeds:\n\n")
        text += report.markdown_table(dann_table(dann)) + "\n"
    fair = frame[frame.benchmark == "fairness"]
    if len(fair):
        text += ("\n## Fairness: a classifier against an adversary (Edwards & Storkey 2016; Zhang et al. 2018)\n\n"
                 + next(p for p in _paragraphs() if p.startswith("Fairness"))
                 + "\n\nAccuracy (%, per group too) and gaps (0 = fair, 1 = most unfair), mean ± sd over seeds:\n\n")
        text += report.markdown_table(fairness_table(fair)) + "\n"
    imitation = frame[frame.benchmark == "imitation"]
    if len(imitation):
        seconds = imitation.groupby("method").train_seconds.sum()
        text += ("\n## Imitation: GAIL, VAIL and behavioural cloning (Ho & Ermon 2016; Peng et al. 2019)\n\n"
                 + next(p for p in _paragraphs() if p.startswith("Imitation"))
                 + "\n\nReturn of the policy (CartPole-v1's cap: 500), mean ± sd over seeds, against the number of "
                 "expert trajectories (expert and random: the same resets at every k):\n\n")
        text += report.markdown_table(imitation_table(imitation)) + "\n"
        text += ("\nWall-clock of the runs (one core, s, all seeds and k): "
                 + ", ".join(f"{m} {seconds[m]:.0f}" for m in seconds.index) + "\n")
    report.write_text(text, os.path.join(out, "adversarial.md"))


def _dann_runs(args, seeds, settings, runs_path):
    """The DANN runs not yet in `runs_path`, appended to it one by one."""
    from benchmarks import report

    done = {(r["direction"], r["setting"], r["steps"], r["seed"], r["learning_rate"])
            for r in report.read_jsonl(runs_path) if r["benchmark"] == "dann"}
    for seed in seeds:
        for direction in (d.strip() for d in args.directions.split(",") if d.strip()):
            source, target = direction.split(":")
            for rate in (float(r) for r in args.learning_rates.split(",")):
                for setting in settings:
                    if (f"{source}->{target}", setting, args.steps, seed, rate) in done:
                        continue
                    print(f"dann {source}->{target} {setting}, mu_0 {rate}, seed {seed} ...", file=sys.stderr,
                          flush=True)
                    report.append_jsonl(run_dann(source, target, setting, args.steps, args.batch_size, seed, rate,
                                                 args.data_dir), runs_path)


def _fairness_runs(args, seeds, runs_path):
    """The fairness runs not yet in `runs_path`, appended to it one by one."""
    from benchmarks import report

    done = {(r["criterion"], r["adversary_weight"], r["steps"], r["seed"]) for r in report.read_jsonl(runs_path)
            if r["benchmark"] == "fairness"}
    for seed in seeds:
        for criterion in (c.strip() for c in args.criteria.split(",") if c.strip()):
            for weight in (float(w) for w in args.weights.split(",")):
                if (criterion, weight, args.steps, seed) in done:
                    continue
                print(f"fairness {criterion} alpha {weight}, seed {seed} ...", file=sys.stderr, flush=True)
                report.append_jsonl(run_fairness(criterion, weight, args.steps, args.batch_size, seed,
                                                 data_dir=args.data_dir), runs_path)


def _imitation_runs(args, seeds, runs_path):
    """The imitation runs not yet in `runs_path`, appended to it one by one (the cheap references first)."""
    from benchmarks import report

    done = {(r["method"], r["trajectories"], r["seed"], r["iterations"], r["bc_steps"], r["vail_beta_step"])
            for r in report.read_jsonl(runs_path) if r["benchmark"] == "imitation"}
    def settings(method):
        return _imitation_settings(method, args.iterations, args.bc_steps, args.vail_beta_step)

    methods = ["expert", "random"] + [m.strip() for m in args.methods.split(",") if m.strip()]
    for seed in seeds:
        for method in sorted(methods, key=lambda m: m in ("gail", "vail")):
            for k in (int(t) for t in args.trajectories.split(",")):
                if (method, k, seed, *settings(method)) in done:
                    continue
                print(f"imitation {method}, {k} trajectories, seed {seed} ...", file=sys.stderr, flush=True)
                report.append_jsonl(run_imitation(method, k, seed, args.iterations, args.bc_steps,
                                                  args.vail_beta_step), runs_path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.adversarial", description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("dann", "fairness", "imitation"), default="dann")
    parser.add_argument("--methods", default=",".join(IMITATORS), help="imitation: gail, vail, bc")
    parser.add_argument("--trajectories", default=",".join(map(str, TRAJECTORIES)),
                        help="imitation: numbers of expert trajectories")
    parser.add_argument("--iterations", type=int, default=40, help="imitation: GAIL's and VAIL's PPO iterations")
    parser.add_argument("--bc-steps", type=int, default=2000, help="imitation: BC's Adam steps")
    parser.add_argument("--vail-beta-step", type=float, default=1e-3, help="imitation: VAIL's alpha_beta")
    parser.add_argument("--weights", default=",".join(map(str, WEIGHTS)), help="fairness: adversary weights alpha")
    parser.add_argument("--criteria", default=",".join(CRITERIA), help="fairness: parity, odds")
    parser.add_argument("--directions", default=",".join(DIRECTIONS), help="source:target pairs")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64, help="source and target images each, per step")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--learning-rates", default="0.01", help="mu_0 of the schedule (the paper's: 0.01)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from benchmarks import report

    os.makedirs(args.out, exist_ok=True)
    runs_path = os.path.join(args.out, "adversarial_runs.jsonl")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.part == "fairness":
        _fairness_runs(args, seeds, runs_path)
    elif args.part == "imitation":
        _imitation_runs(args, seeds, runs_path)
    else:
        settings = [s.strip() for s in args.settings.split(",") if s.strip()]
        unknown = [s for s in settings if s not in SETTINGS]
        if unknown:
            parser.error(f"unknown setting {unknown[0]!r}; the settings: {', '.join(SETTINGS)}")
        _dann_runs(args, seeds, settings, runs_path)
    write_report(report.read_jsonl(runs_path), args.out, report.command_line("benchmarks.adversarial"))
    print(f"wrote {os.path.join(args.out, 'adversarial.md')}")


if __name__ == "__main__":
    main()
