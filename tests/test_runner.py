import subprocess
import sys

import pytest

from stages import runner
from stages.runner import StageError, check_unchanged, fingerprint, run_stage


def test_a_file_rewritten_during_a_stage_stops_it_with_one_line(tmp_path):
    params, data = tmp_path / "params.yaml", tmp_path / "data"
    params.write_text("epochs: 2\n")
    data.mkdir()
    (data / "a.npz").write_text("x")

    def stage():
        check_unchanged()  # nothing changed
        params.write_text("epochs: 3\n")  # what a second `dvc exp run -S` does
        with pytest.raises(StageError, match=f"^{params} changed while this stage was running"):
            check_unchanged()
        (data / "b.npz").write_text("y")
        check_unchanged()

    with pytest.raises(SystemExit, match=f"^error: {params}, {data} changed"):
        run_stage(stage, reads=[params, data])
    assert runner.watched == {}  # what a stage read is forgotten once it ends
    check_unchanged()  # outside a stage, nothing to compare


def test_a_file_that_cannot_be_written_ends_a_stage_with_one_line(tmp_path):
    # A file-size limit makes writes fail as a full disk does (Python ignores SIGXFSZ).
    script = (
        "import resource, sys; from stages.outputs import json_file, write_atomic; "
        "from stages.runner import run_stage; "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (10, 10)); "
        f"run_stage(lambda: write_atomic({str(tmp_path / 'm.json')!r}, json_file({{'psnr': 1}})))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'm.json'}: File too large\n"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit, match="^error: /nonexistent/x.json: No such file"):
        run_stage(lambda: open("/nonexistent/x.json"))


def test_a_stage_error_is_one_line_and_a_result_comes_back():
    def fails():
        raise StageError("params.yaml: unet.depth 9 is too deep")

    with pytest.raises(SystemExit, match=r"^error: params.yaml: unet.depth 9 is too deep$"):
        run_stage(fails)
    assert run_stage(lambda: 130) == 130  # denoise's exit status


def test_fingerprint_follows_every_file_under_a_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/a").write_text("1")
    before = fingerprint(tmp_path, tmp_path / "missing")
    assert before[str(tmp_path / "missing")] == []
    (tmp_path / "sub/a").write_text("22")
    assert fingerprint(tmp_path) != {str(tmp_path): before[str(tmp_path)]}
