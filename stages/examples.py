"""What train and evaluate read, whatever the data set: training batches of (noisy, clean), and
the test images with their labels, names and noisy copies. A self-supervised train.target learns
from noisy images alone: its batches are (input, noisy target), with blind_spot's mask as a third
element (stages/targets.py), from the noisy copies that preprocess kept instead of clean ones.

- Built-in sets: preprocess's arrays, with the noise it drew once. train.npz holds `clean`,
  `noisy` (N x 28 x 28 x 1 float32) and `labels`; test.npz the same. With `train.fresh_noise`,
  every training batch of every epoch gets new noise instead (fresh_noise).
- `images`: train.npz holds each training photo whole, at its own depth (`photo_<i>`, uint8 or
  uint16, height x width x channels) with their `names`. Every epoch draws new crops from them,
  `images.crops_per_image` per photo at random places, and new noise for every crop (with the
  same functions as preprocess, stages/noise.py: for a range of the noise's strength, a level
  of its own). For a self-supervised target the photos are noisy already, with the noise that
  preprocess drew (float32, with `pair_<i>` for noisy_pair) or that they came with. Crops are read
  from the file as they are needed, never the photos all at once, so memory does not grow with
  their number. The validation crops are drawn the same way, but the same ones in every epoch.
  test.npz holds each test photo whole: `clean_<i>`, `noisy_<i>`, and `names`; photos that are
  noisy already (images.noisy) have no `clean_<i>`.
- Both: a test set scored at extra noise levels (stages/noise.py's scored_levels) has their
  `levels`, and a noisy copy at each: `noisy_level_<k>` (built-in) or `noisy_<i>_level_<k>`.

Everything random is seeded by params.yaml's `seed`: the same params give the same batches.
"""

import functools
import itertools
import os
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from stages import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import tensorflow as tf

from stages.augment import augment_pairs
from stages.datasets import TRAIN_DATA
from stages.images import to_unit
from stages.noise import add_noise
from stages.runner import StageError
from stages.targets import blind_spot, brightened, clipped_input, either_order

# Keras' fit makes an iterator of the training batches as each epoch begins and another as it
# ends (keras/src/trainers/epoch_iterator.py): each counts as one of a dataset's iterations,
# though only the first is read from.
ITERATIONS_PER_EPOCH = 2
VAL_BATCH_PIXELS = 1 << 20  # validation needs no gradients, but its activations still count
# (input, target, seed) -> (input, target), or with a per-pixel loss weight third (blind_spot)
Augment = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple[tf.Tensor, ...]]


class Photo(NamedTuple):
    """Where one training photo's pixels lie in train.npz."""

    offset: int
    shape: tuple[int, int, int]
    dtype: np.dtype


class TrainingData(NamedTuple):
    train: tf.data.Dataset
    validation: tf.data.Dataset
    steps_per_epoch: int
    image_shape: tuple[int, int, int]
    train_count: int  # examples per epoch
    validation_count: int


class EvalBatch(NamedTuple):
    clean: np.ndarray | None  # (N, height, width, channels) float32 in [0, 1]; None: noisy photos
    noisy: np.ndarray
    at_level: dict[float, np.ndarray]  # noisy copies at each extra noise level
    labels: np.ndarray | None  # class of each image, for a set with classes
    names: list[str]  # file names, for your own images


