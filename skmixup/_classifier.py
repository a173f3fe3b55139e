"""MixupClassifier: a scikit-learn classifier trained with mixup."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMixup, fill_doc
from ._compat import _fit_context


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

    _foreign_pairing = (
        "label_distance",
        "(C-Mixup) pairs rows by the distance between regression targets",
    )

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

    def predict_proba(self, X):
        """Class probabilities, computed without any mixing.

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
        logits = self._forward(self._validate_X_predict(X))
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
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
        check_is_fitted(self)
        logits = self._forward(self._validate_X_predict(X))
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class of each row.

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
        logits = self._forward(self._validate_X_predict(X))
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags
