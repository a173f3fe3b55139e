"""n_ensemble (members trained as one stacked network) and calibrate."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split

from skmixup import (
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
    MixupRegressorCV,
)
from skmixup._base import BaseMixup
from skmixup._net import MixupNet
from skmixup._stacked import MemberData, StackedBatchIterator, StackedMixupNet

FAST = {"max_epochs": 5, "batch_size": 32, "device": "cpu", "random_state": 0}
FAST_SEED = {"batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=240, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def _member_outputs(est, X):
    """Each member's raw outputs, from plain MLP copies evaluated in float64."""
    module = est.net_.module_
    X64 = torch.as_tensor(X, dtype=torch.float64)
    with torch.no_grad():
        return np.stack(
            [module.member(k).double()(X64).numpy() for k in range(module.n_members)]
        )


def test_n_ensemble_1_is_the_plain_network(clf_data):
    X, y = clf_data
    est = MixupClassifier(**FAST).fit(X, y)
    assert type(est.net_) is MixupNet
    listed = MixupClassifier(alpha=[0.2], **FAST).fit(X, y)
    np.testing.assert_array_equal(listed.predict_proba(X), est.predict_proba(X))


def test_members_are_trained_together_and_differ(clf_data):
    X, y = clf_data
    est = MixupClassifier(n_ensemble=4, alpha=0.4, **FAST).fit(X, y)
    assert isinstance(est.net_, StackedMixupNet)
    module = est.net_.module_
    assert module.n_members == 4
    first = module.weights[0].detach()
    for k in range(1, 4):
        assert not torch.equal(first[0], first[k])
    assert est.n_iter_ == FAST["max_epochs"] == len(est.loss_curve_)


def test_each_member_draws_its_own_order_and_sees_every_row_once():
    n, n_members, batch = 50, 3, 8
    X = torch.arange(n, dtype=torch.float32)[:, None]
    rest = torch.zeros((n, 1))
    mask = torch.ones((n_members, n), dtype=torch.bool)
    data = MemberData(X, rest, mask, weighted=False)
    iterator = StackedBatchIterator(
        data,
        torch.arange(n_members),
        [0.0] * n_members,  # no mixing: the rows come through as they are
        batch,
        torch.Generator().manual_seed(0),
    )
    rows = [[] for _ in range(n_members)]
    for X_step, _, weight, _ in iterator:
        for k in range(n_members):
            taken = X_step[k, weight[k] > 0, 0]
            rows[k].extend(int(v) for v in taken)
    for k in range(n_members):
        assert sorted(rows[k]) == list(range(n))
    assert rows[0] != rows[1] and rows[1] != rows[2]


def test_classifier_averages_the_members_probabilities(clf_data):
    X, y = clf_data
    est = MixupClassifier(n_ensemble=3, **FAST).fit(X, y)
    expected = softmax(_member_outputs(est, X), axis=2).mean(axis=0)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-10)
    np.testing.assert_allclose(
        est.predict_log_proba(X), np.log(expected), rtol=1e-10, atol=1e-12
    )
    assert np.array_equal(est.predict(X), est.classes_[expected.argmax(axis=1)])


def test_regressor_averages_the_members_values():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    est = MixupRegressor(n_ensemble=3, **FAST).fit(X, y)
    members = _member_outputs(est, X.astype(np.float32))[..., 0]
    expected = members.mean(axis=0) * est._y_scale[0] + est._y_mean[0]
    np.testing.assert_allclose(est.predict(X), expected, rtol=1e-10)
    assert est.predict(X).shape == (200,)


def test_a_sequence_of_alphas_is_cycled_over_the_members(clf_data):
    X, y = clf_data
    est = MixupClassifier(n_ensemble=5, alpha=[0, 0.4, np.inf], **FAST).fit(X, y)
    assert est.net_.member_alphas == [0.0, 0.4, np.inf, 0.0, 0.4]


@pytest.mark.parametrize(
    "alpha, match",
    [
        ([0.1, 0.2, 0.3], "alpha has 3 values but n_ensemble=2"),
        ([0.1, -1.0], "alpha must be a float >= 0"),
        ([0.1, np.nan], "alpha must be a float >= 0"),
        ([], "alpha must be a float >= 0"),
        ([[0.1, 0.2]], "alpha must be a float >= 0"),
    ],
)
def test_bad_alpha_sequences_are_named(clf_data, alpha, match):
    X, y = clf_data
    with pytest.raises(ValueError, match=match):
        MixupClassifier(n_ensemble=2, alpha=alpha, **FAST).fit(X, y)


def test_a_sequence_of_alphas_needs_n_ensemble(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="n_ensemble=1: give at most one alpha"):
        MixupClassifier(alpha=[0, 1], **FAST).fit(X, y)


