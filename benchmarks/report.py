"""What every report shares: the results folder, provenance, run logs and Markdown tables."""

from __future__ import annotations

import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(arguments, verbose=0):
    """Run `python <arguments> --out FILE` from the repository root in a process of
    its own (its memory and TensorFlow state are its own) and return the JSON it
    wrote to FILE; a failure raises with the tail of its standard error."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        done = subprocess.run([sys.executable, *arguments, "--out", out], cwd=REPO,
                              stdout=None if verbose else subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-1500:]}")
        with open(out) as f:
            return json.load(f)


def machine_kind() -> str:
    """"gpu" when TensorFlow sees a GPU, else "cpu": one results folder per machine kind."""
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def default_out(scale=None) -> str:
    return os.path.join(RESULTS, machine_kind())


def command_line(module) -> str:
    """The command that reproduces this report, with the environment it read."""
    env = f"ZOO_DATA_DIR={shlex.quote(os.environ['ZOO_DATA_DIR'])} " if os.environ.get("ZOO_DATA_DIR") else ""
    return f"{env}python -m {module} " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def provenance() -> dict:
    """Machine, CPU, versions, git commit and date, for the header of a report."""
    import keras
    import tensorflow as tf

    import zoo
    from recipes.runner import cpu_model, git_commit, machine

    return {
        "machine": machine(), "cpu": cpu_model(),
        "versions": f"zoo {zoo.__version__}, keras {keras.__version__}, tensorflow {tf.__version__}, "
                    f"python {sys.version.split()[0]}",
        "git commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def row_machines(frame, key="method"):
    """Header lines naming where the rows were measured, when that was not (only) where the report is written:
    a report rebuilt from kept rows, or rows of another machine merged in, says per CPU and commit which
    methods (`key`) it holds: times from different machines are not comparable, ratios measured in one process
    are."""
    if frame.empty or not {"cpu", "git_commit", key} <= set(frame):
        return {}
    groups = frame.dropna(subset=["cpu"]).groupby(["cpu", "git_commit"], sort=False)[key]
    if len(groups) < 2:
        return {}
    return {"measured on": "; ".join(f"{cpu} at {commit}: {', '.join(sorted(set(methods)))}"
                                     for (cpu, commit), methods in groups)}


# ---------------------------------------------------------------- run logs
def read_jsonl(path) -> list[dict]:
    """Rows of a JSON-lines file (a missing file has none; a torn last line is skipped)."""
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a run interrupted while writing its line; it is re-run on resume
    return rows


def append_jsonl(row, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


# --------------------------------------------------------------- Markdown
def markdown_table(frame) -> str:
    """A pandas DataFrame as a GitHub Markdown table (no `tabulate` dependency)."""
    columns = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for values in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines)


def mean_sd(mean, sd, mean_format=".3g", sd_format=".2g", scale=1.0) -> str:
    """"m ± s" for a table cell, scaled by `scale`; just "m" where the sd is NaN (a single seed)."""
    text = f"{scale * mean:{mean_format}}"
    return text if sd is None or math.isnan(sd) else f"{text} ± {scale * sd:{sd_format}}"


def run_commits(frame) -> str:
    """The git commits of a report's runs (their rows' `git_commit`), sorted, or "?" where none was kept."""
    return ", ".join(sorted(set(frame["git_commit"]))) if "git_commit" in frame else "?"


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def header(title, command, info: dict) -> str:
    lines = [f"# {title}", "", "Reproduce with:", "", "```bash", command, "```", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    return "\n".join(lines) + "\n"


def sample_grids(out, runs, heading):
    """Markdown links to the grids in `out/samples` of the runs' recipes x scales (`<recipe>_<scale>_seed<k>.png`),
    under `heading`; "" when there are none. The SSL and quality sweeps share that folder, so each report
    picks its own."""
    samples_dir = os.path.join(out, "samples")
    if not os.path.isdir(samples_dir) or runs.empty:
        return ""
    names = {f"{r}_{s}_seed" for r, s in zip(runs["recipe"], runs["scale"])}
    shown = sorted(f for f in os.listdir(samples_dir) if any(f.startswith(n) for n in names))
    return heading + "".join(f"- {s[:-4]}: ![{s}](samples/{s})\n" for s in shown) if shown else ""


def write_text(text, path):
    """Write atomically; the temporary name is per process, so two sweeps may share a results folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.partial"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
