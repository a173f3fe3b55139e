"""How one training run mixes: the mixup variant settings and their random draws.

:class:`MixupConfig` holds the variant parameters and checks them;
:class:`Mixer` turns them into draws from one generator for a training run: which
epochs mix, each row's partners, the mixing weights, and (manifold mixup) the
layer. Everything random goes through the functions of :mod:`skmixup._mixing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import torch
from torch import Tensor

from ._mixing import (
    _check_alpha,
    block_partners,
    label_distance_partners,
    mix_many,
    mix_sample_weights,
    nearest_neighbors,
    neighbor_partners,
    pick_blocks,
    same_class_partners,
    sample_lambda,
    sample_mixing_weights,
    sample_partners,
)
from ._params import MIX_ON, PAIRINGS, VARIANT_PARAMS, defaults
from ._random import integers, uniform

__all__ = ["Mixer", "MixupConfig"]

# Lambdas and partner permutations are drawn this many batches at a time: one
# draw per batch costs a handful of small kernels, a buffer costs one per ~thousand.
_DRAW_BATCHES = 1024
# Partner permutations are buffered only for batches up to this size: there one
# randperm call costs more than the arithmetic, while drawing many permutations at
# once (argsort of random keys) loses to randperm for larger batches.
_MAX_BUFFERED_BATCH = 64


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


def _check_groups(groups) -> tuple[tuple[int, ...], ...] | None:
    """``categorical_groups`` as a tuple of tuples of column indices."""
    if groups is None:
        return None
    try:
        groups = tuple(tuple(int(c) for c in group) for group in groups)
        columns = [c for group in groups for c in group]
        valid = all(groups) and min(columns, default=0) >= 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            "categorical_groups must be a list of non-empty lists of column "
            f"indices >= 0 (one list per one-hot block), got {groups!r}."
        )
    if len(set(columns)) != len(columns):
        raise ValueError(
            "categorical_groups holds a column in more than one block (or twice "
            f"in one), got {groups!r}; each column belongs to at most one block."
        )
    return groups


_DEFAULT = defaults(VARIANT_PARAMS)


@dataclass(frozen=True)
class MixupConfig:
    """The mixup variant of a training run; see the estimators for each field.

    The fields are ``skmixup._params.VARIANT_PARAMS``, with their defaults.
    Raises ``ValueError``, naming the field, for values out of range.
    """

    alpha: float = _DEFAULT["alpha"]
    mix_on: str = _DEFAULT["mix_on"]
    pairing: str = _DEFAULT["pairing"]
    n_neighbors: int = _DEFAULT["n_neighbors"]
    label_bandwidth: float = _DEFAULT["label_bandwidth"]
    manifold: bool = _DEFAULT["manifold"]
    n_mixed: int = _DEFAULT["n_mixed"]
    mix_probability: float = _DEFAULT["mix_probability"]
    per_sample_lambda: bool = _DEFAULT["per_sample_lambda"]
    alternate_epochs: int = _DEFAULT["alternate_epochs"]
    final_unmixed_epochs: int = _DEFAULT["final_unmixed_epochs"]
    mix_embeddings: bool = _DEFAULT["mix_embeddings"]
    categorical_groups: tuple[tuple[int, ...], ...] | None = _DEFAULT[
        "categorical_groups"
    ]

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__ (e.g. alpha=1 -> 1.0).
        object.__setattr__(self, "alpha", _check_alpha(self.alpha))
        object.__setattr__(
            self, "categorical_groups", _check_groups(self.categorical_groups)
        )
        if self.categorical_groups and self.mix_embeddings:
            raise ValueError(
                "categorical_groups takes one-hot blocks whole from one row where "
                "raw inputs are mixed, but mix_embeddings=True mixes their "
                "embeddings instead; use one of them."
            )
        for name in ("manifold", "per_sample_lambda", "mix_embeddings"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        if self.mix_on not in MIX_ON:
            raise ValueError(f"mix_on must be one of {MIX_ON}, got {self.mix_on!r}.")
        if self.pairing not in PAIRINGS:
            raise ValueError(
                f"pairing must be one of {PAIRINGS}, got {self.pairing!r}."
            )
        _check_int("n_neighbors", self.n_neighbors, 1)
        if not (
            isinstance(self.label_bandwidth, Real)
            and 0 < self.label_bandwidth < math.inf
        ):
            raise ValueError(
                "label_bandwidth must be a finite float > 0, got "
                f"{self.label_bandwidth!r}."
            )
        _check_int("n_mixed", self.n_mixed, 2)
        if not 0 <= self.mix_probability <= 1:
            raise ValueError(
                f"mix_probability must be in [0, 1], got {self.mix_probability!r}."
            )
        _check_int("alternate_epochs", self.alternate_epochs, 0)
        _check_int("final_unmixed_epochs", self.final_unmixed_epochs, 0)

    @property
    def mixes(self) -> bool:
        """Whether any batch can be mixed at all."""
        return self.alpha > 0 and self.mix_probability > 0

    def mixes_in_epoch(self, epoch: int, n_epochs: int) -> bool:
        """Whether epoch ``epoch`` (0-based) of ``n_epochs`` mixes.

        ``final_unmixed_epochs`` switches the last epochs off;
        ``alternate_epochs=k`` mixes ``k`` epochs, then skips ``k``, and so on.

        Examples
        --------
        >>> from skmixup._mixer import MixupConfig
        >>> config = MixupConfig(alternate_epochs=1, final_unmixed_epochs=2)
        >>> [config.mixes_in_epoch(e, 7) for e in range(7)]
        [True, False, True, False, True, False, False]
        """
        if not self.mixes or epoch >= n_epochs - self.final_unmixed_epochs:
            return False
        k = self.alternate_epochs
        return not k or (epoch // k) % 2 == 0


class Mixer:
    """The draws of one training run, from one generator.

    The net calls :meth:`begin_fit` and :meth:`begin_epoch`;
    :class:`~skmixup.TensorBatchIterator` asks for :attr:`n_partners`, calls
    :meth:`partner_orders` to gather partner rows, :meth:`epoch_weights` and
    :meth:`premix` to mix an epoch in place; a training step that gets unmixed
    batches asks for :meth:`step_partners`, :meth:`batch_weights` and
    :meth:`layer`.
    """

    __slots__ = (
        "active",
        "config",
        "epoch",
        "generator",
        "lambda_pos",
        "lambdas",
        "n_epochs",
        "partner_n",
        "partner_pos",
        "partners",
        "_neighbors",
        "_blocks",
    )

    def __init__(self, config: MixupConfig, generator: torch.Generator) -> None:
        self.config = config
        self.generator = generator
        self.active = config.mixes
        self.epoch = -1
        self.n_epochs = 1
        self._neighbors: tuple[tuple, Tensor] | None = None
        self._blocks: tuple[Tensor, Tensor] | None = None
        self.clear()

    def clear(self) -> None:
        """Drop buffered draws and caches: they are not model state."""
        self.lambdas: list[float] = []
        self.lambda_pos = 0
        self.partners: tuple[Tensor, ...] = ()
        self.partner_pos = 0
        self.partner_n = 0
        self._neighbors = None
        self._blocks = None

    # -- schedule ---------------------------------------------------------------

    def begin_fit(self, n_epochs: int) -> None:
        self.epoch = -1
        self.n_epochs = int(n_epochs)
        self.active = self.config.mixes

    def begin_epoch(self) -> None:
        self.epoch += 1
        self.active = self.config.mixes_in_epoch(self.epoch, self.n_epochs)

    @property
    def n_partners(self) -> int:
        """Partner rows each row needs in this epoch (0 when it does not mix)."""
        return self.config.n_mixed - 1 if self.active else 0

    # -- partners ---------------------------------------------------------------

    def partner_orders(
        self, order: Tensor, tensors: tuple[Tensor | None, ...], batch_size: int
    ) -> list[Tensor]:
        """Rows to gather as partners of the rows ``order``, one list per partner.

        Random pairing permutes each batch (mixup's own scheme); the other
        pairings draw a partner for every training row from the whole set.
        """
        n = len(order)
        if self.config.pairing == "random":
            return [
                order.index_select(
                    0, block_partners(n, batch_size, generator=self.generator)
                )
                for _ in range(self.n_partners)
            ]
        return [
            self._global_partners(tensors).index_select(0, order)
            for _ in range(self.n_partners)
        ]

    def _global_partners(self, tensors: tuple[Tensor | None, ...]) -> Tensor:
        config, g = self.config, self.generator
        X, y = tensors[0], tensors[1] if len(tensors) > 1 else None
        if config.pairing == "knn":
            key = (X.data_ptr(), tuple(X.shape), config.n_neighbors)
            if self._neighbors is None or self._neighbors[0] != key:
                self._neighbors = (key, nearest_neighbors(X, config.n_neighbors))
            return neighbor_partners(self._neighbors[1], generator=g)
        if y is None:
            raise ValueError(f"pairing={config.pairing!r} needs training targets y.")
        if config.pairing == "same_class":
            if torch.is_floating_point(y):
                if y.dim() != 2 or y.shape[1] < 2:
                    raise ValueError(
                        "pairing='same_class' needs class labels (integers, or "
                        "one-hot rows), not regression targets."
                    )
                y = y.argmax(dim=1)
            return same_class_partners(y, generator=g)
        return label_distance_partners(y.float(), config.label_bandwidth, generator=g)

    def step_partners(self, n: int) -> Tensor:
        """A random permutation of ``range(n)``: row ``i`` mixes with ``index[i]``."""
        if self.config.pairing != "random":
            raise ValueError(
                f"pairing={self.config.pairing!r} draws partners from the whole "
                "training set and needs array or tensor training data (an "
                "ArrayDataset, or a skorch Dataset of arrays)."
            )
        if n > _MAX_BUFFERED_BATCH or (self.partners and self.partner_n != n):
            # Large batches, and a short last batch, draw their own.
            return sample_partners(n, generator=self.generator)
        if self.partner_pos >= len(self.partners):
            # unbind: one call for all rows, then plain list indexing per batch.
            self.partners = sample_partners(
                n, generator=self.generator, n_batches=_DRAW_BATCHES
            ).unbind(0)
            self.partner_pos = 0
            self.partner_n = n
        self.partner_pos += 1
        return self.partners[self.partner_pos - 1]

    # -- weights ----------------------------------------------------------------

    @property
    def _simple(self) -> bool:
        """One Beta lambda per batch, every batch mixed: a Python float suffices."""
        c = self.config
        return c.n_mixed == 2 and not c.per_sample_lambda and c.mix_probability == 1

    def _weights(self, n_batches: int, batch_size: int, n: int) -> Tensor:
        """Weight rows for ``n`` rows cut into batches of ``batch_size``.

        One set of weights per batch, repeated over its rows, or one per row with
        ``per_sample_lambda``; the batches that the ``mix_probability`` coin
        leaves unmixed get ``(1, 0, ...)`` on all their rows.
        """
        c = self.config
        per_row = c.per_sample_lambda
        weights = sample_mixing_weights(
            c.alpha, c.n_mixed, n if per_row else n_batches, generator=self.generator
        )
        if c.mix_probability < 1:
            skip = uniform(n_batches, self.generator) >= c.mix_probability
            if per_row:
                skip = skip.repeat_interleave(batch_size)[:n]
            weights[skip] = 0
            weights[skip, 0] = 1
        if not per_row:
            weights = weights.repeat_interleave(batch_size, dim=0)[:n]
        return weights

    def batch_weights(self, n: int) -> float | Tensor:
        """Weights for one batch of ``n`` rows in a training step.

        A float ``lambda`` in the plain case, else a tensor of shape
        ``(n_mixed,)`` or, with ``per_sample_lambda``, ``(n, n_mixed)``.
        """
        if self._simple:
            if self.lambda_pos >= len(self.lambdas):
                # Python floats: lerp's scalar path, one device sync per buffer.
                self.lambdas = sample_lambda(
                    self.config.alpha, _DRAW_BATCHES, generator=self.generator
                ).tolist()
                self.lambda_pos = 0
            self.lambda_pos += 1
            return self.lambdas[self.lambda_pos - 1]
        weights = self._weights(1, n, n)
        return weights if self.config.per_sample_lambda else weights[0]

    # -- one-hot blocks -----------------------------------------------------------

    def _block_columns(self, X: Tensor) -> tuple[Tensor, Tensor] | None:
        """``categorical_groups`` as the columns of ``X`` in blocks and the block
        of each, on ``X``'s device; None without blocks."""
        groups = self.config.categorical_groups
        if not groups:
            return None
        if self._blocks is None or self._blocks[0].device != X.device:
            n_features = X.shape[1]
            columns = [c for group in groups for c in group]
            if max(columns) >= n_features:
                raise ValueError(
                    f"categorical_groups holds column {max(columns)}, but X has "
                    f"{n_features} columns; give indices of X's columns."
                )
            block = [b for b, group in enumerate(groups) for _ in group]
            self._blocks = (
                torch.tensor(columns, device=X.device),
                torch.tensor(block, device=X.device),
            )
        return self._blocks

    def mix_inputs(self, parts: list[Tensor], weights: float | Tensor) -> Tensor:
        """Inputs of a training step mixed with ``weights`` (as for
        :func:`~skmixup._mixing.mix_many`), each one-hot block of
        ``categorical_groups`` taken whole from one sample."""
        X = mix_many(parts, weights)
        blocks = self._block_columns(X)
        if blocks is not None:
            columns, block = blocks
            X[:, columns] = pick_blocks(
                [p.index_select(1, columns) for p in parts],
                weights,
                block,
                len(self.config.categorical_groups),
                generator=self.generator,
            )
        return X

    def layer(self, n_layers: int) -> int:
        """Manifold mixup: the layer to mix at, uniform over ``range(n_layers)``."""
        return int(integers(n_layers, (), self.generator))

    # -- whole epochs -----------------------------------------------------------

    def epoch_weights(
        self, tensors: tuple[Tensor | None, ...], n: int, batch_size: int
    ) -> Tensor | None:
        """Mixing weights of an epoch's ``n`` rows, shape ``(n, n_mixed)``, or
        None when the epoch must be mixed per step (manifold mixup and
        ``mix_embeddings`` mix inside the network; integer class labels are
        one-hot encoded per step)."""
        c = self.config
        if (
            c.manifold
            or c.mix_embeddings
            or not all(t is None or t.dtype.is_floating_point for t in tensors)
        ):
            return None
        n_batches = -(-n // batch_size)
        return self._weights(n_batches, batch_size, n).to(tensors[0].device)

    def premix(
        self,
        sides: list[tuple[tuple[Tensor | None, ...], Tensor | None]],
        weights: Tensor,
    ) -> None:
        """Mix gathered rows in place with their :meth:`epoch_weights` rows.

        ``sides[0]`` holds rows in batch order and ``sides[c]`` their ``c``-th
        partners, each as ``(buffers, packed)`` where ``packed`` (when not
        None) is one buffer that holds inputs and targets side by side. Inputs
        and targets (the first two buffers) are mixed with the weights of their
        batch (or row); sample weights (the third) become the product of the
        weights of the rows that take part.
        """
        c = self.config
        buffers = [side[0] for side in sides]
        weights = weights.to(buffers[0][0].dtype)
        blocks = None if c.mix_on == "targets" else self._block_columns(buffers[0][0])
        if blocks is not None:
            # The blocks before mixing overwrites them: each comes back whole.
            blocks_of = [b[0].index_select(1, blocks[0]) for b in buffers]
        mixed = {"both": (0, 1), "inputs": (0,), "targets": (1,)}[c.mix_on]
        packed = [side[1] for side in sides]
        if c.mix_on == "both" and packed[0] is not None:
            # Inputs and targets share a buffer: one pass mixes both.
            targets = [(packed[0], packed[1:])]
        else:
            targets = [
                (buffers[0][i], [b[i] for b in buffers[1:]])
                for i in mixed
                if buffers[0][i] is not None
            ]
        for a, partners in targets:
            if len(partners) == 1:
                # In place: lerp_(b, 1 - lam) leaves lam * a + (1 - lam) * b in a.
                a.lerp_(
                    partners[0], (1 - weights[:, 0]).reshape(-1, *[1] * (a.dim() - 1))
                )
            else:
                a.copy_(mix_many([a, *partners], weights))
        if blocks is not None:
            columns, block = blocks
            buffers[0][0][:, columns] = pick_blocks(
                blocks_of,
                weights,
                block,
                len(c.categorical_groups),
                generator=self.generator,
            )
        for i in range(2, len(buffers[0])):
            if buffers[0][i] is not None:
                partner_ws = [b[i] for b in buffers[1:]]
                buffers[0][i].copy_(
                    mix_sample_weights(buffers[0][i], partner_ws, weights)
                )
