"""Numerical embeddings of the default MLP, and mixing that keeps one-hot blocks."""

import contextlib
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skmixup._base
from skmixup import (
    MLP,
    MixupClassifier,
    MixupNet,
    MixupRegressor,
    TensorBatchIterator,
    one_hot_groups,
)
from skmixup._base import evaluate_float64
from skmixup._mixer import Mixer, MixupConfig
from skmixup._mixing import pick_blocks
from skmixup._modules import quantile_bins

pytest.importorskip("rtdl_num_embeddings")

FIT = {"max_epochs": 5, "batch_size": 32, "device": "cpu", "random_state": 0}
# Two one-hot blocks after four numeric columns.
GROUPS = [[4, 5, 6], [7, 8]]


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(200, 4, n_informative=3, n_redundant=0, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def mixed_table():
    """Numeric columns, then one-hot blocks of 3 and 2 categories."""
    rng = np.random.RandomState(0)
    X, y = make_classification(240, 4, n_informative=3, n_redundant=0, random_state=0)
    blocks = [np.eye(3)[rng.randint(0, 3, len(X))], np.eye(2)[rng.randint(0, 2, 240)]]
    return np.hstack([X, *blocks]).astype(np.float32), y


@contextlib.contextmanager
def mlp_inputs():
    """Every training batch that reaches an :class:`MLP`'s forward. A global hook
    also turns the closed-form step off, so every fit runs forward."""
    seen = []

    def hook(module, args):
        if isinstance(module, MLP) and module.training:
            seen.append(args[0].detach().clone())

    handle = torch.nn.modules.module.register_module_forward_pre_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def _assert_one_hot(X, groups=GROUPS):
    for group in groups:
        block = X[:, group]
        assert torch.all((block == 0) | (block == 1))
        assert torch.all(block.sum(dim=1) == 1)


# -- embeddings ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["periodic", "piecewise_linear"])
def test_embedding_feeds_each_feature_as_d_embedding_values(kind, classification):
    X, _ = classification
    bins = quantile_bins(X, 8) if kind == "piecewise_linear" else None
    net = MLP(4, 3, (16,), num_embeddings=kind, d_embedding=5, bins=bins)
    embedded = net.layers[1](net.layers[0](torch.from_numpy(X)))
    assert embedded.shape == (len(X), 4 * 5)
    assert net.layers[2].in_features == 20
    assert net(torch.from_numpy(X)).shape == (len(X), 3)
    assert not net.closed_form_is_exact()


def test_periodic_frequencies_train(classification):
    X, y = classification
    clf = MixupClassifier(num_embeddings="periodic", **FIT).fit(X, y)
    frequencies = clf.net_.module_.layers[0].periodic.weight
    init = MixupClassifier(num_embeddings="periodic", **{**FIT, "max_epochs": 1})
    # Same seed, fewer epochs: the frequencies moved with training.
    first = init.fit(X, y).net_.module_.layers[0].periodic.weight
    assert frequencies.shape == (4, 48)
    assert not torch.equal(frequencies, first)


def test_same_seed_same_embedded_predictions(classification):
    X, y = classification
    a = MixupClassifier(num_embeddings="periodic", **FIT).fit(X, y)
    b = MixupClassifier(num_embeddings="periodic", **FIT).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_num_embeddings_params_reach_the_embedding(classification):
    X, y = classification
    params = {"d_embedding": 3, "n_frequencies": 5, "frequency_init_scale": 0.5}
    clf = MixupClassifier(
        num_embeddings="periodic", num_embeddings_params=params, **FIT
    ).fit(X, y)
    embedding = clf.net_.module_.layers[0]
    assert embedding.periodic.weight.shape == (4, 5)
    assert clf.net_.module_.layers[2].in_features == 4 * 3
    with pytest.raises(ValueError, match="n_bins"):
        MixupClassifier(
            num_embeddings="periodic", num_embeddings_params={"n_bins": 4}, **FIT
        ).fit(X, y)


def test_quantile_bins_are_increasing_quantiles_with_two_bins_at_least():
    X = np.column_stack(
        [np.arange(101.0), np.r_[np.zeros(50), np.ones(51)], 7.0 * np.ones(101)]
    )
    bins = quantile_bins(X, n_bins=4)
    assert bins[0].tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert bins[1].tolist() == [0.0, 0.5, 1.0]
    assert bins[2].tolist() == [7.0, 7.5, 8.0]
    sparse = quantile_bins(sp.csr_matrix(X), n_bins=4)
    assert all(torch.equal(a, b) for a, b in zip(bins, sparse, strict=True))


def test_piecewise_linear_bins_come_from_training_rows_only(
    classification, monkeypatch
):
    X, y = classification
    seen = []

    def recording_bins(rows, n_bins):
        seen.append(np.array(rows))
        return quantile_bins(rows, n_bins)

    monkeypatch.setattr(skmixup._base, "quantile_bins", recording_bins)
    clf = MixupClassifier(
        num_embeddings="piecewise_linear",
        early_stopping=True,
        validation_fraction=0.25,
        **FIT,
    ).fit(X, y)
    (rows,) = seen
    assert len(rows) == len(X) - 50
    # Every row is a row of X, and the held-out ones are not among them.
    full = {r.tobytes() for r in X}
    assert {r.tobytes() for r in rows} < full
    # The fitted encoding's first and last edges are the training rows' range.
    impl = clf.net_.module_.layers[0].impl
    low = -impl.bias[:, 0] / impl.weight[:, 0]
    np.testing.assert_allclose(low.numpy(), rows.min(axis=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["periodic", "piecewise_linear"])
def test_float64_evaluation_matches_float32(kind, classification):
    X, y = classification
    clf = MixupClassifier(num_embeddings=kind, **FIT).fit(X, y)
    module = clf.net_.module_.eval()
    with torch.no_grad():
        out32 = module(torch.from_numpy(X)).numpy()
    out64 = evaluate_float64(module, torch.from_numpy(X), "cpu")
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64, out32, rtol=1e-4, atol=1e-5)


def _embedding_hooks(net):
    """Record the embedding's input and output, and the first hidden layer's
    input, of every training step of ``net``'s MLP."""
    record = {"in": [], "out": [], "hidden_in": []}

    def at_embedding(module, args, out):
        if module.training:
            record["in"].append(args[0].detach().clone())
            record["out"].append(out.detach().clone())

    def at_hidden(module, args):
        if module.training:
            record["hidden_in"].append(args[0].detach().clone())

    net.layers[0].register_forward_hook(at_embedding)
    net.layers[2].register_forward_pre_hook(at_hidden)
    return record


@pytest.mark.parametrize("mix_embeddings", [False, True])
def test_mix_embeddings_chooses_what_is_mixed(mix_embeddings):
    # Row i is 10 * e_i: a mixed row shows its two samples.
    n = 8
    X = 10 * np.eye(n, dtype=np.float32)
    y = np.arange(n) % 2
    module = MLP(n, 2, (6,), num_embeddings="periodic", d_embedding=3)
    record = _embedding_hooks(module)
    MixupNet(
        module,
        criterion=torch.nn.CrossEntropyLoss,
        alpha=np.inf,  # lambda = 0.5
        mix_embeddings=mix_embeddings,
        max_epochs=1,
        batch_size=n,
        train_split=None,
        random_state=0,
    ).fit(X, y)
    (inputs,), (embedded,), (hidden_in,) = (
        record["in"],
        record["out"],
        record["hidden_in"],
    )
    rows = torch.from_numpy(X)
    is_row = (inputs[:, None, :] == rows[None]).all(dim=2).any(dim=1)
    if mix_embeddings:
        # The raw rows (each row, then its partner) are embedded, and their
        # embeddings are mixed.
        assert len(inputs) == 2 * n and bool(is_row.all())
        flat = embedded.flatten(1)
        np.testing.assert_allclose(hidden_in, 0.5 * (flat[:n] + flat[n:]), rtol=1e-6)
    else:
        # The embedding sees mixed rows: midpoints of two rows (a row with itself
        # when the permutation fixes it).
        assert len(inputs) == n
        midpoints = 0.5 * (rows[:, None, :] + rows[None, :, :]).reshape(-1, n)
        assert bool((inputs[:, None, :] == midpoints[None]).all(dim=2).any(dim=1).all())
        assert not bool(is_row.all())


def test_mix_embeddings_needs_embeddings(classification):
    X, y = classification
    with pytest.raises(ValueError, match="num_embeddings"):
        MixupClassifier(mix_embeddings=True, **FIT).fit(X, y)


def test_manifold_with_embeddings_draws_from_the_input_or_embeddings_and_hidden():
    net = MLP(4, 2, (8, 8), num_embeddings="periodic")
    assert net.n_mixable_layers == 4
    assert net.mixing_layers() == (0, 2, 3)
    assert net.mixing_layers(embedded=True) == (1, 2, 3)
    with pytest.raises(ValueError, match="num_embeddings"):
        MLP(4, 2, (8,)).mixing_layers(embedded=True)


def test_ensembles_and_custom_modules_refuse_embeddings(classification):
    X, y = classification
    with pytest.raises(ValueError, match="num_embeddings='periodic'"):
        MixupClassifier(num_embeddings="periodic", n_ensemble=2, **FIT).fit(X, y)
    with pytest.raises(ValueError, match="categorical_groups"):
        MixupClassifier(categorical_groups=[[0, 1]], n_ensemble=2, **FIT).fit(X, y)
    with pytest.raises(ValueError, match="num_embeddings"):
        MixupClassifier(num_embeddings="periodic", module=torch.nn.Linear, **FIT).fit(
            X, y
        )


# -- one-hot blocks -------------------------------------------------------------


def _two_parents(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.zeros(n, 5)
    b = torch.zeros(n, 5)
    a[torch.arange(n), torch.randint(0, 3, (n,), generator=g)] = 1
    b[torch.arange(n), torch.randint(0, 3, (n,), generator=g)] = 1
    a[torch.arange(n), 3 + torch.randint(0, 2, (n,), generator=g)] = 1
    b[torch.arange(n), 3 + torch.randint(0, 2, (n,), generator=g)] = 1
    return a, b


@pytest.mark.parametrize(
    "weights",
    [0.3, torch.tensor([0.2, 0.5, 0.3]), torch.rand(64, 3).softmax(dim=1)],
    ids=["lambda", "batch-weights", "row-weights"],
)
def test_every_block_of_a_mixed_row_is_one_parent_s(weights):
    a, b = _two_parents()
    parts = [a, b] if isinstance(weights, float) else [a, b, _two_parents(seed=1)[0]]
    blocks = torch.tensor([0, 0, 0, 1, 1])
    out = pick_blocks(parts, weights, blocks, 2, generator=torch.Generator())
    for columns in ([0, 1, 2], [3, 4]):
        from_some_parent = torch.stack(
            [(out[:, columns] == p[:, columns]).all(dim=1) for p in parts]
        )
        assert bool(from_some_parent.any(dim=0).all())


@pytest.mark.parametrize("lam", [0.1, 0.5, 0.8])
def test_share_from_the_first_parent_follows_lambda(lam):
    n = 20_000
    a = torch.zeros(n, 2)
    a[:, 0] = 1
    b = 1 - a  # distinguishable parents
    g = torch.Generator().manual_seed(0)
    out = pick_blocks([a, b], lam, torch.tensor([0, 0]), 1, generator=g)
    share = float((out[:, 0] == 1).double().mean())
    assert abs(share - lam) < 4 * np.sqrt(lam * (1 - lam) / n)


def test_share_of_each_sample_follows_its_weight():
    n, weights = 30_000, torch.tensor([0.2, 0.3, 0.5])
    parts = [torch.full((n, 1), float(c)) for c in range(3)]
    g = torch.Generator().manual_seed(0)
    out = pick_blocks(parts, weights, torch.tensor([0]), 1, generator=g)
    shares = torch.bincount(out[:, 0].long(), minlength=3).double() / n
    np.testing.assert_allclose(shares, weights.double(), atol=0.015)


@pytest.mark.parametrize("n_mixed", [2, 3])
def test_premixed_epochs_keep_one_hot_blocks(mixed_table, n_mixed):
    X, y = mixed_table
    Y = np.eye(2, dtype=np.float32)[y]
    mixer = Mixer(
        MixupConfig(alpha=1.0, n_mixed=n_mixed, categorical_groups=GROUPS),
        torch.Generator().manual_seed(0),
    )
    mixer.begin_fit(1)
    mixer.begin_epoch()
    batches = TensorBatchIterator(
        (torch.from_numpy(X), torch.from_numpy(Y)),
        batch_size=16,
        shuffle=True,
        generator=torch.Generator().manual_seed(1),
        mixer=mixer,
    )
    seen = list(batches)
    assert all(batch.premixed for batch in seen)
    mixed = torch.cat([batch[0] for batch in seen])
    _assert_one_hot(mixed)
    # The numeric columns and targets still mix.
    assert not torch.isin(mixed[:, :4], torch.from_numpy(X[:, :4])).all()
    assert ((torch.cat([b[1] for b in seen]) % 1) != 0).any()


@pytest.mark.parametrize(
    "params",
    [
        {},  # epochs premixed
        {"manifold": True, "hidden_layer_sizes": (4,)},  # per step, layer 0 or 1
        {"per_sample_lambda": True, "n_mixed": 3},
    ],
    ids=["premixed", "manifold", "dirichlet-per-row"],
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_estimator_trains_on_whole_one_hot_blocks(mixed_table, params, sparse):
    X, y = mixed_table
    Xs = sp.csr_matrix(X) if sparse else X
    with mlp_inputs() as seen:
        MixupClassifier(alpha=1.0, categorical_groups=GROUPS, **{**FIT, **params}).fit(
            Xs, y
        )
    assert seen
    for batch in seen:
        _assert_one_hot(batch)


def test_blocks_take_the_per_step_path_with_integer_labels(mixed_table):
    X, y = mixed_table
    with mlp_inputs() as seen:
        MixupNet(
            MLP(X.shape[1], 2, (8,)),
            criterion=torch.nn.CrossEntropyLoss,
            alpha=1.0,
            categorical_groups=GROUPS,
            max_epochs=2,
            batch_size=16,
            train_split=None,
            random_state=0,
        ).fit(X, y)
    mixed = torch.cat(seen)
    _assert_one_hot(mixed)
    assert ((mixed[:, :4] * 1e3) % 1 != 0).any()


def test_without_blocks_one_hot_columns_mix_linearly(mixed_table):
    X, y = mixed_table
    with mlp_inputs() as seen:
        MixupClassifier(alpha=1.0, **FIT).fit(X, y)
    fractional = torch.cat(seen)[:, 4:7]
    assert ((fractional > 0) & (fractional < 1)).any()


@pytest.mark.parametrize(
    "groups, match",
    [
        ([[0, 1], [1, 2]], "more than one block"),
        ([[0, -1]], "indices >= 0"),
        ([[]], "non-empty"),
        ([[0, 99]], "X has 9 columns"),
    ],
)
def test_categorical_groups_are_checked(mixed_table, groups, match):
    X, y = mixed_table
    with pytest.raises(ValueError, match=match):
        MixupClassifier(categorical_groups=groups, **FIT).fit(X, y)


def test_categorical_groups_and_mix_embeddings_exclude_each_other():
    with pytest.raises(ValueError, match="use one of them"):
        MixupConfig(mix_embeddings=True, categorical_groups=[[0, 1]])


# -- one_hot_groups -------------------------------------------------------------


@pytest.fixture(scope="module")
def frame():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "length": rng.rand(50),
            "sex": rng.choice(["M", "F", "I"], 50),
            "weight": rng.rand(50),
            "colour": rng.choice(["red", "blue"], 50),
        }
    )


@pytest.mark.parametrize("drop", [None, "first", "if_binary"])
def test_one_hot_groups_of_a_column_transformer(frame, drop):
    ct = ColumnTransformer(
        [
            ("scale", StandardScaler(), ["length"]),
            (
                "onehot",
                OneHotEncoder(drop=drop, sparse_output=False),
                ["sex", "colour"],
            ),
        ],
        remainder="passthrough",
    ).fit(frame)
    groups = one_hot_groups(ct)
    names = ct.get_feature_names_out()
    sex = [i for i, name in enumerate(names) if name.startswith("onehot__sex")]
    colour = [i for i, name in enumerate(names) if name.startswith("onehot__colour")]
    assert groups == [sex, colour]
    assert len(sex) == (2 if drop == "first" else 3)
    assert len(colour) == (1 if drop else 2)
    Z = ct.transform(frame)
    for group in groups:
        assert set(np.unique(Z[:, group])) <= {0.0, 1.0}
        assert (Z[:, group].sum(axis=1) <= 1).all()


def test_one_hot_groups_feed_an_estimator(frame):
    ct = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), ["sex", "colour"])],
        remainder=StandardScaler(),
    ).fit(frame)
    groups = one_hot_groups(ct)
    assert groups == [[0, 1, 2], [3, 4]]
    y = (frame["length"] > 0.5).to_numpy()
    with mlp_inputs() as seen:
        MixupClassifier(alpha=1.0, categorical_groups=groups, **FIT).fit(
            ct.transform(frame), y
        )
    _assert_one_hot(torch.cat(seen), groups)


