"""Feature extractors for the sample-quality metrics, each with a name that results record.

* `DomainClassifier`: a small convnet the zoo trains itself, with a fixed
  seed, on the whole labelled training set of a small dataset (`digits`,
  `mnist`, `fashion_mnist`, or any other), and caches. Its penultimate layer
  gives the features (FID, KID, precision/recall, MMD), its softmax the
  classifier of the Inception Score; its test accuracy is recorded.
* `InceptionV3Features`: Keras' InceptionV3 with ImageNet weights (inputs
  resized to 299x299, grey repeated to RGB): the 2048-d average-pool features
  and the 1000-way softmax. Its weights must be on disk or downloadable; if
  not, a clear `ExtractorUnavailableError`.

Numbers from different extractors are not comparable: FID with the domain
classifier of MNIST is not the FID of papers (which use the TF-slim
Inception graph), and Keras' InceptionV3 weights differ from that graph too.

The cache folder is `$ZOO_CACHE_DIR` or `~/.cache/zoo`; a domain classifier
lives in `extractors/<key>/` where the key holds the dataset name, a
fingerprint of its training and test data, the seed and `EXTRACTOR_VERSION`
(bumped whenever the net or its training changes).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

import numpy as np

#: Bumped whenever the domain classifier's net or training recipe changes:
#: it is part of the cache key, so old caches are never read for new code.
EXTRACTOR_VERSION = 1

#: Training budget per image size: (epochs, batch size). Small images get
#: more epochs (digits has 1,297 training images).
_SMALL_IMAGE_SIDE = 16
#: The datasets whose domain classifier `extractor="auto"` uses.
DOMAIN_DATASETS = ("digits", "mnist", "fashion_mnist")


class ExtractorUnavailableError(RuntimeError):
    """A feature extractor cannot be built here (e.g. no InceptionV3 weights offline)."""


def cache_dir(path=None):
    """The zoo's cache folder: `path`, else `$ZOO_CACHE_DIR`, else `~/.cache/zoo`."""
    return os.path.abspath(os.path.expanduser(path or os.environ.get("ZOO_CACHE_DIR") or "~/.cache/zoo"))


def _fingerprint(*arrays):
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:12]


class FeatureExtractor:
    """Images in [-1, 1] -> (features, class probabilities), batch by batch.

    Subclasses set `name` and `num_classes` and implement `_extract(batch)`.
    """

    name = "extractor"
    num_classes = None
    input_shape = None

    def __call__(self, images, batch_size=500):
        """`(features, probabilities)` of `images`, as float64 numpy arrays."""
        images = self._check(images)
        features, probabilities = [], []
        for start in range(0, len(images), batch_size):
            f, p = self._extract(images[start:start + batch_size])
            features.append(np.asarray(f, "float64"))
            probabilities.append(np.asarray(p, "float64"))
        return np.concatenate(features), np.concatenate(probabilities)

    def features(self, images, batch_size=500):
        return self(images, batch_size)[0]

    def probabilities(self, images, batch_size=500):
        return self(images, batch_size)[1]

    def _check(self, images):
        images = np.asarray(images, dtype="float32")
        if images.ndim == 3 and self.input_shape is not None and len(self.input_shape) == 3:
            images = images[..., None] if images.shape[1:] == self.input_shape[:2] else images
        if self.input_shape is not None and tuple(images.shape[1:]) != tuple(self.input_shape):
            raise ValueError(f"extractor {self.name!r} takes images of shape {tuple(self.input_shape)}; "
                             f"got {tuple(images.shape[1:])}")
        if images.size and (images.min() < -1.0 - 1e-3 or images.max() > 1.0 + 1e-3):
            raise ValueError(f"pixels must be in [-1, 1]; got {images.min():.3g}..{images.max():.3g}")
        return images

    def _extract(self, batch):
        raise NotImplementedError

    @property
    def protocol(self) -> dict:
        """What a result must record about this extractor."""
        return {"extractor": self.name}


