"""Peak memory of fitting and predicting on a large sparse (one-hot-like) matrix.

Run from the repository root, on a clean tree::

    python benchmarks/sparse_memory.py --out benchmarks/results/sparse

Each case runs in a child process of its own, so that its peak RSS is its own:
the child imports everything, reads its RSS, builds a CSR matrix (float64
values, int32 indices: what scipy and scikit-learn's encoders produce) of
``--rows x --cols`` with ``--density`` non-zeros, reads its RSS again, then fits
and predicts. The target is a peak at most twice the matrix's CSR size plus
300 MB above the RSS before the matrix was built (so the matrix itself counts
once); the RSS gained during fit and predict alone is reported too. The densified
matrix would take ``rows * cols * 4`` bytes in float32.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from speed import revision  # noqa: E402

MB = 2**20
CASES = {
    "MixupClassifier": "fit (1 epoch, batch 64) and predict_proba",
    "MixupClassifierCV": (
        "fit: the default search, 6 alphas x 5 folds = 30 stacked members "
        "(1 epoch), then the refit; predict_proba"
    ),
}


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("needs Linux's /proc/self/status")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _csr(n_rows: int, n_cols: int, density: float, seed: int = 0):
    """A CSR matrix with the same number of distinct columns in every row,
    written chunk by chunk into arrays of the final size (no big temporary)."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_row = max(1, round(density * n_cols))
    indptr = np.arange(0, (n_rows + 1) * per_row, per_row, dtype=np.int32)
    indices = np.empty(n_rows * per_row, dtype=np.int32)
    chunk = max(1, 2**22 // n_cols)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        keys = rng.random((stop - start, n_cols), dtype=np.float32)
        cols = np.sort(np.argpartition(keys, per_row, axis=1)[:, :per_row], axis=1)
        indices[start * per_row : stop * per_row] = cols.ravel()
    data = rng.standard_normal(n_rows * per_row)
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


def child(case: str, n_rows: int, n_cols: int, density: float) -> dict:
    import numpy as np

    from skmixup import MixupClassifier, MixupClassifierCV

    before_data = _rss()
    X = _csr(n_rows, n_cols, density)
    # A learnable target: the sign of a sparse linear score.
    y = (X @ np.random.default_rng(1).standard_normal(n_cols) > 0).astype(int)
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    before_fit = _rss()
    Estimator = {
        "MixupClassifier": MixupClassifier,
        "MixupClassifierCV": (MixupClassifierCV),
    }[case]
    start = time.perf_counter()
    est = Estimator(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    fit_seconds = time.perf_counter() - start
    fit_peak = _peak_rss()
    start = time.perf_counter()
    accuracy = float(np.mean(est.predict_proba(X).argmax(axis=1) == y))
    predict_seconds = time.perf_counter() - start
    peak = _peak_rss()
    limit = 2 * csr_bytes + 300 * MB
    return {
        "case": case,
        "what": CASES[case],
        "csr_mb": csr_bytes / MB,
        "dense_float32_mb": n_rows * n_cols * 4 / MB,
        "peak_above_rss_before_data_mb": (peak - before_data) / MB,
        "peak_above_rss_before_fit_mb": (peak - before_fit) / MB,
        "fit_peak_above_rss_before_fit_mb": (fit_peak - before_fit) / MB,
        "limit_mb": limit / MB,
        "within_limit": peak - before_data <= limit,
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "train_accuracy": accuracy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cols", type=int, default=5_000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument(
        "--repeats", type=int, default=2, help="fresh processes per case"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.cols, args.density)))
        return 0
    import numpy as np
    import scipy
    import sklearn
    import torch

    import skmixup

    meta = {
        "command": "python benchmarks/sparse_memory.py "
        + " ".join(argv or sys.argv[1:]),
        "revision": revision(),
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "versions": {
            "skmixup": skmixup.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
        },
        "shape": [args.rows, args.cols],
        "density": args.density,
    }
    results = []
    for case in args.cases:
        # Peak RSS varies from process to process (the allocator, threads):
        # each repeat is a fresh process, and every one is reported.
        for repeat in range(args.repeats):
            command = [sys.executable, __file__, "--child", case, "--rows"]
            command += [str(args.rows), "--cols", str(args.cols)]
            command += ["--density", str(args.density)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                sys.stderr.write(done.stderr)
                return 1
            row = json.loads(done.stdout.strip().splitlines()[-1])
            results.append({**row, "repeat": repeat})
            print(json.dumps(results[-1]), flush=True)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        payload = {"meta": meta, "results": results}
        (args.out / "sparse_memory.json").write_text(json.dumps(payload, indent=2))
        (args.out / "sparse_memory.md").write_text(_markdown(meta, results))
    return 0


def _markdown(meta: dict, results: list[dict]) -> str:
    lines = [
        "# Peak memory on a sparse matrix",
        "",
        f"`{meta['command']}` at revision `{meta['revision']}` on {meta['date']} "
        f"(torch {meta['versions']['torch']}, scipy {meta['versions']['scipy']}).",
        "",
        f"A {meta['shape'][0]:,} x {meta['shape'][1]:,} CSR matrix with "
        f"{meta['density']:.0%} non-zeros: {results[0]['csr_mb']:.0f} MB as CSR "
        f"(float64 values, int32 indices), {results[0]['dense_float32_mb']:,.0f} MB "
        "if densified in float32. Limit: twice the CSR size plus 300 MB above the "
        "RSS before the matrix was built.",
        "",
        "Each row is a fresh process.",
        "",
        "| case | peak above RSS before the data (MB) | limit (MB) | within | "
        "peak above RSS before fit (MB) | fit (s) | predict (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']}: {r['what']} | {r['peak_above_rss_before_data_mb']:.0f} "
            f"| {r['limit_mb']:.0f} | {'yes' if r['within_limit'] else 'no'} "
            f"| {r['peak_above_rss_before_fit_mb']:.0f} | {r['fit_seconds']:.1f} "
            f"| {r['predict_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
