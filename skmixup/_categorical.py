"""Where the one-hot blocks of an encoded table are, for ``categorical_groups``."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

__all__ = ["one_hot_groups"]


def one_hot_groups(transformer) -> list[list[int]]:
    """Column indices of the one-hot blocks in a fitted transformer's output.

    One list per categorical feature that a
    :class:`~sklearn.preprocessing.OneHotEncoder` encodes, in output order,
    ready for the estimators' ``categorical_groups``.
    The encoder's settings are honoured: a dropped category (``drop="first"``,
    ``"if_binary"`` or given) removes its column, and infrequent categories
    (``min_frequency``, ``max_categories``) share one; a feature left with no
    column has no block. Unknown categories (``handle_unknown="ignore"``)
    encode as an all-zero block, which mixing keeps whole like any other.

    Parameters
    ----------
    transformer : ColumnTransformer, OneHotEncoder or Pipeline, fitted
        A :class:`~sklearn.compose.ColumnTransformer` (its transformers and
        its ``remainder``, passed through or not, each in its place in the
        output, nested ones included), a ``OneHotEncoder``, or a
        :class:`~sklearn.pipeline.Pipeline` whose last step is one of these
        (earlier steps, such as an imputer, keep the columns apart). Other
        transformers' columns are numeric: no block.

    Returns
    -------
    groups : list of list of int
        Indices into the transformer's output columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.compose import ColumnTransformer
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from skmixup import one_hot_groups
    >>> X = np.array([[0.5, "a", "x"], [1.5, "b", "y"], [2.5, "c", "x"]], dtype=object)
    >>> ct = ColumnTransformer(
    ...     [("onehot", OneHotEncoder(), [1, 2])], remainder="passthrough"
    ... ).fit(X)
    >>> one_hot_groups(ct)
    [[0, 1, 2], [3, 4]]
    """
    groups = _groups(transformer, 0)
    if groups is None:
        raise TypeError(
            "one_hot_groups needs a fitted ColumnTransformer, OneHotEncoder, or a "
            "Pipeline ending in one of them; got "
            f"{type(transformer).__name__}."
        )
    return groups


def _groups(transformer, offset: int) -> list[list[int]] | None:
    """Blocks of ``transformer``'s output shifted by ``offset``; None when it is
    not a transformer whose output this function understands."""
    if isinstance(transformer, Pipeline):
        return _groups(transformer.steps[-1][1], offset)
    if isinstance(transformer, OneHotEncoder):
        check_is_fitted(transformer)
        return _encoder_groups(transformer, offset)
    if isinstance(transformer, ColumnTransformer):
        check_is_fitted(transformer)
        groups = []
        for name, inner, _ in transformer.transformers_:
            columns = transformer.output_indices_.get(name)
            if columns is None or columns.stop == columns.start:
                continue  # dropped, or no output columns
            inner_groups = _groups(inner, offset + columns.start)
            if inner_groups is not None:  # else numeric ("passthrough", scalers)
                groups += inner_groups
        return groups
    return None


def _encoder_groups(encoder: OneHotEncoder, offset: int) -> list[list[int]]:
    # infrequent_categories_ raises AttributeError unless infrequent
    # categories are enabled.
    infrequent = getattr(encoder, "infrequent_categories_", None)
    drop_idx = encoder.drop_idx_
    groups, start = [], offset
    for i, categories in enumerate(encoder.categories_):
        width = len(categories)
        if infrequent is not None and infrequent[i] is not None:
            width -= len(infrequent[i]) - 1  # one shared column
        if drop_idx is not None and drop_idx[i] is not None:
            width -= 1
        if width:
            groups.append(list(range(start, start + width)))
        start += width
    n_columns = len(encoder.get_feature_names_out())
    if start - offset != n_columns:
        raise ValueError(
            f"one_hot_groups counted {start - offset} columns for a OneHotEncoder "
            f"that outputs {n_columns}; this scikit-learn version encodes in a "
            "way it does not know. Give categorical_groups by hand."
        )
    return groups
