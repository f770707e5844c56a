"""Every registered method trains a few steps on the two paths a GPU takes: XLA (`jit_compile=True`, Keras'
default there) and mixed precision (`mixed_float16`), on CPU (tests/compile_paths.py has the checks).

The methods come from the registry, so a new method is covered the day it registers. Mixed precision runs
in worker processes of its own (tests/compile_paths.py says why), the methods split over a few of them so
that the suite's two workers share the load.
"""

import json
import os
import subprocess
import sys

import pytest

import zoo
from tests.compile_paths import train_steps

METHODS = sorted(zoo.registry.list_models())
MIXED_PRECISION_PROCESSES = 4


@pytest.mark.gpu_paths
@pytest.mark.parametrize("name", METHODS)
def test_trains_under_xla(name):
    train_steps(name, jit_compile=True)


def _mixed_precision_worker(names, tmp_path):
    out = tmp_path / "results.json"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    env["PYTHONPATH"] = root
    result = subprocess.run([sys.executable, "-m", "tests.compile_paths", str(out), *names], cwd=root, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert sorted(results) == sorted(names)
    return {name: outcome for name, outcome in results.items() if outcome != "ok"}


@pytest.mark.gpu_paths
@pytest.mark.parametrize("part", range(MIXED_PRECISION_PROCESSES))
def test_trains_under_mixed_precision(part, tmp_path):
    failures = _mixed_precision_worker(METHODS[part::MIXED_PRECISION_PROCESSES], tmp_path)
    assert not failures, "\n".join(f"{name}: {error}" for name, error in failures.items())


def test_an_overflowing_mixed_precision_step_is_skipped_and_the_scale_lowered(tmp_path):
    failures = _mixed_precision_worker(["overflow"], tmp_path)
    assert not failures, failures
