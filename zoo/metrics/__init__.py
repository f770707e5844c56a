"""Semi-supervised accuracy and (later) sample-quality metrics."""

from zoo.metrics.classification import accuracy, error_rate  # noqa: F401
