"""A wrapper's fits in skdl's searches: planned, trained in the engine's stacks, taken.

:class:`PlannedFits` is what :class:`~skdl.wrappers.BaseWrapper` adds for
:mod:`skdl.model_selection`: a fit's plan (its model lowered into an engine
request, see :mod:`skdl._lowering`), and a fit that takes what the search's
stacks trained for it, its Keras model built only when it is needed
(:class:`_Unbuilt`). With them, what such a fit shares with the wrapper's own:
its seed (:func:`_draw_seed`) and the error of a diverged fit.
"""

import contextlib
import contextvars
import inspect
from collections import OrderedDict

import numpy as np

from ._lowering import model_weights
from ._model_cache import CACHE, Lease
from .exceptions import DivergenceError

#: The models a search's planning built for seeded fits, by what decides them (see
#: :func:`planned_models`); None outside planning.
_PLANNED_MODELS = contextvars.ContextVar("skdl_planned_models", default=None)

#: The most models :func:`planned_models` holds at once (the least recently used goes back).
MAX_PLANNED_MODELS = 32


@contextlib.contextmanager
def planned_models():
    """Within it, the plans of seeded fits that would build the same model (the same
    wrapper parameters, seed, input shape, and what the build function reads) share
    one: a search's folds and refit of one candidate build it once. Opened by a
    search's planning; nested, the outer one serves. The models go back to the model
    cache at the end."""
    if _PLANNED_MODELS.get() is not None:
        yield
        return
    memo = OrderedDict()
    token = _PLANNED_MODELS.set(memo)
    try:
        yield
    finally:
        _PLANNED_MODELS.reset(token)
        for slot in memo.values():
            CACHE.give_back(slot)


def _build_key(wrapper, X, params, seed):
    """What decides the model a seeded fit of ``wrapper`` builds on ``X``; None where that
    is not cheaply known (seedless, a ``model=`` instance, inputs that are not an array,
    parameters with no plain settings)."""
    from ._lowering import _NoKey, _token

    build = wrapper._build_spec()
    if seed is None or not isinstance(X, np.ndarray) or not inspect.isfunction(build):
        return None
    reads_meta = any(p.name == "meta" or p.kind is p.VAR_KEYWORD
                     for p in inspect.signature(build).parameters.values())
    try:
        return (type(wrapper).__qualname__, id(build), _token(params), seed, X.shape[1:],
                X.dtype.str, _token(wrapper._meta()) if reads_meta else None)
    except _NoKey:
        return None


def _divergence(loss, epoch):
    """The error of a fit whose loss became ``loss`` (non-finite) at ``epoch``."""
    return DivergenceError(
        f"Training diverged: the loss became {loss} at epoch {epoch}. Lower the learning rate "
        "(optimizer__learning_rate), scale the inputs or add regularisation. The estimator "
        "keeps its previous state.")


