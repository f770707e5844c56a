"""Datasets, balanced labelled/unlabelled splits and the input pipelines.

`load(name, labels=N)` returns an `SSLData` whose `train(batch_size)` is an
endless `tf.data` stream of the batches every method of the zoo reads:

    {"x": unlabelled images, "x_labeled": labelled images, "y_labeled": int32 labels}

The unlabelled stream is every training image with its label dropped (the
usual protocol of the SSL papers: the labelled examples are in it too). The
labelled stream visits every labelled example once per pass, in a fresh
permutation each pass (the SSL papers' code: with 100 labels and batches of
100, every batch is the whole labelled set, reshuffled). `train(...,
second_unlabeled=True)` adds `"x2"`, a second unlabelled batch from its own
shuffle, for a player that steps on another batch (Improved-GAN's and Bad
GAN's generator).
Pixels are float32 in [-1, 1], channels last.

`load_pairs(name, source="edges")` builds a paired image-to-image task from the
same images (`PairedData`: `{"x": source, "y": target}` batches).
`load_domains(source, target)` builds a domain-adaptation task from two datasets
of the same classes (`DomainData`: the source labelled, the target unlabelled);
`load_spurious(name)` a protected attribute tied to the label in training only
(`ProtectedData`: batches carry `"a_labeled"`).

Sources, tried in this order:

1. `digits`: scikit-learn's bundled 8x8 digits (always there; a fixed,
   stratified 1,297 / 500 train/test split).
2. IDX files (`train-images-idx3-ubyte[.gz]`, ...) in `data_dir`, in
   `$ZOO_DATA_DIR`, each also in a sub-folder named after the dataset, and
   Debian's `/usr/share/datasets/<name>` (package `dataset-fashion-mnist`).
3. `tensorflow_datasets`, from its prepared `data_dir` or, with
   `download=True` and a network, downloaded.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass, field

import numpy as np

TFDS_NAMES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "svhn_cropped": "svhn_cropped",
              "cifar10": "cifar10"}
KNOWN_DATASETS = ("digits",) + tuple(TFDS_NAMES)
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DEBIAN_DATASETS = "/usr/share/datasets"
DIGITS_TEST_SIZE = 500


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not in any of the places the zoo looks."""


class CorruptDatasetError(ValueError):
    """A dataset file is truncated or not in the expected format."""


