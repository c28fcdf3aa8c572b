"""End to end: the real `dvc` CLI runs the real pipeline on a tiny MNIST served over HTTP."""

import csv
import io
import json
import shutil

import pytest
import yaml

from tests.conftest import make_pipeline_repo, metrics, repo_env, run

METRIC_KEYS = {
    "psnr",
    "psnr_std",
    "ssim",
    "psnr_noisy",
    "psnr_noisy_std",
    "ssim_noisy",
    "psnr_median3",
    "ssim_median3",
    "psnr_per_class",
    "test_images",
}


def test_repro_writes_every_metric_and_the_training_curves(repo):
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["test_images"] == 60
    assert scores["psnr_median3"] > scores["psnr_noisy"] > 10  # a median filter helps here
    assert 0 < scores["ssim_noisy"] < scores["ssim_median3"] < 1
    assert set(scores["psnr_per_class"]) <= set("0123456789")
    loss = (repo / "metrics/train/plots/metrics/train/loss.tsv").read_text().splitlines()
    assert loss[0].split("\t") == ["step", "loss"] and len(loss) == 1 + 3  # header + 3 epochs
    assert (repo / "metrics/train/plots/metrics/eval/loss.tsv").exists()
    shown = run(repo, "dvc", "metrics", "show")
    for key in ("psnr", "ssim", "psnr_median3", "psnr_per_class.0"):
        assert key in shown
    assert (repo / "models/model.keras").stat().st_size > 0


def test_second_repro_runs_nothing(repo):
    out = run(repo, "dvc", "repro")
    for stage in ("fetch", "preprocess", "train", "evaluate"):
        assert f"Stage '{stage}' didn't change, skipping" in out, out
    assert "Running stage" not in out
    assert "up to date" in run(repo, "dvc", "status")


def test_same_params_and_seed_give_the_same_data_and_metrics(repo):
    before = metrics(repo)
    lock_before = yaml.safe_load((repo / "dvc.lock").read_text())
    run(repo, "dvc", "repro", "--force", "preprocess", "train", "evaluate", "--single-item")
    lock_after = yaml.safe_load((repo / "dvc.lock").read_text())
    assert metrics(repo) == before
    for stage in ("preprocess", "train"):  # same processed data, bit-identical model file
        assert lock_after["stages"][stage]["outs"] == lock_before["stages"][stage]["outs"]


def test_exp_run_with_new_noise_factor_reruns_only_downstream_stages(repo):
    baseline = metrics(repo)
    out = run(repo, "dvc", "exp", "run", "-S", "noise_factor=0.3")
    assert "Stage 'fetch' didn't change, skipping" in out
    for stage in ("preprocess", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out
    changed = metrics(repo)
    assert changed["psnr"] != baseline["psnr"]
    assert changed["psnr_noisy"] < baseline["psnr_noisy"]  # more noise, lower floor
    diff = json.loads(run(repo, "dvc", "metrics", "diff", "--json"))
    assert diff["metrics/psnr.json"]["psnr"]["old"] == baseline["psnr"]
    assert diff["metrics/psnr.json"]["psnr"]["new"] == changed["psnr"]
    table = list(csv.DictReader(io.StringIO(run(repo, "dvc", "exp", "show", "--csv"))))
    assert {row["noise_factor"] for row in table} == {"0.2", "0.3"}
    assert str(changed["psnr"]) in {row["psnr"] for row in table}


def test_plots_show_writes_html_with_the_curves_the_chart_and_the_example_grid(repo):
    png = (repo / "metrics/eval/examples.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    run(repo, "dvc", "plots", "show", "-o", "plots_html")
    html = (repo / "plots_html/index.html").read_text()
    assert "Training loss" in html and "Test PSNR per digit" in html
    assert "examples.png" in html
    assert any((repo / "plots_html/static").glob("*examples.png"))


@pytest.mark.parametrize("model", ["dncnn", "unet"])
def test_each_convolutional_model_trains_and_evaluates_through_exp_run(repo, model):
    small = {"dncnn": ["dncnn.depth=3", "dncnn.filters=4"], "unet": ["unet.filters=4"]}[model]
    settings = [f"model={model}", f"{model}.epochs=1", f"{model}.batch_size=30", *small]
    out = run(repo, "dvc", "exp", "run", *[arg for s in settings for arg in ("-S", s)])
    assert f"{model} model" in out and "Stage 'preprocess' didn't change, skipping" in out
    assert set(metrics(repo)) == METRIC_KEYS
    assert metrics(repo)["psnr"] > 5


@pytest.mark.parametrize("noise", ["poisson", "salt_pepper", "low_light"])
def test_each_noise_model_runs_through_exp_run(repo, noise):
    baseline = metrics(repo)
    out = run(repo, "dvc", "exp", "run", "-S", f"noise={noise}")
    assert "Stage 'fetch' didn't change, skipping" in out
    assert f"{noise} noise" in out and "Running stage 'train'" in out
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["psnr_noisy"] != baseline["psnr_noisy"]
    assert scores["psnr"] > 5
    if noise == "low_light":  # a dark input is far from the normally lit target
        assert scores["psnr_noisy"] < baseline["psnr_noisy"] - 3


def test_bad_param_fails_with_one_line_and_writes_nothing(tmp_path, tiny_mnist, mirror_url):
    repo = make_pipeline_repo(tmp_path / "repo", tiny_mnist[1], mirror_url, noise_factor=-0.3)
    out = run(repo, "dvc", "repro", env=repo_env(MNIST_MIRROR=mirror_url), check=False)
    assert "error: params.yaml: noise_factor must be a number >= 0, got -0.3" in out
    assert "Traceback" not in out
    assert not (repo / "data").exists() or not any((repo / "data").rglob("*"))
    assert not (repo / "metrics").exists()


def test_corrupt_download_fails_cleanly_and_leaves_no_raw_data(tmp_path, tiny_mnist):
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny_mnist[0], mirror)
    corrupt = mirror / "t10k-labels-idx1-ubyte.gz"
    corrupt.write_bytes(corrupt.read_bytes()[:-1] + b"x")
    repo = make_pipeline_repo(tmp_path / "repo", tiny_mnist[1], str(mirror))
    result = run(repo, "dvc", "repro", env=repo_env(MNIST_MIRROR=str(mirror)), check=False)
    assert "ERROR: failed to reproduce 'fetch'" in result
    error = next(line for line in result.splitlines() if line.startswith("error:"))
    assert "t10k-labels-idx1-ubyte.gz" in error and "sha256 mismatch" in error
    assert str(mirror) in error and "MNIST_MIRROR" in error
    assert not (repo / "data/raw").exists()
    assert list((repo / "data").iterdir()) == []  # no temporary folder left either
