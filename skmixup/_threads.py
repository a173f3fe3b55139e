"""How many PyTorch threads a fit or a prediction runs on, and a scope that sets it.

PyTorch's intra-op thread count is one setting for the whole process. Its
default, one thread per core, suits large matrices; a tabular network's steps
are small, so threads add synchronisation and save little, and beside other
work each synchronisation can wait a whole scheduler slice. The estimators
therefore choose a count for their own work, set it for the duration of
``fit`` or ``predict``, and put the caller's back afterwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

__all__ = [
    "available_cores",
    "busy_cores",
    "n_params",
    "resolve_threads",
    "torch_threads",
    "work_flops",
]

# Floating-point operations per step above which more threads pay on a quiet
# machine; below it one thread is as fast or faster. See benchmarks/threads.py
# and its committed output, benchmarks/results/speed/threads.md: on 2 cores,
# every core was no faster than one up to 3e7 and faster from 1.4e8; beside
# busy processes it was slower at every size, hence the load check below.
STEP_FLOPS_FOR_THREADS = 5e7


def n_params(module: torch.nn.Module) -> int:
    """Weights of ``module``: for dense layers, its multiply-adds per row."""
    return sum(p.numel() for p in module.parameters())


def work_flops(n_rows: int, n_params: int, backward: bool = True) -> float:
    """Floating-point operations of ``n_rows`` rows through a network of
    ``n_params`` weights, as for dense layers: a multiply-add per weight and
    row, two operations each, three times that with the backward pass."""
    return 2.0 * n_rows * n_params * (3 if backward else 1)


def available_cores() -> int:
    """Cores this process may use: ``OMP_NUM_THREADS`` when set (the standard
    cap, which joblib's worker processes set to their share of the cores), else
    every core it may run on."""
    try:
        capped = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        capped = 0
    if capped > 0:
        return capped
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def busy_cores() -> int | None:
    """Threads of other processes running or waiting for a core right now, or
    None where the system does not say (Linux's ``/proc/loadavg`` does)."""
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        own = 0
        for task in Path("/proc/self/task").iterdir():
            # The state follows the parenthesised thread name.
            stat = (task / "stat").read_text()
            own += stat[stat.rindex(")") + 2] == "R"
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - own)


def resolve_threads(n_threads: int | None, step_flops: float) -> int:
    """The number of threads for work of ``step_flops`` per step.

    ``n_threads=None`` is automatic: one thread for small steps; for large ones
    the process's current count (``torch.get_num_threads()``: one per core by
    default, fewer inside a joblib worker or wherever the caller lowered it),
    but no more than the cores that other processes leave free right now. So
    on a busy machine, or for a small network, it is one thread. ``-1`` is
    :func:`available_cores`; a positive int is that many.
    """
    if n_threads is None:
        if step_flops < STEP_FLOPS_FOR_THREADS:
            return 1
        n = torch.get_num_threads()
        busy = busy_cores()
        if busy is not None:
            n = min(n, available_cores() - busy)
        return max(1, n)
    if n_threads == -1:
        return available_cores()
    return int(n_threads)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` PyTorch intra-op threads, then restore the count.

    The count is process-wide: other Python threads that run PyTorch at the
    same time share it.
    """
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