@dataclass
class SSLData:
    """A dataset with a labelled subset; see `load`."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    labeled_index: np.ndarray
    source: str
    seed: int = 0
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    num_classes: int = field(init=False)

    def __post_init__(self):
        self.num_classes = int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_labels(self) -> int:
        return len(self.labeled_index)

    def labeled(self):
        """(images, labels) of the labelled subset."""
        return self.x_train[self.labeled_index], self.y_train[self.labeled_index]

    def unlabeled(self):
        """Every training image, without labels."""
        return self.x_train

    def sample_images(self, n, seed=None):
        """`n` training images drawn without replacement with `seed` (e.g. for a data-dependent init)."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self.x_train[rng.choice(len(self.x_train), min(int(n), len(self.x_train)), replace=False)]

    def train(self, batch_size=100, labeled_batch_size=None, seed=None, second_unlabeled=False,
              exclude_labeled=False):
        """Endless stream of `{"x", "x_labeled", "y_labeled"}` batches (and `"x2"` if asked).

        Args:
            batch_size: unlabelled images per batch.
            labeled_batch_size: labelled images per batch (default: batch_size).
                Batches run through the labelled set in a fresh permutation
                per pass, so every labelled example is seen once per pass.
            seed: shuffling seed (default: the dataset's seed).
            second_unlabeled: add `"x2"`, more unlabelled images from an
                independent shuffle of the same set: `batch_size` of them
                (True) or that many (an int; Triple-GAN's D reads 400).
            exclude_labeled: leave the labelled images out of the unlabelled
                pool (Bad GAN's MNIST code); by default they are in it.
        """
        import tensorflow as tf

        seed = self.seed if seed is None else seed
        labeled_batch_size = labeled_batch_size or batch_size
        if batch_size < 1 or labeled_batch_size < 1:
            raise ValueError("batch sizes must be >= 1")
        if batch_size > len(self.x_train):
            raise ValueError(f"batch_size {batch_size} exceeds the {len(self.x_train)} training images")

        pool = np.delete(self.x_train, self.labeled_index, axis=0) if exclude_labeled else self.x_train

        def unlabeled(shuffle_seed, size):
            return (tf.data.Dataset.from_tensor_slices(pool)
                    .shuffle(len(pool), seed=shuffle_seed, reshuffle_each_iteration=True)
                    .repeat()
                    .batch(size, drop_remainder=True))

        second_size = batch_size if second_unlabeled is True else int(second_unlabeled)
        if second_size < 0 or second_size > len(pool):
            raise ValueError(f"second_unlabeled must be between 0 and {len(pool)}; got {second_unlabeled}")

        x_labeled, y_labeled = self.labeled()
        labeled_arrays = {"x_labeled": tf.constant(x_labeled), "y_labeled": tf.constant(y_labeled.astype("int32")),
                          **{k: tf.constant(v) for k, v in self._labeled_extras().items()}}
        count = len(self.labeled_index)
        labeled = (
            tf.data.Dataset.range(count)
            .shuffle(count, seed=seed + 1, reshuffle_each_iteration=True)
            .repeat()
            .batch(labeled_batch_size)
            .map(lambda i: {k: tf.gather(v, i) for k, v in labeled_arrays.items()})
        )
        streams = [unlabeled(seed, batch_size), labeled] + ([unlabeled(seed + 2, second_size)] if second_size else [])
        batches = tf.data.Dataset.zip(*streams).map(
            lambda x, labeled_batch, *x2: {"x": x, **labeled_batch, **({"x2": x2[0]} if x2 else {})}
        )
        return _shard_by_data(batches.prefetch(tf.data.AUTOTUNE))

    def _labeled_extras(self):
        """Further per-example arrays of the labelled subset that its stream carries beside the labels, by batch
        key (none; `ProtectedData`: the protected attribute)."""
        return {}

    def test(self, batch_size=1000):
        """The test set as finite `(x, y)` batches."""
        return _finite(self.x_test, self.y_test, batch_size)

    def validation(self, batch_size=1000):
        """The held-out validation split as `(x, y)` batches (needs `validation=N` in load)."""
        if self.x_val is None:
            raise ValueError("no validation split: load the dataset with validation=N")
        return _finite(self.x_val, self.y_val, batch_size)

    def __repr__(self):
        return (f"SSLData({self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
                f"labels={self.num_labels}, shape={self.input_shape}, source={self.source!r})")


class PairedData(SSLData):
    """Paired images for image-to-image translation (see `load_pairs`): `sources` -> the dataset's images.

    `train(batch_size)` streams `{"x": source, "y": target}` batches (DESIGN.md's paired form), `test()`
    finite `(source, target)` batches; `x_test` / `source_test` are the test sources, `target_test` their
    targets. The class labels stay in `y_train` / `y_test`.
    """

    def __init__(self, data, source_train, source_test, transform):
        super().__init__(data.name, source_train, data.y_train, source_test, data.y_test,
                         np.arange(len(source_train)), data.source, data.seed)
        self.target_train, self.target_test, self.transform = data.x_train, data.x_test, transform

    @property
    def source_test(self):
        return self.x_test

    def train(self, batch_size=100, labeled_batch_size=None, seed=None, **_):
        """Endless shuffled stream of `{"x": sources, "y": targets}` batches (`SSLData.train`'s signature; its
        labelled-stream options do not apply to pairs and are ignored)."""
        import tensorflow as tf

        if not 1 <= batch_size <= len(self.x_train):
            raise ValueError(f"batch_size must be between 1 and {len(self.x_train)}; got {batch_size}")
        seed = self.seed if seed is None else seed
        pairs = tf.data.Dataset.from_tensor_slices({"x": self.x_train, "y": self.target_train})
        return _shard_by_data(pairs.shuffle(len(self.x_train), seed=seed, reshuffle_each_iteration=True).repeat()
                              .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))

    def test(self, batch_size=1000):
        import tensorflow as tf

        return _shard_by_data(tf.data.Dataset.from_tensor_slices((self.x_test, self.target_test)).batch(batch_size))

    def __repr__(self):
        return (f"PairedData({self.name!r}, {self.transform} -> image, train={len(self.x_train)}, "
                f"test={len(self.x_test)}, shape={self.input_shape}, source={self.source!r})")


