"""Recipes are consistent: every SSL recipe's baseline is its classifier net on the same labels and budget."""

import inspect
import json

import pytest

import recipes
import zoo

NET_PARAMETERS = ("arch", "dropout", "input_noise", "weight_norm", "width")


def effective(recipe, scale):
    """The constructor arguments a recipe's run passes, defaults filled in."""
    signature = inspect.signature(zoo.get(recipe.method).__init__)
    defaults = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    return {**defaults, **recipe.setting(scale)["hparams"]}


def ssl_recipes():
    return [r for r in recipes.all_recipes().values()
            if r.labels and "cpu" in r.scales and r.method != "supervised" and zoo.get(r.method).can("classify")]


def test_every_cpu_ssl_recipe_covers_the_three_datasets():
    by_method = {}
    for recipe in ssl_recipes():
        by_method.setdefault(recipe.method, set()).add((recipe.dataset, recipe.labels))
    expected = {("digits", 50), ("mnist", 100), ("fashion_mnist", 100)}
    missing = {m: expected - got for m, got in by_method.items() if not expected <= got}
    assert not missing, missing
    # The adversarial objectives beyond generation (dann) train on other data (two domains) and have their
    # own benchmark (benchmarks/adversarial.py), not SSL recipes.
    registered = {m for m in zoo.list_models() if zoo.get(m).can("classify") and m != "supervised"
                  and not zoo.get(m).__module__.startswith("zoo.models.adversarial.")}
    assert registered <= set(by_method), registered - set(by_method)


@pytest.mark.parametrize("recipe", ssl_recipes(), ids=lambda r: r.name)
def test_baseline_is_the_same_net_on_the_same_labels_and_budget(recipe):
    if recipe.baseline is None:  # these classifiers read (x, E(x)): their baselines live in their tests
        assert recipe.method in ("ali_ssl", "augmented_bigan"), recipe.name
        return
    baseline = recipes.get(recipe.baseline)
    assert baseline.method == "supervised"
    assert (baseline.dataset, baseline.labels) == (recipe.dataset, recipe.labels)
    ours, theirs = recipe.setting("cpu"), baseline.setting("cpu")
    assert (ours["steps"], ours["batch_size"]) == (theirs["steps"], theirs["batch_size"])
    ours, theirs = effective(recipe, "cpu"), effective(baseline, "cpu")
    shared = [k for k in NET_PARAMETERS if k in ours]
    assert "arch" in shared
    differ = {k: (ours[k], theirs[k]) for k in shared if ours[k] != theirs[k]}
    assert not differ, differ


@pytest.mark.parametrize("recipe", list(recipes.all_recipes().values()), ids=lambda r: r.name)
def test_every_setting_is_accepted_by_its_method(recipe):
    """Each scale's hyper-parameters are constructor arguments of the method, and its roles have optimizers."""
    cls = zoo.get(recipe.method)
    parameters = inspect.signature(cls.__init__).parameters
    for scale in recipe.scales:
        setting = recipe.setting(scale)
        unknown = set(setting["hparams"]) - set(parameters)
        assert not unknown, (scale, unknown)
        assert set(setting["optimizers"]) <= set(cls.roles), (scale, setting["optimizers"])
        assert setting["steps"] > 0 and setting["batch_size"] > 0


def test_a_recipe_at_another_label_budget_keeps_its_method_and_moves_its_baseline():
    recipe = recipes.get("m2_digits_50")
    variant = recipe.at_labels(20)
    assert (variant.name, variant.labels, variant.baseline) == ("m2_digits_20", 20, "supervised_m2net_digits_20")
    assert (variant.method, variant.dataset, variant.scales, variant.hparams) == (
        recipe.method, recipe.dataset, recipe.scales, recipe.hparams)
    assert recipes.get("improved_gan_mnist_100").at_labels(1000).paper is None  # paper: 100 only
    assert recipes.get("improved_gan_mnist_100").at_labels(100).paper is not None
    # A child process finds a variant (and its baseline) by name alone.
    assert recipes.get("m2_digits_20") == variant
    assert recipes.get("supervised_m2net_digits_20") == recipes.get("supervised_m2net_digits_50").at_labels(20)
    with pytest.raises(ValueError, match="unknown recipe"):
        recipes.get("m2_digits")
    with pytest.raises(ValueError, match="no label budget"):
        recipes.get("vae_mnist").at_labels(100)
    with pytest.raises(ValueError, match="labels must be >= 1"):
        recipe.at_labels(0)


@pytest.mark.extended
def test_a_long_run_resumes_from_its_backup_and_keeps_its_curve(tmp_path):
    """`run(..., backup_dir=)`: an epoch per pass over the unlabelled images, the test error of each epoch in
    curve.jsonl, and a second call with more steps continues from the backup instead of starting over."""
    from recipes.runner import run
    from zoo.callbacks import read_curve

    backup = tmp_path / "run"
    first = run("improved_gan_digits_50", seed=0, steps=20, backup_dir=str(backup))  # 1,297 // 64 = 20 a epoch
    assert first["steps"] == 20
    curve = read_curve(str(backup / "curve.jsonl"))
    assert [line["epoch"] for line in curve] == [1] and [line["step"] for line in curve] == [20]
    assert 1 - first["test_accuracy"] == pytest.approx(curve[-1]["test_error"], abs=1e-6)
    assert "live_test_error" not in curve[-1]  # improved_gan_digits_50 keeps no weight average
    second = run("improved_gan_digits_50", seed=0, steps=40, backup_dir=str(backup))
    curve = read_curve(str(backup / "curve.jsonl"))
    assert [line["step"] for line in curve] == [20, 40]
    lines = (backup / "curve.jsonl").read_text().splitlines()
    assert len(lines) == 2  # the second process trained epoch 2 only: it resumed at step 20, not from 0
    assert curve[1]["seconds"] >= curve[0]["seconds"]  # wall time summed over both processes
    assert second["steps"] == 40
    info = json.loads((backup / "run.json").read_text())
    assert info["recipe"] == "improved_gan_digits_50" and len(info["segments"]) == 2
