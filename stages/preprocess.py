"""Turn the raw data set into clean/noisy float32 image pairs in data/processed/.

- mnist, fashion_mnist: each split is one .npz holding `clean` and `noisy` (N x 28 x 28 x 1
  float32 in [0, 1]) and `labels` (N uint8).
- images: the files at least a crop in size are split into train and test by a hash of each
  file's name (no other setting, the seed included, moves a file across). train.npz holds
  `images.crops_per_image` random crops of `images.crop_size` pixels from each training file;
  test.npz holds each test file whole, as `clean_<i>` and `noisy_<i>`, with their `names`.
  Files are colour (3 channels) if any is, unless `images.grayscale`; every noise model acts on
  each channel.

The noise (params.yaml's `noise`, with its settings) and the crops are drawn from generators
seeded by `seed`, with separate streams for train and test, so the same params always give the
same bytes.
"""

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from stages.datasets import RAW_DIR, TEST_DATA, TRAIN_DATA
from stages.idx import load_split
from stages.images import files_in, read_unit, shape_of, to_unit
from stages.noise import add_noise
from stages.outputs import npz_file, write_all_atomic
from stages.params import PARAMS_FILE, load_params
from stages.runner import StageError, run_stage

MAX_TRAINING_BYTES = 4 << 30  # clean + noisy training crops, in memory at once


def pairs_file(clean: np.ndarray, noisy: np.ndarray, **extra: np.ndarray) -> Callable:
    """A writer of one split's arrays as an uncompressed .npz (fast to load)."""
    return lambda tmp: np.savez(tmp, clean=clean, noisy=noisy, **extra)


def describe_noise(params: dict) -> str:
    """`gaussian noise, noise_factor 0.2`, or the chosen model's own settings."""
    name = params["noise"]
    settings = {"noise_factor": params["noise_factor"]} if name == "gaussian" else params[name]
    return f"{name} noise, " + ", ".join(f"{key} {value}" for key, value in settings.items())


def preprocess_idx(params: dict, rngs: list[np.random.Generator]) -> None:
    """MNIST or Fashion-MNIST: noise over the whole of each split."""
    try:  # parse everything before writing anything
        raw = {split: load_split(RAW_DIR, split) for split in ("train", "test")}
    except ValueError as e:
        raise StageError(str(e)) from None
    writes, counts = {}, {}
    for (split, (images, labels)), rng in zip(raw.items(), rngs, strict=True):
        if len(images) == 0:
            raise StageError(f"{RAW_DIR}: the {split} split holds no images")
        clean = to_unit(images)[..., np.newaxis]  # the channel axis Keras expects
        path = {"train": TRAIN_DATA, "test": TEST_DATA}[split]
        writes[path] = pairs_file(clean, add_noise(clean, params, rng), labels=labels)
        counts[path] = len(clean)
    write_all_atomic(writes)
    for path, count in counts.items():
        print(f"preprocess: {path}: {count} images, {describe_noise(params)}", flush=True)


def split_by_name(files: list[Path], test_fraction: float) -> tuple[list[Path], list[Path]]:
    """(train, test): the files whose names hash lowest are the test set, at least one of each.

    A file's side depends on its name and the fraction alone, not on the seed or any other
    setting; adding or removing files moves at most the few next to the cut.
    """
    ranked = sorted(files, key=lambda path: hashlib.sha256(path.name.encode()).hexdigest())
    n_test = min(len(files) - 1, max(1, round(len(files) * test_fraction)))
    return sorted(ranked[n_test:]), sorted(ranked[:n_test])


def usable_images(crop: int) -> dict[Path, tuple[int, int, int]]:
    """The (height, width, channels) of each file in data/raw at least a crop in size, read from
    its header; a line for each file that is smaller (or, in a data/raw filled by hand, not an
    image fetch takes)."""
    shapes = {}
    for path in files_in(RAW_DIR)[0]:
        try:
            shape = shape_of(path)
            if min(shape[:2]) < crop:
                raise ValueError(
                    f"{shape[0]}x{shape[1]}, smaller than the {crop}x{crop} crops "
                    "(images.crop_size)"
                )
        except ValueError as e:
            print(f"preprocess: skipped {path}: {e}", flush=True)
            continue
        shapes[path] = shape
    return shapes


def random_crops(image: np.ndarray, size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` crops of size x size pixels at random places in the image."""
    height, width = image.shape[:2]
    tops = rng.integers(0, height - size + 1, count)
    lefts = rng.integers(0, width - size + 1, count)
    return np.stack([image[t : t + size, x : x + size] for t, x in zip(tops, lefts, strict=True)])


def preprocess_images(params: dict, rngs: list[np.random.Generator]) -> None:
    """Your own images: random crops of the training files, the test files whole."""
    settings = params["images"]
    crop, count = settings["crop_size"], settings["crops_per_image"]
    shapes = usable_images(crop)
    if len(shapes) < 2:
        raise StageError(
            f"{RAW_DIR}: {len(shapes)} image(s) of at least {crop}x{crop} pixels "
            "(images.crop_size); a train and a test set need 2"
        )
    colour = not settings["grayscale"] and any(shape[2] == 3 for shape in shapes.values())
    channels = 3 if colour else 1
    train_files, test_files = split_by_name(sorted(shapes), settings["test_fraction"])
    needed = 2 * len(train_files) * count * crop * crop * channels * 4
    if needed > MAX_TRAINING_BYTES:
        raise StageError(
            f"params.yaml: {len(train_files)} training files x {count} crops of "
            f"{crop}x{crop}x{channels} take {needed / 2**30:.1f} GiB (noisy and clean), more than "
            f"the {MAX_TRAINING_BYTES >> 30} GiB allowed; lower images.crops_per_image or "
            "images.crop_size"
        )

    train_rng, test_rng = rngs
    crops = [random_crops(read_unit(p, channels), crop, count, train_rng) for p in train_files]
    clean = np.concatenate(crops)
    noisy = add_noise(clean, params, train_rng)

    def test_arrays() -> Iterator[tuple[str, np.ndarray]]:
        """One test file at a time, so that memory holds one image, whatever their number."""
        for i, path in enumerate(test_files):
            clean = read_unit(path, channels)[np.newaxis]
            yield f"clean_{i}", clean[0]
            yield f"noisy_{i}", add_noise(clean, params, test_rng)[0]
        yield "names", np.array([path.name for path in test_files])

    write_all_atomic({TRAIN_DATA: pairs_file(clean, noisy), TEST_DATA: npz_file(test_arrays())})
    print(
        f"preprocess: {TRAIN_DATA}: {len(clean)} crops of {'x'.join(map(str, clean.shape[1:]))} "
        f"from {len(train_files)} files, {describe_noise(params)}",
        flush=True,
    )
    print(
        f"preprocess: {TEST_DATA}: {len(test_files)} whole images, {describe_noise(params)}",
        flush=True,
    )


def main() -> None:
    params = load_params()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(params["seed"]).spawn(2)]
    if params["dataset"] == "images":
        preprocess_images(params, rngs)
    else:
        preprocess_idx(params, rngs)


if __name__ == "__main__":
    run_stage(main, reads=[PARAMS_FILE, RAW_DIR])
