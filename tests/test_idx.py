import gzip

import numpy as np
import pytest

from stages.idx import IMAGE_MAGIC, LABEL_MAGIC, load_split, parse_idx
from tests.conftest import idx_bytes, write_tiny_mnist


def test_parse_idx_reads_images_and_labels():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    np.testing.assert_array_equal(
        parse_idx(idx_bytes(images, IMAGE_MAGIC), IMAGE_MAGIC, "x"), images
    )
    np.testing.assert_array_equal(
        parse_idx(idx_bytes(labels, LABEL_MAGIC), LABEL_MAGIC, "y"), labels
    )


def test_parse_idx_rejects_bad_magic_naming_the_file():
    labels = idx_bytes(np.zeros(3, np.uint8), LABEL_MAGIC)
    with pytest.raises(
        ValueError, match=r"labels\.idx: bad IDX magic number 0x00000801, expected 0x00000803"
    ):
        parse_idx(labels, IMAGE_MAGIC, "labels.idx")


@pytest.mark.parametrize("cut", [1, 100])
def test_parse_idx_rejects_truncated_data(cut):
    data = idx_bytes(np.zeros((2, 28, 28), np.uint8), IMAGE_MAGIC)
    with pytest.raises(ValueError, match=r"IDX size mismatch, header says \(2, 28, 28\)"):
        parse_idx(data[:-cut], IMAGE_MAGIC, "images")


def test_parse_idx_rejects_a_truncated_header():
    with pytest.raises(ValueError, match="header truncated"):
        parse_idx(IMAGE_MAGIC.to_bytes(4, "big") + b"\0\0\0\2", IMAGE_MAGIC, "images")
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\0\0", IMAGE_MAGIC, "images")


def decompressed_tiny_mnist(folder):
    """The four tiny IDX files, decompressed as fetch stores them in data/raw."""
    write_tiny_mnist(folder)
    for gz in folder.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))


def test_load_split_returns_matching_images_and_labels(tmp_path):
    decompressed_tiny_mnist(tmp_path)
    images, labels = load_split(tmp_path, "test")
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60,) and labels.max() <= 9


def test_load_split_rejects_a_count_mismatch(tmp_path):
    decompressed_tiny_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(
        idx_bytes(np.zeros(59, np.uint8), LABEL_MAGIC)
    )
    with pytest.raises(ValueError, match="60 images but t10k-labels-idx1-ubyte has 59 labels"):
        load_split(tmp_path, "test")
