"""Random flips, quarter turns and channel orders of training batches, drawn anew every epoch.

A denoiser should not care which way up a photo is or which colour a surface has; a modest folder
of photos shows few orientations and few hues (16 photos may hold no saturated green at all), and
a model trained on it repaints the hues it saw little of. Drawing one of the 8 symmetries of the
square and one of the 6 orders of the RGB channels for every crop shows it each crop 48 ways.
Noisy input and clean target are always transformed alike; every noise model acts on each pixel
and channel alike, so a transformed noisy crop is as likely as the original. The draws are
stateless, from the seed each batch is given, so the same seed gives the same batches.
"""

import tensorflow as tf


def random_flips(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Each square image flipped up-down, left-right and across its diagonal, each with
    probability 1/2: every one of the 8 symmetries of the square equally likely."""
    flips = tf.random.stateless_uniform([3, tf.shape(images)[0]], seed) < 0.5
    for flip, transform in zip(
        tf.unstack(flips),
        (
            lambda x: tf.reverse(x, [1]),
            lambda x: tf.reverse(x, [2]),
            lambda x: tf.transpose(x, [0, 2, 1, 3]),
        ),
        strict=True,
    ):
        images = tf.where(flip[:, tf.newaxis, tf.newaxis, tf.newaxis], transform(images), images)
    return images


def random_channel_orders(images: tf.Tensor, channels: int, seed: tf.Tensor) -> tf.Tensor:
    """Each image's channels in a random order, the same order for each group of `channels`
    (so that a noisy image and its clean target stacked on the channel axis stay a pair)."""
    orders = tf.argsort(tf.random.stateless_uniform([tf.shape(images)[0], channels], seed))
    groups = images.shape[-1] // channels
    indices = tf.concat([orders + g * channels for g in range(groups)], axis=1)
    return tf.gather(images, indices, axis=3, batch_dims=1)


def augment_pairs(
    noisy: tf.Tensor, clean: tf.Tensor, seed: tf.Tensor, flips: bool, channel_orders: bool
) -> tuple[tf.Tensor, tf.Tensor]:
    """A batch of (noisy, clean) square crops, each pair flipped and its channels reordered
    alike at random; `seed` is a stateless seed (two integers) for this batch alone."""
    channels = noisy.shape[-1]
    pairs = tf.concat([noisy, clean], axis=-1)
    flip_seed, order_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    if flips:
        pairs = random_flips(pairs, flip_seed)
    if channel_orders:
        pairs = random_channel_orders(pairs, channels, order_seed)
    return pairs[..., :channels], pairs[..., channels:]
