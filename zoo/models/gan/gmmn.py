"""Generative moment matching networks (Li, Swersky & Zemel 2015): on pixels and on autoencoder codes."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.registry import register

PIXEL_BANDWIDTHS = (2.0, 5.0, 10.0, 20.0, 40.0, 80.0)
CODE_BANDWIDTHS = (0.5, 1.0, 2.0, 4.0)


@register("gmmn")
class GMMN(ZooModel):
    """Generative moment matching network: a generator trained by the MMD with a mix of Gaussian kernels.

    Li, Swersky & Zemel 2015. A generator G maps uniform noise h ~ U[-1, 1]^d
    to images; there is no discriminator: G minimises the maximum mean
    discrepancy between a minibatch of data x and a minibatch of samples G(h),
    estimated with a sum of Gaussian kernels of several bandwidths (Eq. 2-3,
    Sec. 3.2):

        MMD^2 = 1/N^2 sum k(x_i, x_j) - 2/(NM) sum k(x_i, G(h_j)) + 1/M^2 sum k(G(h_i), G(h_j)),
        k(a, b) = sum_s exp(-||a - b||^2 / (2 s^2)),
        L_G = sqrt(MMD^2)   (the paper found the square root trains better).

    The kernels see pixels mapped to [0, 1], the paper's scale, so its
    bandwidths (2, 5, 10, 20, 40, 80) apply.

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of the noise h.
        bandwidths: the s of the kernels.
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (the paper: an MLP).
        learning_rate: Adam's learning rate.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("gmmn", input_shape=data.input_shape)
        >>> model.fit(data.train(100), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.sample(16).shape
        (16, 8, 8, 1)

    Paper: Li, Swersky & Zemel, "Generative Moment Matching Networks", arXiv 1502.02761.
    """

    roles = ("g",)
    log_names = ("mmd",)
    eval_log_names = ("mmd",)

    def __init__(self, input_shape, latent_dim=10, bandwidths=PIXEL_BANDWIDTHS, arch="mlp", learning_rate=1e-3,
                 seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        self._store(latent_dim, bandwidths, arch, learning_rate)
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.generator = nets.generator(resolved, self.latent_dim, self.image_shape)
        self._finish_build()

    def _store(self, latent_dim, bandwidths, arch, learning_rate):
        bandwidths = [float(s) for s in bandwidths]
        if not bandwidths or min(bandwidths) <= 0:
            raise ValueError(f"bandwidths must be positive numbers; got {bandwidths!r}")
        self.latent_dim = int(latent_dim)
        self.bandwidths = bandwidths
        self.arch = arch
        self.learning_rate = float(learning_rate)

    def role_layers(self):
        return {"g": [self.generator]}

    def default_optimizers(self):
        # The paper trains by minibatch SGD with momentum; Adam is our choice.
        return {"g": keras.optimizers.Adam(self.learning_rate)}

    def noise(self, n, seed=None):
        return keras.random.uniform((n, self.latent_dim), -1.0, 1.0, seed=seed or self.seed_generator)

    def generator_losses(self, x, h, training=True):
        loss = losses.mmd((x + 1.0) / 2.0, (self.generator(h, training=training) + 1.0) / 2.0, self.bandwidths)
        return loss, {"mmd": loss}

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        h = self.noise(ops.shape(x)[0])
        _, logs = self.minimize("g", lambda: self.generator_losses(x, h))
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        """sqrt(MMD^2) between a test batch and as many samples (a sample-quality score)."""
        return {"mmd": self.generator_losses(x, self.noise(ops.shape(x)[0]), training=False)[0]}

    def call(self, h, training=False):
        """Images G(h) from noise h."""
        return self.generator(h, training=training)

    def _sample_batch(self, n, labels, seed_generator):
        return self.generator(self.noise(n, seed_generator), training=False)


@register("gmmn_ae")
class GMMNAutoencoder(GMMN):
    """GMMN+AE: a GMMN that generates the codes of a dropout autoencoder.

    Li, Swersky & Zemel 2015, Sec. 3.3: an autoencoder (encoder E with a
    sigmoid code, decoder D, dropout on the code) learns a code space; a
    GMMN G maps noise h ~ U[-1, 1]^d to codes by minimising sqrt(MMD^2)
    between G(h) and the codes E(x) of a data minibatch; samples are D(G(h)).

        L_AE = mean ||x - D(dropout(E(x)))||^2                           (role "ae")
        L_G  = sqrt(MMD^2(E(x), G(h)))   with E(x) held fixed            (role "g")

    Deviation: the paper pre-trains the autoencoder and then fits the GMMN to
    its fixed codes; here each `train_step` takes one autoencoder step and then
    one GMMN step on the current codes, so one `fit` trains both (the GMMN
    follows the codes as the autoencoder converges).

    Args:
        input_shape: (height, width, channels).
        latent_dim: size of the noise h.
        code_dim: size of the autoencoder's code.
        bandwidths: the s of the kernels on codes in [0, 1].
        code_dropout: dropout rate on the code in training.
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES` (the autoencoder).
        generator_units: hidden layers of the code generator (an MLP, as in the paper).
        learning_rate, seed: as `gmmn`.

    Example:
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("gmmn_ae", input_shape=data.input_shape, code_dim=8)
        >>> model.fit(data.train(100), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.encode(data.x_test[:4]).shape
        (4, 8)

    Paper: Li, Swersky & Zemel, "Generative Moment Matching Networks", arXiv 1502.02761.
    """

    roles = ("ae", "g")
    log_names = ("reconstruction", "mmd")
    eval_log_names = ("reconstruction",)

    def __init__(self, input_shape, latent_dim=10, code_dim=32, bandwidths=CODE_BANDWIDTHS, code_dropout=0.1,
                 arch="auto", generator_units=(64, 256, 256), learning_rate=1e-3, seed=None, **kwargs):
        ZooModel.__init__(self, input_shape, seed=seed, **kwargs)
        self._store(latent_dim, bandwidths, arch, learning_rate)
        if not 0.0 <= code_dropout < 1.0:
            raise ValueError(f"code_dropout must be in [0, 1); got {code_dropout}")
        self.code_dim = int(code_dim)
        self.code_dropout = float(code_dropout)
        self.generator_units = [int(u) for u in generator_units]
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.encoder = nets.features(resolved, self.image_shape, name="encoder")
        self.code_head = keras.layers.Dense(self.code_dim, activation="sigmoid", dtype="float32", name="code")
        self.code_head.build((None, self.encoder.output.shape[-1]))
        self.dropout_layer = keras.layers.Dropout(self.code_dropout, seed=seed)
        self.dropout_layer.build((None, self.code_dim))
        self.decoder = nets.generator(resolved, self.code_dim, self.image_shape, name="decoder")
        self.generator = nets.vector_mlp(self.latent_dim, self.generator_units, self.code_dim,
                                         output_activation="sigmoid", name="code_generator")
        self._finish_build()

    def role_layers(self):
        return {"ae": [self.encoder, self.code_head, self.decoder], "g": [self.generator]}

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate) for role in self.roles}

    def code(self, x, training=False):
        return self.code_head(self.encoder(x, training=training))

    def autoencoder_losses(self, x, training=True):
        h = self.dropout_layer(self.code(x, training), training=training)
        loss = losses.mean_squared_error(x, self.decoder(h, training=training))
        return loss, {"reconstruction": loss}

    def generator_losses(self, x, h, training=True):
        codes = ops.stop_gradient(self.code(x, training=False))
        loss = losses.mmd(codes, self.generator(h, training=training), self.bandwidths)
        return loss, {"mmd": loss}

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        h = self.noise(ops.shape(x)[0])
        _, ae_logs = self.minimize("ae", lambda: self.autoencoder_losses(x))
        _, g_logs = self.minimize("g", lambda: self.generator_losses(x, h))
        return self.track(self.log_names, {**ae_logs, **g_logs})

    def call(self, x, training=False):
        """Reconstruction D(E(x))."""
        return self.decoder(self.code(x, training), training=training)

    def evaluation_terms(self, x):
        return {"reconstruction": ops.mean(ops.square(x - self(x)), axis=(1, 2, 3))}

    def _sample_batch(self, n, labels, seed_generator):
        return self.decoder(self.generator(self.noise(n, seed_generator), training=False), training=False)

    def _encode_batch(self, x):
        return self.code(x)
