"""Classical denoisers: what a learned model has to beat to be worth training."""

import numpy as np


def median_filter_3x3(images: np.ndarray) -> np.ndarray:
    """Replace each pixel by the median of its 3x3 neighbourhood (edges reflected).

    The textbook non-learned denoiser. Images are shaped (N, height, width, channels).
    """
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return np.median(windows, axis=(-2, -1)).astype(images.dtype)
