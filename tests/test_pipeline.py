"""End to end: the real `dvc` CLI runs the real pipeline on a tiny MNIST served over HTTP."""

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml

from stages.datasets import CLASS_NAMES
from stages.denoise import main as denoise_main
from stages.images import from_unit, to_unit
from stages.metrics import psnr_per_image
from stages.outputs import write_png
from stages.preprocess import split_by_name
from tests.conftest import make_pipeline_repo, metrics, repo_env, run, set_params

pytestmark = pytest.mark.slow  # through the real CLI: `pytest -m "not slow"` skips it

METRIC_KEYS = {
    "psnr",
    "psnr_std",
    "ssim",
    "ssim_std",
    "psnr_noisy",
    "psnr_noisy_std",
    "ssim_noisy",
    "psnr_median3",
    "ssim_median3",
    "test_images",
}


def test_repro_writes_every_metric_and_the_training_curves(repo):
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["test_images"] == 60
    assert scores["psnr_median3"] > scores["psnr_noisy"] > 10  # a median filter helps here
    assert 0 < scores["ssim_noisy"] < scores["ssim_median3"] < 1
    per_class = json.loads((repo / "metrics/eval/psnr_per_class.json").read_text())
    assert [row["class"] for row in per_class["psnr_per_class"]] == list("0123456789")
    loss = (repo / "metrics/train/plots/metrics/train/loss.tsv").read_text().splitlines()
    assert loss[0].split("\t") == ["step", "loss"] and len(loss) == 1 + 3  # header + 3 epochs
    assert (repo / "metrics/train/plots/metrics/eval/loss.tsv").exists()
    shown = run(repo, "dvc", "metrics", "show")
    for key in ("psnr", "ssim", "psnr_median3"):
        assert key in shown
    assert (repo / "models/model.keras").stat().st_size > 0


def test_second_repro_runs_nothing(repo):
    out = run(repo, "dvc", "repro")
    for stage in ("fetch", "preprocess", "train", "evaluate"):
        assert f"Stage '{stage}' didn't change, skipping" in out, out
    assert "Running stage" not in out
    assert "up to date" in run(repo, "dvc", "status")


def test_same_params_and_seed_give_the_same_data_and_metrics(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "train.compile=auto")  # the default: XLA
    assert "replica(s), float32, XLA" in out
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
    assert "Training loss" in html and "Test PSNR per class" in html
    assert "cdn" not in html and 'src="http' not in html  # vega is inlined: renders offline
    assert "vegaEmbed" in html
    assert "examples.png" in html
    assert any((repo / "plots_html/static").glob("*examples.png"))


def test_a_range_of_noise_levels_trains_one_model_scored_at_five_levels(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "noise_factor=[0.1,0.3]")
    assert "gaussian noise, noise_factor [0.1, 0.3]; also at 0.1, 0.15, 0.2, 0.25, 0.3" in out
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS | {"levels"}
    assert list(scores["levels"]) == ["0.1", "0.15", "0.2", "0.25", "0.3"]
    noisy = [row["psnr_noisy"] for row in scores["levels"].values()]
    assert noisy == sorted(noisy, reverse=True)  # more noise, lower PSNR
    denoised = [row["psnr"] for row in scores["levels"].values()]
    assert denoised[0] - denoised[-1] < noisy[0] - noisy[-1]  # it helps more as noise grows
    per_level = json.loads((repo / "metrics/eval/psnr_per_level.json").read_text())
    assert [row["level"] for row in per_level["psnr_per_level"]] == [
        0.1,
        0.15,
        0.2,
        0.25,
        0.3,
    ]
    shown = run(repo, "dvc", "exp", "show", "--csv")
    assert "levels.0.1.psnr" in shown.splitlines()[0]  # a column per level, to compare runs
    run(repo, "dvc", "plots", "show", "-o", "plots_html")
    assert "PSNR per noise level" in (repo / "plots_html/index.html").read_text()

    # A model for one level, scored at levels of one's choosing, to set beside the blind one
    run(repo, "dvc", "exp", "run", "-S", "noise_factor=0.2", "-S", "test_noise_factors=[0.1,0.3]")
    assert list(metrics(repo)["levels"]) == ["0.1", "0.3"]


