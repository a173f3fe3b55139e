"""Benchmark suites: which datasets, which methods, which training budget.

Methods are named by strings:

* ``erm``: :class:`~skmixup.MixupClassifier` / :class:`~skmixup.MixupRegressor`
  with ``alpha=0`` (plain empirical risk minimisation);
* ``mixup-<alpha>``: the same network with a fixed ``alpha``, e.g. ``mixup-0.4``;
* ``mixup-cv``: ``alpha`` chosen from the suite's ``alpha_grid`` (which includes 0)
  by inner cross-validation (:class:`~sklearn.model_selection.GridSearchCV`);
* ``sklearn-mlp``: scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` with the same
  hidden layers, batch size and epochs, its other settings left at their defaults;
* ``hgb``: ``HistGradientBoostingClassifier`` / ``Regressor`` with defaults.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

__all__ = ["PUBLISHED", "SUITES", "Suite", "method_alpha"]


@dataclass(frozen=True)
class Suite:
    """One benchmark protocol.

    Each (dataset, method, repeat) is one run. A repeat is a fresh random
    train/test split (``test_size``, stratified when possible) and seed, shared by
    every method, so methods are compared on the same splits; datasets with
    predefined splits use split number ``repeat`` instead.
    """

    name: str
    description: str
    datasets: tuple[str, ...]
    methods: tuple[str, ...]
    repeats: int  # for predefined splits: at most this many of them
    max_epochs: int
    min_epochs: int  # with target_steps: small sets get more epochs, up to max
    target_steps: int  # 0: always max_epochs
    batch_size: int = 64
    lr: float = 1e-3
    hidden_layer_sizes: tuple[int, ...] = (128, 128)
    test_size: float = 0.2
    alpha_grid: tuple[float, ...] = (0.0, 0.1, 0.4, 1.0)
    cv: int = 3
    # Median-impute and standardise numeric features (fit on the training part);
    # False only imputes. Categorical columns are one-hot encoded either way.
    standardize: bool = True
    # Datasets that use fewer predefined splits than `repeats`, and how many.
    max_splits: tuple[tuple[str, int], ...] = ()

    def epochs(self, n_train: int) -> int:
        """Epochs for ``n_train`` rows: about ``target_steps`` gradient steps."""
        if not self.target_steps:
            return self.max_epochs
        per_epoch = math.ceil(n_train / self.batch_size)
        wanted = math.ceil(self.target_steps / per_epoch)
        return max(self.min_epochs, min(self.max_epochs, wanted))

    def n_repeats(self, dataset: str, n_splits: int) -> int:
        """Repeats of ``dataset``, which has ``n_splits`` predefined splits (or 0)."""
        n = self.repeats if not n_splits else min(self.repeats, n_splits)
        return min(n, dict(self.max_splits).get(dataset, n))

    def with_overrides(self, **changes) -> Suite:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Suite:
        """A suite from :meth:`as_dict` output, e.g. read back from JSON."""
        data = dict(data)
        for name in ("datasets", "methods", "hidden_layer_sizes", "alpha_grid"):
            if name in data:
                data[name] = tuple(data[name])
        if "max_splits" in data:
            data["max_splits"] = tuple(tuple(pair) for pair in data["max_splits"])
        return cls(**data)


def method_alpha(method: str) -> float | None:
    """The fixed ``alpha`` of an ``erm``/``mixup-<alpha>`` method, else None."""
    if method == "erm":
        return 0.0
    if method.startswith("mixup-") and method != "mixup-cv":
        return float(method.removeprefix("mixup-"))
    return None


PAPER_DATASETS = tuple(
    f"uci:{n}" for n in ("abalone", "arcene", "arrhythmia", "htru2", "iris", "phishing")
)
UCI_REGRESSION = tuple(
    f"uci:{n}"
    for n in (
        "boston", "concrete", "energy", "kin8nm", "naval", "power", "protein",
        "wine-red", "yacht",
    )
)  # fmt: skip
BUILTIN_DATASETS = (
    "sklearn:iris",
    "sklearn:wine",
    "sklearn:breast_cancer",
    "sklearn:digits",
    "sklearn:diabetes",
)

SUITES: dict[str, Suite] = {
    "default": Suite(
        name="default",
        description=(
            "scikit-learn's bundled UCI-origin sets; ERM vs mixup at three alphas "
            "and gradient boosting; runs offline in a few minutes"
        ),
        datasets=BUILTIN_DATASETS,
        methods=("erm", "mixup-0.1", "mixup-0.4", "mixup-1.0", "hgb"),
        repeats=5,
        max_epochs=200,
        min_epochs=20,
        target_steps=1500,
        batch_size=32,
    ),
    "paper": Suite(
        name="paper",
        description=(
            "Zhang et al. (2018), Table 4: 2x128 ReLU MLP, Adam (lr 1e-3), 10 "
            "epochs, batch 16; ERM vs mixup (alpha=1.0 is the declared headline)"
        ),
        datasets=PAPER_DATASETS,
        methods=("erm", "mixup-0.1", "mixup-0.2", "mixup-0.4", "mixup-1.0"),
        repeats=10,
        max_epochs=10,
        min_epochs=10,
        target_steps=0,
        batch_size=16,
    ),
    "tuned": Suite(
        name="tuned",
        description=(
            "alpha chosen by 3-fold inner CV from {0, 0.1, 0.4, 1.0}, against ERM, "
            "scikit-learn's MLP (same layers, batch and epochs) and gradient boosting"
        ),
        datasets=PAPER_DATASETS,
        methods=("erm", "mixup-cv", "sklearn-mlp", "hgb"),
        repeats=5,
        max_epochs=200,
        min_epochs=20,
        target_steps=3000,
        batch_size=32,
    ),
    "uci-regression": Suite(
        name="uci-regression",
        description=(
            "Hernandez-Lobato & Adams (2015) regression suite on its fixed splits; "
            "ERM vs mixup; RMSE next to MC dropout's published numbers"
        ),
        datasets=UCI_REGRESSION,
        methods=("erm", "mixup-0.1", "mixup-0.4"),
        repeats=20,
        max_epochs=400,
        min_epochs=40,
        target_steps=5000,
        batch_size=64,
        test_size=0.1,
    ),
}
SUITES["paper-raw"] = replace(
    SUITES["paper"],
    name="paper-raw",
    description=(
        "the paper suite without standardising the features: a probe of how "
        "much of the gap to the paper's numbers preprocessing explains"
    ),
    standardize=False,
)

# Published reference numbers, shown next to ours (never used in any computation).
PUBLISHED: dict[str, dict[str, dict[str, float]]] = {
    # Zhang et al., arXiv 1710.09412v1, Table 4: test error (%), ERM and mixup.
    "paper": {
        "abalone": {"erm": 74.0, "mixup": 73.6},
        "arcene": {"erm": 57.6, "mixup": 48.0},
        "arrhythmia": {"erm": 56.6, "mixup": 46.3},
        "htru2": {"erm": 2.0, "mixup": 2.0},
        "iris": {"erm": 21.3, "mixup": 17.3},
        "phishing": {"erm": 16.3, "mixup": 15.2},
    },
    # Gal & Ghahramani, MC dropout, updated results in their repository: test RMSE.
    "uci-regression": {
        "boston": {"mc-dropout": 2.80},
        "concrete": {"mc-dropout": 4.81},
        "energy": {"mc-dropout": 1.09},
        "kin8nm": {"mc-dropout": 0.09},
        "naval": {"mc-dropout": 0.00},
        "power": {"mc-dropout": 4.00},
        "protein": {"mc-dropout": 4.27},
        "wine-red": {"mc-dropout": 0.61},
        "yacht": {"mc-dropout": 0.72},
    },
}
PUBLISHED["tuned"] = PUBLISHED["paper-raw"] = PUBLISHED["paper"]
