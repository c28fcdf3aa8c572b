import json

import pytest

from stages.io import write_atomic, write_json_atomic


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
