"""Readers of the UCI files, shared by :func:`fetch_uci` and ``--data-dir``.

A reader gets a function that returns a file's path from its name (the names of
:mod:`._registry`), so the same code reads the data home and a folder of the
benchmark's own layout.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

Splits = tuple[tuple[np.ndarray, np.ndarray], ...]


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


def read_classification(
    name: str, path: Callable[[str], Path]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels of a classification set, as UCI describes it."""
    if name == "abalone":
        df = pd.read_csv(path("abalone.data.gz"), header=None)
        df[0] = df[0].astype("category")  # Sex: M/F/I
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
    elif name == "arcene":
        # UCI's 700 test rows have no public labels: train and valid are the
        # 200 labelled rows.
        parts = [
            np.loadtxt(path(f"arcene_{s}.data.gz"), dtype=np.float64)
            for s in ("train", "valid")
        ]
        labels = [
            np.loadtxt(path(f"arcene_{s}.labels"), dtype=np.int64)
            for s in ("train", "valid")
        ]
        X, y = pd.DataFrame(np.vstack(parts)), np.concatenate(labels)
    elif name == "arrhythmia":
        df = pd.read_csv(path("arrhythmia.data.gz"), header=None, na_values="?")
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
    elif name == "htru2":
        df = pd.read_csv(path("HTRU_2.csv.gz"), header=None)
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
    elif name == "iris":
        # UCI's corrected file; iris.data has two known errors.
        df = pd.read_csv(path("bezdekIris.data"), header=None)
        X, y = df.iloc[:, :-1], df.iloc[:, -1].to_numpy()
    elif name == "phishing":
        df = _arff(path("phishing_websites_training_dataset.arff.gz"))
        X, y = df.drop(columns="Result"), df["Result"].to_numpy().astype(np.int64)
    else:
        raise ValueError(f"no reader for classification dataset {name!r}")
    return X.rename(columns=str), y


def read_regression(
    path: Callable[[str], Path],
) -> tuple[pd.DataFrame, np.ndarray, Splits]:
    """Features, targets and fixed train/test splits of a regression set."""
    data = np.loadtxt(path("data.txt.gz"))
    features = np.atleast_1d(np.loadtxt(path("index_features.txt"), dtype=np.int64))
    target = int(np.loadtxt(path("index_target.txt"), dtype=np.int64))
    n_splits = int(np.loadtxt(path("n_splits.txt"), dtype=np.int64))
    splits = tuple(
        (
            np.loadtxt(path(f"index_train_{i}.txt.gz"), dtype=np.int64, ndmin=1),
            np.loadtxt(path(f"index_test_{i}.txt.gz"), dtype=np.int64, ndmin=1),
        )
        for i in range(n_splits)
    )
    X = pd.DataFrame(data[:, features], columns=[f"x{i}" for i in features])
    return X, data[:, target], splits
