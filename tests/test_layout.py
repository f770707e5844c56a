"""The package layout: methods grouped by kind under `zoo/models/`, and the flat paths of before still import."""

import importlib

import pytest

import zoo
import zoo.models

# Every module of `zoo/models/` before it was grouped by kind (the baseline `supervised` did not move).
FLAT = ("aae", "adgm", "augmented_bigan", "bad_gan", "bigan", "bigbigan", "catgan", "dcgan_features", "gmmn",
        "improved_gan", "infinite_vae", "iwae", "pixelcnn", "sgan", "ssl_vae", "triple_gan", "vae")
KINDS = ("ssl", "gan", "likelihood", "adversarial")


@pytest.mark.parametrize("name", FLAT)
def test_old_module_path_is_the_moved_module(name):
    assert set(zoo.models.MOVED) == set(FLAT)
    moved = importlib.import_module(f"zoo.models.{zoo.models.MOVED[name]}.{name}")
    assert importlib.import_module(f"zoo.models.{name}") is moved
    assert getattr(zoo.models, name) is moved
    scope = {}
    exec(f"import zoo.models.{name}\nfrom zoo.models import {name} as by_attribute", scope)
    assert scope["zoo"].models.__dict__[name] is moved and scope["by_attribute"] is moved


def test_old_from_imports_give_the_registered_classes():
    from zoo.models.bigan import SemiSupervisedALI
    from zoo.models.sgan import SGAN
    from zoo.models.ssl_vae import M2
    from zoo.models.vae import VAE

    assert (SGAN, M2, VAE, SemiSupervisedALI) == tuple(map(zoo.get, ("sgan", "m2", "vae", "ali_ssl")))


def test_every_method_lives_in_a_kind_or_is_the_baseline():
    for name in zoo.list_models():
        module = zoo.get(name).__module__.split(".")
        assert module[:2] == ["zoo", "models"], name
        assert module[2] in KINDS or module[2:] == ["supervised"], (name, module)
    assert {zoo.get(n).__module__ for n in ("sgan", "aae_ssl", "augmented_bigan", "m1")} <= {
        f"zoo.models.ssl.{m}" for m in ("sgan", "aae", "augmented_bigan", "ssl_vae")}
    assert zoo.get("gmmn").__module__ == "zoo.models.gan.gmmn"
    assert zoo.get("pixelcnn").__module__ == "zoo.models.likelihood.pixelcnn"
