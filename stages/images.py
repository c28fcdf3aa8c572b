"""Image files as cameras, phones and scanners write them: the one reader of `dataset: images`,
its checks and the `denoise` command.

Pillow opens every file lazily: its header alone gives the size, which is checked against
MAX_PIXELS before any pixel is decoded, so memory follows the pixels, never the file's size.
Pixels come back as uint8 or uint16 arrays (height, width, channels), at the file's own depth,
upright (its EXIF orientation applied), with alpha apart. Pillow holds 16-bit images of one
channel only, so 16-bit colour (and gray with alpha) is decoded by tifffile (TIFF) or
TensorFlow's PNG codec, both of which keep every bit.
"""

import re
import shutil
import struct
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
MAX_PIXELS = 1 << 27  # 134 megapixels; a larger photo is refused before it is decoded
Image.MAX_IMAGE_PIXELS = None  # the check below names the file and the limit instead
MAX_CHUNK = 64 << 20  # a PNG's metadata (ICC profile, XMP, EXIF) is far smaller
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ORIENTATION = 0x0112  # the EXIF tag: how the stored pixels must be turned to be seen upright
GRAY_MODES = {"1", "L", "LA", "La", "I;16", "I;16L", "I;16B", "I;16N"}
ALPHA_MODES = {"LA", "La", "RGBA", "RGBa", "PA"}
COLOUR_MODES = {"RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "P", "PA"}


def files_in(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(images, left out): the files directly inside `folder` with an image suffix, by name,
    and every other entry with the reason it is left out; hidden entries are not looked at."""
    images, left_out = [], []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if path.is_dir():
            left_out.append((path, "a folder (only the files directly in it are read)"))
        elif path.suffix.lower() not in SUFFIXES:
            left_out.append((path, f"not an image file ({', '.join(sorted(SUFFIXES))})"))
        else:
            images.append(path)
    return images, left_out


def check_png_chunks(path: Path) -> None:
    """Refuse a PNG with a chunk larger than MAX_CHUNK before its pixels: Pillow reads each such
    chunk whole on opening, so a padded one would make memory follow the file's size. Written
    by hand since Pillow has no limit for it; it reads 8 bytes a chunk and seeks past the rest."""
    with path.open("rb") as file:
        if file.read(8) != PNG_SIGNATURE:
            return
        while len(header := file.read(8)) == 8:
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                return
            if length > MAX_CHUNK:
                raise ValueError(
                    f"a {length:,}-byte {kind.decode(errors='replace')!r} chunk before its "
                    f"pixels, more than the {MAX_CHUNK:,} allowed (padded or corrupt)"
                )
            file.seek(length + 4, 1)  # its data and CRC


def open_image(path: Path) -> Image.Image:
    """The file opened lazily (header only), checked before anything is decoded.

    Raises ValueError with a short reason for an empty file, a PNG padded before its pixels
    (check_png_chunks), one Pillow does not know as an image, one whose pixels are of a kind
    this project does not denoise, and one of more than MAX_PIXELS pixels.
    """
    if path.stat().st_size == 0:
        raise ValueError("empty file")
    check_png_chunks(path)
    try:
        image = Image.open(path)
    except UnidentifiedImageError:
        raise ValueError("not an image file Pillow can read (or one cut short)") from None
    except (OSError, SyntaxError) as e:  # Pillow's word for a header it cannot parse
        raise ValueError(f"its header cannot be read ({e})") from None
    reason = None
    if image.mode not in GRAY_MODES | COLOUR_MODES:
        reason = f"{image.mode} pixels (32-bit or float), not 8- or 16-bit gray or colour"
    elif image.width * image.height > MAX_PIXELS:
        reason = (
            f"{image.height}x{image.width} pixels, more than the {MAX_PIXELS:,} allowed per image"
        )
    if reason:
        image.close()
        raise ValueError(reason)
    return image


def upright(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8; 1 is upright), or 1 where the file has none. A PNG's eXIf
    chunk is looked for before its pixels only: after them, finding it means decoding them. A
    TIFF counts as upright: Pillow turns it itself, size included (tifffile does not)."""
    if image.format == "TIFF" or (image.format == "PNG" and "exif" not in image.info):
        return 1
    orientation = image.getexif().get(ORIENTATION, 1)
    return orientation if orientation in range(1, 9) else 1


def shape_of(path: Path) -> tuple[int, int, int]:
    """(height, width, channels) of the image as it is seen (orientation applied), from its
    header alone: channels 1 for gray, 3 for colour, not counting alpha. ValueError as
    open_image."""
    with open_image(path) as image:
        height, width = image.height, image.width
        try:
            orientation = upright(image)
        except (OSError, SyntaxError) as e:
            raise ValueError(f"its header cannot be read ({e})") from None
        if orientation >= 5:  # a quarter turn or a transposition
            height, width = width, height
        gray = image.mode in GRAY_MODES or (sixteen_bit(image) and stored_mode(image)[0] == "L")
        return height, width, 1 if gray else 3


def stored_mode(image: Image.Image) -> str:
    """How the file stores its samples, in Pillow's words ('RGB;16B', 'LA;16B', 'RGB', ...)."""
    args = image.tile[0].args if image.tile else image.mode
    return str(args if isinstance(args, str) else (args or (image.mode,))[0])


def sixteen_bit(image: Image.Image) -> bool:
    """Whether a PNG or TIFF file stores 16 bits a sample in more than one channel, which
    Pillow would cut to 8 (it opens 16-bit gray + alpha as RGBA; a 16-bit BMP is 5-6-5)."""
    return (
        image.format in ("PNG", "TIFF")
        and not image.mode.startswith("I;16")
        and "16" in stored_mode(image)
    )


def turned(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels turned upright for an EXIF orientation, as ImageOps.exif_transpose turns a
    Pillow image; written for arrays, since 16-bit colour never is a Pillow image."""
    if orientation in (5, 6, 7, 8):  # these store the picture transposed, then flipped
        pixels = pixels.swapaxes(0, 1)
    flips = {2: (1,), 3: (0, 1), 4: (0,), 6: (1,), 7: (0, 1), 8: (0,)}.get(orientation, ())
    return np.flip(pixels, flips) if flips else pixels


def decode_sixteen_bit(path: Path, image: Image.Image) -> np.ndarray:
    """16-bit colour, or gray with alpha, at full depth: (height, width, channels) uint16."""
    if image.mode == "CMYK":
        raise ValueError("16-bit CMYK, which is not read (save it as RGB)")
    if image.format == "TIFF":
        import tifffile

        try:
            pixels = tifffile.imread(path, key=0)
        except Exception as e:  # noqa: BLE001 (zlib, struct, LZW without imagecodecs: corrupt)
            raise ValueError(f"cannot decode this 16-bit TIFF ({e})") from None
        pixels = turned(pixels, image.tag_v2.get(ORIENTATION, 1))  # works on 2-D arrays too
    else:
        from stages import quiet_tensorflow_startup

        with quiet_tensorflow_startup():
            import tensorflow as tf
        # the whole file goes to the decoder: refuse one far larger than its pixels can be
        if path.stat().st_size > 2 * image.width * image.height * 8 + (16 << 20):
            raise ValueError("the file is much larger than its pixels: padded or corrupt")
        try:
            pixels = tf.io.decode_png(path.read_bytes(), dtype=tf.uint16).numpy()
        except tf.errors.InvalidArgumentError as e:
            reason = re.sub(r"\{\{.*?\}\}|\[Op:.*?\]", "", e.message).strip()
            raise ValueError(f"cannot decode it: {reason.splitlines()[0]}") from None
    return pixels if pixels.ndim == 3 else pixels[..., np.newaxis]


def decode_pillow(image: Image.Image) -> np.ndarray:
    """8-bit images and 16-bit gray: (height, width, channels) uint8, or uint16 for 16-bit gray,
    with gray, gray + alpha, colour or colour + alpha as channels."""
    if image.mode.startswith("I;16"):  # little- or big-endian: as this machine holds uint16
        return np.asarray(image).astype(np.uint16)[..., np.newaxis]
    has_alpha = image.mode in ALPHA_MODES or "transparency" in image.info
    if image.mode in GRAY_MODES:
        mode = "LA" if has_alpha else "L"
    else:
        mode = "RGBA" if has_alpha else "RGB"  # CMYK, palettes, YCbCr: as they are shown
    pixels = np.asarray(image.convert(mode))
    return pixels if pixels.ndim == 3 else pixels[..., np.newaxis]


def read_image(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(pixels, alpha): the image upright at its own depth, uint8 or uint16 (height, width,
    1 or 3), and its alpha channel (height, width, 1) of the same type, or None.

    An animated file gives its first frame. Raises ValueError with a short reason for what
    open_image refuses and for a file that is cut short or corrupt.
    """
    with open_image(path) as image:
        try:
            orientation = upright(image)
            if sixteen_bit(image):
                pixels = decode_sixteen_bit(path, image)
            else:
                pixels = decode_pillow(image)
        except (OSError, SyntaxError) as e:  # Pillow: truncated or corrupt data
            raise ValueError(f"cannot decode it ({e})") from None
    pixels = turned(pixels, orientation)
    if pixels.shape[-1] in (2, 4):
        return pixels[..., :-1], pixels[..., -1:]
    return pixels, None


def with_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Gray as three equal channels, or colour as gray (ITU-R 601 luma, as Pillow's "L")."""
    if pixels.shape[-1] == channels:
        return pixels
    if channels == 3:
        return np.repeat(pixels, 3, axis=-1)
    luma = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.round(luma).astype(pixels.dtype)[..., np.newaxis]


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 or uint16 pixels as float32 in [0, 1]; float images are returned as they are."""
    if np.issubdtype(pixels.dtype, np.floating):
        return pixels.astype(np.float32, copy=False)
    return pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)


def from_unit(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float images in [0, 1] as `dtype`: integer types clipped and rounded to their levels."""
    if np.issubdtype(dtype, np.floating):
        return image.astype(dtype, copy=False)
    top = np.iinfo(dtype).max
    return np.round(np.clip(image, 0, 1) * np.float32(top)).astype(dtype)


def read_unit(path: Path, channels: int) -> np.ndarray:
    """An image file as float32 (height, width, channels) in [0, 1], at its full depth, alpha
    left out: what the pipeline trains and scores on. ValueError as read_image."""
    return to_unit(with_channels(read_image(path)[0], channels))


def copy_checked(path: Path, destination: Path) -> None:
    """Copy an image file once it has decoded whole (fetch keeps the files as they are)."""
    read_image(path)
    shutil.copyfile(path, destination)
