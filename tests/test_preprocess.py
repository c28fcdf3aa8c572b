"""The preprocess stage in a scratch folder holding a tiny MNIST."""

import os
import resource
import shutil
import subprocess
import sys

import numpy as np
import yaml

from tests.conftest import PROJECT, TINY_TEST, TINY_TRAIN, committed_params


def run_preprocess(folder, tiny_mnist, file_size_limit=None) -> subprocess.CompletedProcess:
    params = committed_params()
    params["mnist"]["sha256"] = tiny_mnist[1]
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.copytree(tiny_mnist[0], folder / "data/raw")

    def limit_file_size():  # writes past the limit fail as on a full disk (EFBIG, not ENOSPC)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "stages.preprocess"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        preexec_fn=limit_file_size,
    )


def test_writes_clean_and_noisy_pairs_of_each_split(tmp_path, tiny_mnist):
    result = run_preprocess(tmp_path, tiny_mnist)
    assert result.returncode == 0, result.stderr
    for split, n in (("train", TINY_TRAIN), ("test", TINY_TEST)):
        with np.load(tmp_path / f"data/processed/{split}.npz") as data:
            assert data["clean"].shape == data["noisy"].shape == (n, 28, 28, 1)
            assert data["labels"].shape == (n,)
        line = f"preprocess: data/processed/{split}.npz: {n} images, gaussian noise"
        assert line in result.stdout


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, tiny_mnist):
    result = run_preprocess(tmp_path, tiny_mnist, file_size_limit=100_000)
    assert result.returncode == 1
    assert result.stderr == "error: data/processed/train.npz: File too large\n"
    assert list((tmp_path / "data/processed").iterdir()) == []
