"""Behaviour of MixupClassifier and MixupRegressor."""

import pickle
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skmixup import (
    MLP,
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
    MixupRegressorCV,
)

FAST = {"max_epochs": 5, "batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
    return X, y


def test_gridsearch_over_alpha_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    search = GridSearchCV(
        Pipeline(
            [
                ("scale", StandardScaler()),
                ("mixupclassifier", MixupClassifier(random_state=0)),
            ]
        ),
        {"mixupclassifier__alpha": [0, 0.4, 1.0]},
        cv=3,
        n_jobs=2,
    )
    search.fit(X, y)
    assert search.best_score_ >= 0.95
    assert len(set(search.cv_results_["mean_test_score"])) > 1


def test_cross_val_score_and_clone(clf_data):
    X, y = clf_data
    est = MixupClassifier(**FAST)
    scores = cross_val_score(est, X, y, cv=3)
    assert scores.shape == (3,) and (scores > 0.5).all()
    cloned = clone(est)
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "net_")


def test_column_transformer_with_one_hot_encoder():
    rng = np.random.RandomState(0)
    df = pd.DataFrame(
        {
            "size": rng.randn(200),
            "weight": rng.randn(200),
            "colour": rng.choice(["red", "green", "blue"], 200),
        }
    )
    y = np.where((df["size"] > 0) ^ (df["colour"] == "red"), "yes", "no")
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), ["size", "weight"]),
                ("cat", OneHotEncoder(), ["colour"]),
            ]
        ),
        MixupClassifier(max_epochs=40, device="cpu", random_state=0),
    )
    pipe.fit(df, y)
    assert pipe.score(df, y) > 0.9
    assert set(pipe.predict(df)) <= {"yes", "no"}


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_pickle_round_trip_keeps_predictions(Estimator, clf_data):
    X, y = clf_data
    est = Estimator(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est.predict(X), restored.predict(X))
    if hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(est.predict_proba(X), restored.predict_proba(X))


def test_alpha_changes_the_model(clf_data):
    X, y = clf_data
    erm = MixupClassifier(**{**FAST, "alpha": 0}).fit(X, y)
    mixed = MixupClassifier(**{**FAST, "alpha": 1.0}).fit(X, y)
    assert not np.allclose(erm.predict_proba(X), mixed.predict_proba(X))
    # Mixed targets are soft: on its training data the mixup model is less
    # confident than ERM.
    assert (
        mixed.predict_proba(X).max(axis=1).mean()
        < erm.predict_proba(X).max(axis=1).mean()
    )


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_same_random_state_same_predictions(Estimator, clf_data):
    X, y = clf_data
    params = {**FAST, "alpha": 0.4}
    method = "predict_proba" if Estimator is MixupClassifier else "predict"
    a = getattr(Estimator(**params).fit(X, y), method)(X)
    b = getattr(Estimator(**params).fit(X, y), method)(X)
    c = getattr(Estimator(**{**params, "random_state": 1}).fit(X, y), method)(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (MixupClassifier, {}),
        (MixupClassifier, {"dropout": 0.2}),
        (MixupRegressor, {"module": torch.nn.Linear}),
        (MixupClassifierCV, {"alphas": (0, 0.4), "cv": 2}),
    ],
)
def test_fit_leaves_every_global_generator_alone(Estimator, params, clf_data):
    X, y = clf_data
    torch.manual_seed(5)
    state = torch.get_rng_state()
    # torch.manual_seed also seeds every CUDA device; without a GPU it queues
    # that call (a private record of torch's, read here because it is the only
    # trace on a CPU-only machine). Fit must seed no device it does not restore.
    tracker = getattr(torch.cuda, "_lazy_seed_tracker", None)
    queued = None if tracker is None else tracker.get_calls()
    Estimator(**FAST, **params).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())
    if tracker is not None:
        assert tracker.get_calls() == queued


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_default_module_initialises_from_random_state_alone(Estimator, clf_data):
    X, y = clf_data
    torch.manual_seed(1)
    a = Estimator(**{**FAST, "max_epochs": 1}).fit(X, y).predict(X)
    torch.manual_seed(2)
    b = Estimator(**{**FAST, "max_epochs": 1}).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "eel"]),
        np.array([3, 7, 11]),
        np.array([-1, 1]),
        np.array([False, True]),
    ],
)
def test_original_labels_are_kept(labels):
    X, codes = make_classification(
        n_samples=150,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=len(labels),
        n_clusters_per_class=1,
        random_state=0,
    )
    y = labels[codes]
    clf = MixupClassifier(**{**FAST, "max_epochs": 20}).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(labels)
    assert clf.score(X, y) > 0.7
    proba = clf.predict_proba(X)
    assert proba.shape == (150, len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_a_row_predicts_the_same_alone_or_in_a_batch(Estimator, clf_data):
    # Batch sizes from 1 to 300 make the BLAS pick different float32 kernels,
    # which moved outputs by ~1e-7; the float64 evaluation must hold them at
    # float64 resolution on any CPU and BLAS code path (.ci/run forces several).
    X, y = clf_data
    est = Estimator(**FAST).fit(X, y)
    method = "predict_proba" if Estimator is MixupClassifier else "predict"
    full = getattr(est, method)(X)
    order = np.random.RandomState(0).permutation(len(X))
    for n in (1, 2, 3, 7, 8, 15, 16, 33, 64, 65, 299):
        rows = order[:n]
        np.testing.assert_allclose(
            getattr(est, method)(X[rows]), full[rows], rtol=1e-10, atol=1e-12
        )


def test_dataframe_feature_names(reg_data):
    X, y = reg_data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reg = MixupRegressor(**FAST).fit(df, y)
    np.testing.assert_array_equal(reg.feature_names_in_, df.columns)
    assert reg.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int8, bool])
