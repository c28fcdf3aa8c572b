"""Take the 180 real colour photographs listed below out of ten Debian packages, for training.

    mkdir -p /tmp/debs && cd /tmp/debs && apt-get download enlightenment-data gcompris-qt-data \
        lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes palapeli-data \
        plasma-workspace-wallpapers puzzle-jigsaw python3-sklearn tuxpaint-data
    cd - && python benchmarks/registry_photos.py /tmp/debs/*.deb -o data/registry_photos

The packages are Debian 12 (bookworm, main), all architecture-independent data (puzzle-jigsaw's
samples are the same in every architecture's .deb); the list was made from the versions in
VERSIONS, and another version is used with a warning. Each photograph is a camera photo of a real
scene (landscapes, plants, animals, buildings, objects), chosen by looking at it: illustrations,
renders, gradients, logos, black-and-white and heavily toned or HDR pictures are left out, and so
are mate-backgrounds (its nature/ photos are a held-out test set) and scikit-image's sample data.
The licence of each photo (all of them allow copying and changes: public domain, CC0, CC-BY,
CC-BY-SA, GFDL, GPL, LGPL, BSD) is in the comment above its package, from the package's
debian/copyright or the README or .desktop file the package ships beside the photo.

A .deb is read with Python alone (ar, then its data.tar.xz/.gz/.bz2); nothing is installed. Three
kinds of path are listed: a file in the package; `bundle.rcc:/member`, an image inside a Qt
resource bundle (GCompris); `background.edj:edje/images/0`, the largest JPEG inside an Edje file
(Enlightenment). Each photo is converted to RGB, scaled with Pillow's LANCZOS so that its longer
side is 1024 pixels (never enlarged), and written as PNG to the output folder, named
`<package>-<basename>.png`, where the basename is the file's stem, the wallpaper's folder name for
KDE's contents/images/WxH files, the .edj file's stem, or `<bundle>-<stem>` for an .rcc member.
It prints one line per photo and a total, and stops with one line, before writing anything, when
a package or a listed file is missing.
"""

import argparse
import io
import lzma
import struct
import sys
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import Image, ImageOps

LONG_SIDE = 1024

VERSIONS = {
    "enlightenment-data": "0.25.4-2",
    "gcompris-qt-data": "3.1-2",
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lomiri-wallpapers-20.04": "20.04.0-2",
    "lxqt-themes": "1.2.0-1",
    "palapeli-data": "4:22.12.3-1",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "puzzle-jigsaw": "1.0.2+git20201007.527c529+dfsg-4+b1",
    "python3-sklearn": "1.2.1+dfsg-1",
    "tuxpaint-data": "1:0.9.28-sdl2-1",
}


def _files(package: str, folder: str, names: str) -> tuple[tuple[str, str], ...]:
    return tuple((package, f"{folder}/{name}") for name in names.split())


def _kde(names: str) -> tuple[tuple[str, str], ...]:
    folder = "usr/share/wallpapers"
    return tuple(
        ("plasma-workspace-wallpapers", f"{folder}/{n}/contents/images/2560x1600.jpg")
        for n in names.split()
    )


def _edje(names: str) -> tuple[tuple[str, str], ...]:
    folder = "usr/share/enlightenment/data/backgrounds"
    return tuple(("enlightenment-data", f"{folder}/{n}.edj:edje/images/0") for n in names.split())


def _gcompris(activity: str, folder: str, names: str) -> tuple[tuple[str, str], ...]:
    bundle = f"usr/share/gcompris-qt/rcc/{activity}.rcc"
    member = f"/gcompris/src/activities/{activity}/{folder}"
    return tuple(("gcompris-qt-data", f"{bundle}:{member}/{n}.webp") for n in names.split())


