"""Tests of the skmixup-bench command, on tiny synthetic data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from skmixup.bench import datasets
from skmixup.bench.cli import main
from skmixup.bench.suites import SUITES, Suite

TINY = ["--max-epochs", "2", "-q"]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _runs(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "run"]


def test_entry_point_is_registered():
    (ep,) = entry_points(group="console_scripts", name="skmixup-bench")
    assert ep.value == "skmixup.bench.cli:main"
    assert ep.load() is main


def test_default_run_writes_table_results_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification,synthetic:regression"]
    status = main([*args, "--repeats", "2", "--out", str(out), *TINY])
    assert status == 0
    runs = _runs(out / "results.jsonl")
    # 2 datasets x 5 default methods x 2 repeats.
    assert len(runs) == 20
    assert {r["method"] for r in runs} == {
        "erm", "mixup-0.1", "mixup-0.4", "mixup-1.0", "hgb",
    }  # fmt: skip
    clf = [r for r in runs if r["task"] == "classification"]
    assert all(0 <= r["error"] <= 1 and r["log_loss"] > 0 for r in clf)
    assert all(0 <= r["ece"] <= 1 for r in clf)
    reg = [r for r in runs if r["task"] == "regression"]
    assert all(r["rmse"] >= r["mae"] > 0 for r in reg)
    assert all(r["fit_seconds"] >= 0 and r["predict_seconds"] >= 0 for r in runs)
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert header["kind"] == "header"
    assert header["versions"]["skmixup"] and header["suite"]["max_epochs"] == 2
    table = (out / "results.md").read_text()
    assert "| classification |" in table and "| regression |" in table
    assert table in capsys.readouterr().out
    for png in ("erm_vs_mixup.png", "alpha_curve.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    # --report rewrites the same table from the results file, running nothing.
    (out / "results.md").unlink()
    lines = (out / "results.jsonl").read_text()
    assert main(["--report", "--out", str(out), "-q"]) == 0
    assert (out / "results.md").read_text() == table
    assert (out / "results.jsonl").read_text() == lines


def test_seed_reproduces_and_reaches_the_models(tmp_path):
    args = ["--datasets", "synthetic:classification", "--methods", "mixup-0.4"]
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        main([*args, "--seed", seed, "--out", str(tmp_path / name), *TINY])
    a, b, c = (_runs(tmp_path / n / "results.jsonl")[0] for n in "abc")
    assert a["log_loss"] == b["log_loss"] and a["seed"] == b["seed"]
    assert a["seed"] != c["seed"]


def test_resume_drops_a_partial_line_and_skips_finished_runs(tmp_path):
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm,mixup-0.4"]
    assert main([*args, "--repeats", "2", "--out", str(out), *TINY]) == 0
    results = out / "results.jsonl"
    first = _runs(results)
    # A run killed while writing its row: a line without its newline.
    with open(results, "a") as f:
        f.write('{"kind": "run", "key": "synthetic:classif')
    assert main([*args, "--repeats", "2", "--out", str(out), *TINY]) == 2
    assert main([*args, "--repeats", "3", "--out", str(out), "--resume", *TINY]) == 0
    runs = _runs(results)
    assert len(runs) == 6
    assert runs[:4] == first
    assert sorted(r["repeat"] for r in runs[4:]) == [2, 2]
    # A different protocol is refused rather than mixed into the same file.
    changed = [*args, "--out", str(out), "--resume", "--seed", "5", *TINY]
    assert main(changed) == 2


def test_resume_after_sigkill_keeps_every_finished_row(tmp_path):
    out = tmp_path / "out"
    args = [
        "--datasets", "synthetic:classification", "--methods", "erm,mixup-1.0",
        "--max-epochs", "20", "--out", str(out), "-q",
    ]  # fmt: skip
    command = [sys.executable, "-m", "skmixup.bench", *args, "--repeats", "40"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count('"kind": "run"') >= 3:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the benchmark wrote no rows")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = _runs(results)  # every line parses: no half-written row
    assert 3 <= len(killed) < 80
    assert main([*args, "--repeats", "3", "--resume"]) == 0
    runs = _runs(results)
    assert runs[: len(killed)] == killed
    keys = [r["key"] for r in runs]
    assert len(keys) == len(set(keys))
    assert {(r["method"], r["repeat"]) for r in runs} >= {
        (m, i) for m in ("erm", "mixup-1.0") for i in range(3)
    }


def test_openml_offline_and_not_cached_is_a_short_error(tmp_path, capsys):
    openml = pytest.importorskip("openml")
    server = openml.config.server
    # A local port that refuses connections: fails at once, never touches the net.
    openml.config.server = "http://127.0.0.1:9/api/v1/xml"
    try:
        start = time.monotonic()
        status = main(
            [
                "--datasets", "openml:61", "--openml-cache", str(tmp_path / "cache"),
                "--out", str(tmp_path / "out"), "-q",
            ]
        )  # fmt: skip
        elapsed = time.monotonic() - start
    finally:
        openml.config.server = server
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot load OpenML dataset '61'" in err
    assert "Traceback" not in err and len(err.splitlines()) <= 2
    assert elapsed < 30


def test_dask_backend_runs_the_same_runs(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ["--datasets", "synthetic:regression", "--methods", "erm,mixup-0.4"]
    with distributed.LocalCluster(
        n_workers=1, processes=False, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        status = main(
            [
                *args, "--repeats", "2", "--backend", "dask",
                "--scheduler", cluster.scheduler_address,
                "--out", str(tmp_path / "dask"), *TINY,
            ]
        )  # fmt: skip
    assert status == 0
    assert main([*args, "--repeats", "2", "--out", str(tmp_path / "local"), *TINY]) == 0
    dask_rows = {r["key"]: r["rmse"] for r in _runs(tmp_path / "dask/results.jsonl")}
    local_rows = {r["key"]: r["rmse"] for r in _runs(tmp_path / "local/results.jsonl")}
    assert dask_rows == pytest.approx(local_rows)


def test_bad_arguments_and_unknown_datasets_exit_2(tmp_path, capsys):
    out = ["--out", str(tmp_path), "-q"]
    assert main(["--datasets", "nope", *out]) == 2
    assert main(["--methods", "mixup-x", *out]) == 2
    assert main(["--suite", "paper", "--datasets", "abalone", *out]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "--data-dir" in err


def test_resolve_prefers_the_suite_datasets():
    assert datasets.resolve("iris") == "sklearn:iris"
    assert datasets.resolve("iris", ("uci:iris",)) == "uci:iris"
    assert datasets.resolve("protein") == "uci:protein"
    assert datasets.resolve("openml:credit-g") == "openml:credit-g"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data is not present")
@pytest.mark.parametrize(
    "name, n_rows, n_features, n_classes",
    [
        ("abalone", 4177, 8, 28),
        ("arcene", 200, 10000, 2),
        ("arrhythmia", 452, 279, 13),
        ("htru2", 17898, 8, 2),
        ("iris", 150, 4, 3),
        ("phishing", 11055, 30, 2),
    ],
)
def test_local_classification_files_load(name, n_rows, n_features, n_classes):
    ds = datasets.load(f"uci:{name}", str(SHARED_DATA))
    assert ds.X.shape == (n_rows, n_features)
    assert len(set(ds.y)) == n_classes


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data is not present")
def test_local_files_run_end_to_end(tmp_path):
    status = main(
        [
            "--suite", "paper", "--datasets", "abalone,yacht",
            "--data-dir", str(SHARED_DATA), "--methods", "erm",
            "--repeats", "1", "--out", str(tmp_path), *TINY,
        ]
    )  # fmt: skip
    assert status == 0
    runs = {r["dataset"]: r for r in _runs(tmp_path / "results.jsonl")}
    assert runs["abalone"]["n_features"] == 8 and runs["abalone"]["split"] == "random"
    assert runs["yacht"]["split"] == "predefined" and runs["yacht"]["n_test"] == 31


def test_committed_suite_configs_match_the_builtin_suites():
    configs = Path(__file__).resolve().parents[1] / "benchmarks" / "suites"
    for name, suite in SUITES.items():
        committed = json.loads((configs / f"{name}.json").read_text())
        assert Suite.from_dict(committed) == suite, name


def test_suite_from_a_json_config(tmp_path):
    config = SUITES["default"].as_dict() | {
        "name": "mine",
        "datasets": ["synthetic:regression"],
        "methods": ["erm", "mixup-0.2"],
        "repeats": 1,
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(config))
    assert main(["--suite", str(path), "--out", str(tmp_path / "out"), *TINY]) == 0
    runs = _runs(tmp_path / "out" / "results.jsonl")
    assert [(r["suite"], r["method"]) for r in runs] == [
        ("mine", "erm"),
        ("mine", "mixup-0.2"),
    ]
    assert main(["--suite", "nope", "--out", str(tmp_path / "x"), "-q"]) == 2


def test_missing_bench_extra_is_a_short_error(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n: None if n == "tqdm" else real(n)
    )
    assert main(["--out", str(tmp_path), "-q"]) == 2
    assert "pip install 'skmixup[bench]'" in capsys.readouterr().err
