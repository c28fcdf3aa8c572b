"""Test PSNR and speed of short U-Net trainings that differ in a few settings.

    python benchmarks/unet_trials.py [--epochs 1] SETTINGS [SETTINGS ...]

    e.g. python benchmarks/unet_trials.py unet.batch_size=64 unet.batch_size=16 \
             unet.batch_size=16,unet.filters=24

Needs data/processed/ (run `dvc repro preprocess` first). Each SETTINGS is a comma-separated list
of `section.key=value` overrides of params.yaml, as `dvc exp run -S` takes them. For each, runs the
real train and evaluate stages (`python -m stages.train`, `python -m stages.evaluate`) in a scratch
folder that sees the workspace's processed data, with `model: unet`, `unet.epochs` set to
`--epochs` (the cosine schedule spans them) and those overrides. A trial of one or two epochs
ranks settings at a fraction of a full run's cost. Prints a Markdown table for the README.
"""

import argparse
import os
import platform
import statistics
from pathlib import Path

import yaml
from train_speed import REPO, scratch_with_processed_data, train_and_evaluate_in


def apply_settings(params: dict, settings: str) -> None:
    """Apply `unet.filters=24,unet.batch_size=16` to params, values parsed as YAML."""
    for setting in settings.split(","):
        key, sep, value = setting.partition("=")
        *path, last = key.strip().split(".")
        section = params
        for name in path:
            section = section.get(name) if isinstance(section, dict) else None
        if not sep or not isinstance(section, dict) or last not in section:
            raise SystemExit(
                f"error: bad setting {setting!r}: expected section.key=value, a key of params.yaml"
            )
        section[last] = yaml.safe_load(value)


def train_and_evaluate(settings: str, epochs: int, scratch: Path) -> tuple[list[float], dict]:
    """Seconds of each epoch and the test metrics of a U-Net trained with these settings."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"] = "unet"
    params["unet"]["epochs"] = epochs
    apply_settings(params, settings)
    return train_and_evaluate_in(scratch, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="+", help="e.g. unet.batch_size=16,unet.filters=24")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per trial")
    args = parser.parse_args()
    if args.epochs < 1:
        raise SystemExit(f"error: --epochs must be at least 1, got {args.epochs}")
    for settings in args.settings:  # fail on a typo before any training
        apply_settings(yaml.safe_load((REPO / "params.yaml").read_text()), settings)

    rows = []
    with scratch_with_processed_data() as scratch:
        for settings in args.settings:
            seconds, metrics = train_and_evaluate(settings, args.epochs, scratch)
            rows.append((settings, seconds, metrics))
            print(
                f"{settings}: " + ", ".join(f"{s:.1f}" for s in seconds) + " s/epoch; "
                f"psnr {metrics['psnr']:.2f} dB, ssim {metrics['ssim']:.3f}",
                flush=True,
            )

    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"U-Net, {args.epochs} epoch(s) per trial, params.yaml otherwise"
    )
    print("| settings | s/epoch (median) | total training (s) | test PSNR (dB) | SSIM |")
    print("|---|---:|---:|---:|---:|")
    for settings, seconds, metrics in rows:
        print(
            f"| `{settings}` | {statistics.median(seconds):.1f} | {sum(seconds):.0f} | "
            f"{metrics['psnr']:.2f} | {metrics['ssim']:.3f} |"
        )


if __name__ == "__main__":
    main()
