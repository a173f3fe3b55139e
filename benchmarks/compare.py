"""Side-by-side tables for benchmarks/results/README.md, from the committed results.

Run from the repository root::

    python benchmarks/compare.py > /tmp/tables.md

Every number printed comes from a ``results.jsonl`` under ``benchmarks/results/``
or, marked "published", from ``skmixup.bench.suites.PUBLISHED``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from skmixup.bench.report import _sig3, summary
from skmixup.bench.suites import PUBLISHED

RESULTS = Path(__file__).resolve().parent / "results"
PAPER_SETS = ["abalone", "arcene", "arrhythmia", "htru2", "iris", "phishing"]


def _stats(suite: str):
    path = RESULTS / suite / "results.jsonl"
    if not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    return summary([r for r in rows if r.get("kind") == "run"])


def _cell(stats, dataset, method, metric, scale, fmt, spread="std"):
    sub = stats[
        (stats.dataset == dataset) & (stats.method == method) & (stats.metric == metric)
    ]
    if sub.empty:
        return "—", None
    s = sub.iloc[0]
    mean, sd = s["mean"] * scale, s[spread] * scale
    if fmt == "sig3":
        fmt = _sig3(mean)
    return f"{fmt.format(mean)} ± {fmt.format(sd)} ({int(s['count'])})", mean


def paper_table(paper, tuned) -> list[str]:
    ref = PUBLISHED["paper"]
    alphas = ["mixup-0.1", "mixup-0.2", "mixup-0.4", "mixup-1.0"]
    head = ["dataset", "paper ERM", "paper mixup", "ours ERM", *alphas]
    head += ["tuned mixup-cv", "tuned ERM", "sklearn MLP", "HistGB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    counts = {"alpha1_le_erm": 0, "any_le_erm": 0, "tuned_lt_paper": 0, "n": 0}
    for d in PAPER_SETS:
        cells = [d, f"{ref[d]['erm']:.1f}", f"{ref[d]['mixup']:.1f}"]
        erm = mix = None
        if paper is not None:
            text, erm = _cell(paper, d, "erm", "error", 100, "{:.1f}")
            cells.append(text)
            means = []
            for m in alphas:
                text, value = _cell(paper, d, m, "error", 100, "{:.1f}")
                cells.append(text)
                means.append(value)
                if m == "mixup-1.0":
                    mix = value
            if erm is not None and mix is not None:
                counts["n"] += 1
                counts["alpha1_le_erm"] += mix <= erm
                counts["any_le_erm"] += any(v is not None and v <= erm for v in means)
        else:
            cells += ["—"] * (1 + len(alphas))
        for m in ("mixup-cv", "erm", "sklearn-mlp", "hgb"):
            if tuned is None:
                cells.append("—")
                continue
            text, value = _cell(tuned, d, m, "error", 100, "{:.1f}")
            cells.append(text)
            if m == "mixup-cv" and value is not None:
                counts["tuned_lt_paper"] += value < ref[d]["mixup"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"- paper suite, mixup α=1.0 (declared headline) ≤ our ERM on "
        f"{counts['alpha1_le_erm']} of {counts['n']} sets; some fixed α ≤ ERM on "
        f"{counts['any_le_erm']} of {counts['n']}",
        f"- tuned mixup-cv below the paper's mixup error on {counts['tuned_lt_paper']}"
        f" of {len(PAPER_SETS)} sets",
    ]
    return lines


def regression_table(reg) -> list[str]:
    ref = PUBLISHED["uci-regression"]
    methods = ["erm", "mixup-0.1", "mixup-0.4"]
    head = ["dataset", "published MC dropout", *(f"ours {m}" for m in methods)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d, r in ref.items():
        cells = [d, f"{r['mc-dropout']:.2f}"]
        for m in methods:
            text, _ = _cell(reg, d, m, "rmse", 1, "sig3", spread="se")
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    paper, tuned, reg = _stats("paper"), _stats("tuned"), _stats("uci-regression")
    out = ["### Classification error (%), mean ± std (repeats)", ""]
    out += paper_table(paper, tuned)
    if reg is not None:
        out += ["", "### Regression RMSE, mean ± standard error (splits)", ""]
        out += regression_table(reg)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
