"""The training recipe: input scaling, learning-rate schedules, label smoothing,
weight averaging."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import skorch
import skorch.helper
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError

import skmixup._base
import skmixup._cv
from skmixup import MixupClassifier, MixupClassifierCV, MixupNet, MixupRegressor
from skmixup._averaging import WeightAverage
from skmixup._scaling import InputScaling
from skmixup._schedule import lr_factor
from skmixup._stacked import MemberData, StackedBatchIterator

FAST = {"max_epochs": 4, "batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    X[:, 0] = X[:, 0] * 100 + 50  # one column far off the unit scale
    return X, y


@pytest.fixture(scope="module")
def reg_data():
    return make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)


# -- input scaling -------------------------------------------------------------


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_scaling_is_fitted_on_the_training_rows_and_applied_at_predict(
    clf_data, method
):
    X, y = clf_data
    X_train, y_train, X_test = X[:100], y[:100], X[100:]
    scaled = MixupClassifier(scale_inputs=method, **FAST).fit(X_train, y_train)
    fitted = scaled.input_scaling_
    X32 = X_train.astype(np.float32)
    if method == "standard":
        np.testing.assert_allclose(fitted.center, X32.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(fitted.scale, X32.std(axis=0), rtol=1e-5)
    else:
        np.testing.assert_allclose(fitted.center, np.median(X32, axis=0), rtol=1e-6)
        iqr = np.subtract(*np.quantile(X32, [0.75, 0.25], axis=0))
        np.testing.assert_allclose(fitted.scale, iqr, rtol=1e-5)
    # The same network as a plain fit on the transformed rows, and the test
    # rows go through the training rows' scaling.
    plain = MixupClassifier(**FAST).fit(fitted.transform(X32), y_train)
    X_test32 = X_test.astype(np.float32)
    assert np.array_equal(
        scaled.predict_proba(X_test), plain.predict_proba(fitted.transform(X_test32))
    )
    # Predicting does not refit the scaling.
    assert np.array_equal(scaled.input_scaling_.center, fitted.center)


def test_robust_clipping_bounds_values_smoothly():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3).astype(np.float32)
    X[:5, 0] = 1e6  # outliers
    scaling = InputScaling.fit(X, "robust")
    Z = scaling.transform(np.vstack([X, [[3e38, -3e38, 0]]]).astype(np.float32))
    assert np.abs(Z).max() <= 3
    assert Z[-1, :2].tolist() == [3, -3]  # not overflowing to 0 or nan
    # Near the median, the clipping is nearly the identity: x / sqrt(1 + x^2/9).
    x = (X[5:, 1] - scaling.center[1]) / scaling.scale[1]
    np.testing.assert_allclose(Z[5:-1, 1], x / np.sqrt(1 + (x / 3) ** 2), rtol=1e-5)
    # Monotone per column.
    order = np.argsort(X[:, 2])
    assert (np.diff(Z[:-1, 2][order]) >= 0).all()


def test_robust_scale_falls_back_to_half_the_range_then_to_one():
    X = np.zeros((20, 3), dtype=np.float32)
    X[:2, 0] = 4.0  # a rare flag: no interquartile range, range 4
    X[:, 1] = np.arange(20)
    scaling = InputScaling.fit(X, "robust")
    np.testing.assert_allclose(scaling.scale, [2.0, 9.5, 1.0])


def test_sparse_input_is_scaled_without_centring(clf_data):
    X, y = clf_data
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    X_sparse = sp.csr_matrix(X)
    est = MixupClassifier(scale_inputs="standard", **FAST).fit(X_sparse, y)
    assert est.input_scaling_.center is None
    np.testing.assert_allclose(
        est.input_scaling_.scale, X.astype(np.float32).std(axis=0), rtol=1e-5
    )
    Z = est.input_scaling_.transform(X_sparse)
    assert sp.issparse(Z) and Z.nnz == X_sparse.nnz
    plain = MixupClassifier(**FAST).fit(Z.toarray(), y)
    np.testing.assert_allclose(
        est.predict_proba(X_sparse), plain.predict_proba(Z.toarray()), atol=1e-6
    )


@pytest.mark.parametrize("Estimator", [MixupRegressor, skmixup.MixupRegressorCV])
def test_robust_scaling_refuses_sparse_input(reg_data, Estimator):
    X, y = reg_data
    with pytest.raises(ValueError, match="scale_inputs='robust'.*sparse"):
        Estimator(scale_inputs="robust", **FAST).fit(sp.csr_matrix(X), y)


def test_unscaled_fit_after_a_scaled_one_forgets_the_scaling(clf_data):
    X, y = clf_data
    est = MixupClassifier(scale_inputs="robust", **FAST).fit(X, y)
    est.set_params(scale_inputs=None).fit(X, y)
    assert not hasattr(est, "input_scaling_")
    assert np.array_equal(
        est.predict_proba(X), MixupClassifier(**FAST).fit(X, y).predict_proba(X)
    )


def test_stacked_rows_are_scaled_before_mixing():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3).astype(np.float32) * 10
    scaling = InputScaling.fit(X, "robust")
    rest = torch.zeros(30, 1)
    mask = torch.ones(2, 30, dtype=torch.bool)
    data = MemberData(torch.from_numpy(X), rest, mask, weighted=False)
    tensors = [torch.from_numpy(a)[None, None] for a in (scaling.center, scaling.scale)]
    iterator = StackedBatchIterator(
        data,
        torch.tensor([0, 1]),
        [0.0, 0.0],  # no mixing: the rows the members see
        batch_size=30,
        generator=torch.Generator().manual_seed(0),
        input_scaling=(*tensors, True),
    )
    (X_seen, _, _, _) = next(iter(iterator))
    expected = scaling.transform(X)
    for member in X_seen:
        # Each member sees every scaled row once, in its own order. Torch and
        # NumPy round the clipping differently on some kernel paths (e.g.
        # ATEN_CPU_CAPABILITY=default), so rows match to float32 precision.
        distance = np.abs(member.numpy()[:, None, :] - expected[None]).max(axis=2)
        assert sorted(distance.argmin(axis=1)) == list(range(len(X)))
        assert distance.min(axis=1).max() < 1e-5


def test_cv_search_scales_each_split_with_its_own_rows(clf_data, monkeypatch):
    X, y = clf_data
    seen = {}

    class Spy(skmixup._base.StackedMixupNet):
        def __init__(self, *args, **kwargs):
            seen.update(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(skmixup._base, "StackedMixupNet", Spy)
    cv = KFold(3, shuffle=True, random_state=0)
    est = MixupClassifierCV(alphas=[0, 1], cv=cv, scale_inputs="robust", **FAST)
    est.fit(X, y)
    X32 = X.astype(np.float32)
    for s, (train, _) in enumerate(cv.split(X)):
        median = np.median(X32[train], axis=0)
        for member in (2 * s, 2 * s + 1):
            np.testing.assert_allclose(seen["input_center"][member], median)
    assert seen["input_clip"] is True
    # The refit scales with every row.
    np.testing.assert_allclose(est.input_scaling_.center, np.median(X32, axis=0))


# -- learning-rate schedules -------------------------------------------------


def test_lr_factor_warms_up_then_follows_the_schedule():
    total = 100
    warm = [lr_factor(t, total, "cosine", 0.1) for t in range(total)]
    assert warm[:10] == pytest.approx([(t + 1) / 10 for t in range(10)])
    assert warm[10] == 1.0
    assert warm[55] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert 0 < warm[-1] < 1e-3
    assert all(a >= b for a, b in zip(warm[9:], warm[10:], strict=False))
    flat = [lr_factor(t, total, "flat_cosine", 0.0) for t in range(total)]
    assert flat[:75] == [1.0] * 75
    assert flat[75:] == pytest.approx(
        [0.5 * (1 + math.cos(math.pi * (t - 75) / 25)) for t in range(75, 100)]
    )
    assert [lr_factor(t, 10, "constant", 0.0) for t in range(10)] == [1.0] * 10
    assert [lr_factor(t, 10, "constant", 0.2) for t in range(3)] == [0.5, 1, 1]


class RecordingSGD(torch.optim.SGD):
    """SGD that records, at every step, each group's rate and whether it steps."""

    log: list = []

    def step(self, closure=None):
        RecordingSGD.log.append(
            [
                (group["lr"], any(p.grad is not None for p in group["params"]))
                for group in self.param_groups
            ]
        )
        return super().step(closure)


