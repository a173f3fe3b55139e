"""Tests of skmixup.datasets' downloads, offline: a mirror served on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from skmixup.bench import datasets as bench_datasets
from skmixup.datasets import (
    UCI_DATASETS,
    DownloadError,
    _fetch,
    fetch_uci,
    fetch_uci_files,
    get_data_home,
)
from skmixup.datasets._registry import DATASETS, RemoteDataset, RemoteFile

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Mirror:
    """A folder served over HTTP on 127.0.0.1, counting the requests."""

    def __init__(self, root: Path) -> None:
        self.root, self.requests = root, []
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass  # keep the test output clean

        self.server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def mirror(tmp_path) -> Iterator[Mirror]:
    served = Mirror(tmp_path / "mirror")
    yield served
    served.close()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty data home, set the way a user sets it: SKMIXUP_DATA."""
    folder = tmp_path / "home"
    monkeypatch.setenv("SKMIXUP_DATA", str(folder))
    monkeypatch.delenv("SKMIXUP_DATA_MIRROR", raising=False)
    return folder


# A test registry: one dataset of two small files, one stored gzipped and fetched
# in a raw form that needs the preprocessing the real HTRU2 file needs.
PLAIN = b"1,2,3\n4,5,6\n"
CLEAN = b"0.5,1\n1.5,0\n"
RAW = b"a header line\r" + CLEAN.replace(b"\n", b"\r")
TINY = RemoteDataset(
    "tiny",
    "uci_classification/tiny",
    "classification",
    "A tiny test set",
    None,
    None,
    (
        RemoteFile("plain.txt", "owner/repo/abc/plain.txt", _sha256(PLAIN)),
        RemoteFile(
            "clean.csv.gz",
            "owner/repo/abc/dir/raw%20name.csv",
            _sha256(CLEAN),
            ("cr_to_lf", "drop_first_line"),
        ),
    ),
)


