"""fetch.main in a temporary working folder, against local mirrors (no network)."""

import resource
import shutil

import pytest
import yaml

from stages import fetch
from tests.conftest import committed_params, serve_folder


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_mnist):
    """A working folder whose params.yaml expects the tiny MNIST; public mirrors unreachable."""
    params = committed_params()
    params["mnist"]["sha256"] = tiny_mnist[1]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fetch, "PUBLIC_MIRRORS", ["http://127.0.0.1:9/"])  # port 9: refused
    return tmp_path


def test_fetches_all_four_files_from_a_local_folder(workdir, tiny_mnist, monkeypatch, capsys):
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    fetch.main()
    for name in tiny_mnist[1]:
        assert (workdir / "data/raw" / name).read_bytes() == (tiny_mnist[0] / name).read_bytes()
    assert capsys.readouterr().out.count("sha256 ok") == 4
    assert sorted(p.name for p in (workdir / "data").iterdir()) == ["raw"]


def test_falls_back_to_the_next_mirror_when_one_serves_a_bad_file(
    workdir, tiny_mnist, monkeypatch, tmp_path
):
    bad = tmp_path / "bad_mirror"
    shutil.copytree(tiny_mnist[0], bad)
    (bad / "train-labels-idx1-ubyte.gz").write_bytes(b"not mnist")
    for url in serve_folder(tiny_mnist[0]):
        monkeypatch.setenv("MNIST_MIRROR", str(bad))
        monkeypatch.setattr(fetch, "PUBLIC_MIRRORS", ["http://127.0.0.1:9/", url])
        fetch.main()
    assert (workdir / "data/raw/train-labels-idx1-ubyte.gz").read_bytes() == (
        tiny_mnist[0] / "train-labels-idx1-ubyte.gz"
    ).read_bytes()


def test_fails_with_every_place_tried_and_leaves_nothing(workdir, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_MIRROR", str(tmp_path / "empty"))
    with pytest.raises(SystemExit) as failure:
        fetch.main()
    message = str(failure.value)
    assert message.startswith("error: data/raw/train-images-idx3-ubyte.gz: no mirror gave a file")
    assert f"{tmp_path / 'empty'} (No such file or directory)" in message
    assert "http://127.0.0.1:9/ (" in message
    assert "Set MNIST_MIRROR to a folder or URL" in message and "\n" not in message
    assert list((workdir / "data").iterdir()) == []


def test_replaces_an_existing_raw_folder_whole(workdir, tiny_mnist, monkeypatch):
    (workdir / "data/raw").mkdir(parents=True)
    (workdir / "data/raw/stale.txt").write_text("old")
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    fetch.main()
    assert sorted(p.name for p in (workdir / "data/raw").iterdir()) == sorted(tiny_mnist[1])


def test_a_full_disk_is_named_as_such_not_blamed_on_the_mirror(workdir, tiny_mnist, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", str(tiny_mnist[0]))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # writes past it fail as on a full disk
    try:
        with pytest.raises(SystemExit) as failure:
            fetch.main()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert str(failure.value) == (
        "error: data/raw: cannot write train-images-idx3-ubyte.gz: File too large"
    )
    assert list((workdir / "data").iterdir()) == []
