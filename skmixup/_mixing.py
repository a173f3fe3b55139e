"""Pure mixing functions over tensors: lambda sampling, partners, convex mixing.

Every random draw takes an explicit :class:`torch.Generator`, so the functions never
touch PyTorch's global random state. Nothing here knows about estimators or nets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from ._random import integers, normal, permutation, uniform

if TYPE_CHECKING:
    from ._sparse import SparseRows

__all__ = [
    "MixedBatch",
    "block_partners",
    "label_distance_partners",
    "mix",
    "mix_many",
    "mix_sample_weights",
    "mixup",
    "nearest_neighbors",
    "neighbor_partners",
    "pick_blocks",
    "same_class_partners",
    "sample_lambda",
    "sample_mixing_weights",
    "sample_partners",
]


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if math.isnan(alpha) or alpha < 0:
        raise ValueError(
            f"alpha must be a float >= 0 (0 means no mixing, inf a fixed lambda of "
            f"0.5), got {alpha!r}."
        )
    return alpha


def _log_standard_gamma(
    shape: float, n: int, *, generator: torch.Generator, device: torch.device
) -> Tensor:
    """Log of ``n`` Gamma(shape, 1) draws in float64.

    Marsaglia & Tsang (2000) rejection sampling, vectorised. For ``shape < 1`` the
    draw is boosted, Gamma(a) = Gamma(a + 1) * U**(1/a), and kept in log space so
    that small shapes (alpha -> 0) do not underflow to 0.
    """
    boosted = shape < 1.0
    a = shape + 1.0 if boosted else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, dtype=torch.float64, device=device)
    filled = 0
    while filled < n:
        # Acceptance is above 95% for every shape, so twice the missing draws
        # almost always finishes in one pass.
        m = max(2 * (n - filled), 16)
        x = normal(m, generator, torch.float64).to(device)
        u = uniform(m, generator, torch.float64).to(device)
        v = (1.0 + c * x) ** 3
        log_v = torch.log(v.clamp_min(1e-300))
        ok = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * log_v)
        accepted = (math.log(d) + log_v)[ok][: n - filled]
        out[filled : filled + accepted.numel()] = accepted
        filled += accepted.numel()
    if boosted:
        u = uniform(n, generator, torch.float64).to(device)
        out += torch.log(u) / shape
    return out


def sample_lambda(
    alpha: float,
    n: int,
    *,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Draw ``n`` mixing coefficients ``lambda ~ Beta(alpha, alpha)``.

    Parameters
    ----------
    alpha : float
        Concentration of the symmetric Beta distribution, ``>= 0``. ``alpha=0``
        means no mixing and returns ones (each sample keeps all of itself);
        ``alpha=inf`` is the limit of a Beta centred ever more tightly on 0.5 and
        returns exactly 0.5 (SamplePairing's average).
    n : int
        Number of coefficients.
    generator : torch.Generator
        Source of randomness, on the same device as ``device``.
    device : torch.device or str, default=None
        Device of the result; ``None`` uses the generator's device.
    dtype : torch.dtype, default=torch.float32
        Floating dtype of the result.

    Returns
    -------
    lam : Tensor of shape (n,)
        Values in ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> from skmixup import sample_lambda
    >>> g = torch.Generator().manual_seed(0)
    >>> lam = sample_lambda(0.4, 1000, generator=g)
    >>> lam.shape, bool(((lam >= 0) & (lam <= 1)).all())
    (torch.Size([1000]), True)
    >>> sample_lambda(0.0, 3, generator=g)  # alpha=0: no mixing
    tensor([1., 1., 1.])
    """
    alpha = _check_alpha(alpha)
    device = torch.device(device) if device is not None else generator.device
    if alpha == 0.0:
        return torch.ones(n, dtype=dtype, device=device)
    if math.isinf(alpha):
        return torch.full((n,), 0.5, dtype=dtype, device=device)
    # Beta(a, a) = G1 / (G1 + G2) = sigmoid(log G1 - log G2), stable in log space.
    log_g = _log_standard_gamma(alpha, 2 * n, generator=generator, device=device)
    return torch.sigmoid(log_g[:n] - log_g[n:]).to(dtype)


