"""fetch.main in a temporary working folder, against local mirrors (no network)."""

import gzip
import resource
import shutil

import numpy as np
import pytest
import tensorflow as tf
import yaml
from PIL import Image

from stages import fetch
from stages.idx import FILES
from stages.runner import StageError
from tests.conftest import committed_params, png_header, serve_folder

UNREACHABLE = "http://127.0.0.1:9/"  # port 9: connection refused


def make_workdir(folder, dataset: str, sums: dict[str, str], public: list[str]) -> None:
    """params.yaml expecting `sums` for `dataset`, and data/<dataset>/mirrors.txt."""
    folder.mkdir(exist_ok=True)
    params = committed_params()
    params["dataset"] = dataset
    params.setdefault(dataset, {}).update(sums)
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    (folder / "data" / dataset).mkdir(parents=True)
    if dataset != "images":
        (folder / "data" / dataset / "mirrors.txt").write_text("# public\n" + "\n".join(public))


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_mnist):
    """A working folder whose params.yaml expects the tiny MNIST; public mirrors unreachable."""
    make_workdir(tmp_path, "mnist", tiny_mnist[1], [UNREACHABLE])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fetches_all_four_files_from_a_local_folder_decompressed(
    workdir, tiny_mnist, monkeypatch, capsys
):
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    fetch.main()
    for name in FILES.values():
        expected = gzip.decompress((tiny_mnist[0] / f"{name}.gz").read_bytes())
        assert (workdir / "data/raw" / name).read_bytes() == expected
    assert capsys.readouterr().out.count("sha256 ok") == 4
    assert sorted(p.name for p in (workdir / "data").iterdir()) == ["mnist", "raw"]


def test_falls_back_to_the_next_mirror_when_one_serves_a_bad_file(
    workdir, tiny_mnist, monkeypatch, tmp_path
):
    bad = tmp_path / "bad_mirror"
    shutil.copytree(tiny_mnist[0], bad)
    (bad / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    for url in serve_folder(tiny_mnist[0]):
        (workdir / "data/mnist/mirrors.txt").write_text(f"{UNREACHABLE}\n{url}\n")
        monkeypatch.setenv("MNIST_MIRROR", str(bad))
        fetch.main()
    assert (workdir / "data/raw/train-labels-idx1-ubyte").read_bytes() == gzip.decompress(
        (tiny_mnist[0] / "train-labels-idx1-ubyte.gz").read_bytes()
    )


def test_a_mirror_that_compresses_differently_serves_the_same_data(
    tmp_path, tiny_mnist, monkeypatch
):
    """Debian's Fashion-MNIST package re-compressed the published .gz files: other .gz bytes,
    the same data. The checksums are the data's, so such a copy is accepted."""
    recompressed = tmp_path / "recompressed"
    recompressed.mkdir()
    for name in FILES.values():
        data = gzip.decompress((tiny_mnist[0] / f"{name}.gz").read_bytes())
        (recompressed / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=1, mtime=7))
    make_workdir(tmp_path / "work", "fashion_mnist", tiny_mnist[1], [UNREACHABLE])
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("FASHION_MNIST_MIRROR", str(recompressed))
    fetch.main()
    assert sorted(p.name for p in (tmp_path / "work/data/raw").iterdir()) == sorted(FILES.values())


def test_fails_with_every_place_tried_and_leaves_nothing(workdir, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_MIRROR", str(tmp_path / "empty"))
    with pytest.raises(StageError) as failure:
        fetch.main()
    message = str(failure.value)
    assert message.startswith(
        "data/raw/train-images-idx3-ubyte: no mirror gave the data with the expected "
        "sha256 (mnist.train_images in params.yaml). Tried: "
    )
    assert f"{tmp_path / 'empty'} (No such file or directory)" in message
    assert f"{UNREACHABLE} (" in message
    assert "Set MNIST_MIRROR to a folder or URL" in message and "\n" not in message
    assert sorted(p.name for p in (workdir / "data").iterdir()) == ["mnist"]


def test_replaces_an_existing_raw_folder_whole(workdir, tiny_mnist, monkeypatch):
    (workdir / "data/raw").mkdir(parents=True)
    (workdir / "data/raw/stale.txt").write_text("old")
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    fetch.main()
    assert sorted(p.name for p in (workdir / "data/raw").iterdir()) == sorted(FILES.values())


def test_a_full_disk_is_named_as_such_not_blamed_on_the_mirror(workdir, tiny_mnist, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # writes past it fail as on a full disk
    try:
        with pytest.raises(StageError) as failure:
            fetch.main()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert str(failure.value) == ("data/raw: cannot write train-images-idx3-ubyte: File too large")
    assert sorted(p.name for p in (workdir / "data").iterdir()) == ["mnist"]


def test_images_are_copied_and_every_other_file_is_named_and_skipped(tmp_path, monkeypatch, capsys):
    make_workdir(tmp_path, "images", {}, [])
    images = tmp_path / "data/images"
    pixels = np.zeros((20, 30, 3), np.uint8)
    (images / "a.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (images / "b.JPG").write_bytes(tf.io.encode_jpeg(pixels).numpy())
    Image.fromarray(pixels).convert("CMYK").save(images / "c_cmyk.jpg")  # one reader for all
    Image.fromarray(pixels).save(images / "d.tif")
    Image.fromarray(pixels).save(images / "e.webp")
    (images / "notes.txt").write_text("not an image")
    (images / "text.png").write_text("not an image either")
    noise = np.random.default_rng(0).integers(0, 256, (20, 30, 3), np.uint8)
    (images / "cut.png").write_bytes(tf.io.encode_png(noise).numpy()[:-200])
    (images / "empty.jpg").write_bytes(b"")
    (images / "huge.png").write_bytes(png_header(20_000, 20_000))  # refused before decoding
    (images / "sub").mkdir()
    (images / ".hidden.png").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    fetch.main()
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    copied = ["a.png", "b.JPG", "c_cmyk.jpg", "d.tif", "e.webp"]
    assert sorted(p.name for p in (tmp_path / "data/raw").iterdir()) == copied
    for name in copied:  # as they are
        assert (tmp_path / "data/raw" / name).read_bytes() == (images / name).read_bytes()
    assert out[:6] == [
        "fetch: skipped data/images/cut.png: cannot decode it (image file is truncated)",
        "fetch: skipped data/images/empty.jpg: empty file",
        "fetch: skipped data/images/huge.png: 20000x20000 pixels, more than the 134,217,728 "
        "allowed per image",
        "fetch: skipped data/images/notes.txt: not an image file (.bmp, .gif, .jpeg, .jpg, .png, "
        ".tif, .tiff, .webp)",
        "fetch: skipped data/images/sub: a folder (only the files directly in it are read)",
        "fetch: skipped data/images/text.png: not an image file Pillow can read (or one cut short)",
    ]
    assert out[6] == "fetch: 5 images from data/images/ into data/raw/, 6 skipped"
    assert "JPEG" not in captured.err  # no stray libjpeg line


def test_a_folder_without_images_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    make_workdir(tmp_path, "images", {}, [])
    (tmp_path / "data/images/notes.txt").write_text("not an image")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StageError, match=r"^data/images: no image to train on \(1 skipped\)$"):
        fetch.main()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["images"]
