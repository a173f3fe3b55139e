"""What the ``recipe`` suite found: each training option against plain mixup.

Run from the repository root after the suite::

    python benchmarks/recipe_findings.py benchmarks/results/recipe

It reads ``results.jsonl`` in that folder and writes ``findings.md`` beside it.
For each option (a method of the suite other than ``erm`` and the reference
``mixup-0.2``), one paired comparison per dataset against ``mixup-0.2`` on the
same splits and seeds: test error points (%) for classification, RMSE relative
to the reference's (%) for regression, with the 95% interval of the corrected
resampled t-test and Holm over that option's datasets. A summary table first
counts, per option, the datasets where its mean is lower or higher and where
the corrected interval excludes 0, with the median over datasets of the
relative change in mean error.

The rule that picks the defaults (issue 16), written while the suite ran,
before its regression half had finished: an option is a candidate when its
fit costs at most 1.5x a default fit (the speed benchmark's
``speed_recipe.md``: the numerical embeddings cost more), it is not input
scaling (which the issue keeps opt-in, as scikit-learn's MLP expects scaled
input), its mean error is lower on more datasets than it is higher, and no
dataset is significantly worse. Of options that exclude each other (the
schedules; the EMA decays), the one lower on the most datasets, then of lowest
median change, is taken. Every number in the output comes from the
results file.
"""

from __future__ import annotations

import sys

import pandas as pd
from ensemble_findings import write_findings  # the same command line

from skmixup.bench.report import diff_cell, paired

REFERENCE = "mixup-0.2"
CELL, UNTESTED = "{:+.2f}", " (1 repeat)"  # a difference, and with no interval
# Options that cannot become defaults, and why.
NOT_ELIGIBLE = {
    # speed_recipe.md: 2-4x a default fit.
    "plr": "costs over 1.5x",
    "plr-mixemb": "costs over 1.5x",
    "pwl": "costs over 1.5x",
    # Issue 16, item 3: no scaling inside by default, as scikit-learn's MLP.
    "robust": "scaling stays opt-in",
}
# Options of which at most one can be a default.
EXCLUSIVE = (("cosine", "flat-cosine", "warmup-cosine"), ("ema-0.99", "ema-0.999"))


def _mean_errors(rows: list[dict]) -> pd.Series:
    df = pd.DataFrame(rows)
    df["score"] = (
        df["error"].mul(100).where(df["task"] == "classification", df.get("rmse"))
    )
    return df.groupby(["dataset", "method"])["score"].mean()


def compare(head: dict, rows: list[dict], option: str) -> pd.DataFrame:
    """``option`` against the reference per dataset, Holm over its datasets."""
    chosen = [r for r in rows if r["method"] in (option, REFERENCE)]
    diffs = paired(chosen, REFERENCE, head=head)
    return diffs[diffs["method"] == option].reset_index(drop=True)


def summary(head: dict, rows: list[dict], options: list[str]) -> pd.DataFrame:
    means = _mean_errors(rows)
    out = []
    for option in options:
        d = compare(head, rows, option)
        relative = [
            100 * (means[(ds, option)] / means[(ds, REFERENCE)] - 1)
            for ds in d["dataset"]
        ]
        counts = d["verdict"].value_counts()
        out.append(
            {
                "option": option,
                "datasets": len(d),
                "lower": int((d["mean"] < 0).sum()),
                "higher": int((d["mean"] > 0).sum()),
                "better": int(counts.get("better", 0)),
                "worse": int(counts.get("worse", 0)),
                "median_change": float(pd.Series(relative).median()),
            }
        )
    table = pd.DataFrame(out)
    table["candidate"] = (
        ~table["option"].isin(NOT_ELIGIBLE)
        & (table["lower"] > table["higher"])
        & (table["worse"] == 0)
    )
    table["chosen"] = table["candidate"]
    for group in EXCLUSIVE:
        rivals = table[table["option"].isin(group) & table["candidate"]]
        if len(rivals) > 1:
            best = rivals.sort_values(
                ["lower", "median_change"], ascending=[False, True]
            ).index[0]
            table.loc[rivals.index.drop(best), "chosen"] = False
    return table


def findings(head: dict, rows: list[dict]) -> str:
    revision = head.get("skmixup_source") or "not recorded"
    dirty = " (dirty tree)" if head.get("dirty") else ""
    options = [m for m in head["suite"]["methods"] if m not in ("erm", REFERENCE)]
    table = summary(head, rows, options)
    lines = [
        "# The training recipe: what the recipe suite found",
        "",
        f"From `results.jsonl` (suite `{head['suite']['name']}`, revision "
        f"`{revision}`{dirty}, command `{' '.join(head['command'])}`), by "
        "`python benchmarks/recipe_findings.py`.",
        "",
        f"Every option is `{REFERENCE}` (the default network at alpha 0.2) with "
        "one setting changed; the suite's description says which. Differences "
        "are option minus reference on the same splits and seeds (negative is "
        "lower error): test error points (%) for classification, RMSE relative "
        "to the reference's (%) for regression. ▼/▲: lower/higher where the "
        "95% interval of the corrected resampled t-test (Nadeau & Bengio, 2003) "
        "excludes 0 after Holm over the option's datasets.",
        "",
        "## Summary",
        "",
        "`lower`/`higher`: datasets where the option's mean error is "
        "lower/higher than the reference's; `better`/`worse`: of those, where "
        "the corrected interval excludes 0; `median change`: median over the "
        "datasets of the relative change in mean error (%). `candidate` and "
        "`chosen` apply the rule in the script's docstring (cost at most 1.5x a "
        "default fit, not input scaling, lower on more datasets than higher, "
        "none worse; one schedule and one decay at most).",
        "",
        "| option | datasets | lower | higher | better | worse | median change "
        "(%) | candidate | chosen |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        why = NOT_ELIGIBLE.get(r["option"])
        cost = f" ({why})" if why else ""
        lines.append(
            f"| `{r['option']}`{cost} | {r['datasets']} | {r['lower']} | "
            f"{r['higher']} | {r['better']} | {r['worse']} | "
            f"{r['median_change']:+.1f} | {'yes' if r['candidate'] else 'no'} | "
            f"{'yes' if r['chosen'] else 'no'} |"
        )
    means = _mean_errors(rows)
    for option in options:
        d = compare(head, rows, option)
        lines += [
            "",
            f"## `{option}` against `{REFERENCE}`",
            "",
            f"| dataset | `{REFERENCE}` | `{option}` | difference [95% interval] | n |",
            "|---|---|---|---|---|",
        ]
        for _, r in d.iterrows():
            lines.append(
                f"| {r['dataset']} | {means[(r['dataset'], REFERENCE)]:.3g} | "
                f"{means[(r['dataset'], option)]:.3g} | "
                f"{diff_cell(r, CELL, UNTESTED)} | {r['count']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_findings(findings, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
