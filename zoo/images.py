"""Image grids as PNG (Pillow)."""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np


def grid(images, columns=None, min_tile=32, padding=1):
    """Tile images in [-1, 1] (N, H, W, C) into one uint8 array, upscaled so
    that each tile is at least `min_tile` pixels high (8x8 digits stay visible)."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images of shape (N, H, W, 1 or 3); got {images.shape}")
    count, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    scale = max(1, math.ceil(min_tile / height))
    pixels = np.clip((images + 1.0) * 127.5, 0, 255).round().astype("uint8")
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    tile_h, tile_w = height * scale + padding, width * scale + padding
    canvas = np.full((rows * tile_h + padding, columns * tile_w + padding, channels), 255, "uint8")
    for i, image in enumerate(pixels):
        r, c = divmod(i, columns)
        canvas[padding + r * tile_h: (r + 1) * tile_h, padding + c * tile_w: (c + 1) * tile_w] = image
    return canvas[..., 0] if channels == 1 else canvas


def save_grid(images, path, columns=None):
    """Write `grid(images)` to the PNG `path` (atomically)."""
    from PIL import Image

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".png")
    os.close(fd)
    try:
        Image.fromarray(grid(images, columns)).save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
