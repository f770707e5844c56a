"""The command lines speak to people: bad input is one `error:` line and exit status 2.

Most cases call `main` in-process (a subprocess costs a TensorFlow import,
~5 s); two subprocesses prove the real exit status and the `--debug` traceback.
"""

import os
import subprocess
import sys

import pytest

from recipes.__main__ import main as recipes_cli
from zoo import cli
from zoo.cli import main as zoo_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _one_error_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    return lines[0]


@pytest.mark.parametrize("argv, message", [
    (["train", "sgan", "--labels", "7"], "labels=7 cannot be balanced over 10 classes"),
    (["train", "no_such_model"], "unknown model 'no_such_model'"),
    (["train", "sgan", "--dataset", "no_such_data"], "unknown dataset 'no_such_data'"),
    (["train", "sgan", "--set", "latent_dim"], "--set expects KEY=VALUE; got 'latent_dim'"),
    (["train", "sgan", "--set", "no_such_argument=1"], "no_such_argument"),
    (["sample", "no/such/model.keras"], "no such model file: no/such/model.keras"),
])
def test_zoo_bad_input_is_one_error_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run that got past its error would write runs/ here, not in the tree
    assert zoo_cli(argv) == 2
    captured = capsys.readouterr()
    assert message in _one_error_line(captured.err) and "Traceback" not in captured.err


@pytest.mark.parametrize("argv, message", [
    (["run", "no_such_recipe"], "unknown recipe 'no_such_recipe'"),
    (["run", "sgan_digits_50", "--scale", "no_such_scale"], "has no scale 'no_such_scale'"),
])
def test_recipes_bad_input_is_one_error_line(argv, message, capsys):
    assert recipes_cli(argv) == 2
    assert message in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["--debug", "train", "no_such_model"], ["train", "no_such_model", "--debug"]])
def test_debug_lets_the_error_through(argv):
    with pytest.raises(ValueError, match="unknown model 'no_such_model'"):
        zoo_cli(argv)


def test_a_bug_keeps_its_traceback(monkeypatch):
    def buggy(args):
        raise TypeError("a bug in the zoo")

    monkeypatch.setattr(cli, "_list", buggy)
    with pytest.raises(TypeError, match="a bug in the zoo"):
        zoo_cli(["list"])


def test_ctrl_c_exits_130_quietly(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_list", interrupted)
    assert zoo_cli(["list"]) == 130
    assert capsys.readouterr().err == ""


def _run(*argv):
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_real_exit_status_and_single_error_line():
    result = _run("zoo", "train", "sgan", "--labels", "7")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # TensorFlow's C++ start-up logs share stderr; of our own output there is exactly one line, the last
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [result.stderr.strip().splitlines()[-1]] and "cannot be balanced" in errors[0]


def test_debug_shows_the_traceback():
    result = _run("recipes", "run", "no_such_recipe", "--debug")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: unknown recipe 'no_such_recipe'" in result.stderr
