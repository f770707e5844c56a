"""zoo.data through tensorflow_datasets, offline: a mocked MNIST, and errors named by their cause.

No test here may reach the network: `no_network` refuses every connection
and name lookup made from Python (tfds downloads with requests), and the
mock is told to build MNIST's info from tfds' code (`MockPolicy.USE_CODE`)
rather than from metadata files it would otherwise look for.
"""

import socket

import numpy as np
import pytest
import requests
import tensorflow_datasets as tfds

import zoo
from zoo.data import DatasetNotFoundError


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("this test must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def no_idx_files(tmp_path, monkeypatch):
    """An empty data_dir, no $ZOO_DATA_DIR and no Debian folder: the IDX search finds nothing."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setattr(zoo.data, "DEBIAN_DATASETS", str(tmp_path / "no-debian-datasets"))
    empty = tmp_path / "data"
    empty.mkdir()
    return str(empty)


def _raise_in_download(monkeypatch, error):
    """Make tfds' download_and_prepare raise `error`, chained as tfds re-raises with added context."""

    def download_and_prepare(self, *args, **kwargs):
        try:
            raise error
        except type(error) as inner:
            raise type(error)(f"Failed to prepare {self.name}: {inner}") from inner

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)


def test_mnist_through_tensorflow_datasets_offline(no_idx_files, no_network):
    with tfds.testing.mock_data(num_examples=300, policy=tfds.testing.MockPolicy.USE_CODE):
        data = zoo.data.load("mnist", labels=100, seed=0, data_dir=no_idx_files)
    assert data.source == "tensorflow_datasets:mnist"
    assert data.x_train.shape == (300, 28, 28, 1) and data.x_test.shape == (300, 28, 28, 1)
    assert data.x_train.dtype == np.float32 and data.x_test.dtype == np.float32
    # the mock's pixels are random uint8: scaled to [-1, 1], not left in 0..255
    assert -1.0 <= data.x_train.min() < 0.0 < data.x_train.max() <= 1.0
    assert data.num_classes == 10 and data.input_shape == (28, 28, 1)
    x_labeled, y_labeled = data.labeled()
    assert len(x_labeled) == 100 and np.bincount(y_labeled, minlength=10).tolist() == [10] * 10
    batch = next(iter(data.train(batch_size=32)))
    assert batch["x"].shape == (32, 28, 28, 1) and batch["y_labeled"].dtype == "int32"


def test_broken_install_is_reported_as_such(no_idx_files, no_network, monkeypatch):
    missing = ModuleNotFoundError("No module named 'importlib_resources'", name="importlib_resources")
    _raise_in_download(monkeypatch, missing)
    with pytest.raises(ImportError) as caught:
        zoo.data.load("mnist", labels=100, data_dir=no_idx_files)
    message = str(caught.value)
    assert "'importlib_resources'" in message and "install is broken" in message and "pip install" in message
    assert "network" not in message and not isinstance(caught.value, DatasetNotFoundError)
    assert caught.value.name == "importlib_resources"
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)  # tfds' own error, chained


def test_failed_download_needs_the_network(no_idx_files, no_network, monkeypatch):
    _raise_in_download(monkeypatch, requests.exceptions.ConnectionError("Failed to resolve 'storage.googleapis.com'"))
    with pytest.raises(DatasetNotFoundError) as caught:
        zoo.data.load("mnist", data_dir=no_idx_files)
    message = str(caught.value)
    assert "could not download 'mnist'" in message and "needs the network" in message
    assert "ConnectionError" in message and no_idx_files in message  # the cause, and where the IDX search looked
    assert isinstance(caught.value.__cause__, requests.exceptions.ConnectionError)


def test_unprepared_without_download_says_where_tfds_looked(no_idx_files, no_network, tmp_path):
    prepared = str(tmp_path / "tfds")
    with pytest.raises(DatasetNotFoundError) as caught:
        zoo.data.load("mnist", data_dir=prepared, download=False)
    assert f"has not prepared 'mnist' in {prepared}" in str(caught.value)


def test_other_tfds_failures_keep_their_cause(no_idx_files, no_network, monkeypatch):
    _raise_in_download(monkeypatch, RuntimeError("checksum of train-images-idx3-ubyte.gz does not match"))
    with pytest.raises(DatasetNotFoundError) as caught:
        zoo.data.load("mnist", data_dir=no_idx_files)
    assert "RuntimeError: Failed to prepare mnist: checksum" in str(caught.value)
    assert "could not download" not in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)
