"""Markdown tables and PNG plots from the rows of a results file."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .suites import PUBLISHED, VARIANTS, is_mixup, method_alpha

__all__ = [
    "corrected_t",
    "cpu_counts",
    "diff_cell",
    "holm",
    "markdown",
    "paired",
    "plots",
    "summary",
]

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
            if _skipped(skipped, dataset, m)
            else "—"
            for m in methods
        ]
        cells.append("/".join(str(int(c)) for c in rows["count"].unique()))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def corrected_t(
    diffs, ratio: float, level: float = 0.95
) -> tuple[float, float, float, float]:
    """Mean of paired differences over repeats, its ``level`` interval and p-value,
    by the corrected resampled t-test (Nadeau & Bengio, 2003).

    The repeats' training sets overlap, so their differences are correlated and
    the plain t-test's ``var / J`` is too small; the correction uses
    ``var * (1/J + ratio)``, ``ratio`` being n_test / n_train, with J - 1
    degrees of freedom. Returns ``(mean, low, high, p)``; with one repeat, the
    interval and p-value are NaN.
    """
    from scipy import stats

    d = np.asarray(diffs, dtype=float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, math.nan, math.nan, math.nan
    se = math.sqrt((1 / len(d) + ratio) * d.var(ddof=1))
    if se == 0:  # identical differences: exactly the mean, certain or null
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    t = stats.t(len(d) - 1)
    half = float(t.ppf(0.5 + level / 2)) * se
    return mean, mean - half, mean + half, float(2 * t.sf(abs(mean) / se))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adjusted) if m else adjusted
    return out


def _test_ratio(df: pd.DataFrame, head: dict | None) -> pd.Series:
    """n_test / n_train per run; from the suite's test_size where a results file
    written before they were recorded lacks them."""
    suite = (head or {}).get("suite", {})
    default = suite.get("test_size", 0.2)
    sizes = {
        task: dict(settings).get("test_size", default)
        for task, settings in (suite.get("task_settings") or {}).items()
    }
    fallback = df["task"].map(lambda t: sizes.get(t, default))
    fallback = fallback / (1 - fallback)
    if "n_test" not in df or "n_train" not in df:
        return fallback
    return (df["n_test"] / df["n_train"]).fillna(fallback)


def _score(df: pd.DataFrame, metric: str | None) -> pd.Series:
    """The compared score: ``metric``, or error (%) / RMSE by task."""
    if metric is not None:
        return df[metric] if metric in df else pd.Series(np.nan, index=df.index)
    return pd.Series(
        np.where(
            df["task"] == "classification",
            df.get("error", np.nan) * 100.0,
            df.get("rmse", np.nan),
        ),
        index=df.index,
    )


def _best_baselines(df: pd.DataFrame, variant_alpha: float) -> pd.Series:
    """Per (task, dataset, label_noise): the non-mixup method of lowest mean."""
    base = df[~df["method"].map(lambda m: is_mixup(m, variant_alpha))]
    means = base.groupby(["task", "dataset", "label_noise", "method"])["score"].mean()
    return means.groupby(level=[0, 1, 2]).idxmin().map(lambda key: key[3])


def paired(
    rows: list[dict],
    baseline: str = "erm",
    *,
    metric: str | None = None,
    head: dict | None = None,
) -> pd.DataFrame:
    """Each method against ``baseline`` on the same split, seeds and noise level.

    ``baseline="best"``: against the best baseline, the method with the lowest
    mean among those that do not mix, per dataset and noise level (chosen on the
    test results, which favours it). The difference per repeat is in test error
    points (%) for classification and in RMSE relative to the baseline's (%) for
    regression, or in ``metric`` itself. Returned per task, dataset, noise level
    and method: the reference, mean, 95% interval and p-value of
    :func:`corrected_t`, the Holm-adjusted p-value over the cells of each task
    (``p_holm``) and the verdict: "better" or "worse" where ``p_holm < 0.05``,
    else "tie".
    """
    df = _runs(rows)
    keys = ["task", "dataset", "label_noise", "repeat"]
    groups = ["task", "dataset", "label_noise"]
    df["score"] = _score(df, metric)
    df["ratio"] = _test_ratio(df, head)
    df = df.dropna(subset=["score"])
    if baseline == "best":
        alpha = (head or {}).get("suite", {}).get("variant_alpha", 1.0)
        best = _best_baselines(df, alpha).rename("reference")
        df = df.join(best, on=groups)
    else:
        df["reference"] = baseline
    df = df.dropna(subset=["reference"])
    ref = df[df["method"] == df["reference"]].set_index(keys)["score"]
    other = df[df["method"] != df["reference"]].join(ref.rename("base"), on=keys)
    other = other.dropna(subset=["base"])
    relative = other["task"].eq("regression") & (metric is None)
    other["diff"] = np.where(
        relative,
        100.0 * (other["score"] / other["base"] - 1.0),
        other["score"] - other["base"],
    )
    out = []
    for key, group in other.groupby([*groups, "method"], sort=False):
        mean, low, high, p = corrected_t(group["diff"], group["ratio"].mean())
        out.append((*key, group["reference"].iloc[0], mean, low, high, p, len(group)))
    columns = [*groups, "method", "reference", "mean", "low", "high", "p", "count"]
    out = pd.DataFrame(out, columns=columns)
    out["p_holm"] = np.nan
    for _, index in out.groupby("task").groups.items():
        out.loc[index, "p_holm"] = holm(out.loc[index, "p"])
    significant = out["p_holm"] < 0.05
    out["verdict"] = np.where(
        significant & (out["mean"] < 0),
        "better",
        np.where(significant & (out["mean"] > 0), "worse", "tie"),
    )
    return out


def diff_cell(row: pd.Series, fmt: str = "{:+.1f}", untested: str = "") -> str:
    """A row of :func:`paired` as a table cell: ``mean [low, high]`` and ▼/▲
    for a verdict of better/worse; with one repeat (no interval), the mean
    followed by ``untested``."""
    mark = {"better": " ▼", "worse": " ▲"}.get(row["verdict"], "")
    if math.isnan(row["low"]):
        return fmt.format(row["mean"]) + untested
    return (
        f"{fmt.format(row['mean'])} [{fmt.format(row['low'])}, "
        f"{fmt.format(row['high'])}]{mark}"
    )


def _win_tie_loss(diffs: pd.DataFrame, methods: list[str], unit: str) -> list[str]:
    """The table's last lines: per method, cells better / tied / worse."""
    lines = [
        "",
        f"| method | wins | ties | losses | {unit} |",
        "|---|---|---|---|---|",
    ]
    for m in methods:
        d = diffs[diffs["method"] == m]
        if d.empty:
            continue
        counts = d["verdict"].value_counts()
        lines.append(
            f"| `{m}` | {counts.get('better', 0)} | {counts.get('tie', 0)} | "
            f"{counts.get('worse', 0)} | {len(d)} |"
        )
    return lines


