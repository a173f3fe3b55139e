"""Markdown tables and PNG plots from the rows of a results file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .suites import PUBLISHED, VARIANTS, method_alpha

__all__ = ["markdown", "paired", "plots", "summary"]

# Metric column, table title, scale factor, format.
_METRICS = {
    "classification": [
        ("error", "Test error (%)", 100.0, "{:.1f}"),
        ("log_loss", "Test log-loss", 1.0, "{:.3f}"),
        ("ece", "Expected calibration error (%, 15 bins)", 100.0, "{:.1f}"),
        ("train_error", "Training error on the labels trained on (%)", 100.0, "{:.1f}"),
        (
            "train_clean_error",
            "Training error against the clean training labels (%)",
            100.0,
            "{:.1f}",
        ),
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


_ALL_METRICS = (
    "error", "log_loss", "ece", "train_error", "train_clean_error", "rmse", "mae",
)  # fmt: skip


def _runs(rows: list[dict]) -> pd.DataFrame:
    """The run rows, with ``label_noise`` 0 where a suite has none."""
    df = pd.DataFrame([r for r in rows if r.get("kind") == "run"])
    if "label_noise" not in df:
        df["label_noise"] = 0.0
    df["label_noise"] = df["label_noise"].fillna(0.0)
    return df


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean, std, standard error and count per task, dataset, label noise level,
    method and metric."""
    df = _runs(rows)
    metrics = [m for m in _ALL_METRICS if m in df]
    metrics += ["fit_seconds", "predict_seconds"]
    long = df.melt(
        id_vars=["task", "dataset", "label_noise", "method"],
        value_vars=metrics,
        var_name="metric",
    ).dropna(subset=["value"])
    grouped = long.groupby(
        ["task", "dataset", "label_noise", "metric", "method"], sort=False
    )
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


def _label(dataset: str, noise: float, noisy: bool) -> str:
    return f"{dataset}, {noise:.0%} noise" if noisy else dataset


