"""Denoise the noisy test set with the trained model and write metrics/psnr.json.

`psnr` is the mean per-image PSNR (dB, data range 1) of the model's output, `ssim` its mean SSIM.
The same for the noisy input (`psnr_noisy`, `ssim_noisy`) is the floor any denoiser must beat,
and a 3x3 median filter (`psnr_median3`, `ssim_median3`) is what one gets without learning.
`psnr_per_class` shows which digits are hard. metrics/eval/ holds the pictures: one test digit
of each class (clean, noisy, denoised) and the per-class chart, both DVC plots.
"""

import keras
import numpy as np

import stages.models  # noqa: F401 (registers the custom layers the saved model may use)
from stages.baselines import median_filter_3x3
from stages.io import write_json_atomic, write_png
from stages.metrics import psnr_per_image, ssim_per_image

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


def main() -> None:
    with np.load(TEST_DATA) as data:
        clean, noisy, labels = data["clean"], data["noisy"], data["labels"]
    model = keras.models.load_model(MODEL_PATH)
    denoised = denoise_test_images(model, noisy)
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
    write_json_atomic(PER_CLASS_PATH, {"psnr_per_class": chart})
    write_png(EXAMPLES_PATH, example_grid(clean, noisy, denoised, labels))
    write_json_atomic(METRICS_PATH, metrics)
    print(
        f"evaluate: {METRICS_PATH}: "
        + ", ".join(f"{k} {metrics[k]}" for k in ("psnr", "ssim", "psnr_noisy", "psnr_median3")),
        flush=True,
    )


if __name__ == "__main__":
    main()
