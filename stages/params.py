"""Load params.yaml and check every key before a stage does any work.

A typo or an out-of-range value should cost the user one line of reading, not a traceback
twenty minutes into training. Every key the pipeline reads is listed in SCHEMA with what it
allows; anything missing, unknown or out of range stops the stage with one line naming it.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from stages.mnist import FILES

PARAMS_FILE = "params.yaml"
MNIST_FILES = [name for split in FILES.values() for name in split]

Rule = tuple[Callable[[Any], bool], str]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_at_least(low: int) -> Rule:
    return (lambda v: _is_int(v) and v >= low, f"an integer >= {low}")


def _number_in(low: float, high: float | None = None, low_open: bool = False) -> Rule:
    def ok(v: Any) -> bool:
        return _is_number(v) and (v > low if low_open else v >= low) and (high is None or v <= high)

    bracket = "(" if low_open else "["
    allowed = (
        f"a number in {bracket}{low}, {high}]"
        if high is not None
        else (f"a number {'>' if low_open else '>='} {low}")
    )
    return (ok, allowed)


def _one_of(*choices: str) -> Rule:
    return (lambda v: v in choices, "one of " + ", ".join(choices))


def _sha256_per_file(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and sorted(value) == sorted(MNIST_FILES)
        and all(isinstance(h, str) and re.fullmatch(r"[0-9a-f]{64}", h) for h in value.values())
    )


MODELS = ["dense", "dncnn", "unet"]
NOISE_MODELS = ["gaussian", "poisson", "salt_pepper", "low_light"]
MAX_PHOTONS = 1_000_000  # far past where shot noise matters, and well inside what numpy can draw

SCHEMA: dict[str, Rule] = {
    "seed": (lambda v: _is_int(v) and 0 <= v < 2**32, "an integer in [0, 2**32)"),
    "noise": _one_of(*NOISE_MODELS),
    "noise_factor": _number_in(0),
    "poisson.photons": _number_in(0, MAX_PHOTONS, low_open=True),
    "salt_pepper.rate": _number_in(0, 1),
    "low_light.brightness": _number_in(0, 1, low_open=True),
    "low_light.photons": _number_in(0, MAX_PHOTONS, low_open=True),
    "low_light.read_noise": _number_in(0),
    "model": _one_of(*MODELS),
    "mnist.sha256": (
        _sha256_per_file,
        "a mapping of " + ", ".join(MNIST_FILES) + " to 64-hex-digit sha256 sums",
    ),
    "dense.hidden_units": (
        lambda v: isinstance(v, list) and len(v) > 0 and all(_is_int(u) and u >= 1 for u in v),
        "a non-empty list of integers >= 1",
    ),
    "dense.activation": _one_of("relu", "elu", "gelu", "silu", "tanh"),
    "dense.output_activation": _one_of("sigmoid"),
    "dncnn.depth": _int_at_least(3),
    "dncnn.filters": _int_at_least(1),
    "unet.depth": _int_at_least(1),
    "unet.filters": _int_at_least(1),
    "unet.batch_norm": (lambda v: isinstance(v, bool), "true or false"),
    **{  # each model's own training budget
        f"{model}.{key}": rule
        for model in MODELS
        for key, rule in [
            ("epochs", _int_at_least(1)),
            ("batch_size", _int_at_least(1)),
            ("learning_rate", _number_in(0, low_open=True)),
        ]
    },
    "train.optimizer": _one_of("adam"),
    "train.lr_schedule": _one_of("constant", "cosine"),
    "train.loss": _one_of("mse", "mae"),
    "train.validation_fraction": _number_in(0, 0.5, low_open=True),
    "train.distribute": _one_of("default", "mirrored", "multi_worker"),
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


def load_params(path: str | Path = PARAMS_FILE) -> dict:
    """Read and check params.yaml; on any problem exit with one line naming the file and key."""
    try:
        params = yaml.safe_load(Path(path).read_text())
        check_params(params)
    except (OSError, yaml.YAMLError, ValueError) as e:
        message = str(e).replace("\n", " ")
        raise SystemExit(f"error: {path}: {message}") from None
    return params
