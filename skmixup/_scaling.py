"""Input scaling inside the estimators: standardisation, or robust scaling with
smooth clipping.

The statistics come from the rows given to ``fit``; the same transform, in
float32 as the network trains, is applied at predict time. The stacked search
applies each split's own scaling to the rows it gathers (:func:`scale_rows_`),
with the same float32 operations in the same order, so a member sees the
values a plain fit on its split would.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.sparsefuncs import mean_variance_axis
from torch import Tensor

from ._sparse import as_csr

__all__ = ["SCALINGS", "InputScaling", "scale_rows_"]

SCALINGS = ("standard", "robust")
# Smooth clipping x / sqrt(1 + (x / c)^2): about x for |x| << c, and within
# (-c, c) everywhere. c = 3 is RealMLP's: robust-scaled values within about
# three interquartile ranges of the median pass nearly unchanged.
_CLIP = 3
# Computed as c * t / sqrt(1 + t^2) with t = x / c bounded by this: t^2 would
# overflow float32 (to inf, and the result to 0) beyond about 1.8e19, and at
# 1e18 the ratio is already exactly 1 in float32.
_T_MAX = 1e18


class InputScaling:
    """A fitted per-column scaling ``(x - center) / scale``, then optionally
    smooth clipping.

    Parameters
    ----------
    center : ndarray of shape (n_features,) or None
        What is subtracted (float32); None leaves the columns uncentred (sparse
        input keeps its zeros).
    scale : ndarray of shape (n_features,)
        What the centred values are divided by (float32, positive).
    clip : bool
        Whether the scaled values are clipped smoothly into ``(-3, 3)`` by
        ``x / sqrt(1 + (x / 3)**2)``.
    """

    def __init__(self, center: np.ndarray | None, scale: np.ndarray, clip: bool):
        self.center = center
        self.scale = scale
        self.clip = clip

    @classmethod
    def fit(cls, X, method: str) -> InputScaling:
        """The scaling ``method`` (``"standard"`` or ``"robust"``) of the rows
        of ``X``: a float32 array, or a CSR matrix (``"standard"`` only)."""
        if method not in SCALINGS:
            raise ValueError(
                f"scale_inputs={method!r} is not a scaling; use one of "
                f"{list(SCALINGS)} or None."
            )
        if sp.issparse(X):
            if method == "robust":
                raise ValueError(
                    "scale_inputs='robust' centres every column on its median, "
                    "which would turn the zeros of the sparse X into non-zero "
                    "values (a dense matrix); use scale_inputs='standard', which "
                    "scales sparse columns without centring them, or pass a "
                    "dense X."
                )
            _, var = mean_variance_axis(as_csr(X).astype(np.float64), axis=0)
            return cls(None, _positive(np.sqrt(var)), clip=False)
        if method == "standard":
            center = X.mean(axis=0, dtype=np.float64)
            return cls(_f32(center), _positive(X.std(axis=0, dtype=np.float64)), False)
        low, median, high = np.quantile(X, [0.25, 0.5, 0.75], axis=0)
        spread = (high - low).astype(np.float64)
        # A column with most values equal (a rare binary flag) has no
        # interquartile range; half its range still puts it on a unit scale.
        half_range = (X.max(axis=0) - X.min(axis=0)).astype(np.float64) / 2
        spread = np.where(spread > 0, spread, half_range)
        return cls(_f32(median), _positive(spread), clip=True)

    def transform(self, X):
        """Scaled float32 rows of ``X`` (a float32 array, or a CSR matrix whose
        values are rounded to float32 first, as training reads them); the
        caller's ``X`` is left unchanged."""
        if sp.issparse(X):
            if self.center is not None or self.clip:
                raise ValueError("This scaling needs dense X.")
            X = as_csr(X).astype(np.float32)  # a copy
            X.data /= self.scale[X.indices]
            return X
        out = np.subtract(X, self.center) if self.center is not None else X.copy()
        out /= self.scale
        if self.clip:
            out /= _CLIP
            np.clip(out, -_T_MAX, _T_MAX, out=out)
            out /= np.sqrt(1 + np.square(out))
            out *= _CLIP
        return out

    def __repr__(self) -> str:
        centred = "uncentred" if self.center is None else "centred"
        return (
            f"InputScaling({centred}, n_features={len(self.scale)}, clip={self.clip})"
        )


def scale_rows_(X: Tensor, center: Tensor | None, scale: Tensor, clip: bool) -> Tensor:
    """:meth:`InputScaling.transform` of float32 rows ``X``, in place:
    ``center`` and ``scale`` broadcast against ``X`` (e.g. ``(members, 1,
    n_features)`` against ``(members, rows, n_features)``)."""
    if center is not None:
        X.sub_(center)
    X.div_(scale)
    if clip:
        X.div_(_CLIP).clamp_(-_T_MAX, _T_MAX)
        X.div_(torch.sqrt(1 + torch.square(X))).mul_(_CLIP)
    return X


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _positive(spread: np.ndarray) -> np.ndarray:
    """Float32 divisors: a constant column keeps scale 1 (it is only centred),
    as in scikit-learn's scalers."""
    spread = _f32(spread)
    return np.where(spread > 0, spread, np.float32(1))