def test_the_dncnn_trains_and_evaluates_through_exp_run(repo):
    settings = ["model=dncnn", "dncnn.epochs=1", "dncnn.batch_size=30"]
    settings += ["dncnn.depth=3", "dncnn.filters=4"]
    out = run(repo, "dvc", "exp", "run", *[arg for s in settings for arg in ("-S", s)])
    assert "dncnn model" in out and "Stage 'preprocess' didn't change, skipping" in out
    assert set(metrics(repo)) == METRIC_KEYS
    assert metrics(repo)["psnr"] > 5


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_the_unet_trains_through_exp_run_in_either_precision_and_the_train_line_says_which(
    repo, precision
):
    settings = ["model=unet", "unet.filters=4", "unet.epochs=1", f"train.precision={precision}"]
    settings.append("train.compile=auto")  # the default, which compiles with XLA in float32
    out = run(repo, "dvc", "exp", "run", *[arg for s in settings for arg in ("-S", s)])
    assert "Stage 'preprocess' didn't change, skipping" in out
    train_line = next(line for line in out.splitlines() if line.startswith("train: unet model"))
    assert f"replica(s), {precision}" in train_line
    assert ("XLA" in train_line) == (precision == "float32")
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["psnr"] > scores["psnr_noisy"]


@pytest.mark.parametrize(
    "noise, strength",
    [
        ("poisson", "poisson.photons=5"),
        ("salt_pepper", "salt_pepper.rate=[0.05,0.2]"),
        ("low_light", "low_light.brightness=0.2"),
    ],
)
def test_each_noise_model_runs_through_exp_run(repo, noise, strength):
    """The defaults of each noise model, and a range of one: one model for every rate in it."""
    baseline = metrics(repo)
    out = run(repo, "dvc", "exp", "run", "-S", f"noise={noise}", "-S", strength)
    assert "Stage 'fetch' didn't change, skipping" in out
    assert f"{noise} noise" in out and "Running stage 'train'" in out
    scores = metrics(repo)
    assert scores["psnr_noisy"] != baseline["psnr_noisy"]
    assert scores["psnr"] > 5
    if noise == "low_light":  # a dark input is far from the normally lit target
        assert scores["psnr_noisy"] < baseline["psnr_noisy"] - 3
    if "[" not in strength:
        assert set(scores) == METRIC_KEYS
        return
    assert set(scores) == METRIC_KEYS | {"levels"}
    assert "salt_pepper noise, rate [0.05, 0.2]; also at 0.05, 0.0875, 0.125, 0.1625, 0.2" in out
    assert list(scores["levels"]) == ["0.05", "0.0875", "0.125", "0.1625", "0.2"]
    noisy = [row["psnr_noisy"] for row in scores["levels"].values()]
    assert noisy == sorted(noisy, reverse=True)  # more salt and pepper, lower PSNR


def test_fresh_noise_retrains_from_the_same_processed_data(repo):
    baseline = metrics(repo)
    out = run(repo, "dvc", "exp", "run", "-S", "train.fresh_noise=true")
    assert "Stage 'preprocess' didn't change, skipping" in out and "Running stage 'train'" in out
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["psnr_noisy"] == baseline["psnr_noisy"]  # the same noisy test set
    assert scores["psnr"] != baseline["psnr"] and scores["psnr"] > 5  # another model


@pytest.mark.parametrize("target", ["noisy_pair", "blind_spot"])
def test_a_self_supervised_target_trains_without_clean_training_images(repo, target):
    out = run(repo, "dvc", "exp", "run", "-S", f"train.target={target}", check=False)
    assert (
        f"error: params.yaml: train.target {target} needs a convolutional model, which sees "
        "each pixel's neighbours; use model=unet or model=dncnn"
    ) in out  # the default model is dense
    assert "Traceback" not in out and "Running stage 'train'" not in out
    # small batches: more steps for a blind-spot model, which starts from no identity path
    settings = ["model=dncnn", "dncnn.batch_size=8", "dncnn.epochs=12", "dncnn.filters=16"]
    settings.append(f"train.target={target}")
    out = run(repo, "dvc", "exp", "run", *[arg for s in settings for arg in ("-S", s)])
    assert "Running stage 'preprocess'" in out and "Running stage 'evaluate'" in out
    with np.load(repo / "data/processed/train.npz") as train:
        assert "clean" not in train.files  # nothing clean for train to read
        assert ("noisy_pair" in train.files) == (target == "noisy_pair")
    scores = metrics(repo)
    assert set(scores) == METRIC_KEYS
    assert scores["psnr"] > scores["psnr_noisy"], scores  # scored against the clean test images


