"""Properties of the pure mixing core."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import skmixup
from skmixup import mix, mixup, sample_lambda, sample_partners
from skmixup._mixing import label_distance_partners

alphas = st.floats(min_value=1e-3, max_value=50.0)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@settings(deadline=None, max_examples=50)
@given(alpha=alphas, seed=seeds)
def test_lambda_in_unit_interval(alpha, seed):
    lam = sample_lambda(alpha, 500, generator=_gen(seed))
    assert lam.shape == (500,)
    assert lam.dtype == torch.float32
    assert torch.isfinite(lam).all()
    assert ((lam >= 0) & (lam <= 1)).all()


@pytest.mark.parametrize("alpha", [0.1, 0.4, 1.0, 4.0])
def test_lambda_follows_beta(alpha):
    lam = sample_lambda(alpha, 20000, generator=_gen(0), dtype=torch.float64)
    result = stats.kstest(lam.numpy(), stats.beta(alpha, alpha).cdf)
    assert result.pvalue > 1e-3


def test_lambda_shape_follows_alpha():
    g = _gen(0)
    spread = [sample_lambda(a, 5000, generator=g).std().item() for a in (0.2, 1, 8)]
    # alpha -> 0 pushes lambda to {0, 1}; large alpha centres it on 0.5.
    assert spread[0] > spread[1] > spread[2]
    uniform = sample_lambda(1.0, 20000, generator=g).numpy()
    assert stats.kstest(uniform, "uniform").pvalue > 1e-3


def test_alpha_zero_lambda_is_one():
    assert torch.equal(sample_lambda(0, 7, generator=_gen(0)), torch.ones(7))


@pytest.mark.parametrize("alpha", [-0.1, float("nan")])
def test_bad_alpha_is_rejected(alpha):
    with pytest.raises(ValueError, match="alpha must be a float >= 0"):
        sample_lambda(alpha, 3, generator=_gen(0))
    with pytest.raises(ValueError, match="alpha"):
        mixup(torch.zeros(2, 1), torch.zeros(2, 1), alpha=alpha, generator=_gen(0))


def test_same_seed_same_draws():
    a = sample_lambda(0.4, 100, generator=_gen(3))
    b = sample_lambda(0.4, 100, generator=_gen(3))
    assert torch.equal(a, b)
    assert torch.equal(
        sample_partners(50, generator=_gen(3)), sample_partners(50, generator=_gen(3))
    )


def test_no_global_rng_use():
    X = torch.randn(8, 3, generator=_gen(1))
    y = torch.rand(8, 2, generator=_gen(2))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    mixup(X, y, alpha=1.0, generator=_gen(0))
    sample_lambda(0.3, 100, generator=_gen(0))
    assert torch.equal(before, torch.get_rng_state())


@settings(deadline=None, max_examples=50)
@given(
    alpha=alphas,
    seed=seeds,
    n=st.integers(min_value=1, max_value=40),
    d=st.integers(min_value=1, max_value=6),
)
def test_mixed_rows_lie_on_their_segment(alpha, seed, n, d):
    g = _gen(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (n,), generator=g)
    Y = torch.nn.functional.one_hot(labels, 3).double()
    batch = mixup(X, Y, alpha=alpha, generator=g)
    lam = batch.lam
    assert batch.X.shape == X.shape and batch.X.dtype == X.dtype
    assert sorted(batch.index.tolist()) == list(range(n))
    expected = lam * X + (1 - lam) * X[batch.index]
    torch.testing.assert_close(batch.X, expected)
    # On the segment: between the pair, coordinate-wise.
    lo = torch.minimum(X, X[batch.index]) - 1e-12
    hi = torch.maximum(X, X[batch.index]) + 1e-12
    assert ((batch.X >= lo) & (batch.X <= hi)).all()
    # Mixed class targets are probabilities.
    torch.testing.assert_close(batch.y.sum(dim=1), torch.ones(n, dtype=torch.float64))
    assert (batch.y >= 0).all()


def test_alpha_zero_leaves_batch_untouched():
    X, y = torch.randn(10, 3), torch.rand(10, 2)
    batch = mixup(X, y, alpha=0, generator=_gen(0))
    assert batch.X is X and batch.y is y
    assert float(batch.lam) == 1.0


def test_mix_per_row_lambda():
    a, b = torch.ones(3, 2), torch.zeros(3, 2)
    out = mix(a, b, torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(out[:, 0], torch.tensor([0.0, 0.5, 1.0]))


def test_integer_targets_are_rejected():
    with pytest.raises(ValueError, match="one_hot"):
        mixup(torch.zeros(3, 2), torch.tensor([0, 1, 0]), alpha=1, generator=_gen(0))


def test_small_alpha_does_not_underflow():
    lam = sample_lambda(1e-4, 1000, generator=_gen(0), dtype=torch.float64).numpy()
    assert np.isfinite(lam).all()
    # Nearly all mass sits at 0 or 1, split roughly evenly.
    assert 0.3 < (lam > 0.5).mean() < 0.7


@pytest.mark.parametrize("n_columns", [1, 2])
def test_label_distance_partners_follow_the_kernel(n_columns):
    # One column takes the windowed rejection sampler, two the scored pool.
    y = torch.tensor([0.0, 0.3, 0.5, 1.0, 1.2, 3.0])
    targets = torch.stack([y] + [torch.zeros(6)] * (n_columns - 1), dim=1)
    bandwidth, n_draws = 0.5, 3000
    g = _gen(0)
    counts = torch.zeros(6)
    for _ in range(n_draws):
        counts[label_distance_partners(targets, bandwidth, generator=g)[2]] += 1
    kernel = torch.exp(-((y - y[2]) ** 2) / (2 * bandwidth**2))
    kernel[2] = 0  # never one's own partner
    expected = kernel / kernel.sum()
    # Three standard errors of a frequency over n_draws draws.
    tolerance = 3 * (expected * (1 - expected) / n_draws).sqrt() + 1e-3
    assert ((counts / n_draws - expected).abs() <= tolerance).all()


def test_label_distance_lone_row_still_gets_a_partner():
    y = torch.tensor([0.0, 0.01, 100.0])
    index = label_distance_partners(y, 0.1, generator=_gen(0))
    assert index.tolist()[:2] == [1, 0]
    assert index[2] != 2


def test_every_random_draw_goes_through_the_generator_device_helpers():
    # A draw without device= lands on the CPU, which a CUDA generator refuses:
    # skmixup._random is the only module that calls torch's random functions.
    package = Path(skmixup.__file__).parent
    draw = re.compile(
        r"torch\.(rand|randn|randint|randperm|bernoulli|multinomial|normal|poisson)\("
        r"|\.(uniform_|normal_|random_|bernoulli_|exponential_|cauchy_)\("
    )
    offenders = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "_random.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if draw.search(line) and not line.lstrip().startswith((">>>", "#"))
    ]
    assert offenders == []
