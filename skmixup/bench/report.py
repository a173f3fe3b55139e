"""Markdown tables and PNG plots from the rows of a results file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .suites import PUBLISHED, method_alpha

__all__ = ["markdown", "plots", "summary"]

# Metric column, table title, scale factor, format.
_METRICS = {
    "classification": [
        ("error", "Test error (%)", 100.0, "{:.1f}"),
        ("log_loss", "Test log-loss", 1.0, "{:.3f}"),
        ("ece", "Expected calibration error (%, 15 bins)", 100.0, "{:.1f}"),
    ],
    "regression": [
        ("rmse", "Test RMSE", 1.0, "sig3"),
        ("mae", "Test MAE", 1.0, "sig3"),
    ],
}
_TIMES = [
    ("fit_seconds", "Fit seconds", 1.0, "{:.2f}"),
    ("predict_seconds", "Predict seconds", 1.0, "{:.3f}"),
]


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean, std, standard error and count per (task, dataset, method, metric)."""
    df = pd.DataFrame([r for r in rows if r.get("kind") == "run"])
    metrics = [m for m in ("error", "log_loss", "ece", "rmse", "mae") if m in df]
    metrics += ["fit_seconds", "predict_seconds"]
    long = df.melt(
        id_vars=["task", "dataset", "method"], value_vars=metrics, var_name="metric"
    ).dropna(subset=["value"])
    grouped = long.groupby(["task", "dataset", "metric", "method"], sort=False)
    out = grouped["value"].agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    out["se"] = out["std"] / np.sqrt(out["count"])
    return out


def _cell(stats: pd.Series, scale: float, fmt: str, spread: str) -> str:
    mean, spread_value = stats["mean"] * scale, stats[spread] * scale
    if fmt == "sig3":
        fmt = _sig3(mean)
    return f"{fmt.format(mean)} ± {fmt.format(spread_value)}"


def _sig3(value: float) -> str:
    """A format with 3 significant digits of ``value``, as fixed decimals."""
    if not np.isfinite(value) or value == 0:
        return "{:.3g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return "{:.DECf}".replace("DEC", str(decimals))


def _table(
    stats: pd.DataFrame,
    metric: str,
    scale: float,
    fmt: str,
    methods: list[str],
    published: dict[str, dict[str, float]],
    spread: str,
) -> list[str]:
    refs = sorted({k for d in published.values() for k in d})
    head = ["dataset", *(f"published {r}" for r in refs), *methods, "n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    sub = stats[stats["metric"] == metric]
    for dataset in sub["dataset"].unique():
        cells = [dataset]
        cells += [
            (fmt if fmt != "sig3" else "{:.2f}").format(published[dataset][r])
            if r in published.get(dataset, {})
            else ""
            for r in refs
        ]
        rows = sub[sub["dataset"] == dataset].set_index("method")
        cells += [
            _cell(rows.loc[m], scale, fmt, spread) if m in rows.index else "—"
            for m in methods
        ]
        cells.append("/".join(str(int(c)) for c in rows["count"].unique()))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _wins(stats: pd.DataFrame, metric: str, methods: list[str]) -> list[str]:
    """How often each method's mean is at or below ERM's (lower is better)."""
    sub = stats[stats["metric"] == metric].pivot(
        index="dataset", columns="method", values="mean"
    )
    if "erm" not in sub:
        return []
    lines = []
    for m in methods:
        if m == "erm" or m not in sub:
            continue
        both = sub[["erm", m]].dropna()
        k = int((both[m] <= both["erm"]).sum())
        lines.append(f"- `{m}` mean {metric} ≤ ERM's on {k} of {len(both)} datasets")
    return lines


def _chosen_alphas(rows: list[dict]) -> list[str]:
    cv = [r for r in rows if r.get("method") == "mixup-cv"]
    if not cv:
        return []
    lines = ["", "### alpha chosen by inner cross-validation (count per repeat)", ""]
    lines += ["| dataset | chosen alpha |", "|---|---|"]
    df = pd.DataFrame(cv)
    for dataset, group in df.groupby("dataset", sort=False):
        counts = group["alpha"].value_counts().sort_index()
        lines.append(
            f"| {dataset} | "
            + ", ".join(f"{a:g} ×{n}" for a, n in counts.items())
            + " |"
        )
    return lines


def markdown(rows: list[dict], head: dict) -> str:
    """The report: a table per metric, ERM win counts, chosen alphas."""
    suite = head["suite"]
    stats = summary(rows)
    methods = list(dict.fromkeys(suite["methods"]))
    published = PUBLISHED.get(suite["name"], {})
    n_runs = sum(r.get("kind") == "run" for r in rows)
    lines = [
        f"# skmixup-bench: suite `{suite['name']}`",
        "",
        f"{suite['description']}.",
        "",
        f"Command: `{' '.join(head['command'])}`  ",
        f"Runs finished: {n_runs}; seed {head['context']['seed']}; cells are "
        "mean ± std over repeats (n = repeats per cell)"
        + (
            "; RMSE also as mean ± standard error"
            if "rmse" in set(stats.metric)
            else ""
        )
        + ".  ",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in head["versions"].items() if v)
        + ".",
    ]
    for task in ("classification", "regression"):
        t_stats = stats[stats["task"] == task]
        if t_stats.empty:
            continue
        specs = list(_METRICS[task])
        if task == "regression":
            specs.insert(0, ("rmse", "Test RMSE, mean ± standard error", 1, "sig3"))
        for i, (metric, title, scale, fmt) in enumerate([*specs, *_TIMES]):
            spread = "se" if "standard error" in title else "std"
            refs = published if metric in ("error", "rmse") else {}
            lines += ["", f"## {task}: {title}", ""]
            lines += _table(t_stats, metric, scale, fmt, methods, refs, spread)
            if i == 0:
                lines += ["", *_wins(t_stats, metric, methods)]
    lines += _chosen_alphas(rows)
    return "\n".join(lines) + "\n"


