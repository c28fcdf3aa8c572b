"""Read MNIST's IDX files (the format the original `.gz` files use).

The format is tiny: a 4-byte magic number (0x0000 + element type 0x08 for uint8 + number of
dimensions), one big-endian uint32 per dimension, then the raw bytes. Checking the magic and the
size catches a truncated download or a swapped file before it silently becomes wrong data.
"""

import gzip
from pathlib import Path

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
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


def read_idx_gz(path: Path, expected_magic: int) -> np.ndarray:
    """Read a gzip-compressed IDX file; a corrupt gzip stream is reported like a bad header."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: not a valid gzip file ({e})") from None
    return parse_idx(data, expected_magic, str(path))


def load_split(raw_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (images as N x 28 x 28 uint8, labels as N uint8) of the 'train' or 'test' split."""
    images_name, labels_name = FILES[split]
    images = read_idx_gz(raw_dir / images_name, IMAGE_MAGIC)
    labels = read_idx_gz(raw_dir / labels_name, LABEL_MAGIC)
    if len(images) != len(labels):
        raise ValueError(
            f"{raw_dir / images_name}: {len(images)} images "
            f"but {labels_name} has {len(labels)} labels"
        )
    return images, labels
