"""The benchmark harness end to end on digits with a tiny budget: well-formed tables, resumable."""

import json
import math
import os

import pandas as pd
import pytest

import recipes
import zoo
from benchmarks import quality, report, speed, ssl

RUN_COLUMNS = {"recipe", "method", "dataset", "labels", "scale", "seed", "steps", "batch_size", "train_seconds",
               "test_accuracy", "test_error", "paper_value", "machine", "versions", "git_commit", "peak_rss_mb",
               "load_avg_1min", "diverged"}


@pytest.mark.extended
def test_ssl_sweep_end_to_end_on_digits(tmp_path):
    chosen = ssl.select("cpu", methods=["sgan", "supervised"], datasets=["digits"])
    assert {"sgan_digits_50", "supervised_digits_50"} <= {r.name for r in chosen}
    assert {r.method for r in chosen} == {"sgan", "supervised"}
    chosen = [r for r in chosen if r.name in ("sgan_digits_50", "supervised_digits_50")]
    assert all(zoo.get(r.method).can("classify") and r.labels for r in chosen)
    logs = []
    rows = ssl.sweep(chosen, "cpu", [0, 1], str(tmp_path), steps=3, isolate=False, log=logs.append)
    assert len(rows) == 4 and not any("error" in r for r in rows)

    path = ssl.write_report(rows, str(tmp_path), "python -m benchmarks.ssl --steps 3")
    runs = pd.read_csv(tmp_path / "ssl_runs.csv")
    assert RUN_COLUMNS <= set(runs.columns)
    assert len(runs) == 4  # one row per method x seed
    assert sorted(zip(runs["method"], runs["seed"])) == [("sgan", 0), ("sgan", 1), ("supervised", 0),
                                                        ("supervised", 1)]
    for column in ("test_error", "test_accuracy", "train_seconds", "peak_rss_mb", "load_avg_1min"):
        assert runs[column].map(math.isfinite).all(), column
    assert ((runs["test_error"] >= 0) & (runs["test_error"] <= 1)).all()
    assert (runs["steps"] == 3).all() and (runs["labels"] == 50).all()
    assert not runs["diverged"].any()

    summary = pd.read_csv(tmp_path / "ssl_summary.csv")
    assert len(summary) == 2 and (summary["seeds"] == 2).all()
    for _, row in summary.iterrows():  # mean ± sd over the seeds, in %
        errors = 100 * runs[runs["method"] == row["method"]]["test_error"]
        assert row["error_mean"] == pytest.approx(errors.mean())
        assert row["error_sd"] == pytest.approx(errors.std(ddof=1))
        assert row["error_pct"] == f"{errors.mean():.2f} ± {errors.std(ddof=1):.2f}"
    # sgan's baseline is its discriminator net trained on the labels alone: the supervised recipe's mean.
    by_method = summary.set_index("method")
    assert by_method.loc["sgan", "baseline"] == "supervised_digits_50"
    assert by_method.loc["sgan", "baseline_error_pct"] == pytest.approx(by_method.loc["supervised", "error_mean"],
                                                                          abs=0.005)
    table = ssl.readme_table(ssl.summarize(ssl.runs_table(rows))).splitlines()
    # one row per method (baselines not listed), "error (baseline)" per dataset x budget, the budget in the header
    assert len(table) == 3 and table[0] == "| method | digits-50 (3 x 64) | paper |"
    sgan = by_method.loc["sgan"]
    assert table[2] == f"| sgan | {sgan['error_pct']} ({sgan['baseline_error_pct']:.2f}) | — |"
    text = open(path).read()
    assert "python -m benchmarks.ssl --steps 3" in text and "| method | dataset | labels |" in text
    assert (tmp_path / "ssl_errors.png").stat().st_size > 0
    assert not (tmp_path / "ssl_error_vs_labels.png").exists()  # one label budget: no curve to draw
    assert (tmp_path / "samples" / "sgan_digits_50_cpu_seed0.png").exists()  # sgan samples, supervised cannot
    assert len(json.load(open(tmp_path / "curves" / "sgan_digits_50_cpu_seed1.json"))["steps"]) == 1

    # Resumable: the same sweep again runs nothing new.
    logs.clear()
    again = ssl.sweep(chosen, "cpu", [0, 1], str(tmp_path), steps=3, isolate=False, log=logs.append)
    assert len(again) == 4 and all(line.startswith("skip") for line in logs)


