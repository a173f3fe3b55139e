"""Settings shared by every test module."""

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def empty_data_home(tmp_path_factory):
    # The UCI data home of the machine (~/skmixup_data, or SKMIXUP_DATA) must not
    # decide whether a test finds a dataset: every test starts from an empty one.
    mp = pytest.MonkeyPatch()
    mp.setenv("SKMIXUP_DATA", str(tmp_path_factory.mktemp("skmixup_data")))
    yield
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    # The test fits are small and step-overhead bound: a second thread only adds
    # synchronisation, and on a busy machine it made single fits up to 100x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
