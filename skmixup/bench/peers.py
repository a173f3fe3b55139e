"""Peer methods from other packages (the ``peers`` extra), built only when run.

``realmlp`` and ``tabm`` are pytabkit's scikit-learn estimators with their tuned
defaults (RealMLP-TD, Holzmüller et al. 2024; TabM-D, Gorishniy et al. 2025),
which hold out a validation part of the training rows for early stopping; the
``tabm`` package itself offers only the PyTorch module. ``xgboost-cv`` is
XGBoost, searched over :data:`~skmixup.bench.suites.GRIDS` like ``hgb-cv``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import LabelEncoder

__all__ = ["LabelEncoded", "estimator"]


class LabelEncoded(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted on labels encoded as 0..K-1, predicting the labels.

    XGBoost's classifier accepts only such labels; a benchmark's may be strings
    or integers with gaps.

    Parameters
    ----------
    estimator : classifier
        The classifier to fit on the encoded labels.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self.estimator_ = clone(self.estimator).fit(X, encoder.transform(y))
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def estimator(method: str, task: str, seed: int, device: str):
    """The unfitted estimator of peer ``method`` for ``task``, on one thread."""
    clf = task == "classification"
    if method in ("realmlp", "tabm"):
        import pytabkit

        name = {"realmlp": "RealMLP_TD", "tabm": "TabM_D"}[method]
        cls = getattr(pytabkit, f"{name}_{'Classifier' if clf else 'Regressor'}")
        return cls(
            random_state=seed,
            n_threads=1,
            device=None if device == "auto" else device,
            verbosity=0,
        )
    if method == "xgboost-cv":
        import xgboost

        params = {"n_jobs": 1, "random_state": seed, "tree_method": "hist"}
        if clf:
            return LabelEncoded(xgboost.XGBClassifier(**params))
        return xgboost.XGBRegressor(**params)
    raise ValueError(f"unknown peer method {method!r}")
