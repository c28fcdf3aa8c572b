"""Synthetic noise that the denoiser learns to remove, one function per noise model.

Every function takes clean float32 images in [0, 1] and a seeded generator, and returns noisy
float32 images in [0, 1] of the same shape: the same seed always gives the same noise. With
`clip=False` they return the measurement before it is clipped to an image's range (what a
sensor's raw data holds), whose noise keeps a mean of zero where clipping would bias it.
`add_noise` picks the one that params.yaml's `noise` names; each model's strength (STRENGTH) may
be a range, from which every image draws its own.
"""

import copy
import functools

import numpy as np


def add_gaussian_noise(
    clean: np.ndarray,
    noise_factor: float | np.ndarray,
    rng: np.random.Generator,
    clip: bool = True,
) -> np.ndarray:
    """Return clip(clean + noise_factor * N(0, 1), 0, 1) as float32, the seed recipe's noise.

    Clipping keeps the noisy image a valid image in [0, 1]; it also biases the noise, which is
    why the clean image (not the noisy one) is the training target. `noise_factor` may be an
    array that broadcasts against `clean`: one level per image, say.
    """
    noise = rng.standard_normal(clean.shape, dtype=np.float32)
    noisy = clean + np.asarray(noise_factor, np.float32) * noise
    return np.clip(noisy, 0.0, 1.0, out=noisy) if clip else noisy


def add_poisson_noise(
    clean: np.ndarray, photons: float | np.ndarray, rng: np.random.Generator, clip: bool = True
) -> np.ndarray:
    """Photon shot noise: each pixel counts Poisson(photons * clean) photons, scaled back.

    `photons` is the expected count at intensity 1. The noise grows with the signal (its
    variance is clean / photons), unlike Gaussian noise, and black stays exactly black.
    """
    counts = rng.poisson(clean.astype(np.float64) * photons)
    return (np.clip(counts / photons, 0.0, 1.0) if clip else counts / photons).astype(np.float32)


def add_salt_pepper_noise(
    clean: np.ndarray, rate: float | np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Impulse noise: a `rate` fraction of pixels, at random, become 0 (pepper) or 1 (salt).

    The other pixels are untouched, which is why a median filter does well on this noise.
    """
    draw = rng.random(clean.shape, dtype=np.float32)
    noisy = clean.copy()
    noisy[draw < rate / 2] = 0.0
    noisy[(draw >= rate / 2) & (draw < rate)] = 1.0
    return noisy


def simulate_low_light(
    clean: np.ndarray,
    brightness: float | np.ndarray,
    photons: float,
    read_noise: float,
    rng: np.random.Generator,
    clip: bool = True,
) -> np.ndarray:
    """A dark exposure of the clean scene: less light, then a sensor's Poisson-Gaussian noise.

    The scene is darkened to `brightness` times its intensity, the sensor counts photons
    (Poisson, `photons` expected at full scale) and adds Gaussian read noise of std
    `read_noise`. The result is dark and noisy; trained against the clean image, a model learns
    to brighten and denoise in one pass.
    """
    counts = rng.poisson(clean.astype(np.float64) * brightness * photons)
    read = rng.standard_normal(clean.shape) * read_noise
    measured = counts / photons + read
    return (np.clip(measured, 0.0, 1.0) if clip else measured).astype(np.float32)


STRENGTH = {  # the setting of each noise model that may be a range [low, high]
    "gaussian": ("noise_factor",),
    "poisson": ("poisson", "photons"),
    "salt_pepper": ("salt_pepper", "rate"),
    "low_light": ("low_light", "brightness"),
}


def strength(params: dict) -> float | list:
    """The chosen noise model's strength (STRENGTH): one value, or a range [low, high]."""
    return functools.reduce(lambda section, key: section[key], STRENGTH[params["noise"]], params)


def at_strength(params: dict, value: float) -> dict:
    """params with the chosen noise model's strength set to `value`."""
    *sections, key = STRENGTH[params["noise"]]
    changed = copy.deepcopy(params)
    functools.reduce(lambda section, name: section[name], sections, changed)[key] = value
    return changed


def per_example(value: float | list, clean: np.ndarray, rng: np.random.Generator):
    """The strength for each image of the batch `clean`: the value itself, or for a range
    [low, high], each drawn uniformly from it (what trains one blind model for every level
    between), shaped (N, 1, 1, 1) to broadcast against the batch. A single value draws
    nothing, so it leaves the noise what it was before ranges existed."""
    if not isinstance(value, list):
        return value
    low, high = value
    shape = (len(clean),) + (1,) * (clean.ndim - 1)
    return rng.uniform(low, high, shape).astype(np.float32)


def scored_levels(params: dict) -> list[float]:
    """The strengths at which evaluate also scores the test set: test_noise_factors (Gaussian),
    or five across a range of the noise model's strength (its ends included), or none."""
    if params["noise"] == "gaussian" and params["test_noise_factors"]:
        return list(params["test_noise_factors"])
    value = strength(params)
    if not isinstance(value, list):
        return []
    return [round(float(level), 4) for level in np.linspace(*value, 5)]


def add_noise(
    clean: np.ndarray, params: dict, rng: np.random.Generator, clip: bool = True
) -> np.ndarray:
    """Apply the noise model that `params['noise']` names, with its settings from params.yaml,
    to a batch of images (N, height, width, channels); unclipped if not `clip` (salt and
    pepper has nothing to clip)."""
    name = params["noise"]
    level = per_example(strength(params), clean, rng)
    if name == "gaussian":
        return add_gaussian_noise(clean, level, rng, clip)
    if name == "poisson":
        return add_poisson_noise(clean, level, rng, clip)
    if name == "salt_pepper":
        return add_salt_pepper_noise(clean, level, rng)
    if name == "low_light":
        settings = params["low_light"]
        photons, read_noise = settings["photons"], settings["read_noise"]
        return simulate_low_light(clean, level, photons, read_noise, rng, clip)
    raise ValueError(f"unknown noise {name!r}")  # params.py allows only the four above
