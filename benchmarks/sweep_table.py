"""Print the noise tables of docs/results.md from the experiments DVC knows.

    dvc exp run --queue -S 'noise_factor=0.1,0.2,0.3,0.4,0.5' -S 'model=dense,unet'
    dvc exp run --queue -S 'noise=poisson,salt_pepper,low_light' -S 'model=dense,unet'
    dvc queue start -j 1        # then wait: `dvc queue status` shows progress
    python benchmarks/sweep_table.py [OPTIONS OF dvc exp show]

Reads `dvc exp show --csv` (by default the experiments of HEAD; an experiment belongs to the
commit it was queued on, so pass `-n 5` for those of the last 5 commits, or `--rev COMMIT`) and
prints one row per noise (each Gaussian noise level, then each other noise model at its
params.yaml settings): PSNR and SSIM of the noisy input, of the 3x3 median filter and of each
model. A model whose runs differ in its own settings (say `unet.batch_size`) gets a column per
setting, labelled with them. Where several results share a column and noise, the newest counts.
"""

import csv
import io
import subprocess
import sys

from stages.params import NOISE_MODELS


def is_number(text: str | None) -> bool:
    """Whether a `dvc exp show --csv` cell holds a number (DVC shows `!` for an unreadable one)."""
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def load_results(options: list[str]) -> list[dict]:
    """Finished rows of `dvc exp show --csv` that hold every metric the table needs.

    A queued, running or failed experiment shows its params beside its parent's metrics; only
    commits (State empty) and successful experiments count.
    """
    shown = subprocess.run(
        ["dvc", "exp", "show", "--csv", *options], capture_output=True, text=True, check=True
    ).stdout
    numbers = ["noise_factor", "psnr", "ssim", "psnr_noisy", "ssim_noisy", "psnr_median3"]
    return [
        row
        for row in csv.DictReader(io.StringIO(shown))
        if row["State"] in ("", "Success")
        and row.get("model")
        and all(is_number(row.get(key)) for key in numbers)
    ]


def noise_of(row: dict) -> tuple[int, float, str]:
    """A sortable key and label: Gaussian levels first, by noise_factor, then the other models,
    each with its settings (so runs at different settings get rows of their own).

    Experiments older than the `noise` param have no value for it; they are all Gaussian.
    """
    name = row.get("noise") or "gaussian"
    if name == "gaussian":
        return (0, float(row["noise_factor"]), f"gaussian {row['noise_factor']}")
    settings = ", ".join(
        f"{key.split('.', 1)[1]} {value}"
        for key, value in row.items()
        if key.startswith(name + ".")
    )
    return (NOISE_MODELS.index(name), 0.0, f"{name} ({settings})")


def model_labels(rows: list[dict]) -> list[str]:
    """Each row's model column: its name, plus the settings of its section that vary by run.

    `unet` where every U-Net ran with the same settings; `unet (batch_size 16)` and
    `unet (batch_size 64)` where two batch sizes were tried.
    """
    varying = {}
    for model in {row["model"] for row in rows}:
        runs = [row for row in rows if row["model"] == model]
        keys = [key for key in runs[0] if key.startswith(model + ".")]
        # a setting that older commits did not have yet (empty there) does not count
        varying[model] = [key for key in keys if len({run[key] for run in runs} - {""}) > 1]
    labels = []
    for row in rows:
        settings = ", ".join(
            f"{key.split('.', 1)[1]} {row[key]}" for key in varying[row["model"]] if row[key]
        )
        labels.append(f"{row['model']} ({settings})" if settings else row["model"])
    return labels


def main() -> None:
    rows = sorted(load_results(sys.argv[1:]), key=lambda row: row.get("Created") or "")
    labels = model_labels(rows)
    by_level: dict[tuple, dict] = {}
    # rows are oldest first, so the newest of duplicates wins
    for row, label in zip(rows, labels, strict=True):
        level = by_level.setdefault(noise_of(row), {})
        level["noisy"] = (row["psnr_noisy"], row["ssim_noisy"])
        level["median 3x3"] = (row["psnr_median3"], row["ssim_median3"])
        level[label] = (row["psnr"], row["ssim"])
    columns = ["noisy", "median 3x3"] + sorted(set(labels))
    print("| noise | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for (_, _, noise), results in sorted(by_level.items()):
        cells = [
            f"{float(results[c][0]):.2f} / {float(results[c][1]):.3f}" if c in results else "-"
            for c in columns
        ]
        print(f"| {noise} | " + " | ".join(cells) + " |")
    print("\nEach cell: mean test PSNR (dB) / mean SSIM over the 10,000 test images.")


if __name__ == "__main__":
    main()
