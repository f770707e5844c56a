"""A Keras 3 model zoo of deep generative models for semi-supervised learning.

    import zoo
    data = zoo.data.load("digits", labels=50)
    model = zoo.load("sgan", input_shape=data.input_shape, num_classes=data.num_classes)
    model.fit(data.train(batch_size=64), epochs=10, steps_per_epoch=100)
    model.evaluate(data.test())
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo import data, metrics, models  # noqa: E402,F401
from zoo.base import CapabilityError, ZooModel  # noqa: E402,F401
from zoo.registry import get, list_models, load, register  # noqa: E402,F401

__version__ = "0.1.0"
__all__ = ["load", "list_models", "register", "get", "data", "metrics", "ZooModel", "CapabilityError"]