@pytest.mark.extended
def test_ssl_sweep_at_other_label_budgets_draws_error_vs_labels(tmp_path):
    chosen = [recipes.get(name).at_labels(n) for name in ("sgan_digits_50", "supervised_digits_50") for n in (20, 50)]
    rows = ssl.sweep(chosen, "cpu", [0], str(tmp_path), steps=2, isolate=False, log=lambda line: None)
    assert not any("error" in r for r in rows)
    ssl.write_report(rows, str(tmp_path), "python -m benchmarks.ssl --at-labels 20,50 --steps 2")
    runs = pd.read_csv(tmp_path / "ssl_runs.csv")
    assert sorted(zip(runs["recipe"], runs["labels"])) == [
        ("sgan_digits_20", 20), ("sgan_digits_50", 50), ("supervised_digits_20", 20), ("supervised_digits_50", 50)]
    summary = pd.read_csv(tmp_path / "ssl_summary.csv").set_index("recipe")
    # each budget's baseline is the supervised net at that budget
    for labels in (20, 50):
        assert summary.loc[f"sgan_digits_{labels}", "baseline"] == f"supervised_digits_{labels}"
        assert summary.loc[f"sgan_digits_{labels}", "baseline_error_pct"] == pytest.approx(
            summary.loc[f"supervised_digits_{labels}", "error_mean"], abs=0.005)
    assert (tmp_path / "ssl_error_vs_labels.png").stat().st_size > 0


def test_ssl_summary_puts_the_paper_number_beside_ours():
    rows = [{"recipe": "r", "method": "m", "dataset": "mnist", "labels": 100, "scale": "cpu", "seed": s,
             "steps": 10, "batch_size": 100, "train_seconds": 1.0, "test_error": e, "paper_value": 0.0093,
             "paper_reference": "Salimans et al. 2016, Table 1"} for s, e in ((0, 0.1), (1, 0.2), (2, 0.3))]
    rows.append({"recipe": "r", "seed": 3, "error": "boom"})  # failed runs are left out of the table
    rows[2]["diverged"] = True  # its training losses went NaN: counted, not hidden
    summary = ssl.summarize(ssl.runs_table(rows))
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["error_pct"] == "20.00 ± 10.00" and row["seeds"] == 3  # sd of 10, 20, 30 = 10
    assert row["diverged"] == 1
    assert row["paper_error_pct"] == 0.93 and row["paper_reference"] == "Salimans et al. 2016, Table 1"


def test_quality_fails_clearly_without_zoo_metrics_evaluate(monkeypatch):
    monkeypatch.delattr(zoo.metrics, "evaluate", raising=False)
    with pytest.raises(RuntimeError, match="zoo.metrics.evaluate"):
        quality.require_evaluate()
    with pytest.raises(SystemExit, match="zoo.metrics.evaluate"):
        quality.main(["--methods", "vae", "--datasets", "digits", "--seeds", "0", "--in-process"])


def test_quality_sweep_tabulates_what_evaluate_returns(tmp_path, monkeypatch):
    calls = []

    def fake_evaluate(model, data, n=10000, extractor="auto", seed=0):  # the contract of zoo.metrics.evaluate
        calls.append((model.registered_name, data.name, n, extractor, seed))
        # like the real one, it echoes its protocol (dataset, seed) beside the metrics
        return {"fid": 12.5, "kid": 0.01, "extractor": "domain:digits", "n_generated": n, "dataset": data.name,
                "seed": seed, "reference_split": "test"}

    monkeypatch.setattr(zoo.metrics, "evaluate", fake_evaluate, raising=False)
    chosen = quality.select("cpu", methods=["vae"], datasets=["digits"])
    rows = quality.sweep(chosen, "cpu", [0, 1], str(tmp_path), n=64, steps=2, isolate=False, log=lambda _: None)
    assert calls == [("vae", "digits", 64, "auto", 0), ("vae", "digits", 64, "auto", 1)]
    quality.write_report(rows, str(tmp_path), "python -m benchmarks.quality")
    runs = pd.read_csv(tmp_path / "quality_runs.csv")
    assert len(runs) == 2 and set(runs["extractor"]) == {"domain:digits"} and (runs["fid"] == 12.5).all()
    assert sorted(runs["seed"]) == [0, 1]  # each run keeps its own seed (the protocol's echo must not win)
    summary = pd.read_csv(tmp_path / "quality_summary.csv")
    assert len(summary) == 1 and summary["extractor"].iloc[0] == "domain:digits"
    assert summary["fid"].iloc[0] == "12.5 ± 0"


