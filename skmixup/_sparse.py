"""Sparse input: CSR rows kept sparse on the device and densified a batch at a time.

A one-hot encoded table is mostly zeros; densified whole it can take tens of
times the memory of its CSR form. :class:`SparseRows` keeps the CSR arrays as
tensors on the training device and hands out dense rows only for the rows asked
for, so the training loop, which gathers and mixes rows, works on dense batches
whose size it controls. Mixing two sparse rows gives their dense convex
combination.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

__all__ = ["SparseRows", "as_csr"]


def as_csr(X) -> sp.csr_matrix:
    """``X`` as a CSR matrix of float32 or float64 values without duplicates.

    A canonical float CSR matrix is returned as it is: training reads its
    arrays in place (rows are converted to float32 as they are densified). The
    caller's matrix is never modified: other formats and dtypes are converted
    to a copy, and a matrix that needs its duplicates summed is copied first.
    """
    X = X.tocsr()
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


class SparseRows:
    """Rows of a CSR matrix as tensors on a device; reading rows gives dense rows.

    Supports what the training loop and the estimators ask of ``X``: ``len``,
    ``shape``, ``dtype``, ``device``, ``X[i]`` and ``X[start:stop]``, and
    ``X.index_select(0, index)``, each returning a dense tensor.

    Parameters
    ----------
    indptr, indices, values : Tensor
        The CSR arrays (``values`` floating), on one device, without duplicate
        entries.
    shape : tuple of int
        ``(n_rows, n_columns)``.
    dtype : torch.dtype, default=torch.float32
        Floating dtype of the dense rows handed out; ``values`` are converted
        as rows are read, so a float64 matrix needs no float32 copy.

    Examples
    --------
    >>> import scipy.sparse as sp, torch
    >>> from skmixup._sparse import SparseRows
    >>> X = sp.csr_matrix([[0.0, 2.0], [3.0, 0.0]], dtype="float32")
    >>> X = SparseRows.from_scipy(X, "cpu")
    >>> X.index_select(0, torch.tensor([1, 1, 0]))
    tensor([[3., 0.],
            [3., 0.],
            [0., 2.]])
    """

    def __init__(
        self,
        indptr: Tensor,
        indices: Tensor,
        values: Tensor,
        shape: tuple[int, int],
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = dtype

    @classmethod
    def from_scipy(cls, X: sp.spmatrix, device: torch.device | str) -> SparseRows:
        """From a CSR matrix without duplicates (see :func:`as_csr`), its arrays
        shared, not copied, on the CPU."""
        arrays = [X.indptr, X.indices, X.data]
        indptr, indices, values = (
            torch.from_numpy(np.require(a, requirements=["C", "W"])).to(device)
            for a in arrays
        )
        return cls(indptr, indices, values, X.shape)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def device(self) -> torch.device:
        return self.values.device

    def dim(self) -> int:
        return 2

    def data_ptr(self) -> int:
        return self.values.data_ptr()

    def _densify(
        self, starts: Tensor, counts: Tensor, out: Tensor | None = None
    ) -> Tensor:
        """Dense rows whose entries sit at ``starts[r]:starts[r] + counts[r]``,
        written to ``out`` (of shape ``(len(starts), n_columns)``) when given."""
        device = self.values.device
        shape = (len(starts), self.shape[1])
        if out is None:
            out = torch.zeros(shape, dtype=self.dtype, device=device)
        else:
            if tuple(out.shape) != shape:
                raise ValueError(f"out must have shape {shape}, got {out.shape}.")
            out.zero_()
        total = int(counts.sum())
        if total:
            row = torch.repeat_interleave(
                torch.arange(len(starts), device=device), counts, output_size=total
            )
            # The k-th stored entry of a row sits at its row's start + k.
            run_start = torch.cumsum(counts, 0) - counts
            position = torch.arange(total, device=device) + (starts - run_start)[row]
            # Values round to the rows' dtype first (as dense input is rounded
            # to float32), then take out's dtype.
            values = self.values[position].to(self.dtype).to(out.dtype)
            out.index_put_((row, self.indices[position].long()), values)
        return out

    def index_select(self, dim: int, index: Tensor, *, out: Tensor | None = None):
        """Dense rows ``index`` (``dim`` must be 0): ``(len(index), n_columns)``,
        written to ``out`` when given (it may be a strided view)."""
        if dim != 0:
            raise ValueError(f"SparseRows selects rows only (dim=0), got dim={dim}.")
        index = index.to(device=self.values.device, dtype=torch.long)
        starts = self.indptr[index].long()
        return self._densify(starts, self.indptr[index + 1].long() - starts, out)

    def read(self, start: int, stop: int, out: Tensor | None = None) -> Tensor:
        """Dense rows ``start:stop``, written to ``out`` when given."""
        stop = max(start, min(stop, self.shape[0]))
        bounds = self.indptr[start : stop + 1].long()
        return self._densify(bounds[:-1], bounds[1:] - bounds[:-1], out)

    def __getitem__(self, key) -> Tensor:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            if step != 1:
                raise ValueError("SparseRows slices must be contiguous (step 1).")
            return self.read(start, stop)
        if isinstance(key, (int, np.integer)):
            row = int(key) + (self.shape[0] if key < 0 else 0)
            return self[row : row + 1][0]
        return self.index_select(0, torch.as_tensor(key))
