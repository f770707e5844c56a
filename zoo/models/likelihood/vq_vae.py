"""VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017): an autoencoder with a discrete latent grid, and a
PixelCNN prior over its codes.

The model, as the paper's Sec. 3 defines it and this module implements it:

* The encoder maps an image to a grid of vectors z_e(x) in R^D (`zoo.nets.vq_vae_encoder`).
* The quantiser (`zoo.layers.VectorQuantizer`) replaces each vector by its nearest code of a codebook
  e_1..e_K in R^D (Eqs. 1-2):

      k = argmin_j ||z_e(x) - e_j||^2,      z_q(x) = e_k.

  The posterior q(z = k | x) is one-hot on that k at every position.
* The decoder (`zoo.nets.vq_vae_decoder`) models p(x | z_q) as independent Bernoulli pixels, the pixels
  mapped from [-1, 1] to [0, 1] (the likelihood of the zoo's `vae` with `likelihood="bernoulli"`, so the two
  report bounds in the same nats per image; `binarize="dynamic"` draws binary pixels afresh every step,
  `zoo.losses.binarize_dynamically`, otherwise the grey levels are the targets, a cross-entropy as in
  `vae`). The paper's images used other pixel likelihoods; a Bernoulli keeps the zoo's MNIST numbers in one
  unit, where a Gaussian of fixed variance (MSE) would give a bound only for a chosen variance.
* The gradient of the decoder at z_q is copied to z_e, straight through the lookup (Sec. 3.2,
  `zoo.layers.straight_through`): z_e + sg[z_q - z_e] is z_q forward and the identity backward.
* Training minimises Eq. 3 per image, with beta = 0.25 as the paper:

      L = -log p(x | z_q(x)) + ||sg[z_e(x)] - e||^2 + beta ||z_e(x) - sg[e]||^2

  (`zoo.losses.codebook_loss`, `commitment_loss`: squared distances summed over the grid). The decoder
  follows the first term, the encoder the first and the third (the commitment), the codebook the second.
  With `codebook_update="ema"` the codebook follows exponential moving averages instead (Appendix A.1,
  decay 0.99, Laplace-smoothed counts; see `VectorQuantizer`) and the second term is only logged. The
  default is "loss", the paper's main method (Eq. 3); the appendix offers the EMA as an alternative.
* The prior p(k) over the grid of codes is a Gated PixelCNN on categorical inputs
  (`zoo.models.likelihood.pixelcnn.gated_pixelcnn_net` with `categories=K`: each code embedded, a softmax of
  K logits per position, raster order), trained by maximum likelihood on the codes of the training images.
  During the autoencoder's training the paper keeps p(k) uniform, and fits the PixelCNN afterwards.

Schedule. Each `train_step` takes one step of the autoencoder (roles "e", "q", "g": one loss, one tape,
each role's optimizer on its own weights) and then, once the autoencoder has taken `prior_start_steps`
steps, one step of the prior (role "p") on the codes of the same batch, computed by the encoder before its
step, without gradient. `prior_start_steps=0` (default) trains both alongside from the start; the paper's
order, the prior after the autoencoder, is `prior_start_steps` = the autoencoder's budget (its recipe
starts the prior half-way, the autoencoder training on). The phase is read from the "e" optimizer's step
count, so `fit` over several calls, `BackupAndRestore` and a `.keras` round trip resume it.

The bound (Sec. 3.1): q is one-hot, so KL(q(z|x) || p(z)) = -log p(k(x)) and

      log p(x) >= ELBO(x) = log p(x | z_q(x)) + log p(k(x)),

with the PixelCNN's log p(k) (the paper's uniform prior gives log p(k) = -(grid positions) log K, the bound
during the autoencoder's training; the PixelCNN's is the bound after). `elbo` and `evaluate`'s "elbo" are
the PixelCNN prior's, in nats per image; `log_prob` is not offered (q is deterministic: importance sampling
from it gives back the bound).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import VectorQuantizer, straight_through
from zoo.models.likelihood.pixelcnn import gated_pixelcnn_net, traced_inference
from zoo.registry import register


@register("vq_vae")
class VQVAE(ZooModel):
    """VQ-VAE: an autoencoder with a grid of discrete codes and a Gated PixelCNN prior over them.

    See the module's docstring for the equations (Eqs. 1-3 and Appendix A.1 of the paper), the likelihood,
    the bound and the schedule of the prior. Roles: "e" (encoder), "q" (codebook; absent with
    `codebook_update="ema"`, whose codebook is no trainable weight), "g" (decoder), "p" (prior), each with
    its own Adam optimizer (the paper: Adam, learning rate 2e-4).

    Logs `loss` (Eq. 3), `reconstruction` (log p(x|z_q), nats per image), `codebook`, `commitment` (the
    squared distances of Eq. 3, per image, commitment unweighted), `perplexity` (exp of the entropy of the
    codes' usage in the batch: how many codes are in use) and `prior_nll` (the prior's -log p(k) per grid
    position, nats; log K for a uniform prior). `evaluate` logs those (but `loss`), `elbo` (nats per image,
    the PixelCNN prior's bound) and `mse` (squared error of the reconstruction, the decoder's mean, per
    pixel in [-1, 1]).

    Capabilities: `encode(x)` gives the code indices, int32 of shape (n, h, w) (`codes_to_vectors` gives
    their vectors, `decode` the images); `sample(n)` draws a grid of codes from the prior, one position at
    a time in raster order (h x w passes of the prior), and decodes it to the decoder's mean in [-1, 1];
    `elbo(x)` as above.

    Args:
        input_shape: (height, width, channels).
        codebook_size: K (the paper: 512).
        embedding_dim: D, the size of each code.
        hidden: channels of the encoder's and decoder's convolutions (the paper: 256).
        residual_hidden: channels inside their residual blocks' 3x3 convolutions (the paper: 256).
        residual_blocks: residual blocks of the encoder and of the decoder (the paper: 2).
        downsamplings: the encoder's 4x4 stride-2 halvings (the paper: 2, 28x28 -> a 7x7 grid); "auto"
            (`zoo.nets.vq_vae_downsamplings`): two where the grid stays 4 or more a side, else one.
        beta: weight of the commitment term (the paper: 0.25).
        codebook_update: "loss" (Eq. 3) or "ema" (Appendix A.1).
        ema_decay, ema_epsilon: the EMA's decay (0.99) and the counts' Laplace smoothing.
        binarize: None (grey levels as Bernoulli targets) or "dynamic" (as `vae`).
        prior_filters, prior_layers, prior_kernel: the Gated PixelCNN prior's channels, gated layers and
            kernel size.
        prior_start_steps: autoencoder steps before the prior starts training (0: from the start).
        learning_rate: Adam's for "e", "q", "g" (the paper: 2e-4).
        prior_learning_rate: Adam's for "p" (the zoo's PixelCNNs' 1e-3).
        seed: seed of the model's noise (binarisation; sampling's when `sample` gets no seed).

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits")
        >>> model = zoo.load("vq_vae", input_shape=data.input_shape, codebook_size=32, embedding_dim=8,
        ...                  hidden=32, residual_hidden=16, learning_rate=1e-3)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=50, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["prior_nll"]
        >>> model.encode(data.x_test[:4]).shape, model.sample(16).shape
        ((4, 4, 4), (16, 8, 8, 1))

    Paper: van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning", NeurIPS 2017,
    arXiv 1711.00937.
    """

    roles = ("e", "q", "g", "p")
    log_names = ("loss", "reconstruction", "codebook", "commitment", "perplexity", "prior_nll")
    eval_log_names = ("elbo", "reconstruction", "mse", "codebook", "commitment", "perplexity", "prior_nll")

    def __init__(self, input_shape, codebook_size=512, embedding_dim=64, hidden=256, residual_hidden=256,
                 residual_blocks=2, downsamplings="auto", beta=0.25, codebook_update="loss", ema_decay=0.99,
                 ema_epsilon=1e-5, binarize=None, prior_filters=64, prior_layers=6, prior_kernel=3,
                 prior_start_steps=0, learning_rate=2e-4, prior_learning_rate=1e-3, seed=None, **kwargs):
        super().__init__(input_shape, seed=seed, **kwargs)
        if codebook_update not in VectorQuantizer.UPDATES:
            raise ValueError(f"codebook_update must be one of {VectorQuantizer.UPDATES}; got {codebook_update!r}")
        if codebook_size < 2 or embedding_dim < 1 or beta < 0 or prior_start_steps < 0:
            raise ValueError(f"need codebook_size >= 2, embedding_dim >= 1, beta >= 0 and prior_start_steps >= 0; "
                             f"got {codebook_size}, {embedding_dim}, {beta}, {prior_start_steps}")
        self.codebook_size, self.embedding_dim = int(codebook_size), int(embedding_dim)
        self.hidden, self.residual_hidden, self.residual_blocks = int(hidden), int(residual_hidden), int(residual_blocks)
        self.downsamplings = downsamplings
        steps = nets.vq_vae_downsamplings(self.image_shape) if downsamplings == "auto" else int(downsamplings)
        height, width, channels = self.image_shape
        if height % 2 ** steps or width % 2 ** steps:
            raise ValueError(f"{steps} halvings do not divide images of shape {self.image_shape}")
        self.grid_shape = (height // 2 ** steps, width // 2 ** steps)
        self.beta, self.codebook_update = float(beta), codebook_update
        self.ema_decay, self.ema_epsilon = float(ema_decay), float(ema_epsilon)
        self.binarize = losses.binarization(binarize)
        self.prior_filters, self.prior_layers, self.prior_kernel = int(prior_filters), int(prior_layers), int(prior_kernel)
        self.prior_start_steps = int(prior_start_steps)
        self.learning_rate, self.prior_learning_rate = float(learning_rate), float(prior_learning_rate)
        if codebook_update == "ema":  # the codebook is set by its moving averages: no optimizer of its own
            self.roles = ("e", "g", "p")
        net_sizes = {"hidden": self.hidden, "residual_hidden": self.residual_hidden,
                     "residual_blocks": self.residual_blocks}
        self.encoder = nets.vq_vae_encoder(self.image_shape, self.embedding_dim, downsamplings=steps, **net_sizes)
        self.quantizer = VectorQuantizer(self.codebook_size, self.embedding_dim, update=codebook_update,
                                         decay=self.ema_decay, epsilon=self.ema_epsilon, name="quantizer")
        self.quantizer.build()
        self.decoder = nets.vq_vae_decoder((*self.grid_shape, self.embedding_dim), channels, upsamplings=steps,
                                           **net_sizes)
        self.prior = gated_pixelcnn_net(self.grid_shape, self.prior_filters, self.prior_layers, self.prior_kernel,
                                        categories=self.codebook_size, name="prior")
        self._finish_build()

    def role_layers(self):
        layers = {"e": [self.encoder], "q": [self.quantizer], "g": [self.decoder], "p": [self.prior]}
        return {role: layers[role] for role in self.roles}

    def default_optimizers(self):
        return {**{role: keras.optimizers.Adam(self.learning_rate) for role in self.autoencoder_roles},
                "p": keras.optimizers.Adam(self.prior_learning_rate)}

    @property
    def autoencoder_roles(self):
        return tuple(role for role in self.roles if role != "p")

    # --------------------------------------------------------------- the terms
    def autoencoder_terms(self, x, training=False):
        """Eq. 3's terms on images `x` in [-1, 1]: per-image `reconstruction` log p(x|z_q), the batch means of
        `codebook` and `commitment`, the batch's `perplexity`, and `z_e`, `codes`, `logits` for the caller."""
        z_e = self.encoder(x, training=training)
        z_q, codes = self.quantizer(z_e)
        logits = self.decoder(straight_through(z_e, z_q), training=training)
        return {"reconstruction": losses.bernoulli_log_likelihood((x + 1.0) / 2.0, logits),
                "codebook": losses.codebook_loss(z_e, z_q), "commitment": losses.commitment_loss(z_e, z_q),
                "perplexity": losses.codebook_perplexity(codes, self.codebook_size),
                "z_e": z_e, "codes": codes, "logits": logits}

    def prior_log_density(self, codes, training=False):
        """log p(k) of grids of codes (n, h, w) under the PixelCNN prior, per grid (nats)."""
        per_position = losses.categorical_log_prob(codes, self.prior(codes, training=training))
        return ops.sum(ops.reshape(per_position, (ops.shape(codes)[0], -1)), axis=-1)

    def train_step(self, batch):
        x = self.unpack(batch, "x")
        if self.binarize == "dynamic":
            x = losses.binarize_dynamically(x, self.seed_generator)

        def autoencoder_loss():
            terms = self.autoencoder_terms(x, training=True)
            reconstruction = ops.mean(terms["reconstruction"])
            loss = -reconstruction + self.beta * terms["commitment"]
            if self.codebook_update == "loss":
                loss = loss + terms["codebook"]
            return loss, {**terms, "loss": loss, "reconstruction": reconstruction}

        _, logs = self.minimize(self.autoencoder_roles, autoencoder_loss)
        if self.codebook_update == "ema":
            self.quantizer.ema_update(logs["z_e"], logs["codes"])
        codes = ops.stop_gradient(logs["codes"])  # this batch's codes, from the encoder before its step
        positions = float(np.prod(self.grid_shape))

        def prior_loss():
            nll = -ops.mean(self.prior_log_density(codes, training=True))
            return nll, {"prior_nll": nll / positions}

        if self.prior_start_steps:  # the autoencoder alone first: the prior's optimizer neither steps nor counts
            prior_logs = ops.cond(self.role_optimizers["e"].iterations > self.prior_start_steps,
                                  lambda: self.minimize("p", prior_loss)[1], lambda: prior_loss()[1])
        else:
            _, prior_logs = self.minimize("p", prior_loss)
        return self.track(self.log_names, {**logs, **prior_logs})

    def evaluation_terms(self, x):
        terms = self.autoencoder_terms(x)
        prior_log_p = self.prior_log_density(terms["codes"])
        mean = 2.0 * ops.sigmoid(terms["logits"]) - 1.0
        return {**terms, "elbo": terms["reconstruction"] + prior_log_p,
                "mse": ops.mean(ops.square(mean - x)),
                "prior_nll": -ops.mean(prior_log_p) / float(np.prod(self.grid_shape))}

    # ------------------------------------------------------------- the codes
    def codes_to_vectors(self, codes):
        """z_q: the codebook's vectors of integer codes (n, h, w) -> (n, h, w, D)."""
        return self.quantizer.lookup(ops.convert_to_tensor(codes))

    def decode(self, codes):
        """The decoder's mean image in [-1, 1] of grids of codes (n, h, w)."""
        return 2.0 * ops.sigmoid(self.decoder(self.codes_to_vectors(codes), training=False)) - 1.0

    def call(self, x, training=False):
        """The reconstruction of `x`: the decoder's mean at z_q(x), in [-1, 1]."""
        return 2.0 * ops.sigmoid(self.autoencoder_terms(x, training)["logits"]) - 1.0

    # ---------------------------------------------------------- capabilities
    def _encode_batch(self, x):
        return self.quantizer.nearest_codes(self.encoder(x, training=False))

    def _elbo_batch(self, x):
        terms = self.autoencoder_terms(ops.convert_to_tensor(x))
        return terms["reconstruction"] + self.prior_log_density(terms["codes"])

    def _sample_batch(self, n, labels, seed_generator):
        height, width = self.grid_shape
        codes = np.zeros((n, height, width), "int32")
        if getattr(self, "_prior_forward", None) is None:
            self._prior_forward = traced_inference(self.prior)
        for i in range(height):  # raster order: position (i, j) is drawn given the codes drawn before it
            for j in range(width):
                logits = self._prior_forward(codes)[:, i, j, :]
                draw = keras.random.categorical(logits, 1, seed=seed_generator, dtype="int32")[:, 0]
                codes[:, i, j] = ops.convert_to_numpy(draw)
        return self.decode(codes)