def test_any_numeric_dtype(dtype, clf_data):
    X, y = clf_data
    X = (X > 0) if dtype is bool else (X * 10).astype(dtype)
    clf = MixupClassifier(**FAST).fit(X, y)
    assert clf.predict(X).shape == y.shape


def test_regression_target_shapes(reg_data):
    X, y = reg_data
    reg = MixupRegressor(**{**FAST, "max_epochs": 30}).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape and pred.dtype == np.float64
    assert reg.score(X, y) > 0.8
    Y = np.column_stack([y, -2 * y + 1000])
    reg2 = MixupRegressor(**{**FAST, "max_epochs": 30}).fit(X, Y)
    assert reg2.predict(X).shape == Y.shape
    assert reg2.score(X, Y) > 0.8
    # A column of shape (n, 1) stays two-dimensional.
    assert MixupRegressor(**FAST).fit(X, y[:, None]).predict(X).shape == (300, 1)


def test_normalize_y_handles_large_targets(reg_data):
    X, y = reg_data
    y = y * 1e4 + 5e5
    scaled = MixupRegressor(**{**FAST, "max_epochs": 30}).fit(X, y)
    raw = MixupRegressor(**{**FAST, "max_epochs": 30, "normalize_y": False}).fit(X, y)
    assert scaled.score(X, y) > 0.8
    assert raw.score(X, y) < scaled.score(X, y)


@pytest.mark.parametrize("Estimator", [MixupRegressor, MixupRegressorCV])
def test_targets_too_large_to_standardise_are_refused(reg_data, Estimator):
    # Squares of 1e300 overflow: the standard deviation would be inf, every
    # standardised target 0 and every prediction inf.
    X, y = reg_data
    with pytest.raises(ValueError, match="too large to standardise.*Divide y"):
        Estimator(**FAST).fit(X, y * 1e300)


def test_constant_target_column(reg_data):
    X, y = reg_data
    Y = np.column_stack([y, np.full_like(y, 3.0)])
    pred = MixupRegressor(**FAST).fit(X, Y).predict(X)
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred[:, 1], 3.0, atol=0.5)


