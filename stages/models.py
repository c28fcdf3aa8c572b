"""Model builders: each returns an uncompiled Keras model mapping noisy images to clean ones.

All models take and return image batches shaped (N, height, width, channels) with values in
[0, 1], so the train and evaluate stages never need to know which model they hold. The
convolutional ones accept any height and width. Under Keras's mixed_bfloat16 policy the hidden
layers compute in bfloat16; the input, the identity path and the output stay float32 (each such
layer says dtype="float32"), so the image itself never passes through 8 bits of mantissa.
"""

import zipfile
from pathlib import Path

import keras
from keras import layers, ops

from stages.runner import StageError

IMAGE_SHAPE = (28, 28, 1)
MODEL_PATH = Path("models/model.keras")  # what train writes, evaluate scores and denoise uses


def build_dense_autoencoder(
    hidden_units: list[int],
    activation: str = "relu",
    output_activation: str = "sigmoid",
    image_shape: tuple[int, int, int] = IMAGE_SHAPE,
) -> keras.Model:
    """The seed's dense autoencoder: flatten, encode through `hidden_units`, decode mirrored.

    With hidden_units [500, 300, 100] this is 784 -> 500 -> 300 -> 100 -> 300 -> 500 -> 784.
    A sigmoid output keeps every pixel in [0, 1], the range of the clean target. It only knows
    images of `image_shape`.
    """
    pixels = image_shape[0] * image_shape[1] * image_shape[2]
    decoder_units = hidden_units[-2::-1]  # mirror the encoder, without repeating the bottleneck
    inputs = keras.Input(shape=image_shape, name="noisy")
    x = layers.Flatten(name="pixels")(inputs)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"encoder_{i}")(x)
    for i, units in enumerate(decoder_units):
        x = layers.Dense(units, activation=activation, name=f"decoder_{i}")(x)
    x = layers.Dense(pixels, activation=output_activation, name="output", dtype="float32")(x)
    outputs = layers.Reshape(image_shape, name="denoised", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="dense_autoencoder")


def build_dncnn(depth: int, filters: int, channels: int = 1, residual: bool = True) -> keras.Model:
    """A DnCNN-style residual denoiser (Zhang et al., 2017), fully convolutional.

    `depth` 3x3 convolutions (batch-normalised in the middle) estimate the noise, which is
    subtracted from the input. The last convolution starts at zero, so training starts from the
    identity (output = noisy input) and cannot begin by collapsing to a black image. Without
    `residual` they estimate the image itself, as a blind-spot model must (models.build_model).
    """
    inputs = keras.Input(shape=(None, None, channels), name="noisy")
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="conv_in")(inputs)
    for i in range(depth - 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{i}")(x)
        x = layers.BatchNormalization(name=f"norm_{i}")(x)
        x = layers.ReLU(name=f"relu_{i}")(x)
    if not residual:
        outputs = layers.Conv2D(channels, 3, padding="same", name="denoised", dtype="float32")(x)
        return keras.Model(inputs, outputs, name="dncnn")
    noise = layers.Conv2D(
        channels, 3, padding="same", kernel_initializer="zeros", name="noise", dtype="float32"
    )(x)
    outputs = layers.Subtract(name="denoised", dtype="float32")([inputs, noise])
    return keras.Model(inputs, outputs, name="dncnn")


@keras.saving.register_keras_serializable(package="stages")
class PadToMultiple(layers.Layer):
    """Reflect-pad height and width up to a multiple of `multiple` (bottom and right edges).

    A U-Net halves the image `depth` times; padding first lets it take images of any size.
    """

    def __init__(self, multiple: int, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def call(self, images):
        height, width = ops.shape(images)[1], ops.shape(images)[2]
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        return ops.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="reflect")

    def get_config(self) -> dict:
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="stages")
class CropToMatch(layers.Layer):
    """Crop the first input to the height and width of the second (undoes PadToMultiple)."""

    def call(self, inputs):
        images, reference = inputs
        return images[:, : ops.shape(reference)[1], : ops.shape(reference)[2], :]


