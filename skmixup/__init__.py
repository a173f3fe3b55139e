"""skmixup: mixup as a searchable hyper-parameter of scikit-learn estimators."""

from ._categorical import one_hot_groups
from ._classifier import MixupClassifier
from ._cv import MixupClassifierCV, MixupRegressorCV
from ._data import ArrayDataset, TensorBatchIterator
from ._mixing import MixedBatch, mix, mixup, sample_lambda, sample_partners
from ._modules import MLP
from ._net import MixupNet
from ._regressor import MixupRegressor

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "ArrayDataset",
    "MixedBatch",
    "MixupClassifier",
    "MixupClassifierCV",
    "MixupNet",
    "MixupRegressor",
    "MixupRegressorCV",
    "TensorBatchIterator",
    "__version__",
    "mix",
    "mixup",
    "one_hot_groups",
    "sample_lambda",
    "sample_partners",
]
