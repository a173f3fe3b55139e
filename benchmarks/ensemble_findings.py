"""What the ``calibration`` suite found: ensembles and calibration, per dataset.

Run from the repository root after the suite::

    python benchmarks/ensemble_findings.py benchmarks/results/calibration

It reads ``results.jsonl`` in that folder and writes ``findings.md`` beside it:
for each question, one paired comparison per dataset (the difference on the same
splits and seeds, its 95% interval from the corrected resampled t-test, Holm
over the datasets of the table; ▼/▲ better/worse where the corrected interval
excludes 0 after Holm), and a sentence counting the verdicts. Every number and
count in it comes from the results file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from skmixup.bench.report import paired
from skmixup.bench.runner import ResultsFile

# (title, method, reference, metric, scale, unit); metric None is test error (%).
QUESTIONS = [
    (
        "Does an 8-member ensemble lower the test error of one mixup model?",
        "ens8", "mixup-1.0", None, 1.0, "error, points (%)",
    ),
    (
        "Does an 8-member ensemble lower the log-loss of one mixup model?",
        "ens8", "mixup-1.0", "log_loss", 1.0, "log-loss",
    ),
    (
        "Does an 8-member ensemble lower the log-loss of one ERM model?",
        "ens8@0", "erm", "log_loss", 1.0, "log-loss",
    ),
    (
        "Is mixup (alpha=1) less calibrated than ERM?",
        "mixup-1.0", "erm", "ece", 100.0, "ECE, points (%)",
    ),
    (
        "Does calibration lower mixup's expected calibration error?",
        "cal", "mixup-1.0", "ece", 100.0, "ECE, points (%)",
    ),
    (
        "Does calibration bring mixup's ECE to ERM's or below?",
        "cal", "erm", "ece", 100.0, "ECE, points (%)",
    ),
    (
        "Does a calibrated mixup ensemble reach ERM's ECE or below?",
        "ens8-cal", "erm", "ece", 100.0, "ECE, points (%)",
    ),
    (
        "Does calibration lower mixup's log-loss?",
        "cal", "mixup-1.0", "log_loss", 1.0, "log-loss",
    ),
    (
        "Does calibration change mixup's test error (it holds out 10% of the "
        "training rows)?",
        "cal", "mixup-1.0", None, 1.0, "error, points (%)",
    ),
]  # fmt: skip


def read(folder: Path) -> tuple[dict, list[dict]]:
    """The last header and the runs of ``folder``'s ``results.jsonl``."""
    records = ResultsFile(folder / "results.jsonl").read()
    # A resumed run appends a header: the last one holds the latest command.
    head = [r for r in records if r.get("kind") == "header"][-1]
    return head, [r for r in records if r.get("kind") == "run"]


def _means(rows: list[dict], metric: str | None, scale: float) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df["value"] = df["error"] * 100 if metric is None else df[metric] * scale
    return df.groupby(["dataset", "method"])["value"].mean().unstack()


def question(head, rows, title, method, reference, metric, scale, unit) -> list[str]:
    chosen = [r for r in rows if r["method"] in (method, reference)]
    diffs = paired(chosen, reference, metric=metric, head=head)
    diffs = diffs[diffs["method"] == method]
    means = _means(chosen, metric, scale)
    fmt = "{:+.3f}" if unit == "log-loss" else "{:+.2f}"
    lines = [
        f"### {title}",
        "",
        f"`{method}` against `{reference}`; {unit}.",
        "",
        f"| dataset | `{reference}` | `{method}` | difference [95% interval] | n |",
        "|---|---|---|---|---|",
    ]
    for _, d in diffs.iterrows():
        low, high = d["low"] * scale, d["high"] * scale
        mark = {"better": " ▼", "worse": " ▲"}.get(d["verdict"], "")
        lines.append(
            f"| {d['dataset']} | {means.loc[d['dataset'], reference]:.3f} | "
            f"{means.loc[d['dataset'], method]:.3f} | "
            f"{fmt.format(d['mean'] * scale)} [{fmt.format(low)}, "
            f"{fmt.format(high)}]{mark} | {d['count']} |"
        )
    counts = diffs["verdict"].value_counts()
    lower, higher = counts.get("better", 0), counts.get("worse", 0)
    tied = len(diffs) - lower - higher
    lines += [
        "",
        f"Lower on {lower} of {len(diffs)} datasets, higher on {higher}, no "
        f"difference shown on {tied}.",
        "",
    ]
    return lines


def findings(head: dict, rows: list[dict]) -> str:
    revision = head.get("skmixup_source") or "not recorded"
    dirty = " (dirty tree)" if head.get("dirty") else ""
    lines = [
        "# Ensembles and calibration: what the calibration suite found",
        "",
        f"From `results.jsonl` (suite `{head['suite']['name']}`, revision "
        f"`{revision}`{dirty}, command `{' '.join(head['command'])}`), by "
        "`python benchmarks/ensemble_findings.py`.",
        "",
        "Methods: `erm` (alpha=0) and `mixup-1.0` (alpha=1), one network each; "
        "`cal` is `mixup-1.0` with calibrate=True, `ens8` with n_ensemble=8, "
        "`ens8-cal` with both; `@0` marks the same for ERM. `n` is the number of "
        "repeats compared.",
        "",
        "Each table pairs two methods on the same splits and seeds: means per "
        "dataset, the mean difference (method minus reference; negative is "
        "lower) with its 95% interval from the corrected resampled t-test "
        "(Nadeau & Bengio, 2003), ▼/▲ where it is lower/higher after a Holm "
        "correction over the table's datasets.",
        "",
    ]
    for q in QUESTIONS:
        lines += question(head, rows, *q)
    return "\n".join(lines)


def write_findings(write, description: str, argv: list[str] | None) -> int:
    """The command line of a one-suite findings script: ``write(head, rows)``
    on the results folder given, into its ``findings.md``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    head, rows = read(args.folder)
    text = write(head, rows)
    (args.folder / "findings.md").write_text(text)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    return write_findings(findings, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
