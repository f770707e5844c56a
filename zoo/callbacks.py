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
