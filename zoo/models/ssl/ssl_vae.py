"""Semi-supervised VAEs of Kingma et al. 2014: M1 (latent features + a classifier) and M2."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import losses, nets
from zoo.base import ZooModel
from zoo.layers import expand_classes, reparameterize, soft_clip, split_gaussian
from zoo.models.likelihood.vae import VAE
from zoo.registry import register

WEIGHTINGS = ("paper", "equal")


def flat_trunk(input_shape, name):
    """No trunk: the image flattened, for the papers' fully connected nets whose first layer reads pixels."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    return keras.Model(inputs, keras.layers.Flatten()(inputs), name=name)


def dense_net(input_dim, units, output_shape, *, activation="softplus", batch_norm=False, name="dense_net"):
    """The papers' fully connected net, built at once: hidden layers `units` (each Dense, then batch
    norm if asked, then `activation`), a float32 linear output reshaped to `output_shape`.

    Kingma et al. 2014 use softplus and no batch norm; Maaløe et al. 2016 put batch norm before every
    ReLU (their `dense_layer`: Dense, BatchNorm, nonlinearity).
    """
    output_shape = (int(output_shape),) if isinstance(output_shape, int) else tuple(output_shape)
    inputs = keras.Input(shape=(int(input_dim),), name="vector")
    h = inputs
    for n in units:
        h = keras.layers.Dense(int(n), use_bias=not batch_norm)(h)  # batch norm's beta is the bias
        if batch_norm:
            h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Activation(activation)(h)
    h = keras.layers.Dense(math.prod(output_shape), dtype="float32")(h)
    if len(output_shape) > 1:
        h = keras.layers.Reshape(output_shape)(h)
    return keras.Model(inputs, h, name=name)


def weighted_objective(labeled, unlabeled, classification, alpha, weighting, num_labeled, num_unlabeled):
    """M2's loss from the batch means of L(x, y), U(x) and -log q(y|x) (see `M2`'s docstring).

    "paper": (N_l / N) (-labeled + alpha classification) + (N_u / N) (-unlabeled), N = N_l + N_u
    (Kingma et al. 2014, Eq. 9, divided by N); "equal": -labeled - unlabeled + alpha classification
    (the convention of Maaløe et al.'s code).
    """
    if weighting == "equal":
        return -(labeled + unlabeled) + alpha * classification
    total = float(num_labeled + num_unlabeled)
    return (num_labeled / total) * (alpha * classification - labeled) - (num_unlabeled / total) * unlabeled


