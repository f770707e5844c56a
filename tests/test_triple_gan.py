"""Triple-GAN and Enhanced Triple-GAN: harness, label leakage, it learns."""

import keras
import pytest

import zoo
from tests.harness import run_method_test, sample_mmd2
from tests.measured import report


@pytest.mark.parametrize("kwargs", [
    # the paper code's pieces: 1 labelled + 40 pseudo-labelled real pairs, balanced G batch, balance term,
    # weight decay, C's weight average, annealing, uniform z (the defaults: enhanced_triple_gan's harness)
    {"latent_dim": 8, "d_labeled_pairs": 1, "d_pseudo_batch": 40, "generator_batch": 20, "balance_weight": 1e-3,
     "weight_decay": 1e-4, "ema": 0.99, "anneal_start": 2, "anneal_every": 1, "latent_distribution": "uniform"},
    {"latent_dim": 8, "classifier_pairs": "expectation", "consistency_weight": 1.0, "arch": "mlp",
     "pseudo_real_pairs": False},
])
def test_harness(kwargs, tmp_path):
    run_method_test("triple_gan", kwargs, tmp_path=tmp_path)


def test_enhanced_harness(tmp_path):
    run_method_test("enhanced_triple_gan", {"latent_dim": 8}, tmp_path=tmp_path)


def test_pretraining_steps_only_c_with_its_own_optimizer_then_the_game(digits50):
    """The code pre-trains C alone (its own Adam, 500 unlabelled images = "x" + "x2") before the game: during
    the first `pretrain_steps` steps D and G do not move and only "c_pretrain" steps; then D, C and G do."""
    import numpy as np

    model = zoo.load("triple_gan", input_shape=digits50.input_shape, num_classes=10, arch="mlp", latent_dim=4,
                     pretrain_steps=2, d_pseudo_batch=24, ema=0.9, seed=0)
    model.compile()
    assert (model.role_optimizers["c_pretrain"].beta_1, model.role_optimizers["c_pretrain"].epsilon) == (0.9, 1e-8)
    d_before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    c_before = [v.numpy().copy() for v in model.features.trainable_variables]
    model.fit(digits50, batch_size=32, epochs=1, steps_per_epoch=2, verbose=0)
    steps = {role: int(o.iterations) for role, o in model.role_optimizers.items()}
    assert steps == {"d": 0, "c": 0, "g": 0, "c_pretrain": 2}
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(d_before, model.discriminator.trainable_variables))
    assert not all(np.array_equal(a, v.numpy()) for a, v in zip(c_before, model.features.trainable_variables))
    model.fit(digits50, batch_size=32, epochs=1, steps_per_epoch=1, verbose=0)
    steps = {role: int(o.iterations) for role, o in model.role_optimizers.items()}
    assert steps == {"d": 1, "c": 1, "g": 1, "c_pretrain": 2}
    assert int(model.weight_average.steps) == 3  # averaged after every C step, pre-training too
    reference = zoo.load("triple_gan", input_shape=(28, 28, 1), num_classes=10, arch="triple_gan_mnist", ema=0.99)
    averaged = {v.path for v in reference.weight_average.variables}
    assert any("moving_mean" in p for p in averaged)  # C's batch-norm statistics are averaged too, as the code's
    assert averaged == {v.path for v in reference.features.variables + reference.classifier_head.variables
                        if "seed_generator" not in v.path}


def test_triple_gan_annealing_schedule():
    """x2y_yz2x_xy2p_ssl_mnist.py: lr *= 0.995 after every epoch from epoch 300 on."""
    import numpy as np

    from zoo.schedules import ConstantThenExponentialDecay

    schedule = ConstantThenExponentialDecay(1e-3, start_step=300 * 600, every=600, rate=0.995)
    rates = [float(schedule(t)) for t in (0, 179_999, 180_000, 180_599, 180_600, 600_000)]
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 1e-3 * 0.995, 1e-3 * 0.995, 1e-3 * 0.995 ** 2,
                                       1e-3 * 0.995 ** 701], rtol=1e-5)
    model = zoo.load("triple_gan", input_shape=(8, 8, 1), num_classes=10, arch="mlp", latent_dim=4,
                     anneal_start=10, anneal_every=5)
    model.compile()
    assert isinstance(model.role_optimizers["d"]._learning_rate, ConstantThenExponentialDecay)
    with pytest.raises(ValueError, match="multiple of num_classes"):
        zoo.load("triple_gan", input_shape=(8, 8, 1), num_classes=10, generator_batch=25)


@pytest.mark.learns
def test_triple_gan_learns_to_sample(learns_seed, request):
    """Digits-50, `arch="mlp"`, latent 32, lr 3e-4, R_P off, batch 64: what Triple-GAN learns at the
    budgets of these tests is the data's distribution. MMD^2 of 500 samples (labels 0-9 cycled) to
    500 test images, trained / untrained, after 100 steps (halved for the suite's 15 minutes), measured
    over seeds 0-4 (python -m tests.measured -n 1, commit d468794 + this budget): 0.104 / 0.098 / 0.107 /
    0.096 / 0.108 (C 0.872 / 0.812 / 0.866 / 0.858 / 0.844; at 200 steps 0.023-0.037, at 600 0.022-0.025).
    Bar: the worst seed x 1.15 = 0.125.

    What it does NOT learn at 600 steps: its classifier does not beat the same mlp trained on the
    labels alone (C 0.856 / 0.838 / 0.880 / 0.888 / 0.872 at seeds 0-4 against a baseline of
    0.862 / 0.828 at seeds 0 / 1, gain -0.006 / +0.010; within +-0.02 in every earlier measurement),
    and its samples are not yet of the class asked for (an mlp trained on all 1,297 digits, 0.964
    test accuracy, labels them as asked 12.8 % / 14.8 % of the time, against 12.2 % / 8.2 %
    untrained). So no classification bar is claimed: that is the reproduction issue's to find.
    """
    data = zoo.data.load("digits", labels=50, seed=learns_seed)
    keras.utils.set_random_seed(learns_seed)
    model = zoo.load("triple_gan", input_shape=data.input_shape, num_classes=10, seed=learns_seed, arch="mlp",
                     latent_dim=32, learning_rate=3e-4, pseudo_weight=0.0)
    untrained = sample_mmd2(model, data)
    model.fit(data.train(64), epochs=1, steps_per_epoch=100, verbose=0)
    trained = sample_mmd2(model, data)
    accuracy = model.evaluate(data.test(), return_dict=True, verbose=0)["accuracy"]
    report(request, mmd_ratio=trained / untrained, accuracy=accuracy)
    assert trained <= TRIPLE_GAN_MMD_RATIO_BAR * untrained, (untrained, trained)


TRIPLE_GAN_MMD_RATIO_BAR = 0.125