# -- sample weights ---------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_weights_equal_repetition_in_full_batch_erm(Estimator):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    y = rng.randint(0, 3, 30)
    sw = rng.randint(0, 4, 30)
    params = {
        "alpha": 0,
        "batch_size": 1000,
        "max_epochs": 20,
        "device": "cpu",
        "random_state": 0,
    }
    weighted = Estimator(**params).fit(X, y, sample_weight=sw)
    repeated = Estimator(**params).fit(X.repeat(sw, axis=0), y.repeat(sw))
    method = "predict_proba" if Estimator is MixupClassifier else "predict"
    if Estimator is MixupRegressor:
        # normalize_y sees other moments on repeated rows; compare raw training.
        weighted.set_params(normalize_y=False).fit(X, y, sample_weight=sw)
        repeated.set_params(normalize_y=False).fit(X.repeat(sw, axis=0), y.repeat(sw))
    np.testing.assert_allclose(
        getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-4, atol=1e-5
    )


def test_zero_weight_rows_have_no_influence(clf_data):
    X, y = clf_data
    # 60% of the rows get a systematically wrong label, then weight 0.
    wrong = np.random.RandomState(1).rand(len(y)) < 0.6
    y_bad = np.where(wrong, (y + 1) % 3, y)
    params = {**FAST, "alpha": 1.0, "max_epochs": 30}
    clean = MixupClassifier(**params).fit(X[~wrong], y[~wrong])
    ignored = MixupClassifier(**params).fit(X, y_bad, sample_weight=(~wrong) * 1.0)
    misled = MixupClassifier(**params).fit(X, y_bad)
    assert misled.score(X, y) < 0.4
    assert ignored.score(X, y) > 0.8
    assert abs(ignored.score(X, y) - clean.score(X, y)) < 0.05


def test_constant_weights_change_nothing(clf_data):
    X, y = clf_data
    a = MixupClassifier(**FAST).fit(X, y).predict_proba(X)
    b = MixupClassifier(**FAST).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_array_equal(a, b.predict_proba(X))


def test_bad_sample_weights(clf_data):
    X, y = clf_data
    with pytest.raises(
        ValueError, match="Negative values in data passed to `sample_weight`"
    ):
        MixupClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        MixupClassifier(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))


# -- early stopping -----------------------------------------------------------------


def test_early_stopping_stops_and_keeps_the_best(clf_data):
    X, y = clf_data
    clf = MixupClassifier(
        **{**FAST, "max_epochs": 300, "early_stopping": True, "n_iter_no_change": 3}
    ).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)
    assert clf.score(X, y) > 0.8


def test_fitted_model_carries_no_data(clf_data):
    X, y = clf_data
    small = MixupClassifier(**{**FAST, "early_stopping": True}).fit(X[:50], y[:50])
    big = MixupClassifier(**{**FAST, "early_stopping": True}).fit(
        np.tile(X, (20, 1)), np.tile(y, 20)
    )
    assert abs(len(pickle.dumps(big)) - len(pickle.dumps(small))) < 10_000


def test_early_stopping_needs_rows():
    X, y = np.arange(4.0).reshape(2, 2), np.array([0, 1])
    with pytest.raises(ValueError, match="validation_fraction"):
        MixupRegressor(
            **{**FAST, "early_stopping": True, "validation_fraction": 0.9}
        ).fit(X, y)


# -- custom modules and optimizers --------------------------------------------------


class Wide(torch.nn.Module):
    def __init__(self, n_in, n_out, width=16):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_in, width), torch.nn.Tanh(), torch.nn.Linear(width, n_out)
        )

    def forward(self, X):
        return self.net(X)


def test_custom_module_class_and_factory(clf_data):
    X, y = clf_data
    clf = MixupClassifier(**FAST, module=Wide).fit(X, y)
    assert isinstance(clf.net_.module_, Wide)
    reg = MixupRegressor(**FAST, module=lambda n_in, n_out: Wide(n_in, n_out, 4)).fit(
        X, y
    )
    assert reg.net_.module_.net[0].out_features == 4


