"""An exponential moving average of a network's weights (``ema_decay``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["WeightAverage", "ema_decay_at"]


def ema_decay_at(decay: float, step: int) -> float:
    """The decay of the update after optimizer step ``step`` (from 0):
    ``min(decay, (1 + step) / (10 + step))``.

    The ramp (TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``)
    keeps the first steps from being dominated by the initial weights: a decay
    of 0.999 would otherwise still hold a third of the random initialisation
    after a thousand steps, about a 10-epoch run on a table of 1,500 rows.
    """
    return min(decay, (1.0 + step) / (10.0 + step))


class WeightAverage:
    """Running averages of ``tensors``, updated after every optimizer step and
    copied into them at the end of training.

    ``tensors`` are the stacked ``(n_members, ...)`` storage of a
    :class:`~skmixup._stacked.StackedMLP` when ``n_members`` is given, else
    any parameters. A stacked member averages its own steps only: members
    that sit a step out (:meth:`update` with ``active[k]`` False) keep their
    average and their step count.
    """

    def __init__(
        self, tensors: Sequence[Tensor], decay: float, n_members: int | None = None
    ) -> None:
        self.tensors = list(tensors)
        self.decay = float(decay)
        self.average = [t.detach().clone() for t in self.tensors]
        self.n_members = n_members
        self.steps = 0 if n_members is None else [0] * n_members
        self.swapped = False  # whether the averages sit in the tensors

    @torch.no_grad()
    def update(self, active: Sequence[bool] | None = None) -> None:
        """Fold the current weights into the average."""
        if self.n_members is None:
            weight = 1.0 - ema_decay_at(self.decay, self.steps)
            torch._foreach_lerp_(self.average, self.tensors, weight)
            self.steps += 1
            return
        weights = []
        for k in range(self.n_members):
            if active is None or active[k]:
                weights.append(1.0 - ema_decay_at(self.decay, self.steps[k]))
                self.steps[k] += 1
            else:
                weights.append(0.0)
        if len(set(weights)) == 1:
            torch._foreach_lerp_(self.average, self.tensors, weights[0])
            return
        device = self.average[0].device
        weight = torch.tensor(weights, dtype=self.average[0].dtype, device=device)
        for average, tensor in zip(self.average, self.tensors, strict=True):
            average.lerp_(tensor, weight.view(-1, *([1] * (tensor.dim() - 1))))

    @torch.no_grad()
    def swap_in(self) -> None:
        """Put the averages in the weights' place, to validate the averaged
        network; :meth:`swap_out` puts the weights back."""
        if not self.swapped:
            self._swap()

    @torch.no_grad()
    def swap_out(self) -> None:
        """Put the weights back after :meth:`swap_in` (training goes on from
        the last step's weights)."""
        if self.swapped:
            self._swap()

    @torch.no_grad()
    def copy_to(self) -> None:
        """Replace the weights by their averages, for good."""
        if self.swapped:  # already in place
            return
        for tensor, average in zip(self.tensors, self.average, strict=True):
            tensor.copy_(average)

    def _swap(self) -> None:
        for tensor, average in zip(self.tensors, self.average, strict=True):
            held = tensor.clone()
            tensor.copy_(average)
            average.copy_(held)
        self.swapped = not self.swapped
