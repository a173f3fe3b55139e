"""Every estimator parameter once: its name, default, constraint and doc text.

The estimators' ``__init__`` signatures are written out (scikit-learn reads them),
and a test checks that they, :class:`~skmixup._mixer.MixupConfig` and
:class:`~skmixup.MixupNet` agree with this table. The estimators'
``_parameter_constraints`` and the parameter sections of their docstrings are
read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, Options, StrOptions
from ._scaling import SCALINGS
from ._schedule import LR_SCHEDULES

__all__ = [
    "MIX_ON",
    "NUM_EMBEDDINGS",
    "PAIRINGS",
    "PARAMS",
    "VARIANT_PARAMS",
    "constraints",
    "defaults",
    "parameter_docs",
]

MIX_ON = ("both", "inputs", "targets")
PAIRINGS = ("random", "same_class", "knn", "label_distance")
NUM_EMBEDDINGS = ("periodic", "piecewise_linear")
ACTIVATIONS = ("relu", "tanh", "logistic", "identity")
OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass(frozen=True)
class Param:
    """One parameter: ``type_`` and ``doc`` make its numpydoc entry."""

    name: str
    default: object
    constraints: list
    type_: str
    doc: str

    @property
    def header(self) -> str:
        """What follows ``name :`` in the docs: the type and the default."""
        return f"{self.type_}, default={_shown(self.default)}"

    def entry(self) -> str:
        """The numpydoc entry, indented for a class docstring."""
        body = "\n".join(f"        {line}" if line else "" for line in self.doc)
        return f"{self.name} : {self.header}\n{body}"


def _shown(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _p(name, default, constraints, type_, doc: str) -> Param:
    return Param(name, default, constraints, type_, tuple(doc.strip().splitlines()))


# The mixup variant: what MixupConfig holds and MixupNet takes.
_VARIANT = (
    _p(
        "alpha",
        0.2,
        [Interval(Real, 0, None, closed="left"), Options(Real, {np.inf}), "array-like"],
        "float or array-like of float",
        """
