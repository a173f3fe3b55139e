"""The default network: a multi-layer perceptron, optionally with numerical
embeddings of its inputs."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from ._mixing import mix_many
from ._random import integers, seeded_global_generators, uniform_

NUM_EMBEDDINGS = ("periodic", "piecewise_linear")
# Bytes of a dense block of columns read at a time for quantile_bins.
_BIN_BLOCK_BYTES = 2**26

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


def _apply_derivative(activation: str, h: Tensor, grad: Tensor) -> Tensor:
    """Multiply ``grad`` in place by the activation's derivative, given its output."""
    if activation == "relu":
        return grad.mul_(h > 0)
    if activation == "tanh":
        return grad.mul_(1 - h * h)
    if activation == "logistic":
        return grad.mul_(h * (1 - h))
    return grad


def _row_loss_and_grad(out: Tensor, target: Tensor, loss: str) -> tuple[Tensor, Tensor]:
    """Loss of every row of ``out`` (outputs along the last dimension) and its
    gradient with respect to ``out``; ``target`` as floats of ``out``'s shape."""
    if loss == "cross_entropy":
        log_p = torch.log_softmax(out, dim=-1)
        row_loss = -(target * log_p).sum(dim=-1)
        grad = log_p.exp_().mul_(target.sum(dim=-1, keepdim=True)).sub_(target)
    elif loss == "squared_error":
        diff = out - target
        row_loss = diff.square().mean(dim=-1)
        grad = diff.mul_(2.0 / out.shape[-1])
    else:
        raise ValueError(
            f"loss must be 'cross_entropy' or 'squared_error', got {loss!r}."
        )
    return row_loss, grad


def _rtdl_num_embeddings():
    """The authors' package of numerical embeddings, or an error saying how to get
    it."""
    try:
        import rtdl_num_embeddings
    except ImportError as exc:
        raise ImportError(
            "num_embeddings needs the package rtdl_num_embeddings (the reference "
            "implementation by the authors of Gorishniy et al., 2022); install it "
            "with pip install 'skmixup[embeddings]', or use num_embeddings=None."
        ) from exc
    return rtdl_num_embeddings


