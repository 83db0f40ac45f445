"""Planning a search's fits, training them in stacks, and handing the results to its fits.

A first pass asks each candidate's estimator, on each split, what it would
train (:meth:`~skdl._base.BaseMLP._training_request`, which trains nothing):
it is cloned and set as scikit-learn's ``_fit_and_score`` does, a pipeline's
earlier steps are fitted on the split's rows, and the network at its end
hands back its plan. The plans are trained together
(:func:`skdl.engine.train` stacks them) into a :class:`Pretrained` store,
which the search attaches to its skdl estimators (:func:`attached`):
scikit-learn's own search code then runs unchanged, its clones carry the
store, and each skdl fit takes its result from it instead of training.
Anything not planned (another estimator, a fit that fails, a fit with Keras
callbacks) simply trains as it would have.
"""

import sys
import threading
import warnings
from collections import defaultdict, deque
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from .. import engine
from .._base import BaseMLP
from .._lowering import NotLowerable
from .._wrapper_plans import planned_models
from ._sklearn import check_method_params, safe_indexing, safe_split


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


class Pretrained:
    """Results trained ahead for a search's fits: each fit's key to ``(seed, result)``
    (or any value), in the order they were put.

    A value is taken once: two seedless fits of one key get two results
    trained with their own fresh seeds. A value put with its fit's plan can
    also be taken by the plan's ``input_key`` (see :meth:`take_planned`).
    Safe to share between threads.

    Examples
    --------
    >>> store = Pretrained()
    >>> store.put("key", (7, "result"))
    >>> store.take("key"), store.take("key")
    ((7, 'result'), None)
    """

    def __init__(self):
        self._values, self._planned = defaultdict(deque), defaultdict(deque)
        self._lock = threading.Lock()

    def put(self, key, value, plan=None):
        """Keep ``value`` for ``key``, and for ``plan.input_key`` where the plan has one."""
        entry = [value, plan, False]  # the value, its plan, whether it was taken
        with self._lock:
            self._values[key].append(entry)
            if plan is not None and plan.input_key is not None:
                self._planned[plan.input_key].append(entry)

    def take(self, key):
        """The first value put for ``key`` not yet taken (None when there is none)."""
        entry = self._take(self._values, key)
        return None if entry is None else entry[0]

    def take_planned(self, input_key):
        """``(value, plan)`` of the first value put with a plan of ``input_key`` not yet
        taken (None when there is none, or ``input_key`` is None): a fit given the
        planned inputs takes the plan's validated state with the value."""
        entry = None if input_key is None else self._take(self._planned, input_key)
        return None if entry is None else (entry[0], entry[1])

    def _take(self, queues, key):
        with self._lock:
            queue = queues.get(key)
            while queue:
                entry = queue.popleft()
                if not entry[2]:
                    entry[2] = True
                    return entry
        return None


def train(plans, store, finished=None, verbose=0, workers=None, checkpoint=None):
    """Train ``plans`` (those the engine can stack) in stacks, each result into ``store`` as
    ``(seed, result)`` under the plan's key; returns counts: ``"continued"`` (plans that
    continued a finished fit), ``"checkpointed"`` (read from ``checkpoint``) and
    ``"stacks"`` (in how many stacks the others trained), ``"host_stacks"`` (how many of
    those trained on the host, compiling nothing) and ``"programs"`` (how many programs
    this process compiled for them).
    With ``verbose``, a progress bar on stderr counts the networks' epochs as they train.
    With ``workers`` (see :func:`workers`), each stack is a job of theirs
    (:func:`train_in_workers`); otherwise they train side by side in this process.

    With ``finished`` (a :class:`Pretrained` of ``(request, result)`` by unbounded key,
    which this fills too), a plan that only lengthens a finished fit's ``max_iter``
    continues it (:func:`skdl.engine.continuation`), or takes its result as it is when
    that fit stopped before its budget ran out.

    With ``checkpoint`` (a :class:`~skdl.model_selection._checkpoint.Checkpoint`), a plan
    whose fit is saved there is read instead of trained, and each stack's results are
    saved there as the stack ends.
    """
    jobs, continued, checkpointed, seen = [], 0, 0, defaultdict(int)
    for planned in plans:
        if not engine.stackable(planned.request):
            continue
        index, seen[planned.key] = seen[planned.key], seen[planned.key] + 1
        saved = checkpoint.load(planned.key, index) if checkpoint is not None else None
        if saved is not None:
            _keep(planned, *saved, store, finished)
            checkpointed += 1
            continue
        request, prior = planned.request, None
        previous = finished.take(planned.unbounded_key) if finished is not None else None
        if previous is not None:
            how, value = engine.continuation(*previous, planned.request.training.max_iter)
            if how == "same":
                _keep(planned, previous[0].seed, value, store, finished)
                continued += 1
                continue
            if how == "more":
                request, prior = value, previous
        jobs.append((planned, request, prior, index))
    requests = [request for _, request, _, _ in jobs]
    final, lock = [None] * len(jobs), threading.Lock()

    def stack_ended(indices, results):
        for k, result in zip(indices, results):
            planned, request, prior, index = jobs[k]
            if prior is not None:
                result = engine.continued(prior[1], result, planned.request.training.max_iter)
            with lock:
                if final[k] is not None:  # a piece's repeat: its first result stands
                    continue
                final[k] = result
            if checkpoint is not None:
                checkpoint.save(planned.key, index, request.seed, result)

    built = engine.cache_info()["built"]
    with epoch_bar(requests, verbose) as progress:
        if workers is None or len(requests) < 2:
            if jobs:
                engine.train(requests, progress=progress, finished=stack_ended)
        else:
            train_in_workers(requests, workers, progress, stack_ended)
    for (planned, request, prior, _), result in zip(jobs, final):
        continued += prior is not None
        _keep(planned, request.seed, result, store, finished)
    groups = engine.stacks(requests)
    return {"continued": continued, "checkpointed": checkpointed, "stacks": len(groups),
            "host_stacks": sum(engine.structure_of([requests[k] for k in group]).host for group in groups),
            "programs": engine.cache_info()["built"] - built}


