"""Time and peak memory of the `denoise` command: one large photo, and a folder of small images.

    python benchmarks/denoise_cost.py [--side 4000] [--count 2000] [--model models/model.keras]

Runs the real command (`python -m stages.denoise`) under /usr/bin/time, which reports the peak
resident memory, on images it writes to a scratch folder: one colour photo of side x side pixels
through a grayscale and a colour model, then `count` grayscale images of 28x28 to 96x96. The
models are the one given, or else U-Nets built with params.yaml's `unet` settings (untrained:
their cost is the same as a trained one's).
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
from train_speed import REPO, cpu_name


def write_photo(path: Path, height: int, width: int, channels: int, seed: int) -> None:
    """A smooth random picture with noise on top, as PNG."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    small = rng.random((height // 16 + 2, width // 16 + 2, channels), dtype=np.float32)
    image = np.kron(small, np.ones((16, 16, 1), np.float32))[:height, :width]
    image += rng.normal(0, 0.1, image.shape).astype(np.float32)
    path.write_bytes(tf.io.encode_png(np.clip(image * 255, 0, 255).astype(np.uint8)).numpy())


def timed_denoise(inputs: Path, output: Path, model: Path) -> tuple[float, float, str]:
    """(seconds, peak resident MiB, last line) of one `denoise` run."""
    result = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-m",
            "stages.denoise",
            str(inputs),
            "-o",
            str(output),
            "--model",
            str(model),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"error: denoise failed:\n{result.stderr[-2000:]}")
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", result.stderr)[
        1
    ]
    seconds = sum(float(part) * 60**i for i, part in enumerate(reversed(wall.split(":"))))
    return seconds, peak_kib / 1024, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=4000)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--model", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        models = {"gray": args.model, "colour": args.model}
        if args.model is None:
            from stages.models import build_unet

            unet = yaml.safe_load((REPO / "params.yaml").read_text())["unet"]
            for name, channels in (("gray", 1), ("colour", 3)):
                models[name] = scratch / f"{name}.keras"
                build_unet(unet["depth"], unet["filters"], unet["batch_norm"], channels).save(
                    models[name]
                )
        (scratch / "large").mkdir()
        write_photo(scratch / "large/photo.png", args.side, args.side, 3, seed=0)
        (scratch / "small").mkdir()
        rng = np.random.default_rng(1)
        for i in range(args.count):
            side = int(rng.integers(28, 97))
            write_photo(scratch / f"small/{i:05d}.png", side, side, 1, seed=i)

        print(f"{cpu_name()}; model {args.model or 'a U-Net as params.yaml builds it'}")
        print("| input | wall time (s) | peak memory (MiB) |")
        print("|---|---:|---:|")
        runs = [
            ("large", "gray", f"one {args.side}x{args.side} colour photo, grayscale model"),
            ("large", "colour", f"one {args.side}x{args.side} colour photo, colour model"),
            ("small", "gray", f"{args.count} grayscale images, 28x28 to 96x96"),
        ]
        for inputs, model, label in runs:
            out = scratch / f"out_{inputs}_{model}"
            seconds, mib, _ = timed_denoise(scratch / inputs, out, models[model])
            print(f"| {label} | {seconds:.1f} | {mib:.0f} |", flush=True)


if __name__ == "__main__":
    main()
