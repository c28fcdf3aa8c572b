"""stages/resume.py: a train killed mid-run resumes from its last finished epoch, through the
real `dvc` CLI, to the same model bytes and metrics as a run that never stopped."""

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from stages import resume
from tests.conftest import metrics, repo_env, run, set_params
from tests.test_pipeline import images_repo  # noqa: F401 (a fixture)

EPOCHS = 40  # tiny epochs: enough of them that the kill lands mid-run


def test_a_backup_made_for_other_params_is_removed_not_resumed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.npz").write_bytes(b"data")
    made_for = resume.fingerprint({"seed": 1}, tmp_path / "train.npz")
    assert made_for != resume.fingerprint({"seed": 2}, tmp_path / "train.npz")
    resume.BACKUP_DIR.mkdir(parents=True)
    resume.FINGERPRINT.write_text(made_for)
    (resume.BACKUP_DIR / "epoch-00003").mkdir()
    (resume.BACKUP_DIR / ".epoch-00004.tmp-123").mkdir()  # a snapshot cut short by a kill
    assert resume.last_snapshot(made_for) == (3, resume.BACKUP_DIR / "epoch-00003")
    assert resume.last_snapshot("another") == (0, None)
    assert not resume.BACKUP_DIR.exists()


def losses(repo: Path) -> list[list[str]]:
    """DVC Live's training curve: (step, loss) of each epoch."""
    with open(repo / "metrics/train/plots/metrics/train/loss.tsv") as file:
        return [[row["step"], row["loss"]] for row in csv.DictReader(file, delimiter="\t")]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["repo", "images_repo"])  # MNIST's dense model, photos' U-Net
def test_a_killed_exp_run_resumes_from_its_last_epoch_to_the_same_model(kind, request):
    repo = request.getfixturevalue(kind)
    model = "dense" if kind == "repo" else "unet"  # photos: new crops, noise and flips each epoch
    set_params(repo, **{model: {"epochs": EPOCHS}}, noise_factor=[0.05, 0.2])
    run(repo, "git", "commit", "-qam", f"{EPOCHS} epochs")
    log = open(repo / "killed.log", "w")  # noqa: SIM115
    killed = subprocess.Popen(
        ["dvc", "exp", "run"],
        cwd=repo,
        env=repo_env(),
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    while not list((repo / "models/backup").glob("epoch-0000[2-9]")):
        assert killed.poll() is None, (repo / "killed.log").read_text()
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)  # dvc and the train stage, mid-epoch
    killed.wait()

    out = run(repo, "dvc", "exp", "run")
    resumed_after = int(out.split("train: resuming after epoch ")[1].split()[0])
    assert 2 <= resumed_after < EPOCHS
    assert not (repo / "models/backup").exists()  # removed once the model was saved
    model, psnr, curve = (repo / "models/model.keras").read_bytes(), metrics(repo), losses(repo)
    assert [step for step, _ in curve] == [str(k) for k in range(EPOCHS)]

    forced = run(repo, "dvc", "repro", "--force", "--single-item", "train")  # never stopped
    assert "resuming" not in forced
    run(repo, "dvc", "repro")
    assert (repo / "models/model.keras").read_bytes() == model
    assert metrics(repo) == psnr
    assert losses(repo) == curve
