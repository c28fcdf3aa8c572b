"""Team workflows through the real `dvc` CLI: queued experiments, a shared remote, artifacts."""

import csv
import io
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import repo_env, run

pytestmark = pytest.mark.slow  # through the real CLI: `pytest -m "not slow"` skips it


def wait_for_queue(repo) -> str:
    """Poll `dvc queue status` until nothing is queued or running; return the last status.
    No deadline: however slow the machine, the queue's own outcome decides the test."""
    while True:
        status = run(repo, "dvc", "queue", "status")
        if "Queued" not in status and "Running" not in status:
            return status
        time.sleep(2)


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


def test_a_registered_model_comes_back_with_dvc_artifacts_get_and_denoises(repo, tmp_path):
    """dvc.yaml's `denoiser` artifact: registered as a version (a git tag, as model registries
    do), pushed, then fetched by name from the repository, as another project would."""
    run(repo, "dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote"))
    run(repo, "git", "commit", "-qam", "add a shared remote")
    run(repo, "dvc", "push")
    assert "denoiser@v0.0.1" in run(repo, "gto", "register", "denoiser")
    out = tmp_path / "elsewhere"
    run(tmp_path, "dvc", "artifacts", "get", str(repo), "denoiser", "-o", str(out / "model.keras"))
    assert (out / "model.keras").read_bytes() == (repo / "models/model.keras").read_bytes()
    digit = np.zeros((28, 28, 1), np.uint8)
    (out / "digit.png").write_bytes(tf.io.encode_png(digit).numpy())
    result = run(
        out,
        sys.executable,
        "-m",
        "stages.denoise",
        "digit.png",
        "-o",
        "denoised",
        "--model",
        "model.keras",
        env=repo_env(PYTHONPATH=str(repo)),
    )
    assert "1 of 1 image(s) written" in result