Concentration of the symmetric ``Beta(alpha, alpha)`` distribution of the
mixing coefficient ``lambda``. ``alpha=0`` is plain empirical risk
minimisation (no mixing at all), so a grid over ``alpha`` contains the
baseline; ``alpha=1`` makes ``lambda`` uniform on ``[0, 1]``; large values
centre it on 0.5 and regularise more strongly; ``alpha=np.inf`` fixes
``lambda`` at exactly 0.5 (SamplePairing's average [2]_). With
``n_mixed > 2`` the weights are ``Dirichlet(alpha, ..., alpha)``.
A sequence gives each member of an ensemble (``n_ensemble``) its own
``alpha``, cycled: ``alpha=[0, 1]`` with ``n_ensemble=4`` trains members
at 0, 1, 0, 1; it may hold at most ``n_ensemble`` values.
""",
    ),
    _p(
        "mix_on",
        "both",
        [StrOptions(set(MIX_ON))],
        '{"both", "inputs", "targets"}',
        """
What is mixed. ``"inputs"`` mixes the inputs and keeps the first sample's
target, as SamplePairing [2]_ and the paper's "inputs only" ablation do;
``"targets"`` keeps the first sample's input and mixes the targets.
""",
    ),
    _p(
        "pairing",
        "random",
        [StrOptions(set(PAIRINGS))],
        '{"random", "same_class", "knn", "label_distance"}',
        """
How each row finds its partner, after the paper's ablation [1]_.
``"random"``: a random permutation of the batch. The others draw a
partner for every training row from the whole training set, once per
epoch: ``"same_class"`` a row of the same class (classifier only);
``"knn"`` one of the ``n_neighbors`` nearest rows in input space
(Euclidean, on ``X`` as given: scale it first); ``"label_distance"``
(C-Mixup [3]_, regressor only) row ``j`` with probability proportional
to ``exp(-||y_i - y_j||**2 / (2 * label_bandwidth**2))``, never ``i``
itself. With one target the draw is exact (partners beyond four
bandwidths, of weight below ``exp(-8)``, are left out); with several
targets and over 4,096 training rows, each epoch's partners come from a
random pool of 4,096 candidate rows.
""",
    ),
    _p(
        "n_neighbors",
        5,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        """
Neighbours to choose from with ``pairing="knn"``.
""",
    ),
    _p(
        "label_bandwidth",
        1.0,
        [Interval(Real, 0, None, closed="neither")],
        "float",
        """
Kernel width of ``pairing="label_distance"``, in units of the target as
the network sees it (standardised when ``normalize_y=True``): small
values pair rows with nearly equal targets, large ones approach random
pairing.
""",
    ),
    _p(
        "manifold",
        False,
        ["boolean"],
        "bool",
        """
Manifold mixup [4]_: every batch mixes at a layer drawn uniformly from
the input and the hidden layers of the default :class:`MLP`, and the
targets are mixed alike. Trains through autograd (slower than the
default closed-form step).
""",
    ),
    _p(
        "n_mixed",
        2,
        [Interval(Integral, 2, None, closed="left")],
        "int",
        """
Samples per mixture; above 2, each row is mixed with ``n_mixed - 1``
partners with ``Dirichlet(alpha, ..., alpha)`` weights.
""",
    ),
    _p(
        "mix_probability",
        1.0,
        [Interval(Real, 0, 1, closed="both")],
        "float",
        """
Probability that a batch is mixed; the other batches train unmixed.
""",
    ),
    _p(
        "per_sample_lambda",
        False,
        ["boolean"],
        "bool",
        """
Draw one ``lambda`` (one set of weights) per row instead of one per
batch.
""",
    ),
    _p(
        "alternate_epochs",
        0,
        [Interval(Integral, 0, None, closed="left")],
        "int",
        """
When ``k > 0``, mix for ``k`` epochs, then train ``k`` epochs unmixed,
and so on (SamplePairing's on/off schedule [2]_). 0 mixes every epoch.
""",
    ),
    _p(
        "final_unmixed_epochs",
        0,
        [Interval(Integral, 0, None, closed="left")],
        "int",
        """
Train the last this many of ``max_epochs`` epochs without mixing (a
fine-tuning phase, as in SamplePairing [2]_). Must be smaller than
``max_epochs`` when ``alpha > 0``.
""",
    ),
    _p(
        "mix_embeddings",
        False,
        ["boolean"],
        "bool",
        """
With ``num_embeddings``, mix the embeddings of the rows instead of the
raw rows (with ``manifold``, draw the layer from the embeddings and the
hidden layers). The default mixes raw inputs: the network then sees
points on the segment between two rows, mixup's own definition, and the
embedding of a mixed row (a periodic or piecewise function of it) can lie
far from both rows' embeddings. Mixing embeddings is manifold mixup [4]_
at the embedding layer: it interpolates the learned representations of
each feature instead. Needs ``num_embeddings``; trains through autograd.
""",
    ),
    _p(
        "categorical_groups",
        None,
        ["array-like", None],
        "list of list of int",
        """
Column indices of one-hot blocks (one list per categorical feature,
e.g. from :func:`~skmixup.one_hot_groups`). In a mixed row each block is
taken whole from one of its samples, the first with probability
``lambda`` (with ``n_mixed > 2``, each with its mixing weight), drawn
per row and block, as CutMix (Yun et al., ICCV 2019) takes image
patches; the other columns and the targets mix as usual. Rows then hold
a category of one of their samples instead of fractions of several.
Applies where raw inputs are mixed (not with ``mix_embeddings``). None
mixes every column linearly. The indices refer to ``X`` as the estimator
receives it: fix the encoder's categories so that every fit sees the
same columns.
""",
    ),
)

# The network and its training.
_TRAINING = (
    _p(
        "scale_inputs",
        None,
        [StrOptions(set(SCALINGS)), None],
        '{"standard", "robust"} or None',
        """
Scale every input column inside the estimator, with statistics of the
rows given to ``fit`` (unweighted, as a scaler in a pipeline), and apply
the same scaling at predict time. ``None`` uses ``X`` as given, as
scikit-learn's MLP does: a network fed columns of very different scales
trains badly, so scale them first (e.g. ``StandardScaler`` in a pipeline)
or choose a scaling here. ``"standard"``: subtract each column's mean and
divide by its standard deviation; sparse ``X`` is only divided, which
keeps its zeros. ``"robust"``, as RealMLP (Holzmüller et al., 2024):
subtract the median, divide by the interquartile range (by half the
range when that is 0), then clip smoothly with
``x / sqrt(1 + (x / 3)**2)``, which leaves values near 0 almost unchanged
and keeps every value within ``(-3, 3)``; it needs dense ``X`` (centring
would fill a sparse matrix). Constant columns are only centred. The
fitted scaling is ``input_scaling_``.
""",
    ),
    _p(
        "hidden_layer_sizes",
        (128, 128),
        ["array-like", Interval(Integral, 1, None, closed="left")],
        "array-like of int",
        """
Widths of the hidden layers of the default :class:`MLP`. Ignored when
``module`` is given.
""",
    ),
    _p(
        "activation",
        "relu",
        [StrOptions(set(ACTIVATIONS))],
        '{"relu", "tanh", "logistic", "identity"}',
        """
Non-linearity of the default :class:`MLP`. Ignored when ``module`` is given.
""",
    ),
    _p(
        "dropout",
        0.0,
        [Interval(Real, 0, 1, closed="left")],
        "float",
        """
Dropout probability after each hidden layer of the default :class:`MLP`
(plain dropout, a regulariser to compare mixup with). Like ``manifold``,
it needs ``module=None`` and trains through autograd.
""",
    ),
    _p(
        "num_embeddings",
        None,
        [StrOptions(set(NUM_EMBEDDINGS)), None],
        '{"periodic", "piecewise_linear"}',
        """
Embed each input feature in a vector before the first hidden layer of
the default :class:`MLP`, after Gorishniy et al. (NeurIPS 2022), with their
package ``rtdl_num_embeddings`` (``pip install 'skmixup[embeddings]'``).
``"periodic"``: their PLR embedding, ``ReLU(Linear(cos, sin of
2 pi c x))`` with trainable frequencies ``c`` per feature.
``"piecewise_linear"``: their QLR embedding, ``ReLU(Linear(ple(x)))`` of
the piecewise-linear encoding of ``x`` in bins at quantiles of the
training rows (computed in ``fit``, after any held-out split). Every
column is embedded, one-hot ones included. None feeds the features as
they are. Needs ``module=None`` and trains through autograd; see
``mix_embeddings`` for where mixup then mixes.
""",
    ),
    _p(
        "num_embeddings_params",
        None,
        [dict, None],
        "dict",
        """
Settings of the embedding, by name: ``d_embedding`` (values per feature,
default 24), ``n_frequencies`` (48) and ``frequency_init_scale`` (the
standard deviation of the initial frequencies, 0.01, in cycles per unit
of the feature: scale the features, and tune it upwards with care, as the
authors advise) for ``"periodic"``; ``d_embedding`` and ``n_bins`` (most
bins per feature, 48) for ``"piecewise_linear"``.
""",
    ),
    _p(
        "module",
        None,
        [callable, None],
        "callable",
        """
A custom network: a ``torch.nn.Module`` class or factory, called as
``module(n_features_in, n_outputs)``, that maps a float32 batch of shape
``(n, n_features_in)`` to ``(n, n_outputs)`` logits or values. Use
:func:`functools.partial` to pass further arguments. ``None`` builds
``MLP(n_features_in, n_outputs, hidden_layer_sizes, activation)``.
Predictions evaluate the network in float64 (see :ref:`float64`), so the
module must also run with its parameters and buffers in float64.
""",
    ),
    _p(
        "max_epochs",
        100,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        """
Number of passes over the training data.
""",
    ),
    _p(
        "batch_size",
        64,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        """
Rows per training step. By default each batch draws one ``lambda`` and
pairs its rows by a random permutation.
""",
    ),
    _p(
        "lr",
        1e-3,
        [Interval(Real, 0, None, closed="neither")],
        "float",
        """
Learning rate of the optimizer.
""",
    ),
    _p(
        "lr_schedule",
        "flat_cosine",
        [StrOptions(set(LR_SCHEDULES))],
        '{"constant", "cosine", "flat_cosine"}',
        """
How the learning rate changes over the optimizer steps of the
``max_epochs`` epochs, set before every step. ``"constant"`` keeps
``lr``; ``"cosine"`` anneals it from ``lr`` towards 0 along a half
cosine; ``"flat_cosine"`` keeps ``lr`` for the first three quarters of
the steps and anneals over the last quarter alike (fastai's flat-cos).
After a warm-up (``warmup_fraction``) the schedule runs over the
remaining steps. Early stopping may end training before the anneal does.
With ``n_ensemble > 1`` every member follows it, and in the CV search
every member over its own split's steps. The default was chosen on the
benchmark's ``recipe`` suite (``benchmarks/results/recipe/findings.md``);
before it, the default was ``"constant"``.
""",
    ),
    _p(
        "warmup_fraction",
        0.0,
        [Interval(Real, 0, 1, closed="left")],
        "float",
        """
Share of the optimizer steps over which the learning rate first rises
linearly, from ``lr / n_warmup_steps`` at the first step to ``lr``, before
``lr_schedule`` takes over. ``0`` starts at ``lr``.
""",
    ),
    _p(
        "ema_decay",
        0.999,
        [Interval(Real, 0, 1, closed="left"), None],
        "float or None",
        """
Weight averaging. ``None`` predicts with the weights of the last step.
A float in ``[0, 1)`` keeps an exponential moving average of the
weights, updated after every optimizer step with the decay
``min(ema_decay, (1 + t) / (10 + t))`` at step ``t`` (the ramp keeps the
random initial weights out of short runs), and predicts with it; 0.99 to
0.999 are common. With ``early_stopping``, every epoch validates the
averaged weights and training keeps the average of the best epoch. With
``n_ensemble > 1`` every member averages its own weights, and in the CV
search every member over its own steps. The default was chosen on the
``recipe`` suite; before it, the default was ``None``.
""",
    ),
    _p(
        "weight_decay",
        0.0,
        [Interval(Real, 0, None, closed="left")],
        "float",
        """
L2 penalty (the optimizer's ``weight_decay``).
""",
    ),
    _p(
        "optimizer",
        "adam",
        [StrOptions(set(OPTIMIZERS)), callable],
        '{"adam", "adamw", "sgd"} or torch optimizer class',
        """
The optimizer; Adam and AdamW use PyTorch's fused kernel.
""",
    ),
    _p(
        "optimizer_params",
        None,
        [dict, None],
        "dict",
        """
Extra keyword arguments for the optimizer, e.g. ``{"momentum": 0.9}``.
""",
    ),
    _p(
        "early_stopping",
        False,
        ["boolean"],
        "bool",
        """
Hold out ``validation_fraction`` of the training data (stratified for
classifiers), stop when its loss has not improved by ``tol`` for
``n_iter_no_change`` epochs, and keep the best weights. The held-out rows
are never mixed.
""",
    ),
    _p(
        "validation_fraction",
        0.1,
        [Interval(Real, 0, 1, closed="neither")],
        "float",
        """
Share of the training data held out when ``early_stopping=True`` or
``calibrate=True`` (one held-out part serves both).
""",
    ),
    _p(
        "n_iter_no_change",
        10,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        """
Patience of early stopping, in epochs.
""",
    ),
    _p(
        "tol",
        1e-4,
        [Interval(Real, 0, None, closed="left")],
        "float",
        """
Minimum decrease of the validation loss that counts as an improvement.
""",
    ),
)

# Ensembles and calibration.
_ENSEMBLE = (
    _p(
        "n_ensemble",
        1,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        """
Members of the model: above 1, that many networks of the default
:class:`MLP` train side by side as one stacked network, on the same rows,
each with its own initialisation, shuffling, partners and ``lambda``
draws, and the predictions are averaged (class probabilities, or
values). Costs a few plain fits, not ``n_ensemble`` of them (see
:ref:`ensembles`). ``1`` is the plain network.
""",
    ),
    _p(
        "calibrate",
        False,
        ["boolean"],
        "bool",
        """
Fit a temperature to the predicted probabilities after training, on
``validation_fraction`` of the training rows held out from training (the
early-stopping rows when ``early_stopping=True``), unmixed: the
temperature ``T`` minimising their summed log-loss plus ``log(T)**2 / 2``
(a standard normal prior on ``log(T)``, which keeps a few held-out rows,
all classified right, from driving ``T`` to 0), applied as
``softmax(log_proba / T)`` in :meth:`predict_proba` (temperature scaling,
Guo et al., 2017). mixup makes networks under-confident, and this undoes
it. It never changes :meth:`predict`. The temperature is
``temperature_``.
""",
    ),
)

_CLASSIFICATION = (
    _p(
        "label_smoothing",
        0.1,
        [Interval(Real, 0, 1, closed="left")],
        "float",
        """
Train on smoothed class probabilities,
``(1 - label_smoothing) * onehot(y) + label_smoothing / n_classes``, as
``torch.nn.CrossEntropyLoss(label_smoothing=...)`` does; mixing is
linear, so a mixed target is the smoothed mix of its rows' targets. The
held-out rows of early stopping and calibration keep their hard labels.
``0`` trains on one-hot targets. The default was chosen on the ``recipe``
suite, by test error; before it, the default was ``0``. Smoothing makes
``predict_proba`` under-confident: if you use the probabilities, set
``calibrate=True`` or ``label_smoothing=0``.
""",
    ),
)

_REGRESSION = (
    _p(
        "normalize_y",
        True,
        ["boolean"],
        "bool",
        """
Standardise the targets (per column, from the training data) before
training and undo it at predict time. Mixing commutes with this affine map,
so it only changes the scale the optimizer sees; turn it off to train on
raw target values.
""",
    ),
)

_RUN = (
    _p(
        "device",
        "auto",
        [str],
        "str",
        """
``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
``"cuda:N"``. During ``fit`` the whole training set lives on this device.
""",
    ),
    _p(
        "n_threads",
        None,
        [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "int",
        """
PyTorch intra-op threads for ``fit`` and ``predict``. ``None`` chooses per
call: one thread when a step's work is small (tabular networks at usual
batch sizes), where threads cost more in synchronisation than they save;
otherwise PyTorch's current count (one per core by default; inside a
joblib worker of ``GridSearchCV(n_jobs=k)``, the cores divided by ``k``),
but no more than the cores other processes leave free when the call
starts (on Linux). For large networks the count, and with it the last
bits of the result, can therefore depend on the machine's load; give an
int for bit-for-bit reproducible fits.
``-1`` uses every core (``OMP_NUM_THREADS`` of them when that is set, as
in joblib's workers), a positive int that many. PyTorch's thread count is
process-wide: it is set for the duration of the call and the caller's is
restored afterwards, so other Python threads running PyTorch meanwhile
share it. Parallelise searches across processes (``n_jobs`` of
scikit-learn's searches) rather than with threads.
""",
    ),
    _p(
        "random_state",
        None,
        ["random_state"],
        "int, RandomState instance or None",
        """
The only source of randomness: weight initialisation, shuffling, the
lambdas and the partners all derive from it. An int gives identical
predictions across fits on CPU.
""",
    ),
    _p(
        "verbose",
        0,
        ["verbose"],
        "int",
        """
Print one line of losses per epoch when positive.
""",
    ),
)

_SEARCH = (
    _p(
        "alphas",
        (0.0, 0.1, 0.2, 0.4, 1.0, 2.0),
        ["array-like"],
        "array-like of float",
        """
The mixup ``alpha`` values to search. ``0`` is plain training without
mixing, so the search can choose it; the default spans the range where
the mixup paper and this project's benchmarks found the best values.
""",
    ),
    _p(
        "cv",
        5,
        ["cv_object"],
        "int, cross-validation generator or iterable",
        """
As in :class:`~sklearn.model_selection.GridSearchCV`: an int gives
:class:`~sklearn.model_selection.StratifiedKFold` for classifiers and
:class:`~sklearn.model_selection.KFold` for regressors (no shuffling);
any splitter or iterable of ``(train, test)`` index arrays works.
""",
    ),
)

PARAMS: dict[str, Param] = {
    p.name: p
    for p in _VARIANT
    + _TRAINING
    + _ENSEMBLE
    + _CLASSIFICATION
    + _REGRESSION
    + _RUN
    + _SEARCH
}
VARIANT_PARAMS = tuple(p.name for p in _VARIANT)


def defaults(names) -> dict[str, object]:
    """``{name: default}`` for ``names``."""
    return {name: PARAMS[name].default for name in names}


def constraints(names) -> dict[str, list]:
    """``_parameter_constraints`` for ``names``."""
    return {name: PARAMS[name].constraints for name in names}


def parameter_docs(names) -> str:
    """The numpydoc entries of ``names``, for a ``Parameters`` section."""
    return "\n\n    ".join(PARAMS[name].entry() for name in names)
