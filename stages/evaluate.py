"""Denoise the noisy test set with the trained model and write metrics/psnr.json.

`psnr` is the mean per-image PSNR (dB, data range 1) of the model's output, `ssim` its mean SSIM.
The same for the noisy input (`psnr_noisy`, `ssim_noisy`) is the floor any denoiser must beat,
and a 3x3 median filter (`psnr_median3`, `ssim_median3`) is what one gets without learning.
A test set noised at extra levels (a range of the noise model's strength, or test_noise_factors)
is also scored at each: psnr.json's `levels` and metrics/eval/psnr_per_level.json, the plot of PSNR
against level that compares a blind model with level-specific ones.
Test photos that are noisy already (images.noisy) have no clean copy to score against: psnr.json
then says so (`clean_reference: false`) and gives the noise each shows, estimated from the image
alone, before and after the model (`sigma_noisy`, `sigma_denoised`).
metrics/eval/ holds the pictures: a few test images (clean, noisy, denoised) and, for a set with
classes (MNIST digits, Fashion-MNIST garments), the mean PSNR of each class, both DVC plots.
A built-in set's test images go through the model 1,000 at a time; your own images go one at a
time, whole, in tiles when large (stages/inference.py), so memory holds one image at most.
The four outputs are written all or none (stages/outputs.py), not through dvclive's summary and
image logging, which write each file in place as they go and would name psnr.json metrics.json.
"""

from stages import quiet_tensorflow_startup

with quiet_tensorflow_startup():
    import keras

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from stages.baselines import median_filter_3x3
from stages.datasets import CLASS_NAMES, TEST_DATA
from stages.examples import eval_batches
from stages.inference import make_denoiser
from stages.metrics import noise_sigma_per_image, psnr_per_image, ssim_per_image
from stages.models import MODEL_PATH, load_model
from stages.outputs import json_file, png_file, write_all_atomic
from stages.params import PARAMS_FILE, load_params
from stages.runner import StageError, run_stage

METRICS_PATH = "metrics/psnr.json"
EXAMPLES_PATH = "metrics/eval/examples.png"
PER_CLASS_PATH = "metrics/eval/psnr_per_class.json"
PER_LEVEL_PATH = "metrics/eval/psnr_per_level.json"
EXAMPLES = 5  # pictures of a set without classes
THUMBNAIL = 128  # largest side of a picture in the grid, before zooming
ZOOM_TO = 84  # small images are zoomed (by a whole factor) to about this size: MNIST 3x
LABEL_SIZE = 14  # pixels: the height of the words beside the rows


def denoise_test_images(model: keras.Model, noisy: np.ndarray, denoise=None) -> np.ndarray:
    """The model's output clipped to [0, 1], the range of a real image: what the metrics score.

    A built-in set's equal small images go through model.predict, 1,000 per call; with a
    `denoise` function (stages/inference.py), an image of any size goes through that instead.
    """
    if denoise is None:
        denoised = model.predict(noisy, batch_size=1000, verbose=0)
    else:
        denoised = np.stack(denoise(list(noisy)))
    return np.clip(denoised, 0.0, 1.0)


def check_model_takes(model: keras.Model, images: np.ndarray) -> None:
    """StageError unless the model takes images of this shape (the dense model knows
    only the one size it was trained on; a convolutional one, only its number of channels)."""
    takes = model.input_shape[1:]
    if len(images) == 0:
        raise StageError(f"{TEST_DATA} holds no images to evaluate")
    shape = images.shape[1:]
    if any(t not in (None, s) for t, s in zip(takes, shape, strict=True)):
        size = "x".join("any" if t is None else str(t) for t in takes)
        raise StageError(
            f"{MODEL_PATH} takes {size} images, but {TEST_DATA} holds "
            f"{'x'.join(map(str, shape))} ones; retrain it on this data (`dvc repro`)"
        )


