"""Training that survives interruption: after every finished epoch, train keeps a snapshot of the
model's weights, the optimizer's state and DVC Live's curves in models/backup/, and a train that
was killed (SIGKILL, a laptop that slept, a batch job past its time limit) resumes from the last
one when it is run again (`dvc exp run`, `dvc repro`). It ends with the same model bytes as a run
that never stopped, since every epoch's batches are drawn the same either way
(examples.training_data's first_epoch).

A snapshot is written to a temporary folder and renamed into place, so a kill leaves the last
whole one. The backup is kept only for the params, training data and code it was made with: a
fingerprint of them is its first file, and a backup of anything else is removed, not resumed.
train removes the backup once the model is saved. Keras' BackupAndRestore keeps the weights
alone; here the data streams must know the epoch before fit begins, and DVC Live's curves must go
back to that epoch with the weights, so the snapshot is written here.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import keras

BACKUP_DIR = Path("models/backup")
FINGERPRINT = BACKUP_DIR / "fingerprint"
WEIGHTS = "weights.weights.h5"  # the model's and the optimizer's variables
CURVES = "live"  # DVC Live's folder as it was after that epoch


def fingerprint(params: dict, *files: Path) -> str:
    """sha256 of the params and of each file's bytes: what a backup belongs to."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for path in files:
        with open(path, "rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()


def last_snapshot(made_for: str) -> tuple[int, Path | None]:
    """(epochs finished, their snapshot) of the backup made for `made_for`, or (0, None) when
    there is none; a backup made for other params, data or code is removed."""
    if not FINGERPRINT.is_file() or FINGERPRINT.read_text() != made_for:
        shutil.rmtree(BACKUP_DIR, ignore_errors=True)
        return 0, None
    snapshots = sorted(BACKUP_DIR.glob("epoch-*"))  # whole ones only: each was renamed in
    if not snapshots:
        return 0, None
    return int(snapshots[-1].name.removeprefix("epoch-")), snapshots[-1]


def restore_curves(snapshot: Path, live_dir: str | Path) -> None:
    """Put DVC Live's folder back as it was after the snapshot's epoch (DVC removed it before
    the stage ran), for DVC Live to resume from."""
    shutil.rmtree(live_dir, ignore_errors=True)
    shutil.copytree(snapshot / CURVES, live_dir)


def restore_weights(model: keras.Model, snapshot: Path) -> keras.callbacks.Callback:
    """Load the snapshot's weights and optimizer state as training begins. The optimizer's
    variables are made first, or Keras would pass over them (as BackupAndRestore does)."""

    def load(logs: dict) -> None:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(snapshot / WEIGHTS)

    return keras.callbacks.LambdaCallback(on_train_begin=load)


def keep_snapshots(
    model: keras.Model, live_dir: str | Path, made_for: str
) -> keras.callbacks.Callback:
    """Write a snapshot after every epoch, and drop the one before it. It must come after DVC
    Live's callback, so that the curves it copies hold the epoch."""
    BACKUP_DIR.mkdir(parents=True, exist_ok=True)
    if not FINGERPRINT.is_file():
        partial = BACKUP_DIR / f".fingerprint.tmp-{os.getpid()}"
        partial.write_text(made_for)
        partial.replace(FINGERPRINT)

    def snapshot(epoch: int, logs: dict) -> None:
        final = BACKUP_DIR / f"epoch-{epoch + 1:05d}"
        partial = BACKUP_DIR / f".{final.name}.tmp-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        model.save_weights(partial / WEIGHTS)
        shutil.copytree(live_dir, partial / CURVES)
        partial.rename(final)
        for older in BACKUP_DIR.glob("epoch-*"):
            if older != final:
                shutil.rmtree(older)

    return keras.callbacks.LambdaCallback(on_epoch_end=snapshot)


def remove_backup() -> None:
    """The model is saved: nothing is left to resume."""
    shutil.rmtree(BACKUP_DIR, ignore_errors=True)