def _table(
    stats: pd.DataFrame,
    metric: str,
    scale: float,
    fmt: str,
    methods: list[str],
    published: dict[str, dict[str, float]],
    spread: str,
    skipped: set[tuple[str, str]] = frozenset(),
    noisy: bool = False,
) -> list[str]:
    refs = sorted({k for d in published.values() for k in d})
    head = ["dataset", *(f"published {r}" for r in refs), *methods, "n"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    sub = stats[stats["metric"] == metric]
    for dataset, noise in sub[["dataset", "label_noise"]].drop_duplicates().values:
        cells = [_label(dataset, noise, noisy)]
        cells += [
            (fmt if fmt != "sig3" else "{:.2f}").format(published[dataset][r])
            if r in published.get(dataset, {})
            else ""
            for r in refs
        ]
        here = (sub["dataset"] == dataset) & (sub["label_noise"] == noise)
        rows = sub[here].set_index("method")
        cells += [
            _cell(rows.loc[m], scale, fmt, spread)
            if m in rows.index
            else "n/a"
            if (dataset, m) in skipped
            else "—"
            for m in methods
        ]
        cells.append("/".join(str(int(c)) for c in rows["count"].unique()))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _wins(stats: pd.DataFrame, metric: str, methods: list[str]) -> list[str]:
    """How often each method's mean is at or below ERM's (lower is better)."""
    sub = stats[stats["metric"] == metric].pivot(
        index=["dataset", "label_noise"], columns="method", values="mean"
    )
    if "erm" not in sub:
        return []
    noisy = sub.index.get_level_values("label_noise").nunique() > 1
    unit = "(dataset, noise level) cells" if noisy else "datasets"
    lines = []
    for m in methods:
        if m == "erm" or m not in sub:
            continue
        both = sub[["erm", m]].dropna()
        k = int((both[m] <= both["erm"]).sum())
        lines.append(f"- `{m}` mean {metric} ≤ ERM's on {k} of {len(both)} {unit}")
    return lines


def paired(rows: list[dict], baseline: str) -> pd.DataFrame:
    """Each method against ``baseline`` on the same split, seed and noise level.

    The difference per repeat is in test error points (%) for classification and
    in RMSE relative to the baseline's (%) for regression; returned as mean,
    standard error and count per task, dataset, noise level and method.
    """
    df = _runs(rows)
    keys = ["task", "dataset", "label_noise", "repeat"]
    df["score"] = np.where(
        df["task"] == "classification",
        df.get("error", np.nan) * 100.0,
        df.get("rmse", np.nan),
    )
    base = df[df["method"] == baseline].set_index(keys)["score"]
    other = df[df["method"] != baseline].join(base.rename("base"), on=keys)
    other = other.dropna(subset=["base", "score"])
    clf = other["task"] == "classification"
    other["diff"] = np.where(
        clf,
        other["score"] - other["base"],
        100.0 * (other["score"] / other["base"] - 1.0),
    )
    grouped = other.groupby(["task", "dataset", "label_noise", "method"], sort=False)
    out = grouped["diff"].agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"].fillna(0.0) / np.sqrt(out["count"])
    return out


def _paired_section(
    rows: list[dict], baseline: str, methods: list[str], skipped: set
) -> list[str]:
    """Tables of paired differences to ``baseline`` and win/loss counts."""
    diffs = paired(rows, baseline)
    lines = []
    for task, unit in (
        ("classification", "test error difference in points (%)"),
        ("regression", "test RMSE difference relative to the baseline's (%)"),
    ):
        sub = diffs[diffs["task"] == task]
        cols = [m for m in methods if m != baseline and m in set(sub["method"])]
        if sub.empty or not cols:
            continue
        lines += [
            "",
            f"## {task}: against `{baseline}`, paired by repeat",
            "",
            f"Cells: {unit}, mean ± standard error over repeats that share the "
            f"split and seed (negative: better than `{baseline}`); ▼/▲ mark a "
            "mean more than two standard errors below/above zero (not shown for a "
            "single repeat).",
            "",
            "| dataset | " + " | ".join(cols) + " |",
            "|" + "---|" * (len(cols) + 1),
        ]
        noisy = sub["label_noise"].nunique() > 1
        for dataset, noise in sub[["dataset", "label_noise"]].drop_duplicates().values:
            here = sub[(sub["dataset"] == dataset) & (sub["label_noise"] == noise)]
            here = here.set_index("method")
            cells = [_label(dataset, noise, noisy)]
            for m in cols:
                if m not in here.index:
                    cells.append("n/a" if (dataset, m) in skipped else "—")
                    continue
                mean, se = here.loc[m, "mean"], here.loc[m, "se"]
                mark = ""
                if here.loc[m, "count"] > 1:  # one repeat has no error to compare
                    mark = " ▼" if mean < -2 * se else " ▲" if mean > 2 * se else ""
                cells.append(f"{mean:+.1f} ± {se:.1f}{mark}")
            lines.append("| " + " | ".join(cells) + " |")
        lines += [
            "",
            f"| method | better than `{baseline}` (clearly) | worse (clearly) | "
            + ("cells |" if noisy else "datasets |"),
            "|---|---|---|---|",
        ]
        for m in cols:
            d = sub[sub["method"] == m]
            better, worse = int((d["mean"] < 0).sum()), int((d["mean"] > 0).sum())
            several = d["count"] > 1
            clear_b = int((several & (d["mean"] < -2 * d["se"])).sum())
            clear_w = int((several & (d["mean"] > 2 * d["se"])).sum())
            lines.append(
                f"| `{m}` | {better} ({clear_b}) | {worse} ({clear_w}) | {len(d)} |"
            )
    return lines


def _noise_rates(rows: list[dict]) -> list[str]:
    """The share of training labels actually wrong, per dataset and level."""
    df = _runs(rows)
    if "noise_rate" not in df or not (df["label_noise"] > 0).any():
        return []
    table = df.pivot_table(
        index="dataset", columns="label_noise", values="noise_rate", sort=False
    )
    lines = [
        "",
        "## Training labels actually wrong (%, mean over runs)",
        "",
        "A corrupted label is redrawn uniformly from all classes, so it stays right "
        "with probability 1/K (K classes).",
        "",
        "| dataset | " + " | ".join(f"{c:.0%} corrupted" for c in table.columns) + " |",
        "|" + "---|" * (len(table.columns) + 1),
    ]
    for dataset, values in table.iterrows():
        lines.append(
            f"| {dataset} | " + " | ".join(f"{100 * v:.1f}" for v in values) + " |"
        )
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
    skipped = {
        (s["dataset"], s["method"]) for s in head.get("skipped", ()) if "method" in s
    }
    noisy = bool(suite.get("label_noise"))
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
        present = set(t_stats["metric"])
        specs = [spec for spec in [*specs, *_TIMES] if spec[0] in present]
        for i, (metric, title, scale, fmt) in enumerate(specs):
            spread = "se" if "standard error" in title else "std"
            refs = published if metric in ("error", "rmse") else {}
            lines += ["", f"## {task}: {title}", ""]
            lines += _table(
                t_stats, metric, scale, fmt, methods, refs, spread, skipped, noisy
            )
            if i == 0:
                lines += ["", *_wins(t_stats, metric, methods)]
    if skipped:
        lines += [
            "",
            "n/a: the method is defined for the other task only "
            "(" + ", ".join(sorted({m for _, m in skipped})) + "); not run.",
        ]
    lines += _noise_rates(rows)
    if any(m.partition("@")[0] in VARIANTS for m in methods):
        baselines = ["erm"]
        if not noisy:  # the variants' own alpha, for the ablation
            baselines.append(f"mixup-{suite.get('variant_alpha', 1.0)}")
        for baseline in baselines:
            if baseline in methods:
                lines += _paired_section(rows, baseline, methods, skipped)
    lines += _chosen_alphas(rows)
    return "\n".join(lines) + "\n"


def _grid(plt, n: int, height: float = 2.8):
    n_cols = min(3, n)
    n_rows = math.ceil(n / n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.6 * n_cols, height * n_rows), squeeze=False
    )
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def _noise_curves(plt, stats: pd.DataFrame, out_dir: Path) -> Path:
    """Test error against the share of corrupted training labels, per method."""
    main = stats[stats["metric"] == "error"]
    datasets = list(main["dataset"].unique())
    fig, axes = _grid(plt, len(datasets), 3.0)
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = main[main["dataset"] == dataset]
        for method, curve in sub.groupby("method", sort=False):
            ax.errorbar(
                curve["label_noise"] * 100,
                curve["mean"] * 100,
                yerr=curve["se"] * 100,
                marker="o",
                markersize=3,
                capsize=2,
                label=method,
                linestyle="--" if method.startswith("dropout") else "-",
            )
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("training labels corrupted (%)", fontsize=8)
        ax.set_ylabel("clean test error (%)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6)
    fig.suptitle("test error vs label noise: mean ± standard error", fontsize=10)
    fig.tight_layout()
    path = out_dir / "noise_curve.png"
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return path


def _in_order(df: pd.DataFrame, methods: list[str] | None) -> pd.DataFrame:
    """``df`` with its methods in the suite's order (else as they come)."""
    if not methods:
        return df
    rank = {m: i for i, m in enumerate(methods)}
    key = df["method"].map(lambda m: rank.get(m, len(rank)))
    return df.iloc[np.argsort(key.to_numpy(), kind="stable")]


def _variants_plot(
    plt, rows: list[dict], out_dir: Path, methods: list[str] | None
) -> Path:
    """Every method's paired difference to ERM, per dataset."""
    diffs = _in_order(paired(rows, "erm"), methods)
    datasets = list(diffs["dataset"].unique())
    fig, axes = _grid(plt, len(datasets), 3.4)
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = diffs[diffs["dataset"] == dataset]
        y = np.arange(len(sub))
        ax.barh(
            y,
            sub["mean"],
            xerr=sub["se"],
            capsize=2,
            color=[
                "#999"
                if n < 2
                else "#3a7"
                if m < -2 * e
                else "#c44"
                if m > 2 * e
                else "#999"
                for m, e, n in zip(sub["mean"], sub["se"], sub["count"], strict=True)
            ],
        )
        ax.axvline(0, color="k", linewidth=0.6)
        ax.set_yticks(y, sub["method"])
        ax.invert_yaxis()
        clf = sub["task"].iloc[0] == "classification"
        ax.set_xlabel(
            "Δ test error vs ERM (points)" if clf else "Δ RMSE vs ERM (%)", fontsize=8
        )
        ax.set_title(dataset, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(
        "each method minus ERM, paired by repeat: mean ± standard error "
        "(green/red: beyond 2 standard errors)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    path = out_dir / "variants_vs_erm.png"
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return path


def plots(
    rows: list[dict], out_dir: Path, methods: list[str] | None = None
) -> list[Path]:
    """``erm_vs_mixup.png`` and ``alpha_curve.png`` (when there is a curve of
    three alphas or more); ``variants_vs_erm.png`` when variants ran; only
    ``noise_curve.png`` for a label-noise suite. Methods are drawn in the order
    of ``methods`` (the suite's), if given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = _in_order(summary(rows), methods)
    if (stats["label_noise"] > 0).any():
        return [_noise_curves(plt, stats, out_dir)]
    written = []
    runs = _runs(rows)
    if (
        runs["method"].str.partition("@")[0].isin(list(VARIANTS)).any()
        and (runs["method"] == "erm").any()
    ):
        written.append(_variants_plot(plt, rows, out_dir, methods))
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
        if fixed["method"].nunique() >= 3:  # two points are no curve
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
