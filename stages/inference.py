"""Run a trained denoiser on images of any size with bounded memory.

Images are sent through the model in batches of at most `tile * tile` pixels. An image larger
than that is cut into overlapping tiles: each tile is denoised with a margin of real
neighbouring pixels as wide as the model can see (its receptive field), and only its centre is
kept, so the result equals that of the whole image at once, to float rounding. Tiles start on a
multiple of the model's total downsampling, so a U-Net pools the same pixels together either way.

Images may be float32 in [0, 1] or uint8/uint16 pixels: integer ones are scaled to [0, 1] one
tile at a time and come back as the same type, so a large photo is held at its own depth, never
as a float32 copy of the whole.
"""

from collections.abc import Callable

import keras
import numpy as np

from stages.images import from_unit, to_unit
from stages.models import receptive_field

TILE = 512  # pixels per side of a tile; a model call sees at most TILE**2 pixels (plus margins)


def predictor(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """The model as one traced function for images of any size: no retracing per shape."""
    import tensorflow as tf

    call = tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)],
    )
    return lambda images: call(tf.constant(images)).numpy()


def denoise_large(predict: Callable, image: np.ndarray, radius: int, alignment: int, tile: int):
    """One (height, width, channels) image, tile by tile, each with a margin of `radius`; the
    output has the image's type (see to_unit, from_unit)."""
    height, width = image.shape[:2]
    margin = -(-radius // alignment) * alignment  # rounded up to a multiple of the alignment
    step = max(alignment, tile // alignment * alignment)
    out = np.empty_like(image)
    for top in range(0, height, step):
        for left in range(0, width, step):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1, x1 = min(height, top + step + margin), min(width, left + step + margin)
            denoised = predict(to_unit(image[np.newaxis, y0:y1, x0:x1]))[0]
            bottom, right = min(height, top + step), min(width, left + step)
            centre = denoised[top - y0 : bottom - y0, left - x0 : right - x0]
            out[top:bottom, left:right] = from_unit(centre, image.dtype)
    return out


def make_denoiser(
    model: keras.Model, tile: int = TILE
) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """A function from (height, width, channels) images to the model's outputs, of their type.

    Images of the same size go through together, at most tile**2 pixels per call; an image
    larger than that goes through in tiles. The model is traced once, for every size.
    """
    predict = predictor(model)
    radius, alignment = receptive_field(model)
    fixed_size = model.input_shape[1] is not None  # the dense model: never in tiles

    def denoise(images: list[np.ndarray]) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.empty(0)] * len(images)
        by_shape: dict[tuple, list[int]] = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for shape, indices in by_shape.items():
            pixels = shape[0] * shape[1]
            if pixels > tile * tile and not fixed_size:
                for i in indices:
                    out[i] = denoise_large(predict, images[i], radius, alignment, tile)
                continue
            per_call = max(1, tile * tile // pixels)
            for start in range(0, len(indices), per_call):
                batch = indices[start : start + per_call]
                denoised = predict(to_unit(np.stack([images[i] for i in batch])))
                for i, image in zip(batch, denoised, strict=True):
                    out[i] = from_unit(image, images[i].dtype)
        return out

    return denoise
