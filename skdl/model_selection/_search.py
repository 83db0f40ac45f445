"""``GridSearchCV`` and ``RandomizedSearchCV`` whose fits train in stacks."""

import time

import numpy as np
from sklearn import model_selection
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from .. import engine
from .._callbacks import has_callbacks
from ._sklearn import check_method_params, num_samples
from ._stacking import FixedSplits, is_stackable, record, threads_see_pretrained


class StackedSearchMixin:
    """Train the candidates' fits on every split in stacks, ahead of scikit-learn's search.

    Everything else is scikit-learn's own ``BaseSearchCV``: candidates,
    splitting, routing, scoring, ``error_score``, ``cv_results_``, refit,
    callbacks. Each fit there finds its network trained already, or trains
    it (when it could not be stacked: another estimator, ``solver="lbfgs"``,
    Keras callbacks, ``verbose``, a fit that fails). With scikit-learn
    callbacks (``set_callbacks``) on the search or on an estimator inside
    it, each epoch of each fit is reported as it trains, so the search
    trains one fit at a time, as scikit-learn's does.
    """

    def fit(self, X, y=None, **params):
        """Run fit with all sets of parameters (see scikit-learn's ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        **params : dict
            Parameters passed to the estimator's ``fit``, the scorer and the
            splitter, as scikit-learn routes them.

        Returns
        -------
        self : object
        """
        self.stacking_ = {"fits": 0, "refits": 0, "stacks": 0, "train_time": 0.0}
        if not is_stackable(self.estimator) or has_callbacks(self):
            return super().fit(X, y, **params)
        self._pretrained, self._stacking_input = {}, (X, y, params)
        try:
            with threads_see_pretrained(self._pretrained):
                return super().fit(X, y, **params)
        finally:
            del self._pretrained, self._stacking_input

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        context = {} if callback_ctx is None else {"callback_ctx": callback_ctx}
        if not hasattr(self, "_stacking_input"):
            return super()._run_search(evaluate_candidates, **context)
        X, y, params = self._stacking_input
        X, y = indexable(X, y)
        params = check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)

        def stacked(candidate_params, cv=None, more_results=None, **kwargs):
            candidate_params = list(candidate_params)
            splitter = cv or check_cv(self.cv, y, classifier=is_classifier(self.estimator))
            splits = FixedSplits(splitter.split(X, y, **routed.splitter.split))
            self._train_stacks(X, y, candidate_params, splits.splits, routed.estimator.fit)
            return evaluate_candidates(candidate_params, splits, more_results, **kwargs)

        return super()._run_search(stacked, **context)

    #: Up to this many candidates, every candidate's refit on all the data trains in the
    #: stacks too (the refit then finds its network ready): cheaper than compiling and
    #: training the one refit that is kept on its own afterwards.
    MAX_SPECULATIVE_REFITS = 16

    def _train_stacks(self, X, y, candidate_params, splits, fit_params):
        start = time.perf_counter()
        requests = [r for r in record(self.estimator, X, y, candidate_params, splits, fit_params)
                    if engine.stackable(r)]
        refits = []
        if self.refit and len(candidate_params) <= self.MAX_SPECULATIVE_REFITS:
            everything = [(np.arange(num_samples(X)), np.arange(0))]
            refits = [r for r in record(self.estimator, X, y, candidate_params, everything, fit_params)
                      if engine.stackable(r)]
        results = engine.train(requests + refits) if requests or refits else []
        self._pretrained.update((r.fingerprint(), result)
                                for r, result in zip(requests + refits, results))
        self.stacking_["fits"] += len(requests)
        self.stacking_["refits"] += len(refits)
        self.stacking_["stacks"] += len(engine.stacks(requests + refits))
        self.stacking_["train_time"] += time.perf_counter() - start


_ATTRIBUTE_DOC = """
    Attributes
    ----------
    stacking_ : dict
        ``"fits"``: how many of the search's fits trained in stacks ahead of
        it; ``"refits"``: how many candidates' refits on all the data trained
        with them (small searches train every candidate's, so that the one
        kept is ready); ``"stacks"``: in how many stacks; ``"train_time"``:
        the seconds that took (the ``fit_time`` of ``cv_results_`` leaves it
        out). All zero when nothing was stacked (e.g. with scikit-learn
        callbacks set). Besides it, every attribute of scikit-learn's class.
"""


class GridSearchCV(StackedSearchMixin, model_selection.GridSearchCV):
    __doc__ = f"""scikit-learn's :class:`~sklearn.model_selection.GridSearchCV`, with the skdl
    networks of every candidate and split trained together in stacks.

    Same parameters, methods and results as scikit-learn's (see its
    documentation): ``cv_results_``, ``best_*``, refit, multi-metric scoring,
    ``error_score``, groups, routed fit parameters, ``n_jobs``. When the
    estimator is an skdl MLP estimator, or a pipeline ending in one, each
    candidate's preprocessing is fitted per split as scikit-learn fits it
    and the networks of all splits and candidates train in stacks: one
    compiled step trains many networks. Other fits run one at a time as in
    scikit-learn. Give the network a ``random_state``: a fit whose seed is
    drawn afresh each time cannot be matched with its stacked twin and
    trains again. See :ref:`stacked-searches`.
    {_ATTRIBUTE_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import GridSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, batch_size=32,
    ...                                                      random_state=0))
    >>> grid = {{"mlpclassifier__learning_rate_init": [0.01, 0.03],
    ...         "mlpclassifier__hidden_layer_sizes": [(8,), (16,)]}}
    >>> search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    >>> search.stacking_["fits"], search.stacking_["refits"], search.stacking_["stacks"]
    (12, 4, 1)
    >>> bool(search.best_score_ > 0.8)
    True
    """


class RandomizedSearchCV(StackedSearchMixin, model_selection.RandomizedSearchCV):
    __doc__ = f"""scikit-learn's :class:`~sklearn.model_selection.RandomizedSearchCV`, with the
    skdl networks of every candidate and split trained together in stacks.

    Same parameters, methods and results as scikit-learn's; see
    :class:`GridSearchCV` for what is stacked and :ref:`stacked-searches`.
    {_ATTRIBUTE_DOC}
    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import RandomizedSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {{"learning_rate_init": loguniform(1e-3, 1e-1), "alpha": loguniform(1e-5, 1e-1)}}
    >>> search = RandomizedSearchCV(MLPClassifier((8,), max_iter=20, random_state=0), space,
    ...                             n_iter=4, cv=3, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"]), search.stacking_["fits"]
    (4, 12)
    """
