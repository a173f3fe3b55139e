"""Do committed results reproduce? Re-run a sample of a suite's runs here and now.

Run from the repository root::

    python benchmarks/reproduce.py benchmarks/results/tuned --data-dir ../shared/data

For each results folder given, it reads the suite and seed from the header of
``results.jsonl``, draws ``--per-dataset`` finished runs per dataset (seeded by
``--seed``, so the same command draws the same runs), runs each again with
``skmixup.bench.runner.execute`` in this checkout, and compares every recorded
field except timings and warnings. A run reproduces when every field is equal;
otherwise the fields that differ are listed with both values. With ``--out``,
``reproduce.md`` and ``reproduce.json`` record the revisions, the machine and
each run's verdict.

Same machine and revision: every run should reproduce bit for bit. Another CPU
or kernel path (``MKL_ENABLE_INSTRUCTIONS``, ``MKL_CBWR``,
``ATEN_CPU_CAPABILITY``, recorded in the output) rounds differently
during training, so float fields may differ in their last digits and, rarely, a
test row may change class; that is what this script measures there.

Exit status: 0 when every drawn run reproduces, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

from ensemble_findings import read  # the last header and the runs
from speed import run_meta  # the command, machine, versions and revision

from skmixup.bench.runner import Context, Run, execute
from skmixup.bench.suites import Suite

# Not results: they change from run to run on any machine.
# The CPU is the machine's, recorded to tell machines apart, not a result.
VOLATILE = ("fit_seconds", "predict_seconds", "finished_at", "warnings", "cpu")


def differences(committed: dict, now: dict) -> dict[str, tuple]:
    """The fields whose values differ, as ``{field: (committed, now)}``."""
    fields = (set(committed) | set(now)) - set(VOLATILE)
    return {
        f: (committed.get(f), now.get(f))
        for f in sorted(fields)
        if committed.get(f) != now.get(f)
    }


def draw(runs: list[dict], per_dataset: int, seed: int) -> list[dict]:
    """``per_dataset`` runs of each dataset, the same ones for the same seed."""
    rng = random.Random(seed)
    drawn = []
    for spec in sorted({r["spec"] for r in runs}):
        pool = sorted((r for r in runs if r["spec"] == spec), key=lambda r: r["key"])
        drawn.extend(rng.sample(pool, min(per_dataset, len(pool))))
    return drawn


def _run(record: dict) -> Run:
    return Run(
        record["spec"], record["method"], record["repeat"], record.get("label_noise", 0)
    )


def reproduce(folder: Path, data_dir: str | None, per_dataset: int, seed: int):
    """The header of ``folder``'s results and one verdict per drawn run."""
    head, runs = read(folder)
    suite = Suite.from_dict(head["suite"])
    ctx = Context(**{**head["context"], "data_dir": data_dir})
    checks = []
    for record in draw(runs, per_dataset, seed):
        diff = differences(record, execute(_run(record), suite, ctx))
        checks.append({"key": record["key"], "differences": diff})
        print(f"{record['key']}: {'differs' if diff else 'reproduces'}", flush=True)
    return head, checks


def _value(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else json.dumps(v)


def _escaped(key: str) -> str:
    """A run key in a table cell, where its "|" would end the cell."""
    return key.replace("|", r"\|")


def _relative(old, new) -> str:
    numbers = all(isinstance(v, (int, float)) for v in (old, new))
    if not numbers or not old:
        return ""
    return f"{abs(new - old) / abs(old):.1e}"


def markdown(meta: dict, suites: dict[str, tuple[dict, list[dict]]]) -> str:
    lines = [
        "# Do the committed results reproduce?",
        "",
        f"Written by `{meta['command']}` at revision `{meta['revision']}`",
        f"on {meta['cpu']} ({meta['cores']} cores, torch {meta['torch']})"
        + (f" with {meta['blas_env']}" if meta["blas_env"] else "")
        + ".",
        "",
    ]
    for name, (head, checks) in suites.items():
        same = sum(not c["differences"] for c in checks)
        # The score the tables compare: test error, or RMSE for regression.
        score = sum(not {"error", "rmse"} & set(c["differences"]) for c in checks)
        lines += [
            f"## {name}",
            "",
            f"Results written at `{head.get('skmixup_source')}`: "
            f"{same} of {len(checks)} drawn runs reproduce every field; "
            f"the test error or RMSE is unchanged in {score} of {len(checks)}.",
            "",
        ]
        rows = [
            f"| `{_escaped(c['key'])}` | `{field}` "
            f"| {_value(old)} | {_value(new)} | {_relative(old, new)} |"
            for c in checks
            for field, (old, new) in c["differences"].items()
        ]
        if rows:
            columns = "| run | field | committed | now | relative difference |"
            lines += [columns, "|---|---|---|---|---|", *rows]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="results folders")
    parser.add_argument("--data-dir", help="folder of the uci:NAME files")
    parser.add_argument("--per-dataset", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="which runs are drawn")
    parser.add_argument("--out", type=Path, help="write reproduce.md/.json here")
    args = parser.parse_args(argv)

    # What picks the kernels besides the CPU: MKL's and torch's own settings.
    blas = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("MKL_") or k == "ATEN_CPU_CAPABILITY"
    }
    meta = run_meta(
        "reproduce.py",
        argv,
        blas_env=", ".join(f"{k}={v}" for k, v in sorted(blas.items())),
    )
    suites = {}
    for folder in args.folders:
        suites[folder.name] = reproduce(
            folder, args.data_dir, args.per_dataset, args.seed
        )
    text = markdown(meta, suites)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "reproduce.md").write_text(text)
        payload = {
            "meta": meta,
            "suites": {
                name: {"source": head.get("skmixup_source"), "checks": checks}
                for name, (head, checks) in suites.items()
            },
        }
        (args.out / "reproduce.json").write_text(json.dumps(payload, indent=1) + "\n")
    failed = any(c["differences"] for _, checks in suites.values() for c in checks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
