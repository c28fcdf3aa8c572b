"""Denoise the noisy test set with the trained model and write metrics/psnr.json.

`psnr` is the mean per-image PSNR (dB, data range 1) of the model's output; `psnr_noisy` is the
same for the noisy input, the floor any denoiser must beat. Both come with their spread over
images, so a change in the mean can be read against it.
"""

import keras
import numpy as np

from stages.io import write_json_atomic
from stages.metrics import psnr_per_image

TEST_DATA = "data/processed/test.npz"
MODEL_PATH = "models/model.keras"
METRICS_PATH = "metrics/psnr.json"


def main() -> None:
    with np.load(TEST_DATA) as data:
        clean, noisy = data["clean"], data["noisy"]
    model = keras.models.load_model(MODEL_PATH)
    denoised = np.clip(model.predict(noisy, batch_size=1000, verbose=0), 0.0, 1.0)
    psnr = psnr_per_image(clean, denoised)
    psnr_noisy = psnr_per_image(clean, noisy)
    metrics = {
        "psnr": round(float(psnr.mean()), 4),
        "psnr_std": round(float(psnr.std()), 4),
        "psnr_noisy": round(float(psnr_noisy.mean()), 4),
        "psnr_noisy_std": round(float(psnr_noisy.std()), 4),
        "test_images": len(clean),
    }
    write_json_atomic(METRICS_PATH, metrics)
    print(f"evaluate: {METRICS_PATH}: {metrics}", flush=True)


if __name__ == "__main__":
    main()
