"""The default network: a multi-layer perceptron."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

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
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        sizes = [int(n_features_in), *map(int, hidden_layer_sizes)]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False):
            layers += [nn.Linear(n_in, n_out), _ACTIVATIONS[activation]()]
        layers.append(nn.Linear(sizes[-1], int(n_outputs)))
        self.layers = nn.Sequential(*layers)
        self.activation = activation
        self.n_outputs = int(n_outputs)
        # Plain references for loss_and_grad, which runs once per batch: module
        # attribute and Sequential index lookups are slow next to tiny matmuls.
        self._linears = tuple(m for m in layers if isinstance(m, nn.Linear))
        self._hidden_activations = tuple(layers[1:-1:2])

    def forward(self, X: Tensor) -> Tensor:
        return self.layers(X)

    @torch.no_grad()
    def loss_and_grad(
        self,
        X: Tensor,
        target: Tensor,
        loss: str,
        sample_weight: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Forward pass, loss, and its gradients written to each ``param.grad``.

        The same numbers as ``loss.backward()`` through :meth:`forward`, computed
        in closed form as scikit-learn's MLP does: for a small network, autograd's
        per-operation bookkeeping costs more than the arithmetic.

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
        if loss == "cross_entropy":
            if not torch.is_floating_point(target):
                target = nn.functional.one_hot(target.long(), out.shape[1]).to(out)
            log_p = torch.log_softmax(out, dim=1)
            row_loss = -(target * log_p).sum(dim=1)
            grad = log_p.exp_().mul_(target.sum(dim=1, keepdim=True)).sub_(target)
        elif loss == "squared_error":
            diff = out - target
            row_loss = diff.square().mean(dim=1)
            grad = diff.mul_(2.0 / out.shape[1])
        else:
            raise ValueError(
                f"loss must be 'cross_entropy' or 'squared_error', got {loss!r}."
            )
        if sample_weight is None:
            value = row_loss.mean()
            grad.div_(len(X))
        else:
            row_w = sample_weight / sample_weight.sum().clamp_min(1e-12)
            value = (row_loss * row_w).sum()
            grad.mul_(row_w[:, None])
        for i in range(len(linears) - 1, -1, -1):
            layer = linears[i]
            layer.weight.grad = grad.t().mm(activations[i])
            layer.bias.grad = grad.sum(dim=0)
            if i > 0:
                grad = _apply_derivative(
                    self.activation, activations[i], grad.mm(layer.weight)
                )
        return out, value
