"""Load params.yaml and check every key before a stage does any work.

A typo or an out-of-range value should cost the user one line of reading, not a traceback
twenty minutes into training. Params below declares every key the pipeline reads with what it
allows (pydantic checks them, strictly: no string is taken for a number, no 1 for true, no key
it does not know); anything missing, unknown or out of range stops the stage with one line
naming it. params.yaml is parsed as DVC parses it (ruamel.yaml, YAML 1.2), so every value that
`dvc exp run -S` writes, such as `1e-05`, means here what it means in dvc.lock.
"""

import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML, YAMLError

from stages.datasets import DATASETS
from stages.runner import StageError, run_stage

PARAMS_FILE = "params.yaml"
MODELS = ["dense", "dncnn", "unet"]
NOISE_MODELS = ["gaussian", "poisson", "salt_pepper", "low_light"]
MAX_PHOTONS = 1_000_000  # far past where shot noise matters, and well inside what numpy can draw
MAX_UNET_WIDTH = 1024  # filters at the U-Net's lowest level; above it the weights, with Adam's
# two moments, outgrow the memory of a small machine


def integer(low: int, high: int) -> Any:
    return Annotated[
        int, Field(strict=True, ge=low, le=high, description=f"an integer in [{low}, {high}]")
    ]


def number(low: float, high: float, low_open: bool = False) -> Any:
    bound = {"gt": low} if low_open else {"ge": low}
    allowed = f"a number in {'(' if low_open else '['}{low}, {high}]"
    return Annotated[
        float, Field(strict=True, allow_inf_nan=False, le=high, description=allowed, **bound)
    ]


def one_of(*choices: str) -> Any:
    return Annotated[Literal[choices], Field(description="one of " + ", ".join(choices))]


def number_or_range(low: float, high: float, low_open: bool = False) -> Any:
    """A noise model's strength: one value, or a range [low, high] that each example draws from
    (stages/noise.py's STRENGTH)."""
    bound = {"gt": low} if low_open else {"ge": low}
    value = Annotated[float, Field(strict=True, allow_inf_nan=False, le=high, **bound)]
    allowed = (
        f"a number in {'(' if low_open else '['}{low}, {high}], or a range [low, high] within it"
    )
    return Annotated[
        value | Annotated[list[value], Field(min_length=2, max_length=2)],
        Field(union_mode="left_to_right", description=allowed),
    ]


Switch = Annotated[bool, Field(strict=True, description="true or false")]
Sha256 = Annotated[
    str,
    Field(
        strict=True, pattern="^[0-9a-f]{64}$", description="a sha256 sum (64 hexadecimal digits)"
    ),
]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Recipe(Section):  # each model's own training budget
    epochs: integer(1, 10_000)
    batch_size: integer(1, 4096)
    learning_rate: number(0, 1, low_open=True)


class Dense(Recipe):
    hidden_units: Annotated[
        list[Annotated[int, Field(strict=True, ge=1, le=65536)]],
        Field(min_length=1, max_length=16, description="a list of 1 to 16 integers in [1, 65536]"),
    ]
    activation: one_of("relu", "elu", "gelu", "silu", "tanh")
    output_activation: one_of("sigmoid")


class Dncnn(Recipe):
    depth: integer(3, 64)
    filters: integer(1, 512)


class Unet(Recipe):
    depth: integer(1, 8)
    filters: integer(1, 512)
    batch_norm: Switch

    @model_validator(mode="after")
    def lowest_level_fits(self) -> "Unet":
        width = self.filters * 2**self.depth
        if width > MAX_UNET_WIDTH:
            raise ValueError(
                f"unet.filters * 2**unet.depth (the filters of the U-Net's lowest level) must be "
                f"<= {MAX_UNET_WIDTH}, got {self.filters} * 2**{self.depth} = {width}"
            )
        return self


class Train(Section):
    optimizer: one_of("adam")
    lr_schedule: one_of("constant", "cosine")
    loss: one_of("mse", "mae")
    validation_fraction: number(0, 0.5, low_open=True)
    distribute: one_of("default", "mirrored")  # not multi_worker: see train.py
    precision: one_of("float32", "mixed_bfloat16")
    compile: one_of("auto", "xla", "none")
    fresh_noise: Switch
    target: one_of("clean", "noisy_pair", "blind_spot")
    raw_targets: Switch


class BlindSpot(Section):
    masked_fraction: number(0.004, 0.25)  # a grid box of 16x16 to 2x2 pixels
    neighbourhood: Annotated[
        Literal[3, 5, 7, 9, 11, 13, 15],  # odd: a square centred on the pixel, inside a crop
        Field(description="an odd integer in [3, 15]"),
    ]


class Images(Section):
    test_fraction: number(0, 0.5, low_open=True)
    crop_size: integer(16, 1024)  # SSIM needs 11x11 at least
    crops_per_image: integer(1, 10_000)
    grayscale: Switch
    flips: Switch
    channel_orders: Switch
    noisy: Switch


class Checksums(Section):  # of a built-in set's four files (stages/idx.py names them)
    train_images: Sha256
    train_labels: Sha256
    test_images: Sha256
    test_labels: Sha256


class Poisson(Section):
    photons: number_or_range(0, MAX_PHOTONS, low_open=True)


class SaltPepper(Section):
    rate: number_or_range(0, 1)


class LowLight(Section):
    brightness: number_or_range(0, 1, low_open=True)
    photons: number(0, MAX_PHOTONS, low_open=True)
    read_noise: number(0, 1)


