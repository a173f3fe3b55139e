"""Runs: one (dataset, method, repeat) each, executed locally or on Dask.

Every finished run becomes one JSON line in the results file, written whole with
one ``write`` and made durable with ``fsync``, so a run killed at any moment
(even by SIGKILL) loses no finished row; at worst the last line is cut short, and
:meth:`ResultsFile.read` drops such a tail before resuming.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import datasets
from .suites import (
    GRIDS,
    ONE_HOT_FROM_ENCODER,
    Suite,
    applies,
    method_alpha,
    missing_package,
    skmixup_params,
)

__all__ = [
    "PROTOCOL",
    "SOURCE_PATHS",
    "Context",
    "ResultsFile",
    "Run",
    "changed_source",
    "commit_of",
    "corrupt_labels",
    "cpu_name",
    "execute",
    "header",
    "plan",
    "run_all",
    "run_seeds",
    "skipped",
    "source_revision",
]

# The version of how runs are made (splits, seeds, searches): results files of
# another version are not resumed. 2: separate split and model seeds,
# mixup-cv through MixupClassifierCV / MixupRegressorCV.
PROTOCOL = 2


@dataclass(frozen=True)
class Run:
    dataset: str  # full spec, e.g. "uci:iris"
    method: str
    repeat: int
    noise: float = 0.0  # share of training labels replaced (Suite.label_noise)

    @property
    def key(self) -> str:
        key = f"{self.dataset}|{self.method}|{self.repeat}"
        return f"{key}|noise={self.noise:g}" if self.noise else key


@dataclass(frozen=True)
class Context:
    """What every run needs besides the suite; picklable for workers."""

    seed: int = 0
    data_dir: str | None = None
    openml_cache: str | None = None
    device: str = "auto"
    torch_threads: int = 1


def run_seeds(seed: int, repeat: int) -> tuple[int, int]:
    """The seeds of repeat ``repeat``: of its split, and of every model's
    ``random_state`` and inner folds.

    Two streams, so that changing how models draw leaves the splits as they were
    (the split seed is the one a single seed had before).
    """
    split = np.random.SeedSequence([seed, repeat]).generate_state(1)[0] >> 1
    model = np.random.SeedSequence([seed, repeat, 1]).generate_state(1)[0] >> 1
    return int(split), int(model)


def _n_test(ds: datasets.Dataset, test_size: float) -> int:
    """Rows in the test part of the dataset's first split."""
    if ds.splits:
        return len(ds.splits[0][1])
    return math.ceil(test_size * len(ds.y))  # as train_test_split rounds


def _noise_levels(suite: Suite, task: str) -> tuple[float, ...]:
    levels = suite.label_noise or (0.0,)
    return levels if task == "classification" else tuple(x for x in levels if not x)


def plan(suite: Suite, specs: Iterable[str], ctx: Context) -> list[Run]:
    """Every run of ``suite`` on ``specs`` (loading each dataset to count splits).

    Methods defined for the other task, and label noise on regression sets, are
    left out; :func:`skipped` lists them.
    """
    runs = []
    for spec in specs:
        ds = datasets.load(spec, ctx.data_dir, ctx.openml_cache)
        methods = [
            m for m in suite.methods if applies(m, ds.task) and not missing_package(m)
        ]
        levels = _noise_levels(suite, ds.task)
        protocol = suite.for_task(ds.task)
        n_test = _n_test(ds, protocol.test_size)
        for repeat in range(protocol.n_repeats(spec, len(ds.splits), n_test)):
            runs.extend(
                Run(spec, m, repeat, noise) for noise in levels for m in methods
            )
    return runs


def skipped(suite: Suite, specs: Iterable[str], ctx: Context) -> list[dict]:
    """What :func:`plan` leaves out, and why: the report's "n/a" cells."""
    out = []
    for method in suite.methods:
        package = missing_package(method)
        if package:
            out.append(
                {
                    "dataset": None,
                    "method": method,
                    "reason": f"{package} is not installed (pip install "
                    '"skmixup[peers]")',
                }
            )
    for spec in specs:
        ds = datasets.load(spec, ctx.data_dir, ctx.openml_cache)
        short = spec.split(":", 1)[1]
        for method in suite.methods:
            if not applies(method, ds.task):
                out.append(
                    {
                        "dataset": short,
                        "method": method,
                        "reason": f"not defined for {ds.task}",
                    }
                )
        for noise in suite.label_noise:
            if noise not in _noise_levels(suite, ds.task):
                out.append(
                    {
                        "dataset": short,
                        "label_noise": noise,
                        "reason": "label noise is for classification",
                    }
                )
    return out


