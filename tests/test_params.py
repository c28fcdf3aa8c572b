import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stages.params import check_params, load_params
from tests.conftest import PROJECT

DEFAULTS = yaml.safe_load((PROJECT / "params.yaml").read_text())


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
        ("noise_factor", -0.3, "noise_factor must be a number >= 0, got -0.3"),
        ("noise_factor", "high", "noise_factor must be a number >= 0, got 'high'"),
        ("seed", 1.5, "seed must be an integer in [0, 2**32), got 1.5"),
        ("seed", True, "seed must be an integer in [0, 2**32), got True"),
        ("model", "cnn", "model must be one of dense, dncnn, unet, got 'cnn'"),
        (
            "noise",
            "speckle",
            "noise must be one of gaussian, poisson, salt_pepper, low_light, got 'speckle'",
        ),
        ("poisson.photons", 0, "poisson.photons must be a number in (0, 1000000], got 0"),
        (
            "poisson.photons",
            float("inf"),
            "poisson.photons must be a number in (0, 1000000], got inf",
        ),
        ("salt_pepper.rate", 1.5, "salt_pepper.rate must be a number in [0, 1], got 1.5"),
        (
            "low_light.brightness",
            0,
            "low_light.brightness must be a number in (0, 1], got 0",
        ),
        ("low_light.photons", -5, "low_light.photons must be a number in (0, 1000000], got -5"),
        ("low_light.read_noise", "none", "low_light.read_noise must be a number >= 0, got 'none'"),
        ("dense.epochs", 0, "dense.epochs must be an integer >= 1, got 0"),
        ("unet.learning_rate", 0, "unet.learning_rate must be a number > 0, got 0"),
        ("dncnn.depth", 2, "dncnn.depth must be an integer >= 3, got 2"),
        ("unet.batch_norm", "yes", "unet.batch_norm must be true or false, got 'yes'"),
        (
            "train.validation_fraction",
            0.9,
            "train.validation_fraction must be a number in (0, 0.5], got 0.9",
        ),
        (
            "train.lr_schedule",
            "step",
            "train.lr_schedule must be one of constant, cosine, got 'step'",
        ),
        (
            "dense.hidden_units",
            [500, 0],
            "dense.hidden_units must be a non-empty list of integers >= 1",
        ),
        (
            "mnist.sha256",
            {"a.gz": "00"},
            "mnist.sha256 must be a mapping of train-images-idx3-ubyte.gz",
        ),
    ],
)
def test_a_bad_value_is_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_params(with_change(key, value))


def test_a_missing_key_is_named():
    with pytest.raises(ValueError, match="unet.batch_size is missing; it must be an integer >= 1"):
        check_params(with_change("unet.batch_size", ...))


def test_an_unknown_key_is_named():
    with pytest.raises(ValueError, match="unknown key dense.epoch;"):
        check_params(with_change("dense.epoch", 3))


def test_load_params_exits_with_one_line_naming_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(with_change("noise_factor", -1)))
    with pytest.raises(
        SystemExit, match=rf"^error: {path}: noise_factor must be a number >= 0, got -1$"
    ):
        load_params(path)
    with pytest.raises(SystemExit, match="No such file"):
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
    assert result.stderr == "error: params.yaml: dense.epochs must be an integer >= 1, got 'ten'\n"
    assert not (tmp_path / "data").exists()
