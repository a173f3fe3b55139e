"""Each mixup variant does what defines it."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from skmixup import MLP, MixupClassifier, MixupNet, MixupRegressor
from skmixup._mixer import Mixer, MixupConfig

N = 24


class Recorder(torch.nn.Module):
    """A linear module that remembers every training batch it was fed."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.seen = []

    def forward(self, X):
        if self.training:
            self.seen.append(X.detach().clone())
        return self.linear(X)


class RecordingMSE(torch.nn.MSELoss):
    seen: list = []

    def forward(self, input, target):
        RecordingMSE.seen.append(target.detach().clone())
        return super().forward(input, target)


def _unit_rows(n=N):
    # Row i is e_i: a mixed row shows its samples' indices and their weights.
    return np.eye(n, dtype=np.float32)


def _recording_net(y, *, criterion=torch.nn.CrossEntropyLoss, n_out=2, **params):
    params = {"alpha": 1.0, "max_epochs": 3, "batch_size": 8, **params}
    net = MixupNet(
        Recorder(N, n_out),
        criterion=criterion,
        train_split=None,
        random_state=0,
        verbose=0,
        **params,
    )
    return net.fit(_unit_rows(), y)


def _supports(batch):
    """For every row: {index: weight} of its non-zero entries."""
    return [{int(i): float(row[i]) for i in row.nonzero().ravel()} for row in batch]


def test_samplepairing_averages_inputs_and_keeps_the_first_target():
    y = np.arange(N, dtype=np.float32)[:, None]
    RecordingMSE.seen = []
    net = _recording_net(
        y,
        criterion=RecordingMSE,
        n_out=1,
        alpha=np.inf,
        mix_on="inputs",
        batch_size=N,
        max_epochs=1,
    )
    (batch,) = net.module_.seen
    (targets,) = RecordingMSE.seen
    mixed = 0
    for support, target in zip(_supports(batch), targets.ravel().tolist(), strict=True):
        if len(support) == 2:
            mixed += 1
            assert set(support.values()) == {0.5}  # lambda is exactly 0.5
        # The target is one of the two samples' own, never their average...
        assert target in support
    # ...and each row is the first sample of exactly one pair.
    assert sorted(targets.ravel().tolist()) == list(range(N))
    assert mixed > N // 2


def test_samplepairing_schedule_alternates_and_ends_unmixed():
    y = np.arange(N) % 2
    net = _recording_net(
        y,
        alpha=np.inf,
        mix_on="inputs",
        alternate_epochs=1,
        final_unmixed_epochs=2,
        max_epochs=7,
        batch_size=N,
    )
    mixed = [any(len(s) == 2 for s in _supports(batch)) for batch in net.module_.seen]
    assert mixed == [True, False, True, False, True, False, False]


def test_final_unmixed_epochs_leave_the_last_epochs_unmixed():
    y = np.arange(N) % 2
    net = _recording_net(y, final_unmixed_epochs=2, max_epochs=5, batch_size=N)
    mixed = [any(len(s) == 2 for s in _supports(batch)) for batch in net.module_.seen]
    assert mixed == [True, True, True, False, False]


@pytest.mark.parametrize("use_estimator", [False, True])
def test_same_class_pairing_never_mixes_two_classes(use_estimator):
    labels = np.arange(N) % 3
    if use_estimator:
        # One-hot float targets: the whole epoch is mixed before the steps.
        clf = MixupClassifier(
            module=Recorder,
            alpha=1.0,
            pairing="same_class",
            max_epochs=3,
            batch_size=8,
            random_state=0,
        ).fit(_unit_rows(), labels)
        batches = clf.net_.module_.seen
    else:
        # Integer labels: mixed inside the training step.
        batches = _recording_net(labels, n_out=3, pairing="same_class").module_.seen
    n_mixed = 0
    for batch in batches:
        for support in _supports(batch):
            assert len({labels[i] for i in support}) == 1
            n_mixed += len(support) == 2
    assert n_mixed > 10


