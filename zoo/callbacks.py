"""Keras callbacks of the zoo."""

from __future__ import annotations

import os

import keras

from zoo.images import save_grid


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of samples every `every` epochs.

    The same `seed` is used each time, so successive grids show how the same
    noise (and, for conditional methods, the same labels) evolves.

    Args:
        folder: where `samples_epoch{E:04d}.png` files go.
        every: epochs between grids.
        n: images per grid.
        seed: sampling seed.
    """

    def __init__(self, folder, every=1, n=64, seed=0):
        super().__init__()
        if every < 1:
            raise ValueError("every must be >= 1")
        self.folder, self.every, self.n, self.seed = folder, every, n, seed

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        labels = range(self.model.num_classes) if self.model.conditional else None
        images = self.model.sample(self.n, labels=labels, seed=self.seed)
        columns = self.model.num_classes if labels is not None else None
        save_grid(images, os.path.join(self.folder, f"samples_epoch{epoch + 1:04d}.png"), columns)


class TestErrorCurve(keras.callbacks.Callback):
    """Append the test error every `every` epochs to a JSON-lines file: a learning curve that survives restarts.

    Each line: `{"epoch", "step", "test_error", "seconds", ...}` with the
    training logs of that epoch. `step` counts the training steps `fit` took
    (epochs x steps per epoch: a phase in which a role's optimizer does not
    step, as Triple-GAN's C pre-training, still counts); `seconds` is
    training wall time summed over every process that
    wrote the file (a resumed run continues the sum from the file's last
    line). The error is that of `model.classify`, so a method that keeps a
    weight average is scored with it; such a method's line also has
    `live_test_error`, that of the last step's weights (the average lags them
    by about 1 / (1 - decay) steps). A resumed run may repeat an epoch whose
    line was written before the interruption; `read_curve` keeps the last.
    """

    def __init__(self, x_test, y_test, path, every=1):
        super().__init__()
        if every < 1:
            raise ValueError("every must be >= 1")
        self.x_test, self.y_test, self.path, self.every = x_test, y_test, path, every

    def on_train_begin(self, logs=None):
        import time

        previous = read_curve(self.path)
        self.offset = previous[-1]["seconds"] if previous else 0.0
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import json
        import time

        import numpy as np

        if (epoch + 1) % self.every:
            return
        error = float(np.mean(self.model.classify(self.x_test).argmax(-1) != self.y_test))
        line = {"epoch": epoch + 1, "step": (epoch + 1) * int(self.params["steps"]),
                "test_error": error, "seconds": round(self.offset + time.perf_counter() - self.start, 1)}
        if getattr(self.model, "weight_average", None) is not None:
            live = self.model._map_batches(lambda x: self.model(x, training=False), self.x_test, 500)
            line["live_test_error"] = float(np.mean(live.argmax(-1) != self.y_test))
        line.update({k: float(v) for k, v in (logs or {}).items()})
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(line) + "\n")


def read_curve(path):
    """The lines of a `TestErrorCurve` file, one per epoch (the last written wins), in epoch order."""
    import json

    if not os.path.exists(path):
        return []
    lines = {}
    with open(path) as f:
        for text in f:
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                continue  # a line cut by an interruption
            lines[line["epoch"]] = line
    return [lines[e] for e in sorted(lines)]
