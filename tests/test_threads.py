"""PyTorch threads: chosen per fit and predict, and the caller's count restored."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

import skmixup._threads
from skmixup import (
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
)
from skmixup._threads import (
    STEP_FLOPS_FOR_THREADS,
    available_cores,
    busy_cores,
    resolve_threads,
    torch_threads,
)

FAST = {"max_epochs": 2, "batch_size": 32, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(200, 6, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture
def three_threads():
    # The suite runs on one thread (conftest); a caller's other count.
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


class ThreadRecorder(torch.nn.Module):
    """A linear module that notes the thread count of every forward pass."""

    seen: list = []

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)

    def forward(self, X):
        ThreadRecorder.seen.append(torch.get_num_threads())
        return self.linear(X)


def test_automatic_choice_is_one_thread_for_small_steps_and_all_for_large(
    three_threads, monkeypatch
):
    monkeypatch.setattr(skmixup._threads, "busy_cores", lambda: 0)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert resolve_threads(None, STEP_FLOPS_FOR_THREADS / 2) == 1
    assert resolve_threads(None, STEP_FLOPS_FOR_THREADS * 2) == three_threads
    assert resolve_threads(2, 1.0) == 2


def test_large_steps_take_only_the_cores_others_leave_free(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        for busy, expected in ((0, 4), (1, 3), (4, 1), (9, 1)):
            monkeypatch.setattr(skmixup._threads, "busy_cores", lambda b=busy: b)
            assert resolve_threads(None, STEP_FLOPS_FOR_THREADS * 2) == expected
        # Where the system does not tell, the process's count.
        monkeypatch.setattr(skmixup._threads, "busy_cores", lambda: None)
        assert resolve_threads(None, STEP_FLOPS_FOR_THREADS * 2) == 4
    finally:
        torch.set_num_threads(before)


def test_busy_cores_counts_other_processes_not_this_one_s_threads():
    busy = busy_cores()
    assert busy is None or busy >= 0


def test_minus_one_is_every_core_or_the_omp_cap(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads(-1, 1.0) == available_cores() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert available_cores() >= 1


@pytest.mark.parametrize("n_threads, expected", [(None, 1), (2, 2)])
def test_fit_and_predict_run_on_the_chosen_count_and_restore_the_caller_s(
    n_threads, expected, data, three_threads
):
    X, y = data
    ThreadRecorder.seen = []
    clf = MixupClassifier(**FAST, module=ThreadRecorder, n_threads=n_threads)
    clf.fit(X, y)
    assert torch.get_num_threads() == three_threads
    clf.predict_proba(X)
    assert torch.get_num_threads() == three_threads
    # Training's and prediction's forward passes all ran on `expected` (the
    # first two are fit's checks of the module, before it counts its work).
    assert set(ThreadRecorder.seen[2:]) == {expected}


def test_the_caller_s_count_is_restored_after_an_error(data, three_threads):
    X, y = data
    reg = MixupRegressor(**FAST, lr=1e30, optimizer="sgd", normalize_y=False)
    with pytest.raises(FloatingPointError):
        reg.set_params(n_threads=2).fit(X, y * 1e6)
    assert torch.get_num_threads() == three_threads


def test_cv_search_restores_the_caller_s_count(data, three_threads):
    X, y = data
    MixupClassifierCV(alphas=(0, 0.4), cv=2, n_threads=2, **FAST).fit(X, y)
    assert torch.get_num_threads() == three_threads


def test_scope_restores_even_when_the_count_changed_inside():
    before = torch.get_num_threads()
    with torch_threads(2):
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
    assert torch.get_num_threads() == before


class ThreadBuffer(torch.nn.Module):
    """A linear module that keeps, in a buffer, the largest thread count its
    training ran on: it travels back from joblib's worker processes."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.register_buffer("threads", torch.zeros((), dtype=torch.float64))

    def forward(self, X):
        if self.training:
            self.threads.fill_(max(float(self.threads), torch.get_num_threads()))
        return self.linear(X)


@pytest.mark.parametrize("n_threads", [None, -1])
def test_search_workers_stay_within_their_share_of_the_cores(n_threads, data):
    from sklearn.model_selection import cross_validate

    X, y = data
    clf = MixupClassifier(**FAST, module=ThreadBuffer, n_threads=n_threads)
    fitted = cross_validate(clf, X, y, cv=2, n_jobs=2, return_estimator=True)
    share = max(1, available_cores() // 2)
    for est in fitted["estimator"]:
        assert 1 <= float(est.net_.module_.threads) <= share
