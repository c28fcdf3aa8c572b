"""Wall time and peak memory of each stage of the pipeline, as `dvc repro` runs it.

    MNIST_MIRROR=../shared/data/mnist python benchmarks/stage_times.py

Runs every stage in pipeline order with `dvc repro --force --single-item STAGE` (so nothing is
skipped and dvc.lock is updated as by a plain `dvc repro`), then times a `dvc repro` that has
nothing to do. Peak memory is the largest resident set of any process of the stage (DVC's own
included). Prints a Markdown table for docs/speed.md.
"""

import os
import platform
import statistics
import subprocess
import sys
import time

from train_speed import cpu_name

STAGES = ["fetch", "preprocess", "train", "evaluate"]


def run_measured(*args: str) -> tuple[float, int]:
    """Run a command; return (seconds, peak resident bytes of it and its children)."""
    start = time.perf_counter()
    process = subprocess.Popen(args)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"error: {' '.join(args)} failed (wait status {status})")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    rows = []
    for stage in STAGES:
        seconds, peak = run_measured("dvc", "repro", "--force", "--single-item", stage)
        rows.append((stage, seconds, peak))
    noop = [run_measured("dvc", "repro")[0] for _ in range(3)]

    print(f"\n{cpu_name()}, Python {platform.python_version()}")
    print("| stage | wall time (s) | peak memory (MiB) |")
    print("|---|---:|---:|")
    for stage, seconds, peak in rows:
        print(f"| {stage} | {seconds:.1f} | {peak / 2**20:.0f} |")
    print(
        f"| whole pipeline | {sum(s for _, s, _ in rows):.1f} | "
        f"{max(p for _, _, p in rows) / 2**20:.0f} |"
    )
    print(f"| `dvc repro`, nothing changed (median of 3) | {statistics.median(noop):.2f} | |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