MANIFEST: tuple[tuple[str, str], ...] = (
    # enlightenment-data: BSD-2-clause (debian/copyright)
    *_edje(
        "Bamboo God-Rays Green-Maple Lichen-Branches Red-Maple Sea-of-Lanterns Snow-Trees"
        " Spruce-Needles Sunset-Clouds White-Flower Yellow-Flower"
    ),
    # gcompris-qt-data: debian/copyright says GPL-3+ for all; the README in each activity's
    # resource folder gives each photo's own: CC0-1.0, public domain, CC-BY-2.0, CC-BY-3.0 or
    # CC-BY-SA-4.0 (Wikimedia Commons and Flickr photos)
    *_gcompris(
        "erase",
        "resource",
        "gorilla northern_harrier pika caterpillar giraffe calf penguin nubian_ibex camels"
        " macaque dolphin long_nosed_monkey kingfisher heron chamaeleon flying_fox gibbon"
        " rhinoceros crab goat toucan gosling horse alpaca cheetah butterfly bee meerkats kitten"
        " red_panda squirrel spoonbills",
    ),
    *_gcompris("clickgame", "resource", "sea1 sea2 sea3 sea4 sea5 sea6"),
    *_gcompris(
        "explore_farm_animals", "resource/animals", "dog cow cat chicken horse duck sheep pig"
    ),
    *_gcompris(
        "explore_monuments",
        "resource/usa",
        "canyondeChelly navajo cabrillo mountRushmore statueofLiberty"
        " castillodeSanMarcos fortSumter",
    ),
    *_gcompris(
        "explore_monuments",
        "resource/egypt",
        "meidumPyramid greatPyramidOfGiza bentPyramid redPyramid",
    ),
    *_gcompris(
        "explore_monuments",
        "resource/india",
        "greatStupa gatewayofIndia konarkSunTemple charminar hawaMahal rangGhar victoriaMemorial"
        " mysorePalace goldenTemple ajantaCave qutubMinar",
    ),
    *_gcompris(
        "explore_monuments",
        "resource/france",
        "chateaudeChambord pontduGard palaisdesPapes reimsCathedral eiffelTower citedeCarcassonne"
        " arlesAmphitheater chateaudeChenonceau montStMichel rocamadour",
    ),
    *_gcompris(
        "explore_monuments",
        "resource/germany",
        "berlinCathedral schwerinPalace trierImperialBaths aulaPalatina brandenburgGate"
        " neuschwansteinCastle wormsCathedral",
    ),
    *_gcompris(
        "explore_monuments",
        "resource/wonders",
        "machuPicchu tajMahal chichenItza colosseum petra greatWallofChina christTheRedeemer",
    ),
    *_gcompris(
        "explore_world_animals",
        "resource/animals",
        "crocodile giraffe koala bison dragon jaguar hedgehog kangaroo narwhal moose panda"
        " chameleon lemur polar_bear scarlet_macaw",
    ),
    *_gcompris(
        "explore_world_music",
        "resource/music",
        "italy america australia japan orchestra africa ireland mexico",
    ),
    # lomiri-wallpapers-16.04: per file (debian/copyright): CC-BY-4.0 (Aitzol Berasategi,
    # freespace, Jakub Mede), CC-BY-SA-4.0 (Sander Klootwijk, Bolly, Peter Nerlich), CC0-1.0
    # (Clemens Engelhardt)
    *_files(
        "lomiri-wallpapers-16.04",
        "usr/share/backgrounds",
        "aitzgorri_by_Aitzol_Berasategi.jpg Bridge_by_Sander_Klootwijk.jpg Dragonfly_by_Bolly.jpg"
        " free_by_Peter_Nerlich.jpg friends_by_Aitzol_Berasategi.jpg greentock_by_Peter_Nerlich.jpg"
        " life_by_Aitzol_Berasategi.jpg picosdeeuropa_by_Aitzol_Berasategi.jpg"
        " Picture_0B_by_freespace.jpg Picture_1A_by_freespace.jpg"
        " seeding_by_Clements_Engelhardt.jpg sunset_by_Aitzol_Berasategi.jpg"
        " Wine_by_Jakkub_Mede.jpg",
    ),
    # lomiri-wallpapers-20.04: CC-BY-SA-3.0 (debian/copyright)
    *_files("lomiri-wallpapers-20.04", "usr/share/backgrounds", "Kleiber_by_Lukas_Baubkus.jpg"),
    # lxqt-themes: LGPL-2.1+ (debian/copyright)
    *_files(
        "lxqt-themes",
        "usr/share/lxqt/wallpapers",
        "Valendas.png after-the-rain.jpg appleflower.png butterfly.png cloud.png drop.png"
        " flowers.png fog.jpg this-is-not-windows.jpg",
    ),
    # palapeli-data: debian/copyright says GPL-2+; each puzzle's .desktop file says public domain
    # (cincinnati-bridge, citrus-fruits, european-honey-bee) or GFDL (castle-maintenon,
    # panther-chameleon-female), all from Wikimedia Commons
    *_files(
        "palapeli-data",
        "usr/share/palapeli/collection",
        "castle-maintenon.jpg cincinnati-bridge.jpg citrus-fruits.jpg european-honey-bee.jpg"
        " panther-chameleon-female.jpg",
    ),
    # plasma-workspace-wallpapers: GPL-2+ (debian/copyright; each metadata.json says LGPLv3)
    *_kde("ColorfulCups FallenLeaf OneStandsOut Path summer_1am"),
    # puzzle-jigsaw: CC0-1.0 (debian/copyright, Pexels)
    *_files("puzzle-jigsaw", "usr/share/puzzle-jigsaw/samples", "pexels-photo-302304.jpeg"),
    # python3-sklearn: CC-BY-2.0 (the README.txt beside them; debian/copyright: BSD-3-Clause)
    *_files(
        "python3-sklearn",
        "usr/lib/python3/dist-packages/sklearn/datasets/images",
        "china.jpg flower.jpg",
    ),
    # tuxpaint-data: GPL-2+ (debian/copyright; Bill Kendrick's photos, AUTHORS.txt)
    *_files(
        "tuxpaint-data",
        "usr/share/tuxpaint/templates",
        "burnt_bark.jpg cliff.jpg corn_maze.jpg jellyfish.jpg lighthouse.jpg"
        " mossy_log.jpg mudstone.jpg ocean_splash.jpg ocean_waves.jpg redwoods_above.jpg rocks.jpg"
        " sheep.jpg spiders_web.jpg sun_behind_clouds.jpg sun_behind_leaves.jpg trees_above.jpg"
        " trees_at_dusk.jpg wool_mill_machine.jpg",
    ),
)


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


