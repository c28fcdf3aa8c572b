"""Team workflows through the real `dvc` CLI: queued experiments, and a shared remote."""

import csv
import io
import time

import pytest

from tests.conftest import run

pytestmark = pytest.mark.slow  # through the real CLI: `pytest -m "not slow"` skips it


def wait_for_queue(repo, timeout: float = 600) -> str:
    """Poll `dvc queue status` until nothing is queued or running; return the last status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run(repo, "dvc", "queue", "status")
        if "Queued" not in status and "Running" not in status:
            return status
        time.sleep(2)
    raise AssertionError(f"queue still busy after {timeout} s:\n{status}")


def test_two_queued_experiments_run_and_both_show_metrics(repo):
    run(repo, "dvc", "exp", "run", "--queue", "-S", "noise_factor=0.1,0.3")
    try:
        run(repo, "dvc", "queue", "start", "-j", "1")
        status = wait_for_queue(repo)
    finally:
        run(repo, "dvc", "queue", "stop", "--kill", check=False)
    assert status.count("Success") == 2, status
    table = list(csv.DictReader(io.StringIO(run(repo, "dvc", "exp", "show", "--csv"))))
    experiments = {row["noise_factor"]: row for row in table if row["Experiment"]}
    assert set(experiments) == {"0.1", "0.3"}
    psnr_noisy = {noise: float(row["psnr_noisy"]) for noise, row in experiments.items()}
    assert psnr_noisy["0.1"] > psnr_noisy["0.3"]  # each ran its own preprocess
    assert all(float(row["psnr"]) > 0 for row in experiments.values())


def test_a_teammate_pulls_data_models_and_run_cache_and_has_nothing_to_run(repo, tmp_path):
    remote = tmp_path / "remote"
    run(repo, "dvc", "remote", "add", "-d", "shared", str(remote))
    run(repo, "git", "commit", "-qam", "add a shared remote")
    run(repo, "dvc", "push", "--run-cache")

    teammate = tmp_path / "teammate"
    run(tmp_path, "git", "clone", "-q", str(repo), str(teammate))
    assert not (teammate / "models/model.keras").exists()
    run(teammate, "dvc", "pull", "--run-cache")
    assert (teammate / "models/model.keras").read_bytes() == (
        repo / "models/model.keras"
    ).read_bytes()
    assert "up to date" in run(teammate, "dvc", "status")
    out = run(teammate, "dvc", "repro")
    assert "Running stage" not in out
    assert "Data and pipelines are up to date." in out