def sample_partners(
    n: int,
    *,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    n_batches: int | None = None,
) -> Tensor:
    """Random permutations: row ``i`` of a batch is mixed with row ``index[i]``.

    Returns one permutation of ``range(n)`` of shape ``(n,)``, or, with
    ``n_batches``, that many independent permutations of shape ``(n_batches, n)``
    drawn at once.

    Examples
    --------
    >>> import torch
    >>> from skmixup import sample_partners
    >>> g = torch.Generator().manual_seed(0)
    >>> sorted(sample_partners(5, generator=g).tolist())
    [0, 1, 2, 3, 4]
    >>> sample_partners(5, generator=g, n_batches=3).shape
    torch.Size([3, 5])
    """
    device = torch.device(device) if device is not None else generator.device
    if n_batches is None:
        return permutation(n, generator).to(device)
    keys = uniform((n_batches, n), generator).to(device)
    return keys.argsort(dim=1)


def sample_mixing_weights(
    alpha: float,
    n_mixed: int,
    n: int,
    *,
    generator: torch.Generator,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Draw ``n`` rows of mixing weights over ``n_mixed`` samples.

    Each row is ``Dirichlet(alpha, ..., alpha)``; for two samples that is
    ``(lambda, 1 - lambda)`` with ``lambda ~ Beta(alpha, alpha)`` drawn exactly as
    :func:`sample_lambda` draws it. ``alpha=0`` gives ``(1, 0, ..., 0)`` (no
    mixing) and ``alpha=inf`` equal weights ``1 / n_mixed``.

    Returns
    -------
    weights : Tensor of shape (n, n_mixed)
        Non-negative rows that sum to 1; column 0 weighs the sample itself.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import sample_mixing_weights
    >>> g = torch.Generator().manual_seed(0)
    >>> w = sample_mixing_weights(1.0, 3, 4, generator=g)
    >>> w.shape, bool(torch.allclose(w.sum(dim=1), torch.ones(4)))
    (torch.Size([4, 3]), True)
    >>> sample_mixing_weights(float("inf"), 2, 1, generator=g)
    tensor([[0.5000, 0.5000]])
    """
    alpha = _check_alpha(alpha)
    n_mixed = int(n_mixed)
    if n_mixed < 2:
        raise ValueError(f"n_mixed must be an int >= 2, got {n_mixed!r}.")
    device = torch.device(device) if device is not None else generator.device
    if n_mixed == 2:
        lam = sample_lambda(alpha, n, generator=generator, device=device, dtype=dtype)
        return torch.stack([lam, 1 - lam], dim=1)
    if alpha == 0.0:
        weights = torch.zeros((n, n_mixed), dtype=dtype, device=device)
        weights[:, 0] = 1
        return weights
    if math.isinf(alpha):
        return torch.full((n, n_mixed), 1 / n_mixed, dtype=dtype, device=device)
    # Dirichlet(a, ..., a) = normalised Gamma(a) draws: a softmax in log space.
    log_g = _log_standard_gamma(alpha, n * n_mixed, generator=generator, device=device)
    return torch.softmax(log_g.reshape(n, n_mixed), dim=1).to(dtype)


def block_partners(
    n: int,
    block_size: int,
    *,
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> Tensor:
    """Positions ``0..n-1`` permuted at random inside consecutive blocks.

    Position ``r`` of block ``b`` maps to another position of the same block,
    so when blocks are minibatches every row is paired within its batch, as in
    the original mixup. The last block may be short.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import block_partners
    >>> index = block_partners(7, 3, generator=torch.Generator().manual_seed(0))
    >>> [sorted(index[i : i + 3].tolist()) for i in (0, 3, 6)]
    [[0, 1, 2], [3, 4, 5], [6]]
    """
    device = torch.device(device) if device is not None else generator.device
    n_full, rest = divmod(n, block_size)
    parts = []
    if n_full:
        local = sample_partners(
            block_size, generator=generator, device=device, n_batches=n_full
        )
        offsets = torch.arange(0, n_full * block_size, block_size, device=device)
        parts.append((local + offsets[:, None]).reshape(-1))
    if rest:
        parts.append(
            sample_partners(rest, generator=generator, device=device)
            + n_full * block_size
        )
    return torch.cat(parts)


def same_class_partners(labels: Tensor, *, generator: torch.Generator) -> Tensor:
    """For every row, a row of the same class drawn uniformly (itself included).

    Parameters
    ----------
    labels : Tensor of shape (n,)
        Integer class codes.

    Returns
    -------
    index : Tensor of shape (n,)
        ``labels[index] == labels`` everywhere.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import same_class_partners
    >>> labels = torch.tensor([0, 1, 0, 1, 1])
    >>> index = same_class_partners(labels, generator=torch.Generator().manual_seed(0))
    >>> bool((labels[index] == labels).all())
    True
    """
    labels = labels.long()
    n = len(labels)
    # Sorting by label + a random fraction groups the classes, each in random order.
    keys = labels.double() + uniform(n, generator, torch.float64)
    order = keys.argsort()
    counts = torch.bincount(labels)
    starts = torch.cumsum(counts, 0) - counts
    u = uniform(n, generator, torch.float64)
    count = counts[labels]
    offset = (u * count).long().clamp_max_(count - 1)
    return order[starts[labels] + offset]


def nearest_neighbors(X: Tensor | SparseRows, n_neighbors: int) -> Tensor:
    """Indices of each row's ``n_neighbors`` nearest other rows (Euclidean).

    Computed exactly, in row chunks that keep the distance block near 16M
    entries; at most ``len(X) - 1`` neighbours are returned. ``X`` may be
    :class:`~skmixup._sparse.SparseRows`, densified a block of rows at a time.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import nearest_neighbors
    >>> X = torch.tensor([[0.0], [1.0], [10.0], [11.5]])
    >>> nearest_neighbors(X, 1).ravel().tolist()
    [1, 0, 3, 2]
    """
    n = len(X)
    k = min(int(n_neighbors), n - 1)
    if k < 1:
        raise ValueError(f"nearest_neighbors needs at least 2 rows, got {n}.")
    dense = isinstance(X, Tensor)
    if dense:
        X = X.reshape(n, -1).float()
    chunk = max(1, 2**24 // n)
    out = []
    for start in range(0, n, chunk):
        rows_X = X[start : start + chunk]
        if dense:
            d = torch.cdist(rows_X, X)
        else:
            d = torch.cat(
                [torch.cdist(rows_X, X[b : b + chunk]) for b in range(0, n, chunk)],
                dim=1,
            )
        rows = torch.arange(len(d), device=X.device)
        d[rows, rows + start] = math.inf  # never one's own neighbour
        out.append(d.topk(k, dim=1, largest=False).indices)
    return torch.cat(out)


def neighbor_partners(neighbors: Tensor, *, generator: torch.Generator) -> Tensor:
    """For every row ``i``, one of ``neighbors[i]`` drawn uniformly.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import neighbor_partners
    >>> neighbors = torch.tensor([[1, 2], [0, 2], [1, 0]])
    >>> index = neighbor_partners(neighbors, generator=torch.Generator().manual_seed(0))
    >>> all(int(j) in neighbors[i].tolist() for i, j in enumerate(index))
    True
    """
    n, k = neighbors.shape
    pick = integers(k, (n, 1), generator)
    return neighbors.gather(1, pick).squeeze(1)


def label_distance_partners(
    targets: Tensor,
    bandwidth: float,
    *,
    generator: torch.Generator,
    pool_size: int = 4096,
) -> Tensor:
    """C-Mixup partners: ``j`` drawn with probability ``~ exp(-d_ij^2 / (2 s^2))``.

    ``d_ij = ||targets[i] - targets[j]||`` and ``s = bandwidth``; a row is never
    its own partner (unless it is the only row).

    For a single target column the draw is exact up to a cut-off: partners
    farther than ``4 s`` (kernel weight below ``exp(-8)``) are left out. Each
    row proposes a row uniformly among those within ``4 s`` (sorted targets give
    that window directly) and accepts it with probability equal to its kernel
    weight, so the cost is ``O(n log n)``. A row with no other row inside its
    window is paired with one of its two neighbours in target order. For several target
    columns every row scores candidate rows directly: all rows when there are
    at most ``pool_size``, else a random pool of ``pool_size`` rows (a fresh pool
    per call), an approximation that keeps the cost linear in the rows.

    Parameters
    ----------
    targets : Tensor of shape (n,) or (n, n_targets)
        Regression targets.
    bandwidth : float
        Kernel width ``s > 0``, in the units of ``targets``; small values pair
        rows with nearly equal targets, large values approach random pairing.
    generator : torch.Generator
        Source of randomness.
    pool_size : int, default=4096
        Most candidate rows scored per row, with several target columns.

    Returns
    -------
    index : Tensor of shape (n,)

    References
    ----------
    .. [1] H. Yao, Y. Wang, L. Zhang, J. Zou and C. Finn, "C-Mixup: Improving
       Generalization in Regression", NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import label_distance_partners
    >>> y = torch.tensor([0.0, 0.1, 5.0, 5.1])
    >>> g = torch.Generator().manual_seed(0)
    >>> label_distance_partners(y, 0.5, generator=g).tolist()
    [1, 0, 3, 2]
    """
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth!r}.")
    n = len(targets)
    Y = targets.reshape(n, -1).double()
    if n == 1:
        return torch.zeros(1, dtype=torch.long, device=Y.device)
    if Y.shape[1] == 1:
        return _label_distance_partners_1d(Y[:, 0], float(bandwidth), generator)
    return _label_distance_partners_pool(Y, float(bandwidth), generator, pool_size)


# Rejection rounds before the last proposals are taken as they are. Inside the
# 4 s window the acceptance rate is at least about 0.3 for evenly spread targets.
_MAX_REJECTION_ROUNDS = 64


def _label_distance_partners_1d(
    y: Tensor, bandwidth: float, generator: torch.Generator
) -> Tensor:
    n, device = len(y), y.device
    order = y.argsort()
    ys = y[order]
    position = torch.arange(n, device=device)
    lo = torch.searchsorted(ys, ys - 4 * bandwidth)
    hi = torch.searchsorted(ys, ys + 4 * bandwidth, right=True)
    # At least one other row: a lone row's window reaches its sorted neighbours.
    lo = torch.minimum(lo, (position - 1).clamp_min(0))
    hi = torch.maximum(hi, (position + 2).clamp_max(n))
    width = hi - lo
    scale = -0.5 / bandwidth**2
    chosen = torch.empty(n, dtype=torch.long, device=device)
    pending = position
    for round_ in range(_MAX_REJECTION_ROUNDS):
        # Propose uniformly among the window's other rows (skip one's own slot).
        u = uniform(len(pending), generator)
        k = (u * (width[pending] - 1)).long()
        j = lo[pending] + k
        j = j + (j >= pending).long()
        weight = torch.exp(scale * (ys[j] - ys[pending]).square())
        accept = uniform(len(pending), generator, torch.float64) < weight
        if round_ == _MAX_REJECTION_ROUNDS - 1:
            accept[:] = True
        chosen[pending[accept]] = j[accept]
        pending = pending[~accept]
        if not len(pending):
            break
    out = torch.empty_like(chosen)
    out[order] = order[chosen]
    return out


def _label_distance_partners_pool(
    Y: Tensor, bandwidth: float, generator: torch.Generator, pool_size: int
) -> Tensor:
    n, device = len(Y), Y.device
    if n > pool_size:
        pool = permutation(n, generator)[:pool_size]
    else:
        pool = torch.arange(n, device=device)
    candidates = Y[pool]
    chunk = max(1, 2**22 // len(pool))
    out = []
    for start in range(0, n, chunk):
        d2 = torch.cdist(Y[start : start + chunk], candidates).square_()
        logits = d2.mul_(-0.5 / bandwidth**2)
        rows = torch.arange(start, start + len(logits), device=device)
        logits[rows[:, None] == pool[None, :]] = -math.inf
        # Gumbel-max: argmax(logits + Gumbel noise) samples softmax(logits).
        u = uniform(tuple(logits.shape), generator, torch.float64)
        exponential = u.clamp_(1e-300, 1.0).log_().neg_().clamp_min_(1e-300)
        gumbel = exponential.log_().neg_()
        out.append(pool[(logits + gumbel).argmax(dim=1)])
    return torch.cat(out)


def mix(a: Tensor, b: Tensor, lam: Tensor | float) -> Tensor:
    """Convex combination ``lam * a + (1 - lam) * b``.

    ``lam`` is a scalar (one coefficient for the batch) or a tensor of shape
    ``(n,)`` (one per row), broadcast over the trailing dimensions of ``a``.

    Examples
    --------
    >>> import torch
    >>> from skmixup import mix
    >>> a, b = torch.tensor([[1.0, 1.0], [2.0, 2.0]]), torch.zeros(2, 2)
    >>> mix(a, b, 0.25)
    tensor([[0.2500, 0.2500],
            [0.5000, 0.5000]])
    >>> mix(a, b, torch.tensor([1.0, 0.5]))
    tensor([[1., 1.],
            [1., 1.]])
    """
    if isinstance(lam, float):
        return torch.lerp(b, a, lam)
    lam = torch.as_tensor(lam, dtype=a.dtype, device=a.device)
    if lam.dim() == 1:
        lam = lam.reshape(-1, *([1] * (a.dim() - 1)))
    # lerp(b, a, lam) = b + lam * (a - b): one fused kernel.
    return torch.lerp(b, a, lam)


def mix_many(parts: Sequence[Tensor], weights: Tensor | float) -> Tensor:
    """Convex combination ``sum_c weights[..., c] * parts[c]`` of several samples.

    ``weights`` has shape ``(k,)`` (one set for the batch) or ``(n, k)`` (one set
    per row), with ``k = len(parts)``; two parts reduce to :func:`mix`, and then
    ``weights`` may also be the float ``lambda`` of the first part.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import mix_many
    >>> parts = [torch.ones(2, 1), torch.zeros(2, 1), 4 * torch.ones(2, 1)]
    >>> mix_many(parts, torch.tensor([0.5, 0.25, 0.25])).ravel().tolist()
    [1.5, 1.5]
    """
    if isinstance(weights, float) and len(parts) == 2:
        return mix(parts[0], parts[1], weights)
    if weights.shape[-1] != len(parts):
        raise ValueError(
            f"weights has {weights.shape[-1]} columns for {len(parts)} parts."
        )
    a = parts[0]
    weights = weights.to(dtype=a.dtype, device=a.device)
    if weights.dim() == 2:
        # One weight per row, broadcast over the trailing dimensions.
        weights = weights.reshape(len(weights), 1, -1).expand(-1, 1, len(parts))
        columns = [
            weights[:, 0, c].reshape(-1, *([1] * (a.dim() - 1)))
            for c in range(len(parts))
        ]
    else:
        columns = list(weights)
    if len(parts) == 2:
        return torch.lerp(parts[1], a, columns[0])
    out = a * columns[0]
    for part, w in zip(parts[1:], columns[1:], strict=True):
        out.addcmul_(part, w)
    return out


def pick_blocks(
    parts: Sequence[Tensor],
    weights: Tensor | float,
    column_block: Tensor,
    n_blocks: int,
    *,
    generator: torch.Generator,
) -> Tensor:
    """Columns of mixed rows whose blocks each come whole from one sample.

    For every row and every block, sample ``c`` is drawn with probability
    ``weights[..., c]`` and the row's block is copied from ``parts[c]``: CutMix's
    rule for patches (Yun et al., 2019) applied to the one-hot block of a
    categorical feature, so that a mixed row holds one of its samples'
    categories rather than fractions of both. Blocks draw independently.

    Parameters
    ----------
    parts : sequence of Tensor of shape (n, m)
        The block columns of each sample of the mixtures (row ``i`` of
        ``parts[c]`` is the ``c``-th sample of mixture ``i``).
    weights : float or Tensor of shape (k,) or (n, k)
        The mixing weights, as for :func:`mix_many`: the float ``lambda`` of
        the first of two samples, one set for all rows, or one set per row.
    column_block : Tensor of shape (m,)
        The block, in ``range(n_blocks)``, of each column.
    n_blocks : int
        Number of blocks.
    generator : torch.Generator
        Source of randomness.

    Returns
    -------
    columns : Tensor of shape (n, m)

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import pick_blocks
    >>> a = torch.tensor([[1.0, 0.0, 0.0, 1.0]]).repeat(4, 1)
    >>> b = torch.tensor([[0.0, 1.0, 1.0, 0.0]]).repeat(4, 1)
    >>> blocks = torch.tensor([0, 0, 1, 1])
    >>> g = torch.Generator().manual_seed(0)
    >>> out = pick_blocks([a, b], 0.5, blocks, 2, generator=g)
    >>> bool(((out == a) | (out == b)).all()), out.sum(dim=1).tolist()
    (True, [2.0, 2.0, 2.0, 2.0])
    """
    n, k = len(parts[0]), len(parts)
    device = parts[0].device
    if isinstance(weights, float):
        weights = torch.tensor([weights, 1.0 - weights])
    if weights.shape[-1] != k:
        raise ValueError(f"weights has {weights.shape[-1]} columns for {k} parts.")
    # Sample c covers [cum[c - 1], cum[c]) of [0, 1); the last takes the rest,
    # whatever rounding leaves of the total.
    bounds = weights.to(device, torch.float64).cumsum(-1)[..., :-1]
    u = uniform((n, n_blocks), generator, torch.float64).to(device)
    if bounds.dim() == 1:
        chosen = (u[:, :, None] >= bounds).sum(-1)
    else:
        chosen = (u[:, :, None] >= bounds[:, None, :]).sum(-1)
    source = chosen.index_select(1, column_block.to(device))
    return torch.stack(list(parts)).gather(0, source[None]).squeeze(0)


def mix_sample_weights(
    w: Tensor, partner_ws: Sequence[Tensor], weights: Tensor | float
) -> Tensor:
    """Sample weights of mixed rows: the product of their samples' weights.

    A pair ``(i, j)`` weighs ``w_i * w_j``, what repeating rows by their weights
    gives in expectation; a partner whose mixing weight is 0 (an unmixed batch,
    or a ``lambda`` drawn as exactly 1) takes no part. ``weights`` is a float
    ``lambda`` (the first part's weight) or mixing weights of shape ``(k,)`` or
    ``(n, k)``, as for :func:`mix_many`.

    Examples
    --------
    >>> import torch
    >>> from skmixup._mixing import mix_sample_weights
    >>> w, w_partner = torch.tensor([2.0, 3.0]), torch.tensor([5.0, 7.0])
    >>> mix_sample_weights(w, [w_partner], torch.tensor([[0.5, 0.5], [1.0, 0.0]]))
    tensor([10.,  3.])
    >>> mix_sample_weights(w, [w_partner], 1.0)
    tensor([2., 3.])
    """
    for c, w_partner in enumerate(partner_ws, start=1):
        if isinstance(weights, float):
            if weights < 1:  # lambda = 1 leaves the partner out of the mix
                w = w * w_partner
        else:
            takes_part = weights[..., c] > 0
            w = w * torch.where(takes_part, w_partner, torch.ones_like(w_partner))
    return w


class MixedBatch(NamedTuple):
    """A mixed batch: ``X``, ``y``, the coefficient ``lam`` and partner ``index``.

    Returned by :func:`mixup`; row ``i`` of ``X`` and ``y`` mixes row ``i`` with
    row ``index[i]`` of the input batch, with weight ``lam`` on row ``i``.

    Examples
    --------
    >>> import torch
    >>> from skmixup import mixup
    >>> X, y = torch.eye(3), torch.eye(3)
    >>> batch = mixup(X, y, alpha=1.0, generator=torch.Generator().manual_seed(0))
    >>> expected = batch.lam * X + (1 - batch.lam) * X[batch.index]
    >>> bool(torch.allclose(batch.X, expected))
    True
    """

    X: Tensor
    y: Tensor
    lam: Tensor
    index: Tensor


def mixup(
    X: Tensor, y: Tensor, *, alpha: float, generator: torch.Generator
) -> MixedBatch:
    """Apply mixup (Zhang et al., 2018) to one batch.

    One ``lambda ~ Beta(alpha, alpha)`` is drawn for the batch and every row ``i``
    is paired with row ``index[i]`` of a random permutation::

        X_mixed = lam * X + (1 - lam) * X[index]
        y_mixed = lam * y + (1 - lam) * y[index]

    Parameters
    ----------
    X : Tensor of shape (n_samples, ...)
        Inputs.
    y : Tensor of shape (n_samples, ...)
        Floating targets: one-hot (or soft) class probabilities, or regression
        values. Integer class labels are rejected; encode them first with
        ``torch.nn.functional.one_hot(y, n_classes).float()``.
    alpha : float
        Beta concentration, ``>= 0``. ``alpha=0`` returns ``X`` and ``y``
        themselves, untouched.
    generator : torch.Generator
        Source of randomness, on the device of ``X``.

    Returns
    -------
    batch : MixedBatch
        Named tuple ``(X, y, lam, index)``; ``lam`` is a 0-d tensor.

    References
    ----------
    .. [1] H. Zhang, M. Cisse, Y. N. Dauphin and D. Lopez-Paz, "mixup: Beyond
       Empirical Risk Minimization", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> from skmixup import mixup
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    >>> y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> batch = mixup(X, y, alpha=1.0, generator=g)
    >>> bool(torch.allclose(batch.y.sum(dim=1), torch.ones(2)))
    True
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {X.shape[0]} and "
            f"{y.shape[0]}."
        )
    if not torch.is_floating_point(y):
        raise ValueError(
            f"y must be a floating tensor, got dtype {y.dtype}. One-hot encode "
            "class labels first: torch.nn.functional.one_hot(y, n_classes).float()."
        )
    alpha = _check_alpha(alpha)
    n = X.shape[0]
    if alpha == 0.0:
        index = torch.arange(n, device=X.device)
        return MixedBatch(X, y, torch.ones((), dtype=X.dtype, device=X.device), index)
    lam = sample_lambda(alpha, 1, generator=generator, device=X.device, dtype=X.dtype)[
        0
    ]
    index = sample_partners(n, generator=generator, device=X.device)
    return MixedBatch(mix(X, X[index], lam), mix(y, y[index], lam), lam, index)