def test_quality_floor_and_fid_beside_dcgans(tmp_path, monkeypatch):
    seen = []

    def fake_evaluate(model, data, n=10000, extractor="auto", seed=0):
        seen.append((type(model).__name__, len(model) if hasattr(model, "__len__") else None, n, seed))
        return {"fid": 2.0, "extractor": "domain:digits", "n_generated": n, "dataset": data.name, "seed": seed}

    monkeypatch.setattr(zoo.metrics, "evaluate", fake_evaluate, raising=False)
    quality.floors(["digits"], [0, 1], str(tmp_path), n=64, log=lambda _: None)
    quality.floors(["digits"], [0, 1], str(tmp_path), n=64, log=lambda _: None)  # resumable: nothing twice
    rows = report.read_jsonl(str(tmp_path / "quality_runs.jsonl"))
    assert len(rows) == 2 and {r["method"] for r in rows} == {quality.FLOOR_METHOD}
    assert seen[0][0] == "ndarray" and seen[0][1] == len(zoo.data.load("digits").x_train)  # the training images
    runs = pd.DataFrame([
        {"method": m, "recipe": f"{m}_mnist", "dataset": "mnist", "scale": "cpu", "steps": 1000, "seed": k,
         "extractor": "domain:mnist", "n_generated": 100, "fid": fid, "train_seconds": 1.0}
        for m, fids in {"dcgan": (20.0, 30.0), "wgan_gp": (10.0, 15.0), "gan": (50.0, 50.0)}.items()
        for k, fid in enumerate(fids)])
    summary = quality.summarize(runs).set_index("method")
    assert summary.loc["dcgan", "fid_vs_dcgan"] == 1.0 and summary.loc["wgan_gp", "fid_vs_dcgan"] == 0.5
    assert summary.loc["gan", "fid_vs_dcgan"] == 2.0


def test_speed_compares_fit_with_the_hand_written_loop():
    rows, scaling = speed.run_method("supervised", steps=4, repeats=1, modes=("graph",), sizes=(128,),
                                     batch_sizes=(64,))
    (row,) = rows
    assert row["baseline"] == "hand-written" and "failure" not in row
    assert row["load_avg_1min"] >= 0
    for key in ("fit_examples_per_s", "hand_examples_per_s", "fit_over_hand", "fit_over_hand_cpu", "peak_rss_mb"):
        assert math.isfinite(row[key]) and row[key] > 0, key
    assert scaling == [dict(scaling[0], dataset_size=128, batch_size=64, steps_per_epoch=2)]
    assert set(speed.HAND_WRITTEN) <= set(zoo.list_models())


def test_speed_diagnostic_mode_puts_the_random_ops_on_philox_and_puts_them_back():
    """`xla_philox` (speed.md's XLA cause) traces Keras' random ops with alg="philox": in graph mode on CPU that
    is TF's default already, so the same draws; outside the mode TF's own functions are back."""
    import keras
    import tensorflow as tf

    originals = (tf.random.stateless_uniform, tf.nn.experimental.stateless_dropout)

    @tf.function
    def draws():
        return keras.random.uniform((64,), seed=3), keras.random.dropout(tf.ones((64,)), 0.5, seed=4)

    default = draws()
    with speed._random_algorithm("xla_philox"):
        assert tf.random.stateless_uniform.keywords == {"alg": "philox"}
        assert tf.nn.experimental.stateless_dropout.keywords == {"rng_alg": "philox"}
        philox = tf.function(draws.python_function)()
    assert (tf.random.stateless_uniform, tf.nn.experimental.stateless_dropout) == originals
    for a, b in zip(default, philox):
        assert a.numpy().tolist() == b.numpy().tolist()


