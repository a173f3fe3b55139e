"""MixupClassifierCV and MixupRegressorCV: alpha searched inside ``fit``.

Each is its plain estimator with a different ``_fit_net``: the plain ``fit``
validates the data and encodes the targets; then every (alpha, split) pair trains
as one member of a :class:`~skmixup._stacked.StackedMLP`, the members are scored,
and the plain ``_fit_net`` refits with the chosen alpha, so prediction is the plain
estimator's, unchanged.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.metrics import r2_score
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._base import (
    _to_device,
    check_hidden_layer_sizes,
    checked_sample_weight,
    fill_doc,
    float64_chunks,
    predict_rows,
    resolve_device,
)
from ._classifier import MixupClassifier
from ._params import constraints, defaults
from ._regressor import MixupRegressor
from ._scaling import InputScaling
from ._stacked import _FORWARD_ROWS, MemberData, StackedMLP
from ._threads import torch_threads

# What the stacked search honours besides alphas and cv, in signature order: the
# default MLP and its training. The mixup variants, a custom module and early
# stopping are searched with GridSearchCV over the plain estimators instead.
SEARCH_PARAMS = (
    "scale_inputs",
    "hidden_layer_sizes",
    "activation",
    "max_epochs",
    "batch_size",
    "lr",
    "lr_schedule",
    "warmup_fraction",
    "ema_decay",
    "weight_decay",
    "optimizer",
    "optimizer_params",
    "n_ensemble",
    "device",
    "n_threads",
    "random_state",
    "verbose",
)
DEFAULT_ALPHAS = defaults(("alphas",))["alphas"]
# Most bytes of member weights and optimizer state trained at once. The members
# of a wide network (e.g. thousands of one-hot columns: 10 MB each at 5,000
# inputs) train in groups of whole splits, one group after another, so that
# the search's memory stays near a plain fit's; small networks train as one
# group, which is fastest.
_GROUP_BYTES = 2**27


class _StackedSearchMixin:
    """The search, shared by both CV estimators; mixed in before the plain class."""

    def _check_alphas(self) -> list[float]:
        alphas = column_or_1d(np.asarray(self.alphas, dtype=np.float64)).tolist()
        if not alphas or any(math.isnan(a) or a < 0 for a in alphas):
            raise ValueError(
                f"alphas must be a non-empty sequence of floats >= 0, got "
                f"{self.alphas!r}."
            )
        return alphas

    def _plain(self, alpha: float):
        """The plain estimator with ``alpha`` and this estimator's parameters."""
        params = self.get_params(deep=False)
        del params["alphas"], params["cv"]
        return self._plain_estimator(alpha=alpha, **params)

    def _fit_net(self, X, Y, sample_weight, *, n_outputs, criterion, stratify):
        alphas = self._check_alphas()
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        init_seed, data_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        sample_weight = checked_sample_weight(sample_weight, X)
        cv = check_cv(self.cv, stratify, classifier=is_classifier(self))
        splits = list(cv.split(X, stratify))
        n, n_splits, n_alphas = X.shape[0], len(splits), len(alphas)
        train_mask = np.zeros((n_splits, n), dtype=bool)
        for s, (train, _) in enumerate(splits):
            train_mask[s, train] = True
        n_own = train_mask.sum(axis=1)
        if n_own.min() == 0:
            raise ValueError(f"cv={self.cv!r} gives a split with no training rows.")
        # Each member trains on batches of batch_size of its own rows.
        rows_per_step = min(self.batch_size, int(n_own.max()))

        shift, scale = self._target_scaling(Y, train_mask, is_classifier(self))
        # Each split's inputs are scaled with its own training rows, as a
        # plain fit on the split would scale them.
        scalings = None
        if self.scale_inputs is not None:
            scalings = [
                InputScaling.fit(X[mask], self.scale_inputs) for mask in train_mask
            ]
        weighted = sample_weight is not None
        targets = self._train_targets(Y)
        rest = np.hstack([targets] + ([sample_weight[:, None]] if weighted else []))
        X_on_device, rest = _to_device([X, rest], device)
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        sizes = [X.shape[1], *hidden, n_outputs]
        # Weights, gradients and two optimizer moments per member.
        member_bytes = 16 * sum((a + 1) * b for a, b in itertools.pairwise(sizes))
        per_group = max(1, _GROUP_BYTES // (member_bytes * n_alphas))
        scores = np.empty((n_alphas, n_splits))
        for group, first in enumerate(range(0, n_splits, per_group)):
            in_group = list(range(first, min(first + per_group, n_splits)))
            # Group 0 takes the search's seeds, so one group (the usual case)
            # is the whole search; later groups take seeds of their own.
            module = self._train_members(
                X_on_device,
                rest,
                train_mask[in_group],
                weighted,
                alphas,
                hidden,
                n_outputs,
                criterion,
                rows_per_step,
                None if shift is None else shift[in_group],
                None if scale is None else scale[in_group],
                (init_seed + group, data_seed + group),
                device,
                None if scalings is None else [scalings[s] for s in in_group],
            )
            scores[:, in_group] = self._score_members(
                module,
                X,
                Y,
                [splits[s] for s in in_group],
                None if shift is None else shift[in_group],
                None if scale is None else scale[in_group],
                n_alphas,
                None if scalings is None else [scalings[s] for s in in_group],
            )
            del module
        self._set_results(alphas, scores)
        del X_on_device, rest
        # The refit is the plain estimator's own fit with alpha_ (same seeds, so
        # the same network as GridSearchCV's best_estimator_). Training it as
        # stacked members, one per alpha, cost more than this one fit.
        refit = self._plain(self.alpha_)
        refit._fit_net(
            X,
            Y,
            sample_weight,
            n_outputs=n_outputs,
            criterion=criterion,
            stratify=stratify,
        )
        for name in (
            "net_",
            "n_iter_",
            "loss_curve_",
            "temperature_",
            "input_scaling_",
        ):
            if hasattr(refit, name):
                setattr(self, name, getattr(refit, name))
            elif hasattr(self, name):
                delattr(self, name)
        return self

    def _train_members(
        self,
        X,
        rest,
        train_mask,
        weighted,
        alphas,
        hidden,
        n_outputs,
        criterion,
        rows_per_step,
        shift,
        scale,
        seeds,
        device,
        scalings=None,
    ) -> StackedMLP:
        """Train one member per (split, alpha) of these splits as one network;
        ``scalings`` are the splits' fitted input scalings, if any."""
        n_splits, n_alphas = len(train_mask), len(alphas)
        data = MemberData(X, rest, torch.from_numpy(train_mask).to(device), weighted)
        # Member k = split * n_alphas + alpha index.
        member_split = np.repeat(np.arange(n_splits), n_alphas)
        n_own = train_mask.sum(axis=1)
        steps_per_split = {math.ceil(n_rows / rows_per_step) for n_rows in n_own}
        module = StackedMLP(
            len(member_split),
            X.shape[1],
            n_outputs,
            hidden,
            self.activation,
            generator=torch.Generator().manual_seed(seeds[0]),
            # Splits with fewer steps per epoch leave their members out of the
            # last steps, which needs each member's own optimizer state.
            per_member=len(steps_per_split) > 1,
            device=device,
        )
        net = self._stacked_net(
            module,
            criterion,
            alphas=alphas * n_splits,
            member_split=member_split.tolist(),
            batch_size=rows_per_step,
            seed=seeds[1],
            device=device,
            target_shift=None if shift is None else shift[member_split],
            target_scale=None if scale is None else scale[member_split],
            **_member_scaling(scalings, member_split),
        )
        with torch_threads(self._stacked_threads(module, rows_per_step)):
            module = net.fit(data, None).module_
        # The net's callbacks refer back to it, so it is freed only at the next
        # garbage collection: drop its optimizer state and the module's
        # gradients now, before the next group trains.
        del net.optimizer_
        module.release_training_state()
        return module

    def _target_scaling(self, Y, train_mask, classification):
        """Per-split target shift and scale, so a split's held-out targets never
        set its members' scale: ``normalize_y`` as a plain fit on the split does."""
        if classification or not self.normalize_y:
            return None, None
        shift = np.zeros((len(train_mask), Y.shape[1]), dtype=np.float32)
        scale = np.ones_like(shift)
        for s, mask in enumerate(train_mask):
            shift[s] = Y[mask].mean(axis=0)
            std = Y[mask].std(axis=0)
            scale[s] = np.where(std > 0, std, 1.0)
        return shift, scale

    def _score_members(
        self, module, X, Y, splits, shift, scale, n_alphas, scalings=None
    ):
        """Score matrix ``(n_alphas, n_splits)``: each member on its held-out rows,
        with the plain estimator's default score (accuracy or R^2), evaluated in
        float64 as the plain estimator predicts (see ``evaluate_float64``)."""
        device = module.weights[0].device
        scores = np.empty((n_alphas, len(splits)))
        # Rows per forward pass: each (members, rows, 128) activation stays ~4 MB.
        step = max(1, min(predict_rows(X.shape[1]), _FORWARD_ROWS // n_alphas))
        with torch.no_grad():
            for s, (_, test) in enumerate(splits):
                members = torch.arange(s * n_alphas, (s + 1) * n_alphas, device=device)
                selected = module.select(members, torch.float64)
                X_test = X[test]
                if scalings is not None:
                    X_test = scalings[s].transform(X_test)
                out = torch.cat(
                    [
                        module(chunk, selected=selected)
                        for chunk in float64_chunks(X_test, device, step)
                    ],
                    dim=1,
                )
                del selected
                out = out.cpu().numpy()
                if shift is not None:
                    out = out * scale[s] + shift[s]
                for a in range(n_alphas):
                    scores[a, s] = self._member_score(out[a], Y[test])
        return scores

    def _set_results(self, alphas, scores):
        mean, std = scores.mean(axis=1), scores.std(axis=1)
        # Ranks as GridSearchCV gives them: 1 is best, ties share the lowest.
        rank = np.array([1 + np.sum(mean > m) for m in mean], dtype=np.int32)
        results = {
            "params": [{"alpha": a} for a in alphas],
            "param_alpha": np.ma.MaskedArray(np.array(alphas, dtype=object)),
        }
        for s in range(scores.shape[1]):
            results[f"split{s}_test_score"] = scores[:, s]
        results.update(mean_test_score=mean, std_test_score=std, rank_test_score=rank)
        self.cv_results_ = results
        self.best_index_ = int(np.argmin(rank))
        self.alpha_ = alphas[self.best_index_]
        self.best_score_ = float(mean[self.best_index_])


def _member_scaling(scalings, member_split) -> dict:
    """:class:`~skmixup._stacked.StackedMixupNet`'s ``input_*`` parameters for
    members of the splits whose fitted scalings are ``scalings`` (or none)."""
    if scalings is None:
        return {}
    first = scalings[0]
    centers = None if first.center is None else [sc.center for sc in scalings]
    return {
        "input_center": None if centers is None else np.stack(centers)[member_split],
        "input_scale": np.stack([sc.scale for sc in scalings])[member_split],
        "input_clip": first.clip,
    }


_CV_ATTRIBUTES = """\
alpha_ : float
        The chosen ``alpha``: the best mean held-out score (the first on ties).

    best_score_ : float
        Mean held-out score of ``alpha_``.

    best_index_ : int
        Index of ``alpha_`` in ``alphas`` and in ``cv_results_``.

    cv_results_ : dict of ndarrays
        As :class:`~sklearn.model_selection.GridSearchCV`'s: ``params``,
        ``param_alpha``, ``split{k}_test_score``, ``mean_test_score``,
        ``std_test_score`` and ``rank_test_score``, one entry per alpha.

    net_ : MixupNet
        The refit network: the plain estimator's fit with ``alpha_`` on all rows.

    temperature_ : float
        The refit's temperature; only with ``calibrate=True``.

    input_scaling_ : InputScaling
        The refit's input scaling, fitted on all rows (each split's members
        used their own training rows'); only when ``scale_inputs`` is set.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Mean training loss (on mixed batches) per epoch of the refit."""

_HOW = """\
How it trains. Every (alpha, split) pair is a member of one stacked network
    (weights of shape
    ``(members, n_in, n_out)``, batched matrix products, one optimizer step for
    all). The data are stored once. Each step gives every member the next
    ``batch_size`` rows of its split's shuffled training rows, as a plain fit
    on the split would batch them; the member draws its own ``lambda`` and
    pairs the batch's rows among themselves, so held-out rows never reach a
    member, not even as mixing partners. Each member sees each of its rows once
    per epoch, for ``max_epochs`` epochs, in as many steps as a plain fit on
    its split.
    Each member is then scored on its held-out rows with the default ``score``
    (accuracy, or R^2), ``alpha_`` is the best mean score, and the estimator is
    refit on all rows with ``alpha_`` exactly as the plain estimator would be
    (so, with an int ``random_state``, as ``GridSearchCV``'s refit).
    The parameters are the plain estimator's network and training parameters;
    a custom ``module``, ``early_stopping`` and the other mixup variants are
    searched with :class:`~sklearn.model_selection.GridSearchCV` over the plain
    estimator instead. ``n_ensemble`` and (for the classifier) ``calibrate``
    shape the refit only: the search scores one network per (alpha, split),
    and the refit is then an ensemble, or calibrated, as the plain estimator
    would be. A custom ``optimizer`` must update each weight from its
    own gradient and state, as PyTorch's first-order optimizers do (not e.g.
    ``LBFGS``), so that one step over the stacked weights equals a step of each
    member alone."""


def _fill_cv(cls):
    cls.__doc__ = cls.__doc__.replace("%(how)s", _HOW).replace(
        "%(cv_attributes)s", _CV_ATTRIBUTES
    )
    return fill_doc(cls)


@_fill_cv
class MixupClassifierCV(_StackedSearchMixin, MixupClassifier):
    """Mixup classifier that chooses ``alpha`` by cross-validation in ``fit``.

    The :class:`~sklearn.linear_model.RidgeCV` of mixup: the same search as
    ``GridSearchCV(MixupClassifier(), {"alpha": alphas}, cv=cv)``, and the same
    fitted classifier at the end, at the cost of a few plain fits rather than
    ``len(alphas) * n_splits + 1`` of them, because all the networks of the
    search train together as one.

    %(how)s

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, as given in ``y``.

    %(cv_attributes)s

    See Also
    --------
    MixupClassifier : One ``alpha``, searched e.g. with ``GridSearchCV``.
    MixupRegressorCV : The regressor counterpart.
    sklearn.linear_model.LogisticRegressionCV : The same idea for ``C``.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmixup import MixupClassifierCV
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MixupClassifierCV(
    ...     alphas=[0, 0.4, 1.0], cv=3, max_epochs=30, random_state=0))
    >>> search = clf.fit(X, y)[-1]
    >>> search.alpha_ in (0, 0.4, 1.0), search.cv_results_["mean_test_score"].shape
    (True, (3,))
    >>> clf.score(X, y) > 0.9
    True
    """

    _plain_estimator = MixupClassifier
    _parameter_constraints: dict = constraints(
        ("alphas", "cv", *SEARCH_PARAMS, "label_smoothing", "calibrate")
    )

    def __init__(
        self,
        *,
        alphas=DEFAULT_ALPHAS,
        cv=5,
        scale_inputs=None,
        hidden_layer_sizes=(128, 128),
        activation="relu",
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        lr_schedule="flat_cosine",
        warmup_fraction=0.0,
        ema_decay=0.999,
        weight_decay=0.0,
        optimizer="adam",
        optimizer_params=None,
        n_ensemble=1,
        label_smoothing=0.1,
        calibrate=False,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.cv = cv
        self.scale_inputs = scale_inputs
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.ema_decay = ema_decay
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.n_ensemble = n_ensemble
        self.label_smoothing = label_smoothing
        self.calibrate = calibrate
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def _member_score(self, logits, Y_test) -> float:
        return float(np.mean(logits.argmax(axis=1) == Y_test.argmax(axis=1)))


@_fill_cv
class MixupRegressorCV(_StackedSearchMixin, MixupRegressor):
    """Mixup regressor that chooses ``alpha`` by cross-validation in ``fit``.

    The :class:`~sklearn.linear_model.RidgeCV` of mixup: the same search as
    ``GridSearchCV(MixupRegressor(), {"alpha": alphas}, cv=cv)``, and the same
    fitted regressor at the end, at the cost of a few plain fits rather than
    ``len(alphas) * n_splits + 1`` of them, because all the networks of the
    search train together as one. With ``normalize_y``, each split's members
    standardise the targets with their own training rows' mean and scale, as a
    plain fit on the split would.

    %(how)s

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(cv_attributes)s

    See Also
    --------
    MixupRegressor : One ``alpha``, searched e.g. with ``GridSearchCV``.
    MixupClassifierCV : The classifier counterpart.
    sklearn.linear_model.RidgeCV : The same idea for ridge's ``alpha``.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skmixup import MixupRegressorCV
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = MixupRegressorCV(
    ...     alphas=[0, 0.2], cv=3, max_epochs=50, random_state=0).fit(X, y)
    >>> reg.alpha_ in (0, 0.2), reg.score(X, y) > 0.9
    (True, True)
    """

    _plain_estimator = MixupRegressor
    _parameter_constraints: dict = constraints(
        ("alphas", "cv", *SEARCH_PARAMS[:-4], "normalize_y", *SEARCH_PARAMS[-4:])
    )

    def __init__(
        self,
        *,
        alphas=DEFAULT_ALPHAS,
        cv=5,
        scale_inputs=None,
        hidden_layer_sizes=(128, 128),
        activation="relu",
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        lr_schedule="flat_cosine",
        warmup_fraction=0.0,
        ema_decay=0.999,
        weight_decay=0.0,
        optimizer="adam",
        optimizer_params=None,
        n_ensemble=1,
        normalize_y=True,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.cv = cv
        self.scale_inputs = scale_inputs
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.ema_decay = ema_decay
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.n_ensemble = n_ensemble
        self.normalize_y = normalize_y
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def _member_score(self, pred, Y_test) -> float:
        return float(r2_score(Y_test, pred))
