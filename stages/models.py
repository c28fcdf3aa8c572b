"""Model builders: each returns an uncompiled Keras model mapping noisy images to clean ones.

All models take and return image batches shaped (N, height, width, 1) with values in [0, 1], so
the train and evaluate stages never need to know which model they hold.
"""

import keras
from keras import layers

IMAGE_SHAPE = (28, 28, 1)


def build_dense_autoencoder(
    hidden_units: list[int],
    activation: str = "relu",
    output_activation: str = "sigmoid",
    image_shape: tuple[int, int, int] = IMAGE_SHAPE,
) -> keras.Model:
    """The seed's dense autoencoder: flatten, encode through `hidden_units`, decode mirrored.

    With hidden_units [500, 300, 100] this is 784 -> 500 -> 300 -> 100 -> 300 -> 500 -> 784.
    A sigmoid output keeps every pixel in [0, 1], the range of the clean target.
    """
    pixels = image_shape[0] * image_shape[1] * image_shape[2]
    decoder_units = hidden_units[-2::-1]  # mirror the encoder, without repeating the bottleneck
    inputs = keras.Input(shape=image_shape, name="noisy")
    x = layers.Flatten(name="pixels")(inputs)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"encoder_{i}")(x)
    for i, units in enumerate(decoder_units):
        x = layers.Dense(units, activation=activation, name=f"decoder_{i}")(x)
    x = layers.Dense(pixels, activation=output_activation, name="output")(x)
    outputs = layers.Reshape(image_shape, name="denoised")(x)
    return keras.Model(inputs, outputs, name="dense_autoencoder")


def build_model(params: dict) -> keras.Model:
    """Build the model that `params['model']` names, from its own section of params.yaml."""
    if params["model"] == "dense":
        dense = params["dense"]
        return build_dense_autoencoder(
            dense["hidden_units"], dense["activation"], dense["output_activation"]
        )
    raise ValueError(f"unknown model {params['model']!r}")
