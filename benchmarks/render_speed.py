"""Markdown tables of the committed speed outputs, for the docs to include.

Run from the repository root::

    python benchmarks/render_speed.py --out benchmarks/results/speed/tables.md

Reads ``speed.json``, ``speed_cv.json``, ``speed_ensemble.json``,
``speed_recipe.json``, ``threads.json``
(``benchmarks/results/speed/``) and
``sparse_memory.json`` (``benchmarks/results/sparse/``), whichever exist, and writes
one table per file, each headed by the revision that produced it. Every figure
comes from those files, so that no speed figure is typed by hand: the docs quote
this output. Times are medians with their spread (minimum and maximum, or
quartiles); a file written before the spread was recorded shows "n/r" there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _spread(row: dict, digits: int = 2) -> str:
    """``median [min, max]`` (else quartiles) of a timing row."""
    median = row.get("median", row.get("seconds"))
    fmt = f"{{:.{digits}f}}"
    if "min" not in row and row.get("times"):
        row = row | {"min": min(row["times"]), "max": max(row["times"])}
    for low, high in (("min", "max"), ("q1", "q3")):
        if low in row and high in row:
            return (
                f"{fmt.format(median)} [{fmt.format(row[low])}, "
                f"{fmt.format(row[high])}]"
            )
    return f"{fmt.format(median)} [n/r]"


def _provenance(meta: dict) -> str:
    revision = meta.get("revision") or "not recorded"
    return f"Revision `{revision}`; `{meta.get('command', '?')}`."


def speed(data: dict) -> list[str]:
    """Fit times against scikit-learn's MLP and skorch, and the default settings."""
    lines = [
        "### Fit times",
        "",
        _provenance(data["meta"]),
        "",
        "| task | batch | epochs | estimator | fit seconds, median [spread] |",
        "|---|---|---|---|---|",
    ]
    for r in data.get("fit", []):
        timing = r | {"seconds": r["fit_seconds"]}
        lines.append(
            f"| {r['task']} | {r['batch_size']} | {r['epochs']} | "
            f"{r['estimator']} | {_spread(timing)} |"
        )
    rows = data.get("defaults", {}).get("rows", [])
    if rows:
        lines += [
            "",
            "| load | group | job | seconds, median [spread] |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['load']} | {r['group']} | {r['job']} | {_spread(r, 3)} |"
            for r in rows
        ]
    return lines


def speed_cv(data: dict) -> list[str]:
    """The alpha search against one plain fit and GridSearchCV."""
    lines = [
        "### Alpha search: MixupClassifierCV against GridSearchCV",
        "",
        _provenance(data["meta"]),
        "",
        "| device | batch | epochs | job | seconds, median [spread] | "
        "x one plain fit |",
        "|---|---|---|---|---|---|",
    ]
    for r in data["fit"] + data.get("fit_gpu", []):
        lines.append(
            f"| {r['device']} | {r['batch_size']} | {r['epochs']} | {r['job']} | "
            f"{_spread(r)} | {r['ratio_to_one_fit']:.2f} |"
        )
    return lines


def speed_cv_sentences(data: dict) -> list[str]:
    """Per device and batch size: the search's cost against GridSearchCV's, and
    which is faster with two workers, in sentences templated from the file."""
    groups: dict[tuple, dict[str, dict]] = {}
    for r in data["fit"] + data.get("fit_gpu", []):
        groups.setdefault((r["device"], r["batch_size"]), {})[r["job"]] = r
    lines = []
    for (device, batch), jobs in groups.items():
        cv, grid = jobs.get("MixupClassifierCV"), jobs.get("GridSearchCV n_jobs=1")
        if cv is None or grid is None:
            continue
        cv2, grid2 = (
            jobs.get("MixupClassifierCV, 2 threads"),
            jobs.get("GridSearchCV n_jobs=2"),
        )
        text = (
            f"On {device} at batch {batch}, the search cost "
            f"{cv['ratio_to_one_fit']:.2f}x one plain fit on one thread"
            + (f" ({cv2['ratio_to_one_fit']:.2f}x on two threads)" if cv2 else "")
            + f", against {grid['ratio_to_one_fit']:.2f}x for GridSearchCV"
            + (f" ({grid2['ratio_to_one_fit']:.2f}x with n_jobs=2)" if grid2 else "")
        )
        if grid2:
            faster = [
                name
                for name, row in (("one thread", cv), ("two threads", cv2))
                if row and row["ratio_to_one_fit"] < grid2["ratio_to_one_fit"]
            ]
            text += (
                "; GridSearchCV with n_jobs=2 was faster than the search on one thread"
                if "one thread" not in faster
                else "; the search on one thread was faster than GridSearchCV "
                "with n_jobs=2"
            )
            if cv2 is not None and "one thread" not in faster:
                text += (
                    ", and slower than the search on two threads"
                    if "two threads" in faster
                    else ", and than the search on two threads"
                )
        lines.append(text + ".")
    return lines


