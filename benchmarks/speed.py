"""Speed benchmark: skmixup against scikit-learn's MLP and plain skorch.

Run from the repository root::

    python benchmarks/speed.py --out benchmarks/results/speed

Two sections. "With default settings" (``speed_defaults.py``) times what users
get: no thread pinning, on the quiet machine and beside one busy-loop process
per core, with quartiles. The pinned section times everything in this one
process, after a warm-up fit, with one torch thread and one BLAS thread; each
figure is the median of ``--repeats`` runs. The scale and peak-memory figures
come from child processes (one per size) so that their peak RSS is their own.
A third section, "ensemble", times ``n_ensemble=8`` against one plain fit
(alpha=1, batch 16 and 256, one pinned thread and default threads, timed in
turn) and measures the peak memory of both fits on 200,000 x 20 in child
processes; it writes ``speed_ensemble.md`` and ``.json``. A fourth, "recipe",
times each option of issue 16's recipe against the default fit
(``speed_recipe.md``). The first two write ``speed.md`` and ``.json``.
``--sections`` runs some of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from skorch import NeuralNetClassifier, NeuralNetRegressor
from threadpoolctl import threadpool_limits

import skmixup
from skmixup import MLP, MixupClassifier, MixupRegressor
from skmixup._threads import torch_threads
from skmixup.bench.runner import cpu_name
from skmixup.bench.suites import VARIANTS

sys.path.insert(0, str(Path(__file__).parent))
import speed_defaults  # noqa: E402

N_ROWS, N_FEATURES = 17_898, 8  # the size of HTRU2
SETTINGS = [(16, 2), (256, 10)]  # (batch size, epochs)
PREDICT_ROWS = 1_000_000


def revision() -> str:
    """The source revision, with ``-dirty`` when tracked files have changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
        return git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_meta(script: str, argv: list[str] | None, **extra) -> dict:
    """The command, machine, versions and source revision of a benchmark run,
    plus ``extra``."""
    return {
        "command": f"python benchmarks/{script} " + " ".join(argv or sys.argv[1:]),
        "revision": revision(),
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skorch": skorch.__version__,
        "skmixup": skmixup.__version__,
        **extra,
    }


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_data(task: str, n: int, d: int, seed: int = 0):
    if task == "classifier":
        X, y = make_classification(n, d, n_informative=min(d, 5), random_state=seed)
    else:
        X, y = make_regression(n, d, noise=1.0, random_state=seed)
        y = (y - y.mean()) / y.std()
    return X.astype(np.float32), y


def estimators(task: str, batch_size: int, epochs: int, device: str):
    """name -> factory of an unfitted estimator, all with the same 2x128 network."""
    classifier = task == "classifier"
    n_out = 2 if classifier else 1
    sk = MLPClassifier if classifier else MLPRegressor
    net = NeuralNetClassifier if classifier else NeuralNetRegressor
    ours = MixupClassifier if classifier else MixupRegressor
    criterion = torch.nn.CrossEntropyLoss if classifier else torch.nn.MSELoss
    common = {"max_epochs": epochs, "batch_size": batch_size, "device": device}
    return {
        "sklearn MLP": lambda: sk(
            hidden_layer_sizes=(128, 128),
            solver="adam",
            batch_size=batch_size,
            max_iter=epochs,
            early_stopping=False,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=0,
        ),
        "plain skorch (ERM)": lambda: net(
            MLP(N_FEATURES, n_out),
            criterion=criterion,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=epochs,
            batch_size=batch_size,
            train_split=None,
            device=device,
            verbose=0,
        ),
        "skmixup alpha=0": lambda: ours(alpha=0.0, random_state=0, **common),
        "skmixup alpha=1": lambda: ours(alpha=1.0, random_state=0, **common),
    }


def _fit(factory, X, y):
    return factory().fit(X, y)


def interleaved_medians(jobs: dict[str, Callable[[], object]], repeats: int):
    """Median seconds per job of :func:`speed_defaults.interleaved_times`."""
    times = speed_defaults.interleaved_times(jobs, repeats)
    return {name: statistics.median(t) for name, t in times.items()}


