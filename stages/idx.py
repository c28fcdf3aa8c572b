"""Read IDX files, the format of MNIST and Fashion-MNIST.

The format is tiny: a 4-byte magic number (0x0000 + element type 0x08 for uint8 + number of
dimensions), one big-endian uint32 per dimension, then the raw bytes. Checking the magic and the
size catches a truncated download or a swapped file before it silently becomes wrong data.
"""

from pathlib import Path

import numpy as np

# The four files of a set: params.yaml's checksum key -> the published name (without .gz)
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC = 0x00000803  # uint8, 3 dimensions (count, rows, cols)
LABEL_MAGIC = 0x00000801  # uint8, 1 dimension (count)


def parse_idx(data: bytes, expected_magic: int, name: str) -> np.ndarray:
    """Parse one uncompressed IDX blob into a uint8 array, or raise ValueError naming `name`."""
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{name}: bad IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}"
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{name}: IDX header truncated ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f"{name}: IDX size mismatch, header says {shape} ({expected} bytes), "
            f"file has {len(data)} bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def load_split(raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (images as N x height x width uint8, labels as N uint8) of 'train' or 'test'."""
    images_path, labels_path = (raw_dir / FILES[f"{split}_{kind}"] for kind in ("images", "labels"))
    images = parse_idx(images_path.read_bytes(), IMAGE_MAGIC, str(images_path))
    labels = parse_idx(labels_path.read_bytes(), LABEL_MAGIC, str(labels_path))
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels"
        )
    return images, labels
