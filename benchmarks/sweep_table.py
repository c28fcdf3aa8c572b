"""Print the noise-sweep table of the README from the experiments DVC knows.

    dvc exp run --queue -S 'noise_factor=0.1,0.2,0.3,0.4,0.5' -S 'model=dense,unet'
    dvc queue start -j 1        # then wait: `dvc queue status` shows progress
    python benchmarks/sweep_table.py [REV]

Reads `dvc exp show --csv --rev REV` (the experiments based on commit REV, HEAD by default: an
experiment belongs to the commit it was queued on) and prints one row per noise level: PSNR and
SSIM of the noisy input, of the 3x3 median filter and of each model. Where several experiments
share a model and noise level, the newest one counts.
"""

import csv
import io
import subprocess
import sys


def load_experiments(rev: str) -> list[dict]:
    shown = subprocess.run(
        ["dvc", "exp", "show", "--csv", "--rev", rev], capture_output=True, text=True, check=True
    ).stdout
    return [row for row in csv.DictReader(io.StringIO(shown)) if row.get("psnr")]


def main() -> None:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    rows = sorted(load_experiments(rev), key=lambda row: row.get("Created") or "")
    by_level: dict[float, dict] = {}
    for row in rows:  # oldest first, so the newest of duplicates wins
        level = by_level.setdefault(float(row["noise_factor"]), {})
        level["noisy"] = (row["psnr_noisy"], row["ssim_noisy"])
        level["median 3x3"] = (row["psnr_median3"], row["ssim_median3"])
        level[row["model"]] = (row["psnr"], row["ssim"])
    columns = ["noisy", "median 3x3"] + sorted({row["model"] for row in rows})
    print("| noise_factor | " + " | ".join(columns) + " |")
    print("|---:|" + "---:|" * len(columns))
    for noise, results in sorted(by_level.items()):
        cells = [
            f"{float(results[c][0]):.2f} / {float(results[c][1]):.3f}" if c in results else "-"
            for c in columns
        ]
        print(f"| {noise} | " + " | ".join(cells) + " |")
    print("\nEach cell: mean test PSNR (dB) / mean SSIM over the 10,000 test images.")


if __name__ == "__main__":
    main()
