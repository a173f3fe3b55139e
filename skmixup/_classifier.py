"""MixupClassifier: a scikit-learn classifier trained with mixup."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMixup, fill_doc
from ._compat import _fit_context
from ._params import constraints


@fill_doc
class MixupClassifier(ClassifierMixin, BaseMixup):
    """Neural-network classifier trained with mixup.

    Each training batch draws ``lambda ~ Beta(alpha, alpha)`` and a random partner
    ``j`` for every row ``i``, and the network learns on
    ``lambda * x_i + (1 - lambda) * x_j`` with the soft target
    ``lambda * onehot(y_i) + (1 - lambda) * onehot(y_j)``. Mixup regularises the
    network to behave linearly between training points; ``alpha=0`` turns it off.
    The parameters from ``mix_on`` to ``final_unmixed_epochs`` select a relative
    of mixup instead: SamplePairing, same-class or nearest-neighbour partners,
    C-Mixup, manifold mixup, mixtures of more than two rows, schedules.
    Training runs on a skorch net (``net_``) built inside ``fit``.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, as given in ``y``.

    %(attributes)s

    temperature_ : float
        The temperature :meth:`predict_proba` divides the log-probabilities
        by; only with ``calibrate=True``.

    See Also
    --------
    MixupRegressor : The regressor counterpart.
    MixupNet : The skorch net underneath, for skorch users.
    sklearn.neural_network.MLPClassifier : The same network trained without mixup.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmixup import MixupClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(), MixupClassifier(alpha=0.4, max_epochs=30, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        *,
        alpha=0.2,
        mix_on="both",
        pairing="random",
        n_neighbors=5,
        label_bandwidth=1.0,
        manifold=False,
        n_mixed=2,
        mix_probability=1.0,
        per_sample_lambda=False,
        alternate_epochs=0,
        final_unmixed_epochs=0,
        mix_embeddings=False,
        categorical_groups=None,
        scale_inputs=None,
        hidden_layer_sizes=(128, 128),
        activation="relu",
        dropout=0.0,
        num_embeddings=None,
        num_embeddings_params=None,
        module=None,
        max_epochs=100,
        batch_size=64,
        lr=1e-3,
        lr_schedule="flat_cosine",
        warmup_fraction=0.0,
        ema_decay=0.999,
        weight_decay=0.0,
        optimizer="adam",
        optimizer_params=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_ensemble=1,
        label_smoothing=0.1,
        calibrate=False,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            alpha=alpha,
            mix_on=mix_on,
            pairing=pairing,
            n_neighbors=n_neighbors,
            label_bandwidth=label_bandwidth,
            manifold=manifold,
            n_mixed=n_mixed,
            mix_probability=mix_probability,
            per_sample_lambda=per_sample_lambda,
            alternate_epochs=alternate_epochs,
            final_unmixed_epochs=final_unmixed_epochs,
            mix_embeddings=mix_embeddings,
            categorical_groups=categorical_groups,
            scale_inputs=scale_inputs,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            num_embeddings=num_embeddings,
            num_embeddings_params=num_embeddings_params,
            module=module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            warmup_fraction=warmup_fraction,
            ema_decay=ema_decay,
            weight_decay=weight_decay,
            optimizer=optimizer,
            optimizer_params=optimizer_params,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            n_ensemble=n_ensemble,
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
        )
        self.label_smoothing = label_smoothing
        self.calibrate = calibrate

    _foreign_pairing = (
        "label_distance",
        "(C-Mixup) pairs rows by the distance between regression targets",
    )

    _parameter_constraints: dict = {
        **BaseMixup._parameter_constraints,
        **constraints(("label_smoothing", "calibrate")),
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on mixed batches of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training data (any numeric dtype; trained in float32).

        y : array-like of shape (n_samples,)
            Class labels: strings, integers or booleans; at least two classes.

        %(sample_weight)s

        Returns
        -------
        self : MixupClassifier
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y)
        check_classification_targets(y)
        encoder = LabelEncoder()
        codes = encoder.fit_transform(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "MixupClassifier needs samples of at least 2 classes in y; got only "
                f"one class: {self.classes_.tolist()[0]!r}."
            )
        # Class probabilities, one-hot once here: mixing them is a lerp, and X and
        # the targets can share one float buffer (see TensorBatchIterator).
        targets = np.eye(len(self.classes_), dtype=np.float32)[codes]
        return self._fit_net(
            X,
            targets,
            sample_weight,
            n_outputs=len(self.classes_),
            criterion=torch.nn.CrossEntropyLoss,
            stratify=codes,
        )

    def _train_targets(self, Y):
        if not self.label_smoothing:
            return Y
        n_classes = Y.shape[1]
        smoothed = Y * (1 - self.label_smoothing) + self.label_smoothing / n_classes
        return smoothed.astype(np.float32, copy=False)

    def _zero_output_loss(self, Y) -> float:
        # Equal logits: the cross-entropy of uniform probabilities, whatever the
        # (smoothed, mixed) targets; about where training starts.
        return math.log(Y.shape[1])

    def _combine(self, outputs: torch.Tensor) -> torch.Tensor:
        # The log of the members' mean class probabilities.
        log_proba = torch.log_softmax(outputs, dim=2)
        return torch.logsumexp(log_proba, dim=0) - math.log(len(outputs))

    def _calibrate(self, X, Y, sample_weight) -> None:
        """Temperature scaling: the ``T`` that minimises the log-loss of
        ``softmax(log_proba / T)`` on the held-out rows ``(X, Y)``, with a
        standard normal prior on ``log(T)``."""
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                f"calibrate=True: the {len(Y)} rows held out to fit the "
                f"temperature (validation_fraction={self.validation_fraction} "
                "of the rows, stratified by class) all have sample_weight 0, so "
                "they cannot say how confident the model should be; raise "
                "validation_fraction, or use calibrate=False."
            )
        log_proba = log_softmax(self._outputs(X), axis=1)
        labels = Y.argmax(axis=1)
        weight = (
            np.ones(len(labels))
            if sample_weight is None
            else sample_weight / sample_weight.mean()
        )

        def objective(log_t: float) -> float:
            scaled = log_softmax(log_proba / np.exp(log_t), axis=1)
            picked = scaled[np.arange(len(labels)), labels]
            # The held-out log-loss (summed) plus a standard normal prior on
            # log(T): with a few held-out rows, all classified right, the
            # log-loss alone keeps falling as T -> 0, and a near-zero T made
            # test log-loss several times worse on iris and wine; with
            # hundreds of rows the prior hardly moves T.
            return -float(weight @ picked) + 0.5 * log_t**2

        # T between 1/100 and 100.
        found = minimize_scalar(objective, bounds=(-np.log(100), np.log(100)))
        self.temperature_ = float(np.exp(found.x))

    def predict_proba(self, X):
        """Class probabilities, computed without any mixing.

        The members' probabilities averaged with ``n_ensemble > 1``, and
        temperature-scaled with ``calibrate=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; each row sums to 1.
        """
        check_is_fitted(self)
        scores = self._outputs(self._validate_X_predict(X))
        if hasattr(self, "temperature_"):
            return np.exp(self._log_proba(scores))
        # Logits, or the ensemble's log-probabilities: a softmax either way.
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        # The log of what predict_proba returns, as scikit-learn's MLP does: a
        # probability that underflows to 0 reads -inf here too.
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each row.

        Calibration does not change it: a temperature rescales each row's
        log-probabilities and keeps their order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        scores = self._outputs(self._validate_X_predict(X))
        return self.classes_[np.argmax(scores, axis=1)]

    def _log_proba(self, scores: np.ndarray) -> np.ndarray:
        """Log-probabilities from logits (or an ensemble's log-probabilities),
        temperature-scaled once calibrated."""
        log_proba = log_softmax(scores, axis=1)
        temperature = getattr(self, "temperature_", None)
        if temperature is None:
            return log_proba
        return log_softmax(log_proba / temperature, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags
