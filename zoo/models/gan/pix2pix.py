"""Paired image-to-image translation with a conditional GAN: pix2pix (Isola et al. 2017)."""

from __future__ import annotations

import keras
from keras import ops

from zoo import losses, nets
from zoo.base import PAIRED_BATCH_KEYS, ZooModel
from zoo.registry import register


@register("pix2pix")
class Pix2Pix(ZooModel):
    """pix2pix: a U-Net G(x) trained against a PatchGAN D on (source, output) pairs, plus an L1 term.

    Isola, Zhu, Zhou & Efros 2017. The conditional GAN's objective (Eq. 1)
    and the L1 distance to the target (Eq. 3) combine into (Eq. 4)

        G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),
        L_cGAN = E_{x,y} log D(x, y) + E_x log(1 - D(x, G(x))),   L_L1 = E_{x,y} ||y - G(x)||_1.

    D judges pairs: it sees the source x beside the image, so a G whose
    output is realistic but unrelated to x loses (Sec. 4.2: the
    unconditional D of "L1 + GAN" cannot tell; `pair_discriminator=False`
    builds it, for that comparison). L1 alone gives the blurry mean of the
    plausible outputs; the GAN term sharpens it. D is a PatchGAN
    (Sec. 3.2.2, `zoo.nets.patch_discriminator`): one logit per patch,
    averaged; G a U-Net (`zoo.nets.unet`), whose skips pass the source's
    structure straight to the output. Training as Sec. 3.3: one D step, one
    G step; D's objective halved; G ascends log D(x, G(x)) (non-saturating);
    Adam(2e-4, beta_1 0.5); lambda = 100; no z: dropout in G's decoder is
    its noise.

    Batches are `{"x": source, "y": target}` (`zoo.data.load_pairs`, e.g.
    Sobel edges -> images); `translate(x)` maps sources to outputs.

    Deviations: the paper's nets are for 256x256 (an 8-level U-Net, a 70x70
    PatchGAN); here the U-Net halves the image as often as its sides allow
    (3 times on 8x8, 2 on 28x28; `zoo.nets.unet_depth`) and D has
    `patch_layers` stride-2 blocks (1 on images under 16 pixels, 2 under
    64, else 3: patches of 10 / 22 / 70 pixels); batch norm in training mode
    and dropout are not kept at test time (the paper keeps both: its batch
    size 1 makes batch norm instance norm); batches of 64 (the paper: 1-10).

    Args:
        input_shape: the source's (height, width, channels).
        output_channels: the target's channels (default: the source's).
        l1_weight: lambda.
        pair_discriminator: D reads (x, y) pairs (True, the paper) or y alone.
        filters: the nets' first width (the paper's 64).
        patch_layers: D's stride-2 blocks (None: by image size, above).
        dropout: G's decoder dropout.
        learning_rate, beta_1: Adam's, for both players.
        seed: seed of the model's dropout.

    Example:
        >>> import zoo
        >>> pairs = zoo.data.load_pairs("digits", source="edges")
        >>> model = zoo.load("pix2pix", filters=16)
        >>> model.fit(pairs, epochs=1, batch_size=64, verbose=0)
        >>> model.translate(pairs.source_test[:4]).shape
        (4, 8, 8, 1)

    Paper: Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", arXiv 1611.07004.
    """

    roles = ("d", "g")
    batch_keys = PAIRED_BATCH_KEYS
    log_names = ("d_loss", "g_loss", "l1")
    eval_log_names = ("d_loss", "l1")

    def __init__(self, input_shape, output_channels=None, l1_weight=100.0, pair_discriminator=True, filters=64,
                 patch_layers=None, dropout=0.5, learning_rate=2e-4, beta_1=0.5, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0; got {l1_weight!r}")
        self.output_channels = int(output_channels or self.image_shape[-1])
        self.l1_weight, self.pair_discriminator = float(l1_weight), bool(pair_discriminator)
        self.filters, self.dropout = int(filters), float(dropout)
        side = min(self.image_shape[:2])
        self.patch_layers = int(patch_layers or (1 if side < 16 else 2 if side < 64 else 3))
        self.learning_rate, self.beta_1 = float(learning_rate), float(beta_1)
        self.generator = nets.unet(self.image_shape, self.output_channels, filters=self.filters,
                                   dropout=self.dropout, name="generator")
        d_channels = self.output_channels + (self.image_shape[-1] if self.pair_discriminator else 0)
        self.discriminator = nets.patch_discriminator(self.image_shape[:2] + (d_channels,), filters=self.filters,
                                                      layers_=self.patch_layers, name="discriminator")
        self._finish_build()

    def role_layers(self):
        return {"d": [self.discriminator], "g": [self.generator]}

    def default_optimizers(self):
        return {role: keras.optimizers.Adam(self.learning_rate, beta_1=self.beta_1) for role in self.roles}

    def patch_logits(self, source, image, training=False):
        """D's logit per patch for `image` given `source` (or `image` alone, without pair_discriminator)."""
        pair = ops.concatenate([source, image], axis=-1) if self.pair_discriminator else image
        return self.discriminator(pair, training=training)

    def discriminator_losses(self, x, y, training=True):
        fake = ops.stop_gradient(self.generator(x, training=training))
        # The two cross-entropies halved (Sec. 3.3: "we divide the objective by 2 while optimizing D").
        loss = 0.5 * (losses.real_logit_loss(self.patch_logits(x, y, training))
                      + losses.fake_logit_loss(self.patch_logits(x, fake, training)))
        return loss, {"d_loss": loss}

    def l1(self, y, output):
        """E ||y - G(x)||_1, per pixel (the mean absolute difference)."""
        return ops.mean(ops.abs(y - output))

    def generator_losses(self, x, y):
        output = self.generator(x, training=True)
        adversarial = losses.real_logit_loss(self.patch_logits(x, output, training=True))
        l1 = self.l1(y, output)
        return adversarial + self.l1_weight * l1, {"g_loss": adversarial, "l1": l1}

    def train_step(self, batch):
        x, y = self.unpack(batch, "x", "y")
        _, d_logs = self.minimize("d", lambda: self.discriminator_losses(x, y))
        _, g_logs = self.minimize("g", lambda: self.generator_losses(x, y))
        return self.track(self.log_names, {**d_logs, **g_logs})

    def test_step(self, data):
        """D's loss and G's L1 on held-out (source, target) pairs."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("evaluate() of pix2pix needs (source, target) batches, e.g. zoo.data.load_pairs(...)")
        d_loss, _ = self.discriminator_losses(x, y, training=False)
        return self.track(self.eval_log_names, {"d_loss": d_loss, "l1": self.l1(y, self.generator(x))})

    def call(self, x, training=False):
        """G(x): the translation of sources `x`."""
        return self.generator(x, training=training)

    def translate(self, x, batch_size=500):
        """G(x) for sources `x` in [-1, 1], as a numpy array."""
        self._require_built("translate")
        return self._map_batches(lambda b: self.generator(b, training=False), x, batch_size)