def test_speed_xla_table_reads_the_cause_off_the_measurements():
    rows = [{"method": m, "mode": mode, "fit_cpu_ms_per_step": ms} for m, mode, ms in [
        ("a", "graph", 10.0), ("a", "xla", 30.0), ("a", "xla_philox", 12.0),   # Philox gives back 90 %
        ("b", "graph", 10.0), ("b", "xla", 30.0), ("b", "xla_philox", 28.0),   # 10 %: something else
        ("c", "graph", 10.0), ("c", "xla", 30.0),                              # slower, cause not measured
        ("d", "graph", 10.0), ("d", "xla", 11.0)]]                             # not slower
    table = speed.xla_against_graph(pd.DataFrame(rows)).set_index("method")
    assert table["xla_over_graph"].tolist() == [3.0, 3.0, 3.0, 1.1]
    assert table["cause"].tolist() == ["random ops (ThreeFry): 90% of it", "not random ops", "not measured", "-"]
    assert speed.xla_against_graph(pd.DataFrame(rows[:1])) is None


def test_speed_report_names_each_machine_of_merged_rows():
    """A report rebuilt from rows of two machines says which methods each measured; rows of one say nothing."""
    rows = [{"method": m, "cpu": cpu, "git_commit": commit} for m, cpu, commit in [
        ("a", "Xeon", "c1"), ("a", "Xeon", "c1"), ("b", "Xeon", "c1"), ("c", "EPYC", "c2")]]
    assert report.row_machines(pd.DataFrame(rows)) == {"measured on": "Xeon at c1: a, b; EPYC at c2: c"}
    assert report.row_machines(pd.DataFrame(rows[:3])) == {}


def test_markdown_table_and_resumable_log(tmp_path):
    frame = pd.DataFrame({"a": [1.23456, float("nan")], "b": ["x|y", None]})
    assert report.markdown_table(frame).splitlines() == ["| a | b |", "| --- | --- |", "| 1.235 | x\\|y |", "|  |  |"]
    path = tmp_path / "runs.jsonl"
    report.append_jsonl({"k": 1}, path)
    with open(path, "a") as f:
        f.write('{"k": 2, "torn')  # a run killed while writing its line
    assert report.read_jsonl(path) == [{"k": 1}]
    assert report.read_jsonl(tmp_path / "missing.jsonl") == []
    assert os.path.basename(report.default_out()) in ("cpu", "gpu")


def test_hand_written_supervised_step_is_the_same_update_as_train_step(digits50):
    """The speed baseline does the same work as `fit`: from equal weights, one step of each gives equal
    weights (no dropout or input noise, so the step is deterministic)."""
    import numpy as np

    models = [speed.build("supervised", digits50, {"dropout": 0.0, "input_noise": 0.0}) for _ in range(2)]
    models[1].set_weights(models[0].get_weights())
    for model in models:
        model.compile()
    batch = next(iter(digits50.train(32)))
    before = models[0].get_weights()
    models[0].train_step(batch)
    speed.HAND_WRITTEN["supervised"](models[1])(batch)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(before[0], models[0].get_weights()[0])  # the step did update


