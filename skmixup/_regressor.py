"""MixupRegressor: a scikit-learn regressor trained with mixup."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMixup, fill_doc
from ._compat import _fit_context
from ._params import constraints


@fill_doc
class MixupRegressor(RegressorMixin, BaseMixup):
    """Neural-network regressor trained with mixup.

    Each training batch draws ``lambda ~ Beta(alpha, alpha)`` and a random partner
    ``j`` for every row ``i``, and the network learns to map
    ``lambda * x_i + (1 - lambda) * x_j`` to ``lambda * y_i + (1 - lambda) * y_j``
    (every output column alike). ``alpha=0`` turns mixing off. Training runs on a
    skorch net (``net_``) built inside ``fit``.

    The parameters from ``mix_on`` to ``final_unmixed_epochs`` select a relative
    of mixup instead: SamplePairing, same-class or nearest-neighbour partners,
    C-Mixup, manifold mixup, mixtures of more than two rows, schedules.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    See Also
    --------
    MixupClassifier : The classifier counterpart.
    MixupNet : The skorch net underneath, for skorch users.
    sklearn.neural_network.MLPRegressor : The same network trained without mixup.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skmixup import MixupRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = MixupRegressor(alpha=0.2, max_epochs=50, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseMixup._parameter_constraints,
        **constraints(("normalize_y",)),
    }

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
        normalize_y=True,
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
        self.normalize_y = normalize_y

    _foreign_pairing = (
        "same_class",
        "pairs rows of the same class and needs class labels",
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on mixed batches of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training data (any numeric dtype; trained in float32).

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Numeric targets; several columns train one network with several
            outputs.

        %(sample_weight)s

        Returns
        -------
        self : MixupRegressor
            The fitted estimator.
        """
        X, y = self._validate_X_y(X, y, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)
        if self.normalize_y:
            with np.errstate(over="ignore", invalid="ignore"):
                self._y_mean = Y.mean(axis=0)
                std = Y.std(axis=0)
            if not (np.isfinite(self._y_mean).all() and np.isfinite(std).all()):
                # Otherwise the scale is inf, every standardised target 0, and
                # every prediction inf or NaN.
                raise ValueError(
                    "y is too large to standardise in float64: its mean or "
                    "standard deviation overflows. Divide y by a constant (and "
                    "multiply the predictions back), e.g. with "
                    "sklearn.compose.TransformedTargetRegressor."
                )
            # A constant column keeps scale 1 instead of dividing by zero.
            self._y_scale = np.where(std > 0, std, 1.0)
        else:
            self._y_mean = np.zeros(Y.shape[1])
            self._y_scale = np.ones(Y.shape[1])
        Y = ((Y - self._y_mean) / self._y_scale).astype(np.float32)
        if not np.isfinite(Y).all():
            raise ValueError(
                "y is too large to train in float32; rescale it or set "
                "normalize_y=True."
            )
        return self._fit_net(
            X,
            Y,
            sample_weight,
            n_outputs=Y.shape[1],
            criterion=torch.nn.MSELoss,
            stratify=None,
        )

    def _zero_output_loss(self, Y) -> float:
        # The mean square of the (standardised) targets; at least 1, so that a
        # constant target, which a network fits only approximately, does not
        # count as divergence.
        return max(float(np.mean(np.square(Y))), 1.0)

    def predict(self, X):
        """Predicted targets, computed without any mixing (the members' mean
        with ``n_ensemble > 1``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Float64 predictions, shaped like the ``y`` given to ``fit``.
        """
        check_is_fitted(self)
        out = self._outputs(self._validate_X_predict(X))
        out = out * self._y_scale + self._y_mean
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