@pytest.fixture
def tiny(mirror, monkeypatch) -> Mirror:
    monkeypatch.setitem(DATASETS, "tiny", TINY)
    mirror.put("owner/repo/abc/plain.txt", PLAIN)
    mirror.put("owner/repo/abc/dir/raw name.csv", RAW)
    return mirror


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_data_home_is_the_argument_else_the_environment_else_the_default(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("SKMIXUP_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("SKMIXUP_DATA")
    assert get_data_home() == Path.home() / "skmixup_data"
    # Nothing is created until something is downloaded.
    assert not (tmp_path / "arg").exists() and not (tmp_path / "env").exists()


def test_fetch_downloads_checks_and_keeps_the_files(tiny, home):
    paths = fetch_uci_files("tiny", base_url=tiny.url)
    folder = home / "uci_classification" / "tiny"
    assert paths == {
        "plain.txt": folder / "plain.txt",
        "clean.csv.gz": folder / "clean.csv.gz",
    }
    assert paths["plain.txt"].read_bytes() == PLAIN
    # Header dropped, line ends fixed, then stored gzipped as its name says.
    assert gzip.decompress(paths["clean.csv.gz"].read_bytes()) == CLEAN
    assert _files(home) == sorted(paths.values())  # no temporary file left
    assert sorted(tiny.requests) == [
        "/owner/repo/abc/dir/raw%20name.csv",
        "/owner/repo/abc/plain.txt",
    ]


def test_a_second_fetch_uses_the_cache_without_a_request(tiny, home):
    fetch_uci_files("tiny", base_url=tiny.url)
    n = len(tiny.requests)
    again = fetch_uci_files("tiny", base_url=tiny.url)
    assert len(tiny.requests) == n
    assert again["plain.txt"].read_bytes() == PLAIN
    # Only what is missing is downloaded again.
    again["plain.txt"].unlink()
    fetch_uci_files("tiny", base_url=tiny.url)
    assert tiny.requests[n:] == ["/owner/repo/abc/plain.txt"]


def test_the_mirror_can_be_set_in_the_environment(tiny, home, monkeypatch):
    monkeypatch.setenv("SKMIXUP_DATA_MIRROR", tiny.url + "/")
    fetch_uci_files("tiny")
    assert len(tiny.requests) == 2


def test_a_corrupted_download_fails_clearly_and_keeps_nothing(tiny, home):
    bad = PLAIN.replace(b"5", b"7")
    tiny.put("owner/repo/abc/plain.txt", bad)
    with pytest.raises(DownloadError) as error:
        fetch_uci_files("tiny", base_url=tiny.url)
    message = str(error.value)
    for part in (
        "checksum mismatch",
        "dataset 'tiny'",
        "plain.txt",
        f"{tiny.url}/owner/repo/abc/plain.txt",
        f"expected sha256 {_sha256(PLAIN)}",
        f"got {_sha256(bad)}",
        "nothing was saved",
        "SKMIXUP_DATA_MIRROR",
    ):
        assert part in message
    # The file downloaded before the bad one is kept; the bad one is not, and
    # no temporary file remains.
    assert [p.name for p in _files(home)] in ([], ["clean.csv.gz"])
    assert not (home / "uci_classification" / "tiny" / "plain.txt").exists()


def test_a_write_cut_short_leaves_no_file(tiny, home, monkeypatch):
    def fail(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_fetch.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        fetch_uci_files("tiny", base_url=tiny.url)
    assert _files(home) == []


def test_an_http_error_fails_clearly(tiny, home):
    (tiny.root / "owner/repo/abc/plain.txt").unlink()
    with pytest.raises(DownloadError) as error:
        fetch_uci_files("tiny", base_url=tiny.url)
    message = str(error.value)
    assert "HTTP 404" in message and "dataset 'tiny'" in message
    assert f"{tiny.url}/owner/repo/abc/plain.txt" in message
    assert not (home / "uci_classification" / "tiny" / "plain.txt").exists()


def test_no_server_fails_clearly(home, monkeypatch):
    monkeypatch.setitem(DATASETS, "tiny", TINY)
    closed = Mirror(home.parent / "closed")
    closed.close()
    with pytest.raises(DownloadError, match="cannot download dataset 'tiny'"):
        fetch_uci_files("tiny", base_url=closed.url)
    assert not home.exists()


def test_download_if_missing_false_raises_without_a_request(tiny, home):
    with pytest.raises(FileNotFoundError) as error:
        fetch_uci_files("tiny", download_if_missing=False, base_url=tiny.url)
    message = str(error.value)
    assert f"dataset 'tiny' is not in the data home {home}" in message
    assert "download_if_missing is False" in message
    assert "fetch_uci('tiny')" in message and "skmixup-bench download" in message
    assert tiny.requests == [] and not home.exists()


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="name='nope'.*abalone"):
        fetch_uci("nope")


# -- reading: a real dataset's name, with small synthetic files ---------------------

DATA = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.5], [1.5, 0.5, 2.0]])
YACHT_FILES = {
    "data.txt.gz": "\n".join(" ".join(map(str, r)) for r in DATA) + "\n",
    "index_features.txt": "0\n1\n",
    "index_target.txt": "2\n",
    "n_splits.txt": "1\n",
    "index_train_0.txt.gz": "0\n1\n3\n",
    "index_test_0.txt.gz": "2\n",
}


@pytest.fixture
def tiny_yacht(mirror, monkeypatch) -> Mirror:
    files = []
    for name, text in YACHT_FILES.items():
        path = f"owner/splits/abc/yacht/{name.removesuffix('.gz')}"
        mirror.put(path, text.encode())
        files.append(RemoteFile(name, path, _sha256(text.encode())))
    real = DATASETS["yacht"]
    monkeypatch.setitem(
        DATASETS, "yacht", RemoteDataset(**{**vars(real), "files": tuple(files)})
    )
    return mirror


def test_fetch_uci_reads_a_regression_set_and_its_splits(tiny_yacht, home):
    ds = fetch_uci("yacht", base_url=tiny_yacht.url)
    assert ds.task == "regression"
    assert ds.data.to_numpy().tolist() == DATA[:, :2].tolist()
    assert ds.target.tolist() == DATA[:, 2].tolist()
    ((train, test),) = ds.splits
    assert train.tolist() == [0, 1, 3] and test.tolist() == [2]
    assert "Yacht Hydrodynamics" in ds.DESCR and "10.24432/C5XG7R" in ds.DESCR
    assert set(ds.files) == set(YACHT_FILES)
    X, y = fetch_uci("yacht", return_X_y=True)  # from the cache now
    assert X.shape == (4, 2) and y.shape == (4,)


