"""The `denoise` command, run as users run it, on image files these tests write themselves.

Most tests call its main() in this process, as the console script does, so that TensorFlow is
loaded once; those about the process itself (its stderr as a terminal shows it, Ctrl-C, memory,
two at once) run it as a command.

An untrained U-Net is exactly the identity (its last layer starts at zero), so its output must
equal its input pixel for pixel: that checks reading, batching, cropping and writing end to end.
"""

import contextlib
import io
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tifffile
from PIL import Image, ImageOps

from stages import denoise
from stages.models import build_dense_autoencoder, build_unet
from tests.conftest import png_header

pytestmark = pytest.mark.slow  # runs the command as a user does: `pytest -m "not slow"` skips it
DENOISE = [sys.executable, "-m", "stages.denoise"]


def run(*args: object) -> subprocess.CompletedProcess:
    """`denoise ARGS`, called in this process: its exit status and what it printed."""
    argv, out, err = list(map(str, args)), io.StringIO(), io.StringIO()
    sigint = signal.getsignal(signal.SIGINT)  # denoise sets its own, for Ctrl-C
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = denoise.main(argv)
    except SystemExit as e:  # what the interpreter makes of sys.exit(...) at the top level
        status = e.code if isinstance(e.code, int) else (e.code is not None)
        if isinstance(e.code, str):
            err.write(e.code + "\n")
    finally:
        signal.signal(signal.SIGINT, sigint)
    return subprocess.CompletedProcess(argv, int(status), out.getvalue(), err.getvalue())


def run_command(*args: object) -> subprocess.CompletedProcess:
    """`python -m stages.denoise ARGS` in a process of its own."""
    return subprocess.run([*DENOISE, *map(str, args)], capture_output=True, text=True)


def write_image(path: Path, height: int, width: int, seed: int, channels: int = 1) -> np.ndarray:
    """Write a random PNG or JPEG (by suffix); return the uint8 pixels Pillow reads."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)
    encode = tf.io.encode_png if path.suffix == ".png" else tf.io.encode_jpeg
    path.write_bytes(encode(pixels).numpy())
    seen = np.asarray(Image.open(path).convert("L" if channels == 1 else "RGB"))
    return seen.reshape(height, width, channels)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    """The command's own error lines (TensorFlow and libjpeg also write to stderr)."""
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def read_png(path: Path) -> np.ndarray:
    assert path.read_bytes().startswith(b"\x89PNG")
    return tf.io.decode_png(path.read_bytes()).numpy()


@pytest.fixture(scope="module")
def unet_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "unet.keras"
    build_unet(depth=2, filters=4).save(path)
    return path


@pytest.fixture(scope="module")
def colour_unet_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "colour_unet.keras"
    build_unet(depth=2, filters=4, channels=3).save(path)
    return path


@pytest.fixture(scope="module")
def dense_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "dense.keras"
    build_dense_autoencoder([16]).save(path)
    return path


def test_png_and_jpeg_of_odd_sizes_and_a_folder_come_out_as_pngs_of_the_same_names(
    tmp_path, unet_path
):

    photos = tmp_path / "photos"
    photos.mkdir()
    expected = {
        "odd.png": write_image(tmp_path / "odd.png", 33, 17, seed=0),
        "colour.jpg": write_image(photos / "colour.jpg", 40, 29, seed=1, channels=3),
        "small.png": write_image(photos / "small.png", 5, 7, seed=2),
        "same_size.png": write_image(photos / "same_size.png", 33, 17, seed=3),
    }
    (photos / "notes.txt").write_text("not an image, and not picked up from a folder")

    result = run(tmp_path / "odd.png", photos, "-o", tmp_path / "out", "--model", unet_path)

    assert result.returncode == 0, result.stderr
    assert "4 of 4 image(s) written" in result.stdout
    assert (  # said once, for the one colour image
        result.stdout.count("is a grayscale model: each channel of a colour image is denoised") == 1
    )
    for name, pixels in expected.items():
        out = read_png(tmp_path / "out" / (Path(name).stem + ".png"))
        np.testing.assert_array_equal(out, pixels)  # identity model: same pixels, same size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        Path(n).stem + ".png" for n in expected
    )


