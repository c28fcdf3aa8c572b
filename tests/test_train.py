import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import yaml

from stages.models import build_dense_autoencoder, build_model, build_unet
from stages.runner import StageError
from stages.train import (
    check_model_fits,
    check_not_collapsed,
    save_model,
    stop_on_non_finite_loss,
)
from tests.conftest import PROJECT, committed_params


def test_saved_model_bytes_depend_only_on_the_weights(tmp_path):
    model = build_dense_autoencoder([8])
    save_model(model, str(tmp_path / "a.keras"))
    time.sleep(1.1)  # the zip and Keras timestamps have one-second resolution
    save_model(model, str(tmp_path / "b.keras"))
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    loaded = keras.models.load_model(tmp_path / "a.keras")
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_two_builds_of_the_same_model_save_to_the_same_bytes(tmp_path):
    # Keras writes memory addresses into config.json; two processes never share them, two builds
    # in one process do not either.
    for name in ("a", "b"):
        keras.utils.set_random_seed(0)
        save_model(build_dense_autoencoder([8, 4]), str(tmp_path / f"{name}.keras"))
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()


def test_a_model_no_better_than_black_fails_loudly_and_a_learning_one_passes():
    with pytest.raises(
        StageError, match=r"the model collapsed: its validation loss 0\.1100 .*0\.1120"
    ):
        check_not_collapsed(val_loss=0.110, black_loss=0.112)
    check_not_collapsed(val_loss=0.02, black_loss=0.112)


def test_a_loss_that_stops_being_finite_ends_training_with_one_line():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", steps_per_execution=5)
    x = np.ones((40, 4), np.float32)
    y = x.copy()
    y[25] = np.inf  # the sixth batch of 4 brings an infinite target
    with pytest.raises(StageError) as failure:
        model.fit(x, y, batch_size=4, epochs=3, callbacks=[stop_on_non_finite_loss()], verbose=0)
    assert str(failure.value).startswith(
        "train: the loss is no longer a finite number in epoch 1 (loss "
    )
    assert str(failure.value).endswith("no model was saved. Lower the learning rate (params.yaml).")


def fits(model: str, image_shape: tuple[int, int, int], dataset: str = "mnist", **section):
    params = committed_params()
    params.update(model=model, dataset=dataset)
    params[model].update(section)
    check_model_fits(params, build_model(params, image_shape), image_shape)


def test_a_unet_too_deep_for_the_images_is_one_line_before_any_work():
    fits("unet", (28, 28, 1), depth=5)  # padded to 32x32, halved down to 1x1
    with pytest.raises(StageError) as failure:
        fits("unet", (28, 28, 1), depth=6)  # 64x64 would need 36 reflected pixels out of 28
    assert str(failure.value) == (
        "params.yaml: unet.depth 6 needs the images padded to a multiple of 64 pixels, "
        "more than reflecting these 28x28 images can add; use unet.depth <= 5"
    )
    build_unet(5, 2)(np.zeros((1, 28, 28, 1), np.float32))  # what check_model_fits allows runs


def test_the_dense_model_is_refused_for_images_of_any_size():
    fits("dense", (28, 28, 1), dataset="fashion_mnist")
    with pytest.raises(
        StageError, match="model dense knows only one image size, but dataset images"
    ):
        fits("dense", (64, 64, 3), dataset="images")


def test_a_batch_too_large_for_memory_is_one_line():
    fits("unet", (256, 256, 3), batch_size=64)  # 4,194,304 pixels: the limit
    with pytest.raises(StageError, match="a batch of 65 images of 256x256 is 4,259,840 pixels"):
        fits("unet", (256, 256, 3), batch_size=65)


@pytest.mark.slow  # runs the stage in a subprocess
def test_a_training_set_too_small_to_hold_out_validation_images_is_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(committed_params()))
    (tmp_path / "data/processed").mkdir(parents=True)
    one = np.zeros((1, 28, 28, 1), np.float32)
    np.savez(tmp_path / "data/processed/train.npz", clean=one, noisy=one)
    result = subprocess.run(
        [sys.executable, "-m", "stages.train"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: data/processed/train.npz: 1 training image(s), too few to hold out validation "
        "images and still train; add images"
    )
    assert not (tmp_path / "models").exists()