def fit_table(repeats: int, device: str) -> list[dict]:
    rows = []
    for task in ("classifier", "regressor"):
        X, y = make_data(task, N_ROWS, N_FEATURES)
        # skorch's regressor wants a float32 column.
        y_skorch = y if task == "classifier" else y.astype(np.float32)[:, None]
        for batch_size, epochs in SETTINGS:
            factories = estimators(task, batch_size, epochs, device)
            jobs = {
                name: partial(_fit, factory, X, y_skorch if "skorch" in name else y)
                for name, factory in factories.items()
            }
            for name, seconds in interleaved_medians(jobs, repeats).items():
                rows.append(
                    {
                        "task": task,
                        "batch_size": batch_size,
                        "epochs": epochs,
                        "estimator": name,
                        "fit_seconds": seconds,
                    }
                )
                print(f"  {task} bs={batch_size} {name}: {seconds:.3f} s", flush=True)
    return rows


def predict_table(repeats: int, device: str) -> list[dict]:
    X, y = make_data("classifier", N_ROWS, N_FEATURES)
    X_big = np.random.RandomState(1).randn(PREDICT_ROWS, N_FEATURES).astype(np.float32)
    models = {
        name: factory().fit(X, y)
        for name, factory in estimators("classifier", 256, 1, device).items()
        if name != "plain skorch (ERM)"
    }
    jobs = {name: (lambda m=model: m.predict(X_big)) for name, model in models.items()}
    rows = []
    for name, seconds in interleaved_medians(jobs, repeats).items():
        rows.append({"estimator": name, "predict_seconds": seconds})
        print(f"  predict {PREDICT_ROWS:,} rows {name}: {seconds:.3f} s", flush=True)
    return rows


def _proc_status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def scale_child(n_rows: int, repeats: int) -> None:
    """Child process: time one epoch on n_rows x 20 and report peak memory."""
    torch.set_num_threads(1)
    rss_after_imports = _proc_status_mb("VmRSS")
    X, y = make_data("classifier", n_rows, 20)
    est = MixupClassifier(alpha=1.0, max_epochs=1, batch_size=256, device="cpu")
    with threadpool_limits(1):
        est.fit(X[:1000], y[:1000])  # warm-up
        rss_before_fit = _proc_status_mb("VmRSS")
        # Linux: writing 5 resets the peak RSS (VmHWM) to the current RSS.
        Path("/proc/self/clear_refs").write_text("5")
        seconds = median_time(lambda: est.fit(X, y), repeats)
    peak = _proc_status_mb("VmHWM")
    print(
        json.dumps(
            {
                "rows": n_rows,
                "fit_seconds": seconds,
                "data_mb": X.nbytes / 2**20,
                "rss_after_imports_mb": rss_after_imports,
                "rss_before_fit_mb": rss_before_fit,
                "peak_rss_during_fit_mb": peak,
            }
        )
    )


