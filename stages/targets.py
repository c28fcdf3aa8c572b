"""What the network learns to output (params.yaml's `train.target`), applied to training batches.

- clean: the clean image (supervised training, the default).
- noisy_pair: Noise2Noise (Lehtinen et al. 2018, "Noise2Noise: Learning Image Restoration
  without Clean Data"): the target is a second, independent noisy copy of the same image. The
  noise is zero-mean given the image, so the network that minimises the L2 loss against noisy
  targets is the one that minimises it against the clean image. Both copies are equally noisy,
  so each pair's order is drawn anew for every batch.
- blind_spot: Noise2Void (Krull et al. 2019, "Noise2Void - Learning Denoising from Single Noisy
  Images"): a few pixels of each noisy image are replaced by a random other pixel of their
  neighbourhood, and the loss is taken at those pixels only, against their noisy values. The
  network cannot copy a pixel it does not see, and the noise of a pixel is independent of its
  neighbours', so the best it can do is predict the pixel's expected (clean) value from its
  surroundings. As n2v and CAREamics do, the masked pixels are stratified (one at a random place
  in each box of a grid, so that they spread over the image) and never replaced by themselves.

With a self-supervised target train never sees a clean training image: preprocess writes none
(stages/preprocess.py), and the masks are drawn anew for every batch of every epoch, seeded.

Both methods assume noise of mean zero. Clipping to [0, 1] breaks that where the image is dark or
bright (MNIST is mostly 0 and 1: at Gaussian 0.2, a black pixel's clipped noisy value has a mean
of 0.08), and a model trained on clipped targets learns that bias. So with `train.raw_targets`
preprocess keeps the synthetic noisy copies as measured, before clipping, as a sensor's raw data
holds them (docs/results.md, "Learning from noisy images alone", measures the difference); the
network's input is clipped here, as every image it will denoise is.

Low light (stages/noise.py) darkens the scene to `low_light.brightness` times it before the
sensor's noise, so the mean of its noisy copies is the dark scene, not the scene. The targets are
divided by the brightness, as a camera's exposure gain brightens a dark shot: their mean is then
the scene, and the network learns to brighten and denoise in one pass, as with clean targets.

Noise2Void also assumes noise independent from pixel to pixel; in JPEG files and in photos a
camera has demosaiced it is not, and a blind-spot model then keeps some of it.
"""

import tensorflow as tf


def blind_spot_mask(
    noisy: tf.Tensor, fraction: float, neighbourhood: int, seed: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """(input, mask) for a batch of noisy images (N, height, width, channels), drawn from the
    stateless `seed` (shape [2]).

    About `fraction` of each image's pixels are masked: one at a random place in each
    box x box square of a grid over the image (box = 1 / sqrt(fraction), rounded), as n2v's and
    CAREamics' stratified sampling. Each masked pixel takes all its channels from another pixel,
    drawn uniformly from the `neighbourhood` x `neighbourhood` square around it, its centre left
    out; where that square leaves the image, the offset is mirrored, so the pixel is never its
    own replacement. mask is 1.0 at the masked pixels and 0.0 elsewhere, shape (N, height,
    width): the per-pixel weight of the loss.

    TensorFlow ops, not numpy, so that masking runs in tf.data's threads (docs/speed.md).
    """
    noisy = tf.convert_to_tensor(noisy)
    height, width = noisy.shape[1], noisy.shape[2]
    box = min(round(fraction**-0.5), height, width)  # one masked pixel per image at least
    radius, square = neighbourhood // 2, neighbourhood**2
    grid = [tf.shape(noisy)[0], -(-height // box), -(-width // box)]
    seeds = tf.unstack(tf.random.split(seed, 3))
    place_y = tf.random.stateless_uniform(grid, seeds[0], 0, box, tf.int32)
    place_x = tf.random.stateless_uniform(grid, seeds[1], 0, box, tf.int32)
    pick = tf.random.stateless_uniform(grid, seeds[2], 0, square - 1, tf.int32)
    y = tf.range(grid[1])[:, None] * box + place_y
    x = tf.range(grid[2])[None, :] * box + place_x
    image = tf.broadcast_to(tf.range(grid[0])[:, None, None], grid)
    pick += tf.cast(pick >= square // 2, tf.int32)  # any offset in the square but 0
    dy, dx = pick // neighbourhood - radius, pick % neighbourhood - radius
    dy = tf.where((y + dy >= 0) & (y + dy < height), dy, -dy)
    dx = tf.where((x + dx >= 0) & (x + dx < width), dx, -dx)
    inside = (y < height) & (x < width)  # boxes at the far edges reach past the image
    at = tf.boolean_mask(tf.stack([image, y, x], -1), inside)
    source = tf.boolean_mask(tf.stack([image, y + dy, x + dx], -1), inside)
    masked = tf.tensor_scatter_nd_update(noisy, at, tf.gather_nd(noisy, source))
    mask = tf.scatter_nd(at, tf.ones(tf.shape(at)[:1]), tf.shape(noisy)[:3])
    return masked, mask


def blind_spot(params: dict):
    """An Augment (stages/examples.py) that masks each batch of noisy images anew, from the
    batch's seed: (noisy, noisy) becomes (masked, noisy, mask)."""
    settings = params["blind_spot"]

    def mask(noisy: tf.Tensor, target: tf.Tensor, seed: tf.Tensor) -> tuple:
        masked, weights = blind_spot_mask(
            noisy, settings["masked_fraction"], settings["neighbourhood"], seed
        )
        return masked, target, weights

    return mask


def clipped_input(noisy: tf.Tensor, target: tf.Tensor, seed: tf.Tensor) -> tuple:
    """The input clipped to [0, 1], an image's range; the target as preprocess kept it."""
    return tf.clip_by_value(noisy, 0.0, 1.0), target


def brightened(brightness: float):
    """An Augment that divides low_light's targets by the `brightness` that darkened them, so
    that their mean is the scene (module docstring); the input stays as dark as it came."""

    def brighten(noisy: tf.Tensor, target: tf.Tensor, seed: tf.Tensor) -> tuple:
        return noisy, target / brightness

    return brighten


def either_order(first: tf.Tensor, second: tf.Tensor, seed: tf.Tensor) -> tuple:
    """Noise2Noise's two noisy copies as (input, target), each pair's order drawn at random."""
    swap = tf.random.stateless_uniform([tf.shape(first)[0], 1, 1, 1], seed) < 0.5
    return tf.where(swap, second, first), tf.where(swap, first, second)
