"""What MixupClassifier and MixupRegressor share: parameters, data checks, the net."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from ._compat import _check_sample_weight
from ._data import ArrayDataset
from ._modules import MLP, quantile_bins
from ._net import MixupNet
from ._params import PAIRINGS, VARIANT_PARAMS, constraints, parameter_docs
from ._random import seeded_global_generators
from ._scaling import InputScaling
from ._sparse import SparseRows, as_csr
from ._stacked import _FORWARD_ROWS, MemberData, StackedMixupNet, StackedMLP
from ._threads import n_params, resolve_threads, torch_threads, work_flops

# The network and training parameters of the plain estimators, in signature order.
TRAINING_PARAMS = (
    "scale_inputs",
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "num_embeddings",
    "num_embeddings_params",
    "module",
    "max_epochs",
    "batch_size",
    "lr",
    "lr_schedule",
    "warmup_fraction",
    "ema_decay",
    "weight_decay",
    "optimizer",
    "optimizer_params",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "tol",
    "n_ensemble",
)
_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
_DEVICE_PATTERN = re.compile(r"cpu|cuda(?::(\d+))?")
# Rows per forward pass at predict time: enough to amortise per-call overhead,
# few enough that each layer's activations (4096 x 128 floats, 2 MB) stay in
# cache; 16384 rows predicted 1,000,000 rows about a third slower. Wide inputs
# (densified sparse rows) get fewer rows, so a chunk stays near 16 MB.
_PREDICT_BATCH_SIZE = 4096
_PREDICT_BYTES = 2**24
_FLOATS = (np.float32, np.float64)
# CSR is what training reads; CSC is converted once. check_array turns every
# other scipy format into CSR.
_SPARSE_FORMATS = ("csr", "csc")


def resolve_device(device: str) -> torch.device:
    """The ``device`` parameter as a :class:`torch.device`, or why it cannot be."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    match = _DEVICE_PATTERN.fullmatch(device)
    if match is None:
        raise ValueError(
            f"device={device!r} is not understood; use 'auto', 'cpu', 'cuda' or "
            "'cuda:N' (N a GPU index)."
        )
    if device == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested, but PyTorch sees no CUDA GPU "
            "(torch.cuda.is_available() is False). Use device='cpu', or "
            "device='auto' to use a GPU only when one is present; to train on a "
            "GPU, install a CUDA build of PyTorch on a machine with a GPU."
        )
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested, but only {torch.cuda.device_count()} "
            f"CUDA device(s) are visible (indices 0..{torch.cuda.device_count() - 1})."
        )
    return torch.device("cuda", index)


def float64_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Float64 copies of ``module``'s floating parameters and buffers."""
    state = dict(module.named_parameters())
    state.update(module.named_buffers())
    return {
        name: t.detach().double() if t.is_floating_point() else t
        for name, t in state.items()
    }


def evaluate_float64(
    module: torch.nn.Module,
    X: torch.Tensor,
    device: torch.device | str,
    state: dict[str, torch.Tensor] | None = None,
) -> np.ndarray:
    """Outputs of the (float32-trained) ``module`` on rows ``X``, in float64.

    Why float64: a float32 matrix product rounds each output differently
    depending on the kernel the BLAS picks, and that choice depends on how many
    rows share the call, on the CPU (AVX2, AVX-512), on MKL's code path and on
    the threads. Evaluated in float32, a row predicted alone and the same row
    inside a batch differed by up to about 2e-7 relative, beyond scikit-learn's
    1e-7 tolerance for float64 outputs, and which rows differed changed from one
    machine to another. In float64 the same rounding differences are about
    1e-16: predictions no longer depend on batch composition, CPU or BLAS at
    any tolerance a user or scikit-learn applies. This is what scikit-learn's
    own MLP does; it costs about twice a float32 pass, at predict time only.
    ``state`` is :func:`float64_state` of ``module``, to reuse across chunks.
    """
    if state is None:
        state = float64_state(module)
    X = X.to(device, torch.float64)
    with torch.no_grad():
        out = torch.func.functional_call(module, state, (X,))
    return out.cpu().numpy()