def test_bad_files_are_reported_one_line_each_and_the_rest_still_done(tmp_path, unet_path):
    good = write_image(tmp_path / "good.png", 28, 28, seed=0)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    (tmp_path / "truncated.jpg").write_bytes(
        tf.io.encode_jpeg(np.zeros((9, 9, 1), np.uint8)).numpy()[:20]
    )

    result = run(
        *(
            tmp_path / n
            for n in ("empty.png", "good.png", "text.png", "truncated.jpg", "missing.png")
        ),
        "-o",
        tmp_path / "out",
        "--model",
        unet_path,
    )

    assert result.returncode == 1
    lines = errors(result)
    assert len(lines) == 4, result.stderr
    assert lines[0] == f"error: {tmp_path / 'empty.png'}: empty file"
    assert (
        lines[1]
        == f"error: {tmp_path / 'text.png'}: not an image file Pillow can read (or one cut short)"
    )
    assert lines[2] == (  # cut before its frame header: refused without decoding
        f"error: {tmp_path / 'truncated.jpg'}: not an image file Pillow can read (or one cut short)"
    )
    assert lines[3] == f"error: {tmp_path / 'missing.png'}: No such file or directory"
    np.testing.assert_array_equal(read_png(tmp_path / "out/good.png"), good)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]


def test_inputs_are_never_overwritten(tmp_path, unet_path):
    write_image(tmp_path / "digit.png", 28, 28, seed=0)
    before = (tmp_path / "digit.png").read_bytes()

    result = run(tmp_path / "digit.png", "-o", tmp_path, "--model", unet_path)

    assert result.returncode == 1
    assert errors(result) == [
        f"error: {tmp_path / 'digit.png'}: would overwrite the input {tmp_path / 'digit.png'}; "
        "choose another --output"
    ]
    assert (tmp_path / "digit.png").read_bytes() == before


def test_the_dense_model_refuses_other_sizes_unless_asked_to_resize(tmp_path, dense_path):
    write_image(tmp_path / "mnist.png", 28, 28, seed=0)
    write_image(tmp_path / "big.png", 56, 40, seed=1)

    refused = run(
        tmp_path / "mnist.png", tmp_path / "big.png", "-o", tmp_path / "a", "--model", dense_path
    )
    resized = run(tmp_path / "big.png", "-o", tmp_path / "b", "--model", dense_path, "--resize")

    assert refused.returncode == 1
    assert errors(refused) == [
        f"error: {tmp_path / 'big.png'}: 56x40 image, but the model takes only 28x28; "
        "pass --resize to resize it (the output will be 28x28)"
    ]
    assert read_png(tmp_path / "a/mnist.png").shape == (28, 28, 1)
    assert resized.returncode == 0, resized.stderr
    assert read_png(tmp_path / "b/big.png").shape == (28, 28, 1)


def test_a_missing_model_is_one_line_and_writes_nothing(tmp_path):
    write_image(tmp_path / "digit.png", 28, 28, seed=0)
    result = run(tmp_path / "digit.png", "-o", tmp_path / "out", "--model", tmp_path / "none.keras")
    assert result.returncode == 1
    assert errors(result) == [
        f"error: no model at {tmp_path / 'none.keras'}: train one with `dvc repro`"
    ]
    assert not (tmp_path / "out").exists()


