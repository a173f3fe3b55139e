"""Issue 16's verdicts: the old and new defaults side by side, and the
recommended configuration against scikit-learn's MLP and tuned boosting.

Run from the repository root after the ``defaults``, ``tuned`` and
``uci-regression`` suites::

    python benchmarks/defaults_findings.py benchmarks/results

It reads ``defaults/``, ``tuned/`` and ``uci-regression/results.jsonl`` under
that folder (a missing suite is skipped with a note) and writes
``defaults/findings.md``:

* the ``defaults`` suite: the new defaults against the old ones, for ERM
  (``erm`` against ``old-defaults@0``) and for mixup at alpha 0.2
  (``mixup-0.2`` against ``old-defaults@0.2``), one paired comparison per
  dataset (test error points for classification, RMSE relative to the
  reference's for regression; 95% interval of the corrected resampled t-test,
  Holm over the table's datasets); and the same pairs on the classification
  tables in log-loss and expected calibration error, since the defaults were
  chosen on error and label smoothing makes ``predict_proba`` under-confident;
* the targets, on the datasets of ``tuned`` and ``uci-regression`` (the
  default, paper and uci-regression tables): the recommended configuration
  (``mixup-cv``: the defaults with alpha chosen by inner cross-validation) has
  a lower mean error than ``sklearn-mlp-cv`` on at least 80% of them, and is
  no worse than ``hgb-cv`` (corrected interval including 0 or below it) on at
  least half; RealMLP and TabM are shown beside them where they ran.

Every number in the output comes from the results files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from ensemble_findings import read  # the same results file reader
from recipe_findings import CELL, UNTESTED

from skmixup.bench.report import diff_cell, paired

RECOMMENDED = "mixup-cv"
MLP_SHARE = 0.8  # lower mean error than scikit-learn's MLP on this share
HGB_SHARE = 0.5  # no worse than tuned boosting on this share
PEERS = ("sklearn-mlp-cv", "hgb-cv", "realmlp", "tabm")


# The new defaults against the old: (method, reference, title, short title).
OLD_AND_NEW = (
    ("erm", "old-defaults@0", "ERM (alpha 0)", "ERM (alpha 0)"),
    (
        "mixup-0.2",
        "old-defaults@0.2",
        "mixup at the default alpha 0.2",
        "mixup at alpha 0.2",
    ),
)
# What each compared score is, by the metric :func:`paired` reads.
UNITS = {
    None: "error points (%) for classification, RMSE relative to the "
    "reference's (%) for regression",
    "log_loss": "test log-loss (classification)",
    "ece": "expected calibration error, in points (%; classification)",
}


def _table(head, rows, method, reference, title, metric=None, scale=1.0) -> list[str]:
    """``method`` minus ``reference`` per dataset, in ``metric`` times ``scale``."""
    chosen = [r for r in rows if r["method"] in (method, reference)]
    if not {r["method"] for r in chosen} >= {method, reference}:
        return [f"### {title}", "", "Not run yet.", ""]
    diffs = paired(chosen, reference, metric=metric, head=head)
    diffs = diffs[diffs["method"] == method].copy()
    diffs[["mean", "low", "high"]] *= scale
    lines = [
        f"### {title}",
        "",
        f"`{method}` minus `{reference}`: {UNITS[metric]}.",
        "",
        "| task | dataset | difference [95% interval] | n |",
        "|---|---|---|---|",
    ]
    for _, d in diffs.iterrows():
        lines.append(
            f"| {d['task']} | {d['dataset']} | {diff_cell(d, CELL, UNTESTED)} "
            f"| {d['count']} |"
        )
    counts = diffs["verdict"].value_counts()
    lower, higher = int((diffs["mean"] < 0).sum()), int((diffs["mean"] > 0).sum())
    lines += [
        "",
        f"Mean lower on {lower} of {len(diffs)} datasets, higher on {higher}; "
        f"significantly lower on {counts.get('better', 0)}, significantly "
        f"higher on {counts.get('worse', 0)}.",
        "",
    ]
    return lines


def old_and_new(folder: Path) -> list[str]:
    lines = ["## The old and new defaults side by side", ""]
    path = folder / "defaults"
    if not (path / "results.jsonl").exists():
        return lines + ["The `defaults` suite has not run yet.", ""]
    head, rows = read(path)
    revision = head.get("skmixup_source") or "not recorded"
    lines += [
        f"Suite `defaults`, revision `{revision}`"
        f"{' (dirty tree)' if head.get('dirty') else ''}, {len(rows)} runs. "
        "▼/▲: the new defaults lower/higher after Holm over the table.",
        "",
    ]
    for method, reference, title, _ in OLD_AND_NEW:
        lines += _table(head, rows, method, reference, title)
    # The defaults were chosen on error; what they do to predict_proba.
    lines += [
        "## What the new defaults do to the probabilities",
        "",
        "The same pairs on the classification tables, in the quality of "
        "`predict_proba` rather than of `predict` (lower is better in both).",
        "",
    ]
    for metric, scale, name in (
        ("log_loss", 1.0, "log-loss"),
        ("ece", 100.0, "calibration error"),
    ):
        for method, reference, _, short in OLD_AND_NEW:
            lines += _table(
                head, rows, method, reference, f"{short}: {name}", metric, scale
            )
    return lines


def _suite_diffs(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    if not (path / "results.jsonl").exists():
        return None
    head, rows = read(path)
    out = []
    for peer in PEERS:
        chosen = [r for r in rows if r["method"] in (RECOMMENDED, peer)]
        if {r["method"] for r in chosen} != {RECOMMENDED, peer}:
            continue
        # Recommended minus peer: negative favours the recommended configuration.
        d = paired(chosen, peer, head=head)
        d = d[d["method"] == RECOMMENDED].assign(peer=peer, suite=name)
        out.append(d)
    return pd.concat(out) if out else None


def targets(folder: Path) -> list[str]:
    lines = [
        "## The recommended configuration against the peers",
        "",
        f"`{RECOMMENDED}` (the defaults, alpha chosen by inner cross-validation) "
        "minus each peer, per dataset, on the `tuned` and `uci-regression` "
        "suites; negative favours the recommended configuration. ▼/▲: after "
        "Holm over the suite's datasets.",
        "",
    ]
    parts = {name: _suite_diffs(folder, name) for name in ("tuned", "uci-regression")}
    missing = [name for name, d in parts.items() if d is None]
    if missing:
        lines += [f"Not run yet: {', '.join(f'`{m}`' for m in missing)}.", ""]
    found = [d for d in parts.values() if d is not None]
    if not found:
        return lines
    diffs = pd.concat(found)
    peers = [p for p in PEERS if p in set(diffs["peer"])]
    lines += [
        "| suite | task | dataset | " + " | ".join(f"vs `{p}`" for p in peers) + " |",
        "|---|---|---|" + "---|" * len(peers),
    ]
    for (suite, task, dataset), group in diffs.groupby(
        ["suite", "task", "dataset"], sort=False
    ):
        cells = []
        for p in peers:
            d = group[group["peer"] == p]
            if d.empty:
                cells.append("—")
                continue
            cells.append(diff_cell(d.iloc[0], CELL, UNTESTED))
        lines.append(f"| {suite} | {task} | {dataset} | " + " | ".join(cells) + " |")
    lines += ["", "### Targets", ""]
    mlp = diffs[diffs["peer"] == "sklearn-mlp-cv"]
    if len(mlp):
        lower = mlp["mean"] < 0
        share = float(lower.mean())
        lines.append(
            f"- Lower mean error than `sklearn-mlp-cv` on {int(lower.sum())} "
            f"of {len(mlp)} datasets ({share:.0%}; target at least "
            f"{MLP_SHARE:.0%}): {'met' if share >= MLP_SHARE else 'MISSED'}."
        )
    hgb = diffs[diffs["peer"] == "hgb-cv"]
    if len(hgb):
        # No worse: the interval includes 0 or lies below it.
        ok = hgb["low"].le(0) | hgb["low"].isna() & hgb["mean"].le(0)
        share = float(ok.mean())
        lines.append(
            f"- No worse than `hgb-cv` (corrected interval includes 0 or favours "
            f"us) on {int(ok.sum())} of {len(hgb)} datasets ({share:.0%}; target "
            f"at least {HGB_SHARE:.0%}): {'met' if share >= HGB_SHARE else 'MISSED'}."
        )
    if missing:
        lines.append(
            "- Provisional: the suites above have not all run, so these counts "
            "cover part of the datasets."
        )
    return lines + [""]


def findings(folder: Path) -> str:
    lines = [
        "# Issue 16's verdicts: the defaults and the recommended configuration",
        "",
        "By `python benchmarks/defaults_findings.py`, from the results files "
        "under `benchmarks/results/`. Each comparison pairs two methods on the "
        "same splits and seeds; intervals are 95% corrected resampled t-test "
        "intervals (Nadeau & Bengio, 2003).",
        "",
    ]
    return "\n".join(lines + old_and_new(folder) + targets(folder)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="folder of the suites' results")
    parser.add_argument(
        "--out", type=Path, help="default: RESULTS/defaults/findings.md"
    )
    args = parser.parse_args(argv)
    text = findings(args.results)
    out = args.out or args.results / "defaults" / "findings.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
