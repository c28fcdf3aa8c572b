import itertools

import keras
import numpy as np
import pytest
from keras.layers import Add, Subtract

from stages.models import (
    build_dense_autoencoder,
    build_dncnn,
    build_model,
    build_unet,
    deepest_unet,
    receptive_field,
    smallest_side,
)


def test_dense_autoencoder_has_the_seed_architecture():
    model = build_dense_autoencoder([500, 300, 100])
    dense = [
        layer for layer in model.layers if layer.name.startswith(("encoder", "decoder", "output"))
    ]
    assert [layer.units for layer in dense] == [500, 300, 100, 300, 500, 784]
    assert [layer.activation.__name__ for layer in dense] == ["relu"] * 5 + ["sigmoid"]
    sizes = [784, 500, 300, 100, 300, 500, 784]
    weights_and_biases = [n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes)]
    assert model.count_params() == sum(weights_and_biases)


def test_dense_autoencoder_maps_image_batches_to_images_in_the_unit_range():
    model = build_dense_autoencoder([16, 8])
    noisy = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    denoised = model.predict(noisy, verbose=0)
    assert denoised.shape == (3, 28, 28, 1)
    assert denoised.min() >= 0 and denoised.max() <= 1


def test_build_model_reads_its_section_of_params():
    params = {
        "model": "dense",
        "dense": {"hidden_units": [32], "activation": "tanh", "output_activation": "sigmoid"},
        "train": {"target": "clean"},
    }
    model = build_model(params)
    assert model.get_layer("encoder_0").units == 32
    assert model.get_layer("encoder_0").activation.__name__ == "tanh"


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_dncnn(4, 8),
        lambda: build_unet(2, 4),
        lambda: build_unet(2, 4, batch_norm=True),
    ],
)
def test_conv_models_take_any_size_and_start_as_the_identity(build):
    model = build()
    for height, width in [(28, 28), (30, 27), (9, 64)]:
        noisy = np.random.default_rng(0).random((2, height, width, 1), dtype=np.float32)
        denoised = model.predict(noisy, verbose=0)
        assert denoised.shape == noisy.shape
        np.testing.assert_allclose(denoised, noisy, atol=1e-6)  # zero-initialised correction


@pytest.mark.parametrize("name", ["dncnn", "unet"])
def test_a_blind_spot_model_has_no_identity_path(name):
    """Noise2Void predicts a pixel from its surroundings: a path that adds the input back would
    return each pixel's own noise once nothing is masked."""
    sections = {"dncnn": {"depth": 3, "filters": 4}, "unet": {"depth": 1, "filters": 4}}
    sections["unet"]["batch_norm"] = True
    for target, adds in (("clean", True), ("noisy_pair", True), ("blind_spot", False)):
        model = build_model({"model": name, **sections, "train": {"target": target}})
        summing = [layer for layer in model.layers if isinstance(layer, (Add, Subtract))]
        assert bool(summing) == adds
        x = np.random.default_rng(0).random((1, 12, 12, 1), dtype=np.float32)
        assert np.allclose(model.predict(x, verbose=0), x, atol=1e-6) == adds  # the identity


@pytest.mark.parametrize("name, batch_norm", [("dncnn", False), ("unet", False), ("unet", True)])
def test_conv_models_survive_a_save_and_load(name, batch_norm, tmp_path):
    model = build_model(
        {
            "model": name,
            "dncnn": {"depth": 3, "filters": 4},
            "unet": {"depth": 1, "filters": 4, "batch_norm": batch_norm},
            "train": {"target": "clean"},
        }
    )
    rng = np.random.default_rng(0)  # every weight non-trivial (and positive: norms' variances)
    model.set_weights([rng.uniform(0.05, 0.15, w.shape).astype(np.float32) for w in model.weights])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).random((1, 13, 17, 1), dtype=np.float32)
    assert np.abs(model.predict(x, verbose=0) - x).max() > 0.01  # no longer the identity
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for saved, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(restored.numpy(), saved.numpy())  # incl. norms' statistics


def test_the_unet_batch_normalises_every_convolution_only_when_asked():
    def norms(model: keras.Model) -> int:
        return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)

    assert norms(build_unet(2, 4)) == 0
    assert norms(build_unet(2, 4, batch_norm=True)) == 10  # 2 per block: 2 down, bottom, 2 up


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_dense_autoencoder([16]),
        lambda: build_dncnn(3, 4),
        lambda: build_unet(2, 4, batch_norm=True),
    ],
)
def test_under_mixed_bfloat16_the_image_paths_stay_float32(build):
    """The hidden layers compute in bfloat16; the input, the identity path and the output do
    not, so the image itself never passes through bfloat16's 8-bit mantissa."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    hidden = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]
    assert hidden[0].compute_dtype == "bfloat16"
    assert model.outputs[0].dtype == "float32"
    for layer in model.layers:
        if layer.name in ("output", "noise", "correction", "denoised", "corrected", "pad"):
            assert layer.compute_dtype == "float32", layer.name
    x = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(1, 28, 28, 1)
    if model.name != "dense_autoencoder":  # untrained: exactly the identity, in float32
        np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_receptive_field_counts_every_convolution_at_its_scale():
    assert receptive_field(build_dncnn(5, 4)) == (5, 1)  # five 3x3 convolutions
    # U-Net depth 2: two 3x3 at 1x, 2x, 4x (bottom), 2x, 1x, pooling adds 1 + 2, the 1x1 adds 0
    assert receptive_field(build_unet(2, 4)) == (2 + 4 + 8 + 4 + 2 + 1 + 2, 4)


def test_deepest_unet_is_the_last_depth_whose_smallest_side_fits():
    for side in (2, 3, 5, 9, 16, 17, 28, 33):
        deepest = deepest_unet(side)
        assert (
            smallest_side(build_unet(deepest, 1))
            <= side
            < smallest_side(build_unet(deepest + 1, 1))
        )
