"""Many MLPs trained as one: the stacked module, its batches and its skorch net.

The cross-validated estimators train every (alpha, split) pair at once. Member
``k`` of a :class:`StackedMLP` has its own weights (``weights[i][k]``), every
layer is one batched matrix product over the members, and one optimizer step
updates them all. Adam, AdamW and SGD act element by element, so this is the
same as stepping ``K`` separate optimizers.

The data are stored once. Each step gathers, for every member, the next batch of
its split's shuffled training rows and their partners (a permutation of the same
batch). Held-out rows are never gathered for that member, neither as rows nor as
partners.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch
from skorch import NeuralNet
from skorch.utils import TeeGenerator
from torch import Tensor, nn

from ._averaging import WeightAverage
from ._mixing import sample_lambda
from ._modules import _ACTIVATIONS, MLP, _apply_derivative, _row_loss_and_grad
from ._net import EpochSummaryHistory
from ._random import permutation, uniform, uniform_
from ._scaling import scale_rows_
from ._schedule import is_scheduled, lr_factor
from ._sparse import SparseRows

# Bytes of gathered row pairs per chunk of steps: enough steps to amortise the
# index sorting and the gather (about a hundred at batch 16 with 30 members of
# ten columns), while the buffer stays small next to the cache.
_CHUNK_BYTES = 2**22
# Rows per forward pass when scoring: activations stay in cache.
_FORWARD_ROWS = 4096


class StackedMLP(nn.Module):
    """``n_members`` independent :class:`MLP` networks with stacked weights.

    Layer ``i`` holds ``weights[i]`` of shape ``(n_members, n_in, n_out)``, or
    ``(n_members, n_out, n_in)`` when ``transposed[i]``, and ``biases[i]`` of
    shape ``(n_members, 1, n_out)``; each member is initialised
    like ``torch.nn.Linear`` (uniform in ``+-1/sqrt(n_in)``), as in :class:`MLP`,
    from ``generator`` (PyTorch's global generator when None), on ``device``.

    With ``per_member=False`` the stacked tensors are the parameters: one
    optimizer step updates every member, which is exact as long as every member
    takes every step. With ``per_member=True`` each member's slice of each
    tensor is a parameter of its own (a view into the stacked storage), so an
    optimizer keeps each member's state and step count apart, and a member
    without rows in a step (its split has fewer steps in an epoch) is left out
    of the step by :meth:`set_active`. Stepping many small parameters costs more
    per step, so it is used only when some member must skip steps; such a
    module must be built on its device and not moved.
    """

    def __init__(
        self,
        n_members: int,
        n_features_in: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (128, 128),
        activation: str = "relu",
        generator: torch.Generator | None = None,
        *,
        per_member: bool = False,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        self.sizes = [int(n_features_in), *map(int, hidden_layer_sizes), int(n_outputs)]
        self.activation = activation
        self.n_members = int(n_members)
        self.n_outputs = int(n_outputs)
        self.per_member = bool(per_member)
        # A layer's weights are stored (K, n_out, n_in), as in nn.Linear, when it
        # narrows and (K, n_in, n_out) when it widens: batched products whose
        # small dimension comes last ran 4 to 7 times slower (128 -> 2 and
        # 8 -> 128 with 36 members of 20 rows).
        self.transposed = tuple(
            n_in >= n_out
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        )
        weights, biases = [], []
        for n_in, n_out, t in zip(
            self.sizes[:-1], self.sizes[1:], self.transposed, strict=True
        ):
            bound = 1.0 / math.sqrt(n_in)
            shape = (n_members, n_out, n_in) if t else (n_members, n_in, n_out)
            weights.append(_uniform(shape, bound, generator, device))
            biases.append(_uniform((n_members, 1, n_out), bound, generator, device))
        self._active: list[bool] | None = None
        if self.per_member:
            self.weights, self.biases = weights, biases
            self._grads = (
                [torch.zeros_like(W) for W in weights],
                [torch.zeros_like(b) for b in biases],
            )
            # Member k's slices of every tensor, each with its gradient's slice.
            self.members = nn.ParameterList()
            self._member_grads: list[tuple[int, nn.Parameter, Tensor]] = []
            for k in range(self.n_members):
                for t, g in zip(
                    weights + biases, self._grads[0] + self._grads[1], strict=True
                ):
                    param = nn.Parameter(t[k])
                    param.grad = g[k]
                    self.members.append(param)
                    self._member_grads.append((k, param, g[k]))
        else:
            self.weights = nn.ParameterList(nn.Parameter(W) for W in weights)
            self.biases = nn.ParameterList(nn.Parameter(b) for b in biases)
        self._act = _ACTIVATIONS[activation]()
        # Plain tuples for the per-step code: ParameterList indexing is slow.
        # .to() and .double() keep the Parameter objects, so these stay valid.
        self._params = (tuple(self.weights), tuple(self.biases))
        self._work: list[Tensor] = []
        self._work_key: tuple | None = None

    def set_active(self, active: list[bool] | None) -> None:
        """Leave the members with ``active[k]`` False out of the next optimizer
        steps (no gradient: torch's optimizers skip such parameters, their state
        and step count included); None takes every member back.

        Only a ``per_member`` module can leave members out.
        """
        if active is not None and all(active):
            active = None
        if active == self._active:
            return
        if not self.per_member:
            raise RuntimeError(
                "StackedMLP(per_member=False) steps every member together; build "
                "it with per_member=True for members that skip steps."
            )
        for k, param, grad in self._member_grads:
            param.grad = grad if active is None or active[k] else None
        self._active = active

    def release_training_state(self) -> None:
        """Free the gradients and work buffers of training (scoring and
        :meth:`member` need neither)."""
        for param in self.parameters():
            param.grad = None
        if self.per_member:
            self._grads = ([], [])
            self._member_grads = []
        self._work, self._work_key = [], None

    def stacked_parameters(self) -> list[Tensor]:
        """The stacked ``(n_members, ...)`` weight and bias tensors (in a
        ``per_member`` module, the storage its members' parameters view)."""
        return [*self._params[0], *self._params[1]]

    def member_parameters(self, k: int) -> list[nn.Parameter]:
        """Member ``k``'s own parameters (``per_member`` modules only)."""
        return [param for j, param, _ in self._member_grads if j == k]

    def _grad_buffers(self, i: int) -> tuple[Tensor, Tensor]:
        """Where layer ``i``'s stacked weight and bias gradients are written."""
        if self.per_member:
            return self._grads[0][i], self._grads[1][i]
        W, b = self._params[0][i], self._params[1][i]
        if W.grad is None:
            W.grad, b.grad = torch.empty_like(W), torch.empty_like(b)
        return W.grad, b.grad

    def select(
        self, members: Tensor, dtype: torch.dtype
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Copies of the weights and biases of ``members``, in ``dtype``, for
        :meth:`forward` (made once, rather than at every call)."""
        return (
            [W[members].to(dtype) for W in self.weights],
            [b[members].to(dtype) for b in self.biases],
        )

    def forward(
        self,
        X: Tensor,
        members: Tensor | None = None,
        selected: tuple[list[Tensor], list[Tensor]] | None = None,
    ) -> Tensor:
        """Outputs of shape ``(members, n, n_outputs)``.

        ``X`` is ``(n, n_features_in)`` (the same rows for every member) or
        ``(members, n, n_features_in)``; ``members`` selects some members, or
        ``selected`` gives their weights from :meth:`select`.
        """
        if selected is None and members is not None:
            selected = self.select(members, X.dtype)
        weights, biases = selected or (self.weights, self.biases)
        h = X
        last = len(weights) - 1
        for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
            if h.dim() == 2:
                h = h.expand(len(W), *h.shape)  # a view: the rows are not copied
            h = torch.baddbmm(b, h, W.mT if self.transposed[i] else W)
            if i < last:
                h = self._act(h)
        return h

    @torch.no_grad()
    def loss_and_grad(
        self, X: Tensor, target: Tensor, loss: str, weight: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Forward pass, per-member losses, and their gradients in ``param.grad``.

        The stacked form of :meth:`MLP.loss_and_grad`: member ``k``'s loss is the
        ``weight[k]``-weighted mean of its row losses, and its weights receive
        the gradient of that loss alone.

        Parameters
        ----------
        X : Tensor of shape (n_members, n, n_features_in)
            Each member's input rows.
        target : Tensor of shape (n_members, n, n_outputs)
            Class probabilities (``loss="cross_entropy"``) or values
            (``loss="squared_error"``).
        loss : {"cross_entropy", "squared_error"}
            Per-row loss.
        weight : Tensor of shape (n_members, n)
            Row weights; a member whose weights are all zero gets zero gradients.

        Returns
        -------
        output : Tensor of shape (n_members, n, n_outputs)
        member_loss : Tensor of shape (n_members,)
        """
        weights, biases = self._params
        last = len(weights) - 1
        # Every step writes into the same buffers: a fresh (K, n, 128) activation
        # or (K, 128, 128) gradient is hundreds of kB to MB, and allocating them
        # anew each step cost page faults that tripled some matrix products.
        work = self._workspace(X.shape[:2])
        activations = [X]
        h = X
        for i in range(last + 1):
            W = weights[i].mT if self.transposed[i] else weights[i]
            h = torch.baddbmm(biases[i], h, W, out=work[i])
            if i < last:
                _ACTIVATE_IN_PLACE[self.activation](h)
            activations.append(h)
        out = h
        row_loss, grad = _row_loss_and_grad(out, target, loss)
        row_w = weight / weight.sum(dim=1, keepdim=True).clamp_min(1e-12)
        member_loss = (row_loss * row_w).sum(dim=1)
        grad.mul_(row_w.unsqueeze(2))
        for i in range(last, -1, -1):
            W = weights[i]
            grad_W, grad_b = self._grad_buffers(i)
            x = activations[i]
            if self.transposed[i]:
                torch.bmm(grad.mT, x, out=grad_W)
            else:
                torch.bmm(x.mT, grad, out=grad_W)
            torch.sum(grad, dim=1, keepdim=True, out=grad_b)
            if i > 0:
                h = x
                Wx = W if self.transposed[i] else W.mT
                grad = torch.bmm(grad, Wx, out=work[last + i])
                if self.activation == "relu":
                    # ReLU's own backward kernel, in place: one vectorised pass
                    # (grad.mul_(h > 0) took eight times as long).
                    _threshold_backward(grad, h, 0.0, grad_input=grad)
                else:
                    _apply_derivative(self.activation, h, grad)
        return out, member_loss

    def _workspace(self, shape: tuple[int, int]) -> list[Tensor]:
        """Buffers for the layer outputs, then for the hidden-layer gradients."""
        first = self._params[0][0]
        key = (tuple(shape), first.device, first.dtype)
        if self._work_key != key:
            K, n = shape
            widths = self.sizes[1:] + self.sizes[1:-1]
            self._work = [first.new_empty((K, n, w)) for w in widths]
            self._work_key = key
        return self._work

    def member(self, k: int) -> MLP:
        """Member ``k`` as a plain :class:`MLP` with a copy of its weights."""
        mlp = MLP(self.sizes[0], self.sizes[-1], self.sizes[1:-1], self.activation)
        linears = [m for m in mlp.layers if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer, W, b, t in zip(
                linears, self.weights, self.biases, self.transposed, strict=True
            ):
                layer.weight.copy_(W[k] if t else W[k].t())
                layer.bias.copy_(b[k, 0])
        return mlp.to(self.weights[0].device)


_threshold_backward = torch.ops.aten.threshold_backward.grad_input
_ACTIVATE_IN_PLACE = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "logistic": torch.sigmoid_,
    "identity": lambda h: h,
}


def _uniform(
    shape: tuple[int, ...],
    bound: float,
    generator: torch.Generator | None,
    device: torch.device | str | None,
) -> Tensor:
    # Drawn on the generator's device, then moved: the same numbers anywhere.
    weights = uniform_(torch.empty(shape), -bound, bound, generator)
    return weights.to(device) if device is not None else weights


class MemberData(torch.utils.data.Dataset):
    """Rows stored once, and which of them each split trains on.

    ``X`` holds the inputs (dense, or :class:`SparseRows` densified as rows are
    gathered) and ``rest`` the targets then, when ``weighted``, a column of
    sample weights. ``train_mask`` is a boolean ``(n_splits, n)`` matrix.
    """

    def __init__(
        self,
        X: Tensor | SparseRows,
        rest: Tensor,
        train_mask: Tensor,
        weighted: bool,
    ) -> None:
        if train_mask.shape[1] != len(X) or len(rest) != len(X):
            raise ValueError("X, rest and the columns of train_mask must match.")
        self.X = X
        self.rest = rest
        self.train_mask = train_mask
        self.n_features = X.shape[1]
        self.weighted = weighted
        self._buffers: tuple[Tensor, Tensor] | None = None

    @property
    def device(self) -> torch.device:
        return self.rest.device

    def row_bytes(self) -> int:
        return (self.n_features + self.rest.shape[1]) * self.rest.element_size()

    def rows(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Rows ``index`` of ``X`` and of ``rest``, as dense tensors written to
        buffers that are reused from call to call (valid until the next): fresh
        tens-of-MB arrays per step let the allocator keep freed ones, and the
        process grew by hundreds of MB on wide data."""
        n = len(index)
        if self._buffers is None or len(self._buffers[0]) < n:
            self._buffers = (
                self.rest.new_empty((n, self.n_features)),
                self.rest.new_empty((n, self.rest.shape[1])),
            )
        X_out, rest_out = (b[:n] for b in self._buffers)
        if isinstance(self.X, SparseRows):
            self.X.index_select(0, index, out=X_out)
        else:
            torch.index_select(self.X, 0, index, out=X_out)
        torch.index_select(self.rest, 0, index, out=rest_out)
        return X_out, rest_out

    def __len__(self) -> int:
        return len(self.rest)

    def __getitem__(self, i):
        X, rest = self.rows(torch.as_tensor([i], device=self.device))
        return X[0].clone(), rest[0].clone()


class StackedBatchIterator:
    """One epoch of mixed, per-member batches over a :class:`MemberData`.

    Every split draws a random order of its own training rows; step ``s`` gives
    member ``k`` rows ``s * batch_size`` to ``(s + 1) * batch_size`` of its
    split's order, exactly as a plain fit on the split would batch them, and
    pairs each with a row of a random permutation of the same batch, with its
    own ``lambda ~ Beta(alpha_k, alpha_k)``. Members of one split share the row
    order (as ``GridSearchCV``'s fits with one ``random_state`` do) but draw
    their own partners and lambdas. Held-out rows are never gathered for a
    member; the slots of a split's short last batch are filled with one of its
    own rows at weight 0. Yields ``(X, target, weight, active)``: tensors of
    shapes ``(K, batch_size, n_features)``, ``(K, batch_size, n_outputs)`` and
    ``(K, batch_size)``, and which members have rows in the step (a member
    whose split has fewer steps in the epoch has none in the last ones).
    """

    def __init__(
        self,
        data: MemberData,
        member_split: Tensor,
        alphas: Sequence[float],
        batch_size: int,
        generator: torch.Generator,
        target_shift: Tensor | None = None,
        target_scale: Tensor | None = None,
        input_scaling: tuple[Tensor | None, Tensor, bool] | None = None,
    ) -> None:
        self.data = data
        # Per-member input scaling (center, scale, clip), centre and scale of
        # shape (K, 1, n_features): applied to the gathered rows before mixing,
        # as a plain fit on the member's split scales its rows before training.
        self.input_scaling = input_scaling
        # Per-member target standardisation, (K, 1, n_outputs): mixing commutes
        # with it, so it is applied to the mixed targets.
        self.target_shift = target_shift
        self.target_scale = target_scale
        self.member_split = member_split
        self.alphas = [float(a) for a in alphas]
        self.batch_size = int(batch_size)
        self.generator = generator
        self.own_rows = [mask.nonzero().ravel() for mask in data.train_mask]
        # A row each member always trains on: the filler of its empty slots.
        self.filler = data.train_mask.float().argmax(dim=1)[member_split]

    def __len__(self) -> int:
        return math.ceil(max(len(rows) for rows in self.own_rows) / self.batch_size)

    def member_steps(self) -> Tensor:
        """Steps each member takes in an epoch, as a plain fit on its split."""
        steps = [math.ceil(len(rows) / self.batch_size) for rows in self.own_rows]
        member = [steps[s] for s in self.member_split.tolist()]
        return torch.tensor(member, dtype=torch.float32, device=self.data.device)

    def _lambdas(self, n_steps: int) -> Tensor:
        """One coefficient per member and step, drawn per alpha for the epoch."""
        device = self.data.device
        lam = torch.ones(n_steps, len(self.alphas), device=device)
        for alpha in sorted(set(self.alphas)):
            cols = [k for k, a in enumerate(self.alphas) if a == alpha]
            if alpha == 0:
                continue
            if math.isinf(alpha):
                lam[:, cols] = 0.5
                continue
            draws = sample_lambda(
                alpha, n_steps * len(cols), generator=self.generator, device=device
            )
            lam[:, cols] = draws.reshape(n_steps, len(cols))
        return lam.reshape(n_steps, -1, 1, 1)

    def _orders(self) -> Tensor:
        """Each split's own rows in a new random order, ``-1``-padded to a
        whole number of batches: shape ``(n_splits, len(self) * batch_size)``."""
        device = self.data.device
        orders = torch.full(
            (len(self.own_rows), len(self) * self.batch_size),
            -1,
            dtype=torch.long,
            device=device,
        )
        for s, rows in enumerate(self.own_rows):
            perm = permutation(len(rows), self.generator)
            orders[s, : len(rows)] = rows[perm]
        return orders

    def _chunk(self, orders: Tensor) -> tuple[Tensor, Tensor]:
        """Gather indices ``(C, 2 * K * B)`` and row weights ``(C, K, B)`` for the
        ``C`` steps whose split orders are ``orders``, ``(n_splits, C * B)``."""
        bs, n_members = self.batch_size, len(self.member_split)
        n_chunk = orders.shape[1] // bs
        rows = orders.index_select(0, self.member_split)
        rows = rows.reshape(n_members, n_chunk, bs).transpose(0, 1)
        valid = rows >= 0  # a prefix of each batch: padding sits at the end
        # Partners: a random permutation of each member's batch, valid rows first.
        keys = uniform(tuple(rows.shape), self.generator)
        partners = rows.gather(2, (keys + 2 * ~valid).argsort(dim=2))
        filler = self.filler[None, :, None]
        sides = [torch.where(valid, ids, filler) for ids in (rows, partners)]
        index = torch.stack(sides, dim=1).reshape(n_chunk, -1)
        return index, valid.float()

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, Tensor, list[bool]]]:
        data, bs = self.data, self.batch_size
        n_steps, n_members = len(self), len(self.member_split)
        orders = self._orders()
        lam = self._lambdas(n_steps)
        n_out = data.rest.shape[1] - int(data.weighted)
        # Gather and mix a chunk of steps at once: per-step gathers of a few
        # hundred short rows cost more in call overhead than in copying.
        step_bytes = 2 * n_members * bs * data.row_bytes()
        chunk = max(1, _CHUNK_BYTES // step_bytes)
        for start in range(0, n_steps, chunk):
            stop = min(start + chunk, n_steps)
            index, valid = self._chunk(orders[:, start * bs : stop * bs])
            X, rest = data.rows(index.ravel())
            X = X.view(stop - start, 2, n_members, bs, -1)
            if self.input_scaling is not None:
                scale_rows_(X, *self.input_scaling)
            X_first, X_partner = X.unbind(1)
            first, partner = rest.view(stop - start, 2, n_members, bs, -1).unbind(1)
            # A member with no rows in a step (its split ran out) takes no step.
            active = valid.any(dim=2).tolist()
            weight = valid
            lam_chunk = lam[start:stop]
            if data.weighted:
                # As in MixupNet: pair (i, j) weighs w_i * w_j, and a row whose
                # partner takes no part (lambda = 1, always so at alpha = 0)
                # weighs w_i alone.
                takes_part = lam_chunk[..., 0] < 1
                partner_w = torch.where(takes_part, partner[..., -1], 1.0)
                weight = weight * first[..., -1] * partner_w
            # In place, into the partner halves: each step's inputs stay one
            # contiguous (members, batch, features) block for the products.
            X_mixed = X_partner.lerp_(X_first, lam_chunk)
            target = partner[..., :n_out].lerp_(first[..., :n_out], lam_chunk)
            if self.target_shift is not None:
                target = (target - self.target_shift) / self.target_scale
            for s in range(stop - start):
                yield X_mixed[s], target[s], weight[s], active[s]


def _flushing_subnormals() -> bool:
    """Whether this thread flushes subnormal floats to zero."""
    # torch sets the mode but does not report it: with it on, a subnormal
    # input reads as zero.
    return torch.tensor([1e-39]).mul(1.0).item() == 0.0


@contextlib.contextmanager
def _subnormals_flushed() -> Iterator[None]:
    """Flush subnormal floats to zero on this thread, then restore the mode."""
    was_on = _flushing_subnormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)


class StackedMixupNet(NeuralNet):
    """A skorch net that trains a :class:`StackedMLP` on :class:`MemberData`.

    Only the extension points change: ``get_iterator`` hands out the
    per-member batches of :class:`StackedBatchIterator`, ``train_step_single``
    computes closed-form gradients, ``train_step`` steps the optimizer without
    a closure, ``fit_loop`` flushes subnormal floats, and the history keeps one
    summary per epoch plus each member's mean training loss
    (``event_member_loss``).

    Parameters
    ----------
    module : StackedMLP
        The stacked networks.
    member_alphas : sequence of float
        Each member's mixup ``alpha`` (``0``: no mixing; ``inf``: ``lambda=0.5``).
    member_split : sequence of int
        Each member's row of ``MemberData.train_mask``.
    target_shift, target_scale : array-like of shape (K, n_outputs), default=None
        Each member trains on ``(target - shift) / scale``.
    input_center, input_scale : array-like of shape (K, n_features), default=None
        Each member trains on inputs ``(X - center) / scale`` (no centring when
        ``input_center`` is None; no scaling when ``input_scale`` is None).
    input_clip : bool, default=False
        Clip the scaled inputs smoothly, as :class:`~skmixup._scaling.InputScaling`.
    random_state : int
        Seed of the shuffling, lambda and partner draws.
    lr_schedule : {"constant", "cosine", "flat_cosine"}, default="constant"
        The learning rate of each step, as :class:`~skmixup.MixupNet`'s; each
        member follows it over its own steps (``max_epochs`` times its split's
        steps per epoch). Members whose splits take different numbers of steps
        get one optimizer parameter group each.
    warmup_fraction : float, default=0.0
        Share of each member's steps over which its rate first rises linearly.
    ema_decay : float or None, default=None
        As :class:`~skmixup.MixupNet`'s: each member keeps a moving average of
        its weights over its own steps, put in the module when training ends.
    **kwargs
        Every other :class:`~skorch.NeuralNet` parameter; ``batch_size`` is the
        number of its own rows each member trains on per step.
    """

    def __init__(
        self,
        module,
        *args,
        member_alphas,
        member_split,
        target_shift=None,
        target_scale=None,
        input_center=None,
        input_scale=None,
        input_clip=False,
        random_state=0,
        lr_schedule="constant",
        warmup_fraction=0.0,
        ema_decay=None,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.member_alphas = member_alphas
        self.member_split = member_split
        self.target_shift = target_shift
        self.target_scale = target_scale
        self.input_center = input_center
        self.input_scale = input_scale
        self.input_clip = input_clip
        self.random_state = random_state
        self.lr_schedule = lr_schedule
        self.warmup_fraction = warmup_fraction
        self.ema_decay = ema_decay

    def initialize_history(self):
        self.history_ = EpochSummaryHistory()
        return self

    def initialize(self):
        super().initialize()
        self.generator_ = torch.Generator(device=torch.device(self.device))
        self.generator_.manual_seed(int(self.random_state))
        self._loss_name = (
            "cross_entropy"
            if isinstance(self.criterion_, nn.CrossEntropyLoss)
            else "squared_error"
        )
        self._loss_sum = torch.zeros(len(self.member_alphas), device=self.device)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        module = self.module_
        if module.per_member and is_scheduled(self.lr_schedule, self.warmup_fraction):
            # Members of splits with fewer steps per epoch are further along
            # their own schedule at a given step: a parameter group each, so
            # each takes its own rate (the update itself is unchanged).
            _, kwargs = self.get_params_for_optimizer(
                "optimizer", self.get_all_learnable_params()
            )
            groups = [
                {"params": module.member_parameters(k)} for k in range(module.n_members)
            ]
            self.optimizer_ = self.optimizer(groups, **kwargs)
        return self

    def _zero_grad_optimizer(self, set_to_none=None):
        # loss_and_grad assigns every .grad; zeroing first would be wasted work.
        pass

    def _set_lr(self) -> None:
        """Set the learning rate of the coming step: each member's at its own
        step count (epochs done times its steps per epoch, plus this epoch's)."""
        groups = self.optimizer_.param_groups
        factors = {}
        for k, group in enumerate(groups):
            steps = self._member_steps_list[k if len(groups) > 1 else 0]
            if steps not in factors:
                factors[steps] = lr_factor(
                    self._epochs_done * steps + self._epoch_step,
                    self.max_epochs * steps,
                    self.lr_schedule,
                    self.warmup_fraction,
                )
            group["lr"] = group.setdefault("initial_lr", group["lr"]) * factors[steps]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # Adam's running means of units whose gradient stays zero (dead ReLUs)
        # shrink by beta1 each step into float32's subnormal range (below
        # 1.2e-38; 5% of one 30-member run's second-layer moments), where
        # arithmetic is many times slower. Flushing such values to zero (a
        # step of them would move no weight measurably) made the pass about
        # 15% faster.
        with _subnormals_flushed():
            return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def get_iterator(self, dataset, training=False):
        if not training or not isinstance(dataset, MemberData):
            return super().get_iterator(dataset, training=training)
        device = dataset.device
        split = torch.as_tensor(self.member_split, device=device)
        shift, scale, center, in_scale = (
            None if t is None else torch.as_tensor(t, device=device).unsqueeze(1)
            for t in (
                self.target_shift,
                self.target_scale,
                self.input_center,
                self.input_scale,
            )
        )
        input_scaling = None
        if in_scale is not None:
            input_scaling = (center, in_scale, bool(self.input_clip))
        iterator = StackedBatchIterator(
            dataset,
            split,
            self.member_alphas,
            self.batch_size,
            self.generator_,
            target_shift=shift,
            target_scale=scale,
            input_scaling=input_scaling,
        )
        self._member_steps = iterator.member_steps()
        self._member_steps_list = [int(s) for s in self._member_steps.tolist()]
        return iterator

    def train_step(self, batch, **fit_params):
        # The gradients are closed-form, so the optimizer gets no closure to
        # re-evaluate; skorch's default callbacks ignore on_grad_computed, so
        # it is sent only to user callbacks. About 5% faster at batch 16.
        step = self.train_step_single(batch, **fit_params)
        # Members whose split has no rows left in this epoch sit the step out.
        self.module_.set_active(batch[3])
        if self._scheduled:
            self._set_lr()
            self._epoch_step += 1
        if self.callbacks:
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self._step_optimizer(None)
        if self._average is not None:
            self._average.update(batch[3])
        return step

    def train_step_single(self, batch, **fit_params):
        X, target, weight, _ = batch
        _, member_loss = self.module_.loss_and_grad(X, target, self._loss_name, weight)
        self._loss_sum += member_loss
        return {"loss": member_loss.mean(), "y_pred": None}

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self._loss_sum.zero_()
        self._epoch_step = 0

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._scheduled = is_scheduled(self.lr_schedule, self.warmup_fraction)
        self._epochs_done = 0
        self._average = None
        if self.ema_decay is not None:
            module = self.module_
            self._average = WeightAverage(
                module.stacked_parameters(), self.ema_decay, module.n_members
            )

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self._average is not None:
            self._average.copy_to()
            self._average = None
        super().on_train_end(net, X=X, y=y, **kwargs)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        member_loss = (self._loss_sum / self._member_steps).tolist()
        if not all(map(math.isfinite, member_loss)):
            raise FloatingPointError(
                f"The training loss became non-finite in epoch {len(self.history)}; "
                "try a smaller learning rate or scaling the features (e.g. "
                "StandardScaler) or, for regression, the target."
            )
        self.history.record("event_member_loss", member_loss)
        self._epochs_done += 1
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