def test_default_module_is_the_mlp(clf_data):
    X, y = clf_data
    clf = MixupClassifier(**FAST, hidden_layer_sizes=(7, 5)).fit(X, y)
    module = clf.net_.module_
    assert isinstance(module, MLP)
    widths = [
        m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert widths == [7, 5, 3]


def test_module_errors(clf_data):
    X, y = clf_data
    with pytest.raises(TypeError, match="not a module instance"):
        MixupClassifier(**FAST, module=Wide(6, 3)).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("expected (2, 3)")):
        MixupClassifier(
            **FAST, module=lambda n_in, n_out: torch.nn.Linear(n_in, 1)
        ).fit(X, y)
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        MixupClassifier(**FAST, module=lambda n_in, n_out: None).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MixupClassifier(**FAST, hidden_layer_sizes=(3, 0)).fit(X, y)


class Float32Only(torch.nn.Module):
    """Adds a float32 constant that is not a buffer: cannot run in float64."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.shift = torch.zeros(n_out)

    def forward(self, X):
        return torch.addmm(self.shift, X, self.linear.weight.t())


def test_module_that_cannot_run_in_float64_is_named_at_fit(clf_data):
    X, y = clf_data
    with pytest.raises(TypeError, match="Float32Only .* float64.*buffers"):
        MixupClassifier(**FAST, module=Float32Only).fit(X, y)


def test_predictions_are_the_float32_network_evaluated_in_float64(clf_data):
    X, y = clf_data
    reg = MixupRegressor(**FAST).fit(X, y)
    with torch.no_grad():
        out32 = reg.net_.module_(torch.from_numpy(X.astype(np.float32))).numpy()
    pred = reg.predict(X)
    assert pred.dtype == np.float64
    # The same network as the float32 module, up to float32 rounding.
    expected = out32[:, 0] * reg._y_scale[0] + reg._y_mean[0]
    np.testing.assert_allclose(pred, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "optimizer, params",
    [("sgd", {"momentum": 0.9}), ("adamw", None), (torch.optim.RMSprop, None)],
)
def test_optimizer_choice(optimizer, params, clf_data):
    X, y = clf_data
    clf = MixupClassifier(
        **{**FAST, "max_epochs": 20},
        optimizer=optimizer,
        optimizer_params=params,
        lr=1e-2,
    ).fit(X, y)
    assert clf.score(X, y) > 0.7
    expected = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}.get(
        optimizer, optimizer
    )
    assert type(clf.net_.optimizer_) is expected


def test_weight_decay_shrinks_weights(clf_data):
    X, y = clf_data

    def norm(wd):
        clf = MixupClassifier(**{**FAST, "max_epochs": 20}, weight_decay=wd).fit(X, y)
        return sum(p.norm() ** 2 for p in clf.net_.module_.parameters()).item()

    assert norm(0.5) < norm(0.0)


def test_verbose_prints_epochs(clf_data, capsys):
    X, y = clf_data
    MixupClassifier(**{**FAST, "max_epochs": 2}, verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected(Estimator, bad, clf_data):
    X, y = clf_data
    X_bad = X.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        Estimator(**FAST).fit(X_bad, y)
    y_bad = y.astype(float)
    y_bad[5] = bad
    with pytest.raises(ValueError, match="Input y contains|Unknown label type"):
        Estimator(**FAST).fit(X, y_bad)


def test_float32_overflow_is_rejected(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="too large for float32"):
        MixupClassifier(**FAST).fit(X * 1e300, y)


def test_wrong_feature_count_at_predict(clf_data):
    X, y = clf_data
    clf = MixupClassifier(**FAST).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 5 features, but MixupClassifier is expecting 6"
    ):
        clf.predict(X[:, :5])


def test_empty_data_and_one_class(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="0 sample"):
        MixupClassifier(**FAST).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="at least 2 classes"):
        MixupClassifier(**FAST).fit(X, np.zeros(len(y)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -0.5}, "'alpha' parameter"),
        ({"alpha": float("nan")}, "'alpha' parameter"),
        ({"mix_on": "outputs"}, "'mix_on' parameter"),
        ({"pairing": "far"}, "'pairing' parameter"),
        ({"n_neighbors": 0}, "'n_neighbors' parameter"),
        ({"label_bandwidth": 0.0}, "'label_bandwidth' parameter"),
        ({"n_mixed": 1}, "'n_mixed' parameter"),
        ({"mix_probability": 1.5}, "'mix_probability' parameter"),
        ({"alternate_epochs": -1}, "'alternate_epochs' parameter"),
        ({"final_unmixed_epochs": -1}, "'final_unmixed_epochs' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"lr": 0}, "'lr' parameter"),
        ({"optimizer": "lbfgs"}, "'optimizer' parameter"),
    ],
)
def test_bad_parameters_are_named(params, match, clf_data):
    X, y = clf_data
    with pytest.raises(InvalidParameterError, match=match):
        MixupClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("device", ["gpu", "cuda0", "CPU", "tpu:0"])
def test_unknown_device(device, clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="is not understood; use 'auto', 'cpu'"):
        MixupClassifier(**{**FAST, "device": device}).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_gpu_says_what_to_do(device, clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="device='cpu'"):
        MixupClassifier(**{**FAST, "device": device}).fit(X, y)


def test_auto_device_without_gpu_is_cpu(clf_data):
    X, y = clf_data
    clf = MixupClassifier(**{**FAST, "device": "auto"}).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(clf.net_.module_.parameters()).device.type == expected


def test_non_numeric_columns_point_to_one_hot_encoder():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "city": ["x", "y", "x", "y"]})
    y = [0, 1, 0, 1]
    with pytest.raises(
        ValueError, match=r"non-numeric columns \['city'\].*OneHotEncoder"
    ):
        MixupClassifier(**FAST).fit(df, y)
    with pytest.raises(ValueError, match="OneHotEncoder"):
        MixupClassifier(**FAST).fit(df.to_numpy(), y)
    df["city"] = df["city"].astype("category")
    with pytest.raises(ValueError, match="ColumnTransformer"):
        MixupRegressor(**FAST).fit(df, y)


def test_diverging_training_stops_with_a_clear_error(reg_data):
    X, y = reg_data
    reg = MixupRegressor(**FAST, lr=1e30, optimizer="sgd", normalize_y=False)
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        reg.fit(X * 1e15, y * 1e20)


@pytest.mark.parametrize(
    "Estimator, data", [(MixupClassifier, "clf_data"), (MixupRegressor, "reg_data")]
)
@pytest.mark.parametrize("n_ensemble", [1, 2])
def test_training_that_diverges_to_finite_weights_warns(
    Estimator, data, n_ensemble, request
):
    # Too large a learning rate leaves finite but useless weights: no error from
    # the net, so the estimator compares the final loss with that of a network
    # that outputs zeros (about where training starts).
    X, y = request.getfixturevalue(data)
    X = StandardScaler().fit_transform(X)
    # At lr=100 the final loss is thousands of times the threshold here (at
    # lr=10 the classifier's was only 1.2 times it: too close for other CPUs).
    est = Estimator(**{**FAST, "max_epochs": 20}, n_ensemble=n_ensemble, lr=100.0)
    with pytest.warns(ConvergenceWarning, match=r"StandardScaler.*\(lr=100\.0\)"):
        est.fit(X, y)
    # The same fit at the default rate trains and does not warn (warnings are
    # errors in this suite).
    est.set_params(lr=1e-3).fit(X, y)


def test_constant_regression_target_is_not_divergence():
    X = np.random.RandomState(0).randn(100, 3)
    MixupRegressor(**FAST).fit(X, np.full(100, 7.0))


# -- GPU ----------------------------------------------------------------------------

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
@pytest.mark.parametrize("Estimator", [MixupClassifier, MixupRegressor])
def test_cuda_fit_keeps_data_on_device(Estimator, clf_data):
    X, y = clf_data
    est = Estimator(**{**FAST, "device": "cuda"})
    seen = []
    est.fit(X, y)
    module = est.net_.module_
    assert next(module.parameters()).device.type == "cuda"
    module.register_forward_pre_hook(lambda m, args: seen.append(args[0].device.type))
    est.predict(X)
    assert seen and set(seen) == {"cuda"}
    cpu = Estimator(**FAST).fit(X, y)
    assert np.mean(est.predict(X) == cpu.predict(X)) > 0.8
