"""Download the four original MNIST files into data/raw/, checking each file's sha256.

Mirrors are tried in order: the folder or URL in $MNIST_MIRROR (for offline machines and
private copies), then public mirrors. The expected checksums live in params.yaml, so where the
bytes came from never matters, only that they are the right bytes. All four files are gathered in
a temporary folder and moved into place together: a failed fetch leaves no data/raw behind.
"""

import contextlib
import hashlib
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from stages.io import run_stage, temporary_path
from stages.params import MNIST_FILES, load_params

RAW_DIR = Path("data/raw")
PUBLIC_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
CHUNK = 1 << 20


def mirrors() -> list[str]:
    """$MNIST_MIRROR first (if set), then the public mirrors."""
    local = os.environ.get("MNIST_MIRROR", "").strip()
    return ([local] if local else []) + PUBLIC_MIRRORS


def open_from_mirror(mirror: str, name: str) -> tuple[BinaryIO, int | None, str]:
    """Open `name` on a mirror (a URL or a local folder): (stream, size if known, location)."""
    if "://" in mirror:
        url = mirror.rstrip("/") + "/" + name
        response = urllib.request.urlopen(url, timeout=30)  # noqa: S310 (http(s) or file URLs)
        size = response.headers.get("Content-Length")
        return response, int(size) if size else None, url
    path = Path(mirror).expanduser() / name
    return path.open("rb"), path.stat().st_size, str(path)


def show_progress(name: str, done: int, total: int | None) -> None:
    """A live line in a terminal, overwritten as bytes arrive; nothing in a log."""
    if sys.stdout.isatty():
        size = f"{done / 1e6:.1f}" + (f" of {total / 1e6:.1f}" if total else "") + " MB"
        print(f"\r  {name}: {size}", end="", flush=True)


def download(mirror: str, name: str, dest: Path, expected_sha256: str) -> tuple[str, int]:
    """Copy `name` from `mirror` to `dest`; raise ValueError if its sha256 is not the expected one.

    Returns where it came from and its size in bytes.
    """
    stream, total, location = open_from_mirror(mirror, name)
    digest = hashlib.sha256()
    done = 0
    last_shown = 0.0
    out = dest.open("wb")
    try:
        with stream:
            while chunk := stream.read(CHUNK):
                try:
                    out.write(chunk)
                    out.flush()  # so that a write error shows here, not when the file is closed
                except OSError as e:  # our disk, not the mirror: other mirrors cannot help
                    raise SystemExit(
                        f"error: {RAW_DIR}: cannot write {name}: {e.strerror}"
                    ) from None
                digest.update(chunk)
                done += len(chunk)
                if time.monotonic() - last_shown > 0.2:
                    show_progress(name, done, total)
                    last_shown = time.monotonic()
    finally:
        with contextlib.suppress(OSError):  # all written and flushed; a failed write fails again
            out.close()
    actual = digest.hexdigest()
    if actual != expected_sha256:
        raise ValueError(
            f"sha256 mismatch (expected {expected_sha256[:8]}..., got {actual[:8]}...)"
        )
    return location, done


def describe_failure(error: Exception) -> str:
    """A few words on why one mirror failed, for the one-line error."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def fetch_file(name: str, expected_sha256: str, dest: Path) -> None:
    """Try each mirror in turn for one file; if all fail, exit with one line listing every try."""
    tried = []
    for mirror in mirrors():
        try:
            location, size = download(mirror, name, dest, expected_sha256)
            print(f"\r  {name}: {size:,} bytes, sha256 ok, from {location}", flush=True)
            return
        except (OSError, ValueError) as e:
            tried.append(f"{mirror} ({describe_failure(e)})")
    raise SystemExit(
        f"error: {RAW_DIR / name}: no mirror gave a file with the expected sha256. "
        f"Tried: {'; '.join(tried)}. "
        "Set MNIST_MIRROR to a folder or URL holding the four MNIST files to use another mirror."
    )


def main() -> None:
    params = load_params()
    checksums = params["mnist"]["sha256"]
    RAW_DIR.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = temporary_path(RAW_DIR)
    tmp_dir.mkdir()  # with the permissions the umask gives
    try:
        print(f"fetch: {len(MNIST_FILES)} MNIST files into {RAW_DIR}/", flush=True)
        for name in MNIST_FILES:
            fetch_file(name, checksums[name], tmp_dir / name)
        if RAW_DIR.exists():
            shutil.rmtree(RAW_DIR)
        tmp_dir.rename(RAW_DIR)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


if __name__ == "__main__":
    run_stage(main)
