"""Bring the data set that params.yaml's `dataset` names into data/raw/, checked.

- mnist, fashion_mnist: the four IDX files, downloaded from $<NAME>_MIRROR (a folder or URL,
  for offline machines and private copies), then the mirrors in data/<name>/mirrors.txt, and
  stored decompressed. Each file's sha256 in params.yaml is that of its decompressed content: a
  mirror may compress the files differently (Debian's Fashion-MNIST package does), but it must
  serve the same data, or it is passed over for the next mirror.
- images: each image file directly in data/images/ (PNG, JPEG, TIFF, WebP, BMP, GIF) that
  decodes whole is copied as it is (one of more than images.MAX_PIXELS pixels is refused from
  its header, before decoding); every other entry is skipped with one line saying why, and the
  folder must hold at least one image.

Everything is gathered in a temporary folder and moved into place at once: a failed fetch leaves
no data/raw behind.
"""

import contextlib
import gzip
import hashlib
import http.client
import shutil
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import BinaryIO

from stages.datasets import BUILT_IN, DATASETS, RAW_DIR, mirror_variable, mirrors, source
from stages.idx import FILES
from stages.images import copy_checked, files_in
from stages.outputs import temporary_path
from stages.params import PARAMS_FILE, load_params
from stages.runner import StageError, check_unchanged, run_stage

CHUNK = 1 << 20


def open_from_mirror(mirror: str, name: str) -> tuple[BinaryIO, str]:
    """Open `name` on a mirror (a URL or a local folder): (stream, location)."""
    if "://" in mirror:
        url = mirror.rstrip("/") + "/" + name
        return urllib.request.urlopen(url, timeout=30), url  # noqa: S310 (http(s) or file URLs)
    path = Path(mirror).expanduser() / name
    return path.open("rb"), str(path)


def show_progress(name: str, done: int) -> None:
    """A live line in a terminal, overwritten as the data arrive; nothing in a log."""
    if sys.stdout.isatty():
        print(f"\r  {name}: {done / 1e6:.1f} MB", end="", flush=True)


def download(mirror: str, name: str, dest: Path, expected_sha256: str) -> str:
    """Download `name`.gz from `mirror`, decompressing it into `dest`; return where it came from.

    Raises ValueError if the decompressed content's sha256 is not the expected one, OSError (or
    EOFError, zlib.error) if the mirror or its gzip stream fails. A write that fails on this
    machine's disk raises StageError instead: no other mirror can help with that.
    """
    try:
        out = dest.open("wb")
    except OSError as e:
        raise StageError(f"{RAW_DIR}: cannot write {name}: {e.strerror}") from None
    digest = hashlib.sha256()
    done, last_shown = 0, 0.0
    try:
        stream, location = open_from_mirror(mirror, f"{name}.gz")
        with stream, gzip.GzipFile(fileobj=stream) as content:
            while chunk := content.read(CHUNK):
                try:
                    out.write(chunk)
                    out.flush()  # so that a write error shows here, not when the file is closed
                except OSError as e:
                    raise StageError(f"{RAW_DIR}: cannot write {name}: {e.strerror}") from None
                digest.update(chunk)
                done += len(chunk)
                if time.monotonic() - last_shown > 0.2:
                    show_progress(name, done)
                    last_shown = time.monotonic()
    finally:
        with contextlib.suppress(OSError):  # all written and flushed; a failed write fails again
            out.close()
    actual = digest.hexdigest()
    if actual != expected_sha256:
        raise ValueError(
            f"sha256 mismatch (expected {expected_sha256[:8]}..., got {actual[:8]}...)"
        )
    return location


def describe_failure(error: Exception) -> str:
    """A few words on why one mirror failed, for the one-line error."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def fetch_built_in(dataset: str, checksums: dict[str, str], folder: Path) -> None:
    """Download a built-in set's four files into `folder`, each from the first mirror that
    serves the right data; if none does, StageError with one line listing every try."""
    print(f"fetch: {dataset}: 4 files into {RAW_DIR}/", flush=True)
    for key, name in FILES.items():
        tried = []
        for mirror in mirrors(dataset):
            try:
                location = download(mirror, name, folder / name, checksums[key])
                size = (folder / name).stat().st_size
                print(f"\r  {name}: {size:,} bytes, sha256 ok, from {location}", flush=True)
                break
            except (OSError, EOFError, zlib.error, ValueError, http.client.HTTPException) as e:
                tried.append(f"{mirror} ({describe_failure(e)})")
        else:
            raise StageError(
                f"{RAW_DIR / name}: no mirror gave the data with the expected sha256 "
                f"({dataset}.{key} in params.yaml). Tried: {'; '.join(tried)}. Set "
                f"{mirror_variable(dataset)} to a folder or URL holding the four {dataset} "
                ".gz files to use another mirror."
            )


def fetch_images(folder: Path) -> None:
    """Copy every image file directly in data/images/ that decodes whole into `folder`; report
    each other entry on one line; StageError if not one image is left."""
    images = source("images")
    if not images.is_dir():
        raise StageError(
            f"{images}: no such folder; put your image files there and track them "
            "with `dvc add data/images`"
        )
    candidates, skipped = files_in(images)
    for path in candidates:
        try:
            copy_checked(path, folder / path.name)
        except ValueError as e:
            skipped.append((path, str(e)))
    for path, reason in sorted(skipped):
        print(f"fetch: skipped {path}: {reason}", flush=True)
    copied = len(list(folder.iterdir()))
    if copied == 0:
        raise StageError(f"{images}: no image to train on ({len(skipped)} skipped)")
    print(
        f"fetch: {copied} images from {images}/ into {RAW_DIR}/, {len(skipped)} skipped",
        flush=True,
    )


def main() -> None:
    params = load_params()
    dataset = params["dataset"]
    RAW_DIR.parent.mkdir(parents=True, exist_ok=True)
    folder = temporary_path(RAW_DIR)
    folder.mkdir()  # with the permissions the umask gives
    try:
        if dataset in BUILT_IN:
            fetch_built_in(dataset, params[dataset], folder)
        else:
            fetch_images(folder)
        check_unchanged()
        if RAW_DIR.exists():
            shutil.rmtree(RAW_DIR)
        folder.rename(RAW_DIR)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    # every set's source: which one is read depends on params.yaml, itself watched
    run_stage(main, reads=[PARAMS_FILE, *map(source, DATASETS)])
