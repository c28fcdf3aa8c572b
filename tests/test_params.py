import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stages.noise import STRENGTH
from stages.params import check_params, load_params
from stages.runner import StageError
from tests.conftest import PROJECT, committed_params

DEFAULTS = committed_params()


def with_change(key: str, value) -> dict:
    """The project's params with one dotted key set (or deleted, for value=...)."""
    params = copy.deepcopy(DEFAULTS)
    *parents, leaf = key.split(".")
    section = params
    for parent in parents:
        section = section[parent]
    if value is ...:
        del section[leaf]
    else:
        section[leaf] = value
    return params


def test_the_project_params_are_valid_and_hold_the_seed_recipe():
    check_params(DEFAULTS)
    assert DEFAULTS["noise_factor"] == 0.2
    assert DEFAULTS["model"] == "dense"
    assert DEFAULTS["dense"] == {
        "hidden_units": [500, 300, 100],
        "activation": "relu",
        "output_activation": "sigmoid",
        "epochs": 60,
        "batch_size": 200,
        "learning_rate": 0.001,
    }
    assert (DEFAULTS["train"]["optimizer"], DEFAULTS["train"]["loss"]) == ("adam", "mse")


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            "noise_factor",
            -0.3,
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, got -0.3",
        ),
        (
            "noise_factor",
            "high",
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, got 'high'",
        ),
        (
            "noise_factor",
            1.0e308,
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, got 1e+308",
        ),
        (
            "noise_factor",
            float("nan"),
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, got nan",
        ),
        (
            "noise_factor",
            [0.1],
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, got [0.1]",
        ),
        (
            "noise_factor",
            [0.1, 1.5],
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, "
            "got [0.1, 1.5]",
        ),
        (
            "noise_factor",
            "0.02-0.2",
            "noise_factor must be a number in [0, 1], or a range [low, high] within it, "
            "got '0.02-0.2'",
        ),
        (
            "noise_factor",
            [0.3, 0.1],
            "noise_factor [0.3, 0.1] must be a range [low, high], low < high",
        ),
        (
            "test_noise_factors",
            [0.1, 0],
            "test_noise_factors must be a list of up to 8 numbers in (0, 1], got [0.1, 0]",
        ),
        (
            "test_noise_factors",
            0.1,
            "test_noise_factors must be a list of up to 8 numbers in (0, 1], got 0.1",
        ),
        ("seed", 1.5, "seed must be an integer in [0, 2**32), got 1.5"),
        ("seed", True, "seed must be an integer in [0, 2**32), got True"),
        ("model", "cnn", "model must be one of dense, dncnn, unet, got 'cnn'"),
        (
            "noise",
            "speckle",
            "noise must be one of gaussian, poisson, salt_pepper, low_light, got 'speckle'",
        ),
        (
            "poisson.photons",
            0,
            "poisson.photons must be a number in (0, 1000000], or a range [low, high] within it, "
            "got 0",
        ),
        (
            "poisson.photons",
            float("inf"),
            "poisson.photons must be a number in (0, 1000000], or a range [low, high] within it, "
            "got inf",
        ),
        (
            "salt_pepper.rate",
            1.5,
            "salt_pepper.rate must be a number in [0, 1], or a range [low, high] within it, "
            "got 1.5",
        ),
        (
            "low_light.brightness",
            0,
            "low_light.brightness must be a number in (0, 1], or a range [low, high] within it, "
            "got 0",
        ),
        ("low_light.photons", -5, "low_light.photons must be a number in (0, 1000000], got -5"),
        (
            "low_light.read_noise",
            "none",
            "low_light.read_noise must be a number in [0, 1], got 'none'",
        ),
        ("dense.epochs", 0, "dense.epochs must be an integer in [1, 10000], got 0"),
        ("unet.learning_rate", 0, "unet.learning_rate must be a number in (0, 1], got 0"),
        ("dense.learning_rate", 1.5, "dense.learning_rate must be a number in (0, 1], got 1.5"),
        ("dncnn.depth", 2, "dncnn.depth must be an integer in [3, 64], got 2"),
        ("unet.depth", 10, "unet.depth must be an integer in [1, 8], got 10"),
        (
            "unet.filters",
            512,
            "unet.filters * 2**unet.depth (the filters of the U-Net's lowest level) must be "
            "<= 1024, got 512 * 2**2 = 2048",
        ),
        ("unet.batch_norm", "yes", "unet.batch_norm must be true or false, got 'yes'"),
        (
            "train.validation_fraction",
            0.9,
            "train.validation_fraction must be a number in (0, 0.5], got 0.9",
        ),
        (
            "train.distribute",
            "multi_worker",  # Keras 3's fit cannot train under MultiWorkerMirroredStrategy
            "train.distribute must be one of default, mirrored, got 'multi_worker'",
        ),
        (
            "train.lr_schedule",
            "step",
            "train.lr_schedule must be one of constant, cosine, got 'step'",
        ),
        (
            "dense.hidden_units",
            [500, 0],
            "dense.hidden_units must be a list of 1 to 16 integers in [1, 65536]",
        ),
        ("mnist.train_images", "00", "mnist.train_images must be a sha256 sum (64 hexadecimal"),
        ("dataset", "cifar", "dataset must be one of mnist, fashion_mnist, images, got 'cifar'"),
        ("images.crop_size", 8, "images.crop_size must be an integer in [16, 1024], got 8"),
        ("images.channel_orders", "yes", "images.channel_orders must be true or false, got 'yes'"),
        (
            "train.target",
            "noise2void",
            "train.target must be one of clean, noisy_pair, blind_spot, got 'noise2void'",
        ),
        (
            "blind_spot.masked_fraction",
            0.5,
            "blind_spot.masked_fraction must be a number in [0.004, 0.25], got 0.5",
        ),
        ("blind_spot.neighbourhood", 4, "blind_spot.neighbourhood must be an odd integer in"),
        ("blind_spot.neighbourhood", True, "blind_spot.neighbourhood must be an odd integer in"),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_params(with_change(key, value))