@pytest.mark.parametrize("name, value", [
    (name, value)
    for name, value in [
        ("module", lambda n_in, n_out: torch.nn.Linear(n_in, n_out)),
        ("dropout", 0.1),
        ("early_stopping", True),
        ("mix_on", "inputs"),
        ("pairing", "knn"),
        ("manifold", True),
        ("n_mixed", 3),
        ("mix_probability", 0.5),
        ("per_sample_lambda", True),
        ("alternate_epochs", 1),
        ("final_unmixed_epochs", 1),
        ("num_embeddings", "periodic"),
        ("mix_embeddings", True),
        ("categorical_groups", [[0, 1]]),
    ]
])  # fmt: skip
def test_what_the_ensemble_cannot_do_is_named(clf_data, name, value):
    assert name in dict(BaseMixup._ENSEMBLE_NEEDS)
    X, y = clf_data
    est = MixupClassifier(n_ensemble=2, **FAST).set_params(**{name: value})
    with pytest.raises(ValueError, match=f"does not support {name}="):
        est.fit(X, y)


def test_every_unsupported_parameter_is_tested():
    tested = {
        "module", "dropout", "early_stopping", "mix_on", "pairing", "manifold",
        "n_mixed", "mix_probability", "per_sample_lambda", "alternate_epochs",
        "final_unmixed_epochs", "num_embeddings", "mix_embeddings",
        "categorical_groups",
    }  # fmt: skip
    assert set(dict(BaseMixup._ENSEMBLE_NEEDS)) == tested


def test_sparse_and_dense_input_train_the_same_ensemble(clf_data):
    X, y = clf_data
    X = np.where(np.abs(X) > 1, X, 0).astype(np.float32)
    dense = MixupClassifier(n_ensemble=3, **FAST).fit(X, y)
    sparse = MixupClassifier(n_ensemble=3, **FAST).fit(sp.csr_matrix(X), y)
    for a, b in zip(
        dense.net_.module_.parameters(), sparse.net_.module_.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X))
    )


def test_rows_of_weight_zero_have_no_influence_on_the_ensemble(clf_data):
    X, y = clf_data
    weight = np.ones(len(y))
    weight[:20] = 0
    X_other = X.copy()
    X_other[:20] = 1e3  # garbage in the rows of weight 0
    y_other = y.copy()
    y_other[:20] = (y[:20] + 1) % 3
    params = dict(n_ensemble=3, alpha=[0, 1.0], **FAST)
    a = MixupClassifier(**params).fit(X, y, sample_weight=weight)
    b = MixupClassifier(**params).fit(X_other, y_other, sample_weight=weight)
    np.testing.assert_array_equal(a.predict_proba(X[20:]), b.predict_proba(X[20:]))