def workers(n_jobs):
    """Where a search with ``n_jobs`` trains its stacks: None (side by side in this process)
    for None or 1, else ``(backend, n_jobs)`` with joblib's backend active now (loky's
    processes by default, Ray's tasks under ``parallel_backend("ray")``), taken before
    the search keeps its own jobs in threads (:func:`threads_only`)."""
    from joblib.parallel import get_active_backend

    if n_jobs in (None, 1):
        return None
    return get_active_backend()[0], n_jobs


def train_in_workers(requests, workers, progress=None, finished=None):
    """:func:`skdl.engine.train` of ``requests``, one stack a job of ``workers`` (see
    :func:`workers`); the results in order. ``progress`` hears each stack's epochs as it
    comes back, and ``finished`` its indices and results (as :func:`skdl.engine.train`'s)."""
    from joblib import Parallel, delayed

    backend, n_jobs = workers
    groups = engine.stacks(requests)
    results = [None] * len(requests)
    if _is_ray(backend):
        trained = _trained_on_ray(requests, groups)
    else:
        trained = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")(
            delayed(_train_group)(requests, group) for group in groups)
    for group, group_results in zip(groups, trained):
        for k, result in zip(group, group_results):
            results[k] = result
        if finished is not None:
            finished(group, group_results)
        if progress is not None:
            progress(engine.epochs([requests[k] for k in group]))
    return results


def _train_group(requests, group):
    return engine.train([requests[k] for k in group])


def _is_ray(backend):
    return type(backend).__module__.startswith("ray.")


def _trained_on_ray(requests, groups):
    """Each group's results (in order), each group a Ray task of the cluster. The requests
    are put in Ray's object store once, so each node fetches their data once (the tasks on
    a node read its copy in place), not once per task."""
    import ray

    shared = ray.put(requests)
    task = ray.remote(_train_group)
    for reference in [task.remote(shared, group) for group in groups]:
        yield ray.get(reference)


@contextmanager
def epoch_bar(requests, verbose):
    """A progress bar on stderr (tqdm) over the epochs ``requests`` may train, and the
    callable that advances it (None, and no bar, without ``verbose`` or requests)."""
    if not verbose or not requests:
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=engine.epochs(requests), unit="epoch", file=sys.stderr, dynamic_ncols=True,
              desc=f"training {len(requests)} networks in stacks") as bar:
        yield bar.update


def _keep(planned, seed, result, store, finished):
    store.put(planned.key, (seed, result), planned)
    if finished is not None:
        finished.put(planned.unbounded_key, (replace(planned.request, seed=seed), result))


