"""Training a search's fits in stacks, then letting scikit-learn's own code use them.

A first pass fits each candidate's estimator on each split exactly as
scikit-learn's ``_fit_and_score`` does (cloned, ``set_params``, the split's
rows and fit parameters), with the engine recording instead of training, so
every skdl fit at the end of a pipeline hands over its request. The
requests are trained together (:func:`skdl.engine.train` stacks them),
and the results are kept by their requests' fingerprints. Then
scikit-learn's search runs unchanged with those results available
(:func:`skdl.engine.replay.pretrained`): each fit finds its result instead of
training, and anything not recorded (another estimator, a failing fit, an
lbfgs fit) simply trains as it would have.
"""

from contextlib import contextmanager

from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .. import engine
from .._base import BaseMLP
from ..engine import replay
from ._sklearn import check_method_params, safe_split


class FixedSplits:
    """A splitter that yields splits computed once (so both passes use the same ones).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from skdl.model_selection._stacking import FixedSplits
    >>> cv = FixedSplits(KFold(3, shuffle=True).split(np.zeros(6)))
    >>> [test.tolist() for _, test in cv.split()] == [test.tolist() for _, test in cv.split()]
    True
    """

    def __init__(self, splits):
        self.splits = [(train, test) for train, test in splits]

    def split(self, X=None, y=None, groups=None):
        yield from self.splits

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)


def final_step(estimator):
    """The estimator at the end of (nested) pipelines."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def is_stackable(estimator):
    """Whether fits of ``estimator`` can be recorded: an skdl MLP, alone or ending pipelines."""
    return isinstance(final_step(estimator), BaseMLP)


def record(estimator, X, y, candidate_params, splits, fit_params):
    """The engine requests of every (candidate, split) fit whose estimator is stackable.

    A pipeline's earlier steps are fitted once per split and per setting of
    their own parameters, and their output is reused by the candidates that
    differ only in the network's: the same steps fitted on the same rows give
    the same output.
    """
    requests, preprocessed = [], {}
    for parameters in candidate_params:
        for split, (train, _) in enumerate(splits):
            candidate = clone(estimator).set_params(**clone(parameters, safe=False))
            if not is_stackable(candidate):
                continue
            X_train, y_train = safe_split(candidate, X, y, train)
            split_params = check_method_params(X, params=fit_params, indices=train)
            shared = _preprocessing(candidate, parameters, split_params)
            try:
                with replay.recording():
                    if shared is not None:
                        key = (split, shared)
                        if key not in preprocessed:
                            preprocessed[key] = candidate[:-1].fit_transform(X_train, y_train)
                        candidate.steps[-1][1].fit(preprocessed[key], y_train)
                    elif y_train is None:
                        candidate.fit(X_train, **split_params)
                    else:
                        candidate.fit(X_train, y_train, **split_params)
            except replay.Recorded as recorded:
                requests.extend(recorded.requests)
            except Exception:  # noqa: BLE001 - scikit-learn's own pass reports it as it does
                pass
    return requests


def _preprocessing(candidate, parameters, fit_params):
    """What sets a pipeline's earlier steps in this candidate, as a key: its parameters
    that are not the network's (None where their output cannot be shared: not a
    pipeline ending in the network, fit parameters to route, or settings that are
    not plain values)."""
    if fit_params or not isinstance(candidate, Pipeline) or len(candidate.steps) < 2 \
            or not isinstance(candidate.steps[-1][1], BaseMLP):
        return None
    network = candidate.steps[-1][0]
    settings = {name: value for name, value in parameters.items()
                if name != network and not name.startswith(network + "__")}
    if not all(isinstance(value, (str, int, float, type(None))) for value in settings.values()):
        return None
    return tuple(sorted(settings.items()))


def pretrain(estimator, X, y, candidate_params, splits, fit_params):
    """``{fingerprint: result}`` for the recorded fits, trained in stacks."""
    requests = [r for r in record(estimator, X, y, candidate_params, splits, fit_params)
                if engine.stackable(r)]
    results = engine.train(requests) if requests else []
    return {request.fingerprint(): result for request, result in zip(requests, results)}


@contextmanager
def threads_see_pretrained(store):
    """Results in ``store`` available to fits in this process, and joblib's jobs kept in
    threads of this process (which see them), whatever the ``n_jobs``."""
    from joblib import parallel_config

    with replay.pretrained(store), parallel_config(backend="threading"):
        yield
