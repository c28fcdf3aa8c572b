"""Turn the raw MNIST files into clean/noisy float32 image pairs in data/processed/.

Each split is written as one .npz holding `clean` and `noisy` (N x 28 x 28 x 1 float32 in
[0, 1]) and `labels` (N uint8). The noise (params.yaml's `noise`, with its settings) is drawn
from a generator seeded by `seed`, with separate streams for train and test, so the same params
always give the same bytes.
"""

from pathlib import Path

import numpy as np

from stages.io import check_unchanged, fingerprint, run_stage, write_atomic
from stages.mnist import FILES, load_split
from stages.noise import add_noise
from stages.params import PARAMS_FILE, load_params

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")


def scale_to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 N x H x W -> float32 N x H x W x 1 in [0, 1] (the channel axis Keras expects)."""
    return (images.astype(np.float32) / np.float32(255))[..., np.newaxis]


def write_pairs(path: Path, clean: np.ndarray, noisy: np.ndarray, labels: np.ndarray) -> None:
    """Save one split's arrays as an uncompressed .npz (fast to load), atomically."""
    write_atomic(path, lambda tmp: np.savez(tmp, clean=clean, noisy=noisy, labels=labels))


def describe_noise(params: dict) -> str:
    """`gaussian noise, noise_factor 0.2`, or the chosen model's own settings."""
    name = params["noise"]
    settings = {"noise_factor": params["noise_factor"]} if name == "gaussian" else params[name]
    return f"{name} noise, " + ", ".join(f"{key} {value}" for key, value in settings.items())


def main() -> None:
    inputs = fingerprint(PARAMS_FILE, RAW_DIR)
    params = load_params()
    splits = list(FILES)  # train, test
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(params["seed"]).spawn(2)]
    try:  # parse everything before writing anything
        raw = {split: load_split(RAW_DIR, split) for split in splits}
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    for split, (images, _) in raw.items():
        if len(images) == 0:
            raise SystemExit(f"error: {RAW_DIR}: the {split} split holds no images")
    for split, rng in zip(splits, rngs, strict=True):
        images, labels = raw[split]
        clean = scale_to_unit(images)
        noisy = add_noise(clean, params, rng)
        path = PROCESSED_DIR / f"{split}.npz"
        check_unchanged(inputs)
        write_pairs(path, clean, noisy, labels)
        print(f"preprocess: {path}: {len(clean)} images, {describe_noise(params)}", flush=True)


if __name__ == "__main__":
    run_stage(main)
