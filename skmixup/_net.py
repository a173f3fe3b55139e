"""A skorch net that trains on mixup batches.

The net only overrides skorch's extension points (``initialize``,
``initialize_history``, ``get_iterator``, ``train_step_single``,
``validation_step``, ``get_loss``, ``_zero_grad_optimizer`` and the
``on_batch_end`` / ``on_train_end`` hooks); skorch's own fit loop runs unchanged.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from skorch.history import History
from skorch.utils import to_tensor
from torch import Tensor
from torch.nn import functional as F

from ._data import TensorBatchIterator, _tensors_of
from ._mixing import _check_alpha, mix, sample_lambda, sample_partners
from ._modules import MLP

__all__ = ["EpochSummaryHistory", "MixupNet"]

# Lambdas and partner permutations are drawn this many batches at a time: one
# draw per batch costs a handful of small kernels, a buffer costs one per ~thousand.
_DRAW_BATCHES = 1024
# Partner permutations are buffered only for batches up to this size: there one
# randperm call costs more than the arithmetic, while drawing many permutations at
# once (argsort of random keys) loses to randperm for larger batches.
_MAX_BUFFERED_BATCH = 64


class EpochSummaryHistory(History):
    """A skorch ``History`` that keeps one running summary per epoch, not per batch.

    skorch records every batch's loss and size; at 1,000,000 rows and batch 16
    that is 62,500 dicts per epoch. Here each epoch has a single ``batches``
    entry whose ``<prefix>_loss`` is the size-weighted mean loss so far and
    ``<prefix>_batch_size`` the rows seen: exactly what skorch's epoch-level
    ``train_loss`` and ``valid_loss`` are computed from.
    """

    def new_batch(self):
        if not self[-1]["batches"]:
            super().new_batch()

    def record_batch(self, attr, value):
        batch = self[-1]["batches"][-1]
        if attr.endswith("_batch_size"):
            key = attr[: -len("_batch_size")] + "_loss"
            last = batch.pop("_last_" + key, None)
            seen = batch.get(attr, 0) + value
            if last is not None:
                mean = batch.get(key, 0.0)
                batch[key] = mean + (last - mean) * value / seen
            batch[attr] = seen
        elif attr.endswith("_loss"):
            # Folded into the running mean once the batch size arrives.
            batch["_last_" + attr] = value
        else:
            batch[attr] = value


def _mix_targets(
    y: Tensor, y_partner: Tensor, lam: float, n_classes: int, dtype: torch.dtype
) -> Tensor:
    """Mixed targets; integer class labels become one-hot probabilities first."""
    if not torch.is_floating_point(y):
        y = F.one_hot(y.long(), n_classes).to(dtype)
        y_partner = F.one_hot(y_partner.long(), n_classes).to(dtype)
    return mix(y, y_partner, lam)


class _MixingDraws:
    """Buffered ``lambda`` values and partner permutations, drawn from one generator.

    A plain object rather than attributes of the net: skorch's ``__setattr__``
    costs microseconds, and the positions move on every batch.
    """

    __slots__ = (
        "alpha",
        "generator",
        "lambdas",
        "lambda_pos",
        "partners",
        "partner_pos",
        "partner_n",
    )

    def __init__(self, alpha: float, generator: torch.Generator) -> None:
        self.alpha = alpha
        self.generator = generator
        self.clear()

    def clear(self) -> None:
        self.lambdas: list[float] = []
        self.lambda_pos = 0
        self.partners: tuple[Tensor, ...] = ()
        self.partner_pos = 0
        self.partner_n = 0

    def epoch_lambdas(self, n_batches: int) -> Tensor:
        """One coefficient per batch of an epoch, drawn at once."""
        return sample_lambda(self.alpha, n_batches, generator=self.generator)

    def next_lambda(self) -> float:
        if self.lambda_pos >= len(self.lambdas):
            # Python floats: lerp's scalar path, and one device sync per buffer.
            self.lambdas = sample_lambda(
                self.alpha, _DRAW_BATCHES, generator=self.generator
            ).tolist()
            self.lambda_pos = 0
        self.lambda_pos += 1
        return self.lambdas[self.lambda_pos - 1]

    def next_partners(self, n: int) -> Tensor:
        """A random permutation of ``range(n)``: row ``i`` mixes with ``index[i]``."""
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
    fast_path : bool, default=True
        With the built-in :class:`MLP` and a ``CrossEntropyLoss`` or ``MSELoss``
        criterion, compute gradients in closed form
        (:meth:`MLP.loss_and_grad`) instead of through autograd; the numbers
        are the same, the step is faster for small networks. Any other module or
        criterion always uses autograd. Set ``False`` to force autograd.
    record_batches : bool, default=False
        Keep skorch's per-batch history (loss and size of every batch). By
        default each epoch keeps one running summary instead
        (a ``History`` subclass), which is all the epoch-level
        ``train_loss`` and ``valid_loss`` need and saves time and memory with
        many small batches; set ``True`` to get skorch's full record back.
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

    def __init__(
        self,
        module,
        *args,
        alpha=1.0,
        random_state=None,
        fast_path=True,
        record_batches=False,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.alpha = alpha
        self.random_state = random_state
        self.fast_path = fast_path
        self.record_batches = record_batches

    def initialize_history(self):
        cls = History if self.record_batches else EpochSummaryHistory
        if type(getattr(self, "history_", None)) is cls:
            self.history_.clear()
        else:
            self.history_ = cls()
        return self

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        # Drop the unused draws: they are not model state and would bloat pickles.
        self._draws.clear()

    def initialize(self):
        super().initialize()
        self.alpha_ = _check_alpha(self.alpha)
        seed = self.random_state
        if seed is None:
            seed = int(torch.randint(0, 2**62, ()).item())
        self.generator_ = torch.Generator(device=torch.device(self.device))
        self.generator_.manual_seed(int(seed))
        self._draws = _MixingDraws(self.alpha_, self.generator_)
        return self

    def _zero_grad_optimizer(self, set_to_none=None):
        # What optimizer.zero_grad() does by default (grads to None), without its
        # per-call profiling and hook overhead: this runs once per batch.
        if set_to_none is False:
            return super()._zero_grad_optimizer(set_to_none)
        for name in self._optimizers:
            for group in getattr(self, name + "_").param_groups:
                for p in group["params"]:
                    p.grad = None

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
            partners=training and self.alpha_ > 0,
            lambdas=self._draws.epoch_lambdas if training and self.alpha_ > 0 else None,
        )

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            # Once per epoch, not per batch: .train() walks every submodule.
            self._set_training(True)
        Xi, yi, wi = _unpack(batch)
        if not isinstance(Xi, Tensor):
            Xi = to_tensor(Xi, device=self.device)
        if not isinstance(yi, Tensor):
            yi = to_tensor(yi, device=self.device)
        n = Xi.shape[0]
        # Batches from TensorBatchIterator arrive mixed already (one lerp per epoch).
        premixed = getattr(batch, "premixed_lambda", None) is not None
        mixing = self.alpha_ > 0 and n > 1 and not premixed
        if mixing:
            lam = self._draws.next_lambda()
            partner = getattr(batch, "partner", None)
            if partner is None:
                # Batches from another iterator: draw the partners here.
                index = self._draws.next_partners(n)
                partner = tuple(
                    None if t is None else t.index_select(0, index)
                    for t in (Xi, yi, wi)
                )
            Xi = mix(Xi, partner[0], lam)
            y_partner = partner[1]
            if wi is not None:
                # Pair (i, j) weighs w_i * w_j: what repeating rows would give.
                wi = wi * partner[2]
        closed_form = self._closed_form_loss(yi, wi, fit_params)
        if closed_form is not None:
            if mixing:
                yi = _mix_targets(yi, y_partner, lam, self.module_.n_outputs, Xi.dtype)
            y_pred, loss = self.module_.loss_and_grad(Xi, yi, closed_form, wi)
            return {"loss": loss, "y_pred": y_pred}
        y_pred = self.infer(Xi, **fit_params)
        if mixing:
            yi = _mix_targets(yi, y_partner, lam, y_pred.shape[-1], y_pred.dtype)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True, sample_weight=wi)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _closed_form_loss(self, y, sample_weight, fit_params) -> str | None:
        """The loss name when :meth:`MLP.loss_and_grad` can replace autograd."""
        if not self.fast_path or fit_params or type(self.module_) is not MLP:
            return None
        criterion = self.criterion_
        reduction = getattr(criterion, "reduction", None)
        if reduction != "none" and (reduction != "mean" or sample_weight is not None):
            return None
        if (
            type(criterion) is torch.nn.CrossEntropyLoss
            and criterion.weight is None
            and criterion.label_smoothing == 0
        ):
            return "cross_entropy"
        if type(criterion) is torch.nn.MSELoss and y.dim() == 2:
            return "squared_error"
        return None

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi, wi = _unpack(batch)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False, sample_weight=wi)
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        if not isinstance(y_true, Tensor):
            y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(y_pred, y_true)
        if loss.dim() == 0:
            if sample_weight is not None:
                raise ValueError(
                    "sample_weight needs a criterion with reduction='none'; set "
                    "criterion__reduction='none'."
                )
            return loss
        if sample_weight is None:
            # Rows have equal sizes: the mean of row means is the plain mean.
            return loss.mean()
        # reduction="none": one loss per row (averaged over trailing dims).
        loss = loss.reshape(len(loss), -1).mean(dim=1)
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