@register("m2")
class M2(ZooModel):
    """M2: a generative semi-supervised model with the class summed out exactly (Kingma et al. 2014).

    Generative model (Eq. 2): p(y) = Cat(1/K), p(z) = N(0, I),
    p(x|y, z) = Bernoulli(decoder(z, y)) on pixels mapped to [0, 1].
    Inference model (Eq. 4): q(z|x, y) = N(mu(x, y), diag sigma^2(x, y)),
    q(y|x) = Cat(classifier(x)).

    Labelled bound (Eq. 6), one reparameterised z, KL in closed form:

        L(x, y) = E_q(z|x,y)[log p(x|y, z)] + log p(y) - KL(q(z|x,y) || p(z))

    Unlabelled bound (Eq. 7), y summed out over all K classes (never sampled):

        U(x) = sum_y q(y|x) L(x, y) + H(q(y|x))           (`zoo.losses.marginalized_bound`)

    Objective (Eq. 8-9). The paper sums the bounds over the data set and adds
    the classification loss on the labelled examples, with alpha = 0.1 N:

        J^a = sum_{(x,y) in D_l} -L(x, y) + sum_{x in D_u} -U(x) + a E_{D_l}[-log q(y|x)]

    `weighting="paper"` (default) minimises J^a / N with batch means in place
    of the data-set means (unbiased for them), N = N_l + N_u:

        loss = (N_l/N) [mean_l -L(x, y) + alpha mean_l -log q(y|x)] + (N_u/N) mean_u -U(x)

    where `alpha` = a / N_l = 0.1 N / N_l is the weight of each labelled
    example's cross-entropy beside its bound: Kingma's code's beta =
    alpha_code N / N_l with alpha_code = 0.1 (`learn_yz_x_ss.py`), and so
    the same number under both weightings. Arithmetic for MNIST-100 (the
    defaults, N_l = 100 labels, N_u = 60,000 unlabelled images):
    N_l/N = 100/60,100 = 0.00166, N_u/N = 0.99834, alpha = 0.1 * 60,100/100
    = 60.1 ~ 60, so the mean cross-entropy weighs 0.00166 * 60 = 0.0998 ~ 0.1
    and the mean labelled bound 0.00166, against ~1 for the mean unlabelled
    bound. Kingma's code (1 labelled + 499 unlabelled images per minibatch,
    beta = 0.1 * 50,000/100 = 50) gives the same: 0.002 (-L + 50 CE) +
    0.998 mean_u -U. Digits-50: N_l/N = 50/1,347 = 0.037, alpha = 0.1 *
    1,347/50 = 2.7 (2.6 with N = 1,297 unlabelled only).

    `weighting="equal"` weighs the two batch means alike, as Maaløe et al.'s
    code does (`sdgmssl.py`: -(mean_l L + mean_u U) with beta n / n_l on the
    mean cross-entropy), and as the zoo did before:

        loss = mean_l -L(x, y) + mean_u -U(x) + alpha mean_l -log q(y|x)

    Beside the unlabelled bound it weighs the labelled terms N / N_l times
    more than Eq. 9 (601x on MNIST-100).

    Pixels: `binarize="dynamic"` trains on a fresh Bernoulli draw of both
    batches every step (`zoo.losses.binarize_dynamically`), so the
    Bernoulli likelihood scores binary images; the classifier and encoder see
    the same draw. `classify` reads the grey test images.

    Nets: `reference_nets=True` builds the paper's (Sec. 4.1; Kingma's
    `MLP_Categorical` and `VAE_YZ_X`): every net one hidden layer of `hidden`
    softplus units on the flattened inputs, no batch norm:
    q(y|x) x-500-K, q(z|x,y) [x, y]-500-(mu, log sigma^2), p(x|y,z)
    [z, y]-500-x. Otherwise the zoo's `arch` trunks and generator stand in.
    Remaining deviations from the paper with `reference_nets=True`: Keras'
    initialisers (Kingma: N(0, 1e-3) weights), no N(0, I) weight prior
    (Kingma: log N(w; 0, 1) / N in the objective), Keras' Adam (Kingma's
    `AdaM` has no epsilon and no bias correction).

    `U(x)` is computed by `unlabeled_bound(x, ...)`, which receives no label.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z (paper: 50).
        arch: "auto" or a name from `zoo.nets.ARCHITECTURES`, for the trunks
            of q(y|x) and q(z|x,y) and for the decoder.
        hidden: hidden units of the q(z|x,y) head on [trunk(x), y] (paper: one
            layer of 500 softplus units on [x, y]); with `reference_nets`, of
            every net.
        width: width multiplier of the nets (not with `reference_nets`).
        alpha: weight of each labelled example's cross-entropy beside its
            bound, 0.1 N / N_l (see above; 60 for MNIST-100).
        weighting: "paper" (Eq. 9) or "equal" (see above).
        num_labeled, num_unlabeled: N_l and N_u of the data set, for
            `weighting="paper"` (defaults: MNIST-100, the zoo's unlabelled
            stream being every training image).
        binarize: None (grey levels as Bernoulli targets) or "dynamic".
        reference_nets: the paper's nets (see above) instead of `arch`'s.
        dropout, input_noise: regularisers of the classifier trunk (as
            `zoo.models.supervised`, so the supervised baseline uses the same
            net); the paper used none.
        learning_rate: Adam's learning rate (paper: 3e-4).
        likelihood: "bernoulli" (pixels mapped to [0, 1]) or "gaussian"
            (mean and bounded log-variance, as `VAE`; used on M1's codes by
            `m1_m2`).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("m2", input_shape=data.input_shape, num_classes=10, alpha=2.6,
        ...                  num_labeled=50, num_unlabeled=1297)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Kingma, Rezende, Mohamed, Welling, "Semi-Supervised Learning with
    Deep Generative Models", NIPS 2014, arXiv 1406.5298.
    """

    roles = ("vae",)
    log_names = ("loss", "labeled_bound", "unlabeled_bound", "classification")
    eval_log_names = ("elbo",)
    conditional = True

    LIKELIHOODS = ("bernoulli", "gaussian")

    def __init__(self, input_shape, num_classes, latent_dim=50, arch="auto", hidden=500, width=1.0, alpha=60.0,
                 dropout=0.0, input_noise=0.0, learning_rate=3e-4, likelihood="bernoulli", weighting="paper",
                 num_labeled=100, num_unlabeled=60_000, binarize=None, reference_nets=False, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0; got {alpha}")
        if likelihood not in self.LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {self.LIKELIHOODS}; got {likelihood!r}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}; got {weighting!r}")
        if int(num_labeled) < 1 or int(num_unlabeled) < 1:
            raise ValueError(f"num_labeled and num_unlabeled must be >= 1; got {num_labeled}, {num_unlabeled}")
        if reference_nets and int(hidden) < 1:
            raise ValueError("reference_nets needs hidden >= 1 (the units of every net)")
        self.likelihood = likelihood
        self.weighting = weighting
        self.num_labeled, self.num_unlabeled = int(num_labeled), int(num_unlabeled)
        self.binarize = losses.binarization(binarize, likelihood)
        self.reference_nets = bool(reference_nets)
        self.latent_dim = int(latent_dim)
        self.arch = arch
        self.hidden = int(hidden)
        self.width = float(width)
        self.alpha = float(alpha)
        self.dropout = float(dropout)
        self.input_noise = float(input_noise)
        self.learning_rate = float(learning_rate)
        k = self.num_classes
        height, width_, channels = self.image_shape
        out_shape = (height, width_, channels * (2 if likelihood == "gaussian" else 1))
        if self.reference_nets:
            self._build_reference_nets(out_shape)
        else:
            resolved = nets.resolve_arch(arch, self.image_shape)
            self.classifier = nets.features(resolved, self.image_shape, dropout=self.dropout,
                                            input_noise=self.input_noise, width=self.width, name="c_features")
            self.classifier_head = nets.dense_head(k, self.classifier.output.shape[-1], "c_logits")
            self.encoder = nets.features(resolved, self.image_shape, width=self.width, name="encoder")
            self.decoder = nets.generator(resolved, self.latent_dim + k, out_shape, output_activation=None,
                                          width=self.width, name="decoder")
        self.posterior_head = nets.vector_mlp(self.encoder.output.shape[-1] + k, [self.hidden] if self.hidden else [],
                                            2 * self.latent_dim, activation="softplus", name="posterior")
        self._finish_build()

    def _build_reference_nets(self, out_shape):
        """Kingma et al. 2014's nets: one hidden layer of `hidden` softplus units each, on the flattened x."""
        k, pixels, units = self.num_classes, math.prod(self.image_shape), [self.hidden]
        self.classifier = flat_trunk(self.image_shape, "c_features")
        if self.dropout or self.input_noise:  # the regularisers of the classifier, on the pixels
            inputs = keras.Input(shape=self.image_shape, name="image")
            h = keras.layers.GaussianNoise(self.input_noise)(inputs) if self.input_noise else inputs
            h = keras.layers.Flatten()(h)
            self.classifier = keras.Model(inputs, keras.layers.Dropout(self.dropout)(h) if self.dropout else h,
                                          name="c_features")
        self.classifier_head = dense_net(pixels, units, k, name="c_logits")
        self.encoder = flat_trunk(self.image_shape, "encoder")
        self.decoder = dense_net(self.latent_dim + k, units, out_shape, name="decoder")

    def role_layers(self):
        return {"vae": [self.classifier, self.classifier_head, self.encoder, self.posterior_head, self.decoder]}

    def default_optimizers(self):
        # Kingma et al. 2014, Sec. 4.4: RMSProp with momentum and bias correction
        # (i.e. Adam), learning rate 3e-4, first-moment decay 0.1, second 0.001.
        return {"vae": keras.optimizers.Adam(self.learning_rate, beta_1=0.9, beta_2=0.999)}

    # ------------------------------------------------------------ the bounds
    def class_logits(self, x, training=False):
        """Logits of q(y|x)."""
        return self.classifier_head(self.classifier(x, training=training))

    def _bound_given_class(self, features, x, onehot, noise, training):
        """L(x, y) per example from the encoder trunk's features of x and one-hot y."""
        stats = self.posterior_head(ops.concatenate([features, onehot], axis=-1), training=training)
        mean, log_var = split_gaussian(stats)
        z = reparameterize(mean, log_var, noise)
        log_px = self.log_likelihood(x, self.decoder(ops.concatenate([z, onehot], axis=-1), training=training))
        return log_px - math.log(self.num_classes) - losses.gaussian_kl(mean, log_var)

    def labeled_bound(self, x, y, noise, training=False):
        """L(x, y) per example (Eq. 6); `noise` ~ N(0, I) of shape (n, latent_dim)."""
        onehot = ops.one_hot(ops.cast(y, "int32"), self.num_classes)
        return self._bound_given_class(self.encoder(x, training=training), x, onehot, noise, training)

    def unlabeled_bound(self, x, noise, training=False):
        """U(x) per example (Eq. 7) and the logits of q(y|x); no label enters.

        `noise` has shape (K, n, latent_dim): one z per example and class.
        """
        k, n = self.num_classes, ops.shape(x)[0]
        onehot, (features, x_rep) = expand_classes(k, self.encoder(x, training=training), x)
        bounds = self._bound_given_class(features, x_rep, onehot, ops.reshape(noise, (k * n, self.latent_dim)),
                                         training)
        logits = self.class_logits(x, training)
        return losses.marginalized_bound(logits, ops.transpose(ops.reshape(bounds, (k, n)))), logits

    def objective(self, x, x_labeled, y_labeled, noise_labeled, noise, training=True):
        """The loss of Eq. 9 (`weighting`, from means over the batches) and its logged parts."""
        labeled = ops.mean(self.labeled_bound(x_labeled, y_labeled, noise_labeled, training))
        unlabeled = ops.mean(self.unlabeled_bound(x, noise, training)[0])
        classification = losses.cross_entropy(y_labeled, self.class_logits(x_labeled, training))
        loss = weighted_objective(labeled, unlabeled, classification, self.alpha, self.weighting,
                                  self.num_labeled, self.num_unlabeled)
        return loss, {"loss": loss, "labeled_bound": labeled, "unlabeled_bound": unlabeled,
                      "classification": classification}

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        if self.binarize == "dynamic":  # both batches, as the reference codes
            x = losses.binarize_dynamically(x, self.seed_generator)
            x_labeled = losses.binarize_dynamically(x_labeled, self.seed_generator)
        noise_labeled = self.normal((ops.shape(x_labeled)[0], self.latent_dim))
        noise = self.normal((self.num_classes, ops.shape(x)[0], self.latent_dim))
        _, logs = self.minimize("vae", lambda: self.objective(x, x_labeled, y_labeled, noise_labeled, noise))
        return self.track(self.log_names, logs)

    def evaluation_terms(self, x):
        return {"elbo": self._elbo_batch(x)}

    def call(self, x, training=False):
        """Class probabilities q(y|x)."""
        return ops.softmax(self.class_logits(x, training))

    # ------------------------------------------------------------ capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

    def _sample_batch(self, n, labels, seed_generator):
        z = keras.random.normal((n, self.latent_dim), seed=seed_generator)
        onehot = ops.one_hot(ops.convert_to_tensor(labels, "int32"), self.num_classes)
        return ops.clip(self.decoder_mean(self.decoder(ops.concatenate([z, onehot], axis=-1), training=False)),
                        -1.0, 1.0)

    def log_likelihood(self, x, out):
        """log p(x|y, z) per example from the decoder's output `out`."""
        if self.likelihood == "bernoulli":  # pixels mapped to [0, 1]
            return losses.bernoulli_log_likelihood((x + 1.0) / 2.0, out)
        channels = self.image_shape[-1]
        return losses.gaussian_log_likelihood(x, out[..., :channels], soft_clip(out[..., channels:], 6.0))

    def decoder_mean(self, out):
        """E p(x|y, z) from the decoder's output, on the scale of x."""
        if self.likelihood == "bernoulli":
            return 2.0 * ops.sigmoid(out) - 1.0
        return out[..., : self.image_shape[-1]]

    def _elbo_batch(self, x):
        noise = self.normal((self.num_classes, ops.shape(x)[0], self.latent_dim))
        return self.unlabeled_bound(x, noise)[0]

    def log_prob(self, x, k=5000, batch_size=None):
        """Importance-sampled log p(x) (see `_log_prob_batch`), batched over K * k decoder passes."""
        self._require("log_prob")
        return super().log_prob(x, k, batch_size or max(1, 5_000 // (int(k) * self.num_classes)))

    def _log_prob_batch(self, x, k):
        """log p(x) = log sum_y p(y) p(x|y), each p(x|y) importance sampled with k draws
        from q(z|x, y) (Burda et al. 2015, Eq. 8): the class is summed exactly."""
        n, classes = ops.shape(x)[0], self.num_classes
        features = self.encoder(x, training=False)
        per_class = []
        for c in range(classes):
            onehot = ops.one_hot(ops.full((n,), c, "int32"), classes)
            stats = self.posterior_head(ops.concatenate([features, onehot], axis=-1))
            mean, log_var = split_gaussian(stats)
            noise = self.normal((k, n, self.latent_dim))
            z = reparameterize(mean[None], log_var[None], noise)
            decoder_in = ops.concatenate([ops.reshape(z, (k * n, self.latent_dim)), ops.tile(onehot, (k, 1))], -1)
            x_rep = ops.tile(x, (k, 1, 1, 1))
            log_px = ops.reshape(self.log_likelihood(x_rep, self.decoder(decoder_in)), (k, n))
            log_w = (log_px + losses.standard_normal_log_density(z)
                     - losses.gaussian_log_density(z, mean[None], log_var[None]))
            per_class.append(losses.importance_weighted_bound(log_w) - math.log(classes))
        return ops.logsumexp(ops.stack(per_class, axis=-1), axis=-1)


@register("m1")
class M1(VAE):
    """M1: a VAE trained on all images, then a linear classifier on the latent means of the labelled ones.

    Kingma et al. 2014, Sec. 2.1 (latent-feature discriminative model): the
    VAE (Kingma & Welling 2013, Eq. 10; see `zoo.models.likelihood.vae.VAE`) is trained
    on every image without labels; then a classifier is fitted on
    mu(x) = E q(z|x) of the labelled examples. The paper used a transductive
    SVM; here the head is scikit-learn's multinomial logistic regression
    (`head="logistic"`, default: calibrated probabilities) or a linear SVM
    (`head="svm"`, `LinearSVC`: `classify` returns the softmax of its
    decision scores, which are not calibrated probabilities). The fitted
    weights live in a non-trainable dense layer, so `classify` runs in the
    graph and is saved with the model.

    `fit` trains the VAE and then fits the head on the labelled examples of
    the batches it was given (drawn from the stream's `"x_labeled"` /
    `"y_labeled"`); `fit_classifier(x, y)` fits it on arrays.

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z (paper: 50).
        arch, likelihood, binarize: as `zoo.models.likelihood.vae.VAE`. Kingma's
            released M1 (`mnist_z_x_50-500-500_longrun`, read by
            `run_2layer_ssl.py`) has two hidden layers of 500 softplus units
            (the paper's text says 600), a Bernoulli decoder and dynamically
            binarised pixels (`gpulearn_z_x.py`); the zoo's `arch` nets stand
            in for its layers (`zoo.nets` has no such architecture yet).
        head: "logistic" or "svm".
        head_c: inverse regularisation strength C of the head.
        head_batches: batches of the training stream read to collect the
            labelled examples after `fit`.
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("m1", input_shape=data.input_shape, num_classes=10, latent_dim=8)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=200, verbose=0)
        >>> model.evaluate(data.test(), return_dict=True)["accuracy"]

    Paper: Kingma et al., "Semi-Supervised Learning with Deep Generative
    Models", arXiv 1406.5298.
    """

    HEADS = ("logistic", "svm")

    def __init__(self, input_shape, num_classes, latent_dim=50, arch="auto", likelihood="bernoulli",
                 head="logistic", head_c=1.0, head_batches=50, binarize=None, seed=None, **kwargs):
        if head not in self.HEADS:
            raise ValueError(f"head must be one of {self.HEADS}; got {head!r}")
        super().__init__(input_shape, latent_dim=latent_dim, arch=arch, likelihood=likelihood, binarize=binarize,
                         seed=seed, **kwargs)
        if int(num_classes) != num_classes or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2; got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.head = head
        self.head_c = float(head_c)
        self.head_batches = int(head_batches)
        self.classifier_head = nets.dense_head(self.num_classes, self.latent_dim, "m1_head")
        self.classifier_head.trainable = False
        self.head_fitted = self.add_weight(shape=(), initializer="zeros", trainable=False, name="head_fitted")
        self._finish_build()

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit` on the VAE, then the head on the labelled examples (an `SSLData`'s
        labelled set, or those a stream's first `head_batches` batches carry)."""
        from zoo.data import SSLData

        history = super().fit(x, *args, **kwargs)
        if isinstance(x, SSLData):
            self.fit_classifier(*x.labeled())
        elif isinstance(x, tf.data.Dataset) and isinstance(x.element_spec, dict) and "x_labeled" in x.element_spec:
            images, labels = [], []
            for batch in x.take(self.head_batches):
                images.append(batch["x_labeled"].numpy())
                labels.append(batch["y_labeled"].numpy())
            images, index = np.unique(np.concatenate(images).reshape(-1, *self.image_shape), axis=0,
                                      return_index=True)
            self.fit_classifier(images, np.concatenate(labels)[index])
        return history

    def fit_classifier(self, x, y):
        """Fit the head on the posterior means of labelled images `x` with labels `y`."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        y = np.asarray(y).astype("int64")
        if len(np.unique(y)) < 2:
            raise ValueError("fit_classifier needs labelled examples of at least two classes")
        codes = self.encode(x)
        if self.head == "logistic":
            head = LogisticRegression(C=self.head_c, max_iter=2000)
        else:
            head = LinearSVC(C=self.head_c, max_iter=10000)
        head.fit(codes, y)
        weights = np.zeros((self.latent_dim, self.num_classes), "float32")
        bias = np.full((self.num_classes,), -1e4, "float32")  # classes without labels: never chosen
        coef, intercept = head.coef_, head.intercept_
        if coef.shape[0] == 1:  # binary: one score for the second class
            coef, intercept = np.concatenate([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
        weights[:, head.classes_] = coef.T
        bias[head.classes_] = intercept
        self.classifier_head.set_weights([weights, bias])
        self.head_fitted.assign(1.0)
        return self

    def classify(self, x, batch_size=500):
        self._require("classify")
        if float(self.head_fitted.numpy()) != 1.0:
            raise RuntimeError("M1's classifier is not fitted yet: call fit() on an SSL stream, or fit_classifier()")
        return super().classify(x, batch_size)

    def _classify_batch(self, x):
        return ops.softmax(self.classifier_head(self.posterior(x)[0]))


@keras.saving.register_keras_serializable(package="zoo")
class CodeM2(M2):
    """M2 on M1's codes z1 (an (1, 1, d) "image"), whose Gaussian p(z1|y, z2) scores the active units only.

    `active_units` (non-trainable, 1 for a kept unit) is set by `M1M2` when
    it drops M1's inactive units: their z1 reach M2 as 0 and leave its
    likelihood, so M2 models the kept units alone, as Kingma's code, which
    cuts them out of z1 before training M2 (`run_2layer_ssl.py`).
    """

    def __init__(self, input_shape, num_classes, **kwargs):
        super().__init__(input_shape, num_classes, likelihood="gaussian", **kwargs)
        self.active_units = self.add_weight(shape=(math.prod(self.image_shape),), initializer="ones",
                                            trainable=False, name="active_units")

    def log_likelihood(self, x, out):
        channels = self.image_shape[-1]
        mean, log_var = out[..., :channels], soft_clip(out[..., channels:], 6.0)
        per_unit = -0.5 * (losses.LOG_2PI + log_var + ops.square(x - mean) * ops.exp(-log_var))
        return ops.sum(ops.reshape(per_unit, (ops.shape(per_unit)[0], -1)) * self.active_units, axis=-1)


@register("m1_m2")
class M1M2(ZooModel):
    """Stacked M1+M2: M2 trained on the latent codes z1 of an M1 VAE (Kingma et al. 2014, Sec. 2.3).

    Generative model: p(x, y, z1, z2) = p(y) p(z2) p(z1|y, z2) p(x|z1), with
    p(x|z1) the VAE's decoder (`m1`, a `zoo.models.likelihood.vae.VAE`) and p(z1|y, z2)
    a Gaussian M2 (`m2`, a `CodeM2` on z1 seen as a (1, 1, latent_dim)
    "image", through the `mlp` nets or, with `reference_nets`, Kingma's one
    hidden layer of `hidden` softplus units per net).

    Training: the paper trains M1 first and then M2 on z1 ~ q(z1|x). Here each
    step makes one update of each, in that order: role "m1" on the VAE's
    ELBO of the unlabelled batch (Kingma & Welling 2013, Eq. 10; on a fresh
    binary draw of it with `binarize="dynamic"`, as Kingma's M1), then role
    "m2" on M2's objective (`M2.objective`, Eq. 9, `weighting` as `M2`) of
    z1 ~ q(z1|x) drawn from the just-updated encoder on the grey images
    (Kingma's code encodes the grey images, re-drawing z1 every minibatch) and
    held fixed (stop-gradient), so M2 never changes M1: the two-stage
    procedure run concurrently. `m1_pretrain_steps` trains M1 alone first
    (the paper's order; 0 by default); M2's optimizer does not step in those
    steps, so its step counter (Adam's bias correction) starts at M2's first
    update.

    Inactive units: with `m1_pretrain_steps` > 0, at M2's first step the
    units of z1 whose posterior mean varies across the unlabelled batch with
    standard deviation <= `inactive_std` are dropped (Kingma's criterion,
    `run_2layer_ssl.py`: `np.std(q_mean, axis=1) > 0.1` over 1,000 images
    keeps a unit): such units carry no information about x (q(z1_d|x) is the
    prior whatever x), and would feed the 100-label classifier pure noise.
    They reach M2 as 0 and leave its likelihood (`CodeM2.active_units`); the
    `elbo` scores them under N(0, 1). The batch (100 images for MNIST) stands
    in for Kingma's 1,000.

    Measured on digits-50 (1000 steps x 64, seed 0, latent 32/16, lr 1e-3,
    before the paper weighting was the default): 0.796 test accuracy (0.802
    with 500 steps of M1 pre-training), below the supervised conv net's 0.850:
    on 8x8 digits M1's codes are no better features than the pixels (M1's own
    linear head: 0.842), so stacking does not pay there; the paper's gain is
    on MNIST (benchmarks/results/cpu/ssl.md).

    Capabilities: `classify` is q(y|z1 = E q(z1|x)); `sample(n, labels)` draws
    z2 ~ p(z2), z1 ~ p(z1|y, z2) and returns E p(x|z1) (through both
    decoders); `encode` gives E q(z1|x); `elbo` is the one-sample bound
    log p(x|z1) + U_M2(z1) - log q(z1|x), z1 ~ q(z1|x).

    Args:
        input_shape: (height, width, channels).
        num_classes: K.
        latent_dim: size of z1 (paper: 50).
        latent2_dim: size of z2 (paper: 50).
        arch: M1's nets ("auto" or a name from `zoo.nets.ARCHITECTURES`).
        hidden, m2_width: M2's q(z2|z1,y) head units and the width of its mlp nets
            (Kingma's 100-label run: 300 units per net).
        alpha, weighting, num_labeled, num_unlabeled: M2's objective (see `M2`).
        likelihood: M1's decoder ("bernoulli" or "gaussian").
        binarize: M1's pixels: None or "dynamic" (see `VAE`).
        learning_rate: Adam's learning rate of both (paper: 3e-4).
        m1_pretrain_steps: steps in which only M1 is trained.
        inactive_std: the drop threshold above (None or 0: keep every unit).
        dropout: dropout in M2's classifier q(y|z1) (its input z1 is already a
            sample, so no input noise is added).
        reference_nets: M2's nets as Kingma's (see `M2`).
        seed: seed of the model's noise.

    Example:
        >>> import zoo
        >>> data = zoo.data.load("digits", labels=50)
        >>> model = zoo.load("m1_m2", input_shape=data.input_shape, num_classes=10, latent_dim=16,
        ...                  latent2_dim=8, alpha=2.6, m2_width=0.25, num_labeled=50, num_unlabeled=1297)
        >>> model.fit(data.train(64), epochs=1, steps_per_epoch=20, verbose=0)
        >>> model.sample(10, labels=range(10)).shape
        (10, 8, 8, 1)

    Paper: Kingma et al., "Semi-Supervised Learning with Deep Generative
    Models", arXiv 1406.5298 (M1+M2: 3.33% error on MNIST with 100 labels).
    """

    roles = ("m1", "m2")
    log_names = ("m1_loss", "loss", "labeled_bound", "unlabeled_bound", "classification")
    eval_log_names = ("elbo",)
    conditional = True

    def __init__(self, input_shape, num_classes, latent_dim=50, latent2_dim=50, arch="auto", hidden=500,
                 m2_width=1.0, alpha=60.0, likelihood="bernoulli", learning_rate=3e-4, m1_pretrain_steps=0,
                 dropout=0.0, weighting="paper", num_labeled=100, num_unlabeled=60_000, binarize=None,
                 inactive_std=0.1, reference_nets=False, seed=None, **kwargs):
        super().__init__(input_shape, num_classes=num_classes, seed=seed, **kwargs)
        self.latent_dim, self.latent2_dim = int(latent_dim), int(latent2_dim)
        self.arch, self.hidden, self.m2_width = arch, int(hidden), float(m2_width)
        self.alpha, self.likelihood = float(alpha), likelihood
        self.learning_rate, self.m1_pretrain_steps = float(learning_rate), int(m1_pretrain_steps)
        self.dropout = float(dropout)
        self.weighting, self.num_labeled, self.num_unlabeled = weighting, int(num_labeled), int(num_unlabeled)
        self.inactive_std = None if not inactive_std else float(inactive_std)
        self.reference_nets = bool(reference_nets)
        self.m1 = VAE(self.image_shape, latent_dim=self.latent_dim, arch=arch, likelihood=likelihood,
                      binarize=binarize, name="m1")
        self.binarize = self.m1.binarize
        self.m2 = CodeM2((1, 1, self.latent_dim), self.num_classes, latent_dim=self.latent2_dim, arch="mlp",
                         hidden=self.hidden, width=self.m2_width, alpha=self.alpha, dropout=self.dropout,
                         weighting=weighting, num_labeled=num_labeled, num_unlabeled=num_unlabeled,
                         reference_nets=self.reference_nets, name="m2")
        self._finish_build()

    def role_layers(self):
        return {"m1": self.m1.role_layers()["vae"], "m2": self.m2.role_layers()["vae"]}

    def default_optimizers(self):
        # Kingma et al. 2014, Sec. 4.4: Adam-like RMSProp, lr 3e-4, for both models.
        return {role: keras.optimizers.Adam(self.learning_rate) for role in self.roles}

    def codes(self, x, training=False):
        """z1 ~ q(z1|x), the dropped units set to 0, as M2's (n, 1, 1, latent_dim) inputs, held fixed for M2."""
        mean, log_var = self.m1.posterior(x, training)
        z1 = reparameterize(mean, log_var, self.normal(ops.shape(mean))) * self.m2.active_units
        return ops.stop_gradient(ops.reshape(z1, (-1, 1, 1, self.latent_dim)))

    def active_units_of(self, x):
        """1 for each unit of z1 whose posterior mean over the images `x` has std > `inactive_std`."""
        mean, _ = self.m1.posterior(x)
        return ops.cast(ops.std(mean, axis=0) > self.inactive_std, "float32")

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        n, n_labeled = ops.shape(x)[0], ops.shape(x_labeled)[0]
        x_m1 = losses.binarize_dynamically(x, self.seed_generator) if self.binarize == "dynamic" else x
        noise1 = self.normal((n, self.latent_dim))

        def m1_loss():
            reconstruction, kl = self.m1.bound_terms(x_m1, noise1, training=True)
            loss = -ops.mean(reconstruction - kl)
            return loss, {"m1_loss": loss}

        _, m1_logs = self.minimize("m1", m1_loss)
        m1_steps = self.role_optimizers["m1"].iterations
        if self.m1_pretrain_steps and self.inactive_std:  # once, at M2's first step: drop M1's inactive units
            first = ops.equal(m1_steps, self.m1_pretrain_steps + 1)
            self.m2.active_units.assign(ops.where(first, self.active_units_of(x), self.m2.active_units))
        z1, z1_labeled = self.codes(x), self.codes(x_labeled)
        noise_labeled = self.normal((n_labeled, self.latent2_dim))
        noise = self.normal((self.num_classes, n, self.latent2_dim))

        def m2_loss():
            return self.m2.objective(z1, z1_labeled, y_labeled, noise_labeled, noise)

        if self.m1_pretrain_steps:  # M1 alone first: M2's optimizer does not step (nor count) until then
            m2_logs = ops.cond(m1_steps > self.m1_pretrain_steps, lambda: self.minimize("m2", m2_loss)[1],
                               lambda: m2_loss()[1])
        else:
            _, m2_logs = self.minimize("m2", m2_loss)
        return self.track(self.log_names, {**m1_logs, **m2_logs})

    def evaluation_terms(self, x):
        return {"elbo": self._elbo_batch(x)}

    def call(self, x, training=False):
        """Class probabilities q(y | z1 = E q(z1|x))."""
        mean, _ = self.m1.posterior(x, training)
        mean = mean * self.m2.active_units
        return ops.softmax(self.m2.class_logits(ops.reshape(mean, (-1, 1, 1, self.latent_dim)), training))

    # ------------------------------------------------------------ capabilities
    def _classify_batch(self, x):
        return self(x, training=False)

    def _encode_batch(self, x):
        return self.m1.posterior(x)[0]

    def _sample_batch(self, n, labels, seed_generator):
        z2 = keras.random.normal((n, self.latent2_dim), seed=seed_generator)
        onehot = ops.one_hot(ops.convert_to_tensor(labels, "int32"), self.num_classes)
        out = ops.reshape(self.m2.decoder(ops.concatenate([z2, onehot], -1), training=False), (n, -1))
        mean, log_var = out[:, : self.latent_dim], soft_clip(out[:, self.latent_dim:], 6.0)
        active = self.m2.active_units  # a dropped unit is drawn from its prior N(0, 1)
        mean, log_var = mean * active, log_var * active
        z1 = reparameterize(mean, log_var, keras.random.normal((n, self.latent_dim), seed=seed_generator))
        return self.m1._decoder_mean(z1)

    def _elbo_batch(self, x):
        n = ops.shape(x)[0]
        mean, log_var = self.m1.posterior(x)
        noise = self.normal((n, self.latent_dim))
        z1 = reparameterize(mean, log_var, noise)
        active = self.m2.active_units
        bound_z1 = self.m2.unlabeled_bound(ops.reshape(z1 * active, (n, 1, 1, self.latent_dim)),
                                           self.normal((self.num_classes, n, self.latent2_dim)))[0]
        dropped = ops.sum(-0.5 * (losses.LOG_2PI + ops.square(z1)) * (1.0 - active), axis=-1)
        log_q = losses.gaussian_log_density(z1, mean, log_var)
        return self.m1.log_likelihood(x, z1) + bound_z1 + dropped - log_q