def conv_block(
    x: keras.KerasTensor, filters: int, name: str, batch_norm: bool = False
) -> keras.KerasTensor:
    """Two 3x3 convolutions with ReLU: the unit a U-Net is built from.

    With `batch_norm`, each convolution's output is batch-normalised before the ReLU (the
    normalisation's shift replaces the convolution's bias).
    """
    activation = None if batch_norm else "relu"
    for part in ("a", "b"):
        x = layers.Conv2D(
            filters,
            3,
            padding="same",
            activation=activation,
            use_bias=not batch_norm,
            name=f"{name}_{part}",
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_{part}_norm")(x)
            x = layers.ReLU(name=f"{name}_{part}_relu")(x)
    return x


def build_unet(
    depth: int, filters: int, batch_norm: bool = False, channels: int = 1, residual: bool = True
) -> keras.Model:
    """A small residual U-Net (Ronneberger et al., 2015), fully convolutional.

    The encoder halves the image `depth` times, doubling the filters from `filters`; the decoder
    upsamples back, concatenating the encoder's features at each scale so fine strokes survive.
    Like the DnCNN, it predicts a correction added to its input, starting from the identity
    (without `residual`, the image itself).
    With `batch_norm` it trains well at twice the learning rate and learns more per epoch, for a
    little more time per epoch.
    """
    inputs = keras.Input(shape=(None, None, channels), name="noisy")
    padded = PadToMultiple(2**depth, name="pad", dtype="float32")(inputs)
    x, skips = padded, []
    for level in range(depth):
        x = conv_block(x, filters * 2**level, f"down_{level}", batch_norm)
        skips.append(x)
        x = layers.MaxPooling2D(name=f"pool_{level}")(x)
    x = conv_block(x, filters * 2**depth, "bottom", batch_norm)
    for level in reversed(range(depth)):
        x = layers.UpSampling2D(name=f"upsample_{level}")(x)
        x = layers.Concatenate(name=f"skip_{level}")([x, skips[level]])
        x = conv_block(x, filters * 2**level, f"up_{level}", batch_norm)
    if residual:
        correction = layers.Conv2D(
            channels, 1, kernel_initializer="zeros", name="correction", dtype="float32"
        )(x)
        x = layers.Add(name="corrected", dtype="float32")([padded, correction])
    else:
        x = layers.Conv2D(channels, 1, name="estimate", dtype="float32")(x)
    outputs = CropToMatch(name="denoised", dtype="float32")([x, inputs])
    return keras.Model(inputs, outputs, name="unet")


def receptive_field(model: keras.Model) -> tuple[int, int]:
    """(radius, alignment): how far from a pixel the model looks, in input pixels, and the
    factor by which it downsamples, summed over all its layers in order.

    Every path through a U-Net (encoder, bottom, decoder) passes a subset of its convolutions,
    so the sum over all of them is an upper bound on what any output pixel depends on.
    """
    radius, scale, alignment = 0, 1, 1
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            radius += (layer.kernel_size[0] // 2) * layer.dilation_rate[0] * scale
        elif isinstance(layer, layers.MaxPooling2D):
            radius += (layer.pool_size[0] - 1) * scale
            scale *= layer.pool_size[0]
            alignment = max(alignment, scale)
        elif isinstance(layer, layers.UpSampling2D):
            scale //= layer.size[0]
    return radius, alignment


def smallest_side(model: keras.Model) -> int:
    """The fewest pixels a side an image may have for this model: a U-Net pads an image by
    reflection to a multiple of its downsampling, and a reflection adds at most side - 1 pixels."""
    _, alignment = receptive_field(model)
    return alignment // 2 + 1


def deepest_unet(side: int) -> int:
    """The largest unet.depth whose padding (PadToMultiple, to a multiple of 2**depth) reflecting
    an image `side` pixels a side can still add: smallest_side of that U-Net is <= side."""
    return (side - 1).bit_length()


def build_model(params: dict, image_shape: tuple[int, int, int] = IMAGE_SHAPE) -> keras.Model:
    """Build the model that `params['model']` names, from its own section of params.yaml, for
    training images of `image_shape` (height, width, channels).

    A blind-spot model (train.target blind_spot, Noise2Void) has no identity path from input to
    output: trained on masked pixels, it learns to predict a pixel from its surroundings, and
    an identity path would add the pixel itself back, noise and all, once nothing is masked.
    """
    name = params["model"]
    section = params[name]
    residual = params["train"]["target"] != "blind_spot"
    if name == "dense":
        return build_dense_autoencoder(
            section["hidden_units"],
            section["activation"],
            section["output_activation"],
            image_shape,
        )
    if name == "dncnn":
        return build_dncnn(section["depth"], section["filters"], image_shape[-1], residual)
    if name == "unet":
        return build_unet(
            section["depth"], section["filters"], section["batch_norm"], image_shape[-1], residual
        )
    raise ValueError(f"unknown model {name!r}")


def load_model(path: str | Path) -> keras.Model:
    """A trained model, or StageError saying why there is none at `path`.

    A .keras file is a zip archive: one cut short (a copy or download that stopped) is named as
    such, where Keras itself would say "File not found".
    """
    path = Path(path)
    if not path.is_file():
        raise StageError(f"no model at {path}: train one with `dvc repro`")
    if not zipfile.is_zipfile(path):
        raise StageError(
            f"{path}: not a Keras model file (not a .keras zip archive, or one cut short)"
        )
    try:
        return keras.models.load_model(path)
    except Exception as e:  # a zip that is not a model, a model of an unknown class, ...
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise StageError(f"{path}: not a Keras model file ({reason})") from None
