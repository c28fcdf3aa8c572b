"""Denoise your own images with a trained model.

    denoise INPUT... -o OUTDIR [--model pretrained/model.keras] [--resize] [--tile 512]
    python -m stages.denoise INPUT... -o OUTDIR

With no --model it uses the pretrained photo model this repository ships (pretrained/: a blind
colour U-Net, made by this pipeline, for Gaussian-like noise of sigma 0 to 0.2 on a 0-1 scale);
`--model models/model.keras` is the one the pipeline trained last. It says which model it uses,
and for each image the noise sigma it estimates from the image alone (metrics.py), so that one
can see what a blind model faced.

INPUT is an image file (PNG, JPEG, TIFF, WebP, BMP, GIF: stages/images.py reads them), or a
folder of them (not searched recursively; what else it holds is named and left out). Each image
is denoised and written to OUTDIR as a PNG with the same name (photo.jpg -> OUTDIR/photo.png),
upright, grayscale or colour as it came, at its own depth (8 or 16 bits), with its alpha channel
unchanged (the colour channels alone are denoised). A colour model denoises colour images whole
(and a grayscale
image as three equal channels); a grayscale model denoises each channel of a colour image on its
own, and says so. The convolutional models take any size: images go through the model at most
`--tile`**2 pixels at a time, large ones in overlapping tiles, so memory stays bounded whatever
the image or folder size. The dense model knows only its own size (28x28): other sizes are
refused unless --resize is given, which resizes them to it (the output is then that size too).
A file that cannot be read or written is reported on one line and skipped; the exit status is
then 1, as it is when a folder holds no image. Inputs are never overwritten. Ctrl-C stops after
the image being written, saying how many were.

Memory: an image is held at its own depth (3 bytes a pixel for 8-bit colour), its output as
much again, and the model sees one tile at a time (docs/speed.md has the measured peaks).
"""

import argparse
import signal
import sys
from pathlib import Path

from stages import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras
    import tensorflow as tf

import numpy as np

from stages.images import files_in, from_unit, read_image, to_unit
from stages.inference import TILE, make_denoiser
from stages.metrics import noise_sigma_per_image
from stages.models import load_model, smallest_side
from stages.outputs import write_png
from stages.runner import StageError, run_stage

PRETRAINED_MODEL = Path(__file__).resolve().parent.parent / "pretrained" / "model.keras"
SIGMA_SIDE = 1024  # the noise is estimated from at most this many central pixels squared


