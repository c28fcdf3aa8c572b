"""Write outputs atomically: a stage that fails never leaves a half-written file behind."""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary file beside `path`, then rename it onto `path`.

    The rename is atomic on one filesystem, so readers (and DVC) see either the old file or the
    complete new one; on any error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder (so the rename stays on one filesystem), same suffix (Keras and numpy
    # look at it), hidden name (so a crash leaves nothing that looks like an output).
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, data: dict) -> None:
    """Write `data` as indented JSON, atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a (height, width, 1) image in [0, 1] as an 8-bit grayscale PNG, atomically.

    Values are clipped to [0, 1] and rounded to the nearest of 256 levels. TensorFlow (for its
    PNG encoder) is imported here, not above, so that fetch and preprocess never load it.
    """
    import tensorflow as tf

    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    png = tf.io.encode_png(pixels).numpy()
    write_atomic(path, lambda tmp: tmp.write_bytes(png))
