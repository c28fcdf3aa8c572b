"""The classical anchor: BM3D against the trained model on exactly the same noisy test photos.

    pip install -r benchmarks/requirements.txt     # bm3d, for this script only
    python benchmarks/bm3d_anchor.py REPO          # a repository after a `dataset: images` run

Reads REPO's data/processed/test.npz (each test photo whole, clean and noisy as preprocess drew
them), params.yaml (the Gaussian noise_factor, which BM3D is told) and models/model.keras. Each
noisy photo goes through BM3D (the `bm3d` package: its colour variant, CBM3D, for 3 channels)
and through the model (the function `denoise` calls), and the script prints the CPU and a
Markdown table of PSNR per photo with the seconds each took.
"""

import argparse
import sys
import time
from pathlib import Path

import bm3d
import numpy as np
import yaml
from train_speed import cpu_name

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stages.inference import make_denoiser  # noqa: E402
from stages.metrics import psnr_per_image  # noqa: E402
from stages.models import load_model  # noqa: E402


def psnr(clean: np.ndarray, estimate: np.ndarray) -> float:
    return float(psnr_per_image(clean[np.newaxis], np.clip(estimate, 0, 1)[np.newaxis])[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    args = parser.parse_args()
    params = yaml.safe_load((args.repo / "params.yaml").read_text())
    sigma = params["noise_factor"]
    if params["noise"] != "gaussian" or isinstance(sigma, list):
        sys.exit("error: BM3D is told one Gaussian level: run with noise gaussian, one level")
    denoise = make_denoiser(load_model(args.repo / "models/model.keras"))
    print(f"CPU: {cpu_name()}; Gaussian {sigma}; {args.repo}")
    print("\n| test photo | noisy | BM3D | BM3D (s) | model | model (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    with np.load(args.repo / "data/processed/test.npz") as test:
        for i, name in enumerate(test["names"]):
            clean, noisy = test[f"clean_{i}"], test[f"noisy_{i}"]
            started = time.perf_counter()
            if noisy.shape[-1] == 3:
                classical = bm3d.bm3d_rgb(noisy, sigma)
            else:
                classical = bm3d.bm3d(noisy[..., 0], sigma)[..., np.newaxis]
            bm3d_seconds = time.perf_counter() - started
            started = time.perf_counter()
            learned = denoise([noisy])[0]
            model_seconds = time.perf_counter() - started
            rows.append([psnr(clean, noisy), psnr(clean, classical), psnr(clean, learned)])
            print(
                f"| {name} | {rows[-1][0]:.2f} | {rows[-1][1]:.2f} | {bm3d_seconds:.1f} "
                f"| {rows[-1][2]:.2f} | {model_seconds:.1f} |",
                flush=True,
            )
    noisy_mean, bm3d_mean, model_mean = np.mean(rows, axis=0)
    print(f"| mean | {noisy_mean:.2f} | {bm3d_mean:.2f} | | {model_mean:.2f} | |")


if __name__ == "__main__":
    main()