class DomainData(SSLData):
    """Unsupervised domain adaptation (see `load_domains`): every source image labelled, the target's
    images unlabelled, and the target's test set to score on.

    `train(batch_size)` streams DESIGN.md's batches with the domains in their places: `"x"` the target's
    training images (no labels), `"x_labeled"` / `"y_labeled"` the source's images and labels (once per
    pass, a fresh permutation each pass). `test()` is the target's test set (the adaptation's score),
    `source_test()` the source's. The target's training labels stay in `y_train`, never in a batch: the
    target-supervised ceiling is `load_domains(target, target)`.
    """

    def __init__(self, source, target):
        super().__init__(f"{source.name}->{target.name}", target.x_train, target.y_train, target.x_test,
                         target.y_test, np.arange(len(source.x_train)), f"{source.source} -> {target.source}",
                         target.seed)
        self.source_name, self.target_name = source.name, target.name
        self.x_source, self.y_source = source.x_train, source.y_train
        self.x_source_test, self.y_source_test = source.x_test, source.y_test
        if source.num_classes != target.num_classes:
            raise ValueError(f"the domains label different classes: {source.name} has {source.num_classes}, "
                             f"{target.name} {target.num_classes}")

    def labeled(self):
        return self.x_source, self.y_source

    def train(self, batch_size=64, labeled_batch_size=None, seed=None, second_unlabeled=False,
              exclude_labeled=False):
        """`SSLData.train` with the target's images as `"x"` and the source's as the labelled stream."""
        if exclude_labeled:
            raise ValueError("exclude_labeled does not apply: the labelled images are the source domain's, "
                             "not in the target's pool")
        return super().train(batch_size, labeled_batch_size, seed, second_unlabeled)

    def source_test(self, batch_size=1000):
        """The source domain's test set as finite `(x, y)` batches."""
        return _finite(self.x_source_test, self.y_source_test, batch_size)

    def __repr__(self):
        return (f"DomainData({self.source_name!r} -> {self.target_name!r}, source={len(self.x_source)} labelled, "
                f"target={len(self.x_train)} unlabelled, test={len(self.x_test)}, shape={self.input_shape})")


class ProtectedData(SSLData):
    """A classification task with a protected attribute per example (see `load_spurious`).

    `a_train` / `a_test` hold each image's group (int32). Every training example is labelled, and
    `train(batch_size)` adds the labelled examples' groups to DESIGN.md's batch as `"a_labeled"` (the
    unlabelled `"x"` stays bare). `test()` is the usual `(x, y)` stream; `a_test` gives the groups for the
    fairness gaps (`zoo.metrics.fairness_report`).
    """

    def __init__(self, data, a_train, a_test, description):
        super().__init__(data.name, data.x_train, data.y_train, data.x_test, data.y_test, data.labeled_index,
                         data.source, data.seed, data.x_val, data.y_val)
        self.a_train, self.a_test = np.asarray(a_train, "int32"), np.asarray(a_test, "int32")
        self.description = description

    def _labeled_extras(self):
        return {"a_labeled": self.a_train[self.labeled_index]}

    def __repr__(self):
        return f"ProtectedData({self.name!r}, {self.description}, train={len(self.x_train)}, test={len(self.x_test)})"


