"""``GridSearchCV`` and ``RandomizedSearchCV`` whose fits train in stacks."""

import sys
import time
from math import floor, log

import numpy as np
from sklearn import model_selection
from sklearn.experimental import enable_halving_search_cv  # scikit-learn's halving searches
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from .. import engine
from .._callbacks import has_callbacks
from ._sklearn import check_method_params, num_samples
from . import _stacking as stacking
from ._checkpoint import Checkpoint
from ._stacking import FixedSplits, Pretrained, attached, is_stackable, threads_only

del enable_halving_search_cv  # imported for its effect: scikit-learn's halving classes


class StackedSearchMixin:
    """Train the candidates' fits on every split in stacks, ahead of scikit-learn's search.

    Everything else is scikit-learn's own ``BaseSearchCV``: candidates,
    splitting, routing, scoring, ``error_score``, ``cv_results_``, refit,
    callbacks. Each fit there finds its network trained already, or trains
    it (when it could not be stacked: another estimator, Keras callbacks,
    ``verbose``, a fit that fails). With scikit-learn
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
        self.stacking_ = {"fits": 0, "refits": 0, "continued": 0, "checkpointed": 0, "stacks": 0,
                          "host_stacks": 0, "programs": 0, "train_time": 0.0}
        if not is_stackable(self.estimator) or has_callbacks(self):
            return super().fit(X, y, **params)
        self._checkpoint = None if self.checkpoint is None else Checkpoint(self.checkpoint)
        # Finished fits are kept for later rounds to continue only where there are rounds.
        self._pretrained = Pretrained()
        self._finished = Pretrained() if self._continues_fits else None
        self._stacking_input, self._workers = (X, y, params), stacking.workers(self.n_jobs)
        try:
            with attached(self._pretrained, self.estimator), threads_only():
                return super().fit(X, y, **params)
        finally:
            del self._pretrained, self._finished, self._stacking_input, self._workers, self._checkpoint

    #: Whether a later round's fits may continue an earlier round's (halving searches).
    _continues_fits = False

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
            self._train_stacks(X, y, candidate_params, splits.splits, routed.estimator.fit,
                               more_results)
            with attached(self._pretrained, *candidate_params):
                return evaluate_candidates(candidate_params, splits, more_results, **kwargs)

        return super()._run_search(stacked, **context)

    #: Up to this many candidates, every candidate's refit on all the data trains in the
    #: stacks too (the refit then finds its network ready): cheaper than compiling and
    #: training the one refit that is kept on its own afterwards.
    MAX_SPECULATIVE_REFITS = 16

    def _refits_ahead(self, candidate_params, more_results):
        """Whether this round's candidates' refits train in its stacks."""
        return len(candidate_params) <= self.MAX_SPECULATIVE_REFITS

    def _train_stacks(self, X, y, candidate_params, splits, fit_params, more_results=None):
        start = time.perf_counter()
        inputs = stacking.unsplit_inputs(X)
        with stacking.planned_models():  # the fits and refits of a seeded wrapper's candidate
            plans = stacking.plan(self.estimator, X, y, candidate_params, splits, fit_params,
                                  inputs)
            refits = []
            if self.refit and self._refits_ahead(candidate_params, more_results):
                everything = [(np.arange(num_samples(X)), np.arange(0))]
                refits = stacking.plan(self.estimator, X, y, candidate_params, everything,
                                       fit_params, inputs)
        counts = stacking.train(plans + refits, self._pretrained, self._finished, self.verbose,
                                self._workers, self._checkpoint)
        self.stacking_["fits"] += sum(engine.stackable(p.request) for p in plans)
        self.stacking_["refits"] += sum(engine.stackable(p.request) for p in refits)
        for name in ("continued", "checkpointed", "stacks", "host_stacks", "programs"):
            self.stacking_[name] += counts[name]
        self.stacking_["train_time"] += time.perf_counter() - start
        if self.verbose > 0:
            print(f"[skdl] {len(plans) + len(refits)} fits in {counts['stacks']} stacks "
                  f"({counts['host_stacks']} on the host), {counts['programs']} programs compiled, "
                  f"{time.perf_counter() - start:.1f} s", file=sys.stderr)


_ATTRIBUTE_DOC = """
    Attributes
    ----------
    stacking_ : dict
        ``"fits"``: how many of the search's fits trained in stacks ahead of
        it; ``"refits"``: how many candidates' refits on all the data trained
        with them (small searches train every candidate's, so that the one
        kept is ready); ``"continued"``: how many fits of a halving search
        over ``max_iter`` continued a survivor's shorter fit (or took it as it
        was, when it had stopped early) instead of training from the start;
        ``"stacks"``: in how many stacks; ``"host_stacks"``: how many of those
        trained on the host, in NumPy, compiling nothing; ``"programs"``: how
        many programs the search compiled (in this process: not those of
        ``n_jobs``' workers); ``"train_time"``:
        the seconds that took (the ``fit_time`` of ``cv_results_`` leaves it
        out); ``"checkpointed"``: how many fits were read from ``checkpoint``
        instead of trained. All zero when nothing was stacked (e.g. with
        scikit-learn callbacks set). Besides it, every attribute of
        scikit-learn's class.
"""

_CHECKPOINT_DOC = """
    Parameters
    ----------
    checkpoint : str or path-like, default=None
        A folder (created if missing) where each stack's finished fits are
        saved as they end; run again with the same arguments (after a crash, a
        killed notebook), the search reads the fits it finds there and trains
        only the missing ones: ``cv_results_`` as an uninterrupted run's. An
        entry belongs to its fit's data, folds, settings, seed and skdl version;
        a damaged or foreign one is trained again, with a warning. Entries are
        pickles: use folders that you write. Besides it, scikit-learn's
        parameters.
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
    scikit-learn. A network with ``random_state=None`` stacks too: each of
    its fits is trained once, with a seed of its own drawn when the search
    plans it. See :ref:`stacked-searches`.
    {_CHECKPOINT_DOC}{_ATTRIBUTE_DOC}
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

    def __init__(self, estimator, param_grid, *, scoring=None, n_jobs=None, refit=True, cv=None,
                 verbose=0, pre_dispatch="2*n_jobs", error_score=np.nan, return_train_score=False,
                 checkpoint=None):
        super().__init__(estimator, param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
                         verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)
        self.checkpoint = checkpoint


class RandomizedSearchCV(StackedSearchMixin, model_selection.RandomizedSearchCV):
    __doc__ = f"""scikit-learn's :class:`~sklearn.model_selection.RandomizedSearchCV`, with the
    skdl networks of every candidate and split trained together in stacks.

    Same parameters, methods and results as scikit-learn's; see
    :class:`GridSearchCV` for what is stacked and :ref:`stacked-searches`.
    {_CHECKPOINT_DOC}{_ATTRIBUTE_DOC}
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

    def __init__(self, estimator, param_distributions, *, n_iter=10, scoring=None, n_jobs=None,
                 refit=True, cv=None, verbose=0, pre_dispatch="2*n_jobs", random_state=None,
                 error_score=np.nan, return_train_score=False, checkpoint=None):
        super().__init__(estimator, param_distributions, n_iter=n_iter, scoring=scoring,
                         n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, random_state=random_state,
                         error_score=error_score, return_train_score=return_train_score)
        self.checkpoint = checkpoint


class _HalvingStacks:
    """What the halving searches change in :class:`StackedSearchMixin`: the candidates'
    refits train ahead only in the last round, the one the refit's candidate comes from;
    a survivor's fit continues its previous round's."""

    _continues_fits = True

    def _refits_ahead(self, candidate_params, more_results):
        iteration = more_results["iter"][0]
        # scikit-learn's own count of the rounds (BaseSuccessiveHalving._run_search, which
        # has listed this round's candidates in n_candidates_ already).
        required = 1 + floor(log(self.n_candidates_[0], self.factor))
        possible = 1 + floor(log(self.max_resources_ // self.min_resources_, self.factor))
        rounds = required if self.aggressive_elimination else min(possible, required)
        return iteration == rounds - 1 and super()._refits_ahead(candidate_params, more_results)


_HALVING_DOC = """
    Each round's fits train in stacks. With ``resource="n_samples"`` (the
    default) a round's subsamples are scikit-learn's. With an epoch budget as
    the resource (``resource="max_iter"``, or ``"mlpclassifier__max_iter"``
    in a pipeline), a survivor's fit continues from where its previous
    round's ended instead of training again: its shuffles, dropout draws and
    learning-rate schedule go on where they stood, so training 5 epochs and
    then 10 more gives the network 15 epochs at once give (to float32 rounding),
    and a fit that stopped early (``tol``) is already what a longer budget
    gives. Fits that cannot continue train again: ``early_stopping=True``
    (its weights are its best epoch's, not its last's), ``solver="lbfgs"``,
    Keras callbacks. scikit-learn raises its own errors for a bad
    ``resource``, ``min_resources`` or ``factor``.
