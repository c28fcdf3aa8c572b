"""The preprocess stage in a scratch folder holding a tiny data set, run as DVC runs it."""

import gzip
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import yaml

from tests.conftest import PROJECT, TINY_TEST, TINY_TRAIN, committed_params

# The stage, with params.yaml rewritten (as a second `dvc exp run -S` would) while the test
# split's noise is drawn: the training split is done by then.
PARAMS_REWRITTEN_MID_RUN = """
import runpy
import stages.noise
draws = []
def add_noise_then_rewrite_params(*args):
    noisy = add_noise(*args)
    draws.append(1)
    if len(draws) == 2:
        with open("params.yaml", "a") as params:
            params.write("# rewritten by another run\\n")
    return noisy
add_noise, stages.noise.add_noise = stages.noise.add_noise, add_noise_then_rewrite_params
runpy.run_module("stages.preprocess", run_name="__main__")  # as `python -m` runs it
"""


def run_preprocess(
    folder, file_size_limit=None, code=None, **settings
) -> subprocess.CompletedProcess:
    params = committed_params()
    for key, value in settings.items():
        params[key].update(value) if isinstance(value, dict) else params.update({key: value})
    (folder / "params.yaml").write_text(yaml.safe_dump(params))

    def limit_file_size():  # writes past the limit fail as on a full disk (EFBIG, not ENOSPC)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, *(["-c", code] if code else ["-m", "stages.preprocess"])],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        preexec_fn=limit_file_size,
    )


@pytest.fixture
def tiny_raw(tmp_path, tiny_mnist):
    """data/raw as fetch leaves it for the tiny MNIST: the four IDX files, decompressed."""
    (tmp_path / "data/raw").mkdir(parents=True)
    for gz in tiny_mnist[0].glob("*.gz"):
        (tmp_path / "data/raw" / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    return tmp_path


@pytest.mark.slow  # runs the stage in a subprocess
def test_writes_clean_and_noisy_pairs_of_each_split(tiny_raw):
    result = run_preprocess(tiny_raw)
    assert result.returncode == 0, result.stderr
    for split, n in (("train", TINY_TRAIN), ("test", TINY_TEST)):
        with np.load(tiny_raw / f"data/processed/{split}.npz") as data:
            assert data.files == ["clean", "noisy", "labels"]
            assert data["clean"].shape == data["noisy"].shape == (n, 28, 28, 1)
            assert data["labels"].shape == (n,)
        line = f"preprocess: data/processed/{split}.npz: {n} images, gaussian noise"
        assert line in result.stdout


@pytest.mark.slow  # runs the stage in a subprocess
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tiny_raw):
    result = run_preprocess(tiny_raw, file_size_limit=100_000)
    assert result.returncode == 1
    assert result.stderr == "error: data/processed/train.npz: File too large\n"
    assert list((tiny_raw / "data/processed").iterdir()) == []


