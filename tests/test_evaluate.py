import numpy as np

from stages.evaluate import ZOOM, example_grid


def test_example_grid_shows_the_first_image_of_each_digit_in_three_rows():
    labels = np.array([3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 0], np.uint8)
    clean = np.zeros((11, 28, 28, 1), np.float32)
    clean[:, 0, 0, 0] = np.arange(11) / 10  # tag each image by its index
    noisy, denoised = clean + 0.0, np.clip(clean + 2.0, 0, 1)
    grid = example_grid(clean, noisy, denoised, labels)
    assert grid.shape == (3 * 28 * ZOOM, 10 * 28 * ZOOM, 1)
    first_of_each_digit = [1, 2, 3, 0, 4, 5, 6, 7, 8, 9]  # digit 0 is image 1, not image 10
    tags = grid[0, :: 28 * ZOOM, 0]
    np.testing.assert_allclose(tags, np.array(first_of_each_digit) / 10)
    assert (grid[2 * 28 * ZOOM :] == 1).all()  # the denoised row