def test_a_range_of_noise_levels_is_taken_and_extra_levels_need_gaussian_noise():
    check_params(with_change("noise_factor", [0.02, 0.3]))
    check_params(with_change("poisson.photons", [2, 50]))
    check_params(with_change("salt_pepper.rate", [0.05, 0.2]))
    check_params(with_change("low_light.brightness", [0.1, 0.5]))
    for key, value, message in [
        ("poisson.photons", [50, 2], "poisson.photons [50, 2] must be a range [low, high]"),
        ("salt_pepper.rate", [0.2, 0.2], "salt_pepper.rate [0.2, 0.2] must be a range"),
        ("low_light.brightness", [0, 0.5], "low_light.brightness must be a number in (0, 1]"),
        ("low_light.read_noise", [0.01, 0.02], "low_light.read_noise must be a number in"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            check_params(with_change(key, value))
    check_params(with_change("test_noise_factors", [0.05, 0.1, 0.2]))
    params = with_change("test_noise_factors", [0.1])
    params["noise"] = "poisson"
    with pytest.raises(ValueError) as failure:
        check_params(params)
    assert str(failure.value) == (
        "test_noise_factors are Gaussian noise levels, but noise is poisson; leave them [] "
        "(or use noise=gaussian)"
    )


@pytest.mark.parametrize("target", ["noisy_pair", "blind_spot"])
def test_a_self_supervised_target_needs_a_convolutional_model_and_no_clean_images(target):
    params = with_change("train.target", target)
    for model in ("dncnn", "unet"):
        check_params({**params, "model": model})
    with pytest.raises(ValueError) as failure:
        check_params(params)  # the default model: dense
    assert str(failure.value) == (
        f"train.target {target} needs a convolutional model, which sees each pixel's "
        "neighbours; use model=unet or model=dncnn"
    )
    params = {**params, "model": "unet"}
    params["train"]["fresh_noise"] = True
    with pytest.raises(ValueError, match=re.escape("set train.fresh_noise=false")):
        check_params(params)
    params["train"]["fresh_noise"] = False
    check_params({**params, "noise": "poisson"})  # shot noise averages to the image
    check_params({**params, "noise": "low_light"})  # its targets brightened by its brightness
    ranged = {**params, "noise": "low_light", "low_light": {**params["low_light"]}}
    ranged["low_light"]["brightness"] = [0.1, 0.5]
    with pytest.raises(ValueError) as failure:
        check_params(ranged)
    assert str(failure.value) == (
        f"train.target {target} brightens low_light's noisy targets by the one "
        "low_light.brightness that darkened them (stages/targets.py), got a range [0.1, 0.5]; "
        "give one value, or use train.target=clean"
    )
    with pytest.raises(ValueError, match=re.escape("salt_pepper noise needs train.loss=mae")):
        check_params({**params, "noise": "salt_pepper"})
    params["train"]["loss"] = "mae"
    check_params({**params, "noise": "salt_pepper"})  # its median is the image


def test_photos_that_are_noisy_already_can_only_learn_from_blind_spots():
    params = {**with_change("images.noisy", True), "model": "unet"}
    check_params(params)  # ignored for the built-in sets
    params["dataset"] = "images"
    for target in ("clean", "noisy_pair"):
        params["train"]["target"] = target
        with pytest.raises(ValueError) as failure:
            check_params(params)
        assert str(failure.value) == (
            "images.noisy photos come with neither a clean copy nor a second shot to learn "
            f"from (train.target {target}); use train.target=blind_spot"
        )
    params["train"]["target"] = "blind_spot"
    check_params(params)
    with pytest.raises(ValueError, match=re.escape("images.noisy says are noisy already")):
        check_params({**params, "test_noise_factors": [0.1]})


def test_every_strength_that_noise_draws_from_a_range_is_checked_as_a_range():
    """params.py lists the range keys itself (importing noise.py would make fetch depend on it):
    each key of noise.py's STRENGTH must be among them."""
    for path in STRENGTH.values():
        key = ".".join(path)
        with pytest.raises(ValueError, match=re.escape(f"{key} [0.5, 0.2] must be a range")):
            check_params(with_change(key, [0.5, 0.2]))


def test_a_missing_key_is_named():
    message = "unet.batch_size is missing; it must be an integer in [1, 4096]"
    with pytest.raises(ValueError, match=re.escape(message)):
        check_params(with_change("unet.batch_size", ...))


def test_an_unknown_key_is_named():
    with pytest.raises(ValueError, match="unknown key dense.epoch;"):
        check_params(with_change("dense.epoch", 3))


def test_load_params_exits_with_one_line_naming_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(with_change("noise_factor", -1)))
    with pytest.raises(
        StageError,
        match=rf"^{path}: noise_factor must be a number in \[0, 1\], or a range \[low, high\] "
        r"within it, got -1$",
    ):
        load_params(path)
    with pytest.raises(StageError, match="No such file"):
        load_params(tmp_path / "missing.yaml")


def test_a_stage_with_bad_params_prints_one_line_and_exits_non_zero(tmp_path):
    Path(tmp_path / "params.yaml").write_text(yaml.safe_dump(with_change("dense.epochs", "ten")))
    result = subprocess.run(
        [sys.executable, "-m", "stages.preprocess"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PROJECT)},
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: params.yaml: dense.epochs must be an integer in [1, 10000], got 'ten'\n"
    )
    assert not (tmp_path / "data").exists()


