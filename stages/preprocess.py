"""Turn the raw data set into clean/noisy float32 image pairs in data/processed/.

- mnist, fashion_mnist: each split is one .npz holding `clean` and `noisy` (N x 28 x 28 x 1
  float32 in [0, 1]) and `labels` (N uint8). With a self-supervised train.target (noisy_pair,
  blind_spot: stages/targets.py) the training split holds no `clean`; for noisy_pair it holds
  `noisy_pair`, a second, independent noisy copy of each image. With train.raw_targets, these
  noisy copies are kept unclipped (stages/targets.py says why).
- images: the files at least a crop in size are split into train and test by a hash of each
  file's name (no other setting, the seed included, moves a file across). train.npz holds each
  training file decoded, at its own depth, without noise: train draws new crops and noise from
  them every epoch (stages/examples.py); for a self-supervised train.target, each noisy instead
  (float32), with `pair_<i>`, a second noisy copy, for noisy_pair. test.npz holds each test
  file whole, as `clean_<i>` and `noisy_<i>`, with their `names`. Files are colour (3
  channels) if any is, unless `images.grayscale`; every noise model acts on each channel. One
  file is in memory at a time.
- Extra levels to score the test set at (stages/noise.py's scored_levels): their `levels` and a
  noisy copy of each test image at each (stages/examples.py names them).

The noise (params.yaml's `noise`, with its settings) is drawn from generators seeded by `seed`,
with separate streams for train, test, each extra level and noisy_pair's second copies, so the
same params always give the same bytes.
"""

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from stages.datasets import RAW_DIR, TEST_DATA, TRAIN_DATA
from stages.idx import load_split
from stages.images import files_in, read_image, read_unit, shape_of, to_unit, with_channels
from stages.noise import add_noise, at_strength, scored_levels
from stages.outputs import npz_file, write_all_atomic
from stages.params import PARAMS_FILE, load_params
from stages.runner import StageError, run_stage


def arrays_file(**arrays: np.ndarray) -> Callable:
    """A writer of one split's arrays as an uncompressed .npz (fast to load)."""
    return lambda tmp: np.savez(tmp, **arrays)


def describe_noise(params: dict) -> str:
    """`gaussian noise, noise_factor 0.2`, or the chosen model's own settings."""
    name = params["noise"]
    settings = {"noise_factor": params["noise_factor"]} if name == "gaussian" else params[name]
    described = f"{name} noise, " + ", ".join(f"{key} {value}" for key, value in settings.items())
    levels = scored_levels(params)
    return described + (f"; also at {', '.join(map(str, levels))}" if levels else "")


def at_levels(
    clean: np.ndarray,
    params: dict,
    levels: list[float],
    rngs: list[np.random.Generator],
    name: str,
) -> Iterator[tuple[str, np.ndarray]]:
    """The noisy copies of `clean` at each extra level of the noise model's strength, named
    `<name>_level_<k>`."""
    for k, (level, rng) in enumerate(zip(levels, rngs, strict=True)):
        yield f"{name}_level_{k}", add_noise(clean, at_strength(params, level), rng)


def preprocess_idx(params: dict, rngs: list[np.random.Generator]) -> None:
    """MNIST or Fashion-MNIST: noise over the whole of each split. With a self-supervised
    train.target, the training split keeps no clean image: its noisy copy (and for noisy_pair a
    second one, from a stream of its own) is all train may learn from."""
    try:  # parse everything before writing anything
        raw = {split: load_split(RAW_DIR, split) for split in ("train", "test")}
    except ValueError as e:
        raise StageError(str(e)) from None
    train_rng, test_rng, *level_rngs, pair_rng = rngs
    levels, target = scored_levels(params), params["train"]["target"]
    unclipped = params["train"]["raw_targets"]
    writes, counts = {}, {}
    for (split, (images, labels)), rng in zip(raw.items(), (train_rng, test_rng), strict=True):
        if len(images) == 0:
            raise StageError(f"{RAW_DIR}: the {split} split holds no images")
        clean = to_unit(images)[..., np.newaxis]  # the channel axis Keras expects
        self_supervised = split == "train" and target != "clean"
        clip = not (self_supervised and unclipped)  # the same draws either way
        arrays = {"clean": clean, "noisy": add_noise(clean, params, rng, clip), "labels": labels}
        if split == "test" and levels:
            arrays.update(at_levels(clean, params, levels, level_rngs, "noisy"))
            arrays["levels"] = np.array(levels)
        if self_supervised:
            del arrays["clean"]
            if target == "noisy_pair":
                arrays["noisy_pair"] = add_noise(clean, params, pair_rng, clip)
        path = {"train": TRAIN_DATA, "test": TEST_DATA}[split]
        writes[path], counts[path] = arrays_file(**arrays), len(clean)
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