@pytest.fixture
def recording():
    RecordingSGD.log = []
    return RecordingSGD.log


@pytest.mark.parametrize("n_ensemble", [1, 3])
@pytest.mark.parametrize(
    ("schedule", "warmup"), [("cosine", 0.0), ("flat_cosine", 0.2), ("constant", 0.3)]
)
def test_each_step_takes_the_scheduled_rate(
    clf_data, recording, schedule, warmup, n_ensemble
):
    X, y = clf_data
    params = {**FAST, "max_epochs": 3, "lr": 0.05, "optimizer": RecordingSGD}
    MixupClassifier(
        lr_schedule=schedule, warmup_fraction=warmup, n_ensemble=n_ensemble, **params
    ).fit(X, y)
    total = 3 * math.ceil(len(X) / 32)
    expected = [0.05 * lr_factor(t, total, schedule, warmup) for t in range(total)]
    assert [step[0][0] for step in recording] == pytest.approx(expected)


def test_schedule_runs_over_the_rows_left_for_training(clf_data, recording):
    X, y = clf_data
    MixupClassifier(
        lr_schedule="cosine",
        early_stopping=True,
        n_iter_no_change=50,
        optimizer=RecordingSGD,
        **FAST,
    ).fit(X, y)
    total = 4 * math.ceil((len(X) - math.ceil(0.1 * len(X))) / 32)
    expected = [1e-3 * lr_factor(t, total, "cosine", 0.0) for t in range(total)]
    assert [step[0][0] for step in recording] == pytest.approx(expected)