def child_json(script: str, *args: str) -> dict:
    """The JSON object that ``python script *args`` prints on its last line, run
    in a child process of its own (so that its peak RSS is its own)."""
    out = subprocess.run(
        [sys.executable, script, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def scale_table(repeats: int) -> list[dict]:
    rows = []
    for n_rows in (100_000, 1_000_000):
        args = ("--scale-child", str(n_rows), "--repeats", str(repeats))
        rows.append(child_json(__file__, *args))
        print(f"  scale {rows[-1]}", flush=True)
    return rows


ENSEMBLE = 8
ENSEMBLE_GOALS = {16: 2.5, 256: 6.0}  # most ensemble / plain fit time, by batch
ENSEMBLE_MEMORY_ROWS, ENSEMBLE_MEMORY_GOAL = 200_000, 1.5


def ensemble_table(repeats: int, device: str) -> list[dict]:
    """``n_ensemble=ENSEMBLE`` against one plain fit, timed in turn, with one
    pinned thread and with the estimators' default threads."""
    rows = []
    for task in ("classifier", "regressor"):
        X, y = make_data(task, N_ROWS, N_FEATURES)
        est = MixupClassifier if task == "classifier" else MixupRegressor
        for batch_size, epochs in SETTINGS:
            for threads in ("one thread", "default threads"):
                pinned = {"n_threads": 1} if threads == "one thread" else {}
                params = dict(
                    alpha=1.0,
                    max_epochs=epochs,
                    batch_size=batch_size,
                    device=device,
                    random_state=0,
                    **pinned,
                )
                jobs = {
                    "plain": partial(_fit, partial(est, **params), X, y),
                    f"n_ensemble={ENSEMBLE}": partial(
                        _fit, partial(est, n_ensemble=ENSEMBLE, **params), X, y
                    ),
                }
                times = speed_defaults.interleaved_times(jobs, repeats)
                for name, t in times.items():
                    rows.append(
                        {
                            "task": task,
                            "batch_size": batch_size,
                            "epochs": epochs,
                            "threads": threads,
                            "estimator": name,
                            **speed_defaults._spread(t),
                        }
                    )
                    print(
                        f"  {task} bs={batch_size} {threads} {name}: "
                        f"{rows[-1]['median']:.3f} s",
                        flush=True,
                    )
    return rows


# Issue 16's options, each on top of the defaults before issue 16 ("old
# default"), and the defaults that issue chose ("new default") beside them.
RECIPE_OPTIONS = {
    "cosine": {"lr_schedule": "cosine"},
    "flat_cosine + warm-up": {"lr_schedule": "flat_cosine", "warmup_fraction": 0.05},
    "label_smoothing=0.1": {"label_smoothing": 0.1},
    "ema_decay=0.99": {"ema_decay": 0.99},
    "scale_inputs=robust": {"scale_inputs": "robust"},
    "periodic embeddings": {"num_embeddings": "periodic"},
    "piecewise-linear embeddings": {"num_embeddings": "piecewise_linear"},
}
RECIPE_GOAL = 1.5  # most recipe / old default fit time


def old_defaults() -> dict:
    """The classifier parameters that restore the defaults before issue 16."""
    variant = VARIANTS["old-defaults"]
    return variant.estimator_params(0.0, 1, "classification") | {"alpha": 1.0}


def recipe_table(repeats: int, device: str) -> list[dict]:
    """The old and new default fits and each option on top of the old one,
    timed in turn, one thread."""
    X, y = make_data("classifier", N_ROWS, N_FEATURES)
    rows = []
    for batch_size, epochs in SETTINGS:
        params = {
            "alpha": 1.0,
            "max_epochs": epochs,
            "batch_size": batch_size,
            "device": device,
            "n_threads": 1,
            "random_state": 0,
        }
        old = params | old_defaults()
        jobs = {
            "old default": partial(_fit, partial(MixupClassifier, **old), X, y),
            "new default": partial(_fit, partial(MixupClassifier, **params), X, y),
        }
        for name, option in RECIPE_OPTIONS.items():
            est = partial(MixupClassifier, **(old | option))
            jobs[name] = partial(_fit, est, X, y)
        for name, t in speed_defaults.interleaved_times(jobs, repeats).items():
            rows.append(
                {
                    "batch_size": batch_size,
                    "epochs": epochs,
                    "option": name,
                    **speed_defaults._spread(t),
                }
            )
            print(f"  bs={batch_size} {name}: {rows[-1]['median']:.3f} s", flush=True)
    return rows


def recipe_report(rows: list[dict], meta) -> str:
    old = ", ".join(f"{k}={v!r}" for k, v in old_defaults().items() if k != "alpha")
    lines = [
        "## The recipe against the old default fit",
        "",
        f"{N_ROWS:,} x {N_FEATURES} synthetic data, MixupClassifier 2x128, "
        f'alpha=1, one thread. "old default": the defaults before issue 16 '
        f'({old}); "new default": today\'s; each option alone on top of the old '
        f"default. All fits timed in turn, {meta['repeats']} times after a "
        "warm-up; median seconds with the quartiles in brackets.",
        "",
        "| batch | epochs | fit | seconds | / old default |",
        "|---|---|---|---|---|",
    ]
    targets = []
    for bs, _ in SETTINGS:
        got = {r["option"]: r for r in rows if r["batch_size"] == bs}
        base = got["old default"]["median"]
        for name, r in got.items():
            ratio_ = r["median"] / base
            lines.append(
                f"| {bs} | {r['epochs']} | {name} | {_quartiles(r)} | {ratio_:.2f} |"
            )
            if name != "old default":
                targets.append(
                    f"- batch {bs}, {name}: {ratio_:.2f} (target <= {RECIPE_GOAL} "
                    "for the new default and the options that become defaults: "
                    f"{'within' if ratio_ <= RECIPE_GOAL else 'ABOVE'})"
                )
    lines += ["", *targets, ""]
    return "\n".join(lines)


def ensemble_memory_child(n_members: int) -> None:
    """Child process: peak RSS of one fit on ENSEMBLE_MEMORY_ROWS x 20."""
    X, y = make_data("classifier", ENSEMBLE_MEMORY_ROWS, 20)
    rss_before_fit = _proc_status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    MixupClassifier(alpha=1.0, max_epochs=1, n_ensemble=n_members).fit(X, y)
    peak = _proc_status_mb("VmHWM")
    print(
        json.dumps(
            {
                "n_ensemble": n_members,
                "data_mb": X.nbytes / 2**20,
                "rss_before_fit_mb": rss_before_fit,
                "peak_rss_during_fit_mb": peak,
                "fit_mb": peak - rss_before_fit,
            }
        )
    )


def ensemble_memory(repeats: int) -> list[dict]:
    """Each fit ``repeats`` times, alternating, each in a fresh process."""
    rows = []
    for _ in range(repeats):
        for n_members in (1, ENSEMBLE):
            args = ("--ensemble-memory-child", str(n_members))
            rows.append(child_json(__file__, *args))
            print(f"  memory {rows[-1]}", flush=True)
    return rows


def ensemble_report(time_rows: list[dict], memory_rows: list[dict], meta) -> str:
    lines = [
        f"## Ensembles: n_ensemble={ENSEMBLE} against one fit",
        "",
        f"{N_ROWS:,} x {N_FEATURES} synthetic data, 2x128 ReLU, alpha=1, the two "
        f"fits timed in turn, {meta['repeats']} times after a warm-up; median "
        'seconds with the quartiles in brackets. "one thread": n_threads=1; '
        '"default threads": the estimators\' own choice (n_threads=None).',
        "",
        "| task | batch | epochs | threads | plain s | ensemble s | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    targets = []
    keys = sorted(
        {(r["task"], r["batch_size"], r["epochs"], r["threads"]) for r in time_rows},
        key=lambda k: (k[0], k[1], k[3] != "one thread"),
    )
    for task, bs, epochs, threads in keys:
        got = {
            r["estimator"]: r
            for r in time_rows
            if (r["task"], r["batch_size"], r["threads"]) == (task, bs, threads)
        }
        plain, ens = got["plain"], got[f"n_ensemble={ENSEMBLE}"]
        ratio_ = ens["median"] / plain["median"]
        goal = ENSEMBLE_GOALS[bs]
        lines.append(
            f"| {task} | {bs} | {epochs} | {threads} | {_quartiles(plain)} | "
            f"{_quartiles(ens)} | {ratio_:.2f} |"
        )
        targets.append(
            f"- {task}, batch {bs}, {threads}: ensemble / plain = {ratio_:.2f} "
            f"(target <= {goal}: {'met' if ratio_ <= goal else 'MISSED'})"
        )
    lines += ["", "Targets (ratios of the medians above):", "", *targets]
    by_members: dict[int, list[float]] = {}
    for r in memory_rows:
        by_members.setdefault(r["n_ensemble"], []).append(r["fit_mb"])
    plain_mb = statistics.median(by_members[1])
    ens_mb = statistics.median(by_members[ENSEMBLE])
    mem_ratio = ens_mb / plain_mb
    lines += [
        "",
        f"Peak memory of one epoch's fit on {ENSEMBLE_MEMORY_ROWS:,} x 20 "
        f"(classifier, alpha=1, default batch size and threads), each fit in a "
        f"fresh process, {len(by_members[1])} times each: peak RSS during the fit "
        "minus the RSS before it (the data already built), in MB.",
        "",
        "| fit | runs (MB) | median MB |",
        "|---|---|---|",
        f"| plain | {', '.join(f'{v:.0f}' for v in by_members[1])} | {plain_mb:.0f} |",
        f"| n_ensemble={ENSEMBLE} | "
        f"{', '.join(f'{v:.0f}' for v in by_members[ENSEMBLE])} | {ens_mb:.0f} |",
        "",
        f"- ensemble / plain peak memory = {mem_ratio:.2f} (target <= "
        f"{ENSEMBLE_MEMORY_GOAL}: "
        f"{'met' if mem_ratio <= ENSEMBLE_MEMORY_GOAL else 'MISSED'})",
        "",
    ]
    return "\n".join(lines)


def _quartiles(row: dict) -> str:
    return f"{row['median']:.3f} [{row['q1']:.3f}, {row['q3']:.3f}]"


def ratio(rows, task, batch_size, a, b):
    get = {
        r["estimator"]: r["fit_seconds"]
        for r in rows
        if r["task"] == task and r["batch_size"] == batch_size
    }
    return get[a] / get[b]


def report(fit_rows, predict_rows, scale_rows, meta) -> str:
    lines = [
        "## One pinned thread",
        "",
        "One torch thread and one BLAS thread for everything below.",
        "",
        f"Fit times: {N_ROWS:,} x {N_FEATURES} synthetic data, network 2x128 ReLU, "
        "Adam (lr 1e-3), median of "
        f"{meta['repeats']} fits after one warm-up fit, all in one process; the "
        "estimators of a row group are timed in turn (ABCD ABCD ...) so that load "
        "changes hit them alike. sklearn trains in float64, the torch models in "
        "float32.",
        "",
        "| task | batch | epochs | estimator | fit s | / sklearn | / skorch |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in fit_rows:
        t, bs = r["task"], r["batch_size"]
        vs_sk = ratio(fit_rows, t, bs, r["estimator"], "sklearn MLP")
        vs_net = ratio(fit_rows, t, bs, r["estimator"], "plain skorch (ERM)")
        lines.append(
            f"| {t} | {bs} | {r['epochs']} | {r['estimator']} | "
            f"{r['fit_seconds']:.3f} | {vs_sk:.2f} | {vs_net:.2f} |"
        )
    lines += ["", "Targets (medians measured above):", ""]
    for task in ("classifier", "regressor"):
        for bs, _ in SETTINGS:
            sk = ratio(fit_rows, task, bs, "skmixup alpha=1", "sklearn MLP")
            net = ratio(fit_rows, task, bs, "skmixup alpha=1", "plain skorch (ERM)")
            mix = ratio(fit_rows, task, bs, "skmixup alpha=1", "skmixup alpha=0")
            goal = 1.0 if bs == 256 else 1.2
            lines.append(
                f"- {task}, batch {bs}: alpha=1 / sklearn = {sk:.2f} "
                f"(target <= {goal}: {'met' if sk <= goal else 'MISSED'}); "
                f"alpha=1 / skorch = {net:.2f} (target <= 0.55: "
                f"{'met' if net <= 0.55 else 'MISSED'}); alpha=1 / alpha=0 = "
                f"{mix:.2f} (target <= 1.05: {'met' if mix <= 1.05 else 'MISSED'})"
            )
    lines += [
        "",
        f"Predicting {PREDICT_ROWS:,} rows (median of {meta['repeats']}):",
        "",
        "| estimator | predict s |",
        "|---|---|",
    ]
    lines += [
        f"| {r['estimator']} | {r['predict_seconds']:.3f} |" for r in predict_rows
    ]
    small, big = scale_rows
    lines += [
        "",
        "Scale (child processes, one epoch, batch 256, alpha=1, n x 20 float32; "
        "RSS in MB: after imports, before fit (with the data), peak during fit):",
        "",
        "| rows | fit s | float32 data MB | RSS imports | RSS before fit | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['rows']:,} | {r['fit_seconds']:.3f} | {r['data_mb']:.0f} | "
        f"{r['rss_after_imports_mb']:.0f} | {r['rss_before_fit_mb']:.0f} | "
        f"{r['peak_rss_during_fit_mb']:.0f} |"
        for r in scale_rows
    ]
    scale = big["fit_seconds"] / small["fit_seconds"]
    used = big["peak_rss_during_fit_mb"] - big["rss_after_imports_mb"]
    bound = 2 * big["data_mb"] + 300
    lines += [
        "",
        f"- fit time ratio 1,000,000 / 100,000 rows = {scale:.2f} (target <= 11: "
        f"{'met' if scale <= 11 else 'MISSED'})",
        f"- peak memory for data and training at 1,000,000 rows (peak RSS during "
        f"fit minus RSS after imports) = {used:.0f} MB; bound 2 x data + 300 MB = "
        f"{bound:.0f} MB: {'met' if used <= bound else 'MISSED'}",
        "",
    ]
    return "\n".join(lines)


def gpu_report(gpu_rows: list[dict]) -> str:
    if not gpu_rows:
        return (
            "\n## GPU\n\nNo CUDA GPU on this machine "
            "(torch.cuda.is_available() is False): GPU section skipped.\n"
        )
    lines = [
        "\n## GPU",
        "",
        f"Same fits on {torch.cuda.get_device_name(0)} (sklearn stays on the CPU).",
        "",
        "| task | batch | estimator | fit s | / sklearn (CPU) |",
        "|---|---|---|---|---|",
    ]
    for r in gpu_rows:
        vs = ratio(gpu_rows, r["task"], r["batch_size"], r["estimator"], "sklearn MLP")
        lines.append(
            f"| {r['task']} | {r['batch_size']} | {r['estimator']} | "
            f"{r['fit_seconds']:.3f} | {vs:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speed"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=["defaults", "pinned", "ensemble", "recipe"],
        default=["defaults", "pinned", "ensemble", "recipe"],
    )
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ensemble-memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.scale_child:
        scale_child(args.scale_child, min(args.repeats, 3))
        return 0
    if args.ensemble_memory_child:
        ensemble_memory_child(args.ensemble_memory_child)
        return 0
    meta = run_meta(
        "speed.py",
        argv,
        numpy=np.__version__,
        device=args.device,
        repeats=args.repeats,
        torch_threads_default=torch.get_num_threads(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    if {"defaults", "pinned"} & set(args.sections):
        results: dict = {"meta": meta}
        text = _header(meta)
        if "defaults" in args.sections:
            # First, before anything pins a thread count.
            results["defaults"] = speed_defaults.measure(args.repeats)
            text += "\n" + speed_defaults.report(results["defaults"])
        if "pinned" in args.sections:
            with torch_threads(1), threadpool_limits(1):
                print("fit:", flush=True)
                fit_rows = fit_table(args.repeats, args.device)
                print("predict:", flush=True)
                predict_rows = predict_table(args.repeats, args.device)
            print("scale:", flush=True)
            scale_rows = scale_table(args.repeats)
            gpu_rows = []
            if torch.cuda.is_available():
                print("fit on GPU:", flush=True)
                with torch_threads(1):
                    gpu_rows = fit_table(args.repeats, "cuda")
            results.update(
                fit=fit_rows, predict=predict_rows, scale=scale_rows, fit_gpu=gpu_rows
            )
            text += "\n" + report(fit_rows, predict_rows, scale_rows, meta)
            text += gpu_report(gpu_rows)
        _write(args.out, "speed", text, results)
    if "ensemble" in args.sections:
        # Its own files, so that it can be re-run alone.
        print("ensemble:", flush=True)
        ensemble_rows = ensemble_table(args.repeats, args.device)
        print("ensemble memory:", flush=True)
        memory_rows = ensemble_memory(max(3, args.repeats // 2))
        results = {"meta": meta, "ensemble": ensemble_rows}
        results["ensemble_memory"] = memory_rows
        text = _header(meta) + "\n" + ensemble_report(ensemble_rows, memory_rows, meta)
        _write(args.out, "speed_ensemble", text, results)
    if "recipe" in args.sections:
        print("recipe:", flush=True)
        recipe_rows = recipe_table(args.repeats, args.device)
        results = {"meta": meta, "recipe": recipe_rows}
        text = _header(meta) + "\n" + recipe_report(recipe_rows, meta)
        _write(args.out, "speed_recipe", text, results)
    return 0


def _write(out: Path, name: str, text: str, results: dict) -> None:
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(json.dumps(results, indent=1))
    print(text)


def _header(meta: dict) -> str:
    return "\n".join(
        [
            "# skmixup speed benchmark",
            "",
            f"Command: `{meta['command']}` at revision `{meta['revision']}`",
            "",
            f"Machine: {meta['cpu']}, {meta['cores']} cores (PyTorch's default: "
            f"{meta['torch_threads_default']} threads). Versions: python "
            f"{meta['python']}, torch {meta['torch']}, scikit-learn "
            f"{meta['sklearn']}, skorch {meta['skorch']}, skmixup {meta['skmixup']}. "
            f"Device: {meta['device']}.",
            "",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