def _paired_section(
    rows: list[dict], baseline: str, methods: list[str], skipped, head: dict
) -> list[str]:
    """Tables of paired differences to ``baseline`` ("erm" or "best"), each
    ending with win/tie/loss counts."""
    diffs = paired(rows, baseline, head=head)
    lines = []
    for task, unit in (
        ("classification", "test error difference in points (%)"),
        ("regression", "test RMSE difference relative to the reference's (%)"),
    ):
        sub = diffs[diffs["task"] == task]
        cols = [m for m in methods if m in set(sub["method"])]
        if sub.empty or not cols:
            continue
        best = baseline == "best"
        name = "the best baseline" if best else f"`{baseline}`"
        lines += [
            "",
            f"## {task}: against {name}, paired by repeat",
            "",
            f"Cells: {unit}, negative: better than {name}; mean over the repeats "
            "that share the split and seeds, [95% interval of the corrected "
            "resampled t-test (Nadeau & Bengio, 2003)]. ▼/▲: better/worse after a "
            f"Holm correction over the table's {int(sub['p'].notna().sum())} "
            "tested cells (an interval that excludes 0 without a mark did not "
            "survive it); none with a single repeat."
            + (
                " The best baseline is the method that does not mix with the "
                "lowest mean test score on the dataset, chosen on the test "
                "results: a choice that favours it."
                if best
                else ""
            ),
            "",
            "| dataset | "
            + ("best baseline | " if best else "")
            + " | ".join(cols)
            + " |",
            "|" + "---|" * (len(cols) + 1 + best),
        ]
        noisy = sub["label_noise"].nunique() > 1
        for dataset, noise in sub[["dataset", "label_noise"]].drop_duplicates().values:
            here = sub[(sub["dataset"] == dataset) & (sub["label_noise"] == noise)]
            reference = here["reference"].iloc[0]
            here = here.set_index("method")
            cells = [_label(dataset, noise, noisy)]
            if best:
                cells.append(f"`{reference}`")
            for m in cols:
                if m in here.index:
                    cells.append(diff_cell(here.loc[m]))
                elif m == reference:
                    cells.append("(reference)")
                else:
                    cells.append("n/a" if _skipped(skipped, dataset, m) else "—")
            lines.append("| " + " | ".join(cells) + " |")
        lines += _win_tie_loss(sub, cols, "cells" if noisy else "datasets")
    return lines


