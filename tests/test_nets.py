"""`zoo.nets`: architectures registered by name, and their parameter counts checked by hand."""

import keras
import numpy as np
import pytest

from zoo import nets
from zoo.registry import Registry

LATENT = 16


def conv(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def dense(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def bn(n, scale=True):  # gamma (if scale), beta, moving mean and variance
    return (4 if scale else 3) * n


def wn(n_in, n_out):  # weight-normed dense: v, g and b
    return n_in * n_out + 2 * n_out


def attention(c):  # SAGAN's block: bias-free 1x1 convs f, g, h (c -> c/8) and v (c/8 -> c), and gamma
    return 3 * conv(1, c, c // 8, False) + conv(1, c // 8, c, False) + 1


# (arch, image shape) -> (features, generator from a code of LATENT) parameter counts, by hand.
COUNTS = {
    ("mlp", (8, 8, 1)): (
        dense(64, 1000) + dense(1000, 500) + dense(500, 250),
        dense(LATENT, 500, False) + bn(500) + dense(500, 500, False) + bn(500) + dense(500, 64)),
    ("conv_small", (8, 8, 1)): (
        conv(3, 1, 32) + conv(3, 32, 64) + conv(3, 64, 128),
        dense(LATENT, 2 * 2 * 128, False) + bn(2 * 2 * 128) + conv(4, 128, 64, False) + bn(64) + conv(4, 64, 1)),
    ("dcgan", (28, 28, 1)): (
        conv(4, 1, 64) + conv(4, 64, 128),
        dense(LATENT, 7 * 7 * 256, False) + bn(7 * 7 * 256) + conv(4, 256, 128, False) + bn(128) + conv(4, 128, 1)),
    ("conv_large", (32, 32, 3)): (
        conv(3, 3, 96) + 2 * conv(3, 96, 96) + conv(3, 96, 192) + 3 * conv(3, 192, 192) + 2 * conv(1, 192, 192),
        dense(LATENT, 4 * 4 * 512, False) + bn(4 * 4 * 512) + conv(5, 512, 256, False) + bn(256)
        + conv(5, 256, 128, False) + bn(128) + conv(5, 128, 3)),
    # Improved-GAN's MNIST code: D 1000-500-250-250-250 weight-normed (v, g, b per layer); G two dense 500
    # without bias, batch norm without gamma (beta, moving mean and variance), a weight-normed 784 output.
    ("improved_gan_mnist", (28, 28, 1)): (
        wn(784, 1000) + wn(1000, 500) + wn(500, 250) + wn(250, 250) + wn(250, 250),
        dense(LATENT, 500, False) + bn(500, False) + dense(500, 500, False) + bn(500, False) + wn(500, 784)),
    # Bad GAN's: the same D; G's batch norm keeps gamma.
    ("bad_gan_mnist", (28, 28, 1)): (
        wn(784, 1000) + wn(1000, 500) + wn(500, 250) + wn(250, 250) + wn(250, 250),
        dense(LATENT, 500, False) + bn(500) + dense(500, 500, False) + bn(500) + wn(500, 784)),
    # Triple-GAN's: C five conv blocks without bias, each with batch norm (gamma, beta, mean, variance), global
    # pooling; G unconditioned here (its conditional form is pinned below).
    ("triple_gan_mnist", (28, 28, 1)): (
        conv(5, 1, 32, False) + bn(32) + conv(3, 32, 64, False) + bn(64) + conv(3, 64, 64, False) + bn(64)
        + conv(3, 64, 128, False) + bn(128) + conv(3, 128, 128, False) + bn(128),
        dense(LATENT, 500, False) + bn(500) + dense(500, 500, False) + bn(500) + wn(500, 784)),
    # Kingma et al. 2014's M2: 500 softplus each way (q(y|x)'s hidden layer; the decoder's shape).
    ("m2_mnist", (28, 28, 1)): (dense(784, 500), dense(LATENT, 500) + dense(500, 784)),
    # SAGAN's miniature: D 32, 64/2, attention, 128/2; G dense to 2x2x128, up + 64 (attention), up + 32, out.
    ("sagan", (8, 8, 1)): (
        conv(3, 1, 32) + conv(4, 32, 64) + attention(64) + conv(4, 64, 128),
        dense(LATENT, 2 * 2 * 128, False) + bn(2 * 2 * 128) + conv(3, 128, 64, False) + bn(64) + attention(64)
        + conv(3, 64, 32, False) + bn(32) + conv(3, 32, 1)),
    # Kingma et al. 2014's M1: 2 x 500 softplus each way.
    ("m1_mnist", (28, 28, 1)): (
        dense(784, 500) + dense(500, 500),
        dense(LATENT, 500) + dense(500, 500) + dense(500, 784)),
    # DANN's MNIST net (Ganin et al. 2016, Fig. 4a): 5x5 convs 32 and 48, each with a 2x2 max-pool; no generator.
    ("dann_mnist", (28, 28, 1)): (conv(5, 1, 32) + conv(5, 32, 48), None),
}

# The head on the features: a plain dense layer, or the architecture's own.
HEADS = {"improved_gan_mnist": wn(250, 10), "bad_gan_mnist": wn(250, 10),
         # DANN's label predictor on the 7x7x48 features: dense 100, dense 100, logits.
         "dann_mnist": dense(7 * 7 * 48, 100) + dense(100, 100) + dense(100, 10)}


def test_m2_mnist_supervised_net_is_m2s_reference_classifier():
    import zoo

    m2 = zoo.load("m2", input_shape=(28, 28, 1), num_classes=10, reference_nets=True, hidden=500)
    baseline = zoo.load("supervised", input_shape=(28, 28, 1), num_classes=10, arch="m2_mnist", dropout=0.0,
                        input_noise=0.0)
    shapes = [tuple(v.shape) for v in m2.classifier.weights + m2.classifier_head.weights]
    assert shapes == [tuple(v.shape) for v in baseline.trainable_variables] == [(784, 500), (500,), (500, 10), (10,)]
    kinds = [layer.get_config().get("activation") for layer in baseline.features.layers if hasattr(layer, "units")]
    assert kinds == ["softplus"]


def test_triple_gan_mnist_pair_nets_take_the_label_before_every_layer():
    """x2y_yz2x_xy2p_ssl_mnist.py: D = noise 0.3, then [h; y] before each of 1000-500-250-250-250 and the
    sigmoid unit (weight-normed, scale fixed at 1); G = [z; y] -> 500 -> [h; y] -> 500 -> [h; y] -> 784."""
    from zoo.layers import WeightNormDense

    k = 10
    d = nets.pair_discriminator("triple_gan_mnist", (28, 28, 1), k, input_noise=0.3)
    assert d.count_params() == (wn(784 + k, 1000) + wn(1000 + k, 500) + wn(500 + k, 250) + wn(250 + k, 250)
                                + wn(250 + k, 250) + wn(250 + k, 1))
    dense_layers = [layer for layer in d.layers if isinstance(layer, WeightNormDense)]
    assert not any(layer.g.trainable for layer in dense_layers)
    assert sum(isinstance(layer, keras.layers.Concatenate) for layer in d.layers) == 6
    g = nets.conditional_generator("triple_gan_mnist", 100, k, (28, 28, 1))
    assert g.count_params() == (dense(100 + k, 500, False) + bn(500) + dense(500 + k, 500, False) + bn(500)
                                + wn(500 + k, 784))
    # Other architectures: the generator on [z; y], the classic pair discriminator.
    plain = nets.conditional_generator("mlp", 100, k, (28, 28, 1))
    assert plain.count_params() == nets.generator("mlp", 100 + k, (28, 28, 1)).count_params()


def test_the_registered_architectures():
    assert nets.ARCHITECTURES == ("mlp", "conv_small", "dcgan", "improved_gan_mnist", "bad_gan_mnist",
                                  "triple_gan_mnist", "m1_mnist", "m2_mnist", "sagan", "conv_large",
                                  "dann_mnist")
    assert {arch for arch, _ in COUNTS} == set(nets.ARCHITECTURES)
    assert all(nets.get(name).name == name for name in nets.ARCHITECTURES)


@pytest.mark.parametrize("arch,shape", list(COUNTS))
def test_parameter_counts_by_hand(arch, shape):
    n_features, n_generator = COUNTS[arch, shape]
    trunk = nets.features(arch, shape)
    assert trunk.count_params() == n_features
    if n_generator is None:  # a classifier net only
        with pytest.raises(ValueError, match=f"net '{arch}' is a classifier net without a generator"):
            nets.generator(arch, LATENT, shape)
    else:
        generator = nets.generator(arch, LATENT, shape)
        assert generator.count_params() == n_generator and generator.output.shape[1:] == shape
    _, head = nets.classifier(arch, shape, 10)
    assert head.count_params() == HEADS.get(arch, dense(trunk.output.shape[-1], 10))


def test_improved_gan_mnist_trains_the_scales_the_reference_trains():
    """The code freezes the hidden layers' weight scale after its init (`DenseLayer(train_scale=False)`) and
    trains the output layer's and the generator's; the noise: 0.5 after every hidden layer, the last one
    (before the head) in the head, so that the features are the last 250 units before their noise."""
    from zoo.layers import WeightNormDense

    trunk, head = nets.classifier("improved_gan_mnist", (28, 28, 1), 10)
    hidden = [layer for layer in trunk.layers if isinstance(layer, WeightNormDense)]
    assert [layer.units for layer in hidden] == [1000, 500, 250, 250, 250]
    assert not any(layer.g.trainable for layer in hidden) and all(layer.v.trainable for layer in hidden)
    noise = [layer.stddev for layer in trunk.layers if isinstance(layer, keras.layers.GaussianNoise)]
    assert noise == [0.5] * 4 and trunk.output.shape[-1] == 250
    assert [type(layer).__name__ for layer in head.layers[1:]] == ["GaussianNoise", "WeightNormDense"]
    assert head.layers[-1].g.trainable
    generator = nets.generator("improved_gan_mnist", LATENT, (28, 28, 1))
    output = [layer for layer in generator.layers if isinstance(layer, WeightNormDense)]
    assert len(output) == 1 and output[0].g.trainable and output[0].units == 784
    # the code's sigmoid(a) on [0, 1] is tanh(a / 2) on [-1, 1]
    assert [type(layer).__name__ for layer in generator.layers[-3:]] == ["Rescaling", "Reshape", "Activation"]


def test_options_change_the_counts_as_they_should():
    plain = COUNTS["conv_small", (8, 8, 1)][0]
    assert nets.features("conv_small", (8, 8, 1), weight_norm=True).count_params() == plain + 32 + 64 + 128  # g
    assert nets.features("conv_small", (8, 8, 1), width=0.5).count_params() == (
        conv(3, 1, 16) + conv(3, 16, 32) + conv(3, 32, 64))
    # virtual batch norm keeps gamma and beta, no moving statistics
    assert nets.generator("conv_small", LATENT, (8, 8, 1), virtual_batch=4).count_params() == (
        COUNTS["conv_small", (8, 8, 1)][1] - 2 * (2 * 2 * 128) - 2 * 64)


def test_unknown_architecture_names_the_close_one_and_lists_the_known():
    with pytest.raises(ValueError, match=r"unknown architecture 'conv_smal'\. Did you mean 'conv_small'\? "
                                         r"Known architectures: auto, bad_gan_mnist, conv_large, conv_small, dann_mnist, dcgan, improved_gan_mnist, m1_mnist, "
                                         r"m2_mnist, "
                                         r"mlp, sagan, triple_gan_mnist\."):
        nets.resolve_arch("conv_smal", (8, 8, 1))
    with pytest.raises(ValueError, match="unknown architecture 'resnet'.*Known architectures: bad_gan_mnist, conv_large"):
        nets.features("resnet", (8, 8, 1))
    assert nets.resolve_arch("auto", (8, 8, 1)) == "conv_small" and nets.resolve_arch("auto", (28, 28, 1)) == "dcgan"


def test_a_registered_architecture_serves_every_builder():
    @nets.register("test_tiny")
    class Tiny(nets.Architecture):
        side = None

        @staticmethod
        def features(h, parts):
            return parts.dropout(parts.dense(parts.units(8))(keras.layers.Flatten()(h)))

        @staticmethod
        def generator(z, output_shape, parts):
            return keras.layers.Reshape(output_shape)(keras.layers.Dense(int(np.prod(output_shape)))(z))

    try:
        assert "test_tiny" in nets.ARCHITECTURES and nets.resolve_arch("test_tiny", (5, 3, 1)) == "test_tiny"
        assert nets.features("test_tiny", (5, 3, 1), width=0.5).count_params() == dense(15, 4)
        assert nets.generator("test_tiny", 2, (5, 3, 1)).output.shape[1:] == (5, 3, 1)
        assert nets.pair_discriminator("test_tiny", (5, 3, 1), 2, hidden=4).count_params() == (
            dense(15, 8) + dense(8 + 2, 4) + dense(4 + 2, 1))
        with pytest.raises(ValueError, match="already registered"):
            nets.register("test_tiny")(type("Other", (nets.Architecture,), {}))
    finally:
        nets._ARCHITECTURES._entries.pop("test_tiny")


def test_registry_helper():
    things = Registry("thing")
    things.register("alpha")(1)
    assert things.get("alpha") == 1 and "alpha" in things and things.names() == ("alpha",)
    with pytest.raises(ValueError, match=r"unknown thing 'alpah'\. Did you mean 'alpha'\? Known things: alpha\."):
        things.get("alpah")
    with pytest.raises(ValueError, match=r"unknown thing None\. Known things: alpha, beta\."):
        things.get(None, also=("beta",))
