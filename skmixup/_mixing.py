"""Pure mixing functions over tensors: lambda sampling, partners, convex mixing.

Every random draw takes an explicit :class:`torch.Generator`, so the functions never
touch PyTorch's global random state. Nothing here knows about estimators or nets.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["MixedBatch", "mix", "mixup", "sample_lambda", "sample_partners"]


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(
            f"alpha must be a finite float >= 0 (0 means no mixing), got {alpha!r}."
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
        x = torch.randn(m, generator=generator, dtype=torch.float64, device=device)
        u = torch.rand(m, generator=generator, dtype=torch.float64, device=device)
        v = (1.0 + c * x) ** 3
        log_v = torch.log(v.clamp_min(1e-300))
        ok = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * log_v)
        accepted = (math.log(d) + log_v)[ok][: n - filled]
        out[filled : filled + accepted.numel()] = accepted
        filled += accepted.numel()
    if boosted:
        u = torch.rand(n, generator=generator, dtype=torch.float64, device=device)
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
        means no mixing and returns ones (each sample keeps all of itself).
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
        return torch.randperm(n, generator=generator, device=device)
    keys = torch.rand(n_batches, n, generator=generator, device=device)
    return keys.argsort(dim=1)


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
