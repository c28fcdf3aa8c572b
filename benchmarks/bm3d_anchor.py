"""The classical anchors, BM3D and NL-means, against the trained model on the same noisy photos.

    pip install -r benchmarks/requirements.txt     # bm3d and scikit-image, for this script only
    python benchmarks/bm3d_anchor.py REPO          # a repository after a `dataset: images` run
    # and photos training never saw, for example the 12 nature photos of Debian's mate-backgrounds:
    apt-get download mate-backgrounds && dpkg-deb -x mate-backgrounds_*_all.deb /tmp/mate
    python benchmarks/bm3d_anchor.py REPO --photos /tmp/mate/usr/share/backgrounds/mate/nature

Reads REPO's params.yaml (the Gaussian noise_factor, which the anchors are told) and
models/model.keras. The photos are REPO's test photos as preprocess drew them
(data/processed/test.npz), or with --photos each image file of a folder, in RGB, scaled with
Pillow so that its longer side is --side pixels, plus clipped Gaussian noise (seed 0). Each
noisy photo goes through BM3D (the `bm3d` package: CBM3D for 3 channels), NL-means
(scikit-image, its documented settings) and the model (the function `denoise` calls). Prints the
CPU and a Markdown table of PSNR per photo, the seconds BM3D and the model took, and the largest
shift of a channel's mean (denoised against clean) for BM3D and the model. With --model-only
the anchors are skipped (nan in their columns): their figures depend on the noisy photos alone,
which are the same for every model of a REPO and for the same folder, side and sigma.
"""

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bm3d
import numpy as np
import yaml
from PIL import Image
from skimage.restoration import denoise_nl_means
from train_speed import cpu_name

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stages.inference import make_denoiser  # noqa: E402
from stages.metrics import psnr_per_image  # noqa: E402
from stages.models import load_model  # noqa: E402


def psnr(clean: np.ndarray, estimate: np.ndarray) -> float:
    return float(psnr_per_image(clean[np.newaxis], estimate[np.newaxis])[0])


def nl_means_of(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """scikit-image's NL-means at its documented settings for a known sigma."""
    return denoise_nl_means(
        noisy,
        h=0.8 * sigma,
        sigma=sigma,
        patch_size=5,
        patch_distance=6,
        fast_mode=True,
        channel_axis=-1,
    )


def colour_shift(clean: np.ndarray, estimate: np.ndarray) -> float:
    """The largest difference of a channel's mean: how far the picture's colour moved."""
    return float(np.abs(estimate.mean(axis=(0, 1)) - clean.mean(axis=(0, 1))).max())


def test_photos(repo: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, clean, noisy) of each of REPO's test photos, as preprocess drew them."""
    with np.load(repo / "data/processed/test.npz") as test:
        for i, name in enumerate(test["names"]):
            yield str(name), test[f"clean_{i}"], test[f"noisy_{i}"]


def folder_photos(
    folder: Path, side: int, sigma: float
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, clean, noisy) of each image file in `folder`, scaled to `side` pixels on its
    longer side, with clipped Gaussian noise of `sigma` (seed 0, drawn in file-name order)."""
    rng = np.random.default_rng(0)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
            clean = np.asarray(image, np.float32) / 255
        noisy = np.clip(clean + sigma * rng.standard_normal(clean.shape), 0, 1)
        yield path.name, clean, noisy.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--photos", type=Path, help="a folder of photos training never saw")
    parser.add_argument("--side", type=int, default=512, help="longer side of those photos")
    parser.add_argument(
        "--model-only",
        action="store_true",
        help="score the model alone: the anchors' figures depend on the photos, not the model",
    )
    args = parser.parse_args()
    params = yaml.safe_load((args.repo / "params.yaml").read_text())
    sigma = params["noise_factor"]
    if params["noise"] != "gaussian" or isinstance(sigma, list):
        sys.exit(
            "error: the anchors are told one Gaussian level: run with noise gaussian, one level"
        )
    denoise = make_denoiser(load_model(args.repo / "models/model.keras"))
    photos = folder_photos(args.photos, args.side, sigma) if args.photos else test_photos(args.repo)
    print(f"CPU: {cpu_name()}; Gaussian {sigma}; {args.repo}; {args.photos or 'test photos'}")
    print(
        "\n| photo | size | noisy | NL-means | BM3D | BM3D (s) | model | model (s) "
        "| colour shift BM3D | colour shift model |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for name, clean, noisy in photos:
        if args.model_only:  # printed as nan: not measured in this run
            nl_means = classical = np.full_like(noisy, np.nan)
            bm3d_seconds = float("nan")
        else:
            nl_means = nl_means_of(noisy, sigma)
            started = time.perf_counter()
            if noisy.shape[-1] == 3:
                classical = bm3d.bm3d_rgb(noisy, sigma)
            else:
                classical = bm3d.bm3d(noisy[..., 0], sigma)[..., np.newaxis]
            bm3d_seconds = time.perf_counter() - started
        started = time.perf_counter()
        learned = denoise([noisy])[0]
        model_seconds = time.perf_counter() - started
        # every estimate as an image file would hold it: in [0, 1], clipped once
        nl_means, classical, learned = (np.clip(x, 0, 1) for x in (nl_means, classical, learned))
        scores = [psnr(clean, x) for x in (noisy, nl_means, classical, learned)]
        shifts = [colour_shift(clean, x) for x in (classical, learned)]
        rows.append(scores + shifts)
        print(
            f"| {name} | {clean.shape[1]}x{clean.shape[0]} "
            f"| {' | '.join(f'{s:.2f}' for s in scores[:3])} | {bm3d_seconds:.1f} "
            f"| {scores[3]:.2f} | {model_seconds:.1f} | {shifts[0]:.3f} | {shifts[1]:.3f} |",
            flush=True,
        )
    noisy, nl_means, classical, learned, shift_bm3d, shift_model = np.mean(rows, axis=0)
    print(
        f"| mean | | {noisy:.2f} | {nl_means:.2f} | {classical:.2f} | | {learned:.2f} | "
        f"| {shift_bm3d:.3f} | {shift_model:.3f} |"
    )


if __name__ == "__main__":
    main()
