"""Stages of the denoising pipeline; each runs as `python -m stages.<name>`."""

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

# TensorFlow's own log lines below errors (placement, optimisation notes) are noise in a log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def quiet_tensorflow_startup() -> Iterator[None]:
    """Import TensorFlow inside this block: what its C++ libraries print while they load
    (oneDNN, CUDA stubs, cuInit on a machine without a GPU) does not reach the terminal.

    Those lines are written straight to the process's stderr before any log level applies, so
    the block points file descriptor 2 at a temporary file; if the import fails, what was
    captured is printed after all. On a GPU machine TensorFlow finds and uses the GPU as usual.
    """
    if "tensorflow" in sys.modules:  # loaded already: nothing left to hide
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # probes CUDA now, inside the block
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
