"""Image quality metrics, per image, so that means, spreads and slices all come from one place."""

import functools
from collections.abc import Callable

import numpy as np

MAX_PSNR = 100.0  # dB: an error below 1e-10 per pixel, far under what 8-bit or float32 can show


def psnr_per_image(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """PSNR in dB of each image against its clean version, data range 1: 10*log10(1/mse).

    Images are the first axis; all other axes are pixels. The mean squared error is
    accumulated in float64 so that the metric does not depend on the model's precision.
    A perfect estimate (mse 0) has an infinite PSNR by definition; it scores MAX_PSNR instead,
    so that a mean over images stays a number (and JSON can hold it).
    """
    if clean.shape != estimate.shape:
        raise ValueError(f"shape mismatch: clean {clean.shape} vs estimate {estimate.shape}")
    diff = clean.reshape(len(clean), -1).astype(np.float64) - estimate.reshape(len(clean), -1)
    mse = np.mean(diff * diff, axis=1)
    return -10.0 * np.log10(np.maximum(mse, 10 ** (-MAX_PSNR / 10)))


def ssim_per_image(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """SSIM of each image against its clean version: TensorFlow's implementation with the
    standard settings (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03), data range 1.

    Images are shaped (N, height, width, channels). TensorFlow is imported only when SSIM is
    first needed, so that the PSNR above stays usable without it.
    """
    if clean.shape != estimate.shape:
        raise ValueError(f"shape mismatch: clean {clean.shape} vs estimate {estimate.shape}")
    return compiled_ssim()(clean, estimate).numpy().astype(np.float64)


@functools.cache
def compiled_ssim() -> Callable:
    """tf.image.ssim compiled with XLA: faster on CPU than op by op (docs/speed.md)."""
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def ssim(clean, estimate):
        return tf.image.ssim(clean, estimate, max_val=1.0, filter_size=11, filter_sigma=1.5)

    return ssim


def noise_sigma_per_image(images: np.ndarray) -> np.ndarray:
    """The standard deviation of each image's Gaussian-like noise, estimated from the image
    alone: the median absolute value of its finest diagonal wavelet coefficients / 0.6745
    (Donoho and Johnstone 1994), averaged over channels; what is measurable without a clean
    reference. skimage.restoration.estimate_sigma computes the same with Daubechies-2 wavelets;
    written here with Haar's (each 2x2 block's (a - b - c + d) / 2, which keeps the noise's
    variance), since scikit-image would be a dependency for this one function.
    """
    n, height, width = images.shape[:3]
    blocks = images[:, : height // 2 * 2, : width // 2 * 2].astype(np.float64)
    diagonal = (
        blocks[:, 0::2, 0::2]
        - blocks[:, 0::2, 1::2]
        - blocks[:, 1::2, 0::2]
        + blocks[:, 1::2, 1::2]
    ) / 2
    mad = np.median(np.abs(diagonal.reshape(n, -1, images.shape[-1])), axis=1)
    return (mad / 0.6745).mean(axis=-1)