def load_spurious(name, rate=0.9, seed=0, data_dir=None, download=True):
    """A protected attribute spuriously tied to the label in training only, from real images: `name`'s
    images, each inverted (x -> -x, the attribute a = 1) or not (a = 0).

    Training split: P(a = 1 | y) = `rate` for the first half of the classes, 1 - `rate` for the rest (so
    inversion predicts the class half `rate` of the time); test split: P(a = 1) = 1/2 whatever the class.
    A classifier that reads the inversion as a shortcut fails the test images whose inversion disagrees with
    their class half, and its predictions depend on the group: the gaps of `zoo.metrics.fairness_report`.
    Returns a `ProtectedData` (every training example labelled).
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1]; got {rate}")
    data = load(name, labels=None, seed=seed, data_dir=data_dir, download=download)
    rng = np.random.default_rng(seed + 7919)
    first_half = data.y_train < data.num_classes // 2
    a_train = (rng.uniform(size=len(data.y_train)) < np.where(first_half, rate, 1.0 - rate)).astype("int32")
    a_test = (rng.uniform(size=len(data.y_test)) < 0.5).astype("int32")
    invert = lambda x, a: np.where(a[:, None, None, None] == 1, -x, x).astype("float32")  # noqa: E731
    data.x_train, data.x_test = invert(data.x_train, a_train), invert(data.x_test, a_test)
    return ProtectedData(data, a_train, a_test,
                         f"inverted with P = {rate:g} in classes < {data.num_classes // 2} and {1 - rate:g} above "
                         "in training, 1/2 in test")


def resize_images(images, side, box=None):
    """[-1, 1] images resized to `side` x `side` (bilinear, antialiased when shrinking), in [-1, 1]; with
    `box`, resized to `box` x `box` and centred on a `side` x `side` background (-1) instead."""
    import tensorflow as tf

    images = np.asarray(images, "float32")
    box = side if box is None else int(box)
    if not 1 <= box <= side:
        raise ValueError(f"box must be between 1 and side={side}; got {box}")
    if images.shape[1:3] == (side, side):
        return images
    resized = np.clip(tf.image.resize(images, (box, box), method="bilinear", antialias=True).numpy(), -1.0, 1.0)
    before = (side - box) // 2
    pad = ((0, 0), (before, side - box - before), (before, side - box - before), (0, 0))
    return np.pad(resized, pad, constant_values=-1.0).astype("float32")


def load_domains(source, target, side=None, box="mnist", seed=0, data_dir=None, download=True):
    """A domain-adaptation task from two real datasets of the same classes: labelled `source`, unlabelled
    `target` (DANN's setting, Ganin et al. 2016), both at `side` x `side` pixels (default: the larger of
    their sides), e.g. `load_domains("mnist", "digits")`: MNIST -> scikit-learn's 8x8 digits resized
    to 28x28.

    `box`: how a smaller dataset's images are brought to `side`: "mnist" (default) as MNIST's own images
    were made, the digit scaled into the central 20/28 of the frame (a 20x20 box in 28x28, LeCun et al.
    1998) with a background margin; "full" stretched to the whole frame (scikit-learn's digits fill their
    8x8 frame, so stretched digits are ~1.4x MNIST's and a net trained on one barely reads the other: 14.5 %
    on MNIST from digits, measured, against 68 % the other way). Returns a `DomainData`;
    `load_domains(t, t)` is the target-supervised ceiling's data."""
    if box not in ("mnist", "full"):
        raise ValueError(f"box must be 'mnist' or 'full'; got {box!r}")
    source_data = load(source, labels=None, seed=seed, data_dir=data_dir, download=download)
    target_data = source_data if target == source else load(target, labels=None, seed=seed, data_dir=data_dir,
                                                             download=download)
    if source_data.input_shape[-1] != target_data.input_shape[-1]:
        raise ValueError(f"the domains have different channels: {source_data.input_shape} and "
                         f"{target_data.input_shape}")
    side = int(side or max(source_data.input_shape[0], target_data.input_shape[0]))
    inner = round(side * 20 / 28) if box == "mnist" else side
    for data in {id(source_data): source_data, id(target_data): target_data}.values():
        data.x_train, data.x_test = (resize_images(x, side, inner) for x in (data.x_train, data.x_test))
    return DomainData(source_data, target_data)