def estimated_sigma(image: np.ndarray) -> float:
    """The noise sigma of an image (0-1 scale), estimated from its central pixels alone, so that
    the cost stays bounded whatever the image's size."""
    height, width = image.shape[:2]
    top, left = max(0, (height - SIGMA_SIDE) // 2), max(0, (width - SIGMA_SIDE) // 2)
    centre = to_unit(image[top : top + SIGMA_SIDE, left : left + SIGMA_SIDE])
    return float(noise_sigma_per_image(centre[np.newaxis])[0])


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
    return tf.image.resize(to_unit(image), (height, width), antialias=True).numpy()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; usage mistakes end here with argparse's one-line message (exit 2)."""
    parser = argparse.ArgumentParser(
        prog="denoise", description="Denoise image files with a trained model."
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image or folder")
    parser.add_argument("-o", "--output", required=True, type=Path, help="folder for the results")
    parser.add_argument(
        "--model",
        default=PRETRAINED_MODEL,
        type=Path,
        help="a .keras model (default: the pretrained photo model; models/model.keras is the "
        "pipeline's own)",
    )
    parser.add_argument("--resize", action="store_true", help="resize to the model's size")
    parser.add_argument(
        "--tile", default=TILE, type=int, help="side of the tiles large images are cut into"
    )
    args = parser.parse_args(argv)
    if args.tile < 16:
        parser.error(f"--tile must be an integer >= 16, got {args.tile}")
    return args


def planes_for(image: np.ndarray, model_channels: int) -> list[np.ndarray]:
    """What the model is given for one image: the image itself, its channels one by one (a
    grayscale model on a colour image), or three copies of it (a colour model on a gray one)."""
    if image.shape[-1] == model_channels:
        return [image]
    if model_channels == 1:
        return [image[..., c : c + 1] for c in range(image.shape[-1])]
    return [np.repeat(image, model_channels, axis=-1)]


def merge(planes: list[np.ndarray], channels: int, alpha: np.ndarray | None) -> np.ndarray:
    """The denoised image, with the channels it came with and its alpha channel as it was."""
    if len(planes) > 1:
        image = np.concatenate(planes, axis=-1)
    elif planes[0].shape[-1] == channels:
        image = planes[0]
    else:  # a colour model's three channels of a gray image, back to one
        image = from_unit(to_unit(planes[0]).mean(-1, keepdims=True), planes[0].dtype)
    if alpha is None:
        return image
    return np.concatenate([image, alpha.astype(image.dtype)], axis=-1)


def check_takes_images(model: keras.Model, path: Path) -> None:
    """StageError unless the model maps (batch, height, width, 1 or 3) images to images
    of that shape, as every model this pipeline trains does."""
    shapes = (model.input_shape, model.output_shape)
    if (
        not all(isinstance(s, tuple) and len(s) == 4 for s in shapes)
        or shapes[0] != shapes[1]
        or (shapes[0][-1] not in (1, 3))
    ):
        raise StageError(
            f"{path}: the model maps {model.input_shape} to {model.output_shape}; "
            "denoise needs a model from images (batch, height, width, 1 or 3 channels) to "
            "images of the same shape"
        )


def main(argv: list[str] | None = None) -> int:
    """The `denoise` command: its exit status (1 if any input failed, 130 if interrupted)."""
    args = parse_args(argv)
    return run_stage(lambda: denoise_all(args))


def denoise_all(args: argparse.Namespace) -> int:
    """Denoise every image named; return the exit status."""
    if args.output.exists() and not args.output.is_dir():
        raise StageError(f"{args.output}: not a folder; -o names the folder for the results")
    model = load_model(args.model)
    check_takes_images(model, args.model)
    model_size, model_channels = tuple(model.input_shape[1:3]), model.input_shape[-1]
    kind = "colour" if model_channels == 3 else "grayscale"
    print(f"denoise: model {args.model} ({model.name}, {kind})", flush=True)
    denoise, smallest = make_denoiser(model, args.tile), smallest_side(model)
    failures, written, told_per_channel = 0, 0, False

    def fail(path: Path, reason: str) -> None:
        nonlocal failures
        failures += 1
        print(f"error: {path}: {reason}", file=sys.stderr, flush=True)

    inputs, left_out = [], []
    for path in args.inputs:
        if not path.is_dir():
            inputs.append(path)
            continue
        found, others = files_in(path)
        inputs += found
        left_out += others
        if not found:
            fail(path, "no image files in this folder")
    for path, reason in left_out:
        print(f"denoise: left out {path}: {reason}", flush=True)
    targets, seen = {}, set()
    input_files = {p.resolve() for p in inputs if p.is_file()}
    for path in inputs:
        target = args.output / (path.stem + ".png")
        if target.resolve() in input_files:
            fail(path, f"would overwrite the input {target}; choose another --output")
        elif target in seen:
            fail(path, f"{target} is already the output of another input of the same name")
        else:
            targets[path] = target
            seen.add(target)

    progress = keras.utils.Progbar(len(targets), unit_name="image") if sys.stdout.isatty() else None
    # images of one size, batched: (path, planes, channels, alpha, estimated noise sigma)
    pending: list[tuple[Path, list[np.ndarray], int, np.ndarray | None, float]] = []

    def planes_pending() -> int:
        return sum(len(planes) for _, planes, *_ in pending)

    def flush() -> None:
        nonlocal written
        outputs = iter(denoise([plane for _, planes, *_ in pending for plane in planes]))
        for path, planes, channels, alpha, sigma in pending:
            image = merge([next(outputs) for _ in planes], channels, alpha)
            try:
                write_png(targets[path], image)
                written += 1
                line = f"denoise: {path} -> {targets[path]} (noise sigma about {sigma:.3f})"
                if progress is None:
                    print(line, flush=True)
                else:
                    print(f"\r{line}", flush=True)
            except OSError as e:
                fail(path, f"cannot write {targets[path]}: {e.strerror}")
        if progress is not None:
            progress.add(len(pending))
        pending.clear()

    def read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        """The image at a size the model takes, and its alpha (ValueError, OSError: why not)."""
        pixels, alpha = read_image(path)
        image = fit_to_model(pixels, model_size, args.resize)
        if image.dtype != pixels.dtype:  # resized for the dense model: back to its own depth
            image = from_unit(image, pixels.dtype)
            if alpha is not None:
                alpha = from_unit(fit_to_model(alpha, model_size, args.resize), pixels.dtype)
        if min(image.shape[:2]) < smallest:
            height, width = image.shape[:2]
            raise ValueError(
                f"{height}x{width} image, smaller than the {smallest} pixels a side this model "
                "takes"
            )
        return image, alpha

    interrupted = []  # Ctrl-C: finish the image being written, then stop (twice: at once)

    def stop_after_this_image(signum, frame) -> None:
        interrupted.append(signum)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop_after_this_image)
    for path in targets:  # one image read at a time: memory holds a batch, not the folder
        if interrupted:
            break
        try:
            image, alpha = read(path)
        except (OSError, ValueError) as e:
            fail(path, str(e.strerror if isinstance(e, OSError) else e))
            continue
        channels = image.shape[-1]
        if channels > model_channels and not told_per_channel:
            print(
                f"denoise: {args.model} is a grayscale model: each channel of a colour image "
                "is denoised on its own",
                flush=True,
            )
            told_per_channel = True
        planes = planes_for(image, model_channels)
        if pending and (
            planes[0].shape != pending[0][1][0].shape
            or planes[0].dtype != pending[0][1][0].dtype
            or (planes_pending() + len(planes)) * image.shape[0] * image.shape[1] > args.tile**2
        ):
            flush()
        pending.append((path, planes, channels, alpha, estimated_sigma(image)))
    if pending and not interrupted:
        flush()
    if interrupted:
        print(
            f"\ndenoise: interrupted: {written} of {len(inputs)} image(s) written to "
            f"{args.output}; the others were not (no file is left half-written)",
            file=sys.stderr,
            flush=True,
        )
        return 130

    summary = f"denoise: {written} of {len(inputs)} image(s) written to {args.output}"
    if left_out:
        summary += f"; {len(left_out)} other entr{'y' if len(left_out) == 1 else 'ies'} left out"
    print(summary, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
