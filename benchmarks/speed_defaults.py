"""The section of ``speed.py`` that measures what users get: default settings.

No thread pinning anywhere: skmixup's estimators as constructed by a user,
scikit-learn's MLP as constructed by a user, in a process whose PyTorch and BLAS
thread counts are the libraries' defaults. Every group of jobs is timed in turn
(ABC ABC ...), once on the quiet machine and once beside one busy-loop process
per core, which this module starts and stops itself. A fresh process's first fit
is timed in child processes.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skmixup import MixupClassifier
from skmixup._threads import available_cores, torch_threads

# The first fit of a fresh process, against its second (breast_cancer, defaults).
_FIRST_FIT = """
import json, time
t0 = time.perf_counter()
import skmixup
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
t1 = time.perf_counter()
X, y = load_breast_cancer(return_X_y=True)
fits = []
for _ in range(3):
    start = time.perf_counter()
    make_pipeline(StandardScaler(), skmixup.MixupClassifier(random_state=0)).fit(X, y)
    fits.append(time.perf_counter() - start)
print(json.dumps({"import": t1 - t0, "fits": fits}))
"""


def _busy_loop() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy_machine(n: int) -> Iterator[None]:
    """``n`` processes that spin on a core each, for the block's duration."""
    loops = [multiprocessing.Process(target=_busy_loop, daemon=True) for _ in range(n)]
    for p in loops:
        p.start()
    try:
        time.sleep(1.0)  # let the scheduler spread them
        yield
    finally:
        for p in loops:
            p.terminate()
        for p in loops:
            p.join()


@contextlib.contextmanager
def one_pinned_thread() -> Iterator[None]:
    """What the pinned section (and a careful user) does: one torch thread and
    one BLAS thread for the block."""
    with torch_threads(1), threadpool_limits(1):
        yield


def _sklearn_mlp(hidden, batch_size, epochs) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )


def _fit(make, X, y, scope=contextlib.nullcontext):
    with scope():
        make().fit(X, y)


def groups() -> dict[str, dict[str, Callable[[], object]]]:
    """Name -> jobs timed against each other (the first is the default)."""
    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    X20, y20 = make_classification(20_000, 20, n_informative=10, random_state=0)
    X100, y100 = make_classification(200_000, 100, n_informative=20, random_state=0)
    X100 = X100.astype(np.float32)

    def pipe(est):
        return lambda: make_pipeline(StandardScaler(), est())

    def search(n_jobs: int, **params):
        grid = {"mixupclassifier__alpha": [0.0, 0.4, 1.0]}
        est = MixupClassifier(max_epochs=30, random_state=0, **params)
        return lambda: GridSearchCV(
            make_pipeline(StandardScaler(), est), grid, cv=3, n_jobs=n_jobs
        )

    def big(**params):
        return lambda: MixupClassifier(
            hidden_layer_sizes=(512, 512),
            batch_size=1024,
            max_epochs=1,
            random_state=0,
            **params,
        )

    return {
        "breast_cancer, defaults (100 epochs, batch 64)": {
            "skmixup defaults": lambda: _fit(
                pipe(lambda: MixupClassifier(random_state=0)), X_bc, y_bc
            ),
            "skmixup, one pinned thread": lambda: _fit(
                pipe(lambda: MixupClassifier(random_state=0)),
                X_bc,
                y_bc,
                one_pinned_thread,
            ),
            "sklearn MLP, same net and passes": lambda: _fit(
                pipe(lambda: _sklearn_mlp((128, 128), 64, 100)), X_bc, y_bc
            ),
        },
        "20,000 x 20, 5 epochs, batch 64": {
            "skmixup defaults": lambda: _fit(
                lambda: MixupClassifier(max_epochs=5, random_state=0), X20, y20
            ),
            "skmixup, one pinned thread": lambda: _fit(
                lambda: MixupClassifier(max_epochs=5, random_state=0),
                X20,
                y20,
                one_pinned_thread,
            ),
            "sklearn MLP, same net and passes": lambda: _fit(
                lambda: _sklearn_mlp((128, 128), 64, 5), X20, y20
            ),
        },
        "200,000 x 100, 2x512, batch 1,024, 1 epoch": {
            "skmixup defaults": lambda: _fit(big(), X100, y100),
            "skmixup, n_threads=1": lambda: _fit(big(n_threads=1), X100, y100),
            "skmixup, n_threads=-1 (every core)": lambda: _fit(
                big(n_threads=-1), X100, y100
            ),
        },
        "GridSearchCV, 9 fits (3 alphas x 3 folds), breast_cancer, 30 epochs": {
            "n_jobs=2, defaults": lambda: search(2)().fit(X_bc, y_bc),
            "n_jobs=1, defaults": lambda: search(1)().fit(X_bc, y_bc),
            "n_jobs=2, n_threads=1": lambda: search(2, n_threads=1)().fit(X_bc, y_bc),
        },
    }


def _spread(times: list[float]) -> dict:
    """Median, quartiles and range of ``times`` (and the times themselves)."""
    q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return {
        "median": median,
        "q1": q1,
        "q3": q3,
        "min": min(times),
        "max": max(times),
        "times": times,
    }


