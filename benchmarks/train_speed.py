"""Seconds per epoch of the train stage against the original recipe, on the same data and machine.

    python benchmarks/train_speed.py [--epochs 5] [--rounds 2]

Needs data/processed/ (run `dvc repro preprocess` first). Alternates the two, `rounds` times, each
a fresh process training `epochs` epochs: the original recipe (benchmarks/original_recipe.py) and
the train stage (`python -m stages.train` with the workspace's params.yaml, but the dense model
trained for `--epochs` epochs, in a scratch folder that sees the workspace's processed data). The
first epoch holds tracing and compilation, so it is reported apart; the per-epoch figure is the
median of the others. PSNR is on the 10,000 test images after the last epoch (evaluate's figure for
the stage). Prints a Markdown table for docs/speed.md.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+: ([\d.]+) s", re.MULTILINE)


def run(args: list[str], cwd: Path) -> str:
    """Run a child with the repo importable; return its output, failing loudly if it fails."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def epoch_seconds(log: str) -> list[float]:
    """The seconds of each `epoch N/M: S s, ...` line that both recipes print."""
    return [float(seconds) for _, seconds in EPOCH_LINE.findall(log)]


@contextlib.contextmanager
def scratch_with_processed_data() -> Iterator[Path]:
    """A temporary folder whose data/processed is the workspace's, for stages to run in.

    Stages run there write their models and metrics there, never over the workspace's own.
    """
    if not (REPO / "data/processed/train.npz").exists():
        raise SystemExit("error: data/processed/ is missing: run `dvc repro preprocess` first")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "data").mkdir()
        (scratch / "data/processed").symlink_to(REPO / "data/processed")
        yield scratch


def original_recipe(epochs: int) -> tuple[list[float], float]:
    log = run([sys.executable, str(REPO / "benchmarks/original_recipe.py"), str(epochs)], REPO)
    return epoch_seconds(log), float(re.search(r"^psnr ([\d.]+)", log, re.MULTILINE)[1])


def train_and_evaluate_in(scratch: Path, params: dict) -> tuple[list[float], dict, str]:
    """Run the real train and evaluate stages in `scratch` with these params: the seconds of
    each epoch, the test metrics (metrics/psnr.json) and the train stage's log."""
    (scratch / "params.yaml").write_text(yaml.safe_dump(params))
    log = run([sys.executable, "-m", "stages.train"], scratch)
    run([sys.executable, "-m", "stages.evaluate"], scratch)
    return epoch_seconds(log), json.loads((scratch / "metrics/psnr.json").read_text()), log


def cpu_name() -> str:
    """The CPU as `lscpu` names it (model name and family), and the number of cores."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(re.findall(r"^(model name|cpu family)\s*:\s*(.*)$", info, re.MULTILINE))
    name = fields.get("model name", platform.processor() or platform.machine())
    family = f", family {fields['cpu family']}" if "cpu family" in fields else ""
    return f"{name}{family}, {os.cpu_count()} cores"


def train_stage(epochs: int, scratch: Path) -> tuple[list[float], float]:
    """The dense model of params.yaml trained for `epochs` by the real stages, in `scratch`."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["model"], params["dense"]["epochs"] = "dense", epochs
    seconds, metrics, _ = train_and_evaluate_in(scratch, params)
    return seconds, metrics["psnr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (at least 2)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, alternating")
    args = parser.parse_args()
    if args.epochs < 2:
        raise SystemExit(f"error: --epochs must be at least 2, got {args.epochs}")

    results = {"original recipe": ([], [], None), "train stage": ([], [], None)}
    with scratch_with_processed_data() as scratch:
        for round_ in range(1, args.rounds + 1):
            for name in results:
                if name == "original recipe":
                    seconds, psnr = original_recipe(args.epochs)
                else:
                    seconds, psnr = train_stage(args.epochs, scratch)
                first, rest, _ = results[name]
                first.append(seconds[0])
                rest.extend(seconds[1:])
                results[name] = (first, rest, psnr)
                print(
                    f"round {round_}, {name}: "
                    + ", ".join(f"{s:.2f}" for s in seconds)
                    + f" s/epoch; psnr {psnr:.2f} dB",
                    flush=True,
                )

    original_epoch = statistics.median(results["original recipe"][1])
    print(f"\n{cpu_name()}; {args.rounds} alternating run(s) of {args.epochs} epochs each")
    print(
        "| recipe | first epoch (s) | later epochs, median (s) | ratio | "
        f"test PSNR after {args.epochs} epochs (dB) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, (first, rest, psnr) in results.items():
        epoch = statistics.median(rest)
        print(
            f"| {name} | {statistics.median(first):.2f} | {epoch:.2f} | "
            f"{epoch / original_epoch:.2f} | {psnr:.2f} |"
        )


if __name__ == "__main__":
    main()
