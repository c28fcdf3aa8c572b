"""A short training on the real MNIST, when a mirror of it is at hand ($MNIST_MIRROR)."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import (
    PROJECT,
    TRAIN_ON_TWO_LOGICAL_CPUS,
    committed_params,
    make_pipeline_repo,
    metrics,
    repo_env,
    run,
    set_params,
)

MIRROR = os.environ.get("MNIST_MIRROR")
REAL_SHA256 = committed_params()["mnist"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MIRROR, reason="set MNIST_MIRROR to a folder or URL holding MNIST"),
]


def test_three_epochs_on_real_mnist_clearly_beat_the_noisy_input_and_so_does_mirrored(tmp_path):
    """The committed defaults but for the epochs, then one epoch of mirrored training on two
    logical CPUs from the same processed data: both learn real digits."""
    defaults = committed_params()
    repo = make_pipeline_repo(
        tmp_path / "repo", REAL_SHA256, MIRROR, dense={"epochs": 3}, train=defaults["train"]
    )
    run(repo, "dvc", "repro", env=repo_env(MNIST_MIRROR=MIRROR))
    scores = metrics(repo)
    assert scores["test_images"] == 10_000
    # same seed and noise as the committed baseline, so the same noisy test set, to the digit
    shown = subprocess.run(
        ["git", "-C", str(PROJECT), "show", "HEAD:metrics/psnr.json"],
        capture_output=True,
        text=True,
    )
    baseline = json.loads(shown.stdout or (PROJECT / "metrics/psnr.json").read_text())
    assert scores["psnr_noisy"] == baseline["psnr_noisy"]
    assert scores["psnr"] > scores["psnr_noisy"] + 4
    # the default's processed data are those of the committed dvc.lock, byte for byte
    committed = subprocess.run(
        ["git", "-C", str(PROJECT), "show", "HEAD:dvc.lock"], capture_output=True, text=True
    )
    outs = [
        yaml.safe_load(text)["stages"]["preprocess"]["outs"]
        for text in (committed.stdout, (repo / "dvc.lock").read_text())
    ]
    assert outs[0] == outs[1]

    set_params(repo, dense={"epochs": 1}, train={"distribute": "mirrored"})
    assert "2 replica(s)" in run(repo, sys.executable, "-c", TRAIN_ON_TWO_LOGICAL_CPUS)
    run(repo, sys.executable, "-m", "stages.evaluate")
    scores = metrics(repo)
    assert scores["psnr"] > scores["psnr_noisy"] + 3
