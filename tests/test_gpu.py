"""The CUDA paths: estimator checks and every variant on a GPU.

Skipped without one. On a machine with a CUDA GPU, run just these with
``python -m pytest -m gpu``.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import ESTIMATORS, EXPECTED_FAILED_CHECKS

from skmixup import (
    MixupClassifier,
    MixupClassifierCV,
    MixupRegressor,
    MixupRegressorCV,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

CUDA_ESTIMATORS = [clone(est).set_params(device="cuda") for est in ESTIMATORS]

# Every variant, each through the paths it takes: per-epoch premixing, per-step
# mixing (manifold), partners from the whole set, Dirichlet weights, coins.
VARIANTS = [
    {},
    {"alpha": 0},
    {"alpha": np.inf, "mix_on": "inputs", "alternate_epochs": 1},
    {"mix_on": "targets", "final_unmixed_epochs": 1},
    {"pairing": "same_class"},
    {"pairing": "knn", "n_mixed": 3},
    {"manifold": True, "per_sample_lambda": True},
    {"manifold": True, "mix_probability": 0.5},
    {"mix_probability": 0.5, "per_sample_lambda": True},
    {"n_mixed": 3, "per_sample_lambda": True},
    {"dropout": 0.2},
    {"early_stopping": True},
    {"n_ensemble": 3},
    {"n_ensemble": 3, "alpha": [0, 1.0], "calibrate": True},
    {"calibrate": True, "early_stopping": True},
    {"ema_decay": 0.9, "lr_schedule": "cosine", "early_stopping": True},
    {"n_ensemble": 3, "ema_decay": 0.9},
]


@parametrize_with_checks(
    CUDA_ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_on_cuda(estimator, check):
    check(estimator)


@pytest.mark.parametrize("params", VARIANTS)
@pytest.mark.parametrize("sparse", [False, True])
def test_every_variant_trains_on_cuda(params, sparse):
    X, y = make_classification(120, 6, n_classes=3, n_informative=4, random_state=0)
    if sparse:
        X[np.abs(X) < 0.5] = 0
        X = sp.csr_matrix(X)
    weights = np.arange(120) % 3 + 0.5
    clf = MixupClassifier(max_epochs=3, device="cuda", random_state=0, **params)
    clf.fit(X, y, sample_weight=weights)
    assert next(clf.net_.module_.parameters()).device.type == "cuda"
    assert clf.predict_proba(X).shape == (120, 3)
    again = MixupClassifier(max_epochs=3, device="cuda", random_state=0, **params)
    np.testing.assert_allclose(
        again.fit(X, y, sample_weight=weights).predict_proba(X),
        clf.predict_proba(X),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("params", [{"pairing": "label_distance"}, {}])
def test_regressor_variants_train_on_cuda(params):
    X, y = make_classification(120, 6, random_state=0)
    reg = MixupRegressor(max_epochs=3, device="cuda", random_state=0, **params)
    assert reg.fit(X, y + X[:, 0]).predict(X).shape == (120,)


@pytest.mark.parametrize("Estimator", [MixupClassifierCV, MixupRegressorCV])
def test_cv_estimators_train_on_cuda(Estimator):
    X, y = make_classification(120, 6, random_state=0)
    est = Estimator(alphas=(0, 0.4), cv=3, max_epochs=3, device="cuda")
    est.fit(X, y, sample_weight=np.arange(120) % 3 + 0.5)
    assert est.predict(X).shape == (120,)


def test_cpu_fit_on_a_gpu_machine_leaves_cuda_generators_alone():
    X, y = make_classification(120, 6, random_state=0)
    states = [torch.cuda.get_rng_state(i) for i in range(torch.cuda.device_count())]
    MixupClassifier(max_epochs=2, device="cpu", random_state=0).fit(X, y)
    for i, state in enumerate(states):
        assert torch.equal(torch.cuda.get_rng_state(i), state)
