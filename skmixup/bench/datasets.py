"""The dataset registry: scikit-learn's bundled sets, local UCI files, OpenML.

A dataset is named by a spec ``"source:name"``:

* ``sklearn:iris``, ``sklearn:wine``, ``sklearn:breast_cancer``, ``sklearn:digits``,
  ``sklearn:diabetes``: bundled with scikit-learn, always offline;
* ``synthetic:classification``, ``synthetic:regression``: tiny generated sets for
  smoke tests;
* ``uci:<name>``: files in a folder laid out like ``shared/data`` (``--data-dir``),
  found through its ``manifest.json``;
* ``openml:<name or id>``: through the openml package and its cache.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "BUILTIN",
    "LOCAL_CLASSIFICATION",
    "LOCAL_REGRESSION",
    "Dataset",
    "DatasetError",
    "load",
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

# -- local UCI files (a folder like shared/data) ---------------------------------

# Our short name -> the dataset id in manifest.json.
LOCAL_CLASSIFICATION = {
    "abalone": "abalone",
    "arcene": "arcene",
    "arrhythmia": "arrhythmia",
    "htru2": "htru2",
    "iris": "iris",
    "phishing": "phishing_websites",
}
LOCAL_REGRESSION = {
    "boston": "bostonHousing",
    "concrete": "concrete",
    "energy": "energy",
    "kin8nm": "kin8nm",
    "naval": "naval-propulsion-plant",
    "power": "power-plant",
    "protein": "protein-tertiary-structure",
    "wine-red": "wine-quality-red",
    "yacht": "yacht",
}


def _local_files(data_dir: Path, manifest_id: str) -> dict[str, Path]:
    """File name -> path for one manifest entry, checking that each file exists."""
    manifest_path = data_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DatasetError(
            f"--data-dir {data_dir} has no manifest.json; point it to a folder laid "
            "out like shared/data (with manifest.json and uci_* subfolders)."
        )
    manifest = json.loads(manifest_path.read_text())
    entries = [d for d in manifest.get("datasets", []) if d.get("id") == manifest_id]
    if not entries:
        raise DatasetError(f"{manifest_path} lists no dataset {manifest_id!r}.")
    files = {}
    for entry in entries[0]["files"]:
        path = data_dir / entry["path"]
        if not path.is_file():
            raise DatasetError(f"{path} is listed in {manifest_path} but missing.")
        files[path.name] = path
    return files


def _arff(path: Path) -> pd.DataFrame:
    """A small ARFF reader for numeric/nominal-number attributes (no quoting)."""
    names, rows, in_data = [], [], False
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if in_data:
                rows.append([float(v) for v in line.split(",")])
            elif line.lower().startswith("@attribute"):
                names.append(line.split()[1])
            elif line.lower().startswith("@data"):
                in_data = True
    return pd.DataFrame(rows, columns=names)


def _load_local(name: str, data_dir: Path) -> Dataset:
    if name in LOCAL_REGRESSION:
        return _load_uci_regression(name, data_dir)
    files = _local_files(data_dir, LOCAL_CLASSIFICATION[name])
    note = ""
    if name == "abalone":
        df = pd.read_csv(files["abalone.data.gz"], header=None)
        df[0] = df[0].astype("category")  # Sex: M/F/I, one-hot encoded later
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
        note = "Rings as 28 classes; Sex one-hot encoded"
    elif name == "arcene":
        parts = [
            np.loadtxt(files[f"arcene_{s}.data.gz"], dtype=np.float64)
            for s in ("train", "valid")
        ]
        labels = [
            np.loadtxt(files[f"arcene_{s}.labels"], dtype=np.int64)
            for s in ("train", "valid")
        ]
        X = pd.DataFrame(np.vstack(parts)).rename(columns=str)
        y = np.concatenate(labels)
        note = "train+valid, 200 labelled rows, 10,000 features"
    elif name == "arrhythmia":
        df = pd.read_csv(files["arrhythmia.data.gz"], header=None, na_values="?")
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
        note = "'?' as missing, median-imputed"
    elif name == "htru2":
        df = pd.read_csv(files["HTRU_2.csv.gz"], header=None)
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
    elif name == "iris":
        df = pd.read_csv(files["bezdekIris.data"], header=None)
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
        note = "bezdekIris.data (UCI's corrected file)"
    else:  # phishing
        df = _arff(files["phishing_websites_training_dataset.arff.gz"])
        X, y = df.drop(columns="Result"), df["Result"].to_numpy().astype(np.int64)
    X = X.rename(columns=str)
    return Dataset(name, "classification", X, y, note=note)


def _load_uci_regression(name: str, data_dir: Path) -> Dataset:
    files = _local_files(data_dir, LOCAL_REGRESSION[name])
    data = np.loadtxt(files["data.txt.gz"])
    features = np.atleast_1d(np.loadtxt(files["index_features.txt"], dtype=np.int64))
    target = int(np.loadtxt(files["index_target.txt"], dtype=np.int64))
    n_splits = int(np.loadtxt(files["n_splits.txt"], dtype=np.int64))
    splits = tuple(
        (
            np.loadtxt(files[f"index_train_{i}.txt.gz"], dtype=np.int64),
            np.loadtxt(files[f"index_test_{i}.txt.gz"], dtype=np.int64),
        )
        for i in range(n_splits)
    )
    X = pd.DataFrame(data[:, features], columns=[f"x{i}" for i in features])
    return Dataset(name, "regression", X, data[:, target], splits=splits)


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
        if data_dir is None:
            raise DatasetError(
                f"dataset {spec!r} is read from local files: pass --data-dir DIR, a "
                "folder laid out like shared/data (with manifest.json)."
            )
        return _load_local(key, Path(data_dir))
    if source == "openml":
        return _load_openml(key, None if openml_cache is None else Path(openml_cache))
    raise DatasetError(f"unknown dataset {spec!r}; known: {', '.join(choices())}")