def sobel_edges(images):
    """Edge maps of [-1, 1] images: the Sobel gradient magnitude per channel, scaled so that the largest
    possible magnitude (4 sqrt(2) on [0, 1] pixels) maps to 1, in [-1, 1] (-1: no edge)."""
    x = (np.asarray(images, "float32") + 1.0) / 2.0
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    window = lambda dy, dx: padded[:, 1 + dy:padded.shape[1] - 1 + dy, 1 + dx:padded.shape[2] - 1 + dx]  # noqa: E731
    gx = (window(-1, 1) + 2 * window(0, 1) + window(1, 1)) - (window(-1, -1) + 2 * window(0, -1) + window(1, -1))
    gy = (window(1, -1) + 2 * window(1, 0) + window(1, 1)) - (window(-1, -1) + 2 * window(-1, 0) + window(-1, 1))
    magnitude = np.sqrt(gx ** 2 + gy ** 2) / (4.0 * np.sqrt(2.0))
    return (2.0 * np.clip(magnitude, 0.0, 1.0) - 1.0).astype("float32")


PAIR_TRANSFORMS = {"edges": sobel_edges}


def load_pairs(name, source="edges", seed=0, data_dir=None, download=True):
    """A paired image-to-image task built from real data: `source(image)` -> image (pix2pix's form).

    `source="edges"`: Sobel edge maps (`sobel_edges`) to the images, e.g. `load_pairs("fashion_mnist")`
    for edges -> Fashion-MNIST, or `"digits"` offline. Returns a `PairedData`.
    """
    if source not in PAIR_TRANSFORMS:
        raise ValueError(f"source must be one of {sorted(PAIR_TRANSFORMS)}; got {source!r}")
    data = load(name, labels=None, seed=seed, data_dir=data_dir, download=download)
    transform = PAIR_TRANSFORMS[source]
    return PairedData(data, transform(data.x_train), transform(data.x_test), source)


def _finite(x, y, batch_size):
    import tensorflow as tf

    return _shard_by_data(tf.data.Dataset.from_tensor_slices((x, y.astype("int32"))).batch(batch_size))


