"""Start joblib's worker processes ahead of a search."""

import os
import time
import warnings
from numbers import Integral

from joblib import Parallel, delayed, effective_n_jobs

_MAX_ROUNDS = 100


def _import_backend():
    from .engine.program import backend

    backend()


def _load_backend():
    _import_backend()
    # Hold this worker briefly, so that an already-warm worker cannot take
    # every task of a round while another is still starting.
    time.sleep(0.05)
    return os.getpid()


def start_workers(n_jobs):
    """Start joblib's workers, with skdl's training backend imported, ahead of a search.

    A search with ``n_jobs`` > 1 runs its fits in joblib's worker processes,
    which start on its first call, and each new worker imports Keras and its
    backend (TensorFlow: several seconds) before its first fit. Call this
    before a search in a fresh process to pay that start-up outside the
    search. The workers are the ones joblib keeps for later parallel calls
    with the same ``n_jobs`` and settings, so the search runs its fits in
    them. This process, which refits the best candidate, imports the backend
    too.

    Parameters
    ----------
    n_jobs : int or None
        The ``n_jobs`` the search will be given (``-1``: one worker per core;
        ``None``: joblib's default, 1 outside ``joblib.parallel_config``).
        Call it under the same ``joblib.parallel_config`` as the search, if
        any: a change of backend, ``n_jobs`` or ``inner_max_num_threads``
        makes joblib start new workers.

    Returns
    -------
    pids : list of int
        The process ids of the warmed workers, sorted (this process's own id
        when ``n_jobs`` resolves to 1 or the backend runs threads).

    Notes
    -----
    joblib's workers exit after 300 idle seconds; later searches then start
    new ones.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skdl import MLPClassifier, start_workers
    >>> X, y = load_iris(return_X_y=True)
    >>> len(start_workers(n_jobs=2))
    2
    >>> search = GridSearchCV(MLPClassifier((8,), max_iter=5, random_state=0),
    ...                       {"solver": ["adam", "sgd"]}, cv=2, n_jobs=2).fit(X, y)
    """
    if n_jobs is not None and (not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool)
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero integer or None, as for a search; got {n_jobs!r}.")
    _import_backend()
    n_workers = effective_n_jobs(n_jobs)
    pids = set()
    with Parallel(n_jobs=n_jobs) as parallel:
        for _ in range(_MAX_ROUNDS):
            pids.update(parallel(delayed(_load_backend)() for _ in range(n_workers)))
            if len(pids) >= n_workers or pids == {os.getpid()}:  # or thread workers
                break
        else:
            warnings.warn(f"start_workers: {len(pids)} of {n_workers} workers answered.",
                          RuntimeWarning, stacklevel=2)
    return sorted(pids)
