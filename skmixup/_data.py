"""Training data as tensors: a dataset, and an iterator that slices batches."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch
from skorch.dataset import Dataset as SkorchDataset
from torch import Tensor

from ._random import permutation
from ._sparse import SparseRows

if TYPE_CHECKING:
    from ._mixer import Mixer

__all__ = ["ArrayDataset", "Batch", "TensorBatchIterator"]

# Bytes of rows (and partner rows) gathered at a time when shuffling: enough
# rows to amortise the per-chunk calls, few enough that a wide table (e.g.
# densified one-hot columns) never needs a full-size copy.
_GATHER_BYTES = 2**24


class ArrayDataset(torch.utils.data.Dataset):
    """Rows of tensors ``X``, ``y`` (optional) and ``sample_weight`` (optional).

    :class:`MixupNet` slices its tensors directly (see :class:`TensorBatchIterator`);
    ``__getitem__`` exists so that it also works with a plain ``DataLoader``.

    Examples
    --------
    >>> import torch
    >>> from skmixup import ArrayDataset
    >>> ds = ArrayDataset(torch.zeros(4, 2), torch.arange(4))
    >>> len(ds), ds[1]
    (4, (tensor([0., 0.]), tensor(1)))
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
    ``generator`` and gathers the rows in that order, a chunk of whole batches
    at a time (a few MB), into buffers allocated once; batches are then views
    of those buffers. Every row appears exactly once per epoch, in a new order,
    reproducibly under the generator's seed. The last batch may be short.

    Parameters
    ----------
    tensors : tuple of Tensor or None
        Tensors with the same number of rows; ``None`` entries are passed
        through. The first (``X``) may also be a
        :class:`~skmixup._sparse.SparseRows`: its rows are densified as they
        are gathered.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Whether to permute rows at the start of every pass.
    generator : torch.Generator, default=None
        Source of the permutations; required when ``shuffle=True``.
    mixer : Mixer, default=None
        With ``shuffle``: the mixup draws of the training run. In every epoch
        in which it mixes, its partner rows are gathered alongside
        (``mixer.partner_orders``), and when the mixer can (``mixer.epoch_weights``)
        each chunk is mixed in place (``mixer.premix``); batches then carry
        ``premixed=True``. Otherwise each batch carries its partners' rows as
        ``batch.partners``.

    Examples
    --------
    >>> import torch
    >>> from skmixup import TensorBatchIterator
    >>> X, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    >>> batches = TensorBatchIterator((X, y), batch_size=2)
    >>> [yb.tolist() for _, yb in batches]
    [[0, 1], [2, 3], [4]]
    >>> g = torch.Generator().manual_seed(0)
    >>> shuffled = TensorBatchIterator((X, y), batch_size=2, shuffle=True, generator=g)
    >>> sorted(i for _, yb in shuffled for i in yb.tolist())
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        tensors: tuple[Tensor | None, ...],
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        mixer: Mixer | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        if shuffle and generator is None:
            raise ValueError("shuffle=True needs a generator.")
        if mixer is not None and not shuffle:
            raise ValueError("a mixer needs shuffle=True.")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.mixer = mixer
        # (buffers, packed) per side: the batch rows, then each partner's rows.
        self._sides: list[tuple[tuple[Tensor | None, ...], Tensor | None]] = []

    @property
    def n_rows(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.n_rows / self.batch_size)

    def _chunk_rows(self, n_sides: int) -> int:
        """Rows gathered at a time: whole batches, about ``_GATHER_BYTES`` in all."""
        row_bytes = n_sides * sum(
            _row_numel(t) * t.dtype.itemsize for t in self.tensors if t is not None
        )
        n_batches = max(1, _GATHER_BYTES // max(1, row_bytes * self.batch_size))
        return min(self.n_rows, n_batches * self.batch_size)

    def _allocate(self, n_rows: int) -> tuple[tuple[Tensor | None, ...], Tensor | None]:
        """Buffers for ``n_rows`` gathered rows; 2-D float X and y share one.

        Sharing lets a chunk's inputs and targets be mixed with one lerp.
        """
        X, y = self.tensors[0], self.tensors[1] if len(self.tensors) > 1 else None
        packable = (
            y is not None
            and X.dim() == 2
            and y.dim() == 2
            and X.dtype == y.dtype
            and X.dtype.is_floating_point
        )
        buffers = [
            None
            if t is None or (packable and i < 2)
            else torch.empty((n_rows, *t.shape[1:]), dtype=t.dtype, device=t.device)
            for i, t in enumerate(self.tensors)
        ]
        packed = None
        if packable:
            packed = torch.empty(
                (n_rows, X.shape[1] + y.shape[1]), dtype=X.dtype, device=X.device
            )
            buffers[:2] = packed[:, : X.shape[1]], packed[:, X.shape[1] :]
        return tuple(buffers), packed

    def __iter__(self) -> Iterator[Batch]:
        n, bs = self.n_rows, self.batch_size
        if not self.shuffle:
            for start in range(0, n, bs):
                yield Batch(
                    None if t is None else t[start : start + bs] for t in self.tensors
                )
            return
        mixer = self.mixer
        n_partners = mixer.n_partners if mixer is not None else 0
        order = permutation(n, self.generator)
        orders = [order]
        if n_partners:
            orders += mixer.partner_orders(order, self.tensors, bs)
        weights = mixer.epoch_weights(self.tensors, n, bs) if n_partners else None
        chunk = self._chunk_rows(len(orders))
        if len(self._sides) < len(orders) or len(self._sides[0][0][0]) != chunk:
            self._sides = [self._allocate(chunk) for _ in orders]
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            sides = [_first_rows(side, m) for side in self._sides[: len(orders)]]
            for (buffers, _), side_order in zip(sides, orders, strict=True):
                idx = side_order[start : start + m]
                for t, buf in zip(self.tensors, buffers, strict=True):
                    if isinstance(t, SparseRows):
                        t.index_select(0, idx, out=buf)  # densified in place
                    elif t is not None:
                        buf.copy_(t.index_select(0, idx))
            if weights is not None:
                mixer.premix(sides, weights[start : start + m])
                for batch in _split_batches(sides[0][0], bs):
                    batch.premixed = True
                    yield batch
                continue
            batches = [_split_batches(buffers, bs) for buffers, _ in sides]
            for batch, *partners in zip(*batches, strict=True):
                batch.partners = tuple(partners)
                yield batch


def _first_rows(side, m: int):
    """The first ``m`` rows of a side's ``(buffers, packed)``, as views."""
    buffers, packed = side
    return (
        tuple(None if b is None else b[:m] for b in buffers),
        None if packed is None else packed[:m],
    )


def _row_numel(t) -> int:
    return math.prod(t.shape[1:])


def _split_batches(buffers, bs: int) -> Iterator[Batch]:
    # split() makes all of an epoch's batch views in one call per buffer.
    columns = [itertools.repeat(None) if b is None else b.split(bs) for b in buffers]
    for views in zip(*columns, strict=False):
        yield Batch(views)


class Batch(tuple):
    """A batch ``(X, y[, sample_weight])``.

    ``partners`` holds the batches of mixing partners (one per extra sample in a
    mixture): row ``i``'s partner is row ``i`` of ``partners[c]``. ``premixed``
    says the batch is mixed already.
    """

    partners: tuple[Batch, ...] = ()
    premixed: bool = False


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
    if isinstance(dataset, torch.utils.data.Subset):
        # skorch's ValidSplit hands over Subsets of its Dataset.
        tensors = _tensors_of(dataset.dataset, device)
        if tensors is not None:
            index = torch.as_tensor(dataset.indices, device=tensors[0].device)
            return tuple(
                None if t is None else t.index_select(0, index) for t in tensors
            )
    return None
