"""One step under MirroredStrategy over two logical CPUs equals the single-device step.

SGD and noise fixed per global batch row (tests/distributed.py), dropout and input noise off, batch
norm synchronized, so both runs see the same numbers. Several machines: tests/test_multiworker.py.
"""

import pytest

import zoo
from tests.distributed import assert_same_updates, build, one_batch


@pytest.fixture
def strategy(mirrored_strategy):
    return mirrored_strategy


# The contract tier keeps one case of each kind (a K+1 classifier GAN, a VAE, batch statistics, batch norm,
# a per-example penalty, a likelihood model); the others (each a mechanism of its own, said beside it) run
# with --full (131 s of worker time at 4a39225).
EXTENDED = pytest.mark.extended


@pytest.mark.parametrize("name,kwargs", [
    pytest.param("sgan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0}, marks=EXTENDED),
    ("sgan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0,
              "generator_loss": "non_saturating", "arch": "mlp"}),
    ("vae", {"latent_dim": 4}),
    # Batch statistics beyond means: Bad GAN's pull-away term (pairs of the global batch) and Enhanced
    # Triple-GAN's class-wise feature matching (class sums and counts of the global batch).
    ("bad_gan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0, "arch": "mlp",
                 "pull_away_weight": 0.8, "entropy_weight": 0.1}),
    pytest.param("enhanced_triple_gan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0,
                                         "d_input_noise": 0.0, "arch": "mlp",
                                         # The paper code's split of each (per-replica) unlabelled batch in
                                         # halves picks other rows than the one-device split: off, to compare
                                         # like with like.
                                         "pseudo_real_pairs": False}, marks=EXTENDED),
    # The GAN family: batch norm in D and G (dcgan), the per-example gradient penalty (wgan_gp), the
    # clipping constraint applied by each replica's optimizer update (wgan). One critic step per step: with
    # several, each replica splits its own rows into the critic minibatches, other rows than one device's.
    ("dcgan", {"latent_dim": 8}),
    ("wgan_gp", {"latent_dim": 8, "critic_steps": 1}),
    pytest.param("wgan", {"latent_dim": 8, "critic_steps": 1, "clip": 0.05}, marks=EXTENDED),
    # the power iteration's u, updated on every replica
    pytest.param("sngan", {"latent_dim": 8, "critic_steps": 1}, marks=EXTENDED),
    # biggan also covers SAGAN's batch norm under spectral norm in G, with the attention blocks.
    # conditional BN, shared embedding
    pytest.param("biggan", {"num_classes": 10, "latent_dim": 8, "critic_steps": 1}, marks=EXTENDED),
    # the multiplier beta: one dual step from the global batch's KL
    pytest.param("vdb", {"latent_dim": 8}, marks=EXTENDED),
    # batch norm in D, Q and G; the codes drawn per global row
    pytest.param("infogan", {"latent_dim": 8}, marks=EXTENDED),
    # batch norm in the U-Net and the PatchGAN, patch-mean losses
    pytest.param("pix2pix", {"filters": 8, "dropout": 0.0}, marks=EXTENDED),
    # Likelihood models: MADE's mask counter (one per step, not per replica) and a flow's dequantisation
    # noise and log-determinants (nice: realnvp's and glow's zero-initialised couplings move few weights in
    # one step). ppca / gmm: tests/test_em.py, their E-step statistics all-reduced.
    ("made", {"hidden": (16,), "num_masks": 2}),
    ("nice", {"hidden": 16, "depth": 2}),
    # VQ-VAE: the codebook's perplexity over the global batch, one tape for three roles, the prior's step on the
    # step's codes (its EMA codebook update: tests/test_vq_vae.py)
    pytest.param("vq_vae", {"codebook_size": 16, "embedding_dim": 4, "hidden": 16, "residual_hidden": 8,
                            "residual_blocks": 1, "prior_filters": 8, "prior_layers": 2}, marks=EXTENDED),
])
def test_mirrored_step_equals_single_device_step(name, kwargs, strategy):
    # pix2pix trains on (edges, image) pairs; every other method on the SSL split.
    data = zoo.data.load_pairs("digits") if name == "pix2pix" else zoo.data.load("digits", labels=20)
    dataset = one_batch(data)
    kwargs = {"input_shape": data.input_shape, **kwargs}

    single = build(name, kwargs)
    start = single.get_weights()
    single.fit(dataset, epochs=1, verbose=0, shuffle=False)

    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        mirrored = build(name, kwargs, weights=start)
    mirrored.fit(dataset, epochs=1, verbose=0, shuffle=False)
    assert_same_updates(start, single.get_weights(), mirrored.get_weights())


def test_recipe_trains_under_a_strategy_on_the_global_batch(strategy):
    """`python -m recipes run NAME --strategy ...`'s path: the model is built in the strategy's scope and the
    scale's batch size stays the global batch, split over the two replicas."""
    from recipes.runner import train

    model, _, info = train("sgan_digits_50", steps=2, strategy=strategy)
    assert model.distribute_strategy is strategy
    assert info["replicas"] == 2 and info["batch_size"] == 64 and info["steps"] == 2


def test_multiworker_without_tf_config_says_what_is_missing(monkeypatch):
    from recipes.runner import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multiworker")
    with pytest.raises(ValueError, match="one of"):
        make_strategy("tpu")
