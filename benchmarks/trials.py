"""Test PSNR against training time: the real train and evaluate stages, one run per setting.

    python benchmarks/trials.py [--epochs N] [--repeat 2] [--svg docs/psnr_vs_minutes.svg] \
        SETTINGS [SETTINGS ...]

    e.g. python benchmarks/trials.py model=dense model=dncnn model=unet \
             model=unet,train.precision=mixed_bfloat16

Needs data/processed/ (run `dvc repro preprocess` first). Each SETTINGS is a comma-separated list
of `key=value` overrides of params.yaml, as `dvc exp run -S` takes them (`unet.filters=24`). For
each, runs the real stages (`python -m stages.train`, then `python -m stages.evaluate`) in a
scratch folder that sees the workspace's processed data, with the model's own budget from
params.yaml unless --epochs is given (the cosine schedule then spans those epochs). --repeat runs
each setting again from scratch and reports whether the model file came out byte-identical.
Prints the CPU it ran on and a Markdown table; --svg also draws test PSNR against minutes.
"""

import argparse
import hashlib
import re
import statistics
from pathlib import Path

import yaml
from train_speed import REPO, cpu_name, scratch_with_processed_data, train_and_evaluate_in

TRAIN_LINE = re.compile(r"^train: .*?, ([\d,]+) train / ", re.MULTILINE)


def apply_settings(params: dict, settings: str) -> None:
    """Apply `model=unet,unet.filters=24` to params, values parsed as YAML."""
    for setting in settings.split(","):
        key, sep, value = setting.partition("=")
        *path, last = key.strip().split(".")
        section = params
        for name in path:
            section = section.get(name) if isinstance(section, dict) else None
        if not sep or not isinstance(section, dict) or last not in section:
            raise SystemExit(
                f"error: bad setting {setting!r}: expected key=value, a key of params.yaml"
            )
        section[last] = yaml.safe_load(value)


def trial(settings: str, epochs: int | None, scratch: Path) -> dict:
    """One training with these settings: seconds per epoch, images/s, metrics, model hash."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    apply_settings(params, settings)
    if epochs:
        params[params["model"]]["epochs"] = epochs
    seconds, metrics, log = train_and_evaluate_in(scratch, params)
    images = int(TRAIN_LINE.search(log)[1].replace(",", ""))
    return {
        "seconds": seconds,
        "images_per_s": images * len(seconds) / sum(seconds),
        "metrics": metrics,
        "md5": hashlib.md5((scratch / "models/model.keras").read_bytes()).hexdigest(),  # noqa: S324
    }


def svg_plot(points: list[tuple[str, float, float]], path: Path) -> None:
    """A scatter plot of (label, minutes, psnr) as a standalone SVG: no plotting library."""
    width, height, left, bottom, top, right = 720, 420, 60, 50, 20, 20
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    x_max = max(xs) * 1.1
    y_min, y_max = min(ys) - 0.5, max(ys) + 0.5

    def x(value: float) -> float:
        return left + value / x_max * (width - left - right)

    def y(value: float) -> float:
        return height - bottom - (value - y_min) / (y_max - y_min) * (height - bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(width + left) / 2}" y="{height - 12}" text-anchor="middle">'
        "training time (minutes)</text>",
        f'<text x="14" y="{(height - bottom + top) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(height - bottom + top) / 2})">test PSNR (dB)</text>',
    ]
    step = max(1, round(x_max / 8))
    for tick in range(0, int(x_max) + 1, step):
        parts.append(
            f'<text x="{x(tick)}" y="{height - bottom + 16}" text-anchor="middle">{tick}</text>'
        )
    for tick in range(int(y_min) + 1, int(y_max) + 1):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4}" text-anchor="end">{tick}</text>')
        parts.append(
            f'<line x1="{left}" y1="{y(tick)}" x2="{width - right}" y2="{y(tick)}" stroke="#ddd"/>'
        )
    placed: list[float] = []  # label heights so far: a label near another's goes below it
    for label, minutes, psnr in points:
        short = label.replace("model=", "").replace("train.precision=mixed_bfloat16", "bfloat16")
        right = x(minutes) > width / 2  # labels of the right half end at their point
        label_y = y(psnr) + 4 + (16 if any(abs(y(psnr) + 4 - h) < 14 for h in placed) else 0)
        placed.append(label_y)
        parts.append(f'<circle cx="{x(minutes)}" cy="{y(psnr)}" r="4" fill="#4c72b0"/>')
        parts.append(
            f'<text x="{x(minutes) + (-7 if right else 7)}" y="{label_y}" '
            f'text-anchor="{"end" if right else "start"}">{short} ({psnr:.2f})</text>'
        )
    path.write_text("\n".join(parts + ["</svg>"]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="+", help="e.g. model=unet,unet.filters=24")
    parser.add_argument("--epochs", type=int, help="epochs per trial (default: the model's own)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each setting")
    parser.add_argument("--svg", type=Path, help="draw test PSNR against minutes here")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        raise SystemExit(f"error: --epochs must be at least 1, got {args.epochs}")
    for settings in args.settings:  # fail on a typo before any training
        apply_settings(yaml.safe_load((REPO / "params.yaml").read_text()), settings)

    rows = []
    with scratch_with_processed_data() as scratch:
        for settings in args.settings:
            runs = [trial(settings, args.epochs, scratch) for _ in range(args.repeat)]
            rows.append((settings, runs))
            first = runs[0]
            print(
                f"{settings}: " + ", ".join(f"{s:.1f}" for s in first["seconds"]) + " s/epoch; "
                f"psnr {first['metrics']['psnr']:.2f} dB, ssim {first['metrics']['ssim']:.3f}; "
                f"model {', '.join(r['md5'][:8] for r in runs)}",
                flush=True,
            )

    print(f"\n{cpu_name()}; one process per run, params.yaml otherwise")
    print(
        "| settings | epochs | s/epoch (median) | training (min) | images/s | test PSNR (dB) | "
        "SSIM | model bytes over runs |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    points = []
    for settings, runs in rows:
        first = runs[0]
        minutes = sum(first["seconds"]) / 60
        same = (
            ""
            if len(runs) == 1
            else ("identical" if len({r["md5"] for r in runs}) == 1 else "differ")
        )
        print(
            f"| `{settings}` | {len(first['seconds'])} | {statistics.median(first['seconds']):.1f} "
            f"| {minutes:.1f} | {first['images_per_s']:.0f} | {first['metrics']['psnr']:.2f} | "
            f"{first['metrics']['ssim']:.3f} | {same} |"
        )
        points.append((settings, minutes, first["metrics"]["psnr"]))
    if args.svg:
        svg_plot(points, args.svg)
        print(f"\n{args.svg}: test PSNR against training minutes")


if __name__ == "__main__":
    main()
