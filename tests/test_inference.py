"""Tiled inference: the same output as the whole image at once, in bounded pieces."""

import numpy as np
import pytest

from stages.inference import denoise_large, make_denoiser, predictor
from stages.models import build_dense_autoencoder, build_dncnn, build_unet, receptive_field


def trained_looking(model, seed: int = 0):
    """The model with random non-zero weights everywhere (a new one starts as the identity)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if "variance" in weight.path:  # batch norm's: must stay positive
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype(np.float32))
        else:
            weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    return model


TILED_MODELS = pytest.mark.parametrize(
    "model",
    [build_unet(2, 4, batch_norm=True), build_unet(3, 4, channels=3), build_dncnn(5, 4)],
    ids=["unet-depth-2", "unet-depth-3-colour", "dncnn"],
)


def rounding_tolerance(whole: np.ndarray) -> float:
    """What float32 rounding may change: random weights make outputs of magnitude ~1e3, and
    summing a convolution in another order (another CPU's kernels, another tile shape) moves
    them by about 1e-6 of that. A wrong margin errs by the order of the values themselves."""
    return 1e-5 * float(np.abs(whole).max())


@TILED_MODELS
def test_tiles_give_the_whole_images_output(model):
    trained_looking(model)
    channels = model.input_shape[-1]
    image = np.random.default_rng(1).random((150, 97, channels), dtype=np.float32)
    whole = make_denoiser(model, tile=1024)([image])[0]  # fits in one call
    tiled = make_denoiser(model, tile=32)([image])[0]  # 5 x 4 tiles, each with its margins
    assert whole.shape == tiled.shape == image.shape
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=rounding_tolerance(whole))
    assert np.abs(whole - image).max() > 0.1  # the model does change the image


@TILED_MODELS
def test_tiles_with_half_the_margin_fail_that_comparison(model):
    """The tolerance above still catches a tiling bug: tiles with half the margin their model's
    receptive field needs differ from the whole image by more than it allows."""
    trained_looking(model)
    image = np.random.default_rng(1).random((150, 97, model.input_shape[-1]), dtype=np.float32)
    predict, (radius, alignment) = predictor(model), receptive_field(model)
    whole = predict(image[np.newaxis])[0]
    short = denoise_large(predict, image, radius // 2, alignment, tile=32)
    assert np.abs(short - whole).max() > rounding_tolerance(whole)


def test_small_images_of_one_size_share_calls_and_keep_their_order():
    model = trained_looking(build_dense_autoencoder([8]))
    images = [np.random.default_rng(i).random((28, 28, 1), dtype=np.float32) for i in range(5)]
    one_by_one = [model.predict(image[np.newaxis], verbose=0)[0] for image in images]
    batched = make_denoiser(model, tile=60)(images)  # 3600 pixels: 4 images of 784 per call
    for expected, got in zip(one_by_one, batched, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
