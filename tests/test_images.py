"""Reading image files as cameras, phones and scanners write them (stages/images.py)."""

import struct

import numpy as np
import pytest
import tensorflow as tf
import tifffile
from PIL import Image, ImageOps

from stages.images import (
    MAX_PIXELS,
    files_in,
    from_unit,
    read_image,
    read_unit,
    shape_of,
    to_unit,
    with_channels,
)
from tests.conftest import png_header

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (20, 30, 3), np.uint8)
RGBA16 = RNG.integers(0, 65536, (20, 30, 4), np.uint16)


def save(image: Image.Image, path, **options):
    image.save(path, **options)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_every_viewer_applies_it(tmp_path, orientation):
    image = Image.fromarray(RGB)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = save(image, tmp_path / "phone.jpg", exif=exif, quality=100)
    seen = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    pixels, alpha = read_image(path)
    np.testing.assert_array_equal(pixels, seen)
    assert alpha is None
    assert shape_of(path) == (*seen.shape[:2], 3)  # from the header, turned too
    if orientation >= 5:
        assert pixels.shape[:2] == (30, 20)


def upright_as_pillow_turns_it(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels moved where ImageOps.exif_transpose moves them, whatever their depth."""
    count = pixels.shape[0] * pixels.shape[1]
    positions = Image.fromarray(np.arange(count, dtype=np.int32).reshape(pixels.shape[:2]))
    positions.getexif()[0x0112] = orientation
    moved = np.asarray(ImageOps.exif_transpose(positions))
    return pixels.reshape(-1, pixels.shape[-1])[moved]


@pytest.mark.parametrize("orientation", [1, 2, 3, 5, 6, 8])
@pytest.mark.parametrize("depth", [8, 16])
def test_a_tiffs_own_orientation_is_applied_once(tmp_path, orientation, depth):
    pixels = RGB if depth == 8 else RGBA16[..., :3]
    path = tmp_path / "scan.tif"
    if depth == 8:  # Pillow turns it as it reads it
        Image.fromarray(pixels).save(path, tiffinfo={0x0112: orientation})
    else:  # tifffile does not: stages/images.py turns it
        tifffile.imwrite(path, pixels, photometric="rgb", extratags=[(0x0112, "H", 1, orientation)])
    expected = upright_as_pillow_turns_it(pixels, orientation)
    np.testing.assert_array_equal(read_image(path)[0], expected)
    assert shape_of(path) == (*expected.shape[:2], 3)


def test_big_endian_sixteen_bit_gray_keeps_its_values(tmp_path):
    tifffile.imwrite(tmp_path / "scan.tif", RGBA16[..., 0], byteorder=">")
    np.testing.assert_array_equal(read_image(tmp_path / "scan.tif")[0][..., 0], RGBA16[..., 0])


def test_a_corrupt_or_cmyk_sixteen_bit_tiff_is_one_reason(tmp_path):
    tifffile.imwrite(tmp_path / "cut.tif", RGBA16[..., :3], photometric="rgb", compression="zlib")
    data = (tmp_path / "cut.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[:200] + bytes(len(data) - 200))
    with pytest.raises(ValueError, match="cannot decode this 16-bit TIFF"):
        read_image(tmp_path / "cut.tif")
    tifffile.imwrite(tmp_path / "cmyk.tif", RGBA16, photometric="separated")
    with pytest.raises(ValueError, match="16-bit CMYK, which is not read"):
        read_image(tmp_path / "cmyk.tif")


def test_a_png_padded_before_its_pixels_is_refused_before_pillow_reads_the_padding(tmp_path):
    small = tf.io.encode_png(RGB).numpy()
    pad = 100 << 20
    chunk = struct.pack(">I", pad) + b"zzZz" + bytes(pad) + bytes(4)
    (tmp_path / "padded.png").write_bytes(small[:33] + chunk + small[33:])
    with pytest.raises(ValueError, match="a 104,857,600-byte 'zzZz' chunk before its pixels"):
        shape_of(tmp_path / "padded.png")


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_gray_and_colour_are_read_at_full_depth(tmp_path, suffix, channels):
    pixels = RGBA16[..., :channels]
    path = tmp_path / f"scan{suffix}"
    if suffix == ".png":
        path.write_bytes(tf.io.encode_png(pixels).numpy())
    else:
        tifffile.imwrite(path, pixels[..., 0] if channels == 1 else pixels, photometric=None)
    read, alpha = read_image(path)
    assert read.dtype == np.uint16 and alpha is None
    np.testing.assert_array_equal(read, pixels)
    assert len(np.unique(read)) > 256  # not cut to 8 bits
    np.testing.assert_array_equal(read_unit(path, channels), pixels / np.float32(65535))


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("channels", [2, 4])
def test_alpha_comes_apart_from_the_colour_channels(tmp_path, channels, depth):
    pixels = RGBA16[..., :channels] if depth == 16 else RGBA16[..., :channels].astype(np.uint8)
    path = tmp_path / "logo.png"
    path.write_bytes(tf.io.encode_png(pixels).numpy())
    colour, alpha = read_image(path)
    np.testing.assert_array_equal(colour, pixels[..., :-1])
    np.testing.assert_array_equal(alpha, pixels[..., -1:])
    assert shape_of(path) == (20, 30, channels - 1)


def test_a_cmyk_jpeg_is_read_as_the_colours_it_shows(tmp_path):
    path = save(Image.fromarray(RGB).convert("CMYK"), tmp_path / "print.jpg", quality=100)
    pixels, _ = read_image(path)
    assert pixels.shape == RGB.shape
    assert np.abs(pixels.astype(int) - RGB).mean() < 2  # JPEG's loss alone


@pytest.mark.parametrize("suffix", [".tif", ".webp", ".bmp", ".gif"])
def test_other_common_formats_are_read(tmp_path, suffix):
    gray = RGB[..., 0]  # a GIF's palette holds 256 grays exactly
    image = Image.fromarray(RGB if suffix != ".gif" else gray)
    path = save(
        image, tmp_path / f"photo{suffix}", **({"lossless": True} if suffix == ".webp" else {})
    )
    pixels, _ = read_image(path)
    expected = RGB if suffix != ".gif" else np.repeat(gray[..., np.newaxis], 3, axis=-1)
    np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello, not an image", "not an image file Pillow can read"),
        (png_header(20_000, 20_000), f"more than the {MAX_PIXELS:,} allowed per image"),
    ],
    ids=["empty", "text", "too-many-pixels"],
)
def test_files_that_are_no_image_or_too_large_are_refused_from_their_header(
    tmp_path, content, reason
):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    for read in (shape_of, read_image):
        with pytest.raises(ValueError, match=reason):
            read(path)


def test_a_file_cut_short_is_refused_when_decoded(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(tf.io.encode_png(RGB).numpy()[:80])
    with pytest.raises(ValueError, match="cannot decode it"):
        read_image(path)


def test_a_folder_lists_its_images_and_says_why_it_leaves_out_the_rest(tmp_path):
    for name in ("b.TIF", "a.png", "c.webp", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    images, left_out = files_in(tmp_path)
    assert [p.name for p in images] == ["a.png", "b.TIF", "c.webp"]
    reasons = {p.name: reason for p, reason in left_out}
    assert set(reasons) == {"notes.txt", "sub"}
    assert reasons["sub"].startswith("a folder") and reasons["notes.txt"].startswith("not an image")


def test_unit_scaling_keeps_every_level_of_each_depth():
    for dtype in (np.uint8, np.uint16):
        levels = np.arange(np.iinfo(dtype).max + 1, dtype=dtype)
        np.testing.assert_array_equal(from_unit(to_unit(levels), dtype), levels)
    floats = np.array([0.25], np.float32)
    assert to_unit(floats) is floats and from_unit(floats, np.float32) is floats


def test_colour_to_gray_is_pillows_luma_and_gray_to_colour_repeats():
    gray = with_channels(RGB, 1)
    pillow = np.asarray(Image.fromarray(RGB).convert("L"))
    assert np.abs(gray[..., 0].astype(int) - pillow).max() <= 1
    np.testing.assert_array_equal(with_channels(gray, 3), np.repeat(gray, 3, axis=-1))
