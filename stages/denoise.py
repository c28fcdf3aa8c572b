"""Denoise your own images with a trained model.

    denoise INPUT... -o OUTDIR [--model models/model.keras] [--resize] [--batch-size 64]
    python -m stages.denoise INPUT... -o OUTDIR

INPUT is a PNG or JPEG file, or a folder of them (not searched recursively). Each image is read
as grayscale in [0, 1], denoised, and written to OUTDIR as a PNG with the same name (photo.jpg ->
OUTDIR/photo.png). The convolutional models take any size. The dense model knows only 28x28
images: others are refused unless --resize is given, which resizes them to 28x28 (the output is
then 28x28 too). A file that cannot be read or written is reported on one line and skipped; the
exit status is then 1, as it is when a folder holds no image. Inputs are never overwritten.
--batch-size sets how many same-sized images go through the model at once.
"""

import argparse
import re
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from stages.io import write_png
from stages.models import load_model

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def images_in(folder: Path) -> list[Path]:
    """The PNG/JPEG files directly inside a folder, by name; hidden files are left out."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
        and not path.name.startswith(".")
    )


def read_grayscale(path: Path) -> np.ndarray:
    """A PNG or JPEG file as a (height, width, 1) float32 image in [0, 1].

    Raises ValueError with a short reason if the file is empty or not a PNG/JPEG image.
    """
    data = path.read_bytes()
    if not data:
        raise ValueError("empty file")
    if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
        raise ValueError("not a PNG or JPEG image")
    try:
        image = tf.io.decode_image(data, channels=1, dtype=tf.float32, expand_animations=False)
    except tf.errors.InvalidArgumentError as e:  # truncated or corrupt
        reason = re.sub(r"\{\{.*?\}\}|\[Op:.*?\]", "", e.message).strip()
        raise ValueError(f"cannot decode it: {reason}") from None
    return image.numpy()


def fit_to_model(
    image: np.ndarray, model_size: tuple[int | None, int | None], resize: bool
) -> np.ndarray:
    """The image at a size the model takes: unchanged, or resized to it if --resize was given."""
    height, width = model_size
    if height is None or image.shape[:2] == (height, width):
        return image
    if not resize:
        raise ValueError(
            f"{image.shape[0]}x{image.shape[1]} image, but the model takes only "
            f"{height}x{width}; pass --resize to resize it (the output will be {height}x{width})"
        )
    return tf.image.resize(image, (height, width), antialias=True).numpy()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; usage mistakes end here with argparse's one-line message (exit 2)."""
    parser = argparse.ArgumentParser(
        prog="denoise", description="Denoise PNG/JPEG images with a trained model."
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image or folder")
    parser.add_argument("-o", "--output", required=True, type=Path, help="folder for the results")
    parser.add_argument("--model", default=Path("models/model.keras"), type=Path)
    parser.add_argument("--resize", action="store_true", help="resize to the model's size")
    parser.add_argument("--batch-size", default=64, type=int, help="images per model call")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be an integer >= 1, got {args.batch_size}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Denoise every image named; return the exit status (1 if any input failed)."""
    args = parse_args(argv)
    if args.output.exists() and not args.output.is_dir():
        raise SystemExit(f"error: {args.output}: not a folder; -o names the folder for the results")
    model = load_model(args.model)
    model_size = tuple(model.input_shape[1:3])  # (None, None) for the convolutional models

    failures = 0

    def fail(path: Path, reason: str) -> None:
        nonlocal failures
        failures += 1
        print(f"error: {path}: {reason}", file=sys.stderr, flush=True)

    # Read everything first, so that the model sees full batches of same-sized images.
    inputs = []
    for path in args.inputs:
        if not path.is_dir():
            inputs.append(path)
        elif found := images_in(path):
            inputs += found
        else:
            fail(path, "no PNG or JPEG files in this folder")
    images, targets, seen = {}, {}, set()
    input_files = {p.resolve() for p in inputs if p.is_file()}
    for path in inputs:
        target = args.output / (path.stem + ".png")
        if target.resolve() in input_files:
            fail(path, f"would overwrite the input {target}; choose another --output")
        elif target in seen:
            fail(path, f"{target} is already the output of another input of the same name")
        else:
            try:
                images[path] = fit_to_model(read_grayscale(path), model_size, args.resize)
                targets[path] = target
                seen.add(target)
            except (OSError, ValueError) as e:
                fail(path, str(e.strerror if isinstance(e, OSError) else e))

    by_size = {}
    for path, image in images.items():
        by_size.setdefault(image.shape, []).append(path)
    written = 0
    progress = keras.utils.Progbar(len(images), unit_name="image") if sys.stdout.isatty() else None
    for paths in by_size.values():
        for start in range(0, len(paths), args.batch_size):
            batch = paths[start : start + args.batch_size]
            denoised = model.predict(np.stack([images[p] for p in batch]), verbose=0)
            for path, image in zip(batch, denoised, strict=True):
                try:
                    write_png(targets[path], image)
                except OSError as e:
                    fail(path, f"cannot write {targets[path]}: {e.strerror}")
                    continue
                written += 1
                if progress is None:
                    print(f"denoise: {path} -> {targets[path]}", flush=True)
            if progress is not None:
                progress.add(len(batch))

    print(f"denoise: {written} of {len(inputs)} image(s) written to {args.output}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
