"""Synthetic noise that the denoiser learns to remove."""

import numpy as np


def add_gaussian_noise(
    clean: np.ndarray, noise_factor: float, rng: np.random.Generator
) -> np.ndarray:
    """Return clip(clean + noise_factor * N(0, 1), 0, 1) as float32, the seed recipe's noise.

    Clipping keeps the noisy image a valid image in [0, 1]; it also biases the noise, which is
    why the clean image (not the noisy one) is the training target.
    """
    noise = rng.standard_normal(clean.shape, dtype=np.float32)
    noisy = clean + np.float32(noise_factor) * noise
    return np.clip(noisy, 0.0, 1.0, out=noisy)
