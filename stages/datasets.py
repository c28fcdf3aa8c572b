"""The data sets a model can be trained on, chosen by params.yaml's `dataset`.

Built-in sets are the four IDX files of MNIST or Fashion-MNIST: fetch downloads them from the
mirrors listed in data/<name>/mirrors.txt (after $<NAME>_MIRROR) and checks each against its
sha256 in params.yaml. `images` is a folder of the user's own image files (stages/images.py
says which), data/images/, tracked with `dvc add data/images` (or `dvc import`).
"""

import os
from pathlib import Path

RAW_DIR = Path("data/raw")  # what fetch brings, for preprocess
TRAIN_DATA = Path("data/processed/train.npz")  # what preprocess writes, for train
TEST_DATA = Path("data/processed/test.npz")  # and for evaluate
BUILT_IN = ["mnist", "fashion_mnist"]
DATASETS = [*BUILT_IN, "images"]
CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion_mnist": [
        "t-shirt/top",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    ],
}


def source(name: str) -> Path:
    """What fetch reads for a data set: data/<name>/ (a mirror list, or the images themselves)."""
    return Path("data") / name


def mirrors(name: str) -> list[str]:
    """Where a built-in set's files are downloaded from, in order: $<NAME>_MIRROR (a folder or
    URL, for offline machines and private copies), then the URLs in data/<name>/mirrors.txt."""
    local = os.environ.get(mirror_variable(name), "").strip()
    listed = (source(name) / "mirrors.txt").read_text().splitlines()
    public = [line.strip() for line in listed if line.strip() and not line.strip().startswith("#")]
    return ([local] if local else []) + public


def mirror_variable(name: str) -> str:
    """MNIST_MIRROR, FASHION_MNIST_MIRROR."""
    return f"{name.upper()}_MIRROR"