class Params(Section):
    """Every key of params.yaml."""

    dataset: one_of(*DATASETS)
    model: one_of(*MODELS)
    noise: one_of(*NOISE_MODELS)
    # A standard deviation above the whole intensity range [0, 1] leaves nothing to recover.
    noise_factor: number_or_range(0, 1)
    test_noise_factors: Annotated[
        list[Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1)]],
        Field(max_length=8, description="a list of up to 8 numbers in (0, 1]"),
    ]
    poisson: Poisson
    salt_pepper: SaltPepper
    low_light: LowLight
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**32, description="an integer in [0, 2**32)")]
    dense: Dense
    dncnn: Dncnn
    unet: Unet
    train: Train
    blind_spot: BlindSpot
    images: Images
    mnist: Checksums
    fashion_mnist: Checksums

    @model_validator(mode="after")
    def ranges_are_ranges(self) -> "Params":
        # the strengths of stages/noise.py's STRENGTH (not imported: fetch would depend on it)
        for key in ("noise_factor", "poisson.photons", "salt_pepper.rate", "low_light.brightness"):
            value = functools.reduce(getattr, key.split("."), self)
            if isinstance(value, list) and value[0] >= value[1]:
                raise ValueError(
                    f"{key} [{value[0]:g}, {value[1]:g}] must be a range [low, high], low < high"
                )
        if self.test_noise_factors and self.noise != "gaussian":
            raise ValueError(
                f"test_noise_factors are Gaussian noise levels, but noise is {self.noise}; "
                "leave them [] (or use noise=gaussian)"
            )
        return self

    @model_validator(mode="after")
    def target_can_be_learnt(self) -> "Params":
        # what train.target learns from: photos noisy already, or synthetic noise (stages/noise.py)
        target, given = self.train.target, self.dataset == "images" and self.images.noisy
        if given and target != "blind_spot":
            raise ValueError(
                "images.noisy photos come with neither a clean copy nor a second shot to "
                f"learn from (train.target {target}); use train.target=blind_spot"
            )
        if given and self.test_noise_factors:
            raise ValueError(
                "test_noise_factors add noise to the test photos, which images.noisy says "
                "are noisy already; leave them []"
            )
        if target == "clean":
            return self
        if self.model == "dense":
            raise ValueError(
                f"train.target {target} needs a convolutional model, which sees each pixel's "
                "neighbours; use model=unet or model=dncnn"
            )
        if self.train.fresh_noise:
            raise ValueError(
                f"train.fresh_noise draws noise from the clean images, which train.target "
                f"{target} learns without; set train.fresh_noise=false"
            )
        if not given and self.noise == "low_light" and isinstance(self.low_light.brightness, list):
            raise ValueError(
                f"train.target {target} brightens low_light's noisy targets by the one "
                "low_light.brightness that darkened them (stages/targets.py), got a range "
                f"{self.low_light.brightness}; give one value, or use train.target=clean"
            )
        if not given and self.noise == "salt_pepper" and self.train.loss != "mae":
            raise ValueError(
                f"train.target {target} with salt_pepper noise needs train.loss=mae: impulse "
                "noise does not average to the image, but its median is the image"
            )
        return self


def keys(model: type[BaseModel] = Params, prefix: str = "") -> dict[str, str]:
    """Every dotted key under `model`, with what it allows: {'unet.depth': 'an integer ...'}."""
    found = {}
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found.update(keys(field.annotation, f"{prefix}{name}."))
        else:
            found[f"{prefix}{name}"] = field.description or ""
    return found


def first_problem(params: dict, error: ValidationError) -> str:
    """One line for the first thing wrong: an unknown key, else the first bad or missing one
    in the order Params declares them."""
    problem = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    path, known = ".".join(map(str, problem["loc"])), keys()
    if problem["type"] == "extra_forbidden":
        return f"unknown key {path}; known keys: {', '.join(known)}"
    if problem["type"] == "value_error":  # a check of a whole section says it all
        return str(problem["ctx"]["error"])
    # a list's item is named by its list
    key = max((k for k in known if f"{path}.".startswith(f"{k}.")), key=len, default=path)
    allowed = known.get(key, "a mapping of keys to values")
    if problem["type"] == "missing":
        return f"{key} is missing; it must be {allowed}"
    value = functools.reduce(lambda section, part: section[part], key.split("."), params)
    return f"{key} must be {allowed}, got {value!r}"


def check_params(params: Any) -> None:
    """Raise ValueError with one line naming the first bad key, its value and what is allowed."""
    if not isinstance(params, dict):
        raise ValueError(f"expected a mapping of keys to values, got {params!r}")
    try:
        Params.model_validate(params)
    except ValidationError as e:
        raise ValueError(first_problem(params, e)) from None


def read_params(path: str | Path = PARAMS_FILE) -> Any:
    """params.yaml as DVC reads it: YAML 1.2, through the same parser and settings."""
    return YAML(typ="safe").load(Path(path).read_text())


def load_params(path: str | Path = PARAMS_FILE) -> dict:
    """Read and check params.yaml; StageError with one line naming the file and key if it is
    unreadable or any value is bad."""
    try:
        params = read_params(path)
        check_params(params)
    except (OSError, YAMLError, ValueError) as e:
        message = " ".join(str(e).split())
        raise StageError(f"{path}: {message}") from None
    return params


def main() -> None:
    """The `params` stage: DVC runs it whenever any key of params.yaml changes, so an unknown or
    mistyped key stops `dvc repro` / `dvc exp run` even where no other stage reads that key."""
    load_params()
    print(f"params: {PARAMS_FILE}: all {len(keys())} settings are valid", flush=True)


if __name__ == "__main__":
    run_stage(main)