def test_ensemble_pickles_clones_and_searches(clf_data):
    X, y = clf_data
    est = MixupClassifier(n_ensemble=2, **FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert clone(est).get_params()["n_ensemble"] == 2
    search = GridSearchCV(
        MixupClassifier(**FAST),
        [
            {"n_ensemble": [1, 2], "alpha": [0.0, 1.0]},
            {"n_ensemble": [2], "alpha": [[0.0, 1.0]]},
        ],
        cv=2,
        error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 5


# -- calibrate ---------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_data():
    X, y = make_classification(
        n_samples=3000,
        n_features=10,
        n_informative=5,
        n_classes=3,
        flip_y=0.2,
        random_state=1,
    )
    return train_test_split(X.astype(np.float32), y, test_size=0.5, random_state=0)


@pytest.mark.parametrize(
    "params, direction",
    [
        # Strong mixing pulls predictions toward the middle: under-confident.
        ({"alpha": 8.0, "max_epochs": 30}, "sharpens"),
        # Long plain training on noisy labels memorises them: over-confident.
        ({"alpha": 0.0, "max_epochs": 200, "hidden_layer_sizes": (256, 256)},
         "softens"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("n_ensemble", [1, 3])
def test_temperature_moves_the_way_the_model_errs_and_lowers_log_loss(
    noisy_data, params, direction, n_ensemble
):
    X_train, X_test, y_train, y_test = noisy_data
    est = MixupClassifier(
        calibrate=True, n_ensemble=n_ensemble, batch_size=64, random_state=0, **params
    ).fit(X_train, y_train)
    temperature = est.temperature_
    assert (temperature < 1) if direction == "sharpens" else (temperature > 1)
    calibrated = est.predict_proba(X_test)
    labels = est.predict(X_test)
    del est.temperature_
    raw = est.predict_proba(X_test)
    assert log_loss(y_test, calibrated) < log_loss(y_test, raw)
    # Calibration leaves the labels alone.
    np.testing.assert_array_equal(labels, est.predict(X_test))
    np.testing.assert_array_equal(labels, est.classes_[calibrated.argmax(axis=1)])


def test_calibration_is_temperature_scaling_of_the_log_probabilities(clf_data):
    X, y = clf_data
    est = MixupClassifier(calibrate=True, n_ensemble=2, **FAST).fit(X, y)
    temperature = est.temperature_
    del est.temperature_
    raw = est.predict_log_proba(X)
    est.temperature_ = temperature
    np.testing.assert_allclose(
        est.predict_log_proba(X), log_softmax(raw / temperature, axis=1), rtol=1e-12
    )
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)


def test_with_early_stopping_calibration_reuses_its_rows(clf_data):
    # The same held-out rows serve both, so the network is the same one.
    X, y = clf_data
    params = dict(early_stopping=True, validation_fraction=0.2, **FAST)
    plain = MixupClassifier(**params).fit(X, y)
    calibrated = MixupClassifier(calibrate=True, **params).fit(X, y)
    assert not hasattr(plain, "temperature_")
    np.testing.assert_array_equal(plain.predict(X), calibrated.predict(X))
    np.testing.assert_array_equal(
        plain.validation_loss_curve_, calibrated.validation_loss_curve_
    )
    assert not np.array_equal(plain.predict_proba(X), calibrated.predict_proba(X))


def test_refit_without_calibrate_drops_the_temperature(clf_data):
    X, y = clf_data
    est = MixupClassifier(calibrate=True, **FAST).fit(X, y)
    assert est.temperature_ > 0
    est.set_params(calibrate=False).fit(X, y)
    assert not hasattr(est, "temperature_")


def test_calibrate_needs_held_out_rows():
    X = np.zeros((1, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="calibrate=True with validation_fraction"):
        MixupClassifier(calibrate=True, validation_fraction=0.99, **FAST).fit(
            np.vstack([X, X + 1]), [0, 1]
        )


def test_calibrate_needs_held_out_rows_of_some_weight():
    # Ten rows, one held out; with this seed it is a row of weight 0.
    X = np.random.RandomState(0).uniform(size=(10, 4))
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="all have sample_weight 0"):
        MixupClassifier(calibrate=True, **FAST).fit(X, y, sample_weight=y)


@pytest.mark.parametrize("calibrate", [False, True])
def test_cv_estimator_refits_an_ensemble_calibrated_or_not(clf_data, calibrate):
    X, y = clf_data
    params = dict(alphas=(0, 0.4), cv=2, n_ensemble=3, **FAST)
    search = MixupClassifierCV(calibrate=calibrate, **params).fit(X, y)
    plain = MixupClassifier(
        alpha=search.alpha_, n_ensemble=3, calibrate=calibrate, **FAST
    ).fit(X, y)
    assert search.net_.module_.n_members == 3
    np.testing.assert_array_equal(search.predict_proba(X), plain.predict_proba(X))
    assert hasattr(search, "temperature_") == calibrate
    if calibrate:
        assert search.temperature_ == plain.temperature_
    # A refit without calibration drops the old temperature.
    search.set_params(calibrate=False).fit(X, y)
    assert not hasattr(search, "temperature_")


def test_cv_regressor_refits_an_ensemble():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    search = MixupRegressorCV(alphas=(0, 0.4), cv=2, n_ensemble=2, **FAST).fit(X, y)
    plain = MixupRegressor(alpha=search.alpha_, n_ensemble=2, **FAST).fit(X, y)
    np.testing.assert_array_equal(search.predict(X), plain.predict(X))


def test_a_few_held_out_rows_all_right_do_not_drive_the_temperature_to_zero():
    # Iris-sized and well separated: the 12 held-out rows are all classified
    # right, and their log-loss alone falls without limit as T -> 0.
    X, y = make_classification(
        n_samples=120, n_features=4, n_informative=4, n_redundant=0,
        class_sep=3.0, n_classes=3, random_state=0,
    )  # fmt: skip
    est = MixupClassifier(calibrate=True, alpha=0.0, max_epochs=50, **FAST_SEED)
    est.fit(X, y)
    assert est.temperature_ > 0.2


def test_the_findings_script_counts_verdicts_from_the_results(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ensemble_findings.py"
    spec = importlib.util.spec_from_file_location("ensemble_findings", path)
    findings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(findings)
    rng = np.random.default_rng(0)
    head = {
        "kind": "header",
        "command": ["skmixup-bench", "--suite", "calibration"],
        "skmixup_source": "0a1b2c3",
        "dirty": False,
        "suite": {"name": "calibration", "description": "test", "test_size": 0.2},
    }
    rows = []
    for dataset, shift in (("a", -0.05), ("b", 0.0)):
        for repeat in range(10):
            for method in ("erm", "mixup-1.0", "cal", "ens8", "ens8@0",
                           "ens8-cal"):  # fmt: skip
                noise = rng.normal(0, 0.002)
                # On "a" every ensemble has a clearly lower log-loss; on "b" none.
                better = shift if method.startswith("ens8") else 0.0
                rows.append({
                    "kind": "run", "task": "classification", "dataset": dataset,
                    "method": method, "repeat": repeat, "n_train": 80, "n_test": 20,
                    "error": 0.1 + noise, "log_loss": 0.5 + better + noise,
                    "ece": 0.05 + noise,
                })  # fmt: skip
    (tmp_path / "results.jsonl").write_text(
        "\n".join(json.dumps(r) for r in [head, *rows]) + "\n"
    )
    assert findings.main([str(tmp_path)]) == 0
    text = (tmp_path / "findings.md").read_text()
    section = text.split("lower the log-loss of one mixup model?")[1].split("###")[0]
    assert "Lower on 1 of 2 datasets, higher on 0, no difference shown on 1." in section
    assert "| a | 0.50" in section and "▼" in section
