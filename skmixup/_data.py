"""Training data as tensors: a dataset, and an iterator that slices batches."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
from skorch.dataset import Dataset as SkorchDataset
from torch import Tensor

from ._mixing import sample_partners

__all__ = ["ArrayDataset", "Batch", "TensorBatchIterator"]

# Rows gathered at a time when shuffling: bounds the temporary to a few MB.
_GATHER_CHUNK = 65536


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
    ``generator`` and gathers the rows in that order once, so every row appears
    exactly once per epoch, in a new order, reproducibly under the generator's
    seed; batches are then views of that copy. The last batch may be short.

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
    partners : bool, default=False
        Also draw, once per epoch, a random permutation inside every batch and
        attach the permuted rows as ``batch.partner`` (mixup's partners), so that
        a training step needs neither a ``randperm`` nor a gather.
    lambdas : callable, default=None
        With ``partners``: called once per epoch with the number of batches, it
        returns one mixing coefficient per batch, and when every tensor is
        floating the whole epoch is mixed at once, in place: batch ``k`` yields
        ``lam[k] * rows + (1 - lam[k]) * partner_rows`` for the first two tensors
        (inputs and targets) and ``rows * partner_rows`` for the others (sample
        weights), and carries ``premixed_lambda``.

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
        partners: bool = False,
        lambdas: Callable[[int], Tensor] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        if (shuffle or partners) and generator is None:
            raise ValueError("shuffle=True and partners=True need a generator.")
        if partners and not shuffle:
            raise ValueError("partners=True needs shuffle=True.")
        if lambdas is not None and not partners:
            raise ValueError("lambdas needs partners=True.")
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.partners = partners
        self.lambdas = lambdas
        # (buffers, packed) per side: the batch rows, and their partners' rows.
        self._sides: list[tuple[tuple[Tensor | None, ...], Tensor | None]] = []

    @property
    def n_rows(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.n_rows / self.batch_size)

    def _allocate(self) -> tuple[tuple[Tensor | None, ...], Tensor | None]:
        """Shuffle buffers, allocated once per fit; 2-D float X and y share one.

        Sharing lets an epoch's inputs and targets be mixed with one lerp.
        """
        X, y = self.tensors[0], self.tensors[1] if len(self.tensors) > 1 else None
        packable = (
            y is not None
            and X.dim() == 2
            and y.dim() == 2
            and X.dtype == y.dtype
            and torch.is_floating_point(X)
        )
        buffers = [
            None if t is None or (packable and i < 2) else torch.empty_like(t)
            for i, t in enumerate(self.tensors)
        ]
        packed = None
        if packable:
            packed = X.new_empty((len(X), X.shape[1] + y.shape[1]))
            buffers[:2] = packed[:, : X.shape[1]], packed[:, X.shape[1] :]
        return tuple(buffers), packed

    def _partner_order(self, order: Tensor) -> Tensor:
        """``order`` permuted at random inside each batch-sized block."""
        n, bs = len(order), self.batch_size
        n_full, rest = divmod(n, bs)
        parts = []
        if n_full:
            local = sample_partners(bs, generator=self.generator, n_batches=n_full)
            offsets = torch.arange(0, n_full * bs, bs, device=order.device)
            parts.append((local + offsets[:, None]).reshape(-1))
        if rest:
            parts.append(sample_partners(rest, generator=self.generator) + n_full * bs)
        return order.index_select(0, torch.cat(parts))

    def __iter__(self) -> Iterator[tuple[Tensor | None, ...]]:
        n, bs = self.n_rows, self.batch_size
        if not self.shuffle:
            for start in range(0, n, bs):
                yield tuple(
                    None if t is None else t[start : start + bs] for t in self.tensors
                )
            return
        if not self._sides:
            self._sides = [self._allocate() for _ in range(1 + self.partners)]
        order = torch.randperm(
            n, generator=self.generator, device=self.tensors[0].device
        )
        orders = [order, self._partner_order(order)] if self.partners else [order]
        # Rows are gathered in the new order once per epoch, in chunks so that no
        # full-size temporary exists; every batch is then a view.
        for (buffers, _), side_order in zip(self._sides, orders, strict=True):
            for start in range(0, n, _GATHER_CHUNK):
                idx = side_order[start : start + _GATHER_CHUNK]
                for t, buf in zip(self.tensors, buffers, strict=True):
                    if t is not None:
                        buf[start : start + _GATHER_CHUNK] = t.index_select(0, idx)
        if self.lambdas is not None and self._premixable():
            yield from self._premixed_batches()
            return
        batches = [_split_batches(buffers, bs) for buffers, _ in self._sides]
        if not self.partners:
            yield from batches[0]
            return
        for batch, partner in zip(*batches, strict=True):
            batch.partner = partner
            yield batch

    def _premixable(self) -> bool:
        return all(t is None or torch.is_floating_point(t) for t in self.tensors)

    def _premixed_batches(self) -> Iterator[Batch]:
        """Mix the whole epoch at once, in place: a step then has nothing to mix."""
        (buffers, packed), (partner_buffers, partner_packed) = self._sides
        lam = self.lambdas(len(self)).to(self.tensors[0])
        # Row r of batch k mixes with weight lam[k]; lerp_(b, 1 - lam) leaves
        # lam * a + (1 - lam) * b in a.
        weight = 1 - lam.repeat_interleave(self.batch_size)[: self.n_rows]
        mixed = [(packed, partner_packed)] if packed is not None else []
        mixed += [
            (b, p)
            for i, (b, p) in enumerate(zip(buffers, partner_buffers, strict=True))
            if b is not None and i < 2 and packed is None
        ]
        for a, b in mixed:
            a.lerp_(b, weight.reshape(-1, *([1] * (a.dim() - 1))))
        for b, p in zip(buffers[2:], partner_buffers[2:], strict=True):
            if b is not None:
                # Pair (i, j) weighs w_i * w_j.
                b.mul_(p)
        batches = _split_batches(buffers, self.batch_size)
        for batch, lam_k in zip(batches, lam.tolist(), strict=True):
            batch.premixed_lambda = lam_k
            yield batch


def _split_batches(buffers, bs: int) -> Iterator[Batch]:
    # split() makes all of an epoch's batch views in one call per buffer.
    columns = [itertools.repeat(None) if b is None else b.split(bs) for b in buffers]
    for views in zip(*columns, strict=False):
        yield Batch(views)


class Batch(tuple):
    """A batch ``(X, y[, sample_weight])``.

    ``partner``, when not None, is the batch of mixing partners: row ``i``'s
    partner is ``partner[...][i]``, and the partner rows are a random permutation
    of the batch's own rows. ``premixed_lambda``, when not None, says the batch is
    already mixed, with that coefficient.
    """

    partner: Batch | None = None
    premixed_lambda: float | None = None


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
