import numpy as np

from stages.examples import (
    VAL_BATCH_PIXELS,
    batches,
    crop_batches,
    eval_batches,
    fresh_noise,
    photos_in,
    read_crop,
    split_train_validation,
    training_data,
    validation_batch_size,
)
from stages.images import to_unit
from stages.outputs import npz_file
from tests.conftest import committed_params


def test_split_is_disjoint_complete_and_seeded():
    train, val = split_train_validation(1000, 0.1, seed=7)
    assert len(val) == 100 and len(train) == 900
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(1000))
    again = split_train_validation(1000, 0.1, seed=7)
    other = split_train_validation(1000, 0.1, seed=8)
    assert np.array_equal(val, again[1]) and not np.array_equal(val, other[1])


def test_batches_pair_each_noisy_image_with_its_clean_one_and_reshuffle_each_epoch():
    clean = np.arange(12, dtype=np.float32).reshape(12, 1, 1, 1)
    noisy = clean + 100
    subset = np.arange(10)  # images 10 and 11 belong to another split
    dataset = batches(noisy, clean, subset, batch_size=4, seed=0)
    epochs = [[(n.numpy(), c.numpy()) for n, c in dataset] for _ in range(2)]
    for epoch in epochs:
        assert [len(c) for _, c in epoch] == [4, 4, 2]
        seen = np.concatenate([c for _, c in epoch]).ravel()
        assert sorted(seen) == list(range(10))
        for n, c in epoch:
            np.testing.assert_array_equal(n, c + 100)
    order = [np.concatenate([c for _, c in epoch]).ravel().tolist() for epoch in epochs]
    assert order[0] != order[1]


def test_fresh_noise_draws_new_noise_every_epoch_from_the_clean_images_and_is_seeded():
    params = {**committed_params(), "noise_factor": 0.2}
    clean = np.full((40, 28, 28, 1), 0.5, np.float32)
    once = clean + 1  # what preprocess drew: never seen with fresh noise

    def epochs(seed: int) -> list[np.ndarray]:
        dataset = batches(once, clean, np.arange(40), 20, seed, [fresh_noise(params)])
        return [np.concatenate([n.numpy() for n, _ in dataset]) for _ in range(2)]

    first, second = epochs(0)
    for noisy in (first, second):
        assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 1
        assert abs((noisy - 0.5).std() - 0.2) < 0.005  # noise_factor, as preprocess draws it
    assert not np.array_equal(first, second)  # new noise every epoch
    again = epochs(0)
    np.testing.assert_array_equal(again[0], first)  # seeded: the same batches again
    np.testing.assert_array_equal(again[1], second)
    assert not np.array_equal(epochs(1)[0], first)


def test_unseeded_batches_keep_the_order_of_the_indices():
    clean = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1)
    got = [c.numpy().ravel().tolist() for _, c in batches(clean, clean, np.array([4, 0, 2]), 2)]
    assert got == [[4, 0], [2]]


def test_validation_batches_are_bounded_by_pixels_not_by_count():
    assert validation_batch_size((28, 28, 1)) == 1000  # MNIST: as many as before
    assert validation_batch_size((96, 96, 3)) == VAL_BATCH_PIXELS // (96 * 96)
    assert validation_batch_size((96, 96, 3)) * 96 * 96 <= VAL_BATCH_PIXELS
    assert validation_batch_size((2048, 2048, 3)) == 1  # one image, however large


def photo_params(**images) -> dict:
    params = committed_params()
    params.update(dataset="images", model="unet", noise_factor=0.1)
    params["images"].update(images)
    return params


def write_photos(path, photos: list[np.ndarray]) -> None:
    """train.npz as preprocess writes it for your own images."""
    arrays = [(f"photo_{i}", photo) for i, photo in enumerate(photos)]
    npz_file([*arrays, ("names", np.array([f"{i}.png" for i in range(len(photos))]))])(path)


def random_photos() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
        rng.integers(0, 65536, (20, 17, 3), dtype=np.uint16),  # 16-bit, at its own depth
    ]


def test_photos_are_found_in_the_npz_and_crops_read_straight_from_the_file(tmp_path):
    path, photos = tmp_path / "train.npz", random_photos()
    write_photos(path, photos)
    found = photos_in(path)
    assert [(p.shape, p.dtype) for p in found] == [(x.shape, x.dtype) for x in photos]
    with np.load(path) as data:  # what np.load reads, the offsets find
        assert all(np.array_equal(data[f"photo_{i}"], x) for i, x in enumerate(photos))
    with path.open("rb") as file:
        for photo, pixels in zip(found, photos, strict=True):
            crop = read_crop(file.fileno(), photo, top=3, left=5, size=12)
            np.testing.assert_array_equal(crop, to_unit(pixels[3:15, 5:17]))
            corner = read_crop(file.fileno(), photo, top=pixels.shape[0] - 8, left=0, size=8)
            np.testing.assert_array_equal(corner, to_unit(pixels[-8:, :8]))


def where_in(crop: np.ndarray, photos: list[np.ndarray]) -> list[tuple[int, int, int]]:
    """Every (photo, top, left) that this crop of a photo could be cut from."""
    size, places = len(crop), []
    for i, photo in enumerate(map(to_unit, photos)):
        for top in range(photo.shape[0] - size + 1):
            for left in range(photo.shape[1] - size + 1):
                if np.array_equal(photo[top : top + size, left : left + size], crop):
                    places.append((i, top, left))
    return places