def _skipped(skipped, dataset: str, method: str) -> bool:
    return (dataset, method) in skipped or (None, method) in skipped


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
    """What each tuned method chose on its inner folds, counted over repeats."""
    tuned = [r for r in rows if r.get("kind") == "run" and r.get("best_params")]
    tuned += [
        r | {"best_params": {"alpha": r["alpha"]}}
        for r in rows
        if r.get("method") == "mixup-cv" and "best_params" not in r
    ]  # results written before best_params was recorded
    if not tuned:
        return []
    lines = ["", "### settings chosen by inner cross-validation (count per repeat)"]
    df = pd.DataFrame(tuned)
    df["chosen"] = df["best_params"].map(
        lambda p: ", ".join(f"{k}={v:g}" for k, v in sorted(p.items()))
    )
    for method, by_method in df.groupby("method", sort=False):
        lines += ["", f"`{method}`:", "", "| dataset | chosen |", "|---|---|"]
        for dataset, group in by_method.groupby("dataset", sort=False):
            counts = group["chosen"].value_counts().sort_index()
            lines.append(
                f"| {dataset} | "
                + "; ".join(f"{c} ×{n}" for c, n in counts.items())
                + " |"
            )
    return lines


def _provenance(head: dict) -> list[str]:
    """The report's first lines about the code that ran."""
    revision = head.get("skmixup_source")
    if head.get("dirty"):
        return [
            f"**Dirty tree: run with `--allow-dirty` on uncommitted changes to "
            f"{revision}; no commit reproduces these numbers.**",
            "",
        ]
    if revision is None:
        return ["Source revision: not recorded.", ""]
    return [f"Source revision: {revision}.", ""]


def cpu_counts(rows: list[dict]) -> Counter:
    """How many of ``rows`` ran on each CPU, in the order of the file (the
    machines in the order they ran); "not recorded" for runs written before runs
    recorded their CPU. Float results follow the CPU's kernel path."""
    return Counter(r.get("cpu", "not recorded") for r in rows)


def _machines(rows: list[dict]) -> list[str]:
    """Which CPUs ran the runs, with counts: a suite resumed on another machine
    mixes them. Nothing for results written before runs recorded their CPU."""
    cpus = cpu_counts(rows)
    if set(cpus) == {"not recorded"}:
        return []
    text = "; ".join(f"{cpu} ({n} run{'s' if n != 1 else ''})" for cpu, n in
                     cpus.items())  # fmt: skip
    return [f"Ran on: {text}.", ""]


def _reasons(head: dict) -> list[str]:
    """Why the n/a cells are empty, one line per reason."""
    reasons: dict[str, list[str]] = {}
    for s in head.get("skipped", ()):
        if "method" in s:
            reasons.setdefault(s["reason"], []).append(s["method"])
    return [
        f"n/a: {', '.join(sorted(set(methods)))}: {reason}; not run."
        for reason, methods in reasons.items()
    ]


def markdown(rows: list[dict], head: dict) -> str:
    """The report: a table per metric, paired comparisons with ERM and the best
    baseline (each ending with win/tie/loss counts), chosen settings."""
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
        *_provenance(head),
        *_machines(rows),
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
        + ". Each metric table ends with wins/ties/losses against `erm` on that "
        "metric (corrected resampled t-test, Holm over the table's cells).  ",
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
        t_rows = [r for r in rows if r.get("task") == task]
        for metric, title, scale, fmt in specs:
            spread = "se" if "standard error" in title else "std"
            refs = published if metric in ("error", "rmse") else {}
            lines += ["", f"## {task}: {title}", ""]
            lines += _table(
                t_stats, metric, scale, fmt, methods, refs, spread, skipped, noisy
            )
            if metric not in ("fit_seconds", "predict_seconds") and "erm" in methods:
                # The main metrics as the paired sections test them.
                main = None if metric in ("error", "rmse") else metric
                diffs = paired(t_rows, "erm", metric=main, head=head)
                others = [m for m in methods if m != "erm"]
                lines += _win_tie_loss(diffs, others, "vs `erm`: cells")
    lines += ["", *_reasons(head)] if skipped else []
    lines += _noise_rates(rows)
    for baseline in ("erm", "best"):
        if baseline == "erm" and "erm" not in methods:
            continue
        lines += _paired_section(rows, baseline, methods, skipped, head)
    if any(m.partition("@")[0] in VARIANTS for m in methods) and not noisy:
        # The variants' own alpha, for the ablation.
        plain = f"mixup-{suite.get('variant_alpha', 1.0)}"
        if plain in methods:
            lines += _paired_section(rows, plain, methods, skipped, head)
    lines += _chosen_alphas(rows)
    return "\n".join(lines) + "\n"