# --------------------------------------------------------- domain classifier
def _build_domain_net(input_shape, num_classes, seed):
    """A small convnet; its 128-d penultimate layer gives the features."""
    import keras
    from keras import layers

    init = lambda i: keras.initializers.GlorotUniform(seed=seed + i)  # noqa: E731
    height = input_shape[0]
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    h = inputs
    if height < _SMALL_IMAGE_SIDE:
        blocks = ((32, 1), (64, 2), (128, 2))
    else:
        blocks = ((32, 1), (32, 2), (64, 1), (64, 2))
    for i, (filters, stride) in enumerate(blocks):
        h = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu",
                          kernel_initializer=init(i))(h)
    h = layers.Flatten()(h)
    h = layers.Dropout(0.3, seed=seed)(h)
    h = layers.Dense(128, activation="relu", kernel_initializer=init(10), name="features")(h)
    logits = layers.Dense(num_classes, kernel_initializer=init(11), name="logits")(
        layers.Dropout(0.3, seed=seed + 1)(h))
    return keras.Model(inputs, logits, name="domain_classifier")


def _training_budget(input_shape):
    """(epochs, batch size) of the domain classifier's training."""
    return (20, 64) if input_shape[0] < _SMALL_IMAGE_SIDE else (3, 128)


class DomainClassifier(FeatureExtractor):
    """A classifier of one small dataset, trained by the zoo, as a feature extractor.

    Use `DomainClassifier.for_data(data)` (trains once, then loads from the
    cache). `name` is `"domain:<dataset>:v<EXTRACTOR_VERSION>:<key>"`.

    Attributes:
        test_accuracy: accuracy on the dataset's test split.
        key: cache key (dataset, data fingerprint, seed, version).
    """

    def __init__(self, net, dataset, key, test_accuracy, num_classes, fingerprint):
        import keras

        self.net = net
        self.dataset = dataset
        self.key = key
        self.test_accuracy = float(test_accuracy)
        self.num_classes = int(num_classes)
        self.input_shape = tuple(net.input_shape[1:])
        self.name = f"domain:{dataset}:v{EXTRACTOR_VERSION}:{fingerprint}"
        self._both = keras.Model(net.input, [net.get_layer("features").output, net.output])
        self._compiled = None

    @classmethod
    def for_data(cls, data, seed=0, cache=None, verbose=0):
        """The domain classifier of `data` (a `zoo.data.SSLData` or a dataset name).

        Trained on every labelled training image of `data` (`x_train`,
        `y_train`; the SSL label budget is ignored), `EXTRACTOR_VERSION`'s
        recipe, seed `seed`; cached in `cache_dir(cache)`.
        """
        if isinstance(data, str):
            from zoo import data as zoo_data

            data = zoo_data.load(data)
        fingerprint = _fingerprint(data.x_train, data.y_train, data.x_test, data.y_test)
        key = f"{data.name}-{fingerprint}-seed{seed}-v{EXTRACTOR_VERSION}"
        folder = os.path.join(cache_dir(cache), "extractors", key)
        weights, meta = os.path.join(folder, "classifier.weights.h5"), os.path.join(folder, "meta.json")
        net = _build_domain_net(data.input_shape, data.num_classes, seed)
        if os.path.isfile(weights) and os.path.isfile(meta):
            net.load_weights(weights)
            with open(meta) as f:
                info = json.load(f)
            return cls(net, data.name, key, info["test_accuracy"], data.num_classes, fingerprint)
        accuracy = _train(net, data, seed, verbose)
        os.makedirs(folder, exist_ok=True)
        _atomic(lambda path: net.save_weights(path), weights, ".weights.h5")
        epochs, batch_size = _training_budget(data.input_shape)
        info = {"dataset": data.name, "source": data.source, "fingerprint": fingerprint, "seed": seed,
                "version": EXTRACTOR_VERSION, "test_accuracy": accuracy, "epochs": epochs,
                "batch_size": batch_size, "train_size": len(data.x_train), "test_size": len(data.x_test)}
        _atomic(lambda path: _write_json(info, path), meta, ".json")
        return cls(net, data.name, key, accuracy, data.num_classes, fingerprint)

    def _extract(self, batch):
        from keras import ops

        if self._compiled is None:
            import tensorflow as tf

            self._compiled = tf.function(lambda x: self._both(x, training=False), reduce_retracing=True)
        features, logits = self._compiled(batch)
        return ops.convert_to_numpy(features), ops.convert_to_numpy(ops.softmax(logits))

    @property
    def protocol(self):
        return {"extractor": self.name, "extractor_test_accuracy": self.test_accuracy}