def test_cv_members_follow_the_schedule_over_their_own_steps(recording):
    # Splits of 40 and 41 training rows take 5 and 6 steps per epoch.
    X, y = make_classification(n_samples=61, n_features=4, random_state=0)
    params = {**FAST, "batch_size": 8, "max_epochs": 3, "optimizer": RecordingSGD}
    MixupClassifierCV(
        alphas=[0, 1], cv=KFold(3), lr_schedule="cosine", warmup_fraction=0.1, **params
    ).fit(X, y)
    # The search's steps, then the refit's (one group).
    n_search = 3 * 6
    search = recording[:n_search]
    steps_per_epoch = [5, 5, 6, 6, 6, 6]  # members: split-major, alpha-minor
    for member, steps in enumerate(steps_per_epoch):
        rates = [step[member][0] for step in search if step[member][1]]
        total = 3 * steps
        assert rates == pytest.approx(
            [1e-3 * lr_factor(t, total, "cosine", 0.1) for t in range(total)]
        )
    refit_total = 3 * math.ceil(61 / 8)
    assert [step[0][0] for step in recording[n_search:]] == pytest.approx(
        [1e-3 * lr_factor(t, refit_total, "cosine", 0.1) for t in range(refit_total)]
    )


def test_constant_schedule_leaves_the_optimizer_alone(clf_data, recording):
    X, y = clf_data
    constant = {**FAST, "lr_schedule": "constant"}
    MixupClassifier(optimizer=RecordingSGD, **constant).fit(X, y)
    assert {step[0][0] for step in recording} == {1e-3}
    assert (
        "initial_lr"
        not in MixupClassifier(**constant).fit(X, y).net_.optimizer_.param_groups[0]
    )


# -- label smoothing -----------------------------------------------------------


@pytest.mark.parametrize("n_ensemble", [1, 3])
def test_label_smoothing_moves_one_full_batch_sgd_step_as_computed(n_ensemble):
    # One full-batch SGD step without mixing: the output bias moves by
    # -lr * mean(softmax - target), so smoothing by eps moves it further by
    # -lr * eps * (class frequency - 1 / n_classes), whatever the weights.
    X, y = make_classification(
        n_samples=90, n_features=5, n_classes=3, n_informative=3, random_state=1
    )
    y[:20] = 0  # unequal class frequencies
    eps, lr = 0.3, 0.5
    params = {
        "alpha": 0.0,
        "max_epochs": 1,
        "batch_size": 90,
        "lr": lr,
        "optimizer": "sgd",
        "n_ensemble": n_ensemble,
        "ema_decay": None,  # the step's own weights, not an average with the start
        "device": "cpu",
        "random_state": 0,
    }

    def output_bias(label_smoothing):
        est = MixupClassifier(label_smoothing=label_smoothing, **params).fit(X, y)
        module = est.net_.module_
        if n_ensemble == 1:
            return module._linears[-1].bias.detach().numpy()
        return module.biases[-1].detach().numpy()[:, 0]

    freq = np.bincount(y) / len(y)
    moved = output_bias(eps) - output_bias(0.0)
    np.testing.assert_allclose(
        moved, np.broadcast_to(-lr * eps * (freq - 1 / 3), moved.shape), atol=2e-6
    )