def test_the_benchmark_reads_the_data_home_and_its_download_fills_it(
    tiny_yacht, home, capsys
):
    from skmixup.bench.cli import main

    bench_datasets.load.cache_clear()
    try:
        with pytest.raises(bench_datasets.DatasetError) as error:
            bench_datasets.load("uci:yacht")
        message = str(error.value)
        assert f"not in the data home {home}" in message
        assert "skmixup-bench download --datasets yacht" in message
        assert "--data-dir DIR" in message
        args = ["download", "--datasets", "yacht", "--mirror", tiny_yacht.url]
        assert main(args) == 0
        assert "uci:yacht: downloading" in capsys.readouterr().err
        assert main(args) == 0
        assert "uci:yacht: already in" in capsys.readouterr().err
        ds = bench_datasets.load("uci:yacht")
        assert ds.X.shape == (4, 2) and len(ds.splits) == 1
    finally:
        bench_datasets.load.cache_clear()


def test_the_download_command_fails_clearly(tiny_yacht, home, capsys):
    from skmixup.bench.cli import main

    (tiny_yacht.root / "owner/splits/abc/yacht/n_splits.txt").write_text("2\n")
    args = ["download", "--datasets", "yacht", "--mirror", tiny_yacht.url]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and "n_splits.txt" in err
    assert main(["download"]) == 2
    assert "either --suite or --datasets" in capsys.readouterr().err
    assert main(["download", "--suite", "default"]) == 0
    assert "nothing to download" in capsys.readouterr().err


# -- the real registry ----------------------------------------------------------------


def test_the_registry_covers_every_uci_dataset_of_the_benchmark():
    assert set(UCI_DATASETS) == {
        *bench_datasets.LOCAL_CLASSIFICATION,
        *bench_datasets.LOCAL_REGRESSION,
    }
    for dataset in DATASETS.values():
        names = [f.name for f in dataset.files]
        assert len(names) == len(set(names)), dataset.name
        for file in dataset.files:
            assert len(file.sha256) == 64 and set(file.sha256) <= set(
                "0123456789abcdef"
            )


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data is not present")
def test_the_registry_matches_the_files_this_project_was_given():
    manifest = json.loads((SHARED_DATA / "manifest.json").read_text())
    given = {f["path"]: f for d in manifest["datasets"] for f in d["files"]}
    for dataset in DATASETS.values():
        for file in dataset.files:
            entry = given[f"{dataset.folder}/{file.name}"]
            source = (
                f"{entry['source_repo']}/{entry['source_commit']}/"
                f"{quote(entry['source_path'])}"
            )
            assert file.path == source
            data = (SHARED_DATA / entry["path"]).read_bytes()
            if entry["path"].endswith(".gz"):
                data = gzip.decompress(data)
            assert _sha256(data) == file.sha256 == entry["uncompressed_sha256"]
            # The content is the source's git blob, except where a format
            # change was made (and then the change is in the registry).
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            assert (blob == entry["source_git_blob"]) == (not file.preprocess)
            assert entry["preprocessing"].startswith("none") == (not file.preprocess)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data is not present")
def test_the_two_preprocessed_files_come_out_as_given(mirror, home):
    # Their sources as described: arcene_train.data with a blank first line (its
    # git blob proves it), HTRU_2.csv with a header line and CR line ends.
    def given(path: str) -> bytes:
        return gzip.decompress((SHARED_DATA / path).read_bytes())

    arcene = given("uci_classification/arcene/arcene_train.data.gz")
    raw = b"\n" + arcene
    entry = next(f for f in DATASETS["arcene"].files if f.preprocess)
    assert hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest() == (
        "4c69f9d9c5f9c0867d06b4f332097723160c8aca"
    )
    htru2 = given("uci_classification/htru2/HTRU_2.csv.gz")
    sources = {
        entry.path: raw,
        DATASETS["htru2"].files[0].path: b"a,header\r" + htru2.replace(b"\n", b"\r"),
    }
    for dataset in ("arcene", "htru2"):
        for file in DATASETS[dataset].files:
            if file.path not in sources:
                folder = SHARED_DATA / DATASETS[dataset].folder
                data = (folder / file.name).read_bytes()
                sources[file.path] = (
                    gzip.decompress(data) if file.name.endswith(".gz") else data
                )
    for path, data in sources.items():
        mirror.put(path.replace("%20", " "), data)
    assert fetch_uci("arcene", base_url=mirror.url).data.shape == (200, 10000)
    ds = fetch_uci("htru2", base_url=mirror.url)
    assert ds.data.shape == (17898, 8)
    assert np.bincount(ds.target).tolist() == [16259, 1639]
    stored = home / "uci_classification" / "htru2" / "HTRU_2.csv.gz"
    assert gzip.decompress(stored.read_bytes()) == htru2
