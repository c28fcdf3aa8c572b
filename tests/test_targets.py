import keras
import numpy as np
import pytest
import tensorflow as tf

from stages.examples import batches, targets
from stages.targets import blind_spot, blind_spot_mask, either_order
from stages.train import black_loss, training_loss
from tests.conftest import committed_params


def numbered(n: int, height: int, width: int, channels: int = 3) -> np.ndarray:
    """Images whose every value is distinct, so that a value names the pixel it came from."""
    return np.arange(n * height * width * channels, dtype=np.float32).reshape(
        n, height, width, channels
    )


def mask_of(
    noisy: np.ndarray, fraction: float, neighbourhood: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    masked, mask = blind_spot_mask(noisy, fraction, neighbourhood, tf.constant([seed, 0]))
    return masked.numpy(), mask.numpy()


def source_of(value: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    return np.unravel_index(int(value), shape)


@pytest.mark.parametrize("neighbourhood", [3, 5, 9])
def test_each_masked_pixel_comes_from_another_pixel_of_its_neighbourhood(neighbourhood):
    noisy = numbered(4, 28, 28)
    masked, mask = mask_of(noisy, 0.02, neighbourhood, 0)
    assert mask.shape == (4, 28, 28) and set(np.unique(mask)) == {0.0, 1.0}
    unmasked = mask == 0
    np.testing.assert_array_equal(masked[unmasked], noisy[unmasked])  # the rest untouched
    radius, offsets = neighbourhood // 2, set()
    for image, y, x in zip(*np.nonzero(mask), strict=True):
        sources = {source_of(v, noisy.shape)[:3] for v in masked[image, y, x]}
        assert len(sources) == 1  # all its channels from one pixel ...
        ((n, sy, sx),) = sources
        assert [source_of(v, noisy.shape)[3] for v in masked[image, y, x]] == [0, 1, 2]
        assert n == image and (sy, sx) != (y, x)  # ... of the same image, never itself
        assert abs(sy - y) <= radius and abs(sx - x) <= radius
        offsets.add((sy - y, sx - x))
    assert len(offsets) > neighbourhood**2 // 2  # drawn across the square, not from one place


def test_masked_pixels_are_stratified_at_the_fraction_asked():
    noisy = numbered(50, 28, 28, 1)
    _, mask = mask_of(noisy, 0.02, 5, 1)
    per_image = mask.sum(axis=(1, 2))
    assert np.all(per_image == 16)  # one in each 7x7 box: 1 / sqrt(0.02) = 7.07
    rows, cols = np.nonzero(mask.sum(axis=0))
    assert rows.min() == 0 and rows.max() == 27 and cols.min() == 0 and cols.max() == 27
    boxes = mask.reshape(50, 4, 7, 4, 7).sum(axis=(2, 4))
    assert np.all(boxes == 1)
    _, finer = mask_of(noisy, 0.1, 5, 1)  # boxes of 3x3
    assert abs(finer.mean() - 0.1) < 0.015


def test_pixels_at_the_edges_are_replaced_from_inside_the_image():
    noisy = numbered(200, 16, 16, 1)
    masked, mask = mask_of(noisy, 0.25, 5, 2)  # boxes of 2x2
    edge = mask.copy()
    edge[:, 2:-2, 2:-2] = 0
    assert edge.sum() > 100
    for image, y, x in zip(*np.nonzero(edge), strict=True):
        n, sy, sx, _ = source_of(masked[image, y, x, 0], noisy.shape)
        assert n == image and (sy, sx) != (y, x) and abs(sy - y) <= 2 and abs(sx - x) <= 2


def test_masks_are_drawn_anew_every_step_seeded_and_the_same_for_validation():
    params = committed_params()
    params["blind_spot"] = {"masked_fraction": 0.05, "neighbourhood": 5}
    noisy = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    mask = blind_spot(params)

    def two_epochs(seed: int, fresh: bool) -> list[list[np.ndarray]]:
        dataset = batches(noisy, noisy, np.arange(8), 4, seed, [mask], fresh)
        epochs = []
        for _ in range(2):
            epoch = []
            for masked, target, weights in dataset:
                assert weights.shape == (4, 28, 28)
                changed = np.any(masked.numpy() != target.numpy(), axis=-1)
                assert np.all(weights.numpy()[changed] == 1)  # only masked pixels differ
                epoch.append(weights.numpy())
            epochs.append(epoch)
        return epochs

    first, second = two_epochs(0, True)
    assert not np.array_equal(first[0], first[1])  # a new mask every step ...
    assert not np.array_equal(first[0], second[0])  # ... and every epoch
    np.testing.assert_array_equal(two_epochs(0, True)[0][0], first[0])  # seeded
    assert not np.array_equal(two_epochs(1, True)[0][0], first[0])
    fixed = two_epochs(0, False)
    np.testing.assert_array_equal(fixed[0][0], fixed[1][0])  # validation: the same every epoch


def test_noisy_pairs_come_in_either_order_drawn_per_pair():
    first, second = np.zeros((400, 2, 2, 1), np.float32), np.ones((400, 2, 2, 1), np.float32)
    inputs, targets = either_order(tf.constant(first), tf.constant(second), tf.constant([3, 4]))
    inputs, targets = inputs.numpy(), targets.numpy()
    np.testing.assert_array_equal(inputs + targets, 1)  # one of each, whole images
    assert 150 < inputs[:, 0, 0, 0].sum() < 250
    again, _ = either_order(tf.constant(first), tf.constant(second), tf.constant([3, 4]))
    np.testing.assert_array_equal(again.numpy(), inputs)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_the_blind_spot_loss_is_the_mean_over_the_masked_pixels_alone(loss):
    rng = np.random.default_rng(0)
    inputs, target = rng.random((2, 4, 8, 8, 3), dtype=np.float32)
    weights = (rng.random((4, 8, 8)) < 0.1).astype(np.float32)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 3, padding="same")])
    prediction = model.predict(inputs, verbose=0)
    error = np.abs(target - prediction) ** (2 if loss == "mse" else 1)
    expected = error.mean(axis=-1)[weights == 1].mean()
    model.compile(loss=training_loss({"target": "blind_spot", "loss": loss}))
    masked_batch = tf.data.Dataset.from_tensor_slices((inputs, target, weights)).batch(4)
    assert model.evaluate(masked_batch, verbose=0) == pytest.approx(expected, rel=1e-5)
    validation = tf.data.Dataset.from_tensors((inputs, target, weights))
    black = np.abs(target) ** (2 if loss == "mse" else 1)
    assert black_loss(validation, loss) == pytest.approx(black.mean(-1)[weights == 1].mean())
    assert training_loss({"target": "clean", "loss": loss}) == loss


