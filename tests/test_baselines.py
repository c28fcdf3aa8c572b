import numpy as np

from stages.baselines import median_filter_3x3


def brute_force_median(image: np.ndarray) -> np.ndarray:
    """The definition, pixel by pixel, with reflected edges."""
    padded = np.pad(image, 1, mode="reflect")
    out = np.empty_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.median(padded[i : i + 3, j : j + 3])
    return out


def test_matches_the_definition_pixel_by_pixel():
    images = np.random.default_rng(0).random((3, 7, 5, 1), dtype=np.float32)
    filtered = median_filter_3x3(images)
    assert filtered.shape == images.shape and filtered.dtype == np.float32
    for image, result in zip(images, filtered, strict=True):
        np.testing.assert_array_equal(result[..., 0], brute_force_median(image[..., 0]))


def test_removes_an_isolated_impulse_and_keeps_flat_areas():
    images = np.full((1, 5, 5, 1), 0.25, np.float32)
    images[0, 2, 2, 0] = 1.0
    np.testing.assert_array_equal(median_filter_3x3(images), np.full((1, 5, 5, 1), 0.25))