def corrupt_labels(
    y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``y`` with ``round(fraction * len(y))`` labels replaced by a random class.

    As in Zhang et al. (2018), Sec. 3.4 (after Zhang et al. 2017's code), a chosen
    label is redrawn uniformly from all classes of ``y``, so it may come back
    unchanged: the share of wrong labels is about ``fraction * (1 - 1/K)``. Which
    rows are chosen and what they draw depend on ``seed`` only, so levels are
    nested (the rows corrupted at 20% are corrupted alike at 50%) and every method
    of a repeat trains on the same labels. Returns the labels and the chosen rows.
    """
    # A stream of its own, so the split and the models' seeds stay as they were.
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E6F697365]))
    classes = np.unique(y)
    order = rng.permutation(len(y))
    draws = classes[rng.integers(len(classes), size=len(y))]
    chosen = np.sort(order[: round(fraction * len(y))])
    noisy = y.copy()
    noisy[chosen] = draws[chosen]
    return noisy, chosen


# -- one run -----------------------------------------------------------------------


def _preprocessor(standardize: bool):
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        *([StandardScaler()] if standardize else []),
    )
    categorical = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return make_column_transformer(
        (numeric, make_column_selector(dtype_include="number")),
        (categorical, make_column_selector(dtype_exclude="number")),
    )


def _folds(task: str, suite: Suite, seed: int):
    """The inner folds every tuned method of a run searches on."""
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = StratifiedKFold if task == "classification" else KFold
    return cls(suite.cv, shuffle=True, random_state=seed)


def _estimator(method: str, task: str, suite: Suite, epochs: int, seed: int, ctx):
    """The unfitted model (for a grid search: the one the search clones)."""
    from sklearn import ensemble, neural_network

    from skmixup import (
        MixupClassifier,
        MixupClassifierCV,
        MixupRegressor,
        MixupRegressorCV,
    )

    clf = task == "classification"
    common = {
        "hidden_layer_sizes": suite.hidden_layer_sizes,
        "max_epochs": epochs,
        "batch_size": suite.batch_size,
        "lr": suite.lr,
        "device": ctx.device,
        "random_state": seed,
    }
    params = skmixup_params(method, suite.variant_alpha, epochs, task)
    if params is not None:
        return (MixupClassifier if clf else MixupRegressor)(**params, **common)
    if method == "mixup-cv":
        return (MixupClassifierCV if clf else MixupRegressorCV)(
            alphas=suite.alpha_grid, cv=_folds(task, suite, seed), **common
        )
    if method in ("mixup-grid", "dropout-cv"):
        return (MixupClassifier if clf else MixupRegressor)(alpha=0.0, **common)
    if method == "erm-wd-es":
        return (MixupClassifier if clf else MixupRegressor)(
            alpha=0.0, early_stopping=True, **common
        )
    if method in ("sklearn-mlp", "sklearn-mlp-cv"):
        cls = neural_network.MLPClassifier if clf else neural_network.MLPRegressor
        return cls(
            hidden_layer_sizes=suite.hidden_layer_sizes,
            batch_size=suite.batch_size,
            learning_rate_init=suite.lr,
            max_iter=epochs,
            random_state=seed,
        )
    if method in ("hgb", "hgb-cv"):
        cls = (
            ensemble.HistGradientBoostingClassifier
            if clf
            else ensemble.HistGradientBoostingRegressor
        )
        return cls(random_state=seed)
    if method in ("realmlp", "tabm", "xgboost-cv"):
        from . import peers

        return peers.estimator(method, task, seed, ctx.device)
    raise ValueError(f"unknown method {method!r}")


def _search(method: str, pipeline, task: str, suite: Suite, seed: int):
    """``pipeline`` as ``method`` fits it: itself, or a grid search over its last
    step on the run's inner folds, scored as the CV estimators score (accuracy or
    R^2: each estimator's default ``score``)."""
    from sklearn.model_selection import GridSearchCV

    if method not in GRIDS:
        return pipeline
    grid = GRIDS[method] or {"alpha": suite.alpha_grid}
    step, last = pipeline.steps[-1]
    if hasattr(last, "estimator"):  # a wrapper (peers.LabelEncoded): its inner one
        step = f"{step}__estimator"
    return GridSearchCV(
        pipeline,
        {f"{step}__{name}": list(values) for name, values in grid.items()},
        cv=_folds(task, suite, seed),
    )


def _tuning(method: str, model, clf: bool) -> dict:
    """What a tuned method chose, and its inner-CV loss (1 - score) per choice."""
    if method == "mixup-cv":
        search = model.steps[-1][1]
        chosen = {"alpha": float(search.alpha_)}
        candidates = [{"alpha": a} for a in search.alphas]
        scores = search.cv_results_["mean_test_score"]
    elif method in GRIDS:
        chosen = {k.rpartition("__")[2]: v for k, v in model.best_params_.items()}
        candidates = [
            {k.rpartition("__")[2]: v for k, v in c.items()}
            for c in model.cv_results_["params"]
        ]
        scores = model.cv_results_["mean_test_score"]
    else:
        return {}
    out: dict = {"best_params": chosen, "cv_metric": "error" if clf else "1-r2"}
    if list(candidates[0]) == ["alpha"] and method.startswith("mixup-"):
        out["alpha"] = chosen["alpha"]
        out["cv"] = {
            str(c["alpha"]): float(1 - s)
            for c, s in zip(candidates, scores, strict=True)
        }
    else:
        out["cv"] = {
            ", ".join(f"{k}={v:g}" for k, v in c.items()): float(1 - s)
            for c, s in zip(candidates, scores, strict=True)
        }
    return out


def _split(ds: datasets.Dataset, repeat: int, seed: int, test_size: float):
    from sklearn.model_selection import train_test_split

    if ds.splits:
        train, test = ds.splits[repeat]
        return train, test, "predefined"
    index = np.arange(len(ds.y))
    if ds.task == "classification":
        try:
            train, test = train_test_split(
                index, test_size=test_size, random_state=seed, stratify=ds.y
            )
            return train, test, "stratified"
        except ValueError:  # a class with a single row cannot be stratified
            pass
    train, test = train_test_split(index, test_size=test_size, random_state=seed)
    return train, test, "random"


def _classification_metrics(y_test, proba, classes, all_classes) -> dict:
    """Error, log-loss and expected calibration error (15 equal-width bins)."""
    full = np.zeros((len(y_test), len(all_classes)))
    full[:, np.searchsorted(all_classes, classes)] = proba
    true = np.searchsorted(all_classes, y_test)
    pred = full.argmax(axis=1)
    correct = pred == true
    p_true = np.clip(full[np.arange(len(true)), true], 1e-15, 1.0)
    confidence = full.max(axis=1)
    bins = np.minimum((confidence * 15).astype(int), 14)
    ece = sum(
        abs(correct[bins == b].mean() - confidence[bins == b].mean())
        * (bins == b).mean()
        for b in np.unique(bins)
    )
    return {
        "error": float(1.0 - correct.mean()),
        "log_loss": float(-np.log(p_true).mean()),
        "ece": float(ece),
    }


_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 0
_pools_limiter = None


@contextmanager
def _run_threads(n: int) -> Iterator[None]:
    """Run torch, OpenMP and BLAS on ``n`` threads inside the block, then restore
    the caller's counts.

    The counts are process-wide, and with n_jobs=1 (or Dask workers that are
    threads) runs execute in the caller's process: a user calling
    :func:`skmixup.bench.cli.main` from Python must keep their setting. Blocks may
    overlap in threads; the counts taken by the first are restored by the last.
    Without the OpenMP limit, a baseline such as gradient boosting runs on
    every core in the caller's process, and on a machine whose cores are busy
    with other work its threads wait for each other: a fit that takes seconds
    on one thread took minutes. (Worker processes of joblib's default backend
    already run one OpenMP thread each.)
    """
    import torch
    from threadpoolctl import threadpool_limits

    global _threads_users, _threads_before, _pools_limiter
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            _pools_limiter = threadpool_limits(limits=n)
        _threads_users += 1
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_before)
                _pools_limiter.restore_original_limits()
                _pools_limiter = None


def execute(run: Run, suite: Suite, ctx: Context) -> dict:
    """Fit and score one run; the returned dict is its results row."""
    with _run_threads(ctx.torch_threads):
        return _execute(run, suite, ctx)


def _one_hot_blocks(pipeline, X_train) -> None:
    """Give ``categorical_groups=ONE_HOT_FROM_ENCODER`` the one-hot blocks of the
    pipeline's preprocessor fitted on ``X_train`` (the pipeline's own fit then
    encodes the same columns): None when the data have no categorical column."""
    from sklearn.base import clone

    from skmixup import one_hot_groups

    estimator = pipeline.steps[-1][1]
    if getattr(estimator, "categorical_groups", None) != ONE_HOT_FROM_ENCODER:
        return
    groups = one_hot_groups(clone(pipeline.steps[0][1]).fit(X_train))
    estimator.set_params(categorical_groups=groups or None)


def _execute(run: Run, suite: Suite, ctx: Context) -> dict:
    from sklearn.pipeline import make_pipeline

    ds = datasets.load(run.dataset, ctx.data_dir, ctx.openml_cache)
    suite = suite.for_task(ds.task)
    split_seed, model_seed = run_seeds(ctx.seed, run.repeat)
    train, test, split_kind = _split(ds, run.repeat, split_seed, suite.test_size)
    epochs = suite.epochs(len(train))
    model = make_pipeline(
        _preprocessor(suite.standardize),
        _estimator(run.method, ds.task, suite, epochs, model_seed, ctx),
    )
    clf = ds.task == "classification"
    X_train, X_test = ds.X.iloc[train], ds.X.iloc[test]
    y_train, y_test = ds.y[train], ds.y[test]
    _one_hot_blocks(model, X_train)
    model = _search(run.method, model, ds.task, suite, model_seed)
    clean_train = y_train
    if run.noise:
        y_train, _ = corrupt_labels(y_train, run.noise, split_seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        out = model.predict_proba(X_test) if clf else model.predict(X_test)
        predict_seconds = time.perf_counter() - start
    row: dict = {
        "kind": "run",
        "key": run.key,
        "suite": suite.name,
        "dataset": run.dataset.split(":", 1)[1],
        "spec": run.dataset,
        "task": ds.task,
        "method": run.method,
        "repeat": run.repeat,
        "split_seed": split_seed,
        "model_seed": model_seed,
        "split": split_kind,
        "n_train": len(train),
        "n_test": len(test),
        "n_features": ds.X.shape[1],
        "epochs": epochs,
        "alpha": method_alpha(run.method),
    }
    params = skmixup_params(run.method, suite.variant_alpha, epochs, ds.task)
    if params is not None:
        # The estimator parameters the method sets; an infinite alpha (lambda
        # fixed at 0.5) is written as a string, since JSON has no infinity.
        row["alpha"] = params["alpha"] if math.isfinite(params["alpha"]) else None
        row["params"] = {
            k: (v if not isinstance(v, float) or math.isfinite(v) else str(v))
            for k, v in params.items()
        }
    if clf:
        row.update(
            _classification_metrics(y_test, out, model.classes_, np.unique(ds.y))
        )
        if suite.label_noise:
            row["label_noise"] = run.noise
            # The share of training labels that differ from the clean ones.
            row["noise_rate"] = float(np.mean(y_train != clean_train))
            # Memorisation: error on the labels trained on, and on the clean ones.
            fitted = model.predict(X_train)
            row["train_error"] = float(np.mean(fitted != y_train))
            row["train_clean_error"] = float(np.mean(fitted != clean_train))
    else:
        row["rmse"] = float(np.sqrt(np.mean((out - y_test) ** 2)))
        row["mae"] = float(np.mean(np.abs(out - y_test)))
    row.update(_tuning(run.method, model, clf))
    row["fit_seconds"] = round(fit_seconds, 4)
    row["predict_seconds"] = round(predict_seconds, 4)
    row["warnings"] = sorted(
        {f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught}
    )
    row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # Float results depend on the CPU's kernel path (MKL, ATen): a suite resumed
    # on another machine says which runs ran where.
    row["cpu"] = cpu_name()
    return row


def _safe_execute(run: Run, suite: Suite, ctx: Context) -> dict:
    """:func:`execute`, with a failure reported as a row of kind "error"."""
    try:
        return execute(run, suite, ctx)
    except Exception as exc:
        return {
            "kind": "error",
            "key": run.key,
            "error": f"{type(exc).__name__}: {exc}",
        }


# -- backends ----------------------------------------------------------------------


def run_all(
    runs: list[Run],
    suite: Suite,
    ctx: Context,
    *,
    n_jobs: int = 1,
    backend: str = "joblib",
    scheduler: str | None = None,
) -> Iterator[dict]:
    """Rows of ``runs`` in the order they finish."""
    if not runs:
        return
    if backend == "dask":
        yield from _run_dask(runs, suite, ctx, n_jobs, scheduler)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    yield from parallel(delayed(_safe_execute)(r, suite, ctx) for r in runs)


def _run_dask(runs, suite, ctx, n_jobs, scheduler) -> Iterator[dict]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise RuntimeError(
            "--backend dask needs dask.distributed: pip install 'skmixup[dask]'."
        ) from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=max(1, n_jobs), threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [
            client.submit(_safe_execute, r, suite, ctx, pure=False) for r in runs
        ]
        for future in as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- the results file -------------------------------------------------------------


class ResultsFile:
    """An append-only JSON-lines file: header lines, then one line per run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self, *, repair: bool = False) -> list[dict]:
        """All complete records; with ``repair``, cut off a partial last line."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data) and repair:
            # A run killed while writing leaves a line without its newline.
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        return [json.loads(line) for line in data[:end].splitlines() if line.strip()]

    def append(self, record: dict) -> None:
        """Write ``record`` as one complete line, durably."""
        line = (json.dumps(record, sort_keys=False) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            while written < len(line):  # regular files write whole; be safe
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            os.close(fd)


def header(suite: Suite, ctx: Context, command: list[str], specs: list[str]) -> dict:
    """The first record of a results file: configuration and package versions."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in (
        "skmixup", "scikit-learn", "torch", "skorch", "numpy", "pandas", "scipy",
        "joblib", "dask", "distributed", "openml",
    ):  # fmt: skip
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    import platform

    revision, dirty = source_revision()
    return {
        "kind": "header",
        "protocol": PROTOCOL,
        "command": command,
        "suite": suite.as_dict(),
        "datasets": specs,
        "context": asdict(ctx),
        "versions": versions,
        "skmixup_source": revision,
        "dirty": dirty,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


# What decides the numbers: the package and its declared dependencies. Results
# written into the checkout (benchmarks/results/) do not make a tree dirty, so a
# committed suite can be resumed in place.
SOURCE_PATHS = (
    "skmixup",
    "pyproject.toml",
    # What only reads results files: a fix to a table or the summary page
    # changes no number, so it neither dirties a run nor dates its results.
    ":(exclude)skmixup/bench/report.py",
    ":(exclude)skmixup/bench/summarize.py",
)


def source_revision(root: Path | None = None) -> tuple[str | None, bool | None]:
    """``git describe --always`` of the source checkout and whether its package
    source has changes (tracked or untracked, ``-dirty`` in the revision);
    ``(None, None)`` outside a git checkout, as for an installed package."""
    import subprocess

    root = Path(__file__).resolve().parents[2] if root is None else Path(root)
    if not (root / ".git").exists():
        return None, None

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()

    try:
        revision = git("describe", "--always")
        dirty = bool(git("status", "--porcelain", "--", *SOURCE_PATHS))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return (revision + "-dirty" if dirty else revision) or None, dirty


def commit_of(revision: str) -> str:
    """The commit of a ``git describe --always`` output (``-dirty`` dropped)."""
    revision = revision.removesuffix("-dirty")
    match = re.search(r"-g([0-9a-f]{4,40})$", revision)
    return match.group(1) if match else revision


def changed_source(
    old: str | None, new: str | None, root: Path | None = None
) -> str | None:
    """Why runs made at source revision ``old`` cannot be continued at ``new``,
    or None when the package source of both is the same (or either is unknown:
    an installed package records no revision).

    Revisions are :func:`source_revision` strings of the checkout at ``root``;
    a dirty one matches only itself, since no commit holds its source.
    """
    import subprocess

    if old is None or new is None or old == new:
        return None
    if old.endswith("-dirty") or new.endswith("-dirty"):
        return f"{old} and {new} differ, and uncommitted changes cannot be compared"
    root = Path(__file__).resolve().parents[2] if root is None else Path(root)
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "diff", "--quiet", commit_of(old),
             commit_of(new), "--", *SOURCE_PATHS],
            capture_output=True,
            timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return f"git cannot compare {old} with {new}"
    if done.returncode == 0:
        return None
    if done.returncode == 1:
        return f"the package source of {old} differs from {new}'s"
    return f"{old} is not a commit of this checkout"


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` says."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def fingerprint(record: dict) -> dict:
    """What must match to resume: the protocol, not its wording, datasets or repeats."""
    # from_dict fills fields added since the record was written with defaults.
    suite = Suite.from_dict(record["suite"]).as_dict()
    ignored = ("description", "datasets", "repeats", "small_test_repeats")
    suite = {k: v for k, v in suite.items() if k not in ignored}
    suite["task_settings"] = {
        task: {k: v for k, v in settings.items() if k not in ignored}
        for task, settings in suite["task_settings"].items()
    }
    # JSON turns tuples into lists; compare in that form. Files written before
    # the protocol was recorded are version 1.
    return json.loads(
        json.dumps(
            {
                "suite": suite,
                "seed": record["context"]["seed"],
                "protocol": record.get("protocol", 1),
            }
        )
    )
