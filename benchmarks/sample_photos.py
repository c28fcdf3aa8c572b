"""Copy the public-domain photographs that scikit-image ships into a folder, for `dataset: images`.

    pip download --no-deps scikit-image==0.26.0 -d /tmp/wheels
    python benchmarks/sample_photos.py /tmp/wheels/scikit_image-0.26.0-*.whl data/images

scikit-image (BSD-3-Clause) carries a few sample images in skimage/data/; the 20 below are
photographs (colour and grayscale, 102x102 to 1000x872 pixels), each public domain or CC0 as its
docstring in skimage/data/_fetchers.py says. The synthetic ones (chessboards, logo, phantom,
silhouette) are left out. Nothing is installed: the files are read from the wheel.
"""

import argparse
import zipfile
from pathlib import Path

PHOTOS = [
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "microaneurysms.png",
    "moon.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", type=Path, help="a scikit-image wheel (pip download)")
    parser.add_argument("folder", type=Path, help="where to put the photographs")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.wheel) as wheel:
        for name in PHOTOS:
            (args.folder / name).write_bytes(wheel.read(f"skimage/data/{name}"))
    print(f"{len(PHOTOS)} photographs from {args.wheel.name} in {args.folder}/")


if __name__ == "__main__":
    main()
