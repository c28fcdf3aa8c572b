import math

import numpy as np
import pytest
import tensorflow as tf

from stages.metrics import psnr_per_image


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


def test_perfect_estimate_is_infinite_and_shape_mismatch_is_an_error():
    clean = np.ones((1, 2, 2), np.float32)
    assert psnr_per_image(clean, clean)[0] == np.inf
    with pytest.raises(ValueError, match="shape mismatch"):
        psnr_per_image(clean, clean[:, :1])