_DPI = 150


def _grid(plt, n: int, height: float = 2.8):
    """A grid of ``n`` panels, three a row; one panel is still a readable size."""
    n_cols = min(3, n)
    n_rows = math.ceil(n / n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(max(6.4, 3.6 * n_cols), max(4.2, height * n_rows + 0.8)),
        squeeze=False,
    )
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def _colours(methods: list[str]) -> dict[str, tuple]:
    """One colour per method, in the suite's order; ERM grey, baselines after
    the mixup methods so that none shares a mixup method's colour."""
    import matplotlib

    mixup = [m for m in methods if m != "erm" and is_mixup(m)]
    other = [m for m in methods if m != "erm" and not is_mixup(m)]
    palette = matplotlib.colormaps["tab20"].colors
    # tab20's even entries first: strong colours before their light twins, and
    # tab20's greys (14, 15) kept for ERM.
    order = [i for i in (*range(0, 20, 2), *range(1, 20, 2)) if i not in (14, 15)]
    colours = {"erm": palette[14]}
    for i, m in enumerate(mixup + other):
        colours[m] = palette[order[i % len(order)]]
    return colours


def _legend(fig, colours: dict[str, tuple], methods: list[str]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[m], label=m) for m in methods if m in colours]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 5),
        fontsize=7,
        frameon=False,
    )


def _lower(mean, spread):
    """Error bars that stop at 0: an error or RMSE is never negative."""
    mean, spread = np.asarray(mean, dtype=float), np.asarray(spread, dtype=float)
    return np.vstack([np.minimum(spread, np.maximum(mean, 0)), spread])