def threads(data: dict) -> list[str]:
    """One thread against every core, per network size and machine load."""
    lines = ["### One thread against every core", "", _provenance(data["meta"])]
    for load, rows in data["results"].items():
        lines += [
            "",
            f"{load.capitalize()} machine:",
            "",
            "| features | hidden | batch | one thread, s | every core, s | "
            "every core / one |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['n_features']} | {'x'.join(map(str, r['hidden']))} | "
                f"{r['batch_size']} | {_spread(r['one'], 3)} | "
                f"{_spread(r['all'], 3)} | {r['all_over_one']:.2f} |"
            )
    return lines


def sparse_memory(data: dict) -> list[str]:
    """Peak memory and time of sparse input, per case and repeat."""
    lines = [
        "### Sparse input: memory",
        "",
        _provenance(data["meta"]),
        "",
        "| case | repeat | peak above RSS before fit, MB | limit, MB | "
        "fit, s | predict, s |",
        "|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['case']} | {r.get('repeat', 0)} | "
            f"{r['peak_above_rss_before_fit_mb']:.0f} | {r['limit_mb']:.0f} | "
            f"{r['fit_seconds']:.2f} | {r['predict_seconds']:.2f} |"
        )
    return lines


def speed_ensemble(data: dict) -> list[str]:
    """n_ensemble=8 against one fit: times, ratios and peak fit memory."""
    lines = [
        "### Ensembles: n_ensemble=8 against one fit",
        "",
        _provenance(data["meta"]),
        "",
        "| task | batch | threads | one fit, s | ensemble, s | ensemble / one |",
        "|---|---|---|---|---|---|",
    ]
    rows = data["ensemble"]
    for r in rows:
        if r["estimator"] != "plain":
            continue
        key = (r["task"], r["batch_size"], r["threads"])
        ens = next(
            e
            for e in rows
            if (e["task"], e["batch_size"], e["threads"]) == key
            and e["estimator"] != "plain"
        )
        lines.append(
            f"| {r['task']} | {r['batch_size']} | {r['threads']} | "
            f"{_spread(r, 3)} | {_spread(ens, 3)} | "
            f"{ens['median'] / r['median']:.2f} |"
        )
    by_members: dict[int, list[float]] = {}
    for r in data["ensemble_memory"]:
        by_members.setdefault(r["n_ensemble"], []).append(r["fit_mb"])
    lines += [
        "",
        "| fit | peak fit memory above the RSS before it, MB (each run) |",
        "|---|---|",
    ]
    for k, values in sorted(by_members.items()):
        name = "one fit" if k == 1 else f"n_ensemble={k}"
        lines.append(f"| {name} | {', '.join(f'{v:.0f}' for v in values)} |")
    return lines


def speed_recipe(data: dict) -> list[str]:
    """The old and new default fits and each recipe option (files written
    before issue 16 chose its defaults have one "default" base instead)."""
    rows = data["recipe"]
    base_name = (
        "old default" if any(r["option"] == "old default" for r in rows) else "default"
    )
    lines = [
        f"### The recipe against the {base_name} fit",
        "",
        _provenance(data["meta"]),
        "",
        f"| batch | fit | seconds | / {base_name} |",
        "|---|---|---|---|",
    ]
    for r in rows:
        base = next(
            b
            for b in rows
            if b["batch_size"] == r["batch_size"] and b["option"] == base_name
        )
        lines.append(
            f"| {r['batch_size']} | {r['option']} | {_spread(r, 3)} | "
            f"{r['median'] / base['median']:.2f} |"
        )
    return lines


RENDERERS: dict[str, Callable[[dict], list[str]]] = {
    "speed/speed.json": speed,
    "speed/speed_cv.json": speed_cv,
    "speed/threads.json": threads,
    "speed/speed_ensemble.json": speed_ensemble,
    "speed/speed_recipe.json": speed_recipe,
    "sparse/sparse_memory.json": sparse_memory,
}


def render(results: Path = RESULTS) -> str:
    """The tables of every speed output found under ``results``."""
    lines = ["<!-- Generated by benchmarks/render_speed.py; do not edit. -->"]
    for name, renderer in RENDERERS.items():
        path = results / name
        if path.exists():
            lines += ["", *renderer(json.loads(path.read_text()))]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = render(args.results)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
