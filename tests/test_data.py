"""zoo.data: sources, label budgets, batch format and clear errors."""

import gzip
import os
import struct

import numpy as np
import pytest

import zoo
from zoo.data import CorruptDatasetError, DatasetNotFoundError, read_idx


def _write_idx(path, array, compress=True):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _idx_folder(folder, n_train=40, n_test=20, classes=4, side=6):
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    _write_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"), rng.integers(0, 256, (n_train, side, side)))
    _write_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"), np.arange(n_train) % classes)
    _write_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), rng.integers(0, 256, (n_test, side, side)))
    _write_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), np.arange(n_test) % classes)
    return folder


def test_digits_split_and_range():
    data = zoo.data.load("digits", labels=50, seed=0)
    assert data.input_shape == (8, 8, 1) and data.num_classes == 10
    assert len(data.x_train) + len(data.x_test) == 1797 and len(data.x_test) == 500
    assert data.x_train.dtype == np.float32
    assert data.x_train.min() == -1.0 and data.x_train.max() == 1.0
    x_labeled, y_labeled = data.labeled()
    assert len(x_labeled) == 50 and np.bincount(y_labeled).tolist() == [5] * 10
    assert len(data.unlabeled()) == len(data.x_train)


def test_label_selection_is_seeded_and_balanced():
    a = zoo.data.load("digits", labels=100, seed=1)
    b = zoo.data.load("digits", labels=100, seed=1)
    c = zoo.data.load("digits", labels=100, seed=2)
    np.testing.assert_array_equal(a.labeled_index, b.labeled_index)
    assert not np.array_equal(a.labeled_index, c.labeled_index)
    np.testing.assert_array_equal(a.x_test, c.x_test)  # the test split never depends on the seed
    assert np.bincount(a.labeled()[1]).tolist() == [10] * 10


def test_fully_labelled_and_validation_split():
    data = zoo.data.load("digits", labels=None, validation=97)
    assert data.num_labels == len(data.x_train) == 1297 - 97
    x_val, y_val = next(iter(data.validation(1000)))
    assert len(x_val) == 97
    # validation examples are in neither the labelled nor the unlabelled set
    train_rows = {row.tobytes() for row in data.x_train}
    assert sum(row.tobytes() in train_rows for row in x_val.numpy()) <= 2  # digits has a few exact duplicates


def test_train_stream_format():
    data = zoo.data.load("digits", labels=20)
    batch = next(iter(data.train(batch_size=32, labeled_batch_size=8)))
    assert set(batch) == {"x", "x_labeled", "y_labeled"}  # the unlabelled stream carries no labels
    assert batch["x"].shape == (32, 8, 8, 1) and batch["x_labeled"].shape == (8, 8, 8, 1)
    assert batch["y_labeled"].dtype.name == "int32"
    # labelled images and labels stay paired, drawn from the 20 labelled examples only
    x_labeled, y_labeled = data.labeled()
    lookup = {x.tobytes(): y for x, y in zip(x_labeled, y_labeled)}
    for _, b in zip(range(5), data.train(16, 16)):
        for x, y in zip(b["x_labeled"].numpy(), b["y_labeled"].numpy()):
            assert lookup[x.tobytes()] == y


def test_labeled_stream_visits_every_label_once_per_pass():
    """DESIGN.md: a fresh permutation of the labelled set each pass, not draws with replacement."""
    data = zoo.data.load("digits", labels=20)
    x_labeled, _ = data.labeled()
    index = {x.tobytes(): i for i, x in enumerate(x_labeled)}
    batches = iter(data.train(batch_size=16, labeled_batch_size=5))
    seen = [index[x.tobytes()] for _ in range(12) for x in next(batches)["x_labeled"].numpy()]
    passes = [seen[i:i + 20] for i in range(0, 60, 20)]
    assert all(sorted(p) == list(range(20)) for p in passes)  # every example exactly once in each pass
    assert passes[0] != passes[1] != passes[2]  # in a new order each pass
    whole = next(iter(data.train(batch_size=16, labeled_batch_size=20)))["x_labeled"].numpy()
    assert sorted(index[x.tobytes()] for x in whole) == list(range(20))  # batch = labelled set: all of it


