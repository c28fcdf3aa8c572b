import numpy as np
import pytest

from stages.noise import (
    add_gaussian_noise,
    add_noise,
    add_poisson_noise,
    add_salt_pepper_noise,
    at_strength,
    scored_levels,
    simulate_low_light,
    strength,
)
from stages.params import NOISE_MODELS
from tests.conftest import committed_params

DEFAULTS = committed_params()


def gray(n: int = 200) -> np.ndarray:
    return np.full((n, 28, 28, 1), 0.5, np.float32)


def test_same_seed_gives_the_same_noise_and_another_seed_does_not():
    a = add_gaussian_noise(gray(), 0.2, np.random.default_rng(1))
    b = add_gaussian_noise(gray(), 0.2, np.random.default_rng(1))
    c = add_gaussian_noise(gray(), 0.2, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_noisy_images_are_float32_and_clipped_to_the_unit_range():
    clean = np.random.default_rng(0).random((100, 28, 28, 1), dtype=np.float32)
    noisy = add_gaussian_noise(clean, 0.5, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert noisy.min() == 0.0 and noisy.max() == 1.0  # sigma 0.5 reaches both bounds


def test_noise_has_zero_mean_and_noise_factor_as_standard_deviation():
    # mid-gray with sigma 0.1: clipping at 5 sigma is negligible, so the noise is plain N(0, 0.1^2)
    noise = add_gaussian_noise(gray(), 0.1, np.random.default_rng(3)) - 0.5
    assert abs(noise.mean()) < 1e-3
    assert abs(noise.std() - 0.1) < 1e-3


def test_clipping_biases_dark_pixels_upwards():
    black = np.zeros((100, 28, 28, 1), np.float32)
    noisy = add_gaussian_noise(black, 0.2, np.random.default_rng(4))
    # E[max(0, 0.2 * Z)] = 0.2 / sqrt(2 * pi)
    assert abs(noisy.mean() - 0.2 / np.sqrt(2 * np.pi)) < 1e-3


def test_zero_noise_factor_leaves_images_unchanged():
    clean = np.random.default_rng(0).random((10, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(add_gaussian_noise(clean, 0.0, np.random.default_rng(0)), clean)


@pytest.mark.parametrize("noise", NOISE_MODELS)
def test_every_noise_model_is_seeded_float32_in_the_unit_range_and_changes_the_image(noise):
    clean = np.random.default_rng(0).random((50, 28, 28, 1), dtype=np.float32)
    params = {**DEFAULTS, "noise": noise}
    a = add_noise(clean, params, np.random.default_rng(1))
    b = add_noise(clean, params, np.random.default_rng(1))
    c = add_noise(clean, params, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, clean)
    assert a.dtype == np.float32 and a.shape == clean.shape
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_gaussian_choice_is_the_seed_recipe_noise_unchanged():
    clean = np.random.default_rng(0).random((10, 28, 28, 1), dtype=np.float32)
    params = {**DEFAULTS, "noise": "gaussian", "noise_factor": 0.3}
    np.testing.assert_array_equal(
        add_noise(clean, params, np.random.default_rng(5)),
        add_gaussian_noise(clean, 0.3, np.random.default_rng(5)),
    )


def test_a_range_gives_each_image_its_own_level_drawn_uniformly_within_it():
    params = {**DEFAULTS, "noise": "gaussian", "noise_factor": [0.02, 0.1]}
    noisy = add_noise(gray(400), params, np.random.default_rng(0))
    levels = (noisy - 0.5).std(axis=(1, 2, 3))  # 784 pixels each: within a few percent
    assert np.all(levels > 0.02 * 0.9) and np.all(levels < 0.1 * 1.1)
    assert len(np.unique(levels)) == 400  # every image its own
    assert levels.min() < 0.025 and levels.max() > 0.095  # the whole range is used
    assert abs(levels.mean() - 0.06) < 0.003  # uniformly: the middle on average
    in_thirds = np.histogram(levels, bins=[0, 0.0467, 0.0733, 1])[0]
    assert np.all(np.abs(in_thirds - 400 / 3) < 40)


def test_the_test_set_is_scored_at_five_levels_across_a_range_or_at_those_asked_for():
    gaussian = {**DEFAULTS, "noise": "gaussian", "test_noise_factors": []}
    assert scored_levels(gaussian) == []  # a single level: the headline figures say it all
    assert scored_levels({**gaussian, "noise_factor": [0.02, 0.3]}) == [
        0.02,
        0.09,
        0.16,
        0.23,
        0.3,
    ]
    photons = {**DEFAULTS, "noise": "poisson", "poisson": {"photons": [2, 10]}}
    assert scored_levels(photons) == [2, 4, 6, 8, 10]  # any noise model's strength
    assert at_strength(photons, 4)["poisson"] == {"photons": 4}
    assert photons["poisson"] == {"photons": [2, 10]}  # a copy: the params are left as they were
    asked = {**gaussian, "test_noise_factors": [0.05, 0.1]}
    assert scored_levels({**asked, "noise_factor": [0.02, 0.3]}) == [0.05, 0.1]
    assert scored_levels(asked) == [0.05, 0.1]
    assert scored_levels({**asked, "noise": "poisson"}) == []


def test_poisson_noise_is_unbiased_with_variance_intensity_over_photons():
    noisy = add_poisson_noise(
        np.full((200, 28, 28, 1), 0.25, np.float32), 40, np.random.default_rng(0)
    )
    assert abs(noisy.mean() - 0.25) < 1e-3
    assert abs(noisy.var() - 0.25 / 40) < 2e-4
    black = np.zeros((10, 28, 28, 1), np.float32)
    np.testing.assert_array_equal(add_poisson_noise(black, 40, np.random.default_rng(0)), black)


def test_salt_and_pepper_replace_the_given_fraction_half_by_black_half_by_white():
    gray_images = gray(500)
    noisy = add_salt_pepper_noise(gray_images, 0.2, np.random.default_rng(0))
    assert abs((noisy == 0.0).mean() - 0.1) < 2e-3
    assert abs((noisy == 1.0).mean() - 0.1) < 2e-3
    assert ((noisy == 0.5) | (noisy == 0.0) | (noisy == 1.0)).all()


def test_low_light_darkens_by_the_brightness_factor_and_adds_sensor_noise():
    clean = np.full((200, 28, 28, 1), 0.8, np.float32)
    noisy = simulate_low_light(clean, 0.25, 200, 0.01, np.random.default_rng(0))
    assert abs(noisy.mean() - 0.2) < 1e-3  # 0.8 * 0.25
    # shot noise (0.2 / 200) plus read noise (0.01^2)
    assert abs(noisy.var() - (0.2 / 200 + 0.01**2)) < 1e-4


@pytest.mark.parametrize(
    "noise, section, value",
    [
        ("poisson", "poisson", [5, 50]),
        ("salt_pepper", "salt_pepper", [0.05, 0.3]),
        ("low_light", "low_light", [0.1, 0.6]),
    ],
)
def test_every_noise_model_takes_a_range_and_each_image_draws_its_strength(noise, section, value):
    """Each image's strength, read back from its noise: all different, all within the range."""
    params = {**DEFAULTS, "noise": noise, section: {**DEFAULTS[section]}}
    key = {"poisson": "photons", "salt_pepper": "rate", "low_light": "brightness"}[noise]
    params[section][key] = value
    assert strength(params) == value
    clean = np.full((300, 64, 64, 1), 0.5, np.float32)
    noisy = add_noise(clean, params, np.random.default_rng(0)).reshape(300, -1).astype(np.float64)
    if noise == "poisson":  # variance 0.5 / photons
        drawn = 0.5 / noisy.var(axis=1)
    elif noise == "salt_pepper":  # the fraction of pixels replaced
        drawn = (noisy != 0.5).mean(axis=1)
    else:  # the mean is brightness * 0.5
        drawn = noisy.mean(axis=1) / 0.5
    low, high = value
    assert drawn.std() > 0.25 * (high - low)  # uniform: 0.29 of the width; one level: about 0
    assert np.all(drawn > low * 0.9) and np.all(drawn < high * 1.1)  # 4096 pixels: a few percent
    assert drawn.min() < low + 0.1 * (high - low) and drawn.max() > high - 0.1 * (high - low)
    assert abs(np.median(drawn) - (low + high) / 2) < 0.1 * (high - low)


def test_a_single_strength_draws_nothing_extra():
    """With one value, each noise model draws exactly what its function draws: the noise of
    every run before ranges existed."""
    clean = np.random.default_rng(0).random((10, 28, 28, 1), dtype=np.float32)
    cases = {
        "poisson": lambda rng: add_poisson_noise(clean, DEFAULTS["poisson"]["photons"], rng),
        "salt_pepper": lambda rng: add_salt_pepper_noise(
            clean, DEFAULTS["salt_pepper"]["rate"], rng
        ),
        "low_light": lambda rng: simulate_low_light(clean, *DEFAULTS["low_light"].values(), rng),
    }
    for noise, direct in cases.items():
        np.testing.assert_array_equal(
            add_noise(clean, {**DEFAULTS, "noise": noise}, np.random.default_rng(5)),
            direct(np.random.default_rng(5)),
        )