def final_step(estimator):
    """The estimator at the end of (nested) pipelines."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def _plans_its_fits(estimator):
    """Whether ``estimator`` is an skdl network that plans its fits (an MLP, or a wrapper,
    whose fits plan when its model lowers: see :mod:`skdl._lowering`)."""
    return isinstance(estimator, BaseEstimator) and hasattr(estimator, "_training_request")


def is_stackable(estimator):
    """Whether fits of ``estimator`` can be planned: an skdl network, alone or ending pipelines."""
    return _plans_its_fits(final_step(estimator))


@contextmanager
def attached(store, *objects):
    """``store`` carried by the skdl estimators at the end of ``objects`` (estimators, and
    the estimators among parameter dicts' values) while the block runs: their clones,
    scikit-learn's fits, take their results from it."""
    found = []
    for item in objects:
        values = item.values() if isinstance(item, dict) else [item]
        for value in values:
            network = final_step(value) if isinstance(value, BaseEstimator) else None
            if _plans_its_fits(network) and "_pretrained" not in vars(network):
                network._pretrained = store
                found.append(network)
    try:
        yield
    finally:
        for network in found:
            vars(network).pop("_pretrained", None)


class _Planner(BaseEstimator):
    """Stands in for the network at a pipeline's end: its ``fit`` keeps the network's plan."""

    def __init__(self, network):
        self.network = network

    def fit(self, X, y=None, **params):
        self.plan_ = self.network._training_request(X, y, **params)
        return self


def _with_planner(candidate):
    """``candidate`` (a clone of its own) with a :class:`_Planner` in place of its network,
    and that planner."""
    pipeline = candidate
    while isinstance(pipeline.steps[-1][1], Pipeline):
        pipeline = pipeline.steps[-1][1]
    name, network = pipeline.steps[-1]
    planner = _Planner(network)
    pipeline.steps[-1] = (name, planner)
    return candidate, planner


def plan(estimator, X, y, candidate_params, splits, fit_params, inputs=None):
    """The plans (see :meth:`~skdl._base.BaseMLP._training_request`) of every (candidate,
    split) fit that ends in an skdl network, in order; a fit that fails to plan is left
    out (scikit-learn's own pass reports it as it does), and a wrapper's whose model does
    not lower trains through Keras, with a warning naming why (once per reason).

    A pipeline's earlier steps are fitted once per split and per setting of
    their own parameters, and their output is reused by the candidates that
    differ only in the network's: the same steps fitted on the same rows give
    the same output. A seeded wrapper's fits of one setting share the model they
    build (see :func:`~skdl._wrapper_plans.planned_models`).
    """
    with planned_models():
        return _plan(estimator, X, y, candidate_params, splits, fit_params, inputs)


def _plan(estimator, X, y, candidate_params, splits, fit_params, inputs):
    plans, preprocessed, not_lowered = [], {}, {}
    inputs = unsplit_inputs(X) if inputs is None else inputs
    for parameters in candidate_params:
        for split, (train, _) in enumerate(splits):
            candidate = clone(estimator).set_params(**clone(parameters, safe=False))
            if not is_stackable(candidate):
                continue
            split_params = check_method_params(X, params=fit_params, indices=train)
            if inputs is not None and isinstance(candidate, BaseMLP):
                y_train = None if y is None else safe_indexing(y, train)
                try:  # the fold's rows read from X itself: no copy per fit
                    plans.append(candidate._training_request(inputs, y_train, rows=np.asarray(train),
                                                             given=X, **split_params))
                except Exception:  # noqa: BLE001 - as below
                    pass
                continue
            X_train, y_train = safe_split(candidate, X, y, train)
            shared = _preprocessing(candidate, parameters, split_params)
            try:
                if shared is not None:
                    key = (split, shared)
                    if key not in preprocessed:
                        preprocessed[key] = candidate[:-1].fit_transform(X_train, y_train)
                    plans.append(candidate.steps[-1][1]._training_request(preprocessed[key],
                                                                          y_train))
                elif isinstance(candidate, Pipeline):
                    candidate, planner = _with_planner(candidate)
                    candidate.fit(X_train, y_train, **split_params)
                    plans.append(planner.plan_)
                else:
                    plans.append(candidate._training_request(X_train, y_train, **split_params))
            except NotLowerable as reason:
                not_lowered.setdefault(str(reason), type(final_step(candidate)).__name__)
            except Exception:  # noqa: BLE001 - scikit-learn's own pass reports it as it does
                pass
    for reason, name in not_lowered.items():
        warnings.warn(f"{name}'s fits train one network at a time through Keras, not in the "
                      f"engine's stacks: {reason}.", UserWarning, stacklevel=3)
    return plans


def unsplit_inputs(X):
    """``X`` as the float32 array a network's fits read their rows from (itself when it
    is one already, else a copy made once for all the fits), or None where the fits
    take their own copies of their rows (not a plain numeric array, or non-finite values,
    which the fits report themselves)."""
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind not in "fiu":
        return None
    inputs = np.ascontiguousarray(X, dtype=np.float32)
    return inputs if np.isfinite(inputs.sum()) or np.isfinite(inputs).all() else None


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


@contextmanager
def threads_only():
    """joblib's jobs kept in threads of this process, whatever the ``n_jobs``: scikit-learn's
    pass, whose fits take their results from the store this process holds (their
    networks trained already, by then)."""
    from joblib import parallel_config

    with parallel_config(backend="threading"):
        yield
