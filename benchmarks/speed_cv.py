"""Speed benchmark of the alpha search: MixupClassifierCV against GridSearchCV.

Run from the repository root::

    python benchmarks/speed_cv.py --out benchmarks/results/speed

Same conventions as ``speed.py``: one process, one torch thread and one BLAS
thread (GridSearchCV's ``n_jobs=2`` workers get one each from joblib), a warm-up
call per job, then the jobs timed in turn, medians of ``--repeats``. Every time
is reported as a ratio to ONE plain ``MixupClassifier`` fit with the same
settings. A child process measures peak memory of a search on larger data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from speed import _proc_status_mb, child_json, make_data, run_meta
from speed_defaults import _spread, interleaved_times
from threadpoolctl import threadpool_limits

from skmixup import MixupClassifier, MixupClassifierCV

N_ROWS, N_FEATURES = 17_898, 8  # the size of HTRU2, as in speed.py
ALPHAS = (0.0, 0.1, 0.2, 0.4, 1.0, 2.0)
N_SPLITS = 5
SETTINGS = [(16, 2), (256, 10)]  # (batch size, epochs), as in speed.py
MEMORY_ROWS, MEMORY_FEATURES = 200_000, 20


def jobs_for(X, y, batch_size: int, epochs: int, device: str, grid: bool = True):
    common = {
        "max_epochs": epochs,
        "batch_size": batch_size,
        "device": device,
        "random_state": 0,
    }
    cv = StratifiedKFold(N_SPLITS)

    def search(**params):
        return MixupClassifierCV(alphas=ALPHAS, cv=cv, **common, **params).fit(X, y)

    jobs = {
        "one plain fit": lambda: MixupClassifier(alpha=0.2, **common).fit(X, y),
        "MixupClassifierCV": search,
    }
    if device == "cpu" and (os.cpu_count() or 1) >= 2:
        # The stacked pass is large batched products, which a second core
        # speeds up; a plain fit's products are too small to gain from it.
        # n_threads=2 also for the refit, whose automatic choice is one thread.
        jobs["MixupClassifierCV, 2 threads"] = lambda: _with_threads(
            2, lambda: search(n_threads=2)
        )
    if grid:
        for n_jobs in (1, 2):
            jobs[f"GridSearchCV n_jobs={n_jobs}"] = lambda n_jobs=n_jobs: GridSearchCV(
                MixupClassifier(**common), {"alpha": ALPHAS}, cv=cv, n_jobs=n_jobs
            ).fit(X, y)
    return jobs


def _with_threads(n_threads: int, fn):
    """Run ``fn`` with ``n_threads`` torch and BLAS threads, then go back."""
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            return fn()
    finally:
        torch.set_num_threads(before)


def time_table(repeats: int, device: str, grid: bool = True) -> list[dict]:
    X, y = make_data("classifier", N_ROWS, N_FEATURES)
    rows = []
    for batch_size, epochs in SETTINGS:
        times = interleaved_times(
            jobs_for(X, y, batch_size, epochs, device, grid), repeats
        )
        spreads = {name: _spread(t) for name, t in times.items()}
        plain = spreads["one plain fit"]["median"]
        for name, spread in spreads.items():
            seconds = spread["median"]
            rows.append(
                {
                    "device": device,
                    "batch_size": batch_size,
                    "epochs": epochs,
                    "job": name,
                    "seconds": seconds,
                    # The spread of the repeats besides their median.
                    **{k: spread[k] for k in ("q1", "q3", "min", "max", "times")},
                    "ratio_to_one_fit": seconds / plain,
                }
            )
            print(
                f"  {device} bs={batch_size} {name}: {seconds:.2f} s "
                f"({seconds / plain:.2f}x one fit)",
                flush=True,
            )
    return rows


def memory_child(kind: str) -> None:
    """Child process: peak RSS of one fit on MEMORY_ROWS x MEMORY_FEATURES."""
    torch.set_num_threads(1)
    X, y = make_data("classifier", MEMORY_ROWS, MEMORY_FEATURES)
    common = {"max_epochs": 1, "batch_size": 256, "device": "cpu", "random_state": 0}
    if kind == "cv":
        est = MixupClassifierCV(alphas=ALPHAS, cv=N_SPLITS, **common)
    else:
        est = MixupClassifier(alpha=0.2, **common)
    with threadpool_limits(1):
        est.fit(X[:2000], y[:2000])  # warm-up
        before = _proc_status_mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (Linux)
        est.fit(X, y)
    peak = _proc_status_mb("VmHWM")
    added = peak - before
    print(json.dumps({"kind": kind, "data_mb": X.nbytes / 2**20, "added": added}))


def memory_table() -> list[dict]:
    rows = []
    for kind in ("plain", "cv"):
        rows.append(child_json(__file__, "--memory-child", kind))
        print(f"  memory {rows[-1]}", flush=True)
    return rows


def report(rows, memory, gpu_rows, meta) -> str:
    n_members = len(ALPHAS) * N_SPLITS
    lines = [
        "# Alpha search speed: MixupClassifierCV against GridSearchCV",
        "",
        f"Command: `{meta['command']}` at revision `{meta['revision']}`",
        "",
        f"Machine: {meta['cpu']}, {meta['cores']} cores; one torch thread and one "
        "BLAS thread (each GridSearchCV worker too), except in the rows marked "
        "'2 threads'. Versions: python "
        f"{meta['python']}, torch {meta['torch']}, scikit-learn {meta['sklearn']}, "
        f"skorch {meta['skorch']}, skmixup {meta['skmixup']}. One-minute load "
        f"average at start {meta['load_start']:.2f}, at end {meta['load_end']:.2f} "
        "(about 1 means only this benchmark ran).",
        *(["", f"Note: {meta['note']}"] if meta.get("note") else []),
        "",
        f"The search: {len(ALPHAS)} alphas {list(ALPHAS)} x {N_SPLITS}-fold "
        f"StratifiedKFold, then the refit on all rows, on {N_ROWS:,} x "
        f"{N_FEATURES} synthetic data, network 2x128 ReLU, fused Adam (lr 1e-3). "
        f"GridSearchCV runs {len(ALPHAS) * N_SPLITS} + 1 fits; MixupClassifierCV "
        f"trains {n_members} stacked members in one pass, then one plain refit. "
        "Medians of "
        f"{meta['repeats']} runs after a warm-up, jobs timed in turn. Ratios are "
        "to ONE plain MixupClassifier fit with the same settings.",
        "",
        "| device | batch | epochs | job | seconds, median [min, max] | "
        "x one plain fit |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows + gpu_rows:
        lines.append(
            f"| {r['device']} | {r['batch_size']} | {r['epochs']} | {r['job']} | "
            f"{r['seconds']:.2f} [{r['min']:.2f}, {r['max']:.2f}] | "
            f"{r['ratio_to_one_fit']:.2f} |"
        )
    lines += ["", "Target: the search at batch 16 costs at most 5x one plain fit.", ""]
    for r in rows:
        if r["job"] == "MixupClassifierCV":
            verdict = ""
            if r["batch_size"] == 16:
                verdict = " (target <= 5: " + (
                    "met)" if r["ratio_to_one_fit"] <= 5 else "MISSED)"
                )
            lines.append(
                f"- batch {r['batch_size']}: MixupClassifierCV = "
                f"{r['ratio_to_one_fit']:.2f}x one plain fit{verdict}"
            )
    plain, cv = memory
    lines += [
        "",
        f"Memory (child processes, {MEMORY_ROWS:,} x {MEMORY_FEATURES} float32 = "
        f"{plain['data_mb']:.0f} MB of data, one epoch, batch 256; peak RSS during "
        "fit minus RSS before it): plain fit "
        f"{plain['added']:.0f} MB, MixupClassifierCV with {n_members} members "
        f"{cv['added']:.0f} MB ({n_members} copies of the data would be "
        f"{n_members * plain['data_mb']:.0f} MB).",
        "",
        "## GPU",
        "",
    ]
    if not gpu_rows:
        lines.append(
            "No CUDA GPU on this machine (torch.cuda.is_available() is False): "
            "GPU section skipped."
        )
    else:
        lines.append(
            f"The GPU rows above ran on {torch.cuda.get_device_name(0)} "
            "(MixupClassifierCV and one plain fit only)."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/speed"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--note", default="", help="a sentence for the report, e.g. on machine load"
    )
    parser.add_argument(
        "--memory-child", choices=["plain", "cv"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    torch.set_num_threads(1)
    meta = run_meta(
        "speed_cv.py",
        argv,
        repeats=args.repeats,
        load_start=os.getloadavg()[0],
        note=args.note,
    )
    with threadpool_limits(1):
        print("fit:", flush=True)
        rows = time_table(args.repeats, "cpu")
    print("memory:", flush=True)
    memory = memory_table()
    gpu_rows = []
    if torch.cuda.is_available():
        print("fit on GPU:", flush=True)
        gpu_rows = time_table(args.repeats, "cuda", grid=False)
    meta["load_end"] = os.getloadavg()[0]
    text = report(rows, memory, gpu_rows, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed_cv.md").write_text(text)
    (args.out / "speed_cv.json").write_text(
        json.dumps(
            {"meta": meta, "fit": rows, "memory": memory, "fit_gpu": gpu_rows},
            indent=1,
        )
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
