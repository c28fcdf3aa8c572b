"""What every stage's main() runs inside: one line for a failure the user can act on, and no
result saved from inputs that changed while it ran.

Any function may raise StageError; run_stage alone turns it, or an OSError (a full disk, a
missing folder, no permission), into one line on stderr and exit status 1, with no traceback.
run_stage also fingerprints the files the stage reads before main() starts, and
check_unchanged compares them again: outputs.write_all_atomic calls it before renaming anything
into place, and train after every epoch, so a result is never recorded under settings or data it
was not computed from (another `dvc exp run` in this workspace rewrites params.yaml, for one).
"""

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

Result = TypeVar("Result")
watched: dict[str, list] = {}  # path -> its files' fingerprint, taken as the stage started


class StageError(Exception):
    """A failure the user can act on; its message is the line printed after `error: `."""


def fingerprint(*paths: str | Path) -> dict[str, list]:
    """Size and modification time of every file at or under each path: cheap to take, and it
    changes whenever a file is rewritten (DVC, editors and `dvc exp run -S` all rewrite)."""
    prints = {}
    for path in map(Path, paths):
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        prints[str(path)] = [
            (str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists()
        ]
    return prints


def check_unchanged() -> None:
    """Raise StageError if an input of the running stage changed since it started: saving now
    would record a result under settings or data it was not computed from. Outside run_stage
    there is nothing to compare."""
    changed = [path for path, files in watched.items() if fingerprint(path)[path] != files]
    if changed:
        raise StageError(
            f"{', '.join(changed)} changed while this stage was running, so its result "
            "would not match them; nothing was saved. Run it again once nothing else is "
            "changing the workspace (one `dvc exp run` at a time; `dvc queue` runs many)."
        )


def run_stage(main: Callable[[], Result], reads: Iterable[str | Path] = ()) -> Result:
    """Fingerprint `reads`, run main() and return what it returns; a StageError or an OSError
    ends the process with one line (`error: ...`) and exit status 1."""
    watched.update(fingerprint(*reads))
    try:
        return main()
    except StageError as e:
        sys.exit(f"error: {e}")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        sys.exit(f"error: {where}{e.strerror or e}")
    finally:
        watched.clear()
