import json
import math

import numpy as np
import pytest
import tensorflow as tf

from stages.metrics import noise_sigma_per_image, psnr_per_image, ssim_per_image


def test_constant_error_gives_the_textbook_value():
    clean = np.zeros((2, 28, 28, 1), np.float32)
    estimate = clean + np.array([0.1, 0.01], np.float32).reshape(2, 1, 1, 1)
    np.testing.assert_allclose(psnr_per_image(clean, estimate), [20.0, 40.0], rtol=1e-6)


def test_matches_a_plain_python_computation():
    rng = np.random.default_rng(0)
    clean = rng.random((3, 4, 5), dtype=np.float32)
    estimate = np.clip(clean + 0.1 * rng.standard_normal((3, 4, 5), dtype=np.float32), 0, 1)
    expected = []
    for c, e in zip(clean, estimate, strict=True):
        mse = (
            sum((float(a) - float(b)) ** 2 for a, b in zip(c.ravel(), e.ravel(), strict=True))
            / c.size
        )
        expected.append(10 * math.log10(1 / mse))
    np.testing.assert_allclose(psnr_per_image(clean, estimate), expected, rtol=1e-9)


def test_matches_tensorflow_psnr_with_max_value_one():
    rng = np.random.default_rng(1)
    clean = rng.random((8, 28, 28, 1), dtype=np.float32)
    estimate = np.clip(clean + 0.2 * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    expected = tf.image.psnr(clean, estimate, max_val=1.0).numpy()
    np.testing.assert_allclose(psnr_per_image(clean, estimate), expected, rtol=1e-5)


def test_a_perfect_estimate_scores_100_db_not_infinity_and_shape_mismatch_is_an_error():
    clean = np.ones((2, 2, 2), np.float32)
    near = clean - np.float32(1e-6)  # mse 1e-12: also above what float32 images can show
    np.testing.assert_array_equal(psnr_per_image(clean, np.stack([clean[0], near[0]])), [100, 100])
    assert json.dumps({"psnr": psnr_per_image(clean, clean).mean()}) == '{"psnr": 100.0}'
    with pytest.raises(ValueError, match="shape mismatch"):
        psnr_per_image(clean, clean[:, :1])


def reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """SSIM by its definition (Wang et al., 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01,
    K2 0.03, data range 1, averaged over the window positions that fit inside the image."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()

    def local_mean(image):
        views = np.lib.stride_tricks.sliding_window_view(image, (11, 11))
        return np.einsum("ijkl,kl->ij", views, window)

    x, y = x.astype(np.float64), y.astype(np.float64)
    mx, my = local_mean(x), local_mean(y)
    vx, vy = local_mean(x * x) - mx**2, local_mean(y * y) - my**2
    cov = local_mean(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(ssim_map.mean())


def test_ssim_matches_its_definition_with_the_standard_window():
    rng = np.random.default_rng(2)
    clean = rng.random((3, 28, 28, 1), dtype=np.float32)
    estimate = np.clip(clean + 0.2 * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    expected = [reference_ssim(c[..., 0], e[..., 0]) for c, e in zip(clean, estimate, strict=True)]
    np.testing.assert_allclose(ssim_per_image(clean, estimate), expected, rtol=1e-4)


def test_ssim_is_one_for_a_perfect_estimate_and_falls_with_noise():
    rng = np.random.default_rng(3)
    clean = rng.random((4, 28, 28, 1), dtype=np.float32)
    slightly = np.clip(clean + 0.05 * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    very = np.clip(clean + 0.3 * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    np.testing.assert_allclose(ssim_per_image(clean, clean), 1.0, rtol=1e-6)
    assert (ssim_per_image(clean, slightly) > ssim_per_image(clean, very)).all()


def test_the_noise_of_an_image_is_estimated_from_the_image_alone():
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:128, 0:96]
    smooth = 0.5 + 0.3 * np.sin(rows / 9)[..., None] * np.cos(cols / 13)[..., None]
    clean = np.repeat(smooth[None], 3, axis=0).repeat(3, axis=-1)  # 3 colour images
    for sigma in (0.02, 0.1, 0.3):
        noisy = clean + rng.normal(0, sigma, clean.shape)
        np.testing.assert_allclose(noise_sigma_per_image(noisy), sigma, rtol=0.05)
    assert noise_sigma_per_image(clean).max() < 0.002  # a smooth image shows next to none
    one_noisy = clean.copy()
    one_noisy[1] += rng.normal(0, 0.1, clean.shape[1:])
    assert noise_sigma_per_image(one_noisy)[[0, 2]].max() < 0.002  # each image its own
