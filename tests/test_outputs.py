import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from stages.outputs import json_file, write_all_atomic, write_atomic, write_png
from stages.runner import run_stage


def test_a_json_file_is_written_whole(tmp_path):
    write_atomic(tmp_path / "sub/m.json", json_file({"psnr": 23.4}))
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


def test_several_outputs_are_all_replaced_or_none_is(tmp_path):
    old = {name: f"old {name}" for name in ("a.json", "b.json")}
    for name, text in old.items():
        (tmp_path / name).write_text(text)
    params = tmp_path / "params.yaml"
    params.write_text("epochs: 2\n")
    writes = {tmp_path / name: (lambda tmp: tmp.write_text("new")) for name in old}

    def second_rewrites_params(tmp):  # a second `dvc exp run -S` in the same workspace
        params.write_text("epochs: 3\n")
        tmp.write_text("new")

    changed = {**writes, tmp_path / "b.json": second_rewrites_params}
    with pytest.raises(SystemExit, match=f"^error: {params} changed while this stage was running"):
        run_stage(lambda: write_all_atomic(changed), reads=[params])
    params.unlink()
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == old  # no temporaries either

    def second_fails(tmp):
        raise OSError(28, "No space left on device", str(tmp))

    with pytest.raises(OSError, match="b.json"):  # named by the output, not its temporary
        write_all_atomic(
            {tmp_path / "a.json": writes[tmp_path / "a.json"], tmp_path / "b.json": second_fails}
        )
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == old

    write_all_atomic(writes)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {"a.json": "new", "b.json": "new"}


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


def test_outputs_get_the_permissions_the_umask_gives(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "m.json", json_file({}))
    finally:
        os.umask(old)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o640


def test_a_temporary_left_by_a_killed_run_is_removed_by_the_next_write(tmp_path):
    left = tmp_path / ".model.tmp-0badcafe.keras"  # what a SIGKILL during the save leaves
    left.write_text("half a model")
    other = tmp_path / ".other.tmp-0badcafe.keras"  # another output's: not ours to remove
    other.write_text("x")
    write_atomic(tmp_path / "model.keras", lambda tmp: tmp.write_text("model"))
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == [".other.tmp-0badcafe.keras", "model.keras"]


def test_a_temporary_of_a_process_still_running_is_never_removed(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = tmp_path / f".model.tmp-{finished.stdout.strip()}-0badcafe.keras"  # its writer ended
    live = tmp_path / f".model.tmp-{os.getppid()}-1badcafe.keras"  # pytest's parent: running
    impossible = tmp_path / f".model.tmp-{'9' * 30}-2badcafe.keras"  # no process has that number
    for path in (dead, live, impossible):
        path.write_text("being written")
    write_atomic(tmp_path / "model.keras", lambda tmp: tmp.write_text("model"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "model.keras"]


def test_git_and_dvc_never_see_temporaries(tmp_path):
    from tests.conftest import PROJECT

    for ignore in (".gitignore", ".dvcignore"):
        patterns = (PROJECT / ignore).read_text().splitlines()
        assert ".*.tmp-*" in patterns, ignore
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text((PROJECT / ".gitignore").read_text())
    (tmp_path / "models").mkdir()
    (tmp_path / "models/.model.tmp-0badcafe.keras").write_text("half a model")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout
    assert status == "?? .gitignore\n"
