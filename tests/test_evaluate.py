import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from stages.evaluate import example_grid
from stages.models import build_dense_autoencoder, build_unet
from stages.train import save_model
from tests.conftest import PROJECT, committed_params


def test_example_grid_has_three_labelled_rows_and_a_column_per_example():
    pictures = [
        (np.full((28, 28, 1), i / 10), np.zeros((28, 28, 1)), np.ones((28, 28, 1)))
        for i in range(4)
    ]
    grid = example_grid(pictures)
    label_width = grid.shape[1] - 4 * 84  # MNIST's 28x28 shown at 84x84
    assert grid.shape == (3 * 84, label_width + 4 * 84, 1) and 0 < label_width < 120
    clean_row = grid[:84, label_width:]
    np.testing.assert_allclose(clean_row[0, ::84, 0], [0, 0.1, 0.2, 0.3])
    assert (grid[84:168, label_width:] == 0).all() and (grid[168:, label_width:] == 1).all()
    labels = grid[:, :label_width, 0]
    assert all(labels[row * 84 : (row + 1) * 84].any() for row in range(3))  # a word per row


def test_example_grid_cuts_photos_of_any_size_to_their_centres_in_colour():
    big = np.zeros((300, 200, 3))
    big[150, 100] = 1  # its centre pixel
    grid = example_grid([(big, big, big), (np.zeros((150, 160, 3)),) * 3])
    label_width = grid.shape[1] - 2 * 128
    assert grid.shape == (3 * 128, label_width + 2 * 128, 3)
    assert grid[64, label_width + 64].tolist() == [1, 1, 1]


def run_evaluate(
    folder: Path, model: keras.Model, clean: np.ndarray
) -> subprocess.CompletedProcess:
    """The evaluate stage in `folder`, on this model and these clean images with a little noise."""
    (folder / "data/processed").mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(committed_params()))
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


@pytest.mark.slow  # runs the stage in a subprocess
def test_an_empty_test_set_is_one_line_and_writes_no_metrics(tmp_path):
    result = run_evaluate(tmp_path, build_unet(1, 2), np.zeros((0, 28, 28, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: data/processed/test.npz holds no images to evaluate"
    )
    assert not (tmp_path / "metrics").exists()


@pytest.mark.slow  # runs the stage in a subprocess
def test_a_dense_model_of_another_size_is_one_line(tmp_path):
    model = build_dense_autoencoder([8], image_shape=(28, 28, 1))
    result = run_evaluate(tmp_path, model, np.zeros((3, 32, 32, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: models/model.keras takes 28x28x1 images, but data/processed/test.npz holds "
        "32x32x1 ones; retrain it on this data (`dvc repro`)"
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "metrics").exists()


@pytest.mark.slow  # runs the stage in a subprocess
def test_a_model_that_outputs_nan_writes_no_metrics(tmp_path):
    model = build_dense_autoencoder([8])
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    result = run_evaluate(tmp_path, model, np.zeros((3, 28, 28, 1), np.float32))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: models/model.keras outputs NaN or infinite values; retrain it"
    )
    assert not (tmp_path / "metrics").exists()
