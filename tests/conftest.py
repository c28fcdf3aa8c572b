"""Fixtures: a tiny synthetic MNIST in the real IDX .gz format, served over HTTP on localhost,
and throwaway git + DVC copies of this project that run on it through the real `dvc` CLI."""

import fcntl
import functools
import gzip
import hashlib
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from stages.idx import FILES, IMAGE_MAGIC, LABEL_MAGIC

PROJECT = Path(__file__).resolve().parents[1]
PROJECT_FILES = [
    "dvc.yaml",
    ".gitignore",
    ".dvcignore",
    "stages",
    "data/mnist",
    "data/fashion_mnist",
]
TINY_TRAIN, TINY_TEST = 300, 60

# TensorFlow fixes its devices at start-up, so the split has to happen before the stage runs.
TRAIN_ON_TWO_LOGICAL_CPUS = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from stages.train import main
main()
"""


def committed_params() -> dict:
    """The project's params.yaml as committed: an experiment applied to the workspace (`dvc exp
    run -S ...`, `dvc exp apply`) changes nothing that the tests run."""
    shown = subprocess.run(
        ["git", "-C", str(PROJECT), "show", "HEAD:params.yaml"], capture_output=True, text=True
    )
    text = shown.stdout if shown.returncode == 0 else (PROJECT / "params.yaml").read_text()
    return yaml.safe_load(text)


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Serialise a uint8 array in the IDX format: magic, big-endian dimensions, raw bytes."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images with a learnable structure: class k is a cross at a k-dependent place."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = np.zeros((n, 28, 28), np.uint8)
    for image, label in zip(images, labels, strict=True):
        row, col = 4 + 2 * label + rng.integers(-1, 2), 22 - 2 * label + rng.integers(-1, 2)
        image[row : row + 3, 3:25] = 255
        image[3:25, col : col + 3] = 200
    return images, labels


def write_tiny_mnist(folder: Path) -> dict[str, str]:
    """Write the four MNIST .gz files (tiny) into folder; return the sha256 of each file's
    decompressed content, by its key in params.yaml (train_images, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for split, n, seed in (("train", TINY_TRAIN, 1), ("test", TINY_TEST, 2)):
        images, labels = synthetic_digits(n, seed)
        for kind, array, magic in (
            ("images", images, IMAGE_MAGIC),
            ("labels", labels, LABEL_MAGIC),
        ):
            key = f"{split}_{kind}"
            data = idx_bytes(array, magic)
            (folder / f"{FILES[key]}.gz").write_bytes(gzip.compress(data, mtime=0))
            sums[key] = hashlib.sha256(data).hexdigest()
    return sums


def png_header(height: int, width: int) -> bytes:
    """The first bytes of a colour PNG of that size: its signature, its IHDR chunk and the
    start of its (empty) pixel data, no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">II", width, height) + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"")


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """(folder holding a tiny MNIST, sha256 of each file)."""
    folder = tmp_path_factory.mktemp("tiny_mnist")
    return folder, write_tiny_mnist(folder)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve_folder(folder: Path):
    """Serve a folder over HTTP on 127.0.0.1 in a background thread; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def mirror_url(tiny_mnist):
    """URL of a local HTTP mirror serving the tiny MNIST."""
    yield from serve_folder(tiny_mnist[0])


def run(repo: Path, *args: str, env: dict | None = None, check: bool = True) -> str:
    """Run a command in repo; return stdout+stderr, failing the test with them if it fails.

    No time limit: a slow machine is no failure (CI's own limit still ends a hang)."""
    result = subprocess.run(args, cwd=repo, env=env or repo_env(), capture_output=True, text=True)
    out = result.stdout + result.stderr
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{out}")
    return out


def repo_env(**extra: str) -> dict:
    """The environment DVC runs stages in: this interpreter's `python` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_MIRROR")}  # what a test says
    env.update(DVC_NO_ANALYTICS="1", **extra)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def metrics(repo: Path) -> dict:
    return json.loads((repo / "metrics/psnr.json").read_text())


def set_params(repo: Path, **sections) -> None:
    """Update params.yaml: set_params(repo, train={'epochs': 2}, noise_factor=0.3)."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for key, value in sections.items():
        if isinstance(value, dict):
            params[key].update(value)
        else:
            params[key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def make_pipeline_repo(path: Path, sha256: dict[str, str], mirror: str, **params) -> Path:
    """A fresh git + DVC repo holding this project's pipeline, set up for tiny, fast runs."""
    path.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, path / name)
    (path / "params.yaml").write_text(yaml.safe_dump(committed_params(), sort_keys=False))
    env = repo_env(MNIST_MIRROR=mirror)
    run(path, "git", "init", "-q", env=env)
    run(path, "git", "config", "user.email", "test@example.com", env=env)
    run(path, "git", "config", "user.name", "test", env=env)
    run(path, "dvc", "init", "-q", env=env)
    shutil.copy(PROJECT / ".dvc/config", path / ".dvc/config")  # the offline plots page
    shutil.copytree(PROJECT / ".dvc/plots", path / ".dvc/plots")
    # a smaller dense net than the default, which on 270 sparse images stays near black
    tiny_dense = {"hidden_units": [256, 64], "epochs": 3, "batch_size": 20, "learning_rate": 0.002}
    # XLA takes longer to compile than these tiny trainings take to run; the tests of the
    # default path (compile: auto, so XLA in float32) set it back
    set_params(path, mnist=sha256, dense=tiny_dense, train={"compile": "none"})
    set_params(path, **params)
    run(path, "git", "add", "-A", env=env)
    run(path, "git", "commit", "-qm", "pipeline", env=env)
    return path


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory, tiny_mnist, mirror_url, worker_id) -> Path:
    """A pipeline repo after one `dvc repro`, with the results committed as the baseline.

    Built once for the whole run: under pytest-xdist the first worker to take the lock builds
    it in the run's shared temporary folder, and the others wait for it (tests copy it, never
    change it). The mirror's URL is not kept in the repo, so another worker's mirror serves it.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the parent: this run's, not older
    folder = shared / "e2e"
    repo = folder / "repo"
    with open(shared / "e2e.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / "done").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way
            make_pipeline_repo(repo, tiny_mnist[1], mirror_url)
            run(repo, "dvc", "repro", env=repo_env(MNIST_MIRROR=mirror_url))
            run(repo, "git", "add", "-A")
            run(repo, "git", "commit", "-qm", "baseline")
            (folder / "done").touch()
    return repo


@pytest.fixture
def repo(reproduced, tmp_path) -> Path:
    """A private copy of the reproduced repo (git history, DVC cache and all)."""
    return Path(shutil.copytree(reproduced, tmp_path / "repo", symlinks=True))