def plots(rows: list[dict], out_dir: Path) -> list[Path]:
    """``erm_vs_mixup.png`` and ``alpha_curve.png`` (when there is a curve)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = summary(rows)
    written = []
    main = stats[stats["metric"].isin(["error", "rmse"])]
    datasets = list(main["dataset"].unique())
    if not datasets:
        return written
    n_cols = min(3, len(datasets))
    n_rows = math.ceil(len(datasets) / n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.6 * n_cols, 2.8 * n_rows), squeeze=False
    )
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = main[main["dataset"] == dataset]
        scale = 100.0 if sub["metric"].iloc[0] == "error" else 1.0
        ax.bar(
            range(len(sub)),
            sub["mean"] * scale,
            yerr=sub["std"] * scale,
            capsize=3,
            color=["#888" if m == "erm" else "#3a7" for m in sub["method"]],
        )
        ax.set_xticks(range(len(sub)), sub["method"], rotation=45, ha="right")
        ax.set_title(dataset, fontsize=9)
        ax.set_ylabel("error (%)" if scale == 100 else "RMSE", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(datasets) :]:
        ax.axis("off")
    fig.suptitle("ERM vs mixup: test mean ± std over repeats", fontsize=10)
    fig.tight_layout()
    written.append(out_dir / "erm_vs_mixup.png")
    fig.savefig(written[-1], dpi=72)
    plt.close(fig)

    curves = _alpha_curves(rows)
    if curves:
        fig, axes = plt.subplots(
            n_rows, n_cols, figsize=(3.6 * n_cols, 2.6 * n_rows), squeeze=False
        )
        for ax, dataset in zip(axes.flat, datasets, strict=False):
            if dataset not in curves:
                ax.axis("off")
                continue
            label, curve = curves[dataset]
            ax.errorbar(curve.index, curve["mean"], yerr=curve["std"], marker="o")
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_title(dataset, fontsize=9)
            ax.set_xlabel("alpha", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(datasets) :]:
            ax.axis("off")
        fig.suptitle("error against alpha (alpha = 0 is ERM)", fontsize=10)
        fig.tight_layout()
        written.append(out_dir / "alpha_curve.png")
        fig.savefig(written[-1], dpi=72)
        plt.close(fig)
    return written


def _alpha_curves(rows: list[dict]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per dataset: test error vs the fixed alphas run, else inner-CV error."""
    runs = pd.DataFrame([r for r in rows if r.get("kind") == "run"])
    curves = {}
    for dataset, group in runs.groupby("dataset", sort=False):
        metric = "error" if group["task"].iloc[0] == "classification" else "rmse"
        scale = 100.0 if metric == "error" else 1.0
        fixed = group[group["method"].map(method_alpha).notna()]
        if fixed["method"].nunique() >= 2:
            curve = fixed.groupby("alpha")[metric].agg(["mean", "std"]) * scale
            label = "test error (%)" if scale == 100 else "test RMSE"
        elif "cv" in group and group["cv"].notna().any():
            cv = pd.DataFrame(list(group["cv"].dropna())).astype(float) * scale
            cv.columns = [float(c) for c in cv.columns]
            curve = pd.DataFrame({"mean": cv.mean(), "std": cv.std()})
            label = "inner-CV error (%)" if scale == 100 else "inner-CV RMSE"
        else:
            continue
        curves[dataset] = (label, curve.fillna(0.0).sort_index())
    return curves
