"""Peak memory and training speed of `dataset: images` for 100, 1,000 and 10,000 photos.

    python benchmarks/stream_scale.py --photos 100 1000 10000 --old e6ea98c

Writes that many synthetic one-megapixel JPEG photos (1152x864, a smooth random texture) once,
then for each count runs preprocess and two epochs of the default U-Net (64x64 crops) in a
scratch project holding a copy of stages/ and params.yaml, and prints each stage's peak RSS,
seconds, and the training images/s of the second epoch (the first one compiles). With --old, the
same for the pipeline at that commit, whose preprocess cuts the crops once and whose train holds
them in memory, where it still runs. Each epoch shows every training photo `crops` times
(images.crops_per_image, chosen so that an epoch has about 2,000 crops at every count).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

PROJECT = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = 864, 1152
CROPS_PER_EPOCH = 2000
# runs a stage as `python -m` does, then reports the process's peak RSS (kB) on stderr
MEASURED = """
import atexit, resource, runpy, sys
atexit.register(lambda: print("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              file=sys.stderr))
runpy.run_module(sys.argv[1], run_name="__main__")
"""


def write_photo(path: Path) -> None:
    rng = np.random.default_rng(int(path.stem))
    small = rng.random((HEIGHT // 16, WIDTH // 16, 3))
    pixels = np.kron(small, np.ones((16, 16, 1)))  # smooth enough to be worth denoising
    pixels += 0.03 * rng.standard_normal(pixels.shape)  # and a little fine detail
    Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(path, quality=90)


def photos(folder: Path, count: int) -> list[Path]:
    """The first `count` synthetic photos, written where they are missing."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i}.jpg" for i in range(count)]
    with Pool(2) as pool:
        pool.map(write_photo, [p for p in paths if not p.exists()])
    return paths


def scratch_project(root: Path, source: Path, files: list[Path]) -> dict:
    """stages/ and params.yaml of `source`, data/raw linking to the photos; the params."""
    shutil.copytree(source / "stages", root / "stages")
    (root / "data/raw").mkdir(parents=True)
    for path in files:
        (root / "data/raw" / path.name).symlink_to(path)
    params = yaml.safe_load((source / "params.yaml").read_text())
    train_photos = round(len(files) * (1 - params["images"]["test_fraction"]))
    params.update(dataset="images", model="unet")
    params["images"]["crops_per_image"] = max(1, round(CROPS_PER_EPOCH / train_photos))
    params["unet"]["epochs"] = 2
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    return params


def run_stage(root: Path, name: str) -> dict:
    """Run one stage; its peak RSS (MiB), seconds, and its output."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, f"stages.{name}"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if result.returncode != 0:
        return {"failed": (result.stderr.strip().splitlines() or ["?"])[-2:]}
    rss = int(re.search(r"peak_rss_kb (\d+)", result.stderr).group(1))
    return {"rss_mib": rss / 1024, "out": result.stdout}


def measure(source: Path, files: list[Path], label: str) -> None:
    with tempfile.TemporaryDirectory(dir=PROJECT.parent) as scratch:
        root = Path(scratch)
        params = scratch_project(root, source, files)
        crops = params["images"]["crops_per_image"]
        row = f"{label:>6} {len(files):>6} photos, {crops:>3} crops each:"
        pre = run_stage(root, "preprocess")
        if "failed" in pre:
            print(f"{row} preprocess failed: {' '.join(pre['failed'])}", flush=True)
            return
        size = (root / "data/processed/train.npz").stat().st_size / 2**30
        train = run_stage(root, "train")
        if "failed" in train:
            print(f"{row} train failed: {' '.join(train['failed'])}", flush=True)
            return
        count = int(re.search(r"(\d+) train / \d+ validation", train["out"]).group(1))
        seconds = float(re.search(r"epoch 2/2: ([\d.]+) s", train["out"]).group(1))
        print(
            f"{row} preprocess peak RSS {pre['rss_mib']:7.0f} MiB, train.npz {size:5.1f} GiB; "
            f"train peak RSS {train['rss_mib']:6.0f} MiB, {count / seconds:6.1f} images/s "
            f"({count} crops in {seconds:.1f} s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--old", help="a commit to compare with (the in-memory crops)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "photos")
    args = parser.parse_args()
    old = None
    if args.old:
        old = Path(tempfile.mkdtemp(dir=PROJECT.parent))
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "-q", str(old), args.old])
    try:
        for count in args.photos:
            files = photos(args.cache, count)
            measure(PROJECT, files, "stream")
            if old:
                measure(old, files, "old")
    finally:
        if old:
            subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(old)])


if __name__ == "__main__":
    main()
