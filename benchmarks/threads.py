"""Where PyTorch threads pay: the measurement behind ``n_threads=None``.

Run from the repository root, on a clean tree and a quiet machine::

    python benchmarks/threads.py --out benchmarks/results/speed

For networks and batches whose training steps span four orders of magnitude of
work, times the same fit (``MixupClassifier``, 100 steps) with one thread and
with every core, alternating the two, and reports medians and quartiles. With
``--busy`` the table is measured again beside one busy-loop process per core,
started and stopped by the script. The automatic rule of ``skmixup._threads``
uses one thread below the step size where every core starts to pay.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import make_classification

from skmixup import MixupClassifier
from skmixup._threads import STEP_FLOPS_FOR_THREADS, available_cores, work_flops

sys.path.insert(0, str(Path(__file__).parent))
from speed import run_meta  # noqa: E402

# (features, hidden layers, batch size): from a tabular net at its usual batch
# to a wide one at a large batch.
CASES = [
    (20, (128, 128), 16),
    (20, (128, 128), 64),
    (20, (128, 128), 256),
    (100, (256, 256), 256),
    (100, (512, 512), 256),
    (100, (512, 512), 1024),
    (100, (1024, 1024), 1024),
]
N_STEPS = 100


def _busy_loop() -> None:
    while True:
        pass


def _n_params(n_features: int, hidden: tuple[int, ...], n_outputs: int = 2) -> int:
    sizes = [n_features, *hidden, n_outputs]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _fit_seconds(X, y, hidden, batch, n_threads) -> float:
    clf = MixupClassifier(
        hidden_layer_sizes=hidden,
        batch_size=batch,
        max_epochs=1,
        n_threads=n_threads,
        device="cpu",
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start


def measure(repeats: int) -> list[dict]:
    rows = []
    for n_features, hidden, batch in CASES:
        X, y = make_classification(
            N_STEPS * batch, n_features, n_informative=10, random_state=0
        )
        X = X.astype(np.float32)
        _fit_seconds(X, y, hidden, batch, 1)  # warm-up
        times = {1: [], -1: []}
        for _ in range(repeats):
            for n_threads in times:  # alternate, so drifts hit both alike
                times[n_threads].append(_fit_seconds(X, y, hidden, batch, n_threads))
        flops = work_flops(batch, _n_params(n_features, hidden))
        row = {
            "n_features": n_features,
            "hidden": list(hidden),
            "batch_size": batch,
            "step_flops": flops,
        }
        for n_threads, label in ((1, "one"), (-1, "all")):
            q1, med, q3 = statistics.quantiles(times[n_threads], n=4)
            row[label] = {"median": med, "q1": q1, "q3": q3, "times": times[n_threads]}
        row["all_over_one"] = row["all"]["median"] / row["one"]["median"]
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("one", "all")}))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", action="store_true", help="also beside busy loops")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    # Before measuring: the revision is that of the code that runs.
    meta = run_meta(
        "threads.py",
        argv,
        torch_threads_default=torch.get_num_threads(),
        rule_step_flops=STEP_FLOPS_FOR_THREADS,
    )
    results = {"quiet": measure(args.repeats)}
    if args.busy:
        loops = [
            multiprocessing.Process(target=_busy_loop, daemon=True)
            for _ in range(available_cores())
        ]
        for p in loops:
            p.start()
        try:
            results["busy"] = measure(args.repeats)
        finally:
            for p in loops:
                p.terminate()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        payload = {"meta": meta, "results": results}
        (args.out / "threads.json").write_text(json.dumps(payload, indent=2))
        (args.out / "threads.md").write_text(_markdown(meta, results))
    return 0


def _markdown(meta: dict, results: dict) -> str:
    lines = [
        "# Where PyTorch threads pay",
        "",
        f"`{meta['command']}` at revision `{meta['revision']}`; {meta['cpu']}, "
        f"{meta['cores']} cores, torch {meta['torch']}. A fit of {N_STEPS} steps "
        "(MixupClassifier, one epoch); medians [quartiles] of the repeats, in "
        "seconds, one thread against every core, alternated.",
        "",
        f"The automatic rule (`n_threads=None`) uses one thread below "
        f"{meta['rule_step_flops']:.0e} floating-point operations per step, and "
        "above it no more threads than the cores other processes leave free.",
    ]
    for load, rows in results.items():
        lines += [
            "",
            f"## {load.capitalize()} machine"
            + (" (one busy-loop process per core)" if load == "busy" else ""),
            "",
            "| features | hidden | batch | FLOPs per step | one thread | every core "
            "| every core / one |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            one, every = r["one"], r["all"]
            lines.append(
                f"| {r['n_features']} | {'x'.join(map(str, r['hidden']))} "
                f"| {r['batch_size']} | {r['step_flops']:.1e} "
                f"| {one['median']:.3f} [{one['q1']:.3f}, {one['q3']:.3f}] "
                f"| {every['median']:.3f} [{every['q1']:.3f}, {every['q3']:.3f}] "
                f"| {r['all_over_one']:.2f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