def interleaved_times(
    jobs: dict[str, Callable[[], object]], repeats: int
) -> dict[str, list[float]]:
    """Seconds of each job's calls, timing the jobs in turn (ABCABC...) so that
    load changes on a shared machine hit every job alike; one warm-up call each."""
    for fn in jobs.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, fn in jobs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def time_groups(repeats: int, label: str) -> list[dict]:
    """Each group's jobs, timed in turn (:func:`interleaved_times`)."""
    rows = []
    for group, jobs in groups().items():
        for name, t in interleaved_times(jobs, repeats).items():
            rows.append({"load": label, "group": group, "job": name, **_spread(t)})
            print(
                f"  {label} | {group} | {name}: {rows[-1]['median']:.3f} s", flush=True
            )
    return rows


def first_fit(n_processes: int) -> dict:
    """Import time and the first three fits of fresh processes."""
    runs = []
    for _ in range(n_processes):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_FIT],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    extra = [r["fits"][0] - r["fits"][1] for r in runs]
    return {
        "runs": runs,
        "import": _spread([r["import"] for r in runs]),
        "first": _spread([r["fits"][0] for r in runs]),
        "second": _spread([r["fits"][1] for r in runs]),
        "first_minus_second": _spread(extra),
    }


def measure(repeats: int) -> dict:
    print("defaults, quiet machine:", flush=True)
    quiet = time_groups(repeats, "quiet")
    print("defaults, first fit of fresh processes:", flush=True)
    first = first_fit(max(3, repeats))
    n_busy = available_cores()
    print(f"defaults, beside {n_busy} busy-loop processes:", flush=True)
    with busy_machine(n_busy):
        busy = time_groups(repeats, "busy")
    return {"rows": quiet + busy, "first_fit": first, "busy_processes": n_busy}


def _median(rows, load, group, job) -> float:
    for r in rows:
        if (r["load"], r["group"], r["job"]) == (load, group, job):
            return r["median"]
    raise KeyError((load, group, job))


def report(result: dict) -> str:
    rows, first = result["rows"], result["first_fit"]
    lines = [
        "## With default settings, quiet and busy",
        "",
        "No thread pinning: the libraries' default PyTorch and BLAS threads, the "
        "estimators as a user constructs them. Each group's jobs are timed in "
        "turn after one warm-up call each; median [quartiles] in seconds. "
        f'"busy": beside {result["busy_processes"]} busy-loop processes (one per '
        "core), started and stopped by the benchmark.",
        "",
        "| load | group | job | median [q1, q3] s | / first job |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        base = next(
            x["median"]
            for x in rows
            if x["load"] == r["load"] and x["group"] == r["group"]
        )
        lines.append(
            f"| {r['load']} | {r['group']} | {r['job']} | {r['median']:.3f} "
            f"[{r['q1']:.3f}, {r['q3']:.3f}] | {r['median'] / base:.2f} |"
        )
    lines += [
        "",
        f"Fresh processes ({len(first['runs'])}): `import skmixup` (with scikit-"
        f"learn's dataset and pipeline modules) {first['import']['median']:.2f} s "
        f"[{first['import']['q1']:.2f}, {first['import']['q3']:.2f}]; first fit "
        f"{first['first']['median']:.3f} s, second {first['second']['median']:.3f} "
        f"s (breast_cancer, defaults).",
        "",
        "Targets (ratios of medians within this run):",
        "",
    ]
    bc = "breast_cancer, defaults (100 epochs, batch 64)"
    t20 = "20,000 x 20, 5 epochs, batch 64"
    big = "200,000 x 100, 2x512, batch 1,024, 1 epoch"
    gs = "GridSearchCV, 9 fits (3 alphas x 3 folds), breast_cancer, 30 epochs"

    def target(text: str, value: float, goal: float) -> None:
        verdict = "met" if value <= goal else "MISSED"
        lines.append(f"- {text} = {value:.2f} (target <= {goal}: {verdict})")

    extra = first["first_minus_second"]["median"]
    target("first fit minus second fit of a fresh process, s", extra, 0.2)
    for load, goal in (("quiet", 1.1), ("busy", 1.2)):
        for group in (bc, t20):
            target(
                f"{load}, {group}: defaults / one pinned thread",
                _median(rows, load, group, "skmixup defaults")
                / _median(rows, load, group, "skmixup, one pinned thread"),
                goal,
            )
    for load in ("quiet", "busy"):
        for group in (bc, t20):
            target(
                f"{load}, {group}: defaults / sklearn MLP",
                _median(rows, load, group, "skmixup defaults")
                / _median(rows, load, group, "sklearn MLP, same net and passes"),
                1.0,
            )
    for load in ("quiet", "busy"):
        best = min(
            _median(rows, load, big, "skmixup, n_threads=1"),
            _median(rows, load, big, "skmixup, n_threads=-1 (every core)"),
        )
        target(
            f"{load}, {big}: automatic / the better of one thread and every core",
            _median(rows, load, big, "skmixup defaults") / best,
            1.1,
        )
    target(
        f"quiet, {gs}: n_jobs=2 / n_jobs=1",
        _median(rows, "quiet", gs, "n_jobs=2, defaults")
        / _median(rows, "quiet", gs, "n_jobs=1, defaults"),
        0.7,
    )
    target(
        f"busy, {gs}: n_jobs=2 defaults / n_jobs=2 with one thread",
        _median(rows, "busy", gs, "n_jobs=2, defaults")
        / _median(rows, "busy", gs, "n_jobs=2, n_threads=1"),
        1.0,
    )
    return "\n".join(lines) + "\n"