def test_reproductions_report_from_run_folders(tmp_path):
    """benchmarks.reproductions: one row per run at its last epoch, the baseline at the same epoch, the curves
    in a CSV from which the report is rebuilt, and a figure per method."""
    from benchmarks import reproductions

    def folder(name, recipe, errors, seconds_per_epoch):
        path = tmp_path / name
        path.mkdir()
        (path / "run.json").write_text(json.dumps({"recipe": recipe, "scale": "paper", "seed": 0, "steps": 6000,
                                                   "segments": [{"commit": "abc"}, {"commit": "def"}]}))
        with open(path / "curve.jsonl", "w") as f:
            for epoch, error in enumerate(errors, 1):
                f.write(json.dumps({"epoch": epoch, "step": 600 * epoch, "test_error": error,
                                    "seconds": seconds_per_epoch * epoch}) + "\n")
        return str(path)

    runs, curves = reproductions.tables([
        folder("ig", "improved_gan_mnist_100", [0.2, 0.1, 0.05], 80.0),
        folder("base", "supervised_improved_gan_mnist_mnist_100", [0.3, 0.25, 0.22, 0.21], 20.0)])
    ig = runs[runs["recipe"] == "improved_gan_mnist_100"].iloc[0]
    assert (ig["epochs"], ig["target_epochs"], bool(ig["finished"])) == (3, 10, False)
    assert ig["test_error_pct"] == pytest.approx(5.0) and ig["paper_error_pct"] == pytest.approx(0.93)
    assert ig["baseline_error_pct"] == pytest.approx(22.0)  # the baseline at epoch 3, not its last epoch
    assert ig["wall_s"] == 240.0 and ig["commit"] == "abc def"
    assert list(runs.columns[:8]) == ["recipe", "method", "dataset", "labels", "scale", "seed", "epochs",
                                      "target_epochs"]
    out = tmp_path / "out"
    figures = reproductions.write(runs, curves, str(out), "python -m benchmarks.reproductions ...")
    assert [os.path.basename(f) for f in figures] == ["reproductions_improved_gan.png"]
    assert len(pd.read_csv(out / "reproductions_curves.csv")) == 7
    text = (out / "reproductions.md").read_text()
    assert "improved_gan_mnist_100" in text and "Deviations that remain" in text
    assert reproductions.main(["--out", str(out), "--from-csv"]) == 0
    # --merge: the CSVs' runs stay, a folder of the same run name replaces its rows, a new one is added.
    again = folder("ig2", "improved_gan_mnist_100", [0.2, 0.1, 0.05, 0.04], 80.0)
    assert reproductions.main([again, "--out", str(out), "--merge"]) == 0
    merged = pd.read_csv(out / "reproductions.csv")
    assert sorted(merged["run"]) == ["base", "ig", "ig2"]
    assert merged.set_index("run").loc["ig2", "baseline_error_pct"] == pytest.approx(21.0)
    assert pd.read_csv(out / "reproductions_curves.csv").groupby("run").size().to_dict() == {"base": 4, "ig": 3,
                                                                                            "ig2": 4}
    table = reproductions.readme_table(runs)
    assert "5.00 (seed 0, 3 of 10 epochs, resumable)" in table and "| 22.00 |" in table
    # A finished run resumed with a larger budget keeps its result row, but is not finished again until the
    # curve reaches the new budget.
    done = folder("done", "improved_gan_mnist_100", [0.2] * 10, 80.0)
    (tmp_path / "done" / "row.json").write_text("{}")
    assert bool(reproductions.tables([done])[0].iloc[0]["finished"])
    info = json.loads((tmp_path / "done" / "run.json").read_text())
    (tmp_path / "done" / "run.json").write_text(json.dumps({**info, "steps": 18000}))
    assert not bool(reproductions.tables([done])[0].iloc[0]["finished"])


def test_adversarial_report_from_tiny_runs(tmp_path):
    """benchmarks.adversarial: a DANN row per setting with the gap closed, a fairness row per weight."""
    from benchmarks import adversarial

    rows = [adversarial.run_dann("digits", "digits", setting, 3, 16, 0) for setting in adversarial.SETTINGS]
    rows += [adversarial.run_fairness("odds", weight, 3, 16, 0, dataset="digits") for weight in (0.0, 1.0)]
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in rows[:3])
    assert {"demographic_parity_gap", "equalized_odds_gap", "accuracy_group_1"} <= set(rows[3])
    table = adversarial.dann_table(pd.DataFrame(rows[:3]))
    assert list(table.columns) == ["direction", "steps", "mu_0", "seeds", *adversarial.SETTINGS, "closed"]
    adversarial.write_report(rows, str(tmp_path), "python -m benchmarks.adversarial ...")
    text = (tmp_path / "adversarial.md").read_text()
    assert "## Domain adaptation: DANN" in text and "## Fairness" in text and "| odds | 1 |" in text


def test_gpu_reproductions_plans_sets_and_scales():
    from benchmarks import gpu_reproductions

    assert gpu_reproductions.plan("gan")[1] == ("bad_gan_mnist_100", "epochs_100")
    vae = gpu_reproductions.plan("vae,adgm_mnist_100")
    assert vae[0] == ("m2_mnist_100", "paper_equal_weighting") and len(vae) == 5  # adgm once
    with pytest.raises(ValueError, match="no scale 'huge'"):
        gpu_reproductions.plan("m2_mnist_100:huge")
