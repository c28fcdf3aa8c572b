import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import yaml

from stages.models import build_dense_autoencoder, build_unet
from stages.runner import StageError
from stages.train import (
    VAL_BATCH_PIXELS,
    batches,
    check_model_fits,
    check_not_collapsed,
    save_model,
    split_train_validation,
    stop_on_non_finite_loss,
    validation_batch_size,
)
from tests.conftest import PROJECT, committed_params


def test_split_is_disjoint_complete_and_seeded():
    train, val = split_train_validation(1000, 0.1, seed=7)
    assert len(val) == 100 and len(train) == 900
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(1000))
    again = split_train_validation(1000, 0.1, seed=7)
    other = split_train_validation(1000, 0.1, seed=8)
    assert np.array_equal(val, again[1]) and not np.array_equal(val, other[1])


def test_batches_pair_each_noisy_image_with_its_clean_one_and_reshuffle_each_epoch():
    clean = np.arange(12, dtype=np.float32).reshape(12, 1, 1, 1)
    noisy = clean + 100
    subset = np.arange(10)  # images 10 and 11 belong to another split
    dataset = batches(noisy, clean, subset, batch_size=4, shuffle_seed=0)
    epochs = [[(n.numpy(), c.numpy()) for n, c in dataset] for _ in range(2)]
    for epoch in epochs:
        assert [len(c) for _, c in epoch] == [4, 4, 2]
        seen = np.concatenate([c for _, c in epoch]).ravel()
        assert sorted(seen) == list(range(10))
        for n, c in epoch:
            np.testing.assert_array_equal(n, c + 100)
    order = [np.concatenate([c for _, c in epoch]).ravel().tolist() for epoch in epochs]
    assert order[0] != order[1]


def test_unseeded_batches_keep_the_order_of_the_indices():
    clean = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1)
    got = [c.numpy().ravel().tolist() for _, c in batches(clean, clean, np.array([4, 0, 2]), 2)]
    assert got == [[4, 0], [2]]


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
    check_model_fits(params, image_shape)


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
        "images and still train; add images (or, for photos, raise images.crops_per_image)"
    )
    assert not (tmp_path / "models").exists()


def test_validation_batches_are_bounded_by_pixels_not_by_count():
    assert validation_batch_size((28, 28, 1)) == 1000  # MNIST: as many as before
    assert validation_batch_size((96, 96, 3)) == VAL_BATCH_PIXELS // (96 * 96)
    assert validation_batch_size((96, 96, 3)) * 96 * 96 <= VAL_BATCH_PIXELS
    assert validation_batch_size((2048, 2048, 3)) == 1  # one image, however large
