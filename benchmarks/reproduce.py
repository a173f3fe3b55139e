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

To tell a change of code from a change of machine, ``--baseline DIR`` also runs
each drawn run with the package of ``DIR`` (a checkout of the revision the results
were written at, e.g. ``git worktree add DIR REVISION``), in a child process on
this machine. When both sources give every field equal here, the code changed
since does not change the numbers, whatever the committed values' CPU rounded.

Exit status: 0 when every drawn run reproduces (with ``--baseline``: or gives
the same fields from both sources), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

# Only what the package has had since the suites were first run: --baseline runs
# this file on an older checkout (the other imports are in the functions).
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


def _execute_all(head: dict, records: list[dict], data_dir: str | None) -> list[dict]:
    """Each of ``records`` run again with this process's package."""
    suite = Suite.from_dict(head["suite"])
    ctx = Context(**{**head["context"], "data_dir": data_dir})
    return [execute(_run(record), suite, ctx) for record in records]


def _worker() -> None:
    """``--worker``: the runs of a JSON request on stdin, as JSON on stdout, with
    whichever package ``PYTHONPATH`` puts first (see :func:`_execute_elsewhere`)."""
    from threadpoolctl import threadpool_limits

    import skmixup

    request = json.load(sys.stdin)
    # As the suite's runs did, in a process of their own: OpenMP and BLAS on the
    # run's thread count (an older package may limit only torch's, and gradient
    # boosting on every core beside busy processes takes minutes, not seconds).
    with threadpool_limits(limits=request["head"]["context"]["torch_threads"]):
        rows = _execute_all(request["head"], request["records"], request["data_dir"])
    json.dump({"package": skmixup.__file__, "rows": rows}, sys.stdout)


def _execute_elsewhere(
    source: Path, head: dict, records: list[dict], data_dir: str | None
) -> list[dict]:
    """:func:`_execute_all` with the package of the checkout ``source``."""
    env = os.environ | {"PYTHONPATH": str(source), "PYTHONWARNINGS": "ignore"}
    request = {"head": head, "records": records, "data_dir": data_dir}
    done = subprocess.run(
        [sys.executable, __file__, "--worker"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        cwd=source,
    )
    if done.returncode != 0:
        raise SystemExit(f"reproduce.py: the run at {source} failed:\n{done.stderr}")
    answer = json.loads(done.stdout)
    if not Path(answer["package"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(
            f"reproduce.py: --baseline {source} ran the package at "
            f"{answer['package']}; give a checkout that holds skmixup/"
        )
    return answer["rows"]


def reproduce(
    folder: Path,
    data_dir: str | None,
    per_dataset: int,
    seed: int,
    baseline: Path | None = None,
):
    """The header of ``folder``'s results and one verdict per drawn run: its
    differences from the committed values and, with ``baseline``, from the values
    the baseline checkout's package gives here."""
    from ensemble_findings import read  # the last header and the runs

    head, runs = read(folder)
    drawn = draw(runs, per_dataset, seed)
    rows = _execute_all(head, drawn, data_dir)
    if baseline is not None:
        before = _execute_elsewhere(baseline, head, drawn, data_dir)
    checks = []
    for i, (record, now) in enumerate(zip(drawn, rows, strict=True)):
        check = {"key": record["key"], "differences": differences(record, now)}
        verdict = "differs" if check["differences"] else "reproduces"
        if baseline is not None:
            check["baseline_differences"] = differences(before[i], now)
            same = not check["baseline_differences"]
            verdict += f"; {'same as' if same else 'differs from'} the baseline"
        checks.append(check)
        print(f"{record['key']}: {verdict}", flush=True)
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
        if meta.get("baseline"):
            both = sum(not c["baseline_differences"] for c in checks)
            lines += [
                f"Run here with the package of `{meta['baseline']}` too: {both} of "
                f"{len(checks)} drawn runs give every field equal to this "
                "revision's.",
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
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of the results' revision: run the drawn runs with its "
        "package too, on this machine",
    )
    args = parser.parse_args(argv)
    from speed import run_meta  # the command, machine, versions and revision

    from skmixup.bench.runner import source_revision

    if args.baseline is not None and not (args.baseline / "skmixup").is_dir():
        parser.error(f"--baseline {args.baseline} holds no skmixup/ package")

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
        baseline=None if args.baseline is None else source_revision(args.baseline)[0],
    )
    suites = {}
    for folder in args.folders:
        suites[folder.name] = reproduce(
            folder, args.data_dir, args.per_dataset, args.seed, args.baseline
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
    failed = any(
        c["differences"] and c.get("baseline_differences", True)
        for _, checks in suites.values()
        for c in checks
    )
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        _worker()
    else:
        sys.exit(main())
