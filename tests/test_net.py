"""The skorch net and the tensor batch iterator."""

import numpy as np
import pytest
import torch
from skorch import NeuralNet

from skmixup import MLP, ArrayDataset, MixupNet, TensorBatchIterator
from skmixup._mixer import Mixer, MixupConfig


def _epoch_rows(iterator):
    return torch.cat([batch[0] for batch in iterator]).tolist()


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 5), (7, 16), (1, 1)])
def test_iterator_yields_every_row_once_per_epoch(n, batch_size):
    X = torch.arange(n)
    it = TensorBatchIterator(
        (X, None), batch_size, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    sizes = [len(b[0]) for b in it]
    assert len(sizes) == len(it) == -(-n // batch_size)
    assert sum(sizes) == n and all(s == batch_size for s in sizes[:-1])
    assert 1 <= sizes[-1] <= batch_size  # a short last batch is kept
    for _ in range(3):
        assert sorted(_epoch_rows(it)) == list(range(n))


def test_iterator_new_order_each_epoch_and_reproducible():
    X = torch.arange(50)

    def orders(seed):
        it = TensorBatchIterator(
            (X,), 8, shuffle=True, generator=torch.Generator().manual_seed(seed)
        )
        return [_epoch_rows(it) for _ in range(3)]

    first = orders(0)
    assert first[0] != first[1] != first[2]
    assert first == orders(0)
    assert first != orders(1)


def test_iterator_keeps_rows_aligned():
    X = torch.arange(20)
    y = X * 10
    w = X * 100
    it = TensorBatchIterator(
        (X, y, w), 6, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    for xb, yb, wb in it:
        assert torch.equal(yb, xb * 10) and torch.equal(wb, xb * 100)


def test_iterator_without_shuffle_is_in_order():
    it = TensorBatchIterator((torch.arange(7), None), 3)
    assert _epoch_rows(it) == list(range(7))
    assert [b[1] for b in it] == [None, None, None]


@pytest.mark.parametrize("n, batch_size", [(50, 8), (16, 16), (5, 8)])
def test_iterator_partners_permute_each_batch(n, batch_size):
    X = torch.arange(n, dtype=torch.float32)[:, None]
    y = X.long().ravel() * 10  # integer targets: partners come unmixed
    g = torch.Generator().manual_seed(0)
    it = TensorBatchIterator(
        (X, y), batch_size, shuffle=True, generator=g, mixer=_mixer(g)
    )
    fixed_points = 0
    for _ in range(20):
        for batch in it:
            xb, yb = batch
            ((px, py),) = batch.partners
            assert sorted(px.ravel().tolist()) == sorted(xb.ravel().tolist())
            torch.testing.assert_close(py, px.long().ravel() * 10)  # rows stay whole
            fixed_points += int((px == xb).sum())
    # A uniform random permutation has one fixed point per batch on average.
    n_batches = 20 * -(-n // batch_size)
    assert 0.5 * n_batches < fixed_points < 1.5 * n_batches


def test_iterator_premixes_an_epoch_with_one_lambda_per_batch():
    n, bs = 30, 8
    X = torch.eye(n)  # row i is e_i: a mix of rows i and j reads lam and 1 - lam
    y = torch.arange(n, dtype=torch.float32)[:, None]
    w = torch.arange(1, n + 1, dtype=torch.float32)
    g = torch.Generator().manual_seed(0)
    it = TensorBatchIterator((X, y, w), bs, shuffle=True, generator=g, mixer=_mixer(g))
    for _ in range(3):
        seen = 0
        for k, batch in enumerate(it):
            xb, yb, wb = batch
            assert batch.premixed
            assert xb.shape[0] == min(bs, n - k * bs)
            # One lambda per batch: every mixed row holds the same pair of values.
            pairs = {
                tuple(sorted(round(v, 5) for v in row[row > 0].tolist()))
                for row in xb
                if (row > 0).sum() == 2
            }
            assert len(pairs) <= 1
            for row, target, weight in zip(xb, yb, wb, strict=True):
                (i, *rest) = row.nonzero().ravel().tolist()
                if not rest:  # paired with itself
                    assert row[i] == pytest.approx(1.0)
                    continue
                j = rest[0]
                assert row[i] + row[j] == pytest.approx(1.0)
                # Targets mixed with the same weights; weights multiplied.
                assert target.item() == pytest.approx(row[i] * i + row[j] * j)
                assert weight.item() == pytest.approx((i + 1) * (j + 1))
            seen += len(xb)
        assert seen == n


def _mixer(generator, **config):
    mixer = Mixer(MixupConfig(alpha=1.0, **config), generator)
    mixer.begin_fit(1)
    mixer.begin_epoch()
    return mixer


def test_iterator_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        TensorBatchIterator((torch.arange(3),), 0)


class Recorder(torch.nn.Module):
    """A linear module that remembers what it was fed, in train and eval mode."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.seen = {True: [], False: []}

    def forward(self, X):
        self.seen[self.training].append(X.detach().clone())
        return self.linear(X)


def _one_hot_rows(n):
    # Row i is the unit vector e_i: a mix of rows i and j has at most two
    # non-zero entries, lam and 1 - lam.
    X = np.eye(n, dtype=np.float32)
    y = (np.arange(n) % 2).astype(np.int64)
    return X, y


def _net(alpha, n_features, **kwargs):
    return MixupNet(
        Recorder(n_features, 2),
        criterion=torch.nn.CrossEntropyLoss,
        alpha=alpha,
        max_epochs=3,
        batch_size=8,
        random_state=0,
        verbose=0,
        **kwargs,
    )


def _fit(alpha, X, y, **kwargs):
    return _net(alpha, X.shape[1], **kwargs).fit(X, y)


def test_training_inputs_are_mixed_pairs():
    X, y = _one_hot_rows(24)
    net = _fit(1.0, X, y, train_split=None)
    lams = set()
    for batch in net.module_.seen[True]:
        nonzero = [row[row > 0] for row in batch]
        assert all(1 <= len(v) <= 2 for v in nonzero)
        for v in nonzero:
            torch.testing.assert_close(v.sum(), torch.tensor(1.0))
        # One lambda per batch: every pair of two rows shows {lam, 1 - lam}.
        pairs = [tuple(sorted(v.tolist())) for v in nonzero if len(v) == 2]
        assert len({round(p[0], 5) for p in pairs}) <= 1
        lams.update(round(p[0], 5) for p in pairs)
    assert len(lams) > 1  # lambda changes between batches


class RecordingMSE(torch.nn.MSELoss):
    seen: list

    def forward(self, input, target):
        self.seen.append(target.detach().clone())
        return super().forward(input, target)


def test_targets_are_mixed_with_their_inputs():
    # Row i is e_i with target i: a mixed row lam*e_i + (1-lam)*e_j must carry
    # the target lam*i + (1-lam)*j, whichever code path mixed it.
    X, _ = _one_hot_rows(24)
    y = np.arange(24, dtype=np.float32)[:, None]
    RecordingMSE.seen = []
    net = MixupNet(
        Recorder(24, 1),
        criterion=RecordingMSE,
        alpha=1.0,
        max_epochs=2,
        batch_size=8,
        train_split=None,
        random_state=0,
    ).fit(X, y)
    inputs = net.module_.seen[True]
    assert len(inputs) == len(RecordingMSE.seen) == 6
    for xb, yb in zip(inputs, RecordingMSE.seen, strict=True):
        torch.testing.assert_close(xb @ torch.arange(24.0)[:, None], yb)


def test_other_datasets_are_mixed_too():
    # A dataset the tensor iterator does not know goes through skorch's
    # DataLoader; the net then draws the partners itself.
    X, y = _one_hot_rows(24)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    net = _net(1.0, 24, train_split=None)
    assert not isinstance(
        net.initialize().get_iterator(dataset, True), TensorBatchIterator
    )
    net.fit(dataset, None)
    mixed = 0
    for batch in net.module_.seen[True]:
        nonzero = [row[row > 0] for row in batch]
        assert all(1 <= len(v) <= 2 for v in nonzero)
        mixed += sum(len(v) == 2 for v in nonzero)
    assert mixed > 0


def test_alpha_zero_trains_on_original_rows():
    X, y = _one_hot_rows(24)
    net = _fit(0.0, X, y, train_split=None)
    for batch in net.module_.seen[True]:
        assert torch.equal(batch.sum(dim=1), torch.ones(len(batch)))
        assert ((batch == 0) | (batch == 1)).all()


def test_validation_and_predict_never_mix():
    X, y = _one_hot_rows(40)
    net = _fit(1.0, X, y)  # skorch's default ValidSplit: a validation set each epoch
    assert net.module_.seen[False]
    for batch in net.module_.seen[False]:
        assert ((batch == 0) | (batch == 1)).all()
    net.module_.seen[False].clear()
    net.predict(X)
    torch.testing.assert_close(torch.cat(net.module_.seen[False]), torch.from_numpy(X))


def test_float_targets_are_mixed_as_values():
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]
    net = MixupNet(
        torch.nn.Linear(3, 1),
        criterion=torch.nn.MSELoss,
        alpha=0.4,
        max_epochs=60,
        lr=0.05,
        train_split=None,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    # Mixup of a linear target is still that linear target: the fit is exact.
    w = net.module_.weight.detach().numpy().ravel()
    np.testing.assert_allclose(w, [1.0, -2.0, 0.5], atol=0.05)


def test_alpha_zero_matches_plain_skorch():
    X, y = _one_hot_rows(24)
    kwargs = {"criterion": torch.nn.CrossEntropyLoss, "max_epochs": 3, "batch_size": 8}
    torch.manual_seed(0)
    mixup_net = MixupNet(
        torch.nn.Linear(24, 2), alpha=0, train_split=None, random_state=0, **kwargs
    )
    torch.manual_seed(0)
    plain = NeuralNet(
        torch.nn.Linear(24, 2),
        train_split=None,
        batch_size=24,
        max_epochs=3,
        criterion=torch.nn.CrossEntropyLoss,
    )
    mixup_net.set_params(batch_size=24)  # full batch: the order no longer matters
    mixup_net.fit(X, y)
    plain.fit(X, y)
    torch.testing.assert_close(
        mixup_net.module_.weight, plain.module_.weight, rtol=1e-5, atol=1e-6
    )


def test_non_finite_loss_stops_fit():
    X = np.full((32, 2), 1e30, dtype=np.float32)
    y = np.full((32, 1), 1e30, dtype=np.float32)
    net = MixupNet(
        torch.nn.Linear(2, 1),
        criterion=torch.nn.MSELoss,
        train_split=None,
        max_epochs=2,
        verbose=0,
        random_state=0,
    )
    with pytest.raises(FloatingPointError, match="training loss became"):
        net.fit(X, y)


def test_net_rejects_bad_alpha():
    net = MixupNet(
        torch.nn.Linear(2, 2), criterion=torch.nn.CrossEntropyLoss, alpha=-1.0
    )
    with pytest.raises(ValueError, match="alpha must be"):
        net.initialize()


def test_sample_weight_needs_per_row_loss():
    ds = ArrayDataset(
        torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.ones(4)
    )
    net = MixupNet(
        torch.nn.Linear(2, 2),
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        max_epochs=1,
        verbose=0,
    )
    with pytest.raises(ValueError, match="reduction='none'"):
        net.fit(ds, None)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize(
    "loss, target_kind",
    [("cross_entropy", "index"), ("cross_entropy", "soft"), ("squared_error", "value")],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_gradients_match_autograd(activation, loss, target_kind, weighted):
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    module = MLP(5, 3, hidden_layer_sizes=(7, 4), activation=activation).double()
    X = torch.randn(11, 5, generator=g, dtype=torch.float64)
    if target_kind == "index":
        y = torch.randint(0, 3, (11,), generator=g)
    elif target_kind == "soft":
        y = torch.softmax(torch.randn(11, 3, generator=g, dtype=torch.float64), 1)
    else:
        y = torch.randn(11, 3, generator=g, dtype=torch.float64)
    w = torch.rand(11, generator=g, dtype=torch.float64) if weighted else None

    out, value = module.loss_and_grad(X, y, loss, w)
    closed = [p.grad.clone() for p in module.parameters()]

    module.zero_grad()
    criterion = (
        torch.nn.CrossEntropyLoss(reduction="none")
        if loss == "cross_entropy"
        else torch.nn.MSELoss(reduction="none")
    )
    ref_out = module(X)
    rows = criterion(ref_out, y).reshape(11, -1).mean(dim=1)
    ref = rows.mean() if w is None else (rows * w).sum() / w.sum()
    ref.backward()
    torch.testing.assert_close(out, ref_out.detach())
    torch.testing.assert_close(value, ref.detach())
    for got, p in zip(closed, module.parameters(), strict=True):
        torch.testing.assert_close(got, p.grad)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_fast_path_trains_like_autograd(alpha):
    X, _ = _one_hot_rows(24)
    X = X + np.random.RandomState(0).rand(24, 24).astype(np.float32)
    y = (np.arange(24) % 3).astype(np.int64)

    def fit(fast_path):
        torch.manual_seed(0)
        return MixupNet(
            MLP(24, 3, hidden_layer_sizes=(16,)),
            criterion=torch.nn.CrossEntropyLoss,
            alpha=alpha,
            max_epochs=3,
            batch_size=8,
            train_split=None,
            random_state=0,
            fast_path=fast_path,
        ).fit(X, y)

    fast, slow = fit(True), fit(False)
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        fast.history[:, "train_loss"], slow.history[:, "train_loss"], rtol=1e-5
    )


def test_epoch_summary_history_matches_per_batch_history():
    X, y = _one_hot_rows(40)

    def fit(record_batches):
        torch.manual_seed(0)
        return MixupNet(
            torch.nn.Linear(40, 2),
            criterion=torch.nn.CrossEntropyLoss,
            alpha=0.5,
            max_epochs=3,
            batch_size=7,
            random_state=0,
            record_batches=record_batches,
        ).fit(X, y)

    summary, full = fit(False), fit(True)
    for key in ("train_loss", "valid_loss"):
        np.testing.assert_allclose(summary.history[:, key], full.history[:, key])
    assert len(full.history[-1, "batches"]) > 1
    assert len(summary.history[-1, "batches"]) == 1
    assert summary.history[-1, "batches", 0, "train_batch_size"] == 32


def test_skorch_valid_split_uses_the_fast_iterator():
    X, y = _one_hot_rows(40)
    torch.manual_seed(0)  # the module's initial weights
    net = _fit(1.0, X, y)  # skorch's default ValidSplit(5) yields Subsets
    train, valid = net.get_split_datasets(X, y)
    assert isinstance(net.get_iterator(train, training=True), TensorBatchIterator)
    assert isinstance(net.get_iterator(valid), TensorBatchIterator)
    # Shuffling, lambdas and partners all follow random_state.
    torch.manual_seed(0)
    again = _fit(1.0, X, y)
    for a, b in zip(net.module_.parameters(), again.module_.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_device_none_moves_nothing_as_in_skorch():
    X = np.random.RandomState(0).randn(40, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    kwargs = {"criterion": torch.nn.CrossEntropyLoss, "max_epochs": 2}
    kwargs.update(train_split=None, random_state=0, verbose=0)
    torch.manual_seed(0)
    anywhere = MixupNet(torch.nn.Linear(4, 2), device=None, **kwargs).fit(X, y)
    torch.manual_seed(0)
    on_cpu = MixupNet(torch.nn.Linear(4, 2), device="cpu", **kwargs).fit(X, y)
    np.testing.assert_array_equal(anywhere.predict_proba(X), on_cpu.predict_proba(X))


def test_float64_arrays_train_a_float32_module():
    X = np.random.RandomState(0).randn(40, 4)  # float64, as numpy makes it
    y = X[:, :1] * 2.0
    kwargs = {"criterion": torch.nn.MSELoss, "max_epochs": 2, "train_split": None}
    torch.manual_seed(0)
    net64 = MixupNet(torch.nn.Linear(4, 1), random_state=0, **kwargs).fit(X, y)
    torch.manual_seed(0)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    net32 = MixupNet(torch.nn.Linear(4, 1), random_state=0, **kwargs).fit(X32, y32)
    np.testing.assert_array_equal(net64.predict(X), net32.predict(X32))


def test_frozen_layers_stay_frozen_on_the_fast_path():
    # skorch's Freezer sets requires_grad=False; the closed-form step must not
    # hand such a layer a gradient (the optimizer would step it).
    from skorch.callbacks import Freezer

    X = np.random.RandomState(0).randn(64, 4).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    module = MLP(4, 2, (8,))
    before = module.layers[0].weight.detach().clone()
    trained_before = module.layers[2].weight.detach().clone()
    net = MixupNet(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        train_split=None,
        random_state=0,
        callbacks=[Freezer("layers.0.*")],
    ).fit(X, y)
    assert torch.equal(net.module_.layers[0].weight, before)
    assert not torch.equal(net.module_.layers[2].weight, trained_before)


def test_closed_form_gradients_accumulate_as_autograd_does():
    torch.manual_seed(0)
    mlp = MLP(5, 3, (7,))
    X, target = torch.randn(9, 5), torch.softmax(torch.randn(9, 3), dim=1)
    mlp.loss_and_grad(X, target, "cross_entropy")
    once = [p.grad.clone() for p in mlp.parameters()]
    mlp.loss_and_grad(X, target, "cross_entropy")
    for g, p in zip(once, mlp.parameters(), strict=True):
        torch.testing.assert_close(p.grad, 2 * g)


def test_hooks_and_frozen_parameters_take_autograd():
    mlp = MLP(5, 3, (7,))
    assert mlp.closed_form_is_exact()
    handle = mlp.layers[1].register_forward_hook(lambda *args: None)
    assert not mlp.closed_form_is_exact()
    handle.remove()
    mlp.layers[0].bias.requires_grad_(False)
    assert not mlp.closed_form_is_exact()


def test_batch_scoring_sees_every_batch_as_with_skorch():
    from skorch.callbacks import BatchScoring

    X, y = _one_hot_rows(40)

    def fit(record_batches):
        torch.manual_seed(0)
        return MixupNet(
            torch.nn.Linear(40, 2),
            criterion=torch.nn.CrossEntropyLoss,
            alpha=0.0,
            max_epochs=2,
            batch_size=7,
            random_state=0,
            record_batches=record_batches,
            callbacks=[BatchScoring(_batch_accuracy, on_train=True, name="acc")],
            verbose=0,
        ).fit(X, y)

    automatic, full = fit(None), fit(True)
    assert len(automatic.history[-1, "batches"]) > 1
    np.testing.assert_allclose(automatic.history[:, "acc"], full.history[:, "acc"])


def _batch_accuracy(net, X, y):
    return float(np.mean(net.predict(X).argmax(axis=1) == np.asarray(y)))
