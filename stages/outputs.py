"""Write outputs atomically: a stage that fails never leaves a half-written file behind, and
never saves a result computed from inputs that no longer match the ones DVC will record for it
(stages/runner.py watches them).
"""

import glob
import json
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from stages.runner import check_unchanged

TMP_MARK = ".tmp-"  # in every temporary name; .gitignore and .dvcignore leave such files out


def temporary_path(path: Path) -> Path:
    """A hidden name beside `path` that keeps its suffix (Keras and numpy look at it) and names
    the process writing it: m.json -> .m.tmp-4242-1a2b3c4d.json.

    Temporaries that a killed earlier run left for the same output are removed first; those of
    a process still alive on this machine (another `denoise` into the same folder, say) are
    never touched.
    """
    for stale in path.parent.glob(f".{glob.escape(path.stem)}{TMP_MARK}*{path.suffix}"):
        if not writer_is_alive(stale):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.parent / f".{path.stem}{TMP_MARK}{token}{path.suffix}"


def writer_is_alive(temporary: Path) -> bool:
    """Whether the process named in a temporary's name still runs (a name of an older form,
    with no process in it, counts as left behind)."""
    pid = temporary.name.split(TMP_MARK, 1)[1].split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process could have that number
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary file beside `path`, then rename it onto `path`.

    The rename is atomic on one filesystem, so readers (and DVC) see either the old file or the
    complete new one; on any error the temporary file is removed. The file is created with the
    permissions the umask gives, as any other program's output is.
    """
    write_all_atomic({path: write})


def write_all_atomic(writes: dict[str | Path, Callable[[Path], None]]) -> None:
    """Write each output to a temporary file beside it, check that the stage's inputs are
    unchanged (runner.check_unchanged), then rename them all.

    All or nothing: if any write or the check fails, no output is touched and no temporary is
    left, so outputs computed from inputs that changed during the run are never saved, not even
    the first of several.
    """
    temporaries: dict[Path, Path] = {}
    try:
        for path, write in writes.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = temporaries[path] = temporary_path(path)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            try:
                write(tmp)
            except OSError as e:  # a full disk, say: name the output, not its temporary
                if e.filename not in (None, str(tmp)):  # another file's error: one being read
                    raise
                raise OSError(e.errno, e.strerror or str(e), str(path)) from e
        check_unchanged()
        for path, tmp in temporaries.items():
            os.replace(tmp, path)
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)


def json_file(data: dict) -> Callable[[Path], None]:
    """A writer of `data` as indented JSON, for write_atomic and write_all_atomic."""
    return lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n")


def png_file(image: np.ndarray) -> Callable[[Path], None]:
    """A writer of a (height, width, 1 to 4) image as a PNG: uint8 or uint16 pixels at their own
    depth, a float image in [0, 1] as 8 bits (clipped, rounded to the nearest of 256 levels).

    TensorFlow's encoder writes it, since Pillow cannot write 16-bit colour. Both it and
    stages.images are imported here, not above, so that fetch and preprocess never load
    TensorFlow, nor train Pillow.
    """
    import tensorflow as tf

    from stages.images import from_unit

    if np.issubdtype(image.dtype, np.floating):
        image = from_unit(image, np.uint8)
    png = tf.io.encode_png(image).numpy()
    return lambda tmp: tmp.write_bytes(png)


def npz_file(arrays: Iterable[tuple[str, np.ndarray]]) -> Callable[[Path], None]:
    """A writer of (name, array) pairs into an .npz, one array at a time, so that only one is in
    memory at once; np.load reads it as it reads np.savez's output (a zip of .npy files)."""

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            for name, array in arrays:
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)

    return write


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an image as a PNG (see png_file), atomically."""
    write_atomic(path, png_file(image))