def test_one_hot_groups_of_an_encoder_and_of_other_things():
    encoder = OneHotEncoder(min_frequency=3).fit(
        np.array([["a"]] * 5 + [["b"]] * 4 + [["c"], ["d"]])
    )
    assert one_hot_groups(encoder) == [[0, 1, 2]]  # a, b, infrequent
    with pytest.raises(TypeError, match="ColumnTransformer"):
        one_hot_groups(StandardScaler())


# -- scikit-learn's protocol ------------------------------------------------------

OPTIONS = [
    (MixupClassifier, {"num_embeddings": "periodic", "categorical_groups": GROUPS}),
    (MixupRegressor, {"num_embeddings": "piecewise_linear", "mix_embeddings": True}),
]


@pytest.mark.parametrize("Estimator, params", OPTIONS)
def test_pickle_and_clone_keep_predictions(Estimator, params, mixed_table):
    X, y = mixed_table
    est = Estimator(**params, **FIT).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    refit = clone(est).fit(X, y)
    np.testing.assert_array_equal(refit.predict(X), est.predict(X))


def test_grid_search_over_embeddings_and_blocks(mixed_table):
    X, y = mixed_table
    search = GridSearchCV(
        MixupClassifier(**{**FIT, "max_epochs": 2}),
        [
            {
                "num_embeddings": [None, "periodic"],
                "categorical_groups": [None, GROUPS],
            },
            {"num_embeddings": ["piecewise_linear"], "mix_embeddings": [True]},
        ],
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_regressor_with_blocks_and_embeddings_learns():
    X, y = make_regression(300, 4, noise=1.0, random_state=0)
    rng = np.random.RandomState(0)
    X = np.hstack([X, np.eye(3)[rng.randint(0, 3, 300)]])
    reg = MixupRegressor(
        num_embeddings="periodic",
        categorical_groups=[[4, 5, 6]],
        **{**FIT, "max_epochs": 40},
    ).fit(X, y)
    assert reg.score(X, y) > 0.8