def quantile_bins(X, n_bins: int = 48) -> list[Tensor]:
    """Bin edges of every column of ``X`` for piecewise-linear encoding.

    The distinct quantiles at ``0, 1/n_bins, ..., 1`` of each column, as in
    Section 3.2.1 of Gorishniy et al. (2022). A column with fewer than three
    distinct edges (a binary or constant column) gets two equal bins between
    its minimum and maximum (``maximum = minimum + 1`` when constant), which
    encode it linearly: every column has at least two bins.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training rows; only these set the edges.
    n_bins : int, default=48
        Most bins per column.

    Returns
    -------
    bins : list of Tensor
        Increasing float64 edges, one tensor per column.

    Examples
    --------
    >>> import numpy as np
    >>> from skmixup._modules import quantile_bins
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    >>> [b.tolist() for b in quantile_bins(X, n_bins=3)]
    [[0.0, 1.0, 2.0, 3.0], [1.0, 1.5, 2.0]]
    """
    if int(n_bins) != n_bins or n_bins < 2:
        raise ValueError(f"n_bins must be an int >= 2, got {n_bins!r}.")
    n, n_features = X.shape
    if n < 1:
        raise ValueError("quantile_bins needs at least one row.")
    levels = np.linspace(0.0, 1.0, int(n_bins) + 1)
    block = max(1, _BIN_BLOCK_BYTES // (8 * n))
    bins = []
    for start in range(0, n_features, block):
        columns = X[:, start : start + block]
        columns = columns.toarray() if sp.issparse(columns) else columns
        quantiles = np.quantile(np.asarray(columns, dtype=np.float64), levels, axis=0)
        for edges in quantiles.T:
            edges = np.unique(edges)
            if len(edges) < 3:
                low = edges[0]
                high = edges[-1] if edges[-1] > low else low + 1.0
                edges = np.array([low, (low + high) / 2, high])
            bins.append(torch.from_numpy(edges))
    return bins


def _accumulate(param: nn.Parameter, grad: Tensor) -> None:
    """Add ``grad`` to ``param.grad``, as autograd does."""
    if param.grad is None:
        param.grad = grad
    else:
        param.grad.add_(grad)


class MLP(nn.Module):
    """Fully connected network: ``Linear -> activation`` per hidden layer, then a
    final ``Linear`` that outputs logits (classification) or values (regression).

    Parameters
    ----------
    n_features_in : int
        Number of input features.
    n_outputs : int
        Number of outputs (classes, or regression targets).
    hidden_layer_sizes : sequence of int, default=(128, 128)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Probability of zeroing each hidden unit in training (dropout after every
        hidden layer); 0 adds no dropout layers.
    generator : torch.Generator, default=None
        Source of the initial weights, drawn as ``torch.nn.Linear`` draws them
        (uniform in ``+-1/sqrt(n_in)``); None uses PyTorch's global generator.
    num_embeddings : {"periodic", "piecewise_linear"}, default=None
        Embed every input feature in a vector before the first hidden layer
        (Gorishniy et al., 2022), with the authors' package
        ``rtdl_num_embeddings``: ``"periodic"`` is their PLR embedding,
        ``ReLU(Linear(concat(cos, sin)(2 pi c x)))`` with ``n_frequencies``
        trainable frequencies ``c`` per feature, initialised from
        ``N(0, frequency_init_scale)``; ``"piecewise_linear"`` their QLR
        embedding, ``ReLU(Linear(ple(x)))`` over the piecewise-linear encoding
        of ``x`` in ``bins``. Each feature has its own ``Linear`` to
        ``d_embedding`` values, and the embeddings are concatenated. None feeds
        the features to the first hidden layer as they are.
    d_embedding : int, default=24
        Values per embedded feature.
    n_frequencies : int, default=48
        Frequencies per feature of the periodic embedding.
    frequency_init_scale : float, default=0.01
        Standard deviation of the initial frequencies of the periodic
        embedding, in cycles per unit of the feature (truncated at three
        standard deviations). The authors name it the embedding's most
        important hyper-parameter: too large a value is worse than too small.
    bins : sequence of Tensor, default=None
        The bin edges of each feature for ``"piecewise_linear"``, e.g.
        ``skmixup._modules.quantile_bins`` of the training rows.

    Notes
    -----
    With embeddings, :meth:`closed_form_is_exact` is False: the network trains
    through autograd. The embeddings draw their initial values from PyTorch's
    global generator, seeded from ``generator`` (when given) for the duration
    of the construction.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for
       Numerical Features in Tabular Deep Learning", NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> from skmixup import MLP
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        n_features_in: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (128, 128),
        activation: str = "relu",
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
        *,
        num_embeddings: str | None = None,
        d_embedding: int = 24,
        n_frequencies: int = 48,
        frequency_init_scale: float = 0.01,
        bins: Sequence[Tensor] | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        layers: list[nn.Module] = []
        # Index in `layers` after which each mixable representation is complete:
        # the input (before layer 0), the embeddings (if any), then every hidden
        # layer's output.
        cuts = [0]
        n_in = int(n_features_in)
        if num_embeddings is not None:
            layers += [
                self._embedding(
                    num_embeddings,
                    n_in,
                    d_embedding,
                    n_frequencies,
                    frequency_init_scale,
                    bins,
                    generator,
                ),
                nn.Flatten(1),
            ]
            cuts.append(len(layers))
            n_in *= int(d_embedding)
        self.num_embeddings = num_embeddings
        sizes = [n_in, *map(int, hidden_layer_sizes)]
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False):
            layers += [nn.Linear(n_in, n_out), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            cuts.append(len(layers))
        layers.append(nn.Linear(sizes[-1], int(n_outputs)))
        self.layers = nn.Sequential(*layers)
        self.activation = activation
        self.dropout = float(dropout)
        self.n_outputs = int(n_outputs)
        self._cuts = tuple(cuts)
        # Plain references for loss_and_grad, which runs once per batch: module
        # attribute and Sequential index lookups are slow next to tiny matmuls.
        self._linears = tuple(m for m in layers if isinstance(m, nn.Linear))
        self._hidden_activations = tuple(
            m for m in layers if isinstance(m, tuple(_ACTIVATIONS.values()))
        )
        # For closed_form_is_exact, which runs every step: walking the module
        # tree each time took longer than a small step's arithmetic.
        self._modules_and_self = (self, self.layers, *layers)
        self._parameters_of_layers = tuple(
            p for layer in self._linears for p in (layer.weight, layer.bias)
        )
        if generator is not None:
            with torch.no_grad():
                for layer in self._linears:
                    bound = 1.0 / math.sqrt(layer.in_features)
                    uniform_(layer.weight, -bound, bound, generator)
                    uniform_(layer.bias, -bound, bound, generator)

    @staticmethod
    def _embedding(
        kind, n_features, d_embedding, n_frequencies, scale, bins, generator
    ) -> nn.Module:
        if kind not in NUM_EMBEDDINGS:
            raise ValueError(
                f"num_embeddings must be one of {NUM_EMBEDDINGS} or None, got {kind!r}."
            )
        rtdl = _rtdl_num_embeddings()
        # The package initialises from the global generator: seed it from ours
        # (the modules are built on the CPU) and restore it afterwards.
        seeded = contextlib.nullcontext()
        if generator is not None:
            seed = int(integers(2**62, (), generator))
            seeded = seeded_global_generators(seed, torch.device("cpu"))
        with seeded:
            if kind == "periodic":
                return rtdl.PeriodicEmbeddings(
                    n_features,
                    int(d_embedding),
                    n_frequencies=int(n_frequencies),
                    frequency_init_scale=float(scale),
                    lite=False,
                )
            if bins is None or len(bins) != n_features:
                raise ValueError(
                    "num_embeddings='piecewise_linear' needs bins: one tensor of "
                    f"edges for each of the {n_features} features (e.g. "
                    "quantile_bins(X_train)), got "
                    f"{'None' if bins is None else len(bins)}."
                )
            # Version "A" is the parametrisation of the 2022 paper.
            return rtdl.PiecewiseLinearEmbeddings(
                [torch.as_tensor(b) for b in bins],
                int(d_embedding),
                activation=True,
                version="A",
            )

    def forward(self, X: Tensor) -> Tensor:
        return self.layers(X)

    @property
    def n_mixable_layers(self) -> int:
        """Representations manifold mixup can mix: the input, the embeddings (with
        ``num_embeddings``) and each hidden one."""
        return len(self._cuts)

    def mixing_layers(self, embedded: bool = False) -> tuple[int, ...]:
        """The layers of :meth:`forward_mixed` that mixup mixes at: first the
        input (the raw features, or with ``embedded=True`` their embeddings),
        then each hidden layer. Plain mixup mixes at the first; manifold mixup
        draws one uniformly.

        Examples
        --------
        >>> from skmixup import MLP
        >>> MLP(4, 2, (8, 8)).mixing_layers()
        (0, 1, 2)
        >>> MLP(4, 2, (8, 8), num_embeddings="periodic").mixing_layers(embedded=True)
        (1, 2, 3)
        """
        layers = tuple(range(len(self._cuts)))
        if self.num_embeddings is None:
            if embedded:
                raise ValueError(
                    "embedded=True mixes the embeddings of the inputs, but this "
                    "MLP has none; set num_embeddings."
                )
            return layers
        return layers[1:] if embedded else layers[:1] + layers[2:]

    def forward_mixed(
        self,
        parts: Sequence[Tensor],
        weights: Tensor | float,
        layer: int,
    ) -> Tensor:
        """Forward ``parts`` separately up to ``layer``, mix there, go on mixed.

        Manifold mixup (Verma et al., 2019): ``layer=0`` mixes the inputs (plain
        mixup), ``layer=l`` the output of hidden layer ``l``. ``weights`` is
        a float ``lambda`` for two parts, or mixing weights of shape
        ``(len(parts),)`` or ``(n, len(parts))`` as for
        :func:`skmixup._mixing.mix_many`.

        Returns
        -------
        output : Tensor of shape (n, n_outputs)
        """
        if not 0 <= layer < len(self._cuts):
            raise ValueError(f"layer must be in [0, {len(self._cuts)}), got {layer!r}.")
        n = len(parts[0])
        # The parts go through the shared layers as one stacked batch.
        h = torch.cat(list(parts)) if len(parts) > 1 else parts[0]
        layers = list(self.layers)
        for module in layers[: self._cuts[layer]]:
            h = module(h)
        chunks = list(h.split(n))
        h = mix_many(chunks, weights)
        for module in layers[self._cuts[layer] :]:
            h = module(h)
        return h

    def closed_form_is_exact(self) -> bool:
        """Whether :meth:`loss_and_grad` gives what autograd would: every
        parameter trains (no frozen layer), and no hook would see the forward
        or backward pass (closed form runs neither through the modules), and
        there are no embeddings (closed form knows only linear layers)."""
        if self.num_embeddings is not None:
            return False
        if any(
            (
                nn.modules.module._global_forward_hooks,
                nn.modules.module._global_forward_pre_hooks,
                nn.modules.module._global_backward_hooks,
                nn.modules.module._global_backward_pre_hooks,
            )
        ):
            return False
        for module in self._modules_and_self:
            if (
                module._forward_hooks
                or module._forward_pre_hooks
                or module._backward_hooks
                or module._backward_pre_hooks
            ):
                return False
        for p in self._parameters_of_layers:
            if not p.requires_grad or p._backward_hooks:
                return False
            if getattr(p, "_post_accumulate_grad_hooks", None):
                return False
        return True

    @torch.no_grad()
    def loss_and_grad(
        self,
        X: Tensor,
        target: Tensor,
        loss: str,
        sample_weight: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Forward pass, loss, and its gradients added to each ``param.grad``.

        The same numbers as ``loss.backward()`` through :meth:`forward`, computed
        in closed form as scikit-learn's MLP does: for a small network, autograd's
        per-operation bookkeeping costs more than the arithmetic. Like autograd,
        it accumulates into existing gradients; it is exact only when
        :meth:`closed_form_is_exact` (callers fall back to autograd otherwise).

        Parameters
        ----------
        X : Tensor of shape (n, n_features_in)
            Input batch.
        target : Tensor
            For ``loss="cross_entropy"``: class indices of shape ``(n,)`` or class
            probabilities of shape ``(n, n_outputs)``. For
            ``loss="squared_error"``: values of shape ``(n, n_outputs)``.
        loss : {"cross_entropy", "squared_error"}
            Per-row loss (squared error averaged over outputs), averaged over rows.
        sample_weight : Tensor of shape (n,), default=None
            Row weights of a weighted mean.

        Returns
        -------
        output : Tensor of shape (n, n_outputs)
            Network output (logits or values).
        loss_value : Tensor
            The loss, a 0-d tensor.
        """
        linears = self._linears
        activations = [X]
        h = X
        for i, layer in enumerate(linears):
            h = torch.addmm(layer.bias, h, layer.weight.t())
            if i < len(linears) - 1:
                h = self._hidden_activations[i](h)
            activations.append(h)
        out = h
        if loss == "cross_entropy" and not torch.is_floating_point(target):
            target = nn.functional.one_hot(target.long(), out.shape[1]).to(out)
        row_loss, grad = _row_loss_and_grad(out, target, loss)
        if sample_weight is None:
            value = row_loss.mean()
            grad.div_(len(X))
        else:
            row_w = sample_weight / sample_weight.sum().clamp_min(1e-12)
            value = (row_loss * row_w).sum()
            grad.mul_(row_w[:, None])
        for i in range(len(linears) - 1, -1, -1):
            layer = linears[i]
            _accumulate(layer.weight, grad.t().mm(activations[i]))
            _accumulate(layer.bias, grad.sum(dim=0))
            if i > 0:
                grad = _apply_derivative(
                    self.activation, activations[i], grad.mm(layer.weight)
                )
        return out, value