def test_cv_members_train_on_smoothed_targets(clf_data, monkeypatch):
    X, y = clf_data
    seen = []

    class Spy(MemberData):
        def __init__(self, X, rest, *args, **kwargs):
            seen.append(rest.numpy().copy())
            super().__init__(X, rest, *args, **kwargs)

    monkeypatch.setattr(skmixup._cv, "MemberData", Spy)
    MixupClassifierCV(alphas=[0.2], cv=3, label_smoothing=0.3, **FAST).fit(X, y)
    expected = np.eye(3)[y] * 0.7 + 0.1
    np.testing.assert_allclose(seen[0][:, :3], expected, rtol=1e-6)


def test_held_out_rows_keep_hard_labels(clf_data, monkeypatch):
    X, y = clf_data
    calibrated = []
    monkeypatch.setattr(
        MixupClassifier,
        "_calibrate",
        lambda self, X, Y, w: calibrated.append(Y.copy()),
    )
    MixupClassifier(label_smoothing=0.2, calibrate=True, **FAST).fit(X, y)
    assert set(np.unique(calibrated[0])) == {0.0, 1.0}


# -- weight averaging ------------------------------------------------------------


def _ema(snapshots, decay):
    """The reference: the moving average of per-step weights, step by step."""
    average = [w.copy() for w in snapshots[0][0]]
    for t, weights in enumerate(snapshots[1:]):
        d = min(decay, (1 + t) / (10 + t))
        pairs = zip(average, weights[0], strict=True)
        average = [d * a + (1 - d) * w for a, w in pairs]
    return average


class StepWeights(skorch.callbacks.Callback):
    """Each optimizer step's weights (the initial ones first), as numpy."""

    def on_train_begin(self, net, **kwargs):
        self.snapshots = [self._weights(net)]

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.snapshots.append(self._weights(net))

    @staticmethod
    def _weights(net):
        return ([p.detach().double().numpy().copy() for p in net.module_.parameters()],)


def _linear_net(recorder, **params):
    """A seeded linear softmax model in a MixupNet with weight averaging,
    recording every step's weights."""
    torch.manual_seed(0)
    params = {
        "criterion": torch.nn.CrossEntropyLoss,
        "train_split": None,
        "callbacks": [recorder],
        "random_state": 0,
        "verbose": 0,
        **params,
    }
    return MixupNet(torch.nn.Linear(5, 3), **params)