def _noise_curves(plt, stats: pd.DataFrame, out_dir: Path) -> Path:
    """Test error against the share of corrupted training labels, per method."""
    main = stats[stats["metric"] == "error"]
    datasets = list(main["dataset"].unique())
    colours = _colours(list(main["method"].unique()))
    fig, axes = _grid(plt, len(datasets), 3.0)
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = main[main["dataset"] == dataset]
        for method, curve in sub.groupby("method", sort=False):
            ax.errorbar(
                curve["label_noise"] * 100,
                curve["mean"] * 100,
                yerr=_lower(curve["mean"] * 100, curve["se"] * 100),
                marker="o",
                markersize=3,
                capsize=2,
                color=colours[method],
                label=method,
                linestyle="--" if method.startswith("dropout") else "-",
            )
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("training labels corrupted (%)", fontsize=8)
        ax.set_ylabel("clean test error (%)", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=6)
    fig.suptitle("test error vs label noise: mean ± standard error", fontsize=10)
    fig.tight_layout()
    path = out_dir / "noise_curve.png"
    fig.savefig(path, dpi=_DPI)
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
    verdict_colour = {"better": "#3a7", "worse": "#c44", "tie": "#999"}
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = diffs[diffs["dataset"] == dataset]
        y = np.arange(len(sub))
        # One repeat has no interval: a bar without whiskers.
        low = (sub["mean"] - sub["low"]).fillna(0.0)
        high = (sub["high"] - sub["mean"]).fillna(0.0)
        ax.barh(
            y,
            sub["mean"],
            xerr=np.vstack([low, high]),
            capsize=2,
            color=[verdict_colour[v] for v in sub["verdict"]],
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
    _legend(
        fig,
        {
            "better than ERM": verdict_colour["better"],
            "worse": verdict_colour["worse"],
            "tie": verdict_colour["tie"],
        },
        ["better than ERM", "worse", "tie"],
    )
    fig.suptitle(
        "each method minus ERM, paired by repeat: mean and 95% interval of the "
        "corrected resampled t-test (colour: verdict after Holm)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 0.98))
    path = out_dir / "variants_vs_erm.png"
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def plots(
    rows: list[dict], out_dir: Path, methods: list[str] | None = None
) -> list[Path]:
    """``erm_vs_mixup.png`` and ``alpha_curve.png`` (when there is a curve of
    three alphas or more); ``variants_vs_erm.png`` when variants ran; only
    ``noise_curve.png`` for a label-noise suite. Methods are drawn in the order
    of ``methods`` (the suite's), if given, each in a colour of its own."""
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
    present = list(dict.fromkeys([*(methods or []), *main["method"]]))
    colours = _colours([m for m in present if m in set(main["method"])])
    fig, axes = _grid(plt, len(datasets))
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        sub = main[main["dataset"] == dataset]
        scale = 100.0 if sub["metric"].iloc[0] == "error" else 1.0
        ax.bar(
            range(len(sub)),
            sub["mean"] * scale,
            yerr=_lower(sub["mean"] * scale, sub["std"] * scale),
            capsize=3,
            color=[colours[m] for m in sub["method"]],
        )
        ax.set_xticks(range(len(sub)), sub["method"], rotation=45, ha="right")
        ax.set_title(dataset, fontsize=9)
        ax.set_ylabel("error (%)" if scale == 100 else "RMSE", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
    _legend(fig, colours, list(colours))
    fig.suptitle("test error or RMSE: mean ± std over repeats", fontsize=10)
    n_legend_rows = math.ceil(len(colours) / 5)
    fig.tight_layout(rect=(0, 0.035 * n_legend_rows + 0.02, 1, 1))
    written.append(out_dir / "erm_vs_mixup.png")
    fig.savefig(written[-1], dpi=_DPI)
    plt.close(fig)

    curves = _alpha_curves(rows)
    if curves:
        fig, axes = _grid(plt, len(datasets), 2.6)
        for ax, dataset in zip(axes.flat, datasets, strict=False):
            if dataset not in curves:
                ax.axis("off")
                continue
            label, curve = curves[dataset]
            ax.errorbar(
                curve.index,
                curve["mean"],
                yerr=_lower(curve["mean"], curve["std"]),
                marker="o",
                capsize=2,
            )
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_title(dataset, fontsize=9)
            ax.set_xlabel("alpha", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
        fig.suptitle("error against alpha (alpha = 0 is ERM): mean ± std", fontsize=10)
        fig.tight_layout()
        written.append(out_dir / "alpha_curve.png")
        fig.savefig(written[-1], dpi=_DPI)
        plt.close(fig)
    return written


def _alpha_curves(rows: list[dict]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per dataset: test error vs the fixed alphas run, else inner-CV loss of the
    alpha search."""
    runs = pd.DataFrame([r for r in rows if r.get("kind") == "run"])
    curves = {}
    for dataset, group in runs.groupby("dataset", sort=False):
        metric = "error" if group["task"].iloc[0] == "classification" else "rmse"
        scale = 100.0 if metric == "error" else 1.0
        fixed = group[group["method"].map(method_alpha).notna()]
        search = group[group["method"].isin(["mixup-cv", "mixup-grid"])]
        if "cv" in search:
            search = search[search["cv"].notna()]
        if fixed["method"].nunique() >= 3:  # two points are no curve
            curve = fixed.groupby("alpha")[metric].agg(["mean", "std"]) * scale
            label = "test error (%)" if scale == 100 else "test RMSE"
        elif "cv" in search and len(search):
            search = search[search["method"] == search["method"].iloc[0]]
            # Inner-CV error (classification); 1 - R^2, or RMSE in results
            # written before cv_metric was recorded (regression).
            cv_metric = search["cv_metric"].iloc[0] if "cv_metric" in search else None
            cv = pd.DataFrame(list(search["cv"])).astype(float)
            cv.columns = [float(c) for c in cv.columns]
            if scale == 100:
                cv, label = cv * 100, "inner-CV error (%)"
            else:
                label = "inner-CV 1 - R²" if cv_metric == "1-r2" else "inner-CV RMSE"
            curve = pd.DataFrame({"mean": cv.mean(), "std": cv.std()})
        else:
            continue
        curves[dataset] = (label, curve.fillna(0.0).sort_index())
    return curves