"""


class HalvingGridSearchCV(_HalvingStacks, StackedSearchMixin,
                          model_selection.HalvingGridSearchCV):
    __doc__ = f"""scikit-learn's :class:`~sklearn.model_selection.HalvingGridSearchCV`, with
    the skdl networks of each round trained together in stacks.

    Same parameters, methods and results as scikit-learn's (see its
    documentation): ``cv_results_`` with ``iter`` and ``n_resources``,
    ``n_resources_``, ``n_candidates_``, ``n_remaining_candidates_``,
    ``best_*``, refit. No ``from sklearn.experimental import
    enable_halving_search_cv`` is needed: importing
    :mod:`skdl.model_selection` enables scikit-learn's.
    {_HALVING_DOC}{_CHECKPOINT_DOC}{_ATTRIBUTE_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import HalvingGridSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> grid = {{"learning_rate_init": [0.003, 0.01, 0.03], "alpha": [1e-4, 1e-3, 1e-2]}}
    >>> search = HalvingGridSearchCV(MLPClassifier((8,), random_state=0), grid, cv=3,
    ...                              resource="max_iter", min_resources=5, max_resources=45,
    ...                              factor=3).fit(X, y)
    >>> search.n_resources_, search.n_candidates_
    ([5, 15, 45], [9, 3, 1])
    >>> search.stacking_["continued"]  # survivors' fits continued: 3 candidates x 3, then 1 x 3
    12
    """

    def __init__(self, estimator, param_grid, *, factor=3, resource="n_samples",
                 max_resources="auto", min_resources="exhaust", aggressive_elimination=False, cv=5,
                 scoring=None, refit=True, error_score=np.nan, return_train_score=True,
                 random_state=None, n_jobs=None, verbose=0, checkpoint=None):
        super().__init__(estimator, param_grid, factor=factor, resource=resource,
                         max_resources=max_resources, min_resources=min_resources,
                         aggressive_elimination=aggressive_elimination, cv=cv, scoring=scoring,
                         refit=refit, error_score=error_score,
                         return_train_score=return_train_score, random_state=random_state,
                         n_jobs=n_jobs, verbose=verbose)
        self.checkpoint = checkpoint


class HalvingRandomSearchCV(_HalvingStacks, StackedSearchMixin,
                            model_selection.HalvingRandomSearchCV):
    __doc__ = f"""scikit-learn's :class:`~sklearn.model_selection.HalvingRandomSearchCV`, with
    the skdl networks of each round trained together in stacks.

    Same parameters, methods and results as scikit-learn's; see
    :class:`HalvingGridSearchCV`.
    {_HALVING_DOC}{_CHECKPOINT_DOC}{_ATTRIBUTE_DOC}
    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_digits
    >>> from skdl import MLPClassifier
    >>> from skdl.model_selection import HalvingRandomSearchCV
    >>> X, y = load_digits(return_X_y=True)
    >>> space = {{"learning_rate_init": loguniform(1e-3, 1e-1), "alpha": loguniform(1e-5, 1e-1)}}
    >>> search = HalvingRandomSearchCV(MLPClassifier((16,), max_iter=20, random_state=0), space,
    ...                                n_candidates=9, factor=3, cv=3,
    ...                                random_state=0).fit(X / 16, y)
    >>> search.n_candidates_, len(search.n_resources_)
    ([9, 3, 1], 3)
    """

    def __init__(self, estimator, param_distributions, *, n_candidates="exhaust", factor=3,
                 resource="n_samples", max_resources="auto", min_resources="smallest",
                 aggressive_elimination=False, cv=5, scoring=None, refit=True, error_score=np.nan,
                 return_train_score=True, random_state=None, n_jobs=None, verbose=0,
                 checkpoint=None):
        super().__init__(estimator, param_distributions, n_candidates=n_candidates, factor=factor,
                         resource=resource, max_resources=max_resources,
                         min_resources=min_resources, aggressive_elimination=aggressive_elimination,
                         cv=cv, scoring=scoring, refit=refit, error_score=error_score,
                         return_train_score=return_train_score, random_state=random_state,
                         n_jobs=n_jobs, verbose=verbose)
        self.checkpoint = checkpoint