def test_the_installed_console_script_runs(tmp_path, unet_path):
    """`pip install -r requirements.txt` installs the project, and with it the `denoise` command."""
    script = Path(sys.executable).parent / "denoise"
    pixels = write_image(tmp_path / "digit.png", 30, 30, seed=0)
    result = subprocess.run(
        [script, tmp_path / "digit.png", "-o", tmp_path / "out", "--model", unet_path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # none of TensorFlow's start-up lines (oneDNN, CUDA) reach a user
    assert f"denoise: {tmp_path / 'digit.png'} -> {tmp_path / 'out/digit.png'}" in result.stdout
    np.testing.assert_array_equal(read_png(tmp_path / "out/digit.png"), pixels)


def test_batches_split_across_model_calls_give_every_image_its_own_result(tmp_path, unet_path):
    pixels = [write_image(tmp_path / f"{i}.png", 12, 10, seed=i) for i in range(3)]
    result = run(tmp_path, "-o", tmp_path / "out", "--model", unet_path, "--tile", "16")
    assert result.returncode == 0, result.stderr
    for i, expected in enumerate(pixels):  # 256 pixels a call: batches of 2 images and 1
        np.testing.assert_array_equal(read_png(tmp_path / f"out/{i}.png"), expected)


def test_two_inputs_with_the_same_output_name_do_not_overwrite_each_other(tmp_path, unet_path):
    first = write_image(tmp_path / "a.png", 10, 10, seed=0)
    write_image(tmp_path / "a.jpg", 10, 10, seed=1)
    result = run(
        tmp_path / "a.png", tmp_path / "a.jpg", "-o", tmp_path / "out", "--model", unet_path
    )
    assert result.returncode == 1
    assert errors(result) == [
        f"error: {tmp_path / 'a.jpg'}: {tmp_path / 'out/a.png'} is already the output of "
        "another input of the same name"
    ]
    np.testing.assert_array_equal(read_png(tmp_path / "out/a.png"), first)


def test_an_empty_folder_and_a_tile_too_small_are_errors(tmp_path, unet_path):
    (tmp_path / "empty").mkdir()
    empty = run(tmp_path / "empty", "-o", tmp_path / "out", "--model", unet_path)
    assert empty.returncode == 1
    assert errors(empty) == [f"error: {tmp_path / 'empty'}: no image files in this folder"]
    small = run(tmp_path / "empty", "-o", tmp_path / "out", "--tile", "8")
    assert small.returncode == 2
    assert "--tile must be an integer >= 16, got 8" in small.stderr


def test_a_file_that_is_not_a_model_is_one_line(tmp_path):
    write_image(tmp_path / "digit.png", 28, 28, seed=0)
    (tmp_path / "model.keras").write_text("not a model")
    result = run(
        tmp_path / "digit.png", "-o", tmp_path / "out", "--model", tmp_path / "model.keras"
    )
    assert result.returncode == 1
    [line] = errors(result)
    assert line.startswith(f"error: {tmp_path / 'model.keras'}: not a Keras model file (")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_model_file_cut_short_is_named_as_such(tmp_path, unet_path):
    write_image(tmp_path / "digit.png", 28, 28, seed=0)
    data = unet_path.read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])  # a copy that stopped halfway
    result = run(tmp_path / "digit.png", "-o", tmp_path / "out", "--model", tmp_path / "cut.keras")
    assert result.returncode == 1
    assert errors(result) == [
        f"error: {tmp_path / 'cut.keras'}: not a Keras model file "
        "(not a .keras zip archive, or one cut short)"
    ]


def test_an_output_that_is_a_file_is_one_line_up_front(tmp_path, unet_path):
    for i in range(3):
        write_image(tmp_path / f"{i}.png", 28, 28, seed=i)
    (tmp_path / "out.png").write_bytes(b"an existing file")
    result = run(*(tmp_path / f"{i}.png" for i in range(3)), "-o", tmp_path / "out.png")
    assert result.returncode == 1
    assert errors(result) == [
        f"error: {tmp_path / 'out.png'}: not a folder; -o names the folder for the results"
    ]
    assert (tmp_path / "out.png").read_bytes() == b"an existing file"


def test_a_colour_model_keeps_colour_and_takes_gray_images_too(tmp_path):
    model_path = tmp_path / "colour.keras"
    build_unet(depth=2, filters=4, channels=3).save(model_path)
    colour = write_image(tmp_path / "photo.png", 30, 41, seed=0, channels=3)
    gray = write_image(tmp_path / "scan.png", 30, 41, seed=1, channels=1)
    result = run(
        tmp_path / "photo.png", tmp_path / "scan.png", "-o", tmp_path / "out", "--model", model_path
    )
    assert result.returncode == 0, result.stderr
    assert "grayscale model" not in result.stdout
    np.testing.assert_array_equal(read_png(tmp_path / "out/photo.png"), colour)
    np.testing.assert_array_equal(read_png(tmp_path / "out/scan.png"), gray)  # gray stays gray


