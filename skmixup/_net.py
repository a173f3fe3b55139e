"""A skorch net that trains on mixup batches, and a fast tensor batch iterator.

The net only overrides skorch's documented extension points (``initialize``,
``get_iterator``, ``train_step_single``, ``validation_step``, ``get_loss`` and the
``on_batch_end`` hook); skorch's own fit loop runs unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import to_tensor
from torch import Tensor
from torch.nn import functional as F

from ._mixing import _check_alpha, mix, sample_lambda, sample_partners

__all__ = ["ArrayDataset", "MixupNet", "TensorBatchIterator"]

# Lambdas are drawn this many at a time: one Beta draw per batch is a handful of
# small kernels, a buffer turns that into one draw per ~thousand batches.
_LAMBDA_BUFFER = 1024


class ArrayDataset(torch.utils.data.Dataset):
    """Rows of tensors ``X``, ``y`` (optional) and ``sample_weight`` (optional).

    :class:`MixupNet` slices its tensors directly (see :class:`TensorBatchIterator`);
    ``__getitem__`` exists so that it also works with a plain ``DataLoader``.
    """

    def __init__(
        self, X: Tensor, y: Tensor | None = None, sample_weight: Tensor | None = None
    ) -> None:
        for name, t in (("y", y), ("sample_weight", sample_weight)):
            if t is not None and len(t) != len(X):
                raise ValueError(
                    f"{name} has {len(t)} rows but X has {len(X)}; they must match."
                )
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return tuple(t[i] for t in self.tensors)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """``(X, y)`` or ``(X, y, sample_weight)``; ``y`` may be None."""
        if self.sample_weight is None:
            return (self.X, self.y)
        return (self.X, self.y, self.sample_weight)


class TensorBatchIterator:
    """Minibatches cut from tensors by slicing, never row by row.

    Each pass (epoch) with ``shuffle=True`` draws a new permutation from
    ``generator``, so every row appears exactly once per epoch, in a new order,
    reproducibly under the generator's seed. The last batch may be short.

    Parameters
    ----------
    tensors : tuple of Tensor or None
        Tensors with the same number of rows; ``None`` entries are passed through.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Whether to permute rows at the start of every pass.
    generator : torch.Generator, default=None
        Source of the permutations; required when ``shuffle=True``.
    """

    def __init__(
        self,
        tensors: tuple[Tensor | None, ...],
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        if shuffle and generator is None:
            raise ValueError("shuffle=True needs a generator.")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    @property
    def n_rows(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor | None, ...]]:
        n, bs = self.n_rows, self.batch_size
        if not self.shuffle:
            for start in range(0, n, bs):
                yield tuple(
                    None if t is None else t[start : start + bs] for t in self.tensors
                )
            return
        device = self.tensors[0].device
        order = torch.randperm(n, generator=self.generator, device=device)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            yield tuple(
                None if t is None else t.index_select(0, idx) for t in self.tensors
            )


def _as_tensor(data, device) -> Tensor | None:
    if data is None:
        return None
    if isinstance(data, Tensor):
        return data.to(device)
    if isinstance(data, np.ndarray):
        # np.require copies read-only input (e.g. memmaps): torch warns on it.
        return torch.from_numpy(np.require(data, requirements=["C", "W"])).to(device)
    return None


def _tensors_of(dataset, device) -> tuple[Tensor | None, ...] | None:
    """The tensors behind a simple dataset, or None when it is not that simple."""
    if isinstance(dataset, ArrayDataset):
        return dataset.tensors
    if isinstance(dataset, SkorchDataset):
        X = _as_tensor(dataset.X, device)
        y = None if dataset.y is None else _as_tensor(dataset.y, device)
        if X is not None and (dataset.y is None or y is not None):
            return (X, y)
    return None


def _unpack(batch) -> tuple[Tensor, Tensor, Tensor | None]:
    if len(batch) == 3:
        return batch[0], batch[1], batch[2]
    X, y = batch
    return X, y, None


class MixupNet(NeuralNet):
    """A skorch :class:`~skorch.NeuralNet` that trains on mixup batches.

    For users who already have skorch code and modules. Every training batch
    draws ``lambda ~ Beta(alpha, alpha)`` and a random partner permutation inside
    the batch, feeds ``lambda * x_i + (1 - lambda) * x_j`` to the module and mixes
    the targets alike. Validation, ``predict`` and ``forward`` never mix.

    Targets: integer class labels are one-hot encoded to the module's output
    width before mixing, so the criterion must accept class probabilities
    (``torch.nn.CrossEntropyLoss`` does; ``NLLLoss`` does not). Floating targets
    (regression values, soft labels) are mixed as they are. A criterion with
    ``reduction="none"`` is reduced by the net, which then also honours per-row
    sample weights.

    Parameters
    ----------
    module : torch module class or instance
        As in skorch.
    alpha : float, default=1.0
        Beta concentration, ``>= 0``; ``alpha=0`` is plain ERM (no mixing).
    random_state : int or None, default=None
        Seed of the generator behind shuffling, lambdas and partners. ``None``
        seeds it from PyTorch's global generator.
    **kwargs
        Every other :class:`~skorch.NeuralNet` parameter.

    See Also
    --------
    MixupClassifier, MixupRegressor : scikit-learn estimators built on this net.

    References
    ----------
    .. [1] H. Zhang, M. Cisse, Y. N. Dauphin and D. Lopez-Paz, "mixup: Beyond
       Empirical Risk Minimization", ICLR 2018.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmixup import MixupNet
    >>> X = np.random.RandomState(0).randn(64, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> net = MixupNet(
    ...     torch.nn.Linear(4, 2), criterion=torch.nn.CrossEntropyLoss,
    ...     alpha=0.4, max_epochs=2, train_split=None, random_state=0, verbose=0)
    >>> net = net.fit(X, y)
    >>> net.predict(X).shape
    (64, 2)
    """

    def __init__(self, module, *args, alpha=1.0, random_state=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.alpha = alpha
        self.random_state = random_state

    def initialize(self):
        super().initialize()
        self.alpha_ = _check_alpha(self.alpha)
        seed = self.random_state
        if seed is None:
            seed = int(torch.randint(0, 2**62, ()).item())
        self.generator_ = torch.Generator(device=torch.device(self.device))
        self.generator_.manual_seed(int(seed))
        self._lambdas = torch.empty(0)
        self._lambda_pos = 0
        return self

    def _next_lambda(self) -> Tensor:
        if self._lambda_pos >= len(self._lambdas):
            self._lambdas = sample_lambda(
                self.alpha_, _LAMBDA_BUFFER, generator=self.generator_
            )
            self._lambda_pos = 0
        self._lambda_pos += 1
        return self._lambdas[self._lambda_pos - 1]

    def get_iterator(self, dataset, training=False):
        tensors = _tensors_of(dataset, self.device)
        if tensors is None:
            return super().get_iterator(dataset, training=training)
        prefix = "iterator_train" if training else "iterator_valid"
        batch_size = self.get_params_for(prefix).get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(tensors[0])
        return TensorBatchIterator(
            tensors,
            max(1, min(batch_size, len(tensors[0]))),
            shuffle=training,
            generator=self.generator_ if training else None,
        )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi, wi = _unpack(batch)
        Xi = to_tensor(Xi, device=self.device)
        yi = to_tensor(yi, device=self.device)
        mixing = self.alpha_ > 0 and len(Xi) > 1
        if mixing:
            lam = self._next_lambda()
            partner = sample_partners(len(Xi), generator=self.generator_)
            Xi = mix(Xi, Xi[partner], lam)
        y_pred = self.infer(Xi, **fit_params)
        if mixing:
            if not torch.is_floating_point(yi):
                yi = F.one_hot(yi.long(), y_pred.shape[-1]).to(y_pred.dtype)
            yi = mix(yi, yi[partner], lam)
            if wi is not None:
                # Pair (i, j) weighs w_i * w_j: what repeating rows would give.
                wi = wi * wi[partner]
        loss = self.get_loss(y_pred, yi, X=Xi, training=True, sample_weight=wi)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi, wi = _unpack(batch)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False, sample_weight=wi)
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(y_pred, y_true)
        if loss.dim() == 0:
            if sample_weight is not None:
                raise ValueError(
                    "sample_weight needs a criterion with reduction='none'; set "
                    "criterion__reduction='none'."
                )
            return loss
        # reduction="none": one loss per row (averaged over trailing dims).
        loss = loss.reshape(len(loss), -1).mean(dim=1)
        if sample_weight is None:
            return loss.mean()
        sample_weight = to_tensor(sample_weight, device=self.device)
        return (loss * sample_weight).sum() / sample_weight.sum().clamp_min(1e-12)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        loss = kwargs.get("loss")
        if training and loss is not None and not math.isfinite(loss.item()):
            raise FloatingPointError(
                f"The training loss became {loss.item()} in epoch {len(self.history)}; "
                "the weights are no longer usable. Try a smaller learning rate, "
                "scaling the features (e.g. StandardScaler) or, for regression, "
                "scaling the target."
            )