def epochs_of(dataset, n: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    return [[(noisy.numpy(), clean.numpy()) for noisy, clean in dataset] for _ in range(n)]


def test_the_stream_draws_new_crops_and_noise_every_epoch_from_every_photo(tmp_path):
    path, photos = tmp_path / "train.npz", random_photos()
    write_photos(path, photos)
    params = photo_params(crop_size=8)
    stream = crop_batches(path, photos_in(path), params, 12, 5, seed=[1, 0], fresh=True)
    first, second = epochs_of(stream, 2)
    assert [len(clean) for _, clean in first] == [5, 5, 2]  # 6 crops of each photo
    cut_from = [where_in(crop, photos) for _, clean in first for crop in clean]
    assert all(len(places) == 1 for places in cut_from)  # each a real crop of one photo
    assert sorted(places[0][0] for places in cut_from) == [0] * 6 + [1] * 6
    for epoch in (first, second):
        for noisy, clean in epoch:
            assert noisy.shape == clean.shape == (len(clean), 8, 8, 3)
            assert 0.08 < np.std(noisy - clean) < 0.11  # Gaussian 0.1, clipped at 0 and 1
    assert not np.array_equal(first[0][1], second[0][1])  # new crops
    assert len({noisy.tobytes() for noisy, _ in first + second}) == 6  # new noise

    again = crop_batches(path, photos_in(path), params, 12, 5, seed=[1, 0], fresh=True)
    for (noisy, clean), (noisy_again, clean_again) in zip(
        first, epochs_of(again, 1)[0], strict=True
    ):
        np.testing.assert_array_equal(noisy, noisy_again)  # the same seed: the same batches
        np.testing.assert_array_equal(clean, clean_again)

    fixed = crop_batches(path, photos_in(path), params, 12, 5, seed=[1, 1], fresh=False)
    one, two = epochs_of(fixed, 2)  # validation: the same crops and noise every epoch
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(one, two, strict=True))


def test_noisy_pairs_are_cropped_at_the_same_place_of_both_copies(tmp_path):
    path = tmp_path / "train.npz"
    rng = np.random.default_rng(3)
    photos = [rng.random((30, 40, 3), dtype=np.float32), rng.random((20, 17, 3), dtype=np.float32)]
    arrays = [(f"photo_{i}", photo) for i, photo in enumerate(photos)]
    arrays += [(f"pair_{i}", photo + 10) for i, photo in enumerate(photos)]  # a second shot
    npz_file([*arrays, ("names", np.array(["a.png", "b.png"]))])(path)
    params = photo_params(crop_size=8)
    params["train"]["target"] = "noisy_pair"
    photo_list, pairs = photos_in(path), photos_in(path, "pair_")
    stream = crop_batches(path, photo_list, params, 12, 5, [1, 0], True, pairs)
    for first, second in epochs_of(stream, 1)[0]:
        np.testing.assert_allclose(second, first + 10)  # the same crop of each copy
        for crop in first:
            assert where_in(crop, photos)  # a crop of a photo, no noise added to it
    params["train"]["target"] = "blind_spot"
    alone = crop_batches(path, photo_list, params, 12, 5, [1, 0], True)
    for first, second in epochs_of(alone, 1)[0]:
        np.testing.assert_array_equal(first, second)  # the noisy crop is its own target


def test_training_data_for_photos_counts_crops_per_photo_and_is_seeded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/processed").mkdir(parents=True)
    write_photos(tmp_path / "data/processed/train.npz", random_photos())
    params = photo_params(crop_size=16, crops_per_image=10)
    params["unet"]["batch_size"] = 4
    data = training_data(params)
    assert data.image_shape == (16, 16, 3)
    assert (data.train_count, data.validation_count, data.steps_per_epoch) == (20, 2, 5)
    batch = epochs_of(data.train, 1)[0]
    assert [len(clean) for _, clean in batch] == [4] * 5
    again = epochs_of(training_data(params).train, 1)[0]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batch, again, strict=True))


def test_eval_batches_give_both_layouts_alike_with_their_levels(tmp_path):
    rng = np.random.default_rng(0)
    clean = rng.random((4, 8, 8, 1), dtype=np.float32)
    np.savez(
        tmp_path / "built_in.npz",
        clean=clean,
        noisy=clean + 1,
        labels=np.arange(4),
        noisy_level_0=clean + 2,
        noisy_level_1=clean + 3,
        levels=np.array([0.05, 0.1]),
    )
    (batch,) = eval_batches(tmp_path / "built_in.npz")
    np.testing.assert_array_equal(batch.noisy, clean + 1)
    assert list(batch.at_level) == [0.05, 0.1] and batch.names == []
    np.testing.assert_array_equal(batch.at_level[0.1], clean + 3)
    assert list(batch.labels) == [0, 1, 2, 3]

    photos = [rng.random((h, 9, 3), dtype=np.float32) for h in (10, 12)]
    arrays = {"names": np.array(["a.png", "b.jpg"])}
    for i, photo in enumerate(photos):
        arrays |= {f"clean_{i}": photo, f"noisy_{i}": photo + 1}
    np.savez(tmp_path / "photos.npz", **arrays)
    got = list(eval_batches(tmp_path / "photos.npz"))
    assert [b.names for b in got] == [["a.png"], ["b.jpg"]]
    assert [b.clean.shape for b in got] == [(1, 10, 9, 3), (1, 12, 9, 3)]
    assert all(b.labels is None and b.at_level == {} for b in got)
    np.testing.assert_array_equal(got[1].noisy[0], photos[1] + 1)
