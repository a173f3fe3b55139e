"""A skorch net that trains on mixup batches.

The net only overrides skorch's extension points (``initialize``,
``initialize_history``, ``get_iterator``, ``train_step_single``,
``validation_step``, ``get_loss``, ``_zero_grad_optimizer`` and the
``on_batch_end`` / ``on_train_end`` hooks); skorch's own fit loop runs unchanged.
"""

from __future__ import annotations

import math

import torch

# Every torch.optim optimizer imports torch._dynamo (and sympy with it) when
# the first one is built, about a second; every fit builds one. Imported with
# the package, that second is part of `import skmixup` rather than of the
# first fit, whose time is then that of the next ones.
import torch._dynamo  # noqa: F401
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.history import History
from skorch.utils import to_tensor
from torch import Tensor
from torch.nn import functional as F

from ._averaging import WeightAverage
from ._data import TensorBatchIterator, _tensors_of
from ._mixer import Mixer, MixupConfig
from ._mixing import mix_many, mix_sample_weights
from ._modules import MLP
from ._params import VARIANT_PARAMS
from ._random import global_seed
from ._schedule import is_scheduled, lr_factor

__all__ = ["EpochSummaryHistory", "MixupNet"]


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
    parts: list[Tensor], weights: float | Tensor, n_classes: int, dtype: torch.dtype
) -> Tensor:
    """Mixed targets; integer class labels become one-hot probabilities first."""
    if not torch.is_floating_point(parts[0]):
        parts = [F.one_hot(y.long(), n_classes).to(dtype) for y in parts]
    return mix_many(parts, weights)


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
    (regression values, soft labels) are mixed as they are. Floating arrays
    are cast to the module's dtype (float64 data for a float32 module). A
    criterion with ``reduction="none"`` is reduced by the net, which then also
    honours per-row sample weights.

    Parameters
    ----------
    module : torch module class or instance
        As in skorch.
    alpha : float, default=0.2
        Beta concentration, ``>= 0``; ``alpha=0`` is plain ERM (no mixing) and
        ``alpha=inf`` a fixed ``lambda=0.5``.
    mix_on, pairing, n_neighbors, label_bandwidth, manifold, n_mixed, \
