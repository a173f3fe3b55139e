"""MixupClassifierCV and MixupRegressorCV, and the stacked training under them."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skmixup import (
    MLP,
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
    MixupRegressorCV,
)
from skmixup._stacked import (
    MemberData,
    StackedBatchIterator,
    StackedMixupNet,
    StackedMLP,
    _flushing_subnormals,
)

FAST = {"max_epochs": 5, "batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="module")
def smooth_data():
    # A noiseless smooth target: the larger alpha, the more mixup's pull toward
    # chords between rows costs, so the alphas rank clearly.
    X, y = make_friedman1(n_samples=300, n_features=5, noise=0.0, random_state=0)
    return X, y


# -- the stacked module ------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_stacked_closed_form_gradients_match_autograd(activation, loss):
    torch.manual_seed(0)
    K, n, d, c = 4, 9, 5, 3
    module = StackedMLP(K, d, c, (7, 6), activation).double()
    X = torch.randn(K, n, d, dtype=torch.float64)
    if loss == "cross_entropy":
        target = torch.softmax(torch.randn(K, n, c, dtype=torch.float64), dim=2)
    else:
        target = torch.randn(K, n, c, dtype=torch.float64)
    weight = torch.rand(K, n, dtype=torch.float64)
    weight[0, :4] = 0  # empty slots
    weight[1] = 0  # a member with no rows this step

    out, member_loss = module.loss_and_grad(X, target, loss, weight)
    closed = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    pred = module(X)
    if loss == "cross_entropy":
        rows = -(target * torch.log_softmax(pred, dim=2)).sum(dim=2)
    else:
        rows = (pred - target).square().mean(dim=2)
    norm = weight / weight.sum(dim=1, keepdim=True).clamp_min(1e-12)
    expected = (rows * norm).sum(dim=1)
    expected.sum().backward()
    torch.testing.assert_close(out, pred.detach())
    torch.testing.assert_close(member_loss, expected.detach())
    for got, param in zip(closed, module.parameters(), strict=True):
        torch.testing.assert_close(got, param.grad)
    assert all((p.grad[1] == 0).all() for p in module.parameters())


def test_member_is_a_plain_mlp_with_the_same_outputs():
    torch.manual_seed(0)
    module = StackedMLP(3, 4, 2, (8,), "tanh")
    X = torch.randn(10, 4)
    stacked = module(X)
    for k in range(3):
        member = module.member(k)
        assert type(member) is MLP
        torch.testing.assert_close(member(X), stacked[k])


# -- batches: own rows only, once per epoch -----------------------------------


def _member_data(n=103, n_splits=4, weighted=False, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[rng.randint(0, 2, n)]
    # Column 0 of X is the row id, so a batch tells which rows it holds.
    X[:, 0] = np.arange(n)
    columns = [Y] + ([rng.rand(n, 1).astype(np.float32) + 0.5] if weighted else [])
    splits = list(KFold(n_splits).split(X))
    mask = np.ones((n_splits + 1, n), dtype=bool)
    for s, (_, test) in enumerate(splits):
        mask[s, test] = False
    rest = torch.from_numpy(np.hstack(columns))
    data = MemberData(torch.from_numpy(X), rest, torch.from_numpy(mask), weighted)
    return data, mask


def test_each_member_trains_on_its_own_rows_once_per_epoch_partners_included():
    data, mask = _member_data()
    alphas = [0.0, 0.4, 1.0]
    member_split = torch.arange(len(mask)).repeat_interleave(len(alphas))
    batch_size = 8
    it = StackedBatchIterator(
        data,
        member_split,
        alphas * len(mask),
        batch_size,
        torch.Generator().manual_seed(0),
    )
    # Record the rows each unmixed (alpha=0) member receives; partners are
    # checked in test_partners_are_own_rows_of_the_same_batch.
    K = len(member_split)
    for _ in range(2):  # a new order every epoch, each row once
        seen = [[] for _ in range(K)]
        own_counts = []
        for X, _, weight, active in it:
            assert active == (weight.sum(dim=1) > 0).tolist()
            assert X.shape == (K, batch_size, 3) and weight.shape == (K, batch_size)
            own_counts.append(weight.sum(dim=1))
            # alpha=0 members are unmixed: their inputs are exactly their rows.
            for k in range(0, K, len(alphas)):
                ids = X[k, :, 0].round().long()
                allowed = torch.from_numpy(mask[member_split[k]])
                assert allowed[ids].all()  # fillers are own rows too
                seen[k] += ids[weight[k] > 0].tolist()
        for k in range(0, K, len(alphas)):
            expected = np.flatnonzero(mask[member_split[k]])
            assert sorted(seen[k]) == expected.tolist()
    # Full batches of own rows, as a plain fit on the split, then a short one.
    counts = torch.stack(own_counts)
    for k in range(K):
        n_own = int(mask[member_split[k]].sum())
        full, rest = divmod(n_own, batch_size)
        expected = [batch_size] * full + [rest] * bool(rest)
        expected += [0] * (len(counts) - len(expected))
        assert counts[:, k].tolist() == expected
    assert len(it) == math.ceil(mask.sum(axis=1).max() / batch_size)


def test_partners_are_own_rows_of_the_same_batch():
    data, mask = _member_data()
    member_split = torch.arange(len(mask))
    bs = 30
    it = StackedBatchIterator(
        data, member_split, [1.0] * len(mask), bs, torch.Generator().manual_seed(1)
    )
    orders = it._orders()
    n_steps = orders.shape[1] // bs
    index, valid = it._chunk(orders)
    index = index.reshape(n_steps, 2, len(mask), bs)
    for c in range(n_steps):
        for k in range(len(mask)):
            n_own = int(valid[c, k].sum())
            first, partner = index[c, :, k, :n_own]
            batch = orders[k, c * bs : (c + 1) * bs]
            assert first.tolist() == batch[batch >= 0].tolist()
            assert sorted(partner.tolist()) == sorted(first.tolist())
            # Fillers are own rows of the member, never held-out ones.
            assert mask[k, index[c, :, k].reshape(-1).numpy()].all()


def _train_stacked(data, n_members_per_split, seed=0, epochs=3, **net_params):
    n_splits = data.train_mask.shape[0]
    member_split = np.repeat(np.arange(n_splits), n_members_per_split).tolist()
    # Splits of 77, 78 and 103 rows: 8 or 11 steps of 10, so members skip steps.
    generator = torch.Generator().manual_seed(seed)
    module = StackedMLP(
        len(member_split), 3, 2, (16,), "relu", generator, per_member=True
    )
    net = StackedMixupNet(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        optimizer__fused=True,
        lr=1e-2,
        max_epochs=epochs,
        batch_size=10,
        train_split=None,
        member_alphas=[0.0, 1.0] * n_splits,
        member_split=member_split,
        random_state=seed,
        **net_params,
    )
    return net.fit(data, None).module_


def test_user_callbacks_still_see_every_step_s_gradients():
    data, _ = _member_data()
    seen = []

    class Recorder(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            seen.append(sum(p.grad is not None for _, p in named_parameters))

    _train_stacked(data, 2, epochs=2, callbacks=[Recorder()])
    n_steps = math.ceil(data.train_mask.sum(dim=1).max().item() / 10)
    assert len(seen) == 2 * n_steps and min(seen) > 0


@pytest.mark.parametrize("weighted", [False, True])
def test_poisoned_held_out_rows_leave_their_members_unchanged(weighted):
    data, mask = _member_data(weighted=weighted)
    clean = _train_stacked(data, 2)
    held_out = torch.from_numpy(~mask[1])
    X, rest = data.X.clone(), data.rest.clone()
    X[held_out] = 1e4  # inputs
    rest[held_out, :2] = rest[held_out, :2].flip(1)  # labels
    if weighted:
        rest[held_out, 2] = 1e3
    dirty = _train_stacked(MemberData(X, rest, data.train_mask, weighted), 2)
    stacked = zip(
        [*clean.weights, *clean.biases], [*dirty.weights, *dirty.biases], strict=True
    )
    for p_clean, p_dirty in stacked:
        # Split 1's members (2 and 3) never touch the poisoned rows: same bits.
        assert torch.equal(p_clean[2:4], p_dirty[2:4])
        # Every other member trains on them, so the test can fail.
        assert not torch.equal(p_clean[:2], p_dirty[:2])
        assert not torch.equal(p_clean[-2:], p_dirty[-2:])


@pytest.mark.parametrize("fails", [False, True])
@pytest.mark.parametrize("flush_before", [False, True])
def test_training_flushes_subnormals_and_restores_the_mode(flush_before, fails):
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    data, _ = _member_data()
    seen = []
    original = StackedMLP.loss_and_grad

    def recording(self, *args):
        seen.append(_flushing_subnormals())
        if fails and len(seen) == 3:
            raise FloatingPointError("a training error mid-epoch")
        return original(self, *args)

    torch.set_flush_denormal(flush_before)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(StackedMLP, "loss_and_grad", recording)
            if fails:
                with pytest.raises(FloatingPointError):
                    _train_stacked(data, 2, epochs=1)
            else:
                _train_stacked(data, 2, epochs=1)
        assert seen and all(seen)
        # The caller's mode, also after an error.
        assert _flushing_subnormals() is flush_before
    finally:
        torch.set_flush_denormal(False)


# -- the estimators ----------------------------------------------------------


def test_ranking_agrees_with_gridsearch(smooth_data):
    X, y = smooth_data
    alphas = [0.0, 0.5, 4.0]
    cv = KFold(3, shuffle=True, random_state=0)
    params = {"max_epochs": 40, "batch_size": 16, "device": "cpu", "random_state": 0}
    search = GridSearchCV(
        MixupRegressor(**params), {"alpha": alphas}, cv=cv, refit=False
    ).fit(X, y)
    ours = MixupRegressorCV(alphas=alphas, cv=cv, **params).fit(X, y)
    slow, fast = search.cv_results_, ours.cv_results_
    assert slow["rank_test_score"].tolist() == [1, 2, 3]
    assert fast["rank_test_score"].tolist() == slow["rank_test_score"].tolist()
    assert ours.alpha_ == search.best_params_["alpha"] == 0.0
    # The score gaps between alphas (0.03 to 0.12 in R^2) are several fold
    # standard deviations; the two paths agree within fold noise: the standard
    # error of a 3-fold mean, with the larger of the two stds.
    noise = np.maximum(slow["std_test_score"], fast["std_test_score"]) / np.sqrt(2)
    diff = np.abs(slow["mean_test_score"] - fast["mean_test_score"])
    assert (diff <= 2 * noise + 0.01).all(), (diff, noise)
    assert fast["params"] == [{"alpha": a} for a in alphas]
    assert list(fast["param_alpha"]) == alphas
    assert ours.best_score_ == fast["mean_test_score"][0]


def test_alpha_zero_reproduces_plain_erm_cv_score(smooth_data):
    X, y = smooth_data
    cv = KFold(3, shuffle=True, random_state=1)
    params = {"max_epochs": 40, "batch_size": 16, "device": "cpu"}
    # Seed-to-seed spread of the plain estimator's own CV score: the scale at
    # which two runs with different batches and initial weights can differ.
    plain = [
        cross_val_score(
            MixupRegressor(alpha=0.0, random_state=s, **params),
            X,
            y,
            cv=cv,
        ).mean()
        for s in (0, 1)
    ]
    ours = MixupRegressorCV(alphas=[0], cv=cv, random_state=0, **params).fit(X, y)
    spread = abs(plain[0] - plain[1])
    assert abs(ours.best_score_ - np.mean(plain)) <= max(3 * spread, 0.02), (
        ours.best_score_,
        plain,
    )


def test_classifier_fits_like_a_plain_classifier_in_a_pipeline(clf_data):
    X, y = clf_data
    labels = np.array(["a", "b", "c"])[y]
    pipe = make_pipeline(
        StandardScaler(), MixupClassifierCV(alphas=[0, 0.4], cv=3, **FAST)
    )
    pipe.fit(X, labels)
    est = pipe[-1]
    assert isinstance(est, MixupClassifier)
    assert type(est.net_.module_) is MLP
    assert est.classes_.tolist() == ["a", "b", "c"] and est.n_features_in_ == 6
    assert est.alpha_ in (0, 0.4) and est.n_iter_ == FAST["max_epochs"]
    assert len(est.loss_curve_) == FAST["max_epochs"]
    proba = pipe.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert pipe.score(X, labels) > 0.7
    assert set(est.cv_results_) >= {
        "params",
        "param_alpha",
        "split0_test_score",
        "split2_test_score",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    }
    # Same seed, same predictions; clone gives an unfitted twin.
    again = clone(pipe).fit(X, labels)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_int_cv_is_stratified_for_classifiers(clf_data, monkeypatch):
    X, y = clf_data
    seen = []
    original = StratifiedKFold.split

    def spy(self, *args, **kwargs):
        seen.append(self.n_splits)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StratifiedKFold, "split", spy)
    MixupClassifierCV(alphas=[0], cv=4, **{**FAST, "max_epochs": 1}).fit(X, y)
    assert seen == [4]


def test_any_splitter_works_even_overlapping_test_sets(clf_data):
    X, y = clf_data
    cv = ShuffleSplit(n_splits=3, test_size=0.3, random_state=0)
    est = MixupClassifierCV(alphas=[0, 1.0], cv=cv, **FAST).fit(X, y)
    assert "split2_test_score" in est.cv_results_


@pytest.mark.parametrize("param", ["module", "early_stopping", "alpha", "pairing"])
def test_parameters_it_does_not_honour_are_not_parameters(param):
    # Explicit signatures, as RidgeCV's: no parameter that only raises at fit.
    assert param not in MixupClassifierCV().get_params()
    with pytest.raises(TypeError, match=param):
        MixupClassifierCV(**{param: MixupClassifier().get_params()[param]})


def test_zero_width_hidden_layer_is_named(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a sequence"):
        MixupClassifierCV(alphas=[0], cv=3, **FAST, hidden_layer_sizes=(3, 0)).fit(X, y)


def test_bad_alphas_are_rejected(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="alphas must be"):
        MixupClassifierCV(alphas=[0.1, -1], **FAST).fit(X, y)


@pytest.mark.parametrize(
    "CV, Plain",
    [(MixupClassifierCV, MixupClassifier), (MixupRegressorCV, MixupRegressor)],
)
def test_parameters_are_alphas_cv_and_plain_ones_with_their_defaults(CV, Plain):
    ours, plain = CV().get_params(), Plain().get_params()
    assert {"alphas", "cv"} <= set(ours) and "alpha" not in ours
    shared = set(ours) - {"alphas", "cv"}
    assert {name: ours[name] for name in shared} == {
        name: plain[name] for name in shared
    }
    for name in shared:
        assert CV._parameter_constraints[name] == Plain._parameter_constraints[name]
    # clone round-trips every parameter, with no attribute set outside __init__.
    est = CV(alphas=(0, 1.0), cv=3, lr=0.01)
    assert clone(est).get_params() == est.get_params()
    assert set(vars(CV())) == set(ours)


def test_each_member_draws_its_own_lambdas_from_its_alpha():
    data, mask = _member_data()
    alphas = [0.0, 0.4, np.inf, 0.4]
    it = StackedBatchIterator(
        data,
        torch.zeros(4, dtype=torch.long),
        alphas,
        10,
        torch.Generator().manual_seed(0),
    )
    lam = it._lambdas(500).reshape(500, 4)
    assert (lam[:, 0] == 1).all()  # alpha=0: no mixing
    assert (lam[:, 2] == 0.5).all()  # alpha=inf: SamplePairing's average
    assert ((lam[:, 1] > 0) & (lam[:, 1] < 1)).all()
    # Two members with the same alpha still draw independently.
    assert not torch.equal(lam[:, 1], lam[:, 3])
    # Beta(0.4, 0.4) is U-shaped: most draws lie near 0 or 1.
    assert ((lam[:, 1] < 0.2) | (lam[:, 1] > 0.8)).float().mean() > 0.5


def test_refit_is_the_plain_fit_with_the_chosen_alpha(clf_data):
    X, y = clf_data
    est = MixupClassifierCV(alphas=[0, 0.4], cv=3, **FAST).fit(X, y)
    plain = MixupClassifier(alpha=est.alpha_, **FAST).fit(X, y)
    np.testing.assert_array_equal(est.predict_proba(X), plain.predict_proba(X))
    assert est.loss_curve_ == plain.loss_curve_ and est.n_iter_ == plain.n_iter_


def test_alpha_zero_members_weigh_each_row_by_its_own_weight():
    # At alpha=0 nothing is mixed, so a row must weigh its own sample weight,
    # not its weight times its (unused) partner's, as GridSearchCV's fits do.
    data, mask = _member_data(weighted=True)
    K = len(mask)
    it = StackedBatchIterator(
        data, torch.arange(K), [0.0] * K, 10, torch.Generator().manual_seed(0)
    )
    module = StackedMLP(K, 3, 2, (8,), "relu", torch.Generator().manual_seed(0))
    for X, target, weight, _ in it:
        ids = X[:, :, 0].round().long()  # column 0 holds the row id
        own = data.rest[ids, -1]
        torch.testing.assert_close(weight, own * (weight > 0), rtol=0, atol=0)
        # Each member's loss is a plain fit's weighted loss on the same rows.
        _, member_loss = module.loss_and_grad(X, target, "cross_entropy", weight)
        for k in range(K):
            _, plain_loss = module.member(k).loss_and_grad(
                X[k], target[k], "cross_entropy", weight[k]
            )
            torch.testing.assert_close(member_loss[k], plain_loss)


def test_a_member_takes_exactly_the_steps_of_a_plain_fit_on_its_split():
    data, mask = _member_data()  # splits of 77, 78 and 103 rows: 8 or 11 steps
    n_steps = [math.ceil(m.sum() / 10) for m in mask]
    snapshots = []

    class Snapshot(Callback):
        def on_batch_end(self, net, **kwargs):
            snapshots.append([W[0].clone() for W in net.module_.weights])

    epochs = 2
    _train_stacked(data, 2, epochs=epochs, callbacks=[Snapshot()])
    # Member 0 (split 0, 8 steps) is unchanged over the epoch's last 3 steps,
    # and moves again in the next epoch.
    for epoch in range(epochs):
        last_own = epoch * max(n_steps) + n_steps[0] - 1
        for later in snapshots[last_own + 1 : (epoch + 1) * max(n_steps)]:
            for a, b in zip(snapshots[last_own], later, strict=True):
                assert torch.equal(a, b)
    assert not torch.equal(snapshots[n_steps[0] - 1][0], snapshots[-1][0])


def test_members_optimizer_state_counts_their_own_steps():
    data, mask = _member_data()
    n_steps = [math.ceil(m.sum() / 10) for m in mask]
    generator = torch.Generator().manual_seed(0)
    module = StackedMLP(len(mask), 3, 2, (16,), "relu", generator, per_member=True)
    net = StackedMixupNet(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=3,
        batch_size=10,
        train_split=None,
        member_alphas=[1.0] * len(mask),
        member_split=list(range(len(mask))),
        random_state=0,
    ).fit(data, None)
    # Adam counted each member's own steps, so its bias corrections are those
    # of a plain fit on the member's split.
    for k in range(len(mask)):
        for param in net.module_.member_parameters(k):
            assert int(net.optimizer_.state[param]["step"]) == 3 * n_steps[k]


def test_stacked_parameters_refuse_to_leave_a_member_out():
    module = StackedMLP(3, 4, 2, (8,), "relu")
    module.set_active([True, True, True])  # every member: fine
    with pytest.raises(RuntimeError, match="per_member=True"):
        module.set_active([True, False, True])


def test_wide_networks_train_their_members_split_group_by_split_group(
    clf_data, monkeypatch
):
    import skmixup._cv

    X, y = clf_data
    groups = []
    original = MixupClassifierCV._train_members

    def recording(self, X, rest, train_mask, *args):
        groups.append(len(train_mask))
        return original(self, X, rest, train_mask, *args)

    monkeypatch.setattr(MixupClassifierCV, "_train_members", recording)
    one = MixupClassifierCV(alphas=[0, 0.4], cv=3, **FAST).fit(X, y)
    assert groups == [3]
    monkeypatch.setattr(skmixup._cv, "_GROUP_BYTES", 1)  # one split at a time
    apart = MixupClassifierCV(alphas=[0, 0.4], cv=3, **FAST).fit(X, y)
    assert groups == [3, 1, 1, 1]
    # Other draws, the same search: scores within fold-to-fold noise.
    np.testing.assert_allclose(
        apart.cv_results_["mean_test_score"],
        one.cv_results_["mean_test_score"],
        atol=0.1,
    )