def test_bad_param_fails_with_one_line_and_writes_nothing(tmp_path, tiny_mnist, mirror_url):
    repo = make_pipeline_repo(tmp_path / "repo", tiny_mnist[1], mirror_url, noise_factor=-0.3)
    out = run(repo, "dvc", "repro", env=repo_env(MNIST_MIRROR=mirror_url), check=False)
    assert (
        "error: params.yaml: noise_factor must be a number in [0, 1], or a range [low, high] "
        "within it, got -0.3" in out
    )
    assert "Traceback" not in out
    assert not (repo / "data/raw").exists() and not (repo / "data/processed").exists()
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
    assert error.startswith("error: data/raw/t10k-labels-idx1-ubyte: no mirror gave the data")
    assert str(mirror) in error and "MNIST_MIRROR" in error
    assert not (repo / "data/raw").exists()
    assert sorted(p.name for p in (repo / "data").iterdir()) == ["fashion_mnist", "mnist"]


# Off the happy path: whatever `dvc exp run -S` accepts works, and nothing is recorded that did
# not happen.


def test_exp_run_takes_numbers_that_dvc_writes_in_exponent_form(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "noise_factor=0.00001")
    assert "noise_factor: 1e-05" in (repo / "params.yaml").read_text()  # as DVC wrote it
    assert "gaussian noise, noise_factor 1e-05" in out
    assert metrics(repo)["psnr_noisy"] > 60  # next to no noise


def test_an_unknown_key_stops_exp_run_with_one_line(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "+foo=1", check=False)
    assert "error: params.yaml: unknown key foo; known keys: dataset, model, " in out
    assert "ERROR: failed to reproduce 'params'" in out and "Traceback" not in out


def test_a_typo_in_another_models_section_loses_and_reruns_nothing(repo):
    model = (repo / "models/model.keras").read_bytes()
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("batch_norm: true", "batch_norm: ture"))
    out = run(repo, "dvc", "repro", check=False)
    assert "error: params.yaml: unet.batch_norm must be true or false, got 'ture'" in out
    assert "Running stage 'train'" not in out  # model: dense does not read the U-Net's section
    assert (repo / "models/model.keras").read_bytes() == model
    (repo / "params.yaml").write_text(params)
    out = run(repo, "dvc", "repro")
    assert "Running stage 'train'" not in out and "Running stage 'evaluate'" not in out


def test_outputs_a_typo_deleted_come_back_from_the_cache_once_it_is_fixed(repo):
    model = (repo / "models/model.keras").read_bytes()
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("activation: relu", "activation: rleu"))
    out = run(repo, "dvc", "repro", "train", check=False)  # DVC clears train's outputs first
    assert "dense.activation must be one of relu, elu, gelu, silu, tanh, got 'rleu'" in out
    assert not (repo / "models/model.keras").exists()
    (repo / "params.yaml").write_text(params)
    out = run(repo, "dvc", "repro")
    assert "Stage 'train' is cached - skipping run, checking out outputs" in out
    assert "epoch 1/" not in out  # restored, not retrained
    assert (repo / "models/model.keras").read_bytes() == model
    assert "up to date" in run(repo, "dvc", "status")