def test_a_large_image_in_tiles_comes_out_as_the_whole_image_would(tmp_path):
    model = build_unet(depth=2, filters=4, batch_norm=True)
    rng = np.random.default_rng(0)
    for weight in model.weights:  # not the identity: a model that changes the image
        low, high = (0.5, 1.5) if "variance" in weight.path else (-0.3, 0.3)
        weight.assign(rng.uniform(low, high, weight.shape).astype(np.float32))
    model.save(tmp_path / "model.keras")
    write_image(tmp_path / "big.png", 300, 205, seed=0)
    outputs = {}
    for tile in (48, 512):  # 7 x 5 tiles with margins, or the whole image in one call
        run_result = run(
            tmp_path / "big.png",
            "-o",
            tmp_path / f"out{tile}",
            "--model",
            tmp_path / "model.keras",
            "--tile",
            tile,
        )
        assert run_result.returncode == 0, run_result.stderr
        outputs[tile] = read_png(tmp_path / f"out{tile}/big.png").astype(int)
    assert np.abs(outputs[48] - outputs[512]).max() <= 1  # float rounding, then 8 bits
    assert np.abs(outputs[512] - read_png(tmp_path / "big.png").astype(int)).max() > 10


@pytest.mark.parametrize(
    "name, write, reason",
    [  # the depth-2 U-Net pads to a multiple of 4, so it needs 3 pixels a side
        (
            "dot.png",
            lambda path: write_image(path, 2, 2, seed=0),
            "2x2 image, smaller than the 3 pixels a side this model takes",
        ),
        (
            "huge.png",
            lambda path: path.write_bytes(png_header(40_000, 40_000)),
            "40000x40000 pixels, more than the 134,217,728 allowed per image",
        ),  # refused before decoding
    ],
)
def test_an_image_the_model_cannot_take_is_one_line_and_the_rest_still_done(
    tmp_path, unet_path, name, write, reason
):
    write(tmp_path / name)
    fine = write_image(tmp_path / "fine.png", 3, 9, seed=1)
    result = run(tmp_path, "-o", tmp_path / "out", "--model", unet_path)
    assert result.returncode == 1
    assert errors(result) == [f"error: {tmp_path / name}: {reason}"]
    np.testing.assert_array_equal(read_png(tmp_path / "out/fine.png"), fine)


# Files as cameras, phones and scanners write them.


def identity_output(tmp_path, unet_path, name: str) -> np.ndarray:
    """Run denoise with the identity U-Net on tmp_path/name; the PNG it writes, at its depth."""
    result = run(tmp_path / name, "-o", tmp_path / "out", "--model", unet_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / (Path(name).stem + ".png")
    assert out.read_bytes().startswith(b"\x89PNG")
    return tf.io.decode_png(out.read_bytes(), dtype=tf.uint16).numpy()  # 8-bit: scaled by 257


def test_a_phone_jpeg_comes_out_upright(tmp_path, colour_unet_path):
    stored = np.random.default_rng(0).integers(0, 256, (80, 120, 3), np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # stored sideways: viewers turn it a quarter clockwise
    image.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    shown = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "phone.jpg")).convert("RGB"))
    out = identity_output(tmp_path, colour_unet_path, "phone.jpg")
    assert out.shape == (120, 80, 3)
    np.testing.assert_array_equal(out // 257, shown)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_images_come_out_at_sixteen_bits(
    tmp_path, unet_path, colour_unet_path, suffix, channels
):
    pixels = np.random.default_rng(1).integers(0, 65536, (40, 50, channels), np.uint16)
    if suffix == ".png":
        (tmp_path / f"scan{suffix}").write_bytes(tf.io.encode_png(pixels).numpy())
    else:
        tifffile.imwrite(tmp_path / f"scan{suffix}", pixels if channels == 3 else pixels[..., 0])
    model = colour_unet_path if channels == 3 else unet_path
    out = identity_output(tmp_path, model, f"scan{suffix}")
    np.testing.assert_array_equal(out, pixels)  # every one of 65,536 levels kept