def _shard_by_data(dataset):
    """`dataset` sharded by element across the workers of a multi-worker strategy (`AutoShardPolicy.DATA`).

    Every stream here is built from in-memory arrays, so the default policy (AUTO) finds no files to
    split, logs a warning and falls back to DATA; asking for DATA says so. Each worker builds the same
    seeded stream of global batches and keeps its share of each: `batch_size` is the global batch.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


# ------------------------------------------------------------------ loading
def load(name, labels=None, seed=0, data_dir=None, validation=0, balanced=True, download=True):
    """Load dataset `name` with a labelled subset of `labels` examples.

    Args:
        name: "digits", "mnist", "fashion_mnist", "svhn_cropped", "cifar10",
            or the name of any folder of IDX files under `data_dir` /
            `$ZOO_DATA_DIR`.
        labels: size of the labelled subset; None labels every example.
        seed: seeds the choice of labelled and validation examples.
        data_dir: a folder with the IDX files (directly or in `<name>/`), or a
            prepared tensorflow_datasets folder.
        validation: number of training examples held out (stratified) for
            `validation()`; they are in neither the labelled nor the
            unlabelled set.
        balanced: pick the same number of labels in every class.
        download: let tensorflow_datasets download a dataset that is nowhere
            local (needs the network).
    """
    x_train, y_train, x_test, y_test, source = _read(name, data_dir, download)
    rng = np.random.default_rng(seed)
    x_val = y_val = None
    if validation:
        if not 0 < validation < len(x_train):
            raise ValueError(f"validation must be between 1 and {len(x_train) - 1}; got {validation}")
        val_index = _stratified_choice(y_train, validation, rng, balanced=False)
        keep = np.setdiff1d(np.arange(len(x_train)), val_index)
        x_val, y_val = x_train[val_index], y_train[val_index]
        x_train, y_train = x_train[keep], y_train[keep]
    if labels is None:
        labeled_index = np.arange(len(x_train))
    else:
        labeled_index = _label_budget(y_train, labels, rng, balanced)
    return SSLData(name, x_train, y_train, x_test, y_test, labeled_index, source, seed, x_val, y_val)


def _label_budget(y, labels, rng, balanced):
    if int(labels) != labels or labels < 1:
        raise ValueError(f"labels must be a positive integer or None; got {labels!r}")
    labels = int(labels)
    classes, counts = np.unique(y, return_counts=True)
    if labels > len(y):
        raise ValueError(f"labels={labels} is more than the {len(y)} training examples")
    if balanced:
        if labels % len(classes):
            raise ValueError(
                f"labels={labels} cannot be balanced over {len(classes)} classes: use a multiple of "
                f"{len(classes)} or balanced=False"
            )
        per_class = labels // len(classes)
        if per_class > counts.min():
            raise ValueError(
                f"labels={labels} needs {per_class} per class but class {classes[counts.argmin()]} "
                f"has only {counts.min()} training examples"
            )
    return _stratified_choice(y, labels, rng, balanced)


def _stratified_choice(y, count, rng, balanced):
    """`count` indices: equally many per class if `balanced`, else proportional."""
    if not balanced:
        return np.sort(rng.permutation(len(y))[:count])
    classes = np.unique(y)
    per_class = count // len(classes)
    chosen = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(chosen))


def _read(name, data_dir, download):
    if name == "digits":
        return _read_digits()
    looked = []
    for folder in _idx_folders(name, data_dir):
        looked.append(folder)
        paths = _idx_paths(folder)
        if paths:
            arrays = {key: read_idx(path) for key, path in paths.items()}
            x_train, x_test = (_scale_uint8(arrays[k]) for k in ("x_train", "x_test"))
            return x_train, _labels(arrays["y_train"]), x_test, _labels(arrays["y_test"]), folder
    if name in TFDS_NAMES:
        return _read_tfds(name, data_dir, download, looked)
    known = ", ".join(KNOWN_DATASETS)
    raise DatasetNotFoundError(
        f"unknown dataset {name!r}: it is not one of {known}, and no IDX files "
        f"({IDX_FILES['x_train']}[.gz], ...) are in {looked or 'any folder (set data_dir or ZOO_DATA_DIR)'}"
    )


def _read_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype("float32") / 8.0 - 1.0)[..., None]  # pixel values 0..16
    y = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=0
    )
    return x_train, y_train, x_test, y_test, "sklearn.datasets.load_digits"


def _idx_folders(name, data_dir):
    bases = [b for b in (data_dir, os.environ.get("ZOO_DATA_DIR")) if b]
    folders = []
    for base in bases:
        folders += [os.path.join(base, name), os.path.join(base, name.replace("_", "-")), base]
    folders.append(os.path.join(DEBIAN_DATASETS, name.replace("_", "-")))
    return list(dict.fromkeys(os.path.abspath(f) for f in folders))


def _idx_paths(folder):
    """The four IDX files in `folder` (gzip or raw), or None if any is missing."""
    paths = {}
    for key, stem in IDX_FILES.items():
        found = [p for p in (os.path.join(folder, stem + ".gz"), os.path.join(folder, stem)) if os.path.isfile(p)]
        if not found:
            return None
        paths[key] = found[0]
    return paths


_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed), checking its header and length."""
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise CorruptDatasetError(f"{path}: cannot read ({error}); the file is corrupt or truncated") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise CorruptDatasetError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDatasetError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise CorruptDatasetError(
            f"{path}: IDX header promises {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes: truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _scale_uint8(images):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise CorruptDatasetError(f"expected images of rank 3 or 4; got shape {images.shape}")
    return (images.astype("float32") / 127.5 - 1.0).astype("float32")


def _labels(y):
    y = np.asarray(y).reshape(-1)
    if y.size and y.min() < 0:
        raise CorruptDatasetError("negative class labels")
    return y.astype("int32")


def _read_tfds(name, data_dir, download, looked):
    """`name` from tensorflow_datasets: its prepared copy, or downloaded when `download`.

    A failure inside tfds is reported by its real cause, with tfds' own error
    chained: a missing module is a broken install (not a missing dataset), a
    failed download needs the network, and an unprepared dataset with
    `download=False` says where tfds looked.
    """
    tfds_name = TFDS_NAMES[name]
    hint = (
        f"Looked for IDX files in {looked}. Put the four IDX files in a folder and pass "
        f"data_dir= or set ZOO_DATA_DIR"
        + (", or on Debian run `apt-get install dataset-fashion-mnist`" if name == "fashion_mnist" else "")
        + f"; or let tensorflow_datasets download {tfds_name!r} (needs the network)."
    )
    try:
        import tensorflow_datasets as tfds

        builder = tfds.builder(tfds_name, data_dir=data_dir)
        if not download and not builder.is_prepared():
            raise DatasetNotFoundError(
                f"dataset {name!r} not found: tensorflow_datasets has not prepared {tfds_name!r} in "
                f"{builder.data_dir_root} and download=False. {hint}"
            )
        builder.download_and_prepare()  # returns at once when prepared
        train, test = builder.as_dataset(split=["train", "test"], as_supervised=True)
        (x_train, y_train), (x_test, y_test) = _tfds_arrays(train), _tfds_arrays(test)
    except (DatasetNotFoundError, CorruptDatasetError):
        raise
    except Exception as error:  # tfds raises many types; _tfds_error names the cause
        raise _tfds_error(name, error, hint) from error
    return (_scale_uint8(x_train), _labels(y_train), _scale_uint8(x_test), _labels(y_test),
            f"tensorflow_datasets:{tfds_name}")


def _tfds_arrays(split, chunk=10_000):
    """(images, labels) of a tfds split as numpy arrays, read in chunks.

    Not `batch_size=-1`: that makes one batch as large as the split size in
    the dataset's info, and where the info has no split sizes (tfds' own
    `mock_data`, a builder restored without metadata) TensorFlow aborts the
    whole process (`std::length_error`) instead of raising.
    """
    import tensorflow_datasets as tfds

    chunks = list(tfds.as_numpy(split.batch(chunk)))
    if not chunks:
        raise CorruptDatasetError("tensorflow_datasets returned an empty split")
    return tuple(np.concatenate(parts) for parts in zip(*chunks))


def _tfds_error(name, error, hint):
    """The zoo's error for `error` raised inside tensorflow_datasets, named by its cause.

    tfds re-raises with context added (sometimes as a new exception of the same
    type, without `ImportError.name`), so the whole chain is searched.
    """
    chain = _exception_chain(error)
    broken = [e for e in chain if isinstance(e, ImportError)]
    if broken:
        module = next((e.name for e in broken if isinstance(e, ModuleNotFoundError) and e.name), None)
        cause = f"it imports {module!r}, which is not installed" if module else _summary(broken[-1])
        fix = f", or install the package that provides {module.split('.')[0]!r}" if module else ""
        return ImportError(
            f"tensorflow_datasets cannot load {name!r}: {cause}. The install is broken (the dataset is not "
            f"the problem): reinstall the zoo with its dependencies (`pip install -e .` in its checkout){fix}.",
            name=module,
        )
    failed_download = next((e for e in chain if isinstance(e, _download_errors())), None)
    if failed_download is not None:
        return DatasetNotFoundError(
            f"dataset {name!r} not found: tensorflow_datasets could not download {TFDS_NAMES[name]!r} "
            f"({_summary(failed_download)}): that needs the network. {hint}"
        )
    return DatasetNotFoundError(
        f"dataset {name!r} not found: tensorflow_datasets could not provide it ({_summary(error)}). {hint}"
    )


def _download_errors():
    """Exception types that mean a download failed: no network, no DNS, a refusing server."""
    import socket
    import urllib.error

    import tensorflow_datasets as tfds

    try:  # tfds downloads with requests (its dependency, not ours)
        from requests import RequestException
    except ImportError:
        RequestException = ConnectionError
    return (ConnectionError, TimeoutError, socket.gaierror, urllib.error.URLError, RequestException,
            tfds.download.DownloadError)


def _exception_chain(error):
    """`error` and the exceptions it was raised from or while handling, outermost first."""
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _summary(error):
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