def _draw_seed(random_state):
    """An int seed from ``random_state``, leaving a RandomState or Generator as it was.

    Fits given the same RandomState instance are reproducible, as in scikeras.
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        copy = np.random.RandomState()
        copy.set_state(random_state.get_state())
        return int(copy.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        copy = np.random.default_rng()
        copy.bit_generator.state = random_state.bit_generator.state
        return int(copy.integers(2**31 - 1))
    return int(random_state) % (2**31 - 1)


class _Unbuilt:
    """A fitted wrapper's model before it is built: the network a search's stacks trained
    for the fit (its :class:`~skdl._network.NetworkSpec` and weights) and the fit's seed.
    The wrapper predicts with it in NumPy and builds the Keras model only when it is
    needed (``model_``, pickling, a continued fit, a prediction with callbacks)."""

    cached = False

    def __init__(self, network, weights, seed):
        self.network, self.weights, self.seed = network, weights, seed


class PlannedFits:
    """The methods through which skdl's searches plan a wrapper's fits and hand them
    their trained networks (a mixin of :class:`~skdl.wrappers.BaseWrapper`)."""

    def _training_request(self, X, y, sample_weight=None, **kwargs):
        """What ``fit(X, y, sample_weight, **kwargs)`` would train, as a plan of the engine's:
        how skdl's searches plan a wrapper's fits to train them in stacks (see
        :mod:`skdl._lowering`). Trains nothing and leaves this wrapper as it was; raises
        :class:`~skdl._lowering.NotLowerable` when the fit cannot train in the engine."""
        from ._base import _FitPlan
        from ._lowering import fit_key

        given = X, y
        planner = object.__new__(type(self))
        planner.__dict__.update(self.__dict__)
        planner.__dict__.pop("_pretrained", None)
        planner._validate_params()
        params = planner.get_params(deep=False)
        settings = planner._fit_settings(params, kwargs, keep=False, partial=False)
        X, y, codes, W = planner._checked_inputs(X, y, sample_weight, settings, keep=False)
        seed = _draw_seed(planner.random_state)
        memo, key = _PLANNED_MODELS.get(), None
        if memo is not None and isinstance(X, np.ndarray):
            planner.X_shape_, planner.X_dtype_ = X.shape, X.dtype  # as a build would set them
            key = _build_key(planner, X, params, seed)
        slot = memo.get(key) if key is not None else None
        if slot is None:
            slot = planner._borrow_or_build(X, params, seed)
        try:
            request, keys = planner._lowered(slot.model, X, y, W, codes, settings, seed)
        finally:
            if key is None:
                CACHE.give_back(slot)
            else:
                memo[key] = slot
                memo.move_to_end(key)
                while len(memo) > MAX_PLANNED_MODELS:
                    CACHE.give_back(memo.popitem(last=False)[1])
        before = vars(self)
        fitted = {name: value for name, value in vars(planner).items()
                  if name not in before or before[name] is not value}
        return _FitPlan(request, *keys, X.dtype, {}, fit_key(self, *given, sample_weight, kwargs),
                        fitted)

    def _lowered(self, model, X, y, W, codes, settings, seed):
        """``(request, (key, unbounded key))``: this fit of ``model`` as the engine's request,
        and its keys (see :func:`skdl.engine.fit_keys`; a seedless fit's leave the seed out).
        Raises :class:`~skdl._lowering.NotLowerable`."""
        from . import engine
        from ._lowering import NotLowerable, lowered_request

        if self.engine != "auto" or self.run_eagerly:
            raise NotLowerable(f"engine={self.engine!r} or run_eagerly=True is set")
        if W is not None:
            raise NotLowerable("sample or class weights are given (Keras averages weighted "
                               "losses over the batch's size)")
        if not isinstance(X, np.ndarray) or X.ndim != 2:
            raise NotLowerable("its inputs are not a table of features")
        Y = self._encode_targets(y, model, X)
        train_rows, validation = self._validation(model, X, Y, W, codes, settings, seed)
        batch_size = self._batch_size(settings, train_rows[0].shape[0])
        if seed is None:  # seedless: the engine's shuffles and dropout draw from a fresh seed
            seed = int(np.random.randint(2**31 - 1))
        request = lowered_request(model, settings, train_rows, validation, batch_size, seed)
        given = settings["validation_data"] is not None
        data = (engine.data_digest([X, np.asarray(Y)] + list(validation if given else ())),
                settings["validation_split"])
        return request, engine.fit_keys(request, data, seeded=self.random_state is not None)

    def _planned_result(self, pretrained, model, X, y, W, codes, settings, seed):
        """``(seed, result, network)`` of this fit of a search (``pretrained``, its store): the
        one its stacks trained, else (a refit the search did not train ahead) trained now in
        the engine; None when the model does not lower."""
        from . import engine
        from ._lowering import NotLowerable

        try:
            request, (key, _) = self._lowered(model, X, y, W, codes, settings, seed)
        except NotLowerable:
            return None
        seed, result = pretrained.take(key) or (request.seed, engine.train([request])[0])
        return seed, result, request.network

    def _take_planned(self, value, plan):
        """Fit as a search planned and trained it (``value``: ``(seed, result)``): the state
        its planning validated, and the trained network, its Keras model built only when
        needed (see :class:`_Unbuilt`). Nothing is validated or built again."""
        seed, result = value
        self._check_trained(result)
        self.__dict__.update(plan.fitted)
        seed = seed if self.random_state is not None else None
        self._slot, self._lease, self._seed = _Unbuilt(plan.request.network, result.weights,
                                                       seed), Lease(), seed
        self._record_trained(result)
        return self

    def _take_trained(self, model, result, network):
        """Fit as the engine trained it: ``result``'s weights (of ``network``) into ``model``."""
        self._check_trained(result)
        model.set_weights(model_weights(network, result.weights))
        self._record_trained(result)

    @staticmethod
    def _check_trained(result):
        if result.error is not None:
            raise _divergence(float("nan"), result.n_iter + 1)

    def _record_trained(self, result):
        """``history_`` (its keys in the order ``model.fit``'s history has them) and
        ``training_loop_`` of a fit the engine trained."""
        self._record_history({key: result.history[key] for key in sorted(result.history)
                              if key != "val_score"}, keep=False)
        self.training_loop_ = "stacked"

    def _built_slot(self):
        """The fitted model's slot, its Keras model built now with the trained weights if the
        fit left it unbuilt (see :class:`_Unbuilt`)."""
        slot = self._slot
        if isinstance(slot, _Unbuilt):
            shape = self.X_shape_
            like = np.zeros((1,) + tuple(shape[1:]), self.X_dtype_)
            built = self._borrow_or_build(like, self.get_params(deep=False), slot.seed)
            self.X_shape_ = shape  # building recorded the stand-in's
            built.model.set_weights(model_weights(slot.network, slot.weights))
            CACHE.give_back(built, self._lease)
            self._slot = slot = built
        return slot