@pytest.mark.parametrize("channels", [2, 4])
def test_alpha_is_kept_unchanged_and_only_colour_is_denoised(
    tmp_path, unet_path, colour_unet_path, channels
):
    pixels = np.random.default_rng(2).integers(0, 256, (30, 40, channels), np.uint8)
    pixels[..., -1] = np.where(pixels[..., -1] > 128, 255, 0)  # fully clear or fully opaque
    (tmp_path / "logo.png").write_bytes(tf.io.encode_png(pixels).numpy())
    model = colour_unet_path if channels == 4 else unet_path
    out = identity_output(tmp_path, model, "logo.png")
    np.testing.assert_array_equal(out // 257, pixels)  # hidden pixels stay as they were


def test_a_folder_of_many_formats_is_done_and_the_summary_names_what_was_left_out(
    tmp_path, colour_unet_path
):
    photos = tmp_path / "photos"
    photos.mkdir()
    pixels = np.random.default_rng(3).integers(0, 256, (24, 32, 3), np.uint8)
    for suffix in (".tif", ".webp", ".bmp", ".png"):
        Image.fromarray(pixels).save(photos / f"photo{suffix[1:]}{suffix}", lossless=True)
    Image.fromarray(pixels).convert("CMYK").save(photos / "print.jpg")
    (photos / "notes.txt").write_text("not an image")
    (photos / "more").mkdir()
    result = run_command(photos, "-o", tmp_path / "out", "--model", colour_unet_path)
    assert result.returncode == 0, result.stderr
    assert "5 of 5 image(s) written" in result.stdout
    assert "2 other entries left out" in result.stdout
    assert f"left out {photos / 'notes.txt'}: not an image file" in result.stdout
    assert f"left out {photos / 'more'}: a folder" in result.stdout
    for suffix in ("tif", "webp", "bmp", "png"):
        np.testing.assert_array_equal(read_png(tmp_path / f"out/photo{suffix}.png"), pixels)
    assert "JPEG" not in result.stderr


def test_memory_follows_pixels_not_the_size_of_the_file(tmp_path, unet_path):
    """A small PNG padded by 400 MB after its end costs what the same PNG unpadded costs (its
    header is read lazily, the rest never whole); one padded before its pixels is refused."""
    small = tf.io.encode_png(np.zeros((96, 96, 1), np.uint8)).numpy()
    pad = 400 << 20
    (tmp_path / "small.png").write_bytes(small)
    (tmp_path / "padded.png").write_bytes(small + bytes(pad))
    chunk = struct.pack(">I", pad) + b"zzZz" + bytes(pad)
    chunk += struct.pack(">I", zlib.crc32(chunk[4:]))
    (tmp_path / "chunk.png").write_bytes(small[:33] + chunk + small[33:])
    code = (
        "import resource, sys; from stages.denoise import main; status = main(sys.argv[1:]); "
        "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(status)"
    )
    peak_mib = {}
    for name in ("small", "padded"):
        args = [tmp_path / f"{name}.png", "-o", tmp_path / "out", "--model", unet_path]
        result = subprocess.run(
            [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        peak_mib[name] = int(result.stdout.split("peak ")[-1]) / 1024
    assert peak_mib["padded"] < peak_mib["small"] + 64, peak_mib  # not the 400 MB of padding
    np.testing.assert_array_equal(read_png(tmp_path / "out/padded.png"), 0)
    refused = run(tmp_path / "chunk.png", "-o", tmp_path / "out", "--model", unet_path)
    assert errors(refused) == [
        f"error: {tmp_path / 'chunk.png'}: a {pad:,}-byte 'zzZz' chunk before its pixels, more "
        "than the 67,108,864 allowed (padded or corrupt)"
    ]


def test_two_denoise_runs_into_one_folder_leave_each_other_alone(tmp_path, unet_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(400):  # sizes that never share a call: long enough for the runs to overlap
        write_image(photos / f"t{i:04d}.png", 40 + i % 9, 40, seed=i)
    command = [*DENOISE, str(photos), "-o", str(tmp_path / "out"), "--model", str(unet_path)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    runs.append(
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    )
    results = [r.communicate() + (r.returncode,) for r in runs]
    for out, err, status in results:
        assert status == 0, err
        assert "400 of 400 image(s) written" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.stem + ".png" for p in photos.iterdir()
    )  # and no temporary left


def test_ctrl_c_in_a_folder_ends_with_one_line_saying_what_was_written(tmp_path, unet_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(400):
        write_image(photos / f"t{i:04d}.png", 48 + i % 7, 48, seed=i)  # sizes that never batch
    command = [*DENOISE, str(photos), "-o", str(tmp_path / "out"), "--model", str(unet_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # interrupt once it is writing
        if line.startswith("denoise: ") and "->" in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    written = sorted((tmp_path / "out").iterdir())
    assert last == (
        f"denoise: interrupted: {len(written)} of 400 image(s) written to {tmp_path / 'out'}; "
        "the others were not (no file is left half-written)"
    )
    assert 0 < len(written) < 400 and all(p.suffix == ".png" for p in written)
    for path in written:
        read_png(path)  # each one whole


@pytest.mark.parametrize(
    "build, shapes",
    [
        (
            lambda: keras.Sequential([keras.Input((784,)), keras.layers.Dense(784)]),
            "(None, 784) to (None, 784)",
        ),
        (
            lambda: keras.Sequential(
                [keras.Input((None, None, 2)), keras.layers.Conv2D(2, 3, padding="same")]
            ),
            "(None, None, None, 2) to (None, None, None, 2)",
        ),
    ],
    ids=["vector", "two-channel"],
)
def test_a_model_not_made_for_images_is_one_line(tmp_path, build, shapes):
    build().save(tmp_path / "other.keras")
    write_image(tmp_path / "photo.png", 28, 28, seed=0)
    result = run(
        tmp_path / "photo.png", "-o", tmp_path / "out", "--model", tmp_path / "other.keras"
    )
    assert result.returncode == 1
    assert errors(result) == [
        f"error: {tmp_path / 'other.keras'}: the model maps {shapes}; denoise needs a model from "
        "images (batch, height, width, 1 or 3 channels) to images of the same shape"
    ]
    assert "Traceback" not in result.stderr


def test_the_noise_sigma_is_estimated_from_the_image_and_printed_for_each(tmp_path, unet_path):
    rng = np.random.default_rng(0)
    flat = np.full((300, 400, 1), 0.5) + 0.05 * rng.standard_normal((300, 400, 1))
    assert denoise.estimated_sigma(flat) == pytest.approx(0.05, rel=0.1)
    huge = np.full((3000, 2500, 3), 128, np.uint8)  # only its centre is read
    assert denoise.estimated_sigma(huge) == 0
    Image.fromarray((np.clip(flat[..., 0], 0, 1) * 255).astype(np.uint8)).save(tmp_path / "a.png")
    result = run(tmp_path / "a.png", "-o", tmp_path / "out", "--model", unet_path)
    assert result.returncode == 0, result.stderr
    assert f"denoise: model {unet_path} (unet, grayscale)" in result.stdout
    line = next(line for line in result.stdout.splitlines() if "a.png ->" in line)
    assert 0.045 < float(line.split("noise sigma about ")[1].rstrip(")")) < 0.055


def smooth_photo(height: int, width: int) -> np.ndarray:
    """A clean colour picture: gradients, a disc and a bar, values in [0.1, 0.9]."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.stack([0.2 + 0.5 * x, 0.3 + 0.4 * y, 0.6 - 0.3 * x * y], axis=-1)
    image[(y - 0.4) ** 2 + (x - 0.5) ** 2 < 0.04] = [0.85, 0.2, 0.15]
    image[int(0.7 * height) : int(0.8 * height), int(0.1 * width) : int(0.9 * width)] = 0.1
    return image


def test_with_no_model_named_the_pretrained_photo_model_cleans_a_noisy_photo(tmp_path):
    clean = smooth_photo(240, 320)
    noisy = np.clip(clean + 0.1 * np.random.default_rng(1).standard_normal(clean.shape), 0, 1)
    Image.fromarray((noisy * 255).round().astype(np.uint8)).save(tmp_path / "shot.png")
    result = run(tmp_path / "shot.png", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"denoise: model {denoise.PRETRAINED_MODEL} (unet, colour)" in result.stdout
    out = np.asarray(Image.open(tmp_path / "out/shot.png"), np.float32) / 255
    read = np.asarray(Image.open(tmp_path / "shot.png"), np.float32) / 255

    def psnr(image: np.ndarray) -> float:
        return float(10 * np.log10(1 / np.mean((image - clean) ** 2)))

    assert psnr(out) > psnr(read) + 8  # 20 dB in, about 30 out: a denoiser, not the identity