def split_train_validation(
    n: int, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded random split: (train, validation)."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * validation_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def validation_batch_size(image_shape: tuple[int, ...]) -> int:
    """Images per validation batch: up to 1,000, and never more than VAL_BATCH_PIXELS pixels,
    so that memory stays bounded whatever the crop size and validation fraction."""
    return max(1, min(1000, VAL_BATCH_PIXELS // (image_shape[0] * image_shape[1])))


def skip_iterations(dataset: tf.data.Dataset, count: int) -> tf.data.Dataset:
    """The dataset as its iteration `count` + 1 draws it: a dataset that reshuffles or
    rerandomizes each time it is iterated counts its iterations, and each iterator made counts
    one, without a single element read (train resumes this way, stages/resume.py)."""
    for _ in range(count):
        iter(dataset)
    return dataset


def finish(
    pairs: tf.data.Dataset,
    seed: int | None,
    augments: Sequence[Augment],
    fresh: bool = True,
    skip: int = 0,
) -> tf.data.Dataset:
    """Batches of (noisy, clean) passed through each of `augments(noisy, clean, seed)` in turn,
    with a stateless seed for each batch drawn from `seed` (anew each iteration if `fresh`, the
    first `skip` iterations skipped, else the same in every one; the first augment gets it as
    it is, each next one the last one's folded with its place), and prefetched.

    tf.data's autotuner is off: on two cores its background tuning slowed every other epoch
    (docs/speed.md), and a fixed two-batch prefetch keeps training fed.
    """
    if augments:

        def augment(pair: tuple, batch_seed: tf.Tensor) -> tuple:
            for k, each in enumerate(augments):
                if k > 0:
                    batch_seed = tf.random.experimental.stateless_fold_in(batch_seed, k)
                pair = each(*pair, batch_seed)
            return pair

        seeds = tf.data.Dataset.random(seed, rerandomize_each_iteration=fresh).batch(2)
        seeds = skip_iterations(seeds, skip if fresh else 0)
        pairs = tf.data.Dataset.zip(pairs, seeds).map(augment)
    options = tf.data.Options()
    options.autotune.enabled = False
    return pairs.prefetch(2).with_options(options)


def batches(
    noisy: tf.Tensor,
    clean: tf.Tensor,
    indices: np.ndarray,
    batch_size: int,
    seed: int | None = None,
    augments: Sequence[Augment] = (),
    fresh: bool = True,
    skip: int = 0,
) -> tf.data.Dataset:
    """(noisy, clean) batches of the images at `indices`: with a seed, reshuffled and augmented
    anew every iteration (the first `skip` skipped), or (not `fresh`) in their order and
    augmented alike every time (finish).

    Batches are gathered from the full arrays by index: no copy of the split is ever made, and
    shuffling indices costs far less than shuffling images.
    """
    order = tf.data.Dataset.from_tensor_slices(indices)
    if seed is not None and fresh:
        order = order.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        order = skip_iterations(order, skip)
    pairs = order.batch(batch_size).map(lambda i: (tf.gather(noisy, i), tf.gather(clean, i)))
    return finish(pairs, seed, augments, fresh, skip)


def photos_in(path: Path, prefix: str = "photo_") -> list[Photo]:
    """Where each `photo_<i>` (or other `prefix`) of an .npz written by preprocess lies, in
    order: its data's offset in the file, shape and type, from its zip and .npy headers. Written
    by hand since np.load cannot map an .npz member into memory; preprocess stores them
    uncompressed."""
    photos = []
    with zipfile.ZipFile(path) as archive, path.open("rb") as file:
        for info in archive.infolist():
            if not info.filename.startswith(prefix):
                continue
            file.seek(info.header_offset + 26)  # the local header's name and extra lengths
            name_length, extra_length = struct.unpack("<HH", file.read(4))
            file.seek(name_length + extra_length, os.SEEK_CUR)
            version = np.lib.format.read_magic(file)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(file)
            photos.append(Photo(file.tell(), shape, dtype))
    return photos


def read_crop(file: int, photo: Photo, top: int, left: int, size: int) -> np.ndarray:
    """One size x size crop of a photo, as float32 in [0, 1], read from the open file `file`:
    the rows it spans, then the columns."""
    height, width, channels = photo.shape
    row = width * channels * photo.dtype.itemsize
    span = os.pread(file, size * row, photo.offset + top * row)
    rows = np.frombuffer(span, photo.dtype).reshape(size, width, channels)
    return to_unit(rows[:, left : left + size])


def crop_batches(
    path: Path,
    photos: list[Photo],
    params: dict,
    count: int,
    batch_size: int,
    seed: list[int],
    fresh: bool,
    pairs: list[Photo] | None = None,
    first_epoch: int = 0,
) -> tf.data.Dataset:
    """`count` (input, target) crops from the photos, in batches: each photo in turn (in a
    random order), at a random place. With `fresh`, every epoch draws anew (from `seed` and the
    epoch's number, counted from `first_epoch` by the epochs' first batches); otherwise every
    epoch gives the same crops.

    Clean photos (train.target clean) give (noisy, clean) crops, each with its own noise. Noisy
    photos give (noisy, noisy), or with `pairs`, each photo's second noisy copy, the crop from
    the same place of both.

    Each batch is drawn by one tf.numpy_function call, in order. Not Dataset.from_generator:
    once one has run, every later training step of the process page-faults its buffers afresh
    and training slows by a third or more (docs/speed.md).
    """
    size = params["images"]["crop_size"]
    channels = photos[0].shape[-1]
    steps = -(-count // batch_size)
    epochs, epoch = itertools.count(first_epoch), {}

    def draw(step: np.int64) -> tuple[np.ndarray, np.ndarray]:
        if step == 0:  # batches come in order: a new epoch begins
            epoch["number"] = next(epochs) if fresh else 0
            rng = np.random.default_rng([*seed, epoch["number"]])
            epoch["picks"] = rng.permutation(np.resize(np.arange(len(photos)), count))
        rng = np.random.default_rng([*seed, epoch["number"], int(step)])
        picks = epoch["picks"][step * batch_size : (step + 1) * batch_size]
        tops = [rng.integers(0, photos[i].shape[0] - size + 1) for i in picks]
        lefts = [rng.integers(0, photos[i].shape[1] - size + 1) for i in picks]
        file = os.open(path, os.O_RDONLY)
        try:

            def crops(source: list[Photo]) -> np.ndarray:
                places = zip(picks, tops, lefts, strict=True)
                return np.stack([read_crop(file, source[i], y, x, size) for i, y, x in places])

            first = crops(photos)
            second = crops(pairs) if pairs is not None else first
        finally:
            os.close(file)
        if params["train"]["target"] == "clean":
            return add_noise(first, params, rng), first
        return first, second

    def batch(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        pair = tf.numpy_function(draw, [step], [tf.float32, tf.float32], stateful=True)
        return tuple(tf.ensure_shape(x, (None, size, size, channels)) for x in pair)

    return tf.data.Dataset.range(steps).map(batch)


def fresh_noise(params: dict) -> Augment:
    """A built-in set's noise drawn anew for every batch of every epoch, from its clean images,
    with preprocess's functions (stages/noise.py) and the batch's own seed: preprocess's noisy
    copies then serve validation only, the same in every epoch."""

    def draw(clean: np.ndarray, seed: np.ndarray) -> np.ndarray:
        return add_noise(clean, params, np.random.default_rng(seed.astype(np.uint64)))

    def renoise(noisy: tf.Tensor, clean: tf.Tensor, seed: tf.Tensor) -> tuple:
        drawn = tf.numpy_function(draw, [clean, seed], tf.float32, stateful=False)
        return tf.ensure_shape(drawn, noisy.shape), clean

    return renoise


def augmentation(params: dict) -> list[Augment]:
    """The flips and channel orders that params.yaml's `images` asks for (photos only)."""
    images = params["images"]
    if params["dataset"] != "images" or not (images["flips"] or images["channel_orders"]):
        return []
    return [
        functools.partial(
            augment_pairs, flips=images["flips"], channel_orders=images["channel_orders"]
        )
    ]


def targets(params: dict, training: bool) -> list[Augment]:
    """What train.target does to each batch (stages/targets.py): Noise2Noise's pairs put in
    either order (training only), the input clipped to an image's range, low light's targets
    brightened, then Noise2Void's masks (the same in every epoch for validation)."""
    target = params["train"]["target"]
    if target == "clean":
        return []
    chain = [either_order] if target == "noisy_pair" and training else []
    chain.append(clipped_input)
    given = params["dataset"] == "images" and params["images"]["noisy"]  # no synthetic noise
    if params["noise"] == "low_light" and not given:
        chain.append(brightened(params["low_light"]["brightness"]))
    if target == "blind_spot":
        chain.append(blind_spot(params))
    return chain


def training_data(params: dict, first_epoch: int = 0) -> TrainingData:
    """The training and validation batches for params.yaml's data set, model and target, the
    training ones from epoch `first_epoch` on (0: the first), as a run from the first would
    draw them there.

    With a self-supervised train.target, train.npz holds no clean image, and none is read.
    StageError if there are too few examples to hold out validation ones and still train.
    """
    seed, fraction = params["seed"], params["train"]["validation_fraction"]
    batch_size = params[params["model"]]["batch_size"]
    target = params["train"]["target"]
    skip = ITERATIONS_PER_EPOCH * first_epoch
    if params["dataset"] == "images":
        photos = photos_in(TRAIN_DATA)
        pairs = photos_in(TRAIN_DATA, "pair_") if target == "noisy_pair" else None
        if pairs is not None and len(pairs) != len(photos):
            raise StageError(f"{TRAIN_DATA} holds no second noisy copies; run `dvc repro`")
        size = params["images"]["crop_size"]
        image_shape = (size, size, photos[0].shape[-1])
        train_count = len(photos) * params["images"]["crops_per_image"]
        val_count = max(1, round(train_count * fraction))
        train = crop_batches(
            TRAIN_DATA, photos, params, train_count, batch_size, [seed, 0], True, pairs, first_epoch
        )
        val_batch = validation_batch_size(image_shape)
        validation = crop_batches(
            TRAIN_DATA, photos, params, val_count, val_batch, [seed, 1], False, pairs
        )
        augments = augmentation(params) + targets(params, True)
        train = finish(train, seed, augments, skip=skip)
        validation = finish(validation, seed + 1, targets(params, False), fresh=False)
    else:
        with np.load(TRAIN_DATA) as data:  # one copy of the images, as tensors
            noisy = tf.constant(data["noisy"])
            # the target: the clean images, the second noisy copies, or the noisy ones themselves
            wanted = {"clean": "clean", "noisy_pair": "noisy_pair"}.get(target)
            if wanted and wanted not in data.files:
                raise StageError(
                    f"{TRAIN_DATA} was written for another train.target (it holds no "
                    f"`{wanted}`); run `dvc repro`"
                )
            second = tf.constant(data[wanted]) if wanted else noisy
        image_shape = tuple(noisy.shape[1:])
        train_idx, val_idx = split_train_validation(len(noisy), fraction, seed)
        if len(train_idx) == 0:
            raise StageError(
                f"{TRAIN_DATA}: {len(noisy)} training image(s), too few to hold out "
                "validation images and still train; add images"
            )
        renoise = [fresh_noise(params)] if params["train"]["fresh_noise"] else []
        augments = renoise + targets(params, True)
        train = batches(noisy, second, train_idx, batch_size, seed, augments, True, skip)
        val_batch = validation_batch_size(image_shape)
        validation = batches(
            noisy, second, val_idx, val_batch, seed + 1, targets(params, False), fresh=False
        )
        train_count, val_count = len(train_idx), len(val_idx)
    steps = -(-train_count // batch_size)
    return TrainingData(train, validation, steps, image_shape, train_count, val_count)


def eval_batches(path: Path) -> Iterator[EvalBatch]:
    """The test images of test.npz in batches: a built-in set's whole, your images one at a
    time, so that memory holds one photo at most."""
    with np.load(path) as data:
        levels = [float(level) for level in data["levels"]] if "levels" in data.files else []
        if "clean" in data.files:  # a built-in set
            at_level = {level: data[f"noisy_level_{k}"] for k, level in enumerate(levels)}
            yield EvalBatch(data["clean"], data["noisy"], at_level, data["labels"], [])
            return
        for i, name in enumerate(data["names"]):
            at_level = {
                level: data[f"noisy_{i}_level_{k}"][np.newaxis] for k, level in enumerate(levels)
            }
            clean = data[f"clean_{i}"][np.newaxis] if f"clean_{i}" in data.files else None
            yield EvalBatch(clean, data[f"noisy_{i}"][np.newaxis], at_level, None, [str(name)])