def test_ema_puts_the_moving_average_of_every_step_in_the_module(clf_data):
    X, y = clf_data
    X = X.astype(np.float32) / np.float32(100)
    recorder = StepWeights()
    net = _linear_net(recorder, lr=0.05, max_epochs=3, batch_size=32, ema_decay=0.8)
    net.fit(X, y)
    assert len(recorder.snapshots) == 1 + 3 * math.ceil(len(X) / 32)
    fitted = [p.detach().double().numpy() for p in net.module_.parameters()]
    for got, want in zip(fitted, _ema(recorder.snapshots, 0.8), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The last step's weights were not kept.
    assert not np.allclose(fitted[0], recorder.snapshots[-1][0][0])


def test_stacked_members_average_their_own_steps_only():
    torch.manual_seed(0)
    tensors = [torch.randn(3, 4, 2), torch.randn(3, 1, 2)]
    average = WeightAverage(tensors, 0.5, n_members=3)
    history = [[t[k].clone() for t in tensors] for k in range(3)]
    active_steps = [None, [True, False, True], [False, False, True], None]
    per_member = [[h] for h in history]
    for active in active_steps:
        for t in tensors:
            t.add_(torch.randn_like(t))
        average.update(active)
        for k in range(3):
            if active is None or active[k]:
                per_member[k].append([t[k].clone() for t in tensors])
    assert average.steps == [3, 2, 4]
    for k in range(3):
        want = _ema([([w.numpy() for w in step],) for step in per_member[k]], 0.5)
        for got, expected in zip(average.average, want, strict=True):
            np.testing.assert_allclose(got[k].numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "Estimator, extra",
    [
        (MixupClassifier, {}),
        (MixupClassifier, {"n_ensemble": 2}),
        (MixupClassifierCV, {"alphas": [0, 0.4], "cv": KFold(3)}),
    ],
)
def test_ema_decay_zero_keeps_the_last_weights_and_averaging_moves_them(
    clf_data, Estimator, extra
):
    X, y = clf_data
    params = {**FAST, "scale_inputs": "standard", **extra}
    last = Estimator(ema_decay=None, **params).fit(X, y).predict_proba(X)
    zero = Estimator(ema_decay=0.0, **params).fit(X, y).predict_proba(X)
    averaged = Estimator(ema_decay=0.9, **params).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(zero, last, rtol=1e-5, atol=1e-7)
    assert not np.allclose(averaged, last, rtol=1e-3)


def test_early_stopping_validates_and_keeps_the_averaged_weights(clf_data):
    X, y = clf_data
    X = (X / np.abs(X).max(axis=0)).astype(np.float32)
    X_train, y_train, X_valid, y_valid = X[:100], y[:100], X[100:], y[100:]
    recorder = StepWeights()
    training = {"lr": 0.2, "max_epochs": 6, "batch_size": 20, "ema_decay": 0.7}
    net = _linear_net(
        recorder,
        train_split=skorch.helper.predefined_split(
            skorch.dataset.Dataset(X_valid, y_valid)
        ),
        callbacks=[
            recorder,
            skorch.callbacks.EarlyStopping(patience=100, load_best=True, sink=None),
        ],
        **training,
    ).fit(X_train, y_train)
    steps_per_epoch = 5
    averages = [
        _ema(recorder.snapshots[: 1 + steps_per_epoch * epoch], 0.7)
        for epoch in range(1, 7)
    ]

    def loss(weights):
        logits = X_valid @ weights[0].T + weights[1]
        return torch.nn.functional.cross_entropy(
            torch.from_numpy(logits), torch.from_numpy(y_valid)
        ).item()

    # Every epoch's validation loss is the averaged network's ...
    valid_loss = net.history[:, "valid_loss"]
    np.testing.assert_allclose(valid_loss, [loss(a) for a in averages], rtol=1e-5)
    # ... training went on from the last step's weights, as without validation ...
    unvalidated = StepWeights()
    _linear_net(unvalidated, **training).fit(X_train, y_train)
    for ours, theirs in zip(recorder.snapshots, unvalidated.snapshots, strict=True):
        np.testing.assert_allclose(ours[0][0], theirs[0][0], rtol=1e-6)
    # ... and the network kept is the average of the best epoch.
    best = averages[int(np.argmin(valid_loss))]
    for got, want in zip(net.module_.parameters(), best, strict=True):
        np.testing.assert_allclose(got.detach().double().numpy(), want, rtol=1e-5)


# -- estimator API -------------------------------------------------------------

RECIPE = {
    "scale_inputs": "robust",
    "lr_schedule": "flat_cosine",
    "warmup_fraction": 0.1,
    "label_smoothing": 0.1,
    "ema_decay": 0.9,
}


def test_recipe_pickles_and_clones(clf_data):
    X, y = clf_data
    est = MixupClassifier(**RECIPE, **FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.predict_proba(X), est.predict_proba(X))
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "input_scaling_")
    assert np.array_equal(twin.fit(X, y).predict_proba(X), est.predict_proba(X))


def test_grid_search_over_the_recipe(clf_data):
    X, y = clf_data
    grid = {
        "scale_inputs": [None, "standard", "robust"],
        "lr_schedule": ["constant", "cosine"],
        "label_smoothing": [0.0, 0.2],
    }
    search = GridSearchCV(MixupClassifier(**FAST), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 12
    # A network fed the raw column at scale 100 does worst.
    scores = search.cv_results_["mean_test_score"]
    unscaled = [p["scale_inputs"] is None for p in search.cv_results_["params"]]
    assert max(scores[np.array(unscaled)]) < max(scores[~np.array(unscaled)])


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("scale_inputs", "minmax"),
        ("lr_schedule", "linear"),
        ("warmup_fraction", 1.0),
        ("label_smoothing", 1.0),
        ("label_smoothing", -0.1),
        ("ema_decay", 1.0),
        ("ema_decay", -0.5),
    ],
)
def test_invalid_recipe_values_are_named(clf_data, param, value):
    X, y = clf_data
    with pytest.raises(InvalidParameterError, match=param):
        MixupClassifier(**{param: value}, **FAST).fit(X, y)