def write_photos(folder, sizes: dict[str, tuple[int, int, int]]) -> None:
    """Random images of the given (height, width, channels), as PNG or JPEG by their suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, shape) in enumerate(sizes.items()):
        pixels = np.random.default_rng(i).integers(0, 256, shape, np.uint8)
        encode = tf.io.encode_png if name.endswith(".png") else tf.io.encode_jpeg
        (folder / name).write_bytes(encode(pixels).numpy())


PHOTOS = {
    "a.png": (40, 50, 3),
    "b.jpg": (64, 48, 3),
    "c.png": (33, 70, 1),  # grayscale, in a folder that has colour ones
    "d.jpg": (20, 90, 1),  # smaller than a 24-pixel crop: skipped
    "e.png": (48, 48, 3),
    "f.png": (100, 30, 3),
}


@pytest.mark.slow  # runs the stage in a subprocess
def test_your_images_become_photos_to_crop_from_and_whole_images_to_test_on(tmp_path):
    write_photos(tmp_path / "data/raw", PHOTOS)
    images = {"crop_size": 24, "crops_per_image": 3, "test_fraction": 0.34, "grayscale": False}
    result = run_preprocess(tmp_path, dataset="images", images=images)
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "data/processed/train.npz") as train:
        train_names = list(train["names"])
        assert train.files == [f"photo_{i}" for i in range(len(train_names))] + ["names"]
        for i, name in enumerate(train_names):  # whole, 8-bit as stored, colour as some are
            height, width, _ = PHOTOS[name]
            assert train[f"photo_{i}"].shape == (height, width, 3)
            assert train[f"photo_{i}"].dtype == np.uint8
    with np.load(tmp_path / "data/processed/test.npz") as test:
        names = list(test["names"])
        for i, name in enumerate(names):
            height, width, _ = PHOTOS[name]
            assert test[f"clean_{i}"].shape == test[f"noisy_{i}"].shape == (height, width, 3)
    assert sorted(train_names + names) == ["a.png", "b.jpg", "c.png", "e.png", "f.png"]
    assert (
        "preprocess: skipped data/raw/d.jpg: 20x90, smaller than the 24x24 crops" in result.stdout
    )
    assert f"{len(train_names)} files of 3 channel(s), for new 24x24 crops" in result.stdout

    # Same files, other settings (the seed among them): the same split.
    other = {**images, "crops_per_image": 2}
    again = run_preprocess(tmp_path, dataset="images", images=other, seed=7, noise_factor=0.3)
    assert again.returncode == 0, again.stderr
    with np.load(tmp_path / "data/processed/test.npz") as test:
        assert list(test["names"]) == names


@pytest.mark.slow  # runs the stage in a subprocess
def test_grayscale_can_be_forced_and_the_same_params_give_the_same_bytes(tmp_path):
    write_photos(tmp_path / "data/raw", PHOTOS)
    images = {"crop_size": 24, "crops_per_image": 2, "test_fraction": 0.34, "grayscale": True}
    first = run_preprocess(tmp_path, dataset="images", images=images)
    assert first.returncode == 0, first.stderr
    data = {s: (tmp_path / f"data/processed/{s}.npz").read_bytes() for s in ("train", "test")}
    with np.load(tmp_path / "data/processed/train.npz") as train:
        assert train["photo_0"].shape[-1] == 1
    assert run_preprocess(tmp_path, dataset="images", images=images).returncode == 0
    for split, content in data.items():
        assert (tmp_path / f"data/processed/{split}.npz").read_bytes() == content


@pytest.mark.slow  # runs the stage in a subprocess
def test_too_few_images_is_one_line(tmp_path):
    write_photos(tmp_path / "data/raw", {"only.png": (80, 80, 3), "tiny.png": (40, 40, 3)})
    result = run_preprocess(tmp_path, dataset="images")
    assert result.returncode == 1
    assert result.stderr == (
        "error: data/raw: 1 image(s) of at least 64x64 pixels (images.crop_size); "
        "a train and a test set need 2\n"
    )


@pytest.mark.slow  # runs the stage in a subprocess
def test_extra_levels_add_noisy_copies_and_leave_the_rest_as_it_was(tiny_raw):
    assert run_preprocess(tiny_raw).returncode == 0
    before = {s: dict(np.load(tiny_raw / f"data/processed/{s}.npz")) for s in ("train", "test")}
    result = run_preprocess(tiny_raw, test_noise_factors=[0.1, 0.4])
    assert result.returncode == 0, result.stderr
    assert "gaussian noise, noise_factor 0.2; also at 0.1, 0.4" in result.stdout
    with np.load(tiny_raw / "data/processed/test.npz") as test:
        assert list(test["levels"]) == [0.1, 0.4]
        for key in ("clean", "noisy", "labels"):  # the same draws as without the levels
            np.testing.assert_array_equal(test[key], before["test"][key])
        stroke = test["clean"] == np.float32(200 / 255)  # far enough from 0 and 1 at 0.1
        spread = [(test[f"noisy_level_{k}"] - test["clean"])[stroke].std() for k in range(2)]
        assert abs(spread[0] - 0.1) < 0.01 and spread[1] > 2.5 * spread[0]
    with np.load(tiny_raw / "data/processed/train.npz") as train:
        assert train.files == ["clean", "noisy", "labels"]
        np.testing.assert_array_equal(train["noisy"], before["train"]["noisy"])


@pytest.mark.slow  # runs the stage in a subprocess
@pytest.mark.parametrize("dataset", ["mnist", "images"])
def test_params_changed_during_the_run_save_neither_split(tiny_raw, dataset):
    images = {"crop_size": 24, "crops_per_image": 2, "test_fraction": 0.34, "grayscale": False}
    if dataset == "images":
        write_photos(tiny_raw / "data/raw", PHOTOS)
    first = run_preprocess(tiny_raw, dataset=dataset, images=images)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (tiny_raw / "data/processed").iterdir()}

    result = run_preprocess(
        tiny_raw, code=PARAMS_REWRITTEN_MID_RUN, dataset=dataset, images=images, noise_factor=0.3
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: params.yaml changed while this stage was running")
    assert "nothing was saved" in result.stderr
    after = {p.name: p.read_bytes() for p in (tiny_raw / "data/processed").iterdir()}
    assert after == before  # the earlier run's two splits, untouched, and no temporary


@pytest.mark.slow  # runs the stage in a subprocess
def test_a_self_supervised_target_keeps_no_clean_training_image(tiny_raw):
    assert run_preprocess(tiny_raw).returncode == 0
    before = {s: dict(np.load(tiny_raw / f"data/processed/{s}.npz")) for s in ("train", "test")}
    for target, files in (
        ("blind_spot", ["noisy", "labels"]),
        ("noisy_pair", ["noisy", "labels", "noisy_pair"]),
    ):
        train = {"target": target, "raw_targets": False}
        result = run_preprocess(tiny_raw, model="unet", train=train)
        assert result.returncode == 0, result.stderr
        with np.load(tiny_raw / "data/processed/train.npz") as train:
            assert train.files == files
            np.testing.assert_array_equal(train["noisy"], before["train"]["noisy"])
            if target == "noisy_pair":  # a second shot: the same image, independent noise
                stroke = before["train"]["clean"] == np.float32(200 / 255)
                first = (train["noisy"] - before["train"]["clean"])[stroke]
                second = (train["noisy_pair"] - before["train"]["clean"])[stroke]
                assert first.std() > 0.15 and abs(first.std() - second.std()) < 0.01  # clipped
                assert abs(np.corrcoef(first, second)[0, 1]) < 0.05
        with np.load(tiny_raw / "data/processed/test.npz") as test:  # scored as before
            for key in ("clean", "noisy", "labels"):
                np.testing.assert_array_equal(test[key], before["test"][key])

    # Raw targets: the same draws, unclipped, so that black pixels' noise keeps a mean of zero.
    raw = run_preprocess(tiny_raw, model="unet", train={"target": "noisy_pair"})
    assert raw.returncode == 0, raw.stderr
    with np.load(tiny_raw / "data/processed/train.npz") as train:
        for key in ("noisy", "noisy_pair"):
            assert train[key].min() < -0.3 and train[key].max() > 1.3
        np.testing.assert_array_equal(np.clip(train["noisy"], 0, 1), before["train"]["noisy"])
        black = before["train"]["clean"] == 0
        assert abs(train["noisy"][black].mean()) < 0.002  # clipped, it would be 0.08
        assert before["train"]["noisy"][black].mean() > 0.07


@pytest.mark.slow  # runs the stage in a subprocess
def test_your_images_are_kept_noisy_for_a_self_supervised_target(tmp_path):
    write_photos(tmp_path / "data/raw", PHOTOS)
    images = {"crop_size": 24, "crops_per_image": 3, "test_fraction": 0.34, "grayscale": False}
    settings = {"dataset": "images", "images": images, "model": "unet"}
    result = run_preprocess(tmp_path, train={"target": "noisy_pair"}, **settings)
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "data/processed/train.npz") as train:
        n = len(train["names"])
        expected = [name for i in range(n) for name in (f"photo_{i}", f"pair_{i}")]
        assert train.files == expected + ["names"]
        for i, name in enumerate(train["names"]):
            height, width, _ = PHOTOS[name]
            photo, pair = train[f"photo_{i}"], train[f"pair_{i}"]
            assert photo.shape == pair.shape == (height, width, 3)
            assert photo.dtype == np.float32
            assert photo.min() < 0 and photo.max() > 1  # unclipped: train.raw_targets
            assert not np.array_equal(photo, pair)