@pytest.mark.parametrize("target", ["noisy_pair", "blind_spot"])
def test_unclipped_targets_keep_their_values_and_the_input_is_clipped(target):
    params = committed_params()
    params["train"]["target"] = target
    raw = np.random.default_rng(0).normal(0.5, 0.6, (8, 16, 16, 1)).astype(np.float32)
    chain = targets(params, training=True)
    dataset = batches(raw, raw + 0.01, np.arange(8), 8, 0, chain, fresh=False)  # in order
    (batch,) = list(dataset)
    inputs, goals = batch[0].numpy(), batch[1].numpy()
    assert inputs.min() == 0 and inputs.max() == 1  # an image, as denoise will give it
    assert goals.min() < -0.5 and goals.max() > 1.5  # the targets as measured
    if target == "noisy_pair":  # per image: one copy is the input (clipped), the other the target
        for k, (first, second) in enumerate(zip(raw, raw + 0.01, strict=True)):
            kept = np.array_equal(goals[k], second) and np.array_equal(inputs[k], first.clip(0, 1))
            swapped = np.array_equal(goals[k], first) and np.array_equal(
                inputs[k], second.clip(0, 1)
            )
            assert kept or swapped


@pytest.mark.parametrize("target", ["noisy_pair", "blind_spot"])
def test_low_light_targets_are_brightened_by_the_brightness_and_the_input_is_not(target):
    params = committed_params()
    params["train"]["target"], params["noise"] = target, "low_light"
    params["low_light"]["brightness"] = 0.25
    dark = np.random.default_rng(0).uniform(0, 0.25, (8, 16, 16, 1)).astype(np.float32)
    second = dark + 0.01 if target == "noisy_pair" else dark  # blind_spot: the shot itself
    chain = targets(params, training=False)  # pairs in their order
    (batch,) = list(batches(dark, second, np.arange(8), 8, 0, chain, fresh=False))
    inputs, goals = batch[0].numpy(), batch[1].numpy()
    np.testing.assert_allclose(goals, second / 0.25, rtol=1e-6)  # their mean: the lit scene
    if target == "noisy_pair":
        np.testing.assert_array_equal(inputs, dark)  # the dark shot, as denoise will get it
    else:  # masked in places, dark everywhere
        assert np.mean(inputs == dark) > 0.9 and inputs.max() <= 0.25