def float64_chunks(X, device, n_rows: int) -> Iterator[torch.Tensor]:
    """Consecutive chunks of ``n_rows`` rows of ``X`` as float64 tensors on
    ``device``, all written into one buffer (each chunk is valid until the next).

    ``X`` is a float32 array, or a sparse matrix from :func:`_as_float32` whose
    rows are densified chunk by chunk, their values rounded to float32 (the
    precision the network was trained on) whatever the matrix's dtype. One
    reused buffer, rather than fresh chunk-sized arrays, keeps the allocator
    from holding on to freed chunks (RSS grew by hundreds of MB otherwise).
    """
    if sp.issparse(X):
        rows = SparseRows.from_scipy(as_csr(X), device)
    else:
        rows = torch.from_numpy(_writable(X))
    n = X.shape[0]
    buffer = torch.empty(
        (min(n_rows, n), X.shape[1]), dtype=torch.float64, device=device
    )
    for start in range(0, n, n_rows):
        out = buffer[: min(n_rows, n - start)]
        if isinstance(rows, SparseRows):
            rows.read(start, start + n_rows, out)
        else:
            out.copy_(rows[start : start + n_rows])
        yield out


def predict_rows(n_features: int) -> int:
    """Rows per forward pass for inputs of ``n_features`` columns."""
    return max(1, min(_PREDICT_BATCH_SIZE, _PREDICT_BYTES // (8 * n_features)))


def checked_sample_weight(sample_weight, X) -> np.ndarray | None:
    """Non-negative float32 row weights, or None when there are none or all are
    equal (equal weights change nothing in a weighted mean)."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    return None if np.ptp(sample_weight) == 0 else sample_weight


def check_hidden_layer_sizes(hidden_layer_sizes) -> list[int]:
    """The widths as a list of ints, or a ValueError that names the parameter."""
    try:
        hidden = np.atleast_1d(np.asarray(hidden_layer_sizes))
        valid = hidden.ndim == 1 and all(int(h) == h and h >= 1 for h in hidden)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers (the "
            f"widths of the hidden layers), got {hidden_layer_sizes!r}."
        )
    return [int(h) for h in hidden]


def _reject_non_numeric_columns(X) -> None:
    """A clear error for DataFrames with text or categorical columns."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(col)
        for col, dtype in dtypes.items()
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {bad}. skmixup trains on numbers only: "
            "encode these columns first, e.g. with sklearn.preprocessing.OneHotEncoder "
            "inside a sklearn.compose.ColumnTransformer in a Pipeline."
        )


class BaseMixup(BaseEstimator):
    """Shared code; use :class:`MixupClassifier` or :class:`MixupRegressor`."""

    _parameter_constraints: dict = constraints(
        (
            *VARIANT_PARAMS,
            *TRAINING_PARAMS,
            "device",
            "n_threads",
            "random_state",
            "verbose",
        )
    )

    def __init__(
        self,
        *,
        alpha=0.2,
        mix_on="both",
        pairing="random",
        n_neighbors=5,
        label_bandwidth=1.0,
        manifold=False,
        n_mixed=2,
        mix_probability=1.0,
        per_sample_lambda=False,
        alternate_epochs=0,
        final_unmixed_epochs=0,
        mix_embeddings=False,
        categorical_groups=None,
        scale_inputs=None,
        hidden_layer_sizes=(128, 128),
        activation="relu",
        dropout=0.0,
        num_embeddings=None,
        num_embeddings_params=None,
        module=None,
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        lr_schedule="flat_cosine",
        warmup_fraction=0.0,
        ema_decay=0.999,
        weight_decay=0.0,
        optimizer="adam",
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_ensemble=1,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.mix_on = mix_on
        self.pairing = pairing
        self.n_neighbors = n_neighbors
        self.label_bandwidth = label_bandwidth
        self.manifold = manifold
        self.n_mixed = n_mixed
        self.mix_probability = mix_probability
        self.per_sample_lambda = per_sample_lambda
        self.alternate_epochs = alternate_epochs
        self.final_unmixed_epochs = final_unmixed_epochs
        self.mix_embeddings = mix_embeddings
        self.categorical_groups = categorical_groups
        self.scale_inputs = scale_inputs
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.num_embeddings = num_embeddings
        self.num_embeddings_params = num_embeddings_params
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.ema_decay = ema_decay
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_ensemble = n_ensemble
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- data -------------------------------------------------------------------

    def _validate_X_y(self, X, y, **kwargs):
        _reject_non_numeric_columns(X)
        try:
            X, y = validate_data(
                self, X, y, dtype=_FLOATS, accept_sparse=_SPARSE_FORMATS, **kwargs
            )
        except (TypeError, ValueError) as exc:
            if "convert" in str(exc) and "float" in str(exc):
                raise type(exc)(
                    f"{exc}. skmixup trains on numbers only: encode text or "
                    "categorical columns first, e.g. with "
                    "sklearn.preprocessing.OneHotEncoder inside a "
                    "sklearn.compose.ColumnTransformer."
                ) from exc
            raise
        return _as_float32(X), y

    def _validate_X_predict(self, X):
        _reject_non_numeric_columns(X)
        X = validate_data(
            self, X, dtype=_FLOATS, accept_sparse=_SPARSE_FORMATS, reset=False
        )
        X = _as_float32(X)
        scaling = getattr(self, "input_scaling_", None)
        return X if scaling is None else scaling.transform(X)

    def _fit_input_scaling(self, X):
        """``X`` scaled as ``scale_inputs`` says, fitting ``input_scaling_``."""
        if self.scale_inputs is None:
            if hasattr(self, "input_scaling_"):
                del self.input_scaling_
            return X
        self.input_scaling_ = InputScaling.fit(X, self.scale_inputs)
        return self.input_scaling_.transform(X)

    def _train_targets(self, Y):
        """The targets the network trains on, from the encoded ``Y`` (the
        classifier smooths its labels here)."""
        return Y

    def _zero_output_loss(self, Y) -> float:
        """The training loss of a network whose outputs are all zero, on the
        targets ``Y`` it trains on: about where an untrained network starts."""
        raise NotImplementedError

    def _check_training_loss(self, Y) -> None:
        """Warn when training ended worse than a network that outputs zeros:
        a learning rate too large for the data (which can leave finite but
        useless weights; non-finite ones raise in the net), unscaled features
        or too few epochs."""
        zeros = self._zero_output_loss(Y)
        end = self.loss_curve_[-1]
        if end > 2 * zeros:
            warnings.warn(
                f"Training ended with a loss of {end:.3g}, more than twice that of "
                f"a network that outputs zeros ({zeros:.3g}): the network fits its "
                "training rows worse than a constant would. Scale the features "
                "(e.g. StandardScaler), or try a smaller learning rate (lr="
                f"{self.lr!r}) or more epochs (max_epochs={self.max_epochs!r}).",
                ConvergenceWarning,
                stacklevel=5,  # the caller of fit, past sklearn's fit context
            )

    # -- the net ----------------------------------------------------------------

    def _build_module(
        self,
        n_features_in: int,
        n_outputs: int,
        X_probe: np.ndarray,
        seed: int,
        X_train,
    ):
        if self.module is None:
            return MLP(
                n_features_in,
                n_outputs,
                check_hidden_layer_sizes(self.hidden_layer_sizes),
                self.activation,
                dropout=self.dropout,
                generator=torch.Generator().manual_seed(seed),
                **self._embedding_kwargs(X_train),
            )
        for name in ("manifold", "dropout", "num_embeddings"):
            if getattr(self, name):
                raise ValueError(
                    f"{name}={getattr(self, name)!r} acts on the hidden layers of "
                    "the default MLP and cannot reach inside a custom module; use "
                    f"module=None, or set {name} back to its default."
                )
        if isinstance(self.module, torch.nn.Module):
            raise TypeError(
                "module must be a torch.nn.Module class or a factory called as "
                "module(n_features_in, n_outputs), not a module instance (an "
                "instance would be shared by every clone). Pass its class, or e.g. "
                "functools.partial(MyNet, width=64)."
            )
        module = self.module(n_features_in, n_outputs)
        if not isinstance(module, torch.nn.Module):
            raise TypeError(
                f"module(n_features_in={n_features_in}, n_outputs={n_outputs}) must "
                f"return a torch.nn.Module, got {type(module).__name__}."
            )
        # Fail here with a readable message rather than deep inside the loss.
        was_training = module.training
        module.eval()
        with torch.no_grad():
            out = module(torch.from_numpy(X_probe))
        if tuple(out.shape) != (len(X_probe), n_outputs):
            module.train(was_training)
            raise ValueError(
                f"module output has shape {tuple(out.shape)} for a batch of "
                f"{len(X_probe)} rows; expected ({len(X_probe)}, {n_outputs}) "
                "(batch, n_outputs)."
            )
        try:
            evaluate_float64(module, torch.from_numpy(X_probe), "cpu")
        except (RuntimeError, TypeError) as exc:
            raise TypeError(
                f"module {type(module).__name__} trains in float32 but must also "
                "run with its parameters and buffers in float64: predictions "
                "evaluate it in float64 so that they do not depend on batch "
                "size, CPU or BLAS. Create tensors in forward from the input "
                "(x.new_zeros(...), torch.zeros(..., dtype=x.dtype)) and keep "
                f"constant tensors as registered buffers. PyTorch said: {exc}"
            ) from exc
        finally:
            module.train(was_training)
        return module

    def _embedding_kwargs(self, X_train) -> dict:
        """The MLP's embedding arguments; the bins of ``"piecewise_linear"`` from
        the training rows ``X_train``."""
        if self.num_embeddings is None:
            return {}
        params = dict(self.num_embeddings_params or {})
        known = {"d_embedding"} | (
            {"n_frequencies", "frequency_init_scale"}
            if self.num_embeddings == "periodic"
            else {"n_bins"}
        )
        if set(params) - known:
            raise ValueError(
                f"num_embeddings_params has {sorted(set(params) - known)}, which "
                f"num_embeddings={self.num_embeddings!r} does not take; it takes "
                f"{sorted(known)}."
            )
        if self.num_embeddings == "piecewise_linear":
            params["bins"] = quantile_bins(X_train, params.pop("n_bins", 48))
        return {"num_embeddings": self.num_embeddings, **params}

    def _optimizer_kwargs(self, optimizer, device: torch.device) -> dict:
        kwargs = {"weight_decay": self.weight_decay}
        if optimizer in (torch.optim.Adam, torch.optim.AdamW):
            # The fused kernel updates all parameters in one call per step.
            kwargs["fused"] = True
        elif optimizer is torch.optim.SGD:
            kwargs["foreach"] = True
        kwargs.update(self.optimizer_params or {})
        return {f"optimizer__{k}": v for k, v in kwargs.items()}

    def _fit_net(self, X, Y, sample_weight, *, n_outputs, criterion, stratify):
        """Build ``net_`` and train it on float32 ``X`` and encoded targets ``Y``."""
        alphas = self._member_alphas()
        self._check_variant(alphas)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        init_seed, data_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        sample_weight = checked_sample_weight(sample_weight, X)
        X = self._fit_input_scaling(X)
        arrays = [X, Y] + ([] if sample_weight is None else [sample_weight])
        train, held_out = self._held_out(arrays, stratify, rng)
        # Held-out rows keep their targets: early stopping and calibration
        # measure the model against the labels as given.
        train = [train[0], self._train_targets(train[1]), *train[2:]]
        if len(alphas) > 1:
            self._fit_ensemble(
                *train[:2],
                train[2] if len(train) > 2 else None,
                alphas,
                n_outputs=n_outputs,
                criterion=criterion,
                seeds=(init_seed, data_seed),
                device=device,
            )
        else:
            self._fit_single(
                ArrayDataset(*_to_device(train, device)),
                None
                if held_out is None or not self.early_stopping
                else ArrayDataset(*_to_device(held_out, device)),
                alphas[0],
                probe=X[:2],
                X_train=train[0],
                n_outputs=n_outputs,
                criterion=criterion,
                seeds=(init_seed, data_seed),
                device=device,
            )
        self._check_training_loss(train[1])
        if getattr(self, "calibrate", False):
            self._calibrate(*held_out[:2], held_out[2] if len(held_out) > 2 else None)
        elif hasattr(self, "temperature_"):
            del self.temperature_
        return self

    def _fit_single(
        self,
        train,
        valid,
        alpha,
        *,
        probe,
        X_train,
        n_outputs,
        criterion,
        seeds,
        device,
    ) -> None:
        """Train one network (a :class:`MixupNet`) on ``train``; ``probe`` is a
        few rows that check a custom module's output, ``X_train`` the training
        rows as an array (the bins of piecewise-linear embeddings)."""
        init_seed, data_seed = seeds
        optimizer = _OPTIMIZERS.get(self.optimizer, self.optimizer)
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                EarlyStopping(
                    monitor="valid_loss",
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print if self.verbose else _silent,
                )
            )
        n_features = probe.shape[1]
        # The default MLP initialises from a local generator; a user module (and
        # dropout in training) draws from the global ones, seeded and restored.
        with seeded_global_generators(init_seed, device):
            probe = next(float64_chunks(probe, "cpu", 2)).float().numpy()
            module = self._build_module(
                n_features, n_outputs, probe, init_seed, X_train
            )
            n_threads = resolve_threads(
                self.n_threads, work_flops(self.batch_size, n_params(module))
            )
            self.net_ = MixupNet(
                module=module,
                criterion=criterion,
                criterion__reduction="none",
                optimizer=optimizer,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                iterator_valid__batch_size=predict_rows(n_features),
                train_split=None if valid is None else predefined_split(valid),
                callbacks=callbacks,
                device=device,
                **{
                    name: getattr(self, name)
                    for name in VARIANT_PARAMS
                    if name != "alpha"
                },
                alpha=alpha,
                random_state=data_seed,
                lr_schedule=self.lr_schedule,
                warmup_fraction=self.warmup_fraction,
                ema_decay=self.ema_decay,
                verbose=self.verbose,
                **self._optimizer_kwargs(optimizer, device),
            )
            with torch_threads(n_threads):
                self.net_.fit(train, None)
        # The validation split holds data tensors; a fitted model should not
        # carry them into pickles (or keep them on the GPU).
        self.net_.train_split = None
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]
        if valid is not None:
            self.validation_loss_curve_ = [float(v) for v in history[:, "valid_loss"]]
            self.best_validation_loss_ = float(min(self.validation_loss_curve_))

    def _fit_ensemble(
        self, X, Y, sample_weight, alphas, *, n_outputs, criterion, seeds, device
    ) -> None:
        """Train ``len(alphas)`` networks as one :class:`StackedMLP`.

        Each member is its own "split" of :class:`MemberData` holding every
        row, so it draws its own row order every epoch (and its own partners
        and lambdas) while the data are stored once.
        """
        n_members, n_rows = len(alphas), X.shape[0]
        weighted = sample_weight is not None
        rest = np.hstack([Y] + ([sample_weight[:, None]] if weighted else []))
        X_on_device, rest = _to_device([X, rest], device)
        mask = torch.ones((n_members, n_rows), dtype=torch.bool, device=device)
        data = MemberData(X_on_device, rest, mask, weighted)
        module = StackedMLP(
            n_members,
            X.shape[1],
            n_outputs,
            check_hidden_layer_sizes(self.hidden_layer_sizes),
            self.activation,
            generator=torch.Generator().manual_seed(seeds[0]),
            device=device,
        )
        self.net_ = self._stacked_net(
            module,
            criterion,
            alphas=alphas,
            member_split=list(range(n_members)),
            batch_size=min(self.batch_size, n_rows),
            seed=seeds[1],
            device=device,
        )
        with torch_threads(self._stacked_threads(module, min(self.batch_size, n_rows))):
            self.net_.fit(data, None)
        self.net_.module_.release_training_state()
        history = self.net_.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]

    def _stacked_threads(self, module, rows_per_step: int) -> int:
        """Threads for training the stacked ``module`` on steps of that many rows
        per member."""
        return resolve_threads(
            self.n_threads, work_flops(rows_per_step, n_params(module))
        )

    def _stacked_net(
        self,
        module,
        criterion,
        *,
        alphas,
        member_split,
        batch_size,
        seed,
        device,
        target_shift=None,
        target_scale=None,
        **scaling,
    ) -> StackedMixupNet:
        """The skorch net that trains the members of ``module`` (unfitted);
        ``scaling`` holds its per-member ``input_*`` parameters."""
        optimizer = _OPTIMIZERS.get(self.optimizer, self.optimizer)
        return StackedMixupNet(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            train_split=None,
            device=device,
            member_alphas=list(alphas),
            member_split=list(member_split),
            target_shift=target_shift,
            target_scale=target_scale,
            random_state=seed,
            lr_schedule=self.lr_schedule,
            warmup_fraction=self.warmup_fraction,
            ema_decay=self.ema_decay,
            verbose=self.verbose,
            **scaling,
            **self._optimizer_kwargs(optimizer, device),
        )

    def _member_alphas(self) -> list[float]:
        """Each member's ``alpha``: ``alpha`` for every member, or a sequence
        of alphas cycled over the ``n_ensemble`` members."""
        n_members = getattr(self, "n_ensemble", 1)
        if np.ndim(self.alpha) == 0:
            return [float(self.alpha)] * n_members
        try:
            alphas = np.asarray(self.alpha, dtype=np.float64)
            valid = alphas.ndim == 1 and alphas.size >= 1
            valid = valid and not (np.isnan(alphas).any() or (alphas < 0).any())
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(
                "alpha must be a float >= 0 (or np.inf), or a non-empty sequence "
                f"of them, one per ensemble member; got {self.alpha!r}."
            )
        if alphas.size > n_members:
            raise ValueError(
                f"alpha has {alphas.size} values but n_ensemble={n_members}: give "
                "at most one alpha per member (fewer are cycled), or raise "
                f"n_ensemble to {alphas.size}."
            )
        return [float(alphas[k % alphas.size]) for k in range(n_members)]

    def _calibrate(self, X, Y, sample_weight) -> None:
        """Fit a post-training correction on held-out rows (see subclasses)."""

    def _held_out(self, arrays, stratify, rng):
        """``arrays`` split into the rows that train and the rows held out for
        early stopping and calibration (None when nothing is held out)."""
        from sklearn.model_selection import train_test_split

        if not (self.early_stopping or getattr(self, "calibrate", False)):
            return arrays, None
        n_rows = arrays[0].shape[0]
        n_valid = int(np.ceil(self.validation_fraction * n_rows))
        if n_valid < 1 or n_rows - n_valid < 1:
            uses = "early_stopping" if self.early_stopping else "calibrate"
            raise ValueError(
                f"{uses}=True with validation_fraction={self.validation_fraction} "
                f"leaves no training or held-out rows out of n_samples={n_rows}; "
                f"use more data, another validation_fraction, or {uses}=False."
            )
        try:
            parts = train_test_split(
                *arrays, test_size=n_valid, random_state=rng, stratify=stratify
            )
        except ValueError:
            # Too few rows of some class to stratify: fall back to a plain split.
            parts = train_test_split(*arrays, test_size=n_valid, random_state=rng)
        return parts[0::2], parts[1::2]

    # The pairing that makes no sense for this task, and why.
    _foreign_pairing: tuple[str, str] = ("", "")

    def _check_variant(self, alphas: list[float]) -> None:
        """Errors for variant settings that the task or the budget rule out."""
        pairing, reason = self._foreign_pairing
        if self.pairing == pairing:
            supported = sorted(set(PAIRINGS) - {pairing})
            raise ValueError(
                f"pairing={pairing!r} {reason}; {type(self).__name__} supports "
                f"pairing in {supported}."
            )
        if len(alphas) > 1:
            self._check_ensemble()
        if self.final_unmixed_epochs >= self.max_epochs and max(alphas) > 0:
            raise ValueError(
                f"final_unmixed_epochs={self.final_unmixed_epochs} switches mixing "
                f"off for all max_epochs={self.max_epochs} epochs; use fewer final "
                "unmixed epochs, more max_epochs, or alpha=0 for no mixing at all."
            )

    # What the stacked ensemble does not do yet: (parameter, the value it needs).
    _ENSEMBLE_NEEDS = (
        ("module", None),
        ("dropout", 0.0),
        ("early_stopping", False),
        ("mix_on", "both"),
        ("pairing", "random"),
        ("manifold", False),
        ("n_mixed", 2),
        ("mix_probability", 1.0),
        ("per_sample_lambda", False),
        ("alternate_epochs", 0),
        ("final_unmixed_epochs", 0),
        ("num_embeddings", None),
        ("mix_embeddings", False),
        ("categorical_groups", None),
    )

    def _check_ensemble(self) -> None:
        for name, needed in self._ENSEMBLE_NEEDS:
            value = getattr(self, name)
            if value is not needed and value != needed:
                raise ValueError(
                    f"n_ensemble={self.n_ensemble} trains its members as one "
                    "stacked network of the default MLP, which does not support "
                    f"{name}={value!r}; set {name}={needed!r}, or use "
                    "n_ensemble=1."
                )

    def _outputs(self, X) -> np.ndarray:
        """Network outputs for validated ``X``, as float64 numpy of shape
        ``(n_samples, n_outputs)``: the raw outputs of a single network, or the
        members' outputs combined by :meth:`_combine`, chunk by chunk (a
        ``(n_members, n_samples, n_outputs)`` array and its temporaries would
        cost several times the memory of the predictions).

        ``X`` is a float32 array or CSR matrix; rows go through the network
        :func:`predict_rows` at a time (sparse ones densified per chunk).
        See :func:`evaluate_float64` for why the float32 network is evaluated in
        float64.
        """
        module, device = self.net_.module_, self.net_.device
        module.eval()
        n_rows = predict_rows(X.shape[1])
        if isinstance(module, StackedMLP):
            members = torch.arange(module.n_members, device=device)
            params = module.select(members, torch.float64)
            # Each (members, rows, width) activation stays a few MB.
            n_rows = max(1, min(n_rows, _FORWARD_ROWS // module.n_members))
        else:
            params = float64_state(module)
        flops = work_flops(min(n_rows, X.shape[0]), n_params(module), backward=False)
        parts = []
        with torch_threads(resolve_threads(self.n_threads, flops)), torch.no_grad():
            for chunk in float64_chunks(X, device, n_rows):
                if isinstance(module, StackedMLP):
                    out = self._combine(module(chunk, selected=params))
                    parts.append(out.cpu().numpy())
                else:
                    parts.append(evaluate_float64(module, chunk, device, params))
        return np.concatenate(parts)

    def _combine(self, outputs: torch.Tensor) -> torch.Tensor:
        """The ensemble's output from its members', ``(n_members, n, n_outputs)``
        to ``(n, n_outputs)``: their mean (the classifier overrides it)."""
        return outputs.mean(dim=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # Robust scaling centres on medians, which would fill a sparse matrix.
        tags.input_tags.sparse = self.scale_inputs != "robust"
        return tags


def _as_float32(X):
    """The network trains in float32; values beyond its range are an error.

    Sparse ``X`` becomes a canonical CSR matrix (see :func:`as_csr`) whose
    values are converted to float32 only as rows are densified, so that a large
    float64 matrix needs no float32 copy.
    """
    if sp.issparse(X):
        X32 = as_csr(X)
        finite = np.abs(X32.data).max(initial=0) <= np.finfo(np.float32).max
    else:
        with np.errstate(over="ignore"):
            X32 = X.astype(np.float32, copy=False)
        finite = np.isfinite(X32).all()
    if not finite:
        raise ValueError(
            "X has values too large for float32 (|x| > 3.4e38), the precision the "
            "network trains in; rescale X first, e.g. with StandardScaler."
        )
    return X32


def _silent(*args, **kwargs) -> None:
    pass


def _writable(a: np.ndarray) -> np.ndarray:
    return np.require(a, requirements=["C", "W"])


def _to_device(arrays, device):
    """Tensors on ``device``; a sparse matrix becomes :class:`SparseRows`."""
    return [
        SparseRows.from_scipy(a, device)
        if sp.issparse(a)
        else torch.from_numpy(_writable(a)).to(device)
        for a in arrays
    ]


# The variants' references, cited as [1]_ .. [4]_ in the shared parameters.
_SHARED_REFERENCES = """\
.. [1] H. Zhang, M. Cisse, Y. N. Dauphin and D. Lopez-Paz, "mixup: Beyond
       Empirical Risk Minimization", ICLR 2018. https://arxiv.org/abs/1710.09412

    .. [2] H. Inoue, "Data Augmentation by Pairing Samples for Images
       Classification", arXiv:1801.02929, 2018.

    .. [3] H. Yao, Y. Wang, L. Zhang, J. Zou and C. Finn, "C-Mixup: Improving
       Generalization in Regression", NeurIPS 2022.

    .. [4] V. Verma, A. Lamb, C. Beckham, A. Najafi, I. Mitliagkas,
       D. Lopez-Paz and Y. Bengio, "Manifold Mixup: Better Representations by
       Interpolating Hidden States", ICML 2019."""

_SHARED_ATTRIBUTES = """\
net_ : MixupNet or StackedMixupNet
        The trained skorch net; ``net_.module_`` is the torch module (with
        ``n_ensemble > 1``, one stacked network of the members).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Mean training loss (on mixed batches) per epoch.

    validation_loss_curve_ : list of float
        Loss on the held-out rows per epoch; only with ``early_stopping=True``.

    best_validation_loss_ : float
        Lowest held-out loss, whose weights were kept; only with
        ``early_stopping=True``.

    input_scaling_ : InputScaling
        The scaling of the inputs fitted in ``fit`` and applied in ``predict``:
        per-column ``center`` (None for sparse ``X``) and ``scale``, and
        whether values are ``clip``-ped; only when ``scale_inputs`` is set."""

_SAMPLE_WEIGHT = """\
sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; the loss is their weighted mean. A mixed
            pair ``(i, j)`` weighs ``w_i * w_j`` rather than
            ``lambda * w_i + (1 - lambda) * w_j``: the product is what repeating
            row ``i`` ``w_i`` times would give in expectation, and a row of
            weight 0 then has no influence at all, whereas the convex mix would
            still train on rows of weight 0 through their partners."""


def fill_doc(cls):
    """Put the parameters of ``cls``'s signature (their text from
    :mod:`skmixup._params`), the shared attributes and the references into
    ``cls.__doc__``."""
    names = list(inspect.signature(cls).parameters)
    cls.__doc__ = (
        cls.__doc__.replace("%(parameters)s", parameter_docs(names))
        .replace("%(attributes)s", _SHARED_ATTRIBUTES)
        .replace("%(references)s", _SHARED_REFERENCES)
    )
    for name in ("fit",):
        method = getattr(cls, name)
        method.__doc__ = method.__doc__.replace("%(sample_weight)s", _SAMPLE_WEIGHT)
    return cls