def _partner_distance(pairing, X, y, **config):
    """Mean distance between every row and its partner, over a few epochs."""
    g = torch.Generator().manual_seed(0)
    mixer = Mixer(MixupConfig(alpha=1.0, pairing=pairing, **config), g)
    tensors = (torch.as_tensor(X), torch.as_tensor(y))
    order = torch.randperm(len(X), generator=g)
    gaps = []
    for _ in range(5):
        (partner,) = mixer.partner_orders(order, tensors, batch_size=32)
        for t, gap in ((tensors[0], gaps),):
            gap.append((t[order] - t[partner]).norm(dim=1).mean().item())
    return float(np.mean(gaps))


def test_knn_partners_are_nearer_than_random_ones():
    X, y = make_classification(400, 6, random_state=0)
    X = X.astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[y]
    knn = _partner_distance("knn", X, Y, n_neighbors=5)
    random = _partner_distance("random", X, Y)
    assert knn < 0.6 * random


def test_label_distance_partners_have_closer_targets_than_random_ones():
    rng = np.random.RandomState(0)
    y = rng.randn(400, 1).astype(np.float32)
    X = rng.randn(400, 3).astype(np.float32)
    g = torch.Generator().manual_seed(0)
    gaps = {}
    for pairing in ("label_distance", "random"):
        mixer = Mixer(MixupConfig(pairing=pairing, label_bandwidth=0.2), g)
        order = torch.randperm(400, generator=g)
        (partner,) = mixer.partner_orders(
            order, (torch.as_tensor(X), torch.as_tensor(y)), batch_size=32
        )
        gaps[pairing] = (y[order.numpy()] - y[partner.numpy()]).__abs__().mean()
    assert gaps["label_distance"] < 0.3 * gaps["random"]


def test_manifold_mixup_mixes_hidden_activations_not_inputs():
    X, y = make_classification(64, 4, random_state=0)
    X = X.astype(np.float32)
    module = MLP(4, 2, hidden_layer_sizes=(16,))
    first, activation, second = module.layers
    seen = {"input": [], "hidden": [], "mixed": []}
    first.register_forward_pre_hook(lambda m, a: seen["input"].append(a[0].detach()))
    activation.register_forward_hook(
        lambda m, a, out: seen["hidden"].append(out.detach())
    )
    second.register_forward_pre_hook(lambda m, a: seen["mixed"].append(a[0].detach()))
    net = MixupNet(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        alpha=1.0,
        manifold=True,
        max_epochs=4,
        batch_size=16,
        train_split=None,
        random_state=0,
        verbose=0,
    )
    net.fit(X, y)
    rows = {tuple(r) for r in X.tolist()}
    n_hidden_mixes = 0
    for inputs, hidden, mixed in zip(
        seen["input"], seen["hidden"], seen["mixed"], strict=True
    ):
        if len(inputs) == len(mixed):
            continue  # this batch mixed at the input (layer 0)
        n_hidden_mixes += 1
        # The network saw the rows themselves: the inputs were not touched...
        assert all(tuple(r) in rows for r in inputs.tolist())
        # ...while the hidden layer's output was mixed pairwise with one lambda.
        a, b = hidden.split(len(mixed))
        direction = a - b
        lam = ((mixed - b) * direction).sum() / direction.square().sum()
        torch.testing.assert_close(mixed, b + lam * direction, atol=1e-4, rtol=0)
        assert 0 <= lam <= 1
        assert not torch.allclose(mixed, a)
    assert n_hidden_mixes > 3


def test_manifold_needs_the_default_mlp():
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match="manifold=True.*default MLP"):
        MixupClassifier(module=Recorder, manifold=True, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="forward_mixed"):
        _recording_net(np.arange(N) % 2, manifold=True)


def test_n_mixed_mixes_that_many_samples_with_weights_summing_to_one():
    net = _recording_net(np.arange(N) % 2, n_mixed=3)
    sizes = set()
    for batch in net.module_.seen:
        for support in _supports(batch):
            sizes.add(len(support))
            assert sum(support.values()) == pytest.approx(1.0, abs=1e-5)
    assert 3 in sizes and max(sizes) == 3


