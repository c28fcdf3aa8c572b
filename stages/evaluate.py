"""Denoise the noisy test set with the trained model and write metrics/psnr.json.

`psnr` is the mean per-image PSNR (dB, data range 1) of the model's output, `ssim` its mean SSIM.
The same for the noisy input (`psnr_noisy`, `ssim_noisy`) is the floor any denoiser must beat,
and a 3x3 median filter (`psnr_median3`, `ssim_median3`) is what one gets without learning.
`psnr_per_class` shows which digits are hard. metrics/eval/ holds the pictures: one test digit
of each class (clean, noisy, denoised) and the per-class chart, both DVC plots.
"""

import keras
import numpy as np

from stages.baselines import median_filter_3x3
from stages.io import check_unchanged, fingerprint, run_stage, write_json_atomic, write_png
from stages.metrics import psnr_per_image, ssim_per_image
from stages.models import load_model

TEST_DATA = "data/processed/test.npz"
MODEL_PATH = "models/model.keras"
METRICS_PATH = "metrics/psnr.json"
EXAMPLES_PATH = "metrics/eval/examples.png"
PER_CLASS_PATH = "metrics/eval/psnr_per_class.json"
ZOOM = 3  # each MNIST pixel becomes ZOOM x ZOOM in the picture


def example_grid(
    clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """A picture: rows clean, noisy, denoised; one column per digit 0-9 (its first image)."""
    first = [int(np.flatnonzero(labels == digit)[0]) for digit in np.unique(labels)]
    rows = [np.concatenate(list(images[first]), axis=1) for images in (clean, noisy, denoised)]
    grid = np.concatenate(rows, axis=0)
    return grid.repeat(ZOOM, axis=0).repeat(ZOOM, axis=1)


def denoise_test_images(model: keras.Model, noisy: np.ndarray) -> np.ndarray:
    """The model's output clipped to [0, 1], the range of a real image: what the metrics score."""
    return np.clip(model.predict(noisy, batch_size=1000, verbose=0), 0.0, 1.0)


def rounded(value: np.floating) -> float:
    """Four decimals: 0.1 mdB of PSNR, far below any difference worth reading."""
    return round(float(value), 4)


def check_model_takes(model: keras.Model, images: np.ndarray) -> None:
    """Stop with one line unless the model takes images of this shape (the dense model knows
    only the one size it was trained on; a convolutional one, only its number of channels)."""
    takes = model.input_shape[1:]
    if len(images) == 0:
        raise SystemExit(f"error: {TEST_DATA} holds no images to evaluate")
    shape = images.shape[1:]
    if any(t not in (None, s) for t, s in zip(takes, shape, strict=True)):
        size = "x".join("any" if t is None else str(t) for t in takes)
        raise SystemExit(
            f"error: {MODEL_PATH} takes {size} images, but {TEST_DATA} holds "
            f"{'x'.join(map(str, shape))} ones; retrain it on this data (`dvc repro`)"
        )


def main() -> None:
    inputs = fingerprint(TEST_DATA, MODEL_PATH)
    with np.load(TEST_DATA) as data:
        clean, noisy, labels = data["clean"], data["noisy"], data["labels"]
    model = load_model(MODEL_PATH)
    check_model_takes(model, noisy)
    denoised = denoise_test_images(model, noisy)
    if not np.all(np.isfinite(denoised)):
        raise SystemExit(f"error: {MODEL_PATH} outputs NaN or infinite values; retrain it")
    median = median_filter_3x3(noisy)

    psnr = psnr_per_image(clean, denoised)
    psnr_noisy = psnr_per_image(clean, noisy)
    psnr_median = psnr_per_image(clean, median)
    per_class = {str(d): rounded(psnr[labels == d].mean()) for d in np.unique(labels)}
    metrics = {
        "psnr": rounded(psnr.mean()),
        "psnr_std": rounded(psnr.std()),
        "ssim": rounded(ssim_per_image(clean, denoised).mean()),
        "psnr_noisy": rounded(psnr_noisy.mean()),
        "psnr_noisy_std": rounded(psnr_noisy.std()),
        "ssim_noisy": rounded(ssim_per_image(clean, noisy).mean()),
        "psnr_median3": rounded(psnr_median.mean()),
        "ssim_median3": rounded(ssim_per_image(clean, median).mean()),
        "psnr_per_class": per_class,
        "test_images": len(clean),
    }
    chart = [{"digit": digit, "psnr": value} for digit, value in per_class.items()]
    check_unchanged(inputs)
    write_json_atomic(PER_CLASS_PATH, {"psnr_per_class": chart})
    write_png(EXAMPLES_PATH, example_grid(clean, noisy, denoised, labels))
    write_json_atomic(METRICS_PATH, metrics)
    print(
        f"evaluate: {METRICS_PATH}: "
        + ", ".join(f"{k} {metrics[k]}" for k in ("psnr", "ssim", "psnr_noisy", "psnr_median3")),
        flush=True,
    )


if __name__ == "__main__":
    run_stage(main)
