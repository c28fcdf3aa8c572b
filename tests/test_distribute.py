"""The train stage under tf.distribute's MirroredStrategy, on two logical CPU devices."""

import sys

import pytest

from tests.conftest import TRAIN_ON_TWO_LOGICAL_CPUS, make_pipeline_repo, metrics, repo_env, run

pytestmark = pytest.mark.slow  # through the real CLI: `pytest -m "not slow"` skips it


def test_mirrored_strategy_trains_on_two_replicas_and_evaluates(tmp_path, tiny_mnist, mirror_url):
    repo = make_pipeline_repo(
        tmp_path / "repo", tiny_mnist[1], mirror_url, train={"distribute": "mirrored"}
    )
    run(repo, "dvc", "repro", "preprocess", env=repo_env(MNIST_MIRROR=mirror_url))
    out = run(repo, sys.executable, "-c", TRAIN_ON_TWO_LOGICAL_CPUS)
    assert "2 replica(s)" in out
    assert "epoch 3/3: " in out  # the per-epoch log line, with its time
    run(repo, sys.executable, "-m", "stages.evaluate")
    scores = metrics(repo)
    assert 5 < scores["psnr"] < 60 and 0 < scores["ssim"] < 1
