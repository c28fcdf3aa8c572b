"""PNG and JPEG files: what `dataset: images`, its checks and the `denoise` command share.

Images are decoded with TensorFlow's codecs (imported only when an image is first read, so that
the MNIST stages never load it) into uint8 arrays shaped (height, width, channels).
"""

import re
import struct
from pathlib import Path

import numpy as np

from stages import quiet_tensorflow_startup

SUFFIXES = {".png", ".jpg", ".jpeg"}
MAX_PIXELS = 1 << 27  # 134 megapixels: decoded as float32 colour, 1.6 GB; larger files are refused


def files_in(folder: Path, images_only: bool = True) -> list[Path]:
    """The files directly inside `folder`, by name, hidden ones left out (no subfolders); with
    images_only, those with a PNG or JPEG suffix."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and (path.suffix.lower() in SUFFIXES or not images_only)
    )


def image_shape(data: bytes) -> tuple[int, int, int] | None:
    """(height, width, channels) of a PNG or JPEG file, read from its header alone: channels 3
    for colour, 1 for gray. None where the header cannot be read (decode() then says why).

    PNG colour types 0 and 4 are gray (with alpha); palette images count as colour. A JPEG's
    frame header (SOF) gives its size and number of components.
    """
    if data.startswith(b"\x89PNG") and len(data) > 25:
        width, height = struct.unpack(">II", data[16:24])
        return height, width, 1 if data[25] in (0, 4) else 3
    if not data.startswith(b"\xff\xd8"):
        return None
    position = 2
    while position + 10 <= len(data):  # segments: FF (fill bytes: more FF), marker, length, data
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return height, width, 1 if data[position + 9] == 1 else 3
        if marker == 0xDA:  # the image data starts: no frame header came before it
            return None
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    return None


def checked_shape(data: bytes) -> tuple[int, int, int]:
    """(height, width, channels) of a PNG or JPEG file from its header, checked before anything
    is decoded, so that memory stays bounded whatever a file claims.

    Raises ValueError with a short reason for an empty file, one that is not a PNG or JPEG
    image, one whose header gives no size, and one of more than MAX_PIXELS pixels.
    """
    if not data:
        raise ValueError("empty file")
    if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
        raise ValueError("not a PNG or JPEG image")
    shape = image_shape(data)
    if shape is None:
        raise ValueError("its header gives no image size (cut short or corrupt)")
    if shape[0] * shape[1] > MAX_PIXELS:
        raise ValueError(
            f"{shape[0]}x{shape[1]} pixels, more than the {MAX_PIXELS:,} allowed per image"
        )
    return shape


def decode(data: bytes, channels: int) -> np.ndarray:
    """A PNG or JPEG file's bytes as a uint8 (height, width, channels) array; colour becomes gray
    (channels=1) or gray becomes three equal channels (channels=3), and alpha is dropped.

    Raises ValueError with a short reason for a file that checked_shape refuses, and for one
    cut short or corrupt.
    """
    checked_shape(data)
    with quiet_tensorflow_startup():
        import tensorflow as tf
    try:
        return tf.io.decode_image(data, channels=channels, expand_animations=False).numpy()
    except tf.errors.InvalidArgumentError as e:  # truncated or corrupt
        reason = re.sub(r"\{\{.*?\}\}|\[Op:.*?\]", "", e.message).strip()
        raise ValueError(f"cannot decode it: {reason}") from None


def read_image(path: Path, channels: int) -> np.ndarray:
    """An image file as float32 (height, width, channels) in [0, 1]; ValueError as decode()."""
    return decode(path.read_bytes(), channels).astype(np.float32) / np.float32(255)