def output_name(package: str, path: str) -> str:
    """`<package>-<basename>.png` for a manifest entry, as the module docstring says."""
    container, _, member = path.partition(":")
    file = PurePosixPath(container)
    if member and file.suffix == ".rcc":
        basename = f"{file.stem}-{PurePosixPath(member).stem}"
    elif file.parent.name == "images" and file.parent.parent.name == "contents":
        basename = file.parent.parent.parent.name  # a KDE wallpaper: its folder's name
    else:
        basename = file.stem
    return f"{package}-{basename}.png"


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


def collect(debs: list[Path]) -> dict[tuple[str, str], bytes]:
    """The encoded image of every manifest entry, read from the .debs."""
    by_package: dict[str, Path] = {}
    for deb in debs:
        package, version = _package_and_version(deb)
        if package in VERSIONS and version != VERSIONS[package]:
            print(
                f"warning: {deb.name} is {package} {version}; the list was made from "
                f"{VERSIONS[package]}",
                file=sys.stderr,
            )
        by_package[package] = deb
    packages = sorted({p for p, _ in MANIFEST})
    for package in packages:
        if package not in by_package:
            raise Missing(f"no .deb given for {package} (apt-get download {package})")
    images: dict[tuple[str, str], bytes] = {}
    for package in packages:
        deb = by_package[package]
        members: dict[str, list[str]] = {}
        for p, path in MANIFEST:
            if p == package:
                container, _, member = path.partition(":")
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
    args = parser.parse_args()
    names = [output_name(package, path) for package, path in MANIFEST]
    if len(set(names)) != len(names):
        sys.exit("error: two manifest entries give the same file name")
    try:
        images = collect(args.debs)
    except (Missing, OSError, EOFError, lzma.LZMAError, struct.error, tarfile.TarError) as error:
        sys.exit(f"error: {error}")
    args.output.mkdir(parents=True, exist_ok=True)
    for (package, path), name in zip(MANIFEST, names, strict=True):
        with Image.open(io.BytesIO(images[package, path])) as image:
            width, height = image.size
            photo = scaled(image)
        photo.save(args.output / name)
        print(f"{name}  {width}x{height} -> {photo.width}x{photo.height}")
    print(f"{len(MANIFEST)} photos from {len({p for p, _ in MANIFEST})} packages in {args.output}/")


if __name__ == "__main__":
    main()
