import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

from stages.evaluate import ZOOM, example_grid
from stages.models import build_dense_autoencoder, build_unet
from stages.train import save_model
from tests.conftest import PROJECT


def test_example_grid_shows_the_first_image_of_each_digit_in_three_rows():
    labels = np.array([3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 0], np.uint8)
    clean = np.zeros((11, 28, 28, 1), np.float32)
    clean[:, 0, 0, 0] = np.arange(11) / 10  # tag each image by its index
    noisy, denoised = clean + 0.0, np.clip(clean + 2.0, 0, 1)
    grid = example_grid(clean, noisy, denoised, labels)
    assert grid.shape == (3 * 28 * ZOOM, 10 * 28 * ZOOM, 1)
    first_of_each_digit = [1, 2, 3, 0, 4, 5, 6, 7, 8, 9]  # digit 0 is image 1, not image 10
    tags = grid[0, :: 28 * ZOOM, 0]
    np.testing.assert_allclose(tags, np.array(first_of_each_digit) / 10)
    assert (grid[2 * 28 * ZOOM :] == 1).all()  # the denoised row


def run_evaluate(
    folder: Path, model: keras.Model, clean: np.ndarray
) -> subprocess.CompletedProcess:
    """The evaluate stage in `folder`, on this model and these clean images with a little noise."""
    (folder / "data/processed").mkdir(parents=True)
    noisy = np.clip(clean + 0.1, 0, 1)
    labels = np.zeros(len(clean), np.uint8)
    np.savez(folder / "data/processed/test.npz", clean=clean, noisy=noisy, labels=labels)
    save_model(model, str(folder / "models/model.keras"))
    return subprocess.run(
        [sys.executable, "-m", "stages.evaluate"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )


def test_an_empty_test_set_is_one_line_and_writes_no_metrics(tmp_path):
    result = run_evaluate(tmp_path, build_unet(1, 2), np.zeros((0, 28, 28, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: data/processed/test.npz holds no images to evaluate"
    )
    assert not (tmp_path / "metrics").exists()


def test_a_dense_model_of_another_size_is_one_line(tmp_path):
    model = build_dense_autoencoder([8], image_shape=(28, 28, 1))
    result = run_evaluate(tmp_path, model, np.zeros((3, 32, 32, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: models/model.keras takes 28x28x1 images, but data/processed/test.npz holds "
        "32x32x1 ones; retrain it on this data (`dvc repro`)"
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "metrics").exists()


def test_a_model_that_outputs_nan_writes_no_metrics(tmp_path):
    model = build_dense_autoencoder([8])
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    result = run_evaluate(tmp_path, model, np.zeros((3, 28, 28, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: models/model.keras outputs NaN or infinite values; retrain it"
    )
    assert not (tmp_path / "metrics").exists()