def test_values_are_read_as_dvc_writes_and_reads_them(tmp_path):
    # `dvc exp run -S dense.learning_rate=0.00001` writes 1e-05, a number in YAML 1.2 (which DVC
    # speaks) and a string in YAML 1.1; likewise `yes` is a string to DVC, not true.
    text = yaml.safe_dump(with_change("dense.learning_rate", "LR"), sort_keys=False)
    (tmp_path / "params.yaml").write_text(text.replace("learning_rate: LR", "learning_rate: 1e-05"))
    assert load_params(tmp_path / "params.yaml")["dense"]["learning_rate"] == 1e-05
    text = yaml.safe_dump(with_change("unet.batch_norm", "BN"), sort_keys=False)
    (tmp_path / "params.yaml").write_text(text.replace("batch_norm: BN", "batch_norm: yes"))
    with pytest.raises(StageError, match="unet.batch_norm must be true or false, got 'yes'"):
        load_params(tmp_path / "params.yaml")


def test_a_file_that_is_not_yaml_is_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 1\nseed: 2\n")
    with pytest.raises(StageError) as failure:
        load_params(tmp_path / "params.yaml")
    assert str(failure.value).startswith(f"{tmp_path / 'params.yaml'}: ")
    assert "duplicate key" in str(failure.value) and "\n" not in str(failure.value)