def centre(image: np.ndarray, side: int) -> np.ndarray:
    """The central square of an image, `side` pixels a side (less where the image is smaller)."""
    top, left = (max(0, length - side) // 2 for length in image.shape[:2])
    return image[top : top + side, left : left + side]


def with_row_labels(grid: np.ndarray, words: list[str]) -> np.ndarray:
    """The (height, width, channels) grid with a black margin on its left holding one word per
    row of equal height, in white (Pillow's own font), centred vertically in its row."""
    height, _, channels = grid.shape
    row_height = height // len(words)
    font = ImageFont.load_default(size=LABEL_SIZE)
    margin = Image.new("L", (int(max(map(font.getlength, words))) + LABEL_SIZE, height))
    for row, word in enumerate(words):
        xy = (LABEL_SIZE // 2, row * row_height + row_height // 2)
        ImageDraw.Draw(margin).text(xy, word, fill=255, font=font, anchor="lm")
    labels = np.asarray(margin, np.float32)[..., np.newaxis] / 255
    return np.concatenate([np.repeat(labels, channels, axis=-1).astype(grid.dtype), grid], axis=1)


def example_grid(
    pictures: list[tuple[np.ndarray, ...]], words: tuple[str, ...] = ("clean", "noisy", "denoised")
) -> np.ndarray:
    """A picture with a labelled row for each of `words` and one column per example.

    Each example is cut to the same square (its centre, at most THUMBNAIL pixels a side) and
    small ones are zoomed by a whole factor, so that MNIST's 28x28 digits show at 84x84.
    """
    side = min(THUMBNAIL, *(min(p[0].shape[:2]) for p in pictures))
    zoom = max(1, ZOOM_TO // side)
    rows = [
        np.concatenate([centre(p[row], side) for p in pictures], axis=1)
        for row in range(len(words))
    ]
    grid = np.concatenate(rows, axis=0).repeat(zoom, axis=0).repeat(zoom, axis=1)
    return with_row_labels(grid, list(words))


def rounded(value: np.floating) -> float:
    """Four decimals: 0.1 mdB of PSNR, far below any difference worth reading."""
    return round(float(value), 4)


def scores_of(clean: np.ndarray, estimates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """PSNR and SSIM of each image of each estimate: {'psnr': ..., 'ssim_noisy': ...}."""
    scores = {}
    for name, estimate in estimates.items():
        scores[f"psnr{name}"] = psnr_per_image(clean, estimate)
        scores[f"ssim{name}"] = ssim_per_image(clean, estimate)
    return scores


def write_without_reference(per_image: dict[str, np.ndarray], pictures: list[tuple]) -> None:
    """psnr.json for test photos that are noisy already (images.noisy): with no clean copy
    there is no PSNR or SSIM to give, only the noise that each image itself shows, estimated
    before and after the model (metrics.noise_sigma_per_image), and a grid of noisy / denoised.
    """
    metrics = {
        "clean_reference": False,
        "sigma_noisy": rounded(per_image["sigma_noisy"].mean()),
        "sigma_denoised": rounded(per_image["sigma_denoised"].mean()),
        "test_images": len(per_image["sigma_noisy"]),
    }
    write_all_atomic(
        {
            PER_CLASS_PATH: json_file({"psnr_per_class": []}),
            PER_LEVEL_PATH: json_file({"psnr_per_level": []}),
            EXAMPLES_PATH: png_file(example_grid(pictures, ("noisy", "denoised"))),
            METRICS_PATH: json_file(metrics),
        }
    )
    print(
        f"evaluate: {METRICS_PATH}: the test photos have no clean copies (images.noisy), so no "
        f"PSNR or SSIM; the noise they show, estimated: sigma {metrics['sigma_noisy']} noisy, "
        f"{metrics['sigma_denoised']} denoised",
        flush=True,
    )


def main() -> None:
    class_names = CLASS_NAMES.get(load_params()["dataset"])
    model = load_model(MODEL_PATH)
    scores: dict[str, list[np.ndarray]] = {}
    at_level: dict[float, dict[str, list[np.ndarray]]] = {}
    pictures, labels = [], None
    denoiser = make_denoiser(model)
    for batch in eval_batches(TEST_DATA):
        check_model_takes(model, batch.noisy)
        # a built-in set's equal small images in one call; a photo of any size in tiles
        denoise = denoiser if batch.names else None
        denoised = denoise_test_images(model, batch.noisy, denoise)
        if not np.all(np.isfinite(denoised)):
            raise StageError(f"{MODEL_PATH} outputs NaN or infinite values; retrain it")
        if batch.clean is None:  # photos noisy already: nothing to score against
            for name, images in (("sigma_noisy", batch.noisy), ("sigma_denoised", denoised)):
                scores.setdefault(name, []).append(noise_sigma_per_image(images))
            if len(pictures) < EXAMPLES:
                pictures.append(
                    tuple(centre(image[0], THUMBNAIL) for image in (batch.noisy, denoised))
                )
            continue
        estimates = {
            "": denoised,
            "_noisy": batch.noisy,
            "_median3": median_filter_3x3(batch.noisy),
        }
        for name, values in scores_of(batch.clean, estimates).items():
            scores.setdefault(name, []).append(values)
        for level, noisy in batch.at_level.items():
            estimates = {"": denoise_test_images(model, noisy, denoise), "_noisy": noisy}
            for name, values in scores_of(batch.clean, estimates).items():
                at_level.setdefault(level, {}).setdefault(name, []).append(values)
        images = (batch.clean, batch.noisy, denoised)
        if batch.labels is not None:  # the first image of each class
            labels = batch.labels
            first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)]
            pictures = [tuple(image[i] for image in images) for i in first]
        elif len(pictures) < EXAMPLES:  # a thumbnail: a photo's whole need not be kept
            pictures.append(tuple(centre(image[0], THUMBNAIL) for image in images))
    per_image = {name: np.concatenate(values) for name, values in scores.items()}
    if "psnr" not in per_image:
        write_without_reference(per_image, pictures)
        return
    psnr = per_image["psnr"]

    metrics = {
        "psnr": rounded(psnr.mean()),
        "ssim": rounded(per_image["ssim"].mean()),
        "psnr_noisy": rounded(per_image["psnr_noisy"].mean()),
        "ssim_noisy": rounded(per_image["ssim_noisy"].mean()),
        "psnr_median3": rounded(per_image["psnr_median3"].mean()),
        "ssim_median3": rounded(per_image["ssim_median3"].mean()),
        "psnr_std": rounded(psnr.std()),
        "ssim_std": rounded(per_image["ssim"].std()),
        "psnr_noisy_std": rounded(per_image["psnr_noisy"].std()),
        "test_images": len(psnr),
    }
    per_level = [
        {"level": level}
        | {name: rounded(np.concatenate(values).mean()) for name, values in level_scores.items()}
        for level, level_scores in at_level.items()
    ]
    if per_level:  # keyed by level, so that `dvc exp show` has a column for each
        metrics["levels"] = {f"{row['level']:g}": row for row in per_level}
    per_class = []
    if labels is not None:
        per_class = [
            {
                "class": class_names[c] if class_names else str(c),
                "psnr": rounded(psnr[labels == c].mean()),
            }
            for c in np.unique(labels)
        ]
    write_all_atomic(  # all four or none, and only if no input changed meanwhile
        {
            PER_CLASS_PATH: json_file({"psnr_per_class": per_class}),
            PER_LEVEL_PATH: json_file({"psnr_per_level": per_level}),
            EXAMPLES_PATH: png_file(example_grid(pictures)),
            METRICS_PATH: json_file(metrics),
        }
    )
    print(
        f"evaluate: {METRICS_PATH}: "
        + ", ".join(f"{k} {metrics[k]}" for k in ("psnr", "ssim", "psnr_noisy", "psnr_median3")),
        flush=True,
    )
    for row in per_level:
        print(
            f"evaluate: at noise level {row['level']:g}: psnr {row['psnr']}, "
            f"psnr_noisy {row['psnr_noisy']}",
            flush=True,
        )


if __name__ == "__main__":
    run_stage(main, reads=[PARAMS_FILE, TEST_DATA, MODEL_PATH])