def test_second_unlabeled_batch_is_an_independent_shuffle():
    data = zoo.data.load("digits", labels=20)
    plain = next(iter(data.train(32)))
    batch = next(iter(data.train(32, second_unlabeled=True)))
    assert set(batch) == {"x", "x2", "x_labeled", "y_labeled"} and batch["x2"].shape == batch["x"].shape
    np.testing.assert_array_equal(batch["x"], plain["x"])  # the first stream is the one without x2
    rows = {x.tobytes() for x in data.x_train}
    assert all(x.tobytes() in rows for x in batch["x2"].numpy())
    assert not np.array_equal(batch["x"], batch["x2"])


def test_the_unlabeled_pool_can_leave_out_the_labeled_images():
    """Bad GAN's MNIST code draws its unlabelled batches from the images that are not labelled."""
    data = zoo.data.load("digits", labels=50)
    data.x_train = data.x_train.copy()
    data.x_train[:, 0, 0, 0] = np.linspace(-1, 1, len(data.x_train))  # every image made unique (digits has twins)
    labeled = {x.tobytes() for x in data.labeled()[0]}
    stream = iter(data.train(batch_size=400, exclude_labeled=True))  # one pass: 1,297 - 50 = 1,247 >= 3 x 400
    seen = [x.tobytes() for _ in range(3) for x in next(stream)["x"].numpy()]
    assert not labeled & set(seen) and len(set(seen)) == len(seen) == 1200


@pytest.mark.parametrize("labels,match", [
    (2000, "more than"), (55, "multiple of 10"), (0, "positive"), (2.5, "positive"), (1290, "per class"),
])
def test_impossible_label_budgets(labels, match):
    with pytest.raises(ValueError, match=match):
        zoo.data.load("digits", labels=labels)


def test_unbalanced_budget_allowed_when_asked():
    assert zoo.data.load("digits", labels=55, balanced=False).num_labels == 55


def test_unknown_dataset_lists_known(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="digits, mnist, fashion_mnist"):
        zoo.data.load("nope", data_dir=str(tmp_path))


def test_missing_dataset_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    with pytest.raises(DatasetNotFoundError) as error:
        zoo.data.load("mnist", data_dir=str(tmp_path), download=False)
    message = str(error.value)
    assert str(tmp_path) in message and "ZOO_DATA_DIR" in message and "tensorflow_datasets" in message


def test_idx_folder_via_data_dir_and_env(tmp_path, monkeypatch):
    _idx_folder(tmp_path / "toy")
    data = zoo.data.load("toy", labels=8, data_dir=str(tmp_path))
    assert data.input_shape == (6, 6, 1) and data.num_classes == 4 and data.num_labels == 8
    assert -1.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    assert zoo.data.load("toy").source == str(tmp_path / "toy")


def test_raw_idx_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a", array, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), array)


def test_truncated_and_corrupt_idx(tmp_path):
    folder = _idx_folder(tmp_path / "toy")
    images = os.path.join(folder, "train-images-idx3-ubyte.gz")
    with gzip.open(images, "rb") as f:
        raw = f.read()
    with gzip.open(images, "wb") as f:
        f.write(raw[:-10])  # a valid gzip holding a short payload
    with pytest.raises(CorruptDatasetError, match="truncated"):
        zoo.data.load("toy", data_dir=str(tmp_path))
    with open(images, "wb") as f:
        f.write(gzip.compress(raw)[:-20])  # a cut gzip stream
    with pytest.raises(CorruptDatasetError, match="corrupt or truncated"):
        read_idx(images)
    with gzip.open(images, "wb") as f:
        f.write(b"\x12\x34\x56\x78" + raw[4:])
    with pytest.raises(CorruptDatasetError, match="not an IDX file"):
        read_idx(images)


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    data = zoo.data.load("fashion_mnist", labels=100)
    assert data.source == "/usr/share/datasets/fashion-mnist"
    assert data.x_train.shape == (60000, 28, 28, 1) and data.x_test.shape == (10000, 28, 28, 1)
    assert data.num_classes == 10