def preprocess_images(params: dict, rngs: list[np.random.Generator]) -> None:
    """Your own images: the training files decoded, the test files whole with their noise."""
    settings = params["images"]
    crop = settings["crop_size"]
    shapes = usable_images(crop)
    if len(shapes) < 2:
        raise StageError(
            f"{RAW_DIR}: {len(shapes)} image(s) of at least {crop}x{crop} pixels "
            "(images.crop_size); a train and a test set need 2"
        )
    colour = not settings["grayscale"] and any(shape[2] == 3 for shape in shapes.values())
    channels = 3 if colour else 1
    train_files, test_files = split_by_name(sorted(shapes), settings["test_fraction"])
    train_rng, test_rng, *level_rngs, pair_rng = rngs
    target, given = params["train"]["target"], settings["noisy"]
    levels = [] if given else scored_levels(params)
    clip = not params["train"]["raw_targets"]

    def train_arrays() -> Iterator[tuple[str, np.ndarray]]:
        """One training file at a time, as train reads it: at its own depth (uint8 or uint16),
        or for a self-supervised train.target, noisy (float32) and never clean."""
        for i, path in enumerate(train_files):
            if target == "clean" or given:  # as stored; noise comes later, or came with it
                yield f"photo_{i}", with_channels(read_image(path)[0], channels)
                continue
            clean = read_unit(path, channels)[np.newaxis]
            yield f"photo_{i}", add_noise(clean, params, train_rng, clip)[0]
            if target == "noisy_pair":
                yield f"pair_{i}", add_noise(clean, params, pair_rng, clip)[0]
        yield "names", np.array([path.name for path in train_files])

    def test_arrays() -> Iterator[tuple[str, np.ndarray]]:
        """One test file at a time, so that memory holds one image, whatever their number."""
        for i, path in enumerate(test_files):
            image = read_unit(path, channels)[np.newaxis]
            if given:  # noisy already, with no clean copy
                yield f"noisy_{i}", image[0]
                continue
            clean = image
            yield f"clean_{i}", clean[0]
            yield f"noisy_{i}", add_noise(clean, params, test_rng)[0]
            for name, noisy in at_levels(clean, params, levels, level_rngs, f"noisy_{i}"):
                yield name, noisy[0]
        yield "names", np.array([path.name for path in test_files])
        if levels:
            yield "levels", np.array(levels)

    write_all_atomic({TRAIN_DATA: npz_file(train_arrays()), TEST_DATA: npz_file(test_arrays())})
    print(
        f"preprocess: {TRAIN_DATA}: {len(train_files)} files of {channels} channel(s), for new "
        f"{crop}x{crop} crops every epoch",
        flush=True,
    )
    noise = "noisy already, with no clean copies (images.noisy)"
    noise = noise if given else describe_noise(params)
    print(f"preprocess: {TEST_DATA}: {len(test_files)} whole images, {noise}", flush=True)


def main() -> None:
    params = load_params()
    # train, test, one stream for each extra level, then noisy_pair's second copies: each
    # stream's noise never depends on those after it
    seeds = np.random.SeedSequence(params["seed"]).spawn(3 + len(scored_levels(params)))
    rngs = [np.random.default_rng(s) for s in seeds]
    if params["dataset"] == "images":
        preprocess_images(params, rngs)
    else:
        preprocess_idx(params, rngs)


if __name__ == "__main__":
    run_stage(main, reads=[PARAMS_FILE, RAW_DIR])
