"""The private APIs of scikit-learn this package uses, imported in one place.

scikit-learn's parameter validation (``_fit_context``, ``Interval``, ...) and
``_check_sample_weight`` are what its own estimators use, but private; the
upper bounds on scikit-learn in ``pyproject.toml`` are the versions CI runs
against, and a new release is admitted here, after the checks pass, by raising
them.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = ["Interval", "Options", "StrOptions", "_check_sample_weight", "_fit_context"]
