"""Every random draw of the package, on the device of the generator it uses.

A draw made without ``device=`` lands on the CPU, and with a CUDA generator
PyTorch refuses it; drawing only through these functions rules that out (a test
checks that no other module calls torch's random functions).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = [
    "global_seed",
    "integers",
    "normal",
    "permutation",
    "seeded_global_generators",
    "uniform",
    "uniform_",
]


def uniform(
    shape: int | tuple[int, ...],
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Uniform draws on ``[0, 1)`` of ``shape``."""
    return torch.rand(shape, generator=generator, dtype=dtype, device=generator.device)


def normal(
    shape: int | tuple[int, ...],
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard normal draws of ``shape``."""
    return torch.randn(shape, generator=generator, dtype=dtype, device=generator.device)


def uniform_(
    tensor: Tensor, low: float, high: float, generator: torch.Generator | None
) -> Tensor:
    """Fill ``tensor`` (on the generator's device) with uniform draws on
    ``[low, high)``, in place; ``generator=None`` draws from PyTorch's global
    generator of the tensor's device."""
    return tensor.uniform_(low, high, generator=generator)


def integers(
    high: int, shape: int | tuple[int, ...], generator: torch.Generator
) -> Tensor:
    """Integers drawn uniformly from ``range(high)``, of ``shape``."""
    if isinstance(shape, int):
        shape = (shape,)
    return torch.randint(high, shape, generator=generator, device=generator.device)


def permutation(n: int, generator: torch.Generator) -> Tensor:
    """A random permutation of ``range(n)``."""
    return torch.randperm(n, generator=generator, device=generator.device)


def global_seed() -> int:
    """A seed drawn from PyTorch's global CPU generator (for ``random_state=None``)."""
    return int(torch.randint(0, 2**62, ()).item())


def _cuda_index(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None
    return device.index if device.index is not None else torch.cuda.current_device()


@contextlib.contextmanager
def seeded_global_generators(seed: int, device: torch.device) -> Iterator[None]:
    """Seed the global generators that code running on ``device`` draws from
    (the CPU's, and that CUDA device's), and restore them afterwards.

    For what the package cannot hand a generator to: a user module's own
    initialisation, and dropout during training. ``torch.manual_seed`` would
    seed every CUDA device, and restoring only some of them would leave the
    others changed; here exactly the seeded generators are saved and restored.
    """
    index = _cuda_index(torch.device(device))
    devices = [] if index is None else [index]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        if index is not None:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield
