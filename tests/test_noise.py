import numpy as np

from stages.noise import add_gaussian_noise


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
