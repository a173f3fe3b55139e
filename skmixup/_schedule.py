"""Learning-rate schedules, as a multiplier of the base learning rate per step."""

from __future__ import annotations

import math

__all__ = ["LR_SCHEDULES", "is_scheduled", "lr_factor"]

LR_SCHEDULES = ("constant", "cosine", "flat_cosine")
# "flat_cosine" holds the rate for this share of the steps after warm-up, then
# anneals: fastai's flat-cos default (fit_flat_cos, pct_start=0.75).
_FLAT_SHARE = 0.75


def lr_factor(step: int, total: int, schedule: str, warmup_fraction: float) -> float:
    """The multiplier of the base learning rate for optimizer step ``step``
    (from 0) of ``total``.

    The first ``ceil(warmup_fraction * total)`` steps rise linearly to 1
    (``1 / n_warmup`` at the first step, 1 at the last of them). The others
    follow ``schedule`` over the remaining steps: ``"constant"`` 1;
    ``"cosine"`` ``(1 + cos(pi * p)) / 2`` at progress ``p`` in ``[0, 1)``, so
    that the first step after warm-up takes the full rate and no step is wasted
    at rate 0; ``"flat_cosine"`` 1 until ``p = 0.75``, then the same half
    cosine over the last quarter. Steps beyond ``total`` (a further
    ``partial_fit``) take the multiplier at ``p = 1``: 0 when annealing.

    Why a fraction of the run for the warm-up rather than a number of epochs:
    the schedule keeps its shape when ``max_epochs`` changes (it is often
    searched), as the annealing part does, whereas a fixed number of warm-up
    epochs would be a twentieth of a 100-epoch run and half of a 10-epoch one.
    Counting steps rather than epochs also lets a short run on few, large
    epochs warm up smoothly.
    """
    n_warmup = math.ceil(warmup_fraction * total)
    if step < n_warmup:
        return (step + 1) / n_warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - n_warmup) / max(1, total - n_warmup))
    if schedule == "flat_cosine":
        if progress < _FLAT_SHARE:
            return 1.0
        progress = (progress - _FLAT_SHARE) / (1 - _FLAT_SHARE)
    elif schedule != "cosine":
        raise ValueError(
            f"lr_schedule={schedule!r} is not a schedule; use one of "
            f"{list(LR_SCHEDULES)}."
        )
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def is_scheduled(schedule: str, warmup_fraction: float) -> bool:
    """Whether the learning rate changes during training at all."""
    return schedule != "constant" or warmup_fraction > 0