def test_a_run_whose_params_change_under_it_records_nothing(repo):
    """params.yaml rewritten while train runs (as another `dvc exp run -S` in this workspace
    does): the run must not save a model trained with other settings, nor record one.

    The rewrite is done here, once train has printed its first epoch, rather than by a second
    `dvc exp run`: two of those at once race inside DVC itself, whatever the stages do (the
    first one's clean-up deletes the shared EXEC_BASELINE ref under the second, which then
    fails with "'NoneType' object is not subscriptable", treeverse/dvc#9842)."""

    def train_record() -> dict:
        return yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["train"]

    before = train_record()
    model = (repo / "models/model.keras").read_bytes()
    first = subprocess.Popen(
        ["dvc", "exp", "run", "-S", "dense.epochs=2000"],
        cwd=repo,
        env=repo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = []
    for line in first.stdout:  # wait until it is training
        out.append(line)
        if line.startswith("epoch 1/2000"):
            break
    set_params(repo, dense={"epochs": 4})
    out += first.stdout.readlines()
    assert first.wait() != 0, "".join(out)
    assert "error: params.yaml changed while this stage was running" in "".join(out)
    assert "epoch 2000/2000" not in "".join(out)  # stopped at the end of the epoch it noticed
    assert train_record() == before  # still the 3 epochs that trained the model
    assert run(repo, "dvc", "exp", "list").strip() == ""  # no experiment recorded
    saved = repo / "models/model.keras"  # DVC removes a stage's outputs before it runs it
    assert not saved.exists() or saved.read_bytes() == model
    run(repo, "dvc", "checkout", "models/model.keras")
    assert saved.read_bytes() == model  # what dvc.lock records is the model it had


def test_a_unet_too_deep_for_the_images_stops_with_one_line(repo):
    out = run(repo, "dvc", "exp", "run", "-S", "model=unet", "-S", "unet.depth=6", check=False)
    assert "error: params.yaml: unet.depth 6 needs the images padded to a multiple of 64" in out
    assert "Traceback" not in out


# Other data sets: Fashion-MNIST from a local HTTP mirror, and a folder of the user's own images.


def test_fashion_mnist_is_fetched_checked_and_named_by_class(repo, tiny_mnist, mirror_url):
    # The tiny set stands in for Fashion-MNIST: its checksums are set with -S like any other key.
    sums = [f"fashion_mnist.{key}={value}" for key, value in tiny_mnist[1].items()]
    settings = ["dataset=fashion_mnist", *sums]
    out = run(
        repo,
        "dvc",
        "exp",
        "run",
        *[arg for s in settings for arg in ("-S", s)],
        env=repo_env(FASHION_MNIST_MIRROR=mirror_url),
    )
    assert "fetch: fashion_mnist: 4 files into data/raw/" in out
    assert out.count(f"sha256 ok, from {mirror_url}") == 4
    per_class = json.loads((repo / "metrics/eval/psnr_per_class.json").read_text())
    names = {row["class"] for row in per_class["psnr_per_class"]}
    assert names <= set(CLASS_NAMES["fashion_mnist"]) and len(names) > 5  # garments, not digits
    assert metrics(repo)["test_images"] == 60


def write_photo(path, height: int, width: int, channels: int, seed: int) -> None:
    """A smooth random picture (so that noise is something to remove), as PNG or JPEG."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 8 + 2, width // 8 + 2, channels))
    pixels = np.kron(small, np.ones((8, 8, 1)))[:height, :width]
    encode = tf.io.encode_png if path.suffix == ".png" else tf.io.encode_jpeg
    path.write_bytes(encode((pixels * 255).astype(np.uint8)).numpy())


def commit_images(repo: Path) -> None:
    """Track data/images with `dvc add` and commit it, as a user adds their photos."""
    run(repo, "dvc", "add", "data/images")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "my images")


def photos_repo(path: Path, tiny_mnist, mirror_url: str, **images) -> Path:
    """A pipeline repo set up for a tiny U-Net on `dataset: images`, with an empty data/images/."""
    repo = make_pipeline_repo(
        path,
        tiny_mnist[1],
        mirror_url,
        dataset="images",
        model="unet",
        unet={"filters": 4, "epochs": 2, "batch_size": 8},
        images={"crop_size": 32, "crops_per_image": 8, "test_fraction": 0.3, **images},
    )
    (repo / "data/images").mkdir()
    return repo


@pytest.fixture
def images_repo(tmp_path, tiny_mnist, mirror_url) -> Path:
    """A pipeline repo on a folder of mixed images (sizes, gray and colour, PNG and JPEG, one
    file that is no image), tracked with `dvc add data/images`."""
    repo = photos_repo(tmp_path / "repo", tiny_mnist, mirror_url)
    folder = repo / "data/images"
    shapes = [(64, 80, 3), (48, 48, 1), (90, 60, 3), (40, 100, 3), (72, 72, 1), (50, 64, 3)]
    for i, (height, width, channels) in enumerate(shapes):
        write_photo(folder / f"photo{i}.{'png' if i % 2 else 'jpg'}", height, width, channels, i)
    (folder / "notes.txt").write_text("not an image")
    commit_images(repo)
    return repo


def test_your_own_images_train_and_are_scored_whole_in_colour(images_repo):
    out = run(images_repo, "dvc", "repro")
    assert "fetch: skipped data/images/notes.txt: not an image file (.bmp, .gif, .jpeg" in out
    assert "fetch: 6 images from data/images/ into data/raw/, 1 skipped" in out
    assert "files of 3 channel(s), for new 32x32 crops every epoch" in out
    assert "whole images" in out
    scores = metrics(images_repo)
    assert scores["test_images"] == 2 and scores["psnr"] > scores["psnr_noisy"] > 10
    grid = tf.io.decode_png((images_repo / "metrics/eval/examples.png").read_bytes()).numpy()
    assert grid.shape[-1] == 3  # colour in, colour out
    per_class = json.loads((images_repo / "metrics/eval/psnr_per_class.json").read_text())
    assert per_class == {"psnr_per_class": []}  # no classes in a folder of photos

    # Crops and noise drawn anew every epoch, from the seed: the same model file again.
    lock = yaml.safe_load((images_repo / "dvc.lock").read_text())["stages"]["train"]["outs"]
    run(images_repo, "dvc", "repro", "--force", "--single-item", "train")
    assert yaml.safe_load((images_repo / "dvc.lock").read_text())["stages"]["train"]["outs"] == lock

    # One file changed: DVC sees the folder's new hash and re-runs what depends on it.
    write_photo(images_repo / "data/images/photo0.jpg", 64, 80, 3, seed=99)
    run(images_repo, "dvc", "add", "data/images")
    out = run(images_repo, "dvc", "repro")
    for stage in ("fetch", "preprocess", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out


def test_the_dense_model_is_refused_on_your_images_with_one_line(images_repo):
    out = run(images_repo, "dvc", "exp", "run", "-S", "model=dense", check=False)
    assert (
        "error: params.yaml: model dense knows only one image size, but dataset images is scored "
        "on whole images of any size; use model=unet or model=dncnn"
    ) in out
    assert "Traceback" not in out and "epoch 1/" not in out


def test_photos_that_are_noisy_already_train_on_blind_spots_and_score_no_psnr(
    tmp_path, tiny_mnist, mirror_url
):
    repo = photos_repo(tmp_path / "repo", tiny_mnist, mirror_url, noisy=True)
    folder = repo / "data/images"
    for i in range(6):  # noisy shots: no clean copy exists anywhere
        write_photo(folder / f"shot{i}.png", 64, 80, 3, i)
        clean = tf.io.decode_png((folder / f"shot{i}.png").read_bytes()).numpy() / 255
        noisy = clean + np.random.default_rng(i).normal(0, 0.1, clean.shape)
        write_png(folder / f"shot{i}.png", np.clip(noisy, 0, 1).astype(np.float32))
    commit_images(repo)
    out = run(repo, "dvc", "repro", check=False)
    assert (
        "error: params.yaml: images.noisy photos come with neither a clean copy nor a second "
        "shot to learn from (train.target clean); use train.target=blind_spot"
    ) in out
    assert "Traceback" not in out and not (repo / "data/processed").exists()

    out = run(repo, "dvc", "exp", "run", "-S", "train.target=blind_spot")
    assert "whole images, noisy already, with no clean copies (images.noisy)" in out
    assert "the test photos have no clean copies (images.noisy), so no PSNR or SSIM" in out
    with np.load(repo / "data/processed/test.npz") as test:
        assert not any(name.startswith("clean") for name in test.files)
        names = [str(name) for name in test["names"]]
    out = tmp_path / "out"  # and denoise runs the blind-spot model as any other
    shots = [str(folder / name) for name in names]
    model = str(repo / "models/model.keras")
    assert denoise_main([*shots, "-o", str(out), "--model", model]) == 0
    assert sorted(path.name for path in out.iterdir()) == sorted(names)
    scores = metrics(repo)
    assert set(scores) == {"clean_reference", "sigma_noisy", "sigma_denoised", "test_images"}
    assert scores["clean_reference"] is False and scores["test_images"] == 2
    assert 0.08 < scores["sigma_noisy"] < 0.12  # the noise the shots were written with
    assert 0 < scores["sigma_denoised"] < 1  # (too few steps here to learn: MNIST's test learns)
    grid = tf.io.decode_png((repo / "metrics/eval/examples.png").read_bytes()).numpy()
    assert grid.shape[0] == 2 * 64  # two rows: noisy, denoised
    columns = run(repo, "dvc", "metrics", "show").splitlines()[0].split()
    assert "sigma_noisy" in columns and not any(column.startswith("psnr") for column in columns)


WARM_HUES = [(0.8, 0.15, 0.15), (0.85, 0.5, 0.15), (0.8, 0.8, 0.15)]  # red, orange, yellow
SATURATED = {
    "red": (0.8, 0.15, 0.15),
    "green": (0.15, 0.8, 0.15),
    "blue": (0.15, 0.15, 0.8),
    "cyan": (0.15, 0.8, 0.8),
    "magenta": (0.8, 0.15, 0.8),
    "yellow": (0.8, 0.8, 0.15),
    "orange": (0.85, 0.5, 0.15),
}


def textured(colour, height: int, width: int, angle: float, period: float) -> np.ndarray:
    """A flat colour under a mild sinusoidal texture, as a surface in a photo looks."""
    rows, cols = np.mgrid[0:height, 0:width]
    texture = 1 + 0.15 * np.sin((rows * np.cos(angle) + cols * np.sin(angle)) / period)
    return np.clip(np.asarray(colour) * texture[..., np.newaxis], 0, 1)


def write_warm_or_gray_photo(path: Path, seed: int, warm: bool, side: int = 96) -> None:
    """Four textured surfaces, each of a warm hue or a gray (stored as three equal channels):
    a modest folder of photos, in which green, blue, cyan and magenta never appear."""
    rng = np.random.default_rng(seed)
    half = side // 2
    pixels = np.zeros((side, side, 3))
    for top, left in [(0, 0), (0, half), (half, 0), (half, half)]:
        colour = WARM_HUES[rng.integers(3)] if warm else [rng.uniform(0.15, 0.85)] * 3
        surface = textured(colour, half, half, rng.uniform(0, np.pi), rng.uniform(3, 12))
        pixels[top : top + half, left : left + half] = surface
    write_png(path, pixels)


def test_a_photo_model_keeps_saturated_colours_it_saw_only_in_other_hues(
    tmp_path, tiny_mnist, mirror_url
):
    """Trained on warm hues and (mostly) grays, the U-Net must not pull an unseen hue towards
    them: each saturated colour comes out of `denoise` with its mean within 0.01 per channel, and
    better than its noisy input. Without random channel orders (before images.channel_orders)
    this failed: docs/results.md, "Saturated colours"."""
    repo = make_pipeline_repo(
        tmp_path / "repo",
        tiny_mnist[1],
        mirror_url,
        dataset="images",
        model="unet",
        noise_factor=0.1,
        unet={"epochs": 20},
        train={"compile": "auto"},  # as a user's run trains it: XLA
        images={"crop_size": 32, "crops_per_image": 120, "test_fraction": 0.2},
    )
    (repo / "data/images").mkdir()
    files = [repo / f"data/images/photo{i}.png" for i in range(8)]
    training = split_by_name(files, 0.2)[0]  # as preprocess will split them
    for i, path in enumerate(files):  # a third of the training files warm, the rest gray
        warm = path not in training or training.index(path) % 3 == 0
        write_warm_or_gray_photo(path, seed=i, warm=warm)
    commit_images(repo)
    run(repo, "dvc", "exp", "run")

    rng = np.random.default_rng(0)
    clean, noisy = {}, tmp_path / "noisy"
    noisy.mkdir()
    for name, colour in SATURATED.items():  # in 8 bits, as files hold them
        clean[name] = to_unit(from_unit(textured(colour, 64, 64, np.pi / 2, 6), np.uint8))
        write_png(noisy / f"{name}.png", clean[name] + 0.1 * rng.standard_normal((64, 64, 3)))
    model = str(repo / "models/model.keras")
    assert denoise_main([str(noisy), "-o", str(tmp_path / "out"), "--model", model]) == 0

    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        return float(psnr_per_image(a[np.newaxis], b[np.newaxis])[0])

    def pixels(path: Path) -> np.ndarray:
        return to_unit(tf.io.decode_png(path.read_bytes()).numpy())

    for name in SATURATED:
        denoised, noisy_image = pixels(tmp_path / f"out/{name}.png"), pixels(noisy / f"{name}.png")
        shift = denoised.mean(axis=(0, 1)) - clean[name].mean(axis=(0, 1))
        assert np.all(np.abs(shift) <= 0.01), (name, shift.round(3))
        assert psnr(clean[name], denoised) > psnr(clean[name], noisy_image), name
