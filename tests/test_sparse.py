"""Sparse input: scipy CSR/CSC matrices through fit, predict and the CV search."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmixup import (
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
    MixupRegressorCV,
)
from skmixup._sparse import SparseRows, as_csr

FAST = {"max_epochs": 4, "batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=200, n_features=12, n_informative=5, n_classes=3, random_state=0
    )
    X[np.abs(X) < 0.8] = 0  # about half the entries
    return X, y


def test_sparse_rows_read_as_the_dense_rows():
    rng = np.random.RandomState(0)
    dense = rng.randn(40, 7).astype(np.float32)
    dense[rng.rand(40, 7) < 0.7] = 0
    dense[5] = 0  # an empty row
    X = SparseRows.from_scipy(sp.csr_matrix(dense), "cpu")
    expected = torch.from_numpy(dense)
    index = torch.tensor([5, 0, 39, 5, 12])
    torch.testing.assert_close(
        X.index_select(0, index), expected[index], rtol=0, atol=0
    )
    torch.testing.assert_close(X[3:17], expected[3:17], rtol=0, atol=0)
    torch.testing.assert_close(X[-1], expected[-1], rtol=0, atol=0)
    assert X[10:10].shape == (0, 7) and len(X) == 40


def test_duplicates_are_summed_without_touching_the_callers_matrix():
    # Row 0 stores column 1 twice: scipy reads such a matrix as their sum.
    X = sp.csr_matrix(
        (np.array([1.0, 2.0, 5.0]), np.array([1, 1, 0]), np.array([0, 2, 3])),
        shape=(2, 2),
    )
    assert not X.has_canonical_format
    rows = SparseRows.from_scipy(as_csr(X), "cpu")
    np.testing.assert_array_equal(rows[0:2].numpy(), [[0.0, 3.0], [5.0, 0.0]])
    np.testing.assert_array_equal(X.data, [1.0, 2.0, 5.0])
    assert not X.has_canonical_format


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (MixupClassifier, {}),
        (MixupClassifier, {"alpha": 0}),
        (MixupClassifier, {"pairing": "knn", "n_mixed": 3}),
        (MixupClassifier, {"manifold": True}),
        (MixupClassifier, {"early_stopping": True}),
        (MixupRegressor, {"per_sample_lambda": True, "mix_on": "inputs"}),
        (MixupClassifierCV, {"alphas": (0, 0.4), "cv": 3}),
        (MixupRegressorCV, {"alphas": (0, 0.4), "cv": 3}),
    ],
)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_trains_the_same_network_as_dense_input(
    Estimator, params, fmt, data
):
    # Mixing densifies the rows it gathers, so the batches, and hence the
    # network, are the dense ones: same draws, same arithmetic, same shapes.
    X, y = data
    if Estimator in (MixupRegressor, MixupRegressorCV):
        y = X[:, 0] + y
    weights = np.arange(len(y)) % 3 + 0.5
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense = Estimator(**FAST, **params).fit(X, y, sample_weight=weights)
    sparse = Estimator(**FAST, **params).fit(X_sparse, y, sample_weight=weights)
    method = "predict_proba" if hasattr(dense, "predict_proba") else "predict"
    np.testing.assert_array_equal(
        getattr(sparse, method)(X_sparse), getattr(dense, method)(X)
    )
    assert sparse.score(X_sparse, y) == dense.score(X, y)


def test_one_hot_column_transformer_output_trains(data):
    # A many-level column makes ColumnTransformer return a sparse matrix (its
    # sparse_threshold=0.3): what failed on real churn and house-price tables.
    rng = np.random.RandomState(0)
    states = [f"s{i}" for i in range(51)]
    df = pd.DataFrame({"usage": rng.randn(300), "state": rng.choice(states, 300)})
    y = (df["usage"] + (df["state"] < "s25") > 0.5).astype(int)
    encode = ColumnTransformer(
        [("num", StandardScaler(), ["usage"]), ("cat", OneHotEncoder(), ["state"])]
    )
    assert sp.issparse(encode.fit_transform(df))
    pipe = make_pipeline(encode, MixupClassifier(**FAST)).fit(df, y)
    assert pipe.predict_proba(df).shape == (300, 2)
    assert pipe.score(df, y) > 0.6


def test_sparse_float32_overflow_and_nan_are_rejected(data):
    X, y = data
    X_big = sp.csr_matrix(X) * 1e39
    with pytest.raises(ValueError, match="too large for float32"):
        MixupClassifier(**FAST).fit(X_big, y)
    X_nan = sp.csr_matrix(X)
    X_nan.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MixupClassifier(**FAST).fit(X_nan, y)