@pytest.mark.parametrize("per_sample", [False, True])
def test_per_sample_lambda_draws_one_weight_per_row(per_sample):
    net = _recording_net(
        np.arange(N) % 2, per_sample_lambda=per_sample, batch_size=N, max_epochs=1
    )
    (batch,) = net.module_.seen
    lambdas = {round(min(s.values()), 5) for s in _supports(batch) if len(s) == 2}
    assert (len(lambdas) > 3) == per_sample


@pytest.mark.parametrize("per_sample", [False, True])
def test_mix_probability_mixes_about_that_share_of_batches(per_sample):
    X = _unit_rows()
    net = MixupNet(
        Recorder(N, 2),
        criterion=torch.nn.CrossEntropyLoss,
        alpha=1.0,
        mix_probability=0.3,
        per_sample_lambda=per_sample,
        max_epochs=40,
        batch_size=8,
        train_split=None,
        random_state=0,
        verbose=0,
    ).fit(X, np.arange(N) % 2)
    shares = [np.mean([len(s) == 2 for s in _supports(b)]) for b in net.module_.seen]
    assert 0.15 < np.mean([share > 0 for share in shares]) < 0.45
    # The coin is tossed per batch: a mixed batch mixes all its rows (but the
    # ones paired with themselves), whether lambda is per batch or per row.
    assert np.mean([share for share in shares if share > 0]) > 0.75


def test_mix_on_targets_keeps_inputs_and_mixes_targets():
    y = np.arange(N, dtype=np.float32)[:, None]
    RecordingMSE.seen = []
    net = _recording_net(
        y, criterion=RecordingMSE, n_out=1, mix_on="targets", max_epochs=1
    )
    for batch, targets in zip(net.module_.seen, RecordingMSE.seen, strict=True):
        assert all(len(s) == 1 for s in _supports(batch))
        # A target that is not a row index is a mix of two.
        assert any(float(t) != round(float(t)) for t in targets.ravel())


def test_dropout_adds_dropout_layers_and_changes_training():
    X, y = make_classification(100, 5, random_state=0)
    plain = MixupClassifier(max_epochs=3, random_state=0).fit(X, y)
    dropped = MixupClassifier(dropout=0.5, max_epochs=3, random_state=0).fit(X, y)
    layers = dropped.net_.module_.layers
    assert sum(isinstance(m, torch.nn.Dropout) for m in layers) == 2
    assert not np.allclose(plain.predict_proba(X), dropped.predict_proba(X))
    # Prediction runs in eval mode: no dropout, so it is deterministic.
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))


@pytest.mark.parametrize(
    "params",
    [
        {"pairing": "knn", "n_mixed": 3},
        {"manifold": True, "per_sample_lambda": True},
        {"alpha": np.inf, "mix_on": "inputs", "alternate_epochs": 1},
    ],
)
def test_variants_follow_random_state(params):
    X, y = make_classification(80, 4, random_state=0)
    fits = [
        MixupClassifier(max_epochs=3, random_state=0, **params).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_grid_search_over_variants_and_alpha():
    X, y = make_classification(120, 5, random_state=0)
    grid = {
        "alpha": [0.0, 0.4, np.inf],
        "pairing": ["random", "knn"],
        "mix_on": ["both", "inputs"],
    }
    search = GridSearchCV(
        MixupClassifier(max_epochs=2, batch_size=16, random_state=0), grid, cv=2
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 12
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert set(search.best_params_) == set(grid)


def test_pairings_belong_to_their_task():
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match="pairing='label_distance'.*regression"):
        MixupClassifier(pairing="label_distance", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="pairing='same_class'.*class labels"):
        MixupRegressor(pairing="same_class", max_epochs=1).fit(X, y.astype(float))


def test_final_unmixed_epochs_must_leave_a_mixed_epoch():
    X, y = make_classification(40, 4, random_state=0)
    with pytest.raises(ValueError, match="final_unmixed_epochs=3.*max_epochs=3"):
        MixupClassifier(final_unmixed_epochs=3, max_epochs=3).fit(X, y)
    # Without mixing there is nothing to switch off.
    MixupClassifier(alpha=0, final_unmixed_epochs=3, max_epochs=3).fit(X, y)
