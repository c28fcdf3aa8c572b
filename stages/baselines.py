"""Classical denoisers: what a learned model has to beat to be worth training."""

import numpy as np


def median_filter_3x3(images: np.ndarray) -> np.ndarray:
    """Replace each pixel by the median of its 3x3 neighbourhood (edges reflected).

    The textbook non-learned denoiser. Images are shaped (N, height, width, channels). The nine
    shifted copies of the image are stacked and partially sorted along the new axis: the fifth
    smallest is the median, found without a full sort or a Python loop over windows. Written
    with numpy since scipy.ndimage.median_filter, which does the same, would bring in scipy for
    this alone.
    """
    height, width = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    shifted = np.stack(
        [padded[:, i : i + height, j : j + width] for i in range(3) for j in range(3)]
    )
    return np.partition(shifted, 4, axis=0)[4]
