import gzip

import numpy as np
import pytest

from stages.mnist import IMAGE_MAGIC, LABEL_MAGIC, load_split, parse_idx, read_idx_gz
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


def test_read_idx_gz_reports_a_broken_gzip_stream(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 2, 2), np.uint8), IMAGE_MAGIC))[:-5])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: not a valid gzip file"):
        read_idx_gz(path, IMAGE_MAGIC)


def test_load_split_returns_matching_images_and_labels(tmp_path):
    write_tiny_mnist(tmp_path)
    images, labels = load_split(tmp_path, "test")
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60,) and labels.max() <= 9


def test_load_split_rejects_a_count_mismatch(tmp_path):
    write_tiny_mnist(tmp_path)
    labels = np.zeros(59, np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels, LABEL_MAGIC))
    )
    with pytest.raises(ValueError, match="60 images but t10k-labels-idx1-ubyte.gz has 59 labels"):
        load_split(tmp_path, "test")
