import itertools

import numpy as np
import tensorflow as tf

from stages.augment import augment_pairs, random_channel_orders, random_flips
from stages.examples import batches

SEED = tf.constant([3, 4], tf.int64)


def distinct_pixels(n: int, side: int = 4, channels: int = 3) -> np.ndarray:
    """n images whose every value is different, so where each value went shows the transform."""
    return np.arange(n * side * side * channels, dtype=np.float32).reshape(n, side, side, channels)


def symmetries_of_the_square(image: np.ndarray) -> list[np.ndarray]:
    """The 8 rotations and reflections of an (H, W, C) image."""
    turns = [np.rot90(image, k) for k in range(4)]
    return turns + [np.fliplr(turn) for turn in turns]


def test_flips_draw_every_symmetry_of_the_square_and_nothing_else():
    images = np.repeat(distinct_pixels(1), 400, axis=0)
    flipped = random_flips(tf.constant(images), SEED).numpy()
    symmetries = symmetries_of_the_square(images[0])
    drawn = [next(k for k, s in enumerate(symmetries) if np.array_equal(f, s)) for f in flipped]
    counts = np.bincount(drawn, minlength=8)
    assert np.all(counts > 25), counts  # each of 8 about 50 times in 400


def test_channel_orders_draw_every_order_and_move_whole_channels():
    images = np.repeat(distinct_pixels(1), 300, axis=0)
    reordered = random_channel_orders(tf.constant(images), 3, SEED).numpy()
    orders = list(itertools.permutations(range(3)))
    drawn = [
        next(k for k, o in enumerate(orders) if np.array_equal(r, images[0][..., o]))
        for r in reordered
    ]
    assert np.all(np.bincount(drawn, minlength=6) > 25)  # each of 6 about 50 times in 300


def test_pairs_are_transformed_alike_and_the_same_seed_gives_the_same_batch():
    clean = distinct_pixels(64)
    noisy = clean + 1000  # the pair's relation must survive any transform
    a_noisy, a_clean = (
        x.numpy() for x in augment_pairs(noisy, clean, SEED, flips=True, channel_orders=True)
    )
    np.testing.assert_array_equal(a_noisy, a_clean + 1000)
    assert not np.array_equal(a_clean, clean)
    again = augment_pairs(noisy, clean, SEED, flips=True, channel_orders=True)
    other = augment_pairs(noisy, clean, SEED + 1, flips=True, channel_orders=True)
    np.testing.assert_array_equal(again[0].numpy(), a_noisy)
    assert not np.array_equal(other[1].numpy(), a_clean)


def test_each_choice_alone_and_one_channel():
    clean = distinct_pixels(32)
    _, flipped = augment_pairs(clean, clean, SEED, flips=True, channel_orders=False)
    for image, original in zip(flipped.numpy(), clean, strict=True):  # channels stay in place
        assert any(np.array_equal(image, s) for s in symmetries_of_the_square(original))
    _, reordered = augment_pairs(clean, clean, SEED, flips=False, channel_orders=True)
    np.testing.assert_array_equal(np.sort(reordered.numpy(), axis=-1), clean)  # pixels in place
    gray = distinct_pixels(8, channels=1)
    _, same = augment_pairs(gray, gray, SEED, flips=False, channel_orders=True)
    np.testing.assert_array_equal(same.numpy(), gray)


def test_batches_draw_new_transforms_each_epoch_and_the_same_ones_for_the_same_seed():
    clean = np.repeat(distinct_pixels(1), 8, axis=0)  # alike: only the draws tell epochs apart

    def augment(noisy, clean, seed):
        return augment_pairs(noisy, clean, seed, flips=True, channel_orders=True)

    def two_epochs(seed: int) -> list[np.ndarray]:
        dataset = batches(clean + 1000, clean, np.arange(8), 4, seed, [augment])
        epochs = []
        for _ in range(2):
            pairs = [(n.numpy(), c.numpy()) for n, c in dataset]
            for n, c in pairs:
                np.testing.assert_array_equal(n, c + 1000)
            epochs.append(np.concatenate([c for _, c in pairs]))
        return epochs

    first, second = two_epochs(0)
    assert not np.array_equal(first, second)
    for a, b in zip(two_epochs(0), (first, second), strict=True):
        np.testing.assert_array_equal(a, b)
