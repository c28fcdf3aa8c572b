"""Where a denoiser's remaining error lies: background, stroke interiors or stroke edges.

    python benchmarks/error_by_pixel.py [--model models/model.keras]

    e.g. dvc get . models/model.keras --rev EXPERIMENT -o unet.keras
         python benchmarks/error_by_pixel.py --model unet.keras

Denoises the test set in data/processed/test.npz (so the model must have been trained on the same
noise) and splits its squared error by the kind of clean pixel: background (exactly 0), stroke
interior (STROKE_INTERIOR or brighter) and the anti-aliased edge in between. For each kind it prints
the share of the pixels, the share of the squared error, and the mean test PSNR if those pixels
alone were restored perfectly: how far getting them right would lift the model. Prints a Markdown
table.
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import stages.models  # noqa: F401 (registers the custom layers the saved model may use)
from stages.evaluate import MODEL_PATH, TEST_DATA, denoise_test_images
from stages.metrics import psnr_per_image

STROKE_INTERIOR = 0.9  # MNIST strokes are near white inside, grey only at their anti-aliased edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=MODEL_PATH, help=f"a saved model (default {MODEL_PATH})")
    args = parser.parse_args()
    for path in (args.model, TEST_DATA):
        if not Path(path).is_file():
            raise SystemExit(f"error: {path} not found; `dvc repro` (or `dvc get`) makes it")

    with np.load(TEST_DATA) as data:
        clean, noisy = data["clean"], data["noisy"]
    model = keras.models.load_model(args.model)
    denoised = denoise_test_images(model, noisy)
    squared_error = (denoised.astype(np.float64) - clean) ** 2

    kinds = {
        "background (0)": clean == 0,
        f"stroke interior (>= {STROKE_INTERIOR})": clean >= STROKE_INTERIOR,
        "stroke edge (in between)": (clean > 0) & (clean < STROKE_INTERIOR),
    }
    print(f"model {args.model}: mean test PSNR {psnr_per_image(clean, denoised).mean():.2f} dB\n")
    print("| clean pixel | share of pixels | share of squared error | PSNR if restored (dB) |")
    print("|---|---:|---:|---:|")
    for kind, mask in kinds.items():
        restored = np.where(mask, clean, denoised)
        print(
            f"| {kind} | {mask.mean():.1%} | {squared_error[mask].sum() / squared_error.sum():.1%} "
            f"| {psnr_per_image(clean, restored).mean():.2f} |"
        )


if __name__ == "__main__":
    main()
