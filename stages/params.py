"""Load params.yaml and check every key before a stage does any work.

A typo or an out-of-range value should cost the user one line of reading, not a traceback
twenty minutes into training. Every key the pipeline reads is listed in SCHEMA with what it
allows; anything missing, unknown or out of range stops the stage with one line naming it.
params.yaml is parsed as DVC parses it (ruamel.yaml, YAML 1.2), so every value that
`dvc exp run -S` writes, such as `1e-05`, means here what it means in dvc.lock.
"""

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from stages.datasets import BUILT_IN, DATASETS
from stages.idx import FILES

PARAMS_FILE = "params.yaml"

Rule = tuple[Callable[[Any], bool], str]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int_in(low: int, high: int) -> Rule:
    return (lambda v: _is_int(v) and low <= v <= high, f"an integer in [{low}, {high}]")


def _number_in(low: float, high: float, low_open: bool = False) -> Rule:
    def ok(v: Any) -> bool:
        return _is_number(v) and (v > low if low_open else v >= low) and v <= high

    return (ok, f"a number in {'(' if low_open else '['}{low}, {high}]")


def _one_of(*choices: str) -> Rule:
    return (lambda v: v in choices, "one of " + ", ".join(choices))


SHA256: Rule = (
    lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None,
    "a sha256 sum (64 hexadecimal digits)",
)


MODELS = ["dense", "dncnn", "unet"]
NOISE_MODELS = ["gaussian", "poisson", "salt_pepper", "low_light"]
MAX_PHOTONS = 1_000_000  # far past where shot noise matters, and well inside what numpy can draw
MAX_UNET_WIDTH = 1024  # filters at the U-Net's lowest level: 40M weights, ~0.6 GB with Adam's

SCHEMA: dict[str, Rule] = {
    "dataset": _one_of(*DATASETS),
    "model": _one_of(*MODELS),
    "noise": _one_of(*NOISE_MODELS),
    # A standard deviation above the whole intensity range [0, 1] leaves nothing to recover.
    "noise_factor": _number_in(0, 1),
    "poisson.photons": _number_in(0, MAX_PHOTONS, low_open=True),
    "salt_pepper.rate": _number_in(0, 1),
    "low_light.brightness": _number_in(0, 1, low_open=True),
    "low_light.photons": _number_in(0, MAX_PHOTONS, low_open=True),
    "low_light.read_noise": _number_in(0, 1),
    "seed": (lambda v: _is_int(v) and 0 <= v < 2**32, "an integer in [0, 2**32)"),
    "dense.hidden_units": (
        lambda v: (
            isinstance(v, list)
            and 0 < len(v) <= 16
            and all(_is_int(u) and 1 <= u <= 65536 for u in v)
        ),
        "a list of 1 to 16 integers in [1, 65536]",
    ),
    "dense.activation": _one_of("relu", "elu", "gelu", "silu", "tanh"),
    "dense.output_activation": _one_of("sigmoid"),
    "dncnn.depth": _int_in(3, 64),
    "dncnn.filters": _int_in(1, 512),
    "unet.depth": _int_in(1, 8),
    "unet.filters": _int_in(1, 512),
    "unet.batch_norm": (lambda v: isinstance(v, bool), "true or false"),
    **{  # each model's own training budget
        f"{model}.{key}": rule
        for model in MODELS
        for key, rule in [
            ("epochs", _int_in(1, 10_000)),
            ("batch_size", _int_in(1, 4096)),
            ("learning_rate", _number_in(0, 1, low_open=True)),
        ]
    },
    "train.optimizer": _one_of("adam"),
    "train.lr_schedule": _one_of("constant", "cosine"),
    "train.loss": _one_of("mse", "mae"),
    "train.validation_fraction": _number_in(0, 0.5, low_open=True),
    "train.distribute": _one_of("default", "mirrored"),  # not multi_worker: see train.py
    "train.precision": _one_of("float32", "mixed_bfloat16"),
    "train.compile": _one_of("auto", "xla", "none"),
    "images.test_fraction": _number_in(0, 0.5, low_open=True),
    "images.crop_size": _int_in(16, 1024),  # SSIM needs 11x11 at least
    "images.crops_per_image": _int_in(1, 10_000),
    "images.grayscale": (lambda v: isinstance(v, bool), "true or false"),
    "images.flips": (lambda v: isinstance(v, bool), "true or false"),
    "images.channel_orders": (lambda v: isinstance(v, bool), "true or false"),
    **{f"{dataset}.{key}": SHA256 for dataset in BUILT_IN for key in FILES},
}


def _flatten(params: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}, stopping at keys that SCHEMA checks as a whole."""
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in SCHEMA:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def check_params(params: Any) -> None:
    """Raise ValueError with one line naming the first bad key, its value and what is allowed."""
    if not isinstance(params, dict):
        raise ValueError(f"expected a mapping of keys to values, got {params!r}")
    flat = _flatten(params)
    for key in flat:
        if key not in SCHEMA:
            raise ValueError(f"unknown key {key}; known keys: {', '.join(SCHEMA)}")
    for key, (ok, allowed) in SCHEMA.items():
        if key not in flat:
            raise ValueError(f"{key} is missing; it must be {allowed}")
        if not ok(flat[key]):
            raise ValueError(f"{key} must be {allowed}, got {flat[key]!r}")
    depth, filters = flat["unet.depth"], flat["unet.filters"]
    if filters * 2**depth > MAX_UNET_WIDTH:
        raise ValueError(
            f"unet.filters * 2**unet.depth (the filters of the U-Net's lowest level) must be "
            f"<= {MAX_UNET_WIDTH}, got {filters} * 2**{depth} = {filters * 2**depth}"
        )


def read_params(path: str | Path = PARAMS_FILE) -> Any:
    """params.yaml as DVC reads it: YAML 1.2, through the same parser and settings."""
    return YAML(typ="safe").load(Path(path).read_text())


def load_params(path: str | Path = PARAMS_FILE) -> dict:
    """Read and check params.yaml; on any problem exit with one line naming the file and key."""
    try:
        params = read_params(path)
        check_params(params)
    except (OSError, YAMLError, ValueError) as e:
        message = " ".join(str(e).split())
        raise SystemExit(f"error: {path}: {message}") from None
    return params


if __name__ == "__main__":
    # The `params` stage: DVC runs it whenever any key of params.yaml changes, so an unknown or
    # mistyped key stops `dvc repro` / `dvc exp run` even where no other stage reads that key.
    checked = load_params()
    print(f"params: {PARAMS_FILE}: all {len(_flatten(checked))} settings are valid", flush=True)