mix_probability, per_sample_lambda, alternate_epochs, final_unmixed_epochs, \
mix_embeddings, categorical_groups
        The mixup variant, as documented for :class:`MixupClassifier` (same
        names, same defaults). ``manifold=True`` needs a module with a
        ``forward_mixed`` method, such as :class:`MLP`, and ``mix_embeddings``
        an :class:`MLP` with ``num_embeddings``; the pairings other than
        ``"random"`` need array or tensor training data.
    random_state : int or None, default=None
        Seed of the generator behind shuffling, lambdas and partners. ``None``
        seeds it from PyTorch's global generator.
    lr_schedule : {"constant", "cosine", "flat_cosine"}, default="constant"
        The learning rate of every optimizer step, as a multiple of each
        parameter group's initial rate (see :func:`skmixup._schedule.lr_factor`):
        set before each step, over ``max_epochs`` epochs of steps.
    warmup_fraction : float, default=0.0
        Share of those steps over which the rate first rises linearly.
    ema_decay : float or None, default=None
        ``None`` keeps the weights of the last step. A float in ``[0, 1)``
        keeps an exponential moving average of the weights, updated after
        every optimizer step with decay ``min(ema_decay, (1 + t) / (10 + t))``
        at step ``t`` of the fit, and puts it in the module when training ends.
        With a validation split, each epoch validates the averaged weights,
        which stay in the module until the next epoch begins: the callbacks of
        ``on_epoch_end`` (``EarlyStopping`` with ``load_best=True`` among them)
        see, score and keep the averaged network. Each ``fit`` or
        ``partial_fit`` call starts a new average.
    fast_path : bool, default=True
        With the built-in :class:`MLP` and a ``CrossEntropyLoss`` or ``MSELoss``
        criterion, compute gradients in closed form
        (:meth:`MLP.loss_and_grad`) instead of through autograd; the numbers
        are the same, the step is faster for small networks. Any other module or
        criterion always uses autograd. Set ``False`` to force autograd.
    record_batches : bool or None, default=None
        Keep skorch's per-batch history (loss and size of every batch). With
        ``False``, each epoch keeps one running summary instead (a ``History``
        subclass), which is all the epoch-level ``train_loss`` and
        ``valid_loss`` need and saves time and memory with many small batches,
        but a callback that reads batches (e.g. skorch's ``BatchScoring``)
        would see only that summary. ``None`` keeps the full record whenever
        the net has callbacks of its own other than ``EarlyStopping`` (which
        reads epochs only), and the summary otherwise.
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
        alpha=0.2,
        mix_on="both",
        pairing="random",
        n_neighbors=5,
        label_bandwidth=1.0,
        manifold=False,
        n_mixed=2,
        mix_probability=1.0,
        per_sample_lambda=False,
        alternate_epochs=0,
        final_unmixed_epochs=0,
        mix_embeddings=False,
        categorical_groups=None,
        random_state=None,
        lr_schedule="constant",
        warmup_fraction=0.0,
        ema_decay=None,
        fast_path=True,
        record_batches=None,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.alpha = alpha
        self.mix_on = mix_on
        self.pairing = pairing
        self.n_neighbors = n_neighbors
        self.label_bandwidth = label_bandwidth
        self.manifold = manifold
        self.n_mixed = n_mixed
        self.mix_probability = mix_probability
        self.per_sample_lambda = per_sample_lambda
        self.alternate_epochs = alternate_epochs
        self.final_unmixed_epochs = final_unmixed_epochs
        self.mix_embeddings = mix_embeddings
        self.categorical_groups = categorical_groups
        self.random_state = random_state
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.ema_decay = ema_decay
        self.fast_path = fast_path
        self.record_batches = record_batches

    def initialize_history(self):
        cls = History if self._records_batches() else EpochSummaryHistory
        if type(getattr(self, "history_", None)) is cls:
            self.history_.clear()
        else:
            self.history_ = cls()
        return self

    def _records_batches(self) -> bool:
        if self.record_batches is not None:
            return bool(self.record_batches)
        for callback in self.callbacks or ():
            if isinstance(callback, tuple):  # skorch's (name, callback) form
                callback = callback[1]
            kind = callback if isinstance(callback, type) else type(callback)
            if kind is not EarlyStopping:
                return True
        return False

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._mixer.begin_fit(self.max_epochs)
        self._lr_step = 0
        self._average = None
        if self.ema_decay is not None:
            if not 0 <= self.ema_decay < 1:
                raise ValueError(
                    "ema_decay is the decay of a moving average of the weights and "
                    f"must be in [0, 1) or None; got {self.ema_decay!r}."
                )
            self._average = WeightAverage(
                list(self.module_.parameters()), self.ema_decay
            )

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        if training and is_scheduled(self.lr_schedule, self.warmup_fraction):
            total = self.max_epochs * self._steps_per_epoch
            factor = lr_factor(
                self._lr_step, total, self.lr_schedule, self.warmup_fraction
            )
            for name in self._optimizers:
                for group in getattr(self, name + "_").param_groups:
                    # "initial_lr", as torch's schedulers keep it: the rate the
                    # group was built with, whatever earlier steps set.
                    group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor
            self._lr_step += 1

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        self._mixer.begin_epoch()
        if self._average is not None:
            self._average.swap_out()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training and iterator is not None and self._average is not None:
            # Validate (and let on_epoch_end's callbacks see) the averaged weights.
            self._average.swap_in()
        return super().run_single_epoch(
            iterator, training, prefix, step_fn, **fit_params
        )

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self._average is not None:
            self._average.copy_to()
        self._average = None
        super().on_train_end(net, X=X, y=y, **kwargs)
        # Drop the unused draws: they are not model state and would bloat pickles.
        self._mixer.clear()

    def initialize(self):
        super().initialize()
        self.mixing_ = MixupConfig(**{p: getattr(self, p) for p in VARIANT_PARAMS})
        if self.manifold and not hasattr(self.module_, "forward_mixed"):
            raise ValueError(
                "manifold=True mixes hidden layers and needs a module with a "
                "forward_mixed method, such as skmixup.MLP (the estimators' "
                f"default module); got {type(self.module_).__name__}."
            )
        if self.mix_embeddings and not (
            hasattr(self.module_, "mixing_layers")
            and getattr(self.module_, "num_embeddings", None) is not None
        ):
            raise ValueError(
                "mix_embeddings=True mixes the embeddings of the inputs and needs "
                "a module with embeddings, such as skmixup.MLP with num_embeddings "
                f"set; got {type(self.module_).__name__} without."
            )
        self.alpha_ = self.mixing_.alpha
        seed = self.random_state
        if seed is None:
            seed = global_seed()
        self.generator_ = torch.Generator(device=self._draw_device())
        self.generator_.manual_seed(int(seed))
        self._mixer = Mixer(self.mixing_, self.generator_)
        return self

    def _draw_device(self) -> torch.device:
        """Where batches are gathered and mixed: ``device``, or, with skorch's
        ``device=None`` (move nothing), wherever the module's weights are."""
        if self.device is not None:
            return torch.device(self.device)
        weight = next(self.module_.parameters(), None)
        return torch.device("cpu") if weight is None else weight.device

    def _in_module_dtype(self, tensors):
        """Floating data in the module's floating dtype: float64 arrays meet a
        float32 module as PyTorch's "mat1 and mat2 must have the same dtype"
        otherwise (float32 is what skorch expects; this spares the cast)."""
        weight = next(self.module_.parameters(), None)
        if weight is None or not weight.is_floating_point():
            return tensors
        return tuple(
            t.to(weight.dtype)
            if isinstance(t, torch.Tensor) and t.is_floating_point()
            else t
            for t in tensors
        )

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
        tensors = _tensors_of(dataset, self._draw_device())
        if tensors is None:
            iterator = super().get_iterator(dataset, training=training)
            if training:
                self._steps_per_epoch = len(iterator)
            return iterator
        tensors = self._in_module_dtype(tensors)
        prefix = "iterator_train" if training else "iterator_valid"
        batch_size = self.get_params_for(prefix).get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(tensors[0])
        iterator = TensorBatchIterator(
            tensors,
            max(1, min(batch_size, len(tensors[0]))),
            shuffle=training,
            generator=self.generator_ if training else None,
            mixer=self._mixer if training and self.mixing_.mixes else None,
        )
        if training:
            self._steps_per_epoch = len(iterator)
        return iterator

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            # Once per epoch, not per batch: .train() walks every submodule.
            self._set_training(True)
        Xi, yi, wi = _unpack(batch)
        if not isinstance(Xi, Tensor):
            Xi = to_tensor(Xi, device=self.device)
        if not isinstance(yi, Tensor):
            yi = to_tensor(yi, device=self.device)
        mixer = self._mixer
        # Batches from TensorBatchIterator often arrive mixed (one pass per epoch).
        if not mixer.active or len(Xi) < 2 or getattr(batch, "premixed", False):
            return self._step(Xi, yi, wi, fit_params)
        partners = getattr(batch, "partners", ())
        if not partners:
            # Batches from another iterator: draw the partners here.
            partners = []
            for _ in range(self.mixing_.n_mixed - 1):
                index = mixer.step_partners(len(Xi))
                partners.append(
                    tuple(
                        None if t is None else t.index_select(0, index)
                        for t in (Xi, yi, wi)
                    )
                )
        weights = mixer.batch_weights(len(Xi))
        if wi is not None:
            wi = mix_sample_weights(wi, [p[2] for p in partners], weights)
        mix_on = self.mixing_.mix_on
        X_parts = [Xi, *(p[0] for p in partners)]
        y_parts = [yi, *(p[1] for p in partners)]
        if self.mixing_.manifold or self.mixing_.mix_embeddings:
            layer = self._mixing_layer()
            if mix_on == "targets":
                y_pred = self.infer(Xi, **fit_params)
            elif layer == 0 and self.mixing_.categorical_groups:
                # Raw inputs, with their one-hot blocks taken whole.
                y_pred = self.infer(mixer.mix_inputs(X_parts, weights), **fit_params)
            else:
                y_pred = self.module_.forward_mixed(X_parts, weights, layer)
            if mix_on != "inputs":
                yi = _mix_targets(y_parts, weights, y_pred.shape[-1], y_pred.dtype)
            return self._backward(y_pred, yi, Xi, wi)
        if mix_on != "targets":
            Xi = mixer.mix_inputs(X_parts, weights)
        if mix_on == "inputs":
            return self._step(Xi, yi, wi, fit_params)
        n_classes = getattr(self.module_, "n_outputs", None)
        if n_classes is None and not torch.is_floating_point(yi):
            # One-hot width unknown until the module has answered.
            y_pred = self.infer(Xi, **fit_params)
            yi = _mix_targets(y_parts, weights, y_pred.shape[-1], y_pred.dtype)
            return self._backward(y_pred, yi, Xi, wi)
        yi = _mix_targets(y_parts, weights, n_classes, Xi.dtype)
        return self._step(Xi, yi, wi, fit_params)

    def _mixing_layer(self) -> int:
        """The layer of ``forward_mixed`` this batch mixes at: the module's first
        mixing layer (raw inputs, or their embeddings with ``mix_embeddings``),
        or with ``manifold`` one of its mixing layers drawn uniformly."""
        module = self.module_
        if hasattr(module, "mixing_layers"):
            layers = module.mixing_layers(embedded=self.mixing_.mix_embeddings)
        else:
            layers = range(module.n_mixable_layers)
        if not self.mixing_.manifold:
            return layers[0]
        return layers[self._mixer.layer(len(layers))]

    def _step(self, Xi, yi, wi, fit_params):
        """Forward, loss and gradients for one (already mixed) batch."""
        closed_form = self._closed_form_loss(yi, wi, fit_params)
        if closed_form is not None:
            y_pred, loss = self.module_.loss_and_grad(Xi, yi, closed_form, wi)
            return {"loss": loss, "y_pred": y_pred}
        return self._backward(self.infer(Xi, **fit_params), yi, Xi, wi)

    def _backward(self, y_pred, yi, Xi, wi):
        """Loss of ``y_pred`` against ``yi`` and its gradients, through autograd."""
        loss = self.get_loss(y_pred, yi, X=Xi, training=True, sample_weight=wi)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _closed_form_loss(self, y, sample_weight, fit_params) -> str | None:
        """The loss name when :meth:`MLP.loss_and_grad` can replace autograd."""
        if (
            not self.fast_path
            or fit_params
            or type(self.module_) is not MLP
            or self.module_.dropout
            or not self.module_.closed_form_is_exact()
        ):
            return None
        criterion = self.criterion_
        if criterion._forward_hooks or criterion._forward_pre_hooks:
            return None
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
        if training and self._average is not None:
            self._average.update()