def _train(net, data, seed, verbose):
    """Adam (lr 1e-3) on cross-entropy, fixed seed; returns the test accuracy."""
    import keras

    keras.utils.set_random_seed(seed)
    epochs, batch_size = _training_budget(data.input_shape)
    net.compile(optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    net.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    logits = net.predict(data.x_test, batch_size=1000, verbose=0)
    return float((logits.argmax(-1) == data.y_test).mean())


def _write_json(info, path):
    with open(path, "w") as f:
        json.dump(info, f, indent=1)


def _atomic(write, path, suffix):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".partial-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------- InceptionV3
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                         + INCEPTION_WEIGHTS_FILE)


def _keras_models_dir():
    return os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "models")


class InceptionV3Features(FeatureExtractor):
    """Keras' InceptionV3 (ImageNet weights): 2048-d pool features and 1000-way softmax.

    Images in [-1, 1] (InceptionV3's own input range) are repeated to 3
    channels if grey and resized bilinearly to 299x299.

    Args:
        weights: path of the `.h5` weights (with the top); None looks in
            Keras' cache (`$KERAS_HOME/models`, default `~/.keras/models`).
        download: if the weights are not local, let Keras download them
            (needs the network).
    Raises:
        ExtractorUnavailableError: the weights are neither local nor downloadable.
    """

    name = "keras_inception_v3_imagenet"
    num_classes = 1000
    input_shape = None  # any (h, w, 1 or 3)

    def __init__(self, weights=None, download=True):
        import keras

        path = weights or os.path.join(_keras_models_dir(), INCEPTION_WEIGHTS_FILE)
        if not os.path.isfile(path):
            if weights is not None or not download:
                raise ExtractorUnavailableError(self._missing(path, "download=False" if weights is None else None))
            try:
                path = keras.utils.get_file(INCEPTION_WEIGHTS_FILE, INCEPTION_WEIGHTS_URL, cache_subdir="models")
            except Exception as error:  # URLError, HTTPError, socket errors, ...
                raise ExtractorUnavailableError(self._missing(path, f"{type(error).__name__}: {error}")) from None
        net = keras.applications.InceptionV3(weights=path, include_top=True)
        self._both = keras.Model(net.input, [net.get_layer("avg_pool").output, net.output])

    @staticmethod
    def _missing(path, why):
        return (
            f"InceptionV3 ImageNet weights are not available: {path} does not exist"
            + (f" and could not be downloaded ({why})" if why else "")
            + f". On a machine with network, run `keras.applications.InceptionV3(weights='imagenet')` once "
            f"(or fetch {INCEPTION_WEIGHTS_URL}) and copy the file to {_keras_models_dir()}, or pass its "
            "path as weights=. Offline, use a domain classifier instead (extractor='auto' on digits, mnist "
            "or fashion_mnist)."
        )

    def _check(self, images):
        images = np.asarray(images, dtype="float32")
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"InceptionV3 takes (n, height, width, 1 or 3) images; got shape {images.shape}")
        return super()._check(images)

    def _extract(self, batch):
        import tensorflow as tf

        x = tf.convert_to_tensor(batch)
        if x.shape[-1] == 1:
            x = tf.repeat(x, 3, axis=-1)
        x = tf.image.resize(x, (299, 299), method="bilinear")
        features, probabilities = self._both(x, training=False)
        return features.numpy(), probabilities.numpy()


def get_extractor(extractor, data=None, seed=0, cache=None):
    """An extractor from a name or instance.

    "domain": the domain classifier of `data`; "inception": InceptionV3;
    "auto": "domain" for the small grey datasets (`DOMAIN_DATASETS` or any
    one-channel data), else "inception".
    """
    if isinstance(extractor, FeatureExtractor):
        return extractor
    if isinstance(data, str):
        from zoo import data as zoo_data

        data = zoo_data.load(data)
    if extractor == "auto":
        if data is None:
            raise ValueError("extractor='auto' needs the dataset (data=) to choose and train its extractor")
        small = getattr(data, "name", data) in DOMAIN_DATASETS or data.input_shape[-1] == 1
        extractor = "domain" if small else "inception"
    if extractor == "domain":
        if data is None:
            raise ValueError(f"extractor={extractor!r} needs the dataset (data=) to train its domain classifier")
        return DomainClassifier.for_data(data, seed=seed, cache=cache)
    if extractor in ("inception", "inception_v3"):
        return InceptionV3Features()
    raise ValueError(f"unknown extractor {extractor!r}: use 'auto', 'domain', 'inception' or a FeatureExtractor")
