import itertools

import numpy as np

from stages.models import build_dense_autoencoder, build_model


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
    }
    model = build_model(params)
    assert model.get_layer("encoder_0").units == 32
    assert model.get_layer("encoder_0").activation.__name__ == "tanh"
