"""``cross_validate`` and ``cross_val_score`` whose fits train in stacks."""

import numpy as np
import sklearn
from sklearn import model_selection
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from .._callbacks import has_callbacks
from . import _stacking as stacking
from ._checkpoint import Checkpoint
from ._stacking import FixedSplits, Pretrained, attached, is_stackable, threads_only


def cross_validate(estimator, X, y=None, *, groups=None, scoring=None, cv=None, n_jobs=None,
                   verbose=0, params=None, pre_dispatch="2*n_jobs", return_train_score=False,
                   return_estimator=False, return_indices=False, error_score=np.nan,
                   checkpoint=None):
    """scikit-learn's :func:`~sklearn.model_selection.cross_validate`, with the skdl networks
    of every split trained together in a stack.

    Same parameters and results as scikit-learn's (see its documentation);
    when ``estimator`` is an skdl MLP estimator or a pipeline ending in one,
    the splits' networks train first, together, then scikit-learn's own
    ``cross_validate`` runs and finds them trained. With metadata routing
    enabled, or scikit-learn callbacks set on the estimator (their epochs are
    reported as they train), it is scikit-learn's ``cross_validate`` as it is.
    ``checkpoint``: a folder where the splits' fits are saved as they train, and read
    back when run again (see :class:`~skdl.model_selection.GridSearchCV`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import cross_validate
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=30,
    ...                                                      learning_rate_init=0.03, random_state=0))
    >>> scores = cross_validate(pipe, X, y, cv=5)
    >>> scores["test_score"].shape, bool(scores["test_score"].mean() > 0.8)
    ((5,), True)
    """
    arguments = dict(groups=groups, scoring=scoring, n_jobs=n_jobs, verbose=verbose, params=params,
                     pre_dispatch=pre_dispatch, return_train_score=return_train_score,
                     return_estimator=return_estimator, return_indices=return_indices,
                     error_score=error_score)
    if (not is_stackable(estimator) or has_callbacks(estimator)
            or sklearn.get_config()["enable_metadata_routing"]):
        return model_selection.cross_validate(estimator, X, y, cv=cv, **arguments)
    X, y = indexable(X, y)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = FixedSplits(splitter.split(X, y, groups))
    store = Pretrained()
    stacking.train(stacking.plan(estimator, X, y, [{}], splits.splits, params or {}), store,
                   verbose=verbose, workers=stacking.workers(n_jobs),
                   checkpoint=None if checkpoint is None else Checkpoint(checkpoint))
    with attached(store, estimator), threads_only():
        return model_selection.cross_validate(estimator, X, y, cv=splits, **arguments)


def cross_val_score(estimator, X, y=None, *, groups=None, scoring=None, cv=None, n_jobs=None,
                    verbose=0, params=None, pre_dispatch="2*n_jobs", error_score=np.nan,
                    checkpoint=None):
    """scikit-learn's :func:`~sklearn.model_selection.cross_val_score`, with the skdl networks
    of every split trained together in a stack (see :func:`cross_validate`, and its
    ``checkpoint``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import cross_val_score
    >>> X, y = load_iris(return_X_y=True)
    >>> cross_val_score(MLPClassifier((8,), max_iter=5, random_state=0), X, y, cv=3).shape
    (3,)
    """
    from sklearn.metrics import check_scoring

    scorer = check_scoring(estimator, scoring=scoring)
    results = cross_validate(estimator, X, y, groups=groups, scoring={"score": scorer}, cv=cv,
                             n_jobs=n_jobs, verbose=verbose, params=params,
                             pre_dispatch=pre_dispatch, error_score=error_score,
                             checkpoint=checkpoint)
    return results["test_score"]
