"""Whether the documented photo model keeps saturated colours: flat colours and the test photos.

    pip download --no-deps scikit-image==0.26.0 -d /tmp/wheels
    python benchmarks/saturated_colours.py /tmp/wheels/scikit_image-0.26.0-*.whl [--rev REV] \
        [--keep FOLDER]

Trains the photo model of docs/results.md ("Photographs": the 20 photos of scikit-image, 4 held
out, Gaussian 0.1) with the real pipeline (`dvc exp run`, the documented settings) in a scratch
repository holding the project's files (the working tree's, less what git ignores, or those of
--rev, to measure an older version). Then, through the function `denoise` calls:
- a 256x256 flat colour with a mild texture (`clip(c * (1 + 0.15 sin(column / 6)), 0, 1)`)
  for each colour below, plus clipped Gaussian 0.1 (seed 0), both stored as 8-bit files are:
  the mean colour clean and denoised, and the PSNR of the noisy and the denoised image;
- the 4 held-out photos, noisy as preprocess drew them: PSNR noisy and denoised, each photo.
Prints the CPU and two Markdown tables. --keep keeps the scratch repository (its metrics/ and
models/, and for further `dvc exp run`s).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from train_speed import cpu_name, run

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the measured stages import TensorFlow here
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

REPO = Path(__file__).resolve().parent.parent
SETTINGS = [
    "dataset=images",
    "model=unet",
    "images.test_fraction=0.2",
    "images.crops_per_image=300",
    "noise_factor=0.1",
]
COLOURS = {
    "green": (0.37, 0.69, 0.06),
    "red": (0.8, 0.1, 0.1),
    "blue": (0.1, 0.2, 0.8),
    "gray": (0.5, 0.5, 0.5),
    "skin": (0.85, 0.65, 0.5),
    "cyan": (0.1, 0.75, 0.8),
    "magenta": (0.8, 0.15, 0.7),
    "yellow": (0.9, 0.85, 0.1),
    "orange": (0.95, 0.5, 0.05),
}
SIDE, NOISE = 256, 0.1


def project_files(scratch: Path, rev: str | None) -> None:
    """The project's files at `rev`, or the working tree's, in a fresh git repo."""
    if rev:
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive.stdout, check=True)
    else:
        for name in run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO
        ).splitlines():
            if (REPO / name).is_file():
                (scratch / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, scratch / name)
    run(["git", "init", "-q"], scratch)
    run(["git", "add", "-A"], scratch)
    run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "x"],
        scratch,
    )


def flat_colour(colour: tuple[float, float, float]) -> np.ndarray:
    """A SIDE x SIDE image of one colour with a mild horizontal texture, in [0, 1]."""
    texture = 1 + 0.15 * np.sin(np.arange(SIDE) / 6)[np.newaxis, :, np.newaxis]
    return np.clip(np.asarray(colour) * texture * np.ones((SIDE, SIDE, 3)), 0, 1)


def as_8_bit(image: np.ndarray) -> np.ndarray:
    """The image as an 8-bit file stores it, back in [0, 1]."""
    return np.round(np.clip(image, 0, 1) * 255) / 255


def train_and_measure(scratch: Path, wheel: Path, rev: str | None) -> None:
    """The documented photo run in `scratch`, then both tables."""
    project_files(scratch, rev)
    run(
        [sys.executable, str(REPO / "benchmarks/sample_photos.py"), str(wheel), "data/images"],
        scratch,
    )
    started = time.perf_counter()
    run(["dvc", "exp", "run", *(f"-S{setting}" for setting in SETTINGS)], scratch)
    print(f"`dvc exp run -S {' -S '.join(SETTINGS)}`: {time.perf_counter() - started:.0f} s")

    sys.path.insert(0, str(scratch))  # the stages of the version measured
    from stages.inference import make_denoiser
    from stages.metrics import psnr_per_image
    from stages.models import load_model

    def psnr(clean: np.ndarray, estimate: np.ndarray) -> float:
        return float(psnr_per_image(clean[np.newaxis], estimate[np.newaxis])[0])

    denoise = make_denoiser(load_model(scratch / "models/model.keras"))
    rng = np.random.default_rng(0)
    print(
        "\n| colour | clean mean RGB | denoised mean RGB | largest shift | PSNR noisy -> denoised |"
    )
    print("|---|---|---|---:|---|")
    for name, colour in COLOURS.items():
        clean = as_8_bit(flat_colour(colour))
        noisy = as_8_bit(clean + NOISE * rng.standard_normal(clean.shape))
        denoised = as_8_bit(denoise([noisy.astype(np.float32)])[0])
        means = [x.mean(axis=(0, 1)) for x in (clean, denoised)]
        shown = [" ".join(f"{m:.3f}" for m in mean) for mean in means]
        shift = np.abs(means[1] - means[0]).max()
        print(
            f"| {name} {colour} | {shown[0]} | {shown[1]} | {shift:.3f} "
            f"| {psnr(clean, noisy):.2f} -> {psnr(clean, denoised):.2f} |"
        )

    print("\n| test photo | noisy | denoised |\n|---|---:|---:|")
    scores = []
    with np.load(scratch / "data/processed/test.npz") as test:
        for i, name in enumerate(test["names"]):
            clean, noisy = test[f"clean_{i}"], test[f"noisy_{i}"]
            scores.append([psnr(clean, noisy), psnr(clean, np.clip(denoise([noisy])[0], 0, 1))])
            print(f"| {name} | {scores[-1][0]:.2f} | {scores[-1][1]:.2f} |")
    print("| mean | {:.2f} | {:.2f} |".format(*np.mean(scores, axis=0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path, help="a scikit-image wheel (pip download)")
    parser.add_argument("--rev", help="measure the project at this git revision")
    parser.add_argument("--keep", type=Path, help="a new folder to run in and keep (the repo)")
    args = parser.parse_args()
    print(f"CPU: {cpu_name()}; project: {args.rev or 'working tree'}")
    if args.keep:
        args.keep.mkdir(parents=True)
        train_and_measure(args.keep.resolve(), args.wheel.resolve(), args.rev)
    else:
        with tempfile.TemporaryDirectory() as folder:
            train_and_measure(Path(folder), args.wheel.resolve(), args.rev)


if __name__ == "__main__":
    main()
