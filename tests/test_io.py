import json

import numpy as np
import pytest
import tensorflow as tf

from stages.io import write_atomic, write_json_atomic, write_png


def test_write_json_atomic_writes_the_whole_file(tmp_path):
    write_json_atomic(tmp_path / "sub/m.json", {"psnr": 23.4})
    assert json.loads((tmp_path / "sub/m.json").read_text()) == {"psnr": 23.4}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")

    def fail_halfway(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(path, fail_halfway)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_the_temporary_file_keeps_the_suffix_that_writers_look_at(tmp_path):
    seen = []
    write_atomic(tmp_path / "model.keras", lambda tmp: seen.append(tmp) or tmp.write_text("x"))
    assert seen[0].suffix == ".keras" and seen[0].parent == tmp_path


def test_write_png_clips_and_rounds_to_8_bits(tmp_path):
    image = np.array([[-0.5, 0.0, 0.2, 0.5], [0.998, 1.0, 1.5, 0.001]], np.float32)[..., None]
    write_png(tmp_path / "image.png", image)
    pixels = tf.io.decode_png((tmp_path / "image.png").read_bytes()).numpy()
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 4, 1)
    np.testing.assert_array_equal(pixels[..., 0], [[0, 0, 51, 128], [254, 255, 255, 0]])
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]
