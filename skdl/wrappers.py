"""``KerasClassifier`` and ``KerasRegressor``: scikit-learn estimators around your own Keras model.

A maintained replacement for ``scikeras.wrappers``: the same parameters
(``model=``, ``loss``, ``optimizer``, ``metrics``, routed ``model__*``,
``optimizer__*``, ``fit__*`` ...) and methods (``fit(X, y, **kwargs)``,
``partial_fit``, ``initialize``, ``current_epoch``, ``scorer`` ...), so a
scikeras script needs only its import changed, on the base skdl's MLP
estimators use (validation, the failed-fit transaction, pickling,
scikit-learn >= 1.6 tags). Training runs through skdl's fused epoch loop
where the model allows and ``model.fit`` otherwise, the engine's choice
(:func:`skdl.engine.train_keras_model`); a fit whose model has the architecture
and compile configuration of one already traced trains that one
(:mod:`skdl._model_cache`).
"""

import contextlib
import contextvars
import inspect
import warnings
from collections import defaultdict
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._base import ClassifierOutputs, EstimatorBase, _as_float32
from ._keras_saving import _copy_of, _custom_objects, _model_from_bytes, _model_to_bytes, _picklable
from ._model_cache import (
    CACHE,
    Lease,
    Slot,
    Unfreezable,
    architecture_key,
    build_deferred,
    compiled_key,
    freeze,
)
from ._network import forward
from ._params import BOOLEAN, NONE, RANDOM_STATE, InstanceOf, Interval, Options, Satisfies, validate_parameters
from ._routing import (
    call_with_declared,
    history_key,
    is_routed,
    loss_name,
    make_callbacks,
    make_loss,
    make_metrics,
    make_optimizer,
    own,
    routed,
)
from ._targets import as_class_targets, class_codes, class_labels
from ._wrapper_plans import PlannedFits, _divergence, _draw_seed, _Unbuilt

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor", "clear_model_cache"]

#: ``predict(X, **kwargs)``'s arguments, on their way to the engine.
_CALL_PREDICT_KWARGS = contextvars.ContextVar("skdl_predict_kwargs", default={})

#: ``model.fit`` arguments the wrappers handle themselves (``fit(X, y, epochs=5)``,
#: ``fit__batch_size=16``); any other goes to ``model.fit``.
FIT_SETTINGS = ("epochs", "initial_epoch", "batch_size", "validation_batch_size", "verbose",
                "shuffle", "validation_split", "validation_data", "callbacks")


def clear_model_cache():
    """Forget the traced models kept for reuse by later fits, freeing their memory.

    Fitted wrappers keep their own models.

    Examples
    --------
    >>> from skdl.wrappers import clear_model_cache
    >>> clear_model_cache()
    """
    CACHE.clear()


def _is_model_spec(value):
    import keras

    return value is None or callable(value) or isinstance(value, keras.Model)


def _is_component(value):
    return isinstance(value, str) or inspect.isclass(value) or hasattr(value, "get_config") or callable(value)


def _is_components(value):
    """One component, or a list or dict of them (nested, for several outputs)."""
    if isinstance(value, (list, tuple)):
        return all(_is_components(v) for v in value)
    if isinstance(value, dict):
        return all(_is_components(v) for v in value.values())
    return _is_component(value)


def _is_callbacks(value):
    import keras

    if isinstance(value, (list, tuple)):
        return all(_is_callbacks(v) for v in value)
    if isinstance(value, dict):
        return all(_is_callbacks(v) for v in value.values())
    kind = value if inspect.isclass(value) else type(value)
    return issubclass(kind, keras.callbacks.Callback)


def _defines_hooks(callback, stage):
    """Whether ``callback`` defines one of Keras' ``on_<stage>_*`` hooks (stage ``"test"`` or
    ``"predict"``)."""
    from .engine import overrides

    return overrides(callback, (f"on_{stage}_begin", f"on_{stage}_end", f"on_{stage}_batch_begin",
                                f"on_{stage}_batch_end"))


def _is_minus_one(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value == -1


BATCH_SIZE = [NONE, Interval(Integral, 1, None, "left"),
              Satisfies(_is_minus_one, "-1 (every row in one batch)")]

#: Checks of the fit settings, whichever way they came (parameter, ``fit__``, ``fit()``).
FIT_CONSTRAINTS = {
    "epochs": [Interval(Integral, 1, None, "left")],
    "initial_epoch": [Interval(Integral, 0, None, "left")],
    "batch_size": BATCH_SIZE,
    "validation_batch_size": BATCH_SIZE,
    "verbose": [Interval(Integral, 0, 2, "both"), BOOLEAN],
    "shuffle": [BOOLEAN],
    "validation_split": [Interval(Real, 0, 1, "left")],
}


def _output_shapes(model, X):
    """The shape of each of the model's outputs for inputs shaped like ``X`` (an array, or
    the list or dict of arrays a feature encoder made)."""
    import keras

    outputs = getattr(model, "outputs", None) if model.built else None
    if not outputs:
        like = keras.tree.map_structure(
            lambda a: keras.KerasTensor((None,) + tuple(a.shape[1:]), "float32"), X)
        spec = model.compute_output_spec(like)
        outputs = spec if isinstance(spec, (list, tuple)) else [spec]
    return [tuple(output.shape) for output in outputs]


def _is_array(X):
    """Whether the model's inputs ``X`` are one array, not the list or dict of arrays a
    feature encoder may make of them (for a model with several inputs)."""
    return hasattr(X, "shape")


def _n_rows(X):
    """How many rows the model's inputs ``X`` hold (one array, or a list or dict of them)."""
    import keras

    return len(X) if _is_array(X) else len(keras.tree.flatten(X)[0])


def _check_whole_batches(X, *batch_sizes):
    """A batch size of -1 (every row) needs inputs that say how many rows they have."""
    if -1 in batch_sizes and not _is_array(X):
        raise ValueError("A batch size of -1 (every row in one batch) requires that `X` "
                         "implement `shape`; the feature encoder made it a "
                         f"{type(X).__name__}.")


class BaseWrapper(PlannedFits, EstimatorBase):
    """What :class:`KerasClassifier` and :class:`KerasRegressor` share.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        A function returning a Keras model (compiled or not), or a model
        instance, copied (weights and compile configuration included) for
        each fit. The function receives the arguments it names among: the
        wrapper's own keyword parameters and its ``model__*`` parameters
        (without the prefix), ``meta`` (a dict of fitted facts:
        ``n_features_in_``, ``X_shape_``, ``target_type_``, ``classes_``,
        ``n_classes_``, ``n_outputs_``, ...), ``compile_kwargs`` (the
        resolved optimizer, loss, metrics and ``compile__*`` arguments) and
        ``params`` (``get_params()``). ``None`` in a subclass that defines
        ``_keras_build_fn``, which is called the same way. ``build_fn=``
        (scikeras' old name) is accepted with a warning.
    warm_start : bool, default=False
        Whether ``fit`` continues training the fitted model instead of
        building a new one (its epochs counted from 0, as in scikeras:
        ``history_`` and ``current_epoch`` are that fit's).
    random_state : int, RandomState instance or None, default=None
        Seeds the model's initial weights, dropout and the epoch shuffles;
        an int, or a RandomState (which is left as it was), makes fits
        reproducible.
    optimizer : str, class or keras.optimizers.Optimizer, default="rmsprop"
        A fresh optimizer is made for every model, with ``optimizer__*``
        applied.
    loss : str, class, keras.losses.Loss, function, or a list or dict of them, default=None
        ``None`` picks one from the targets and the model's output. A model
        compiled by your function with another loss is refused.
    metrics : str, class, keras.metrics.Metric, or a list or dict of them, default=None
        Metrics reported in ``history_`` (``metrics__*`` applied to all,
        ``metrics__<index or key>__*`` to one).
    batch_size : int, default=None
        Minibatch size; ``None`` means 32, as in Keras, and ``-1`` the
        whole data set in one batch.
    validation_batch_size : int, default=None
        Batch size of the validation passes; ``None`` means ``batch_size``,
        ``-1`` every validation row at once.
    verbose : int, default=0
        0 is silent, 1 a progress bar per epoch, 2 one line per epoch.
    callbacks : keras.callbacks.Callback (instance or class), or a list or dict of them, default=None
        Copied (shallowly) for every fit; ``callbacks__*`` parameters are
        passed to callbacks given as classes, ``callbacks__<index or
        name>__*`` to one. ``fit__callbacks`` are added for fits and
        ``predict__callbacks`` for predictions; those of ``callbacks`` that
        define ``on_predict_*`` hooks also see predictions, as in scikeras.
    validation_split : float, default=0.0
        Fraction of the training rows held out for ``val_*`` logs (a
        stratified, shuffled split for classifiers).
    shuffle : bool, default=True
        Whether each epoch visits the rows in a new order.
    run_eagerly : bool, default=False
        Train eagerly through ``model.fit`` (for debugging).
    epochs : int, default=1
        Epochs per ``fit`` (``partial_fit`` runs one).
    engine : {"auto", "fused", "keras"}, default="auto"
        ``"fused"`` trains with skdl's one-call-per-epoch loop, ``"keras"``
        with ``model.fit``; ``"auto"`` uses the fused loop whenever the
        model and callbacks allow it (a callback acting on every batch, or
        on the validation passes, trains through ``model.fit``).
        ``training_loop_`` says which ran.
    **kwargs
        Your model function's own parameters (so a search can set them),
        and routed parameters ``model__``, ``optimizer__``, ``loss__``,
        ``metrics__``, ``compile__``, ``fit__``, ``predict__``,
        ``callbacks__``, ``score__``.
    """

    _parameter_constraints = {
        "model": [Satisfies(_is_model_spec, "a function returning a Keras model, or a keras.Model")],
        "warm_start": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "optimizer": [Satisfies(_is_component, "an optimizer name, class or instance")],
        "loss": [NONE, Satisfies(_is_components, "a loss name, class, instance or function, or a list or dict of them")],
        "metrics": [NONE, Satisfies(_is_components, "a metric name, class or instance, or a list or dict of them")],
        "batch_size": BATCH_SIZE,
        "validation_batch_size": BATCH_SIZE,
        "verbose": [Interval(Integral, 0, 2, "both"), BOOLEAN],
        "callbacks": [NONE, Satisfies(_is_callbacks, "a Keras callback (instance or class), or a list or dict of them")],
        "validation_split": [Interval(Real, 0, 1, "left")],
        "shuffle": [BOOLEAN],
        "run_eagerly": [BOOLEAN],
        "epochs": [Interval(Integral, 1, None, "left")],
        "engine": [Options("auto", "fused", "keras")],
    }

    def __init__(self, model=None, *, warm_start=False, random_state=None, optimizer="rmsprop",
                 loss=None, metrics=None, batch_size=None, validation_batch_size=None, verbose=0,
                 callbacks=None, validation_split=0.0, shuffle=True, run_eagerly=False, epochs=1,
                 engine="auto", **kwargs):
        self.model = model
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.run_eagerly = run_eagerly
        self.epochs = epochs
        self.engine = engine
        self._kwargs = dict(kwargs)

    # --- parameters ----------------------------------------------------------
    def __getattr__(self, name):
        # The model function's parameters and the routed ones live in _kwargs.
        kwargs = self.__dict__.get("_kwargs", {})
        if name in kwargs:
            return kwargs[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def _constructor_names(cls):
        """The named parameters of every wrapper ``__init__`` from ``cls`` up, in order."""
        if "_constructor_names_cache" not in vars(cls):
            names = {}
            for klass in cls.__mro__:
                if issubclass(klass, BaseWrapper) and "__init__" in vars(klass):
                    for parameter in inspect.signature(klass.__init__).parameters.values():
                        if parameter.name != "self" and parameter.kind not in (
                                parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                            names.setdefault(parameter.name, None)
            cls._constructor_names_cache = tuple(names)
        return cls._constructor_names_cache

    def get_params(self, deep=True):
        """The constructor's parameters that this wrapper holds, and the ones given as ``**kwargs``.

        A subclass whose ``__init__`` takes some of its parameters itself
        (and passes the rest on as ``**kwargs``) reports what it stored, as
        in scikeras.
        """
        params = {name: self.__dict__[name] for name in self._constructor_names()
                  if name in self.__dict__}
        params.update(self._kwargs)
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update((f"{name}__{k}", v) for k, v in value.get_params().items())
        return params

    def set_params(self, **params):
        """Set parameters, including routed ones (``optimizer__learning_rate=...``).

        A name that is neither a constructor parameter, nor declared at
        construction, nor routed raises a ValueError.
        """
        declared = set(self._constructor_names())
        for name, value in params.items():
            if name in declared:
                setattr(self, name, value)
            elif name in self._kwargs or is_routed(name):
                self._kwargs[name] = value
            else:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. A parameter "
                    f"of your model function must be declared when the wrapper is made "
                    f"({type(self).__name__}(model, {name}=...)) or routed (model__{name}=...).")
        return self

    def _validate_params(self):
        params = self.get_params(deep=False)
        constraints = {k: v for k, v in self._parameter_constraints.items() if k in params}
        validate_parameters(constraints, params, type(self).__name__)
        if "build_fn" in self._kwargs:
            validate_parameters({"build_fn": self._parameter_constraints["model"]},
                                {"build_fn": self._kwargs["build_fn"]}, type(self).__name__)
        if self._build_spec(warn=True) is None:
            raise ValueError(f"{type(self).__name__} needs model=: a function returning a Keras "
                             "model, or a keras.Model instance.")
        if self.model is not None and hasattr(self, "_keras_build_fn"):
            raise ValueError(f"{type(self).__name__} defines _keras_build_fn, so it cannot also "
                             "take model=. Leave model=None.")

    def _build_spec(self, warn=False):
        """What builds the model: ``model``, ``build_fn`` (scikeras' old name) or ``_keras_build_fn``."""
        if self.model is not None:
            return self.model
        if self._kwargs.get("build_fn") is not None:
            if warn:
                warnings.warn("build_fn= is scikeras' old name of model=; pass model= instead.",
                              FutureWarning, stacklevel=5)
            return self._kwargs["build_fn"]
        return getattr(self, "_keras_build_fn", None)

    # --- public API ------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new model (unless ``warm_start``) and train it for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs; arrays of more than two dimensions (images) are passed
            to the model as they are.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Rows of weight 0 are left out of training, as in scikeras.
        **kwargs
            ``model.fit`` arguments for this call: ``epochs``,
            ``batch_size``, ``validation_batch_size``, ``initial_epoch``,
            ``callbacks`` (replacing the wrapper's), ``validation_data``,
            ``verbose``, ``shuffle``, ``validation_split``, ``class_weight``
            override the wrapper's settings (and ``fit__*``); any other goes
            to ``model.fit``.

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, sample_weight, keep=self.warm_start,
                                 call_kwargs=kwargs)

    def initialize(self, X, y=None):
        """Build and compile the model for data shaped like ``X`` and ``y``, without training.

        A ``model=`` instance is used itself (``model_`` is it), so the
        wrapper predicts as it does, as in scikeras (``fit`` trains a copy).

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, None, keep=False, call_kwargs={},
                                 train=False)

    @property
    def current_epoch(self):
        """int: the number of epochs trained (``len(history_["loss"])``), 0 before any fit."""
        return len(self.__dict__.get("history_", {}).get("loss", []))

    @property
    def initialized_(self):
        """bool: whether the wrapper has a model (after ``fit``, ``partial_fit`` or ``initialize``)."""
        return self._fitted

    @property
    def model_(self):
        """keras.Model: the trained (or initialized) model, which belongs to this wrapper.

        Until it is first read, a fitted wrapper's model may be reused by
        later fits of the same architecture once the wrapper itself is
        refitted or collected; reading it hands it to the wrapper for good.
        """
        check_is_fitted(self)
        slot = self._built_slot()
        if slot.cached:
            CACHE.detach(slot)
        return slot.model

    def _partial_fit(self, X, y, sample_weight, kwargs, classes=None):
        for name, why in (("epochs", "always trains for 1 epoch"),
                          ("initial_epoch", "always trains from the current epoch")):
            if name in kwargs:
                raise TypeError(f"Invalid argument `{name}` to `partial_fit`: `partial_fit` {why}.")
        return self._transaction(self._fit, X, y, sample_weight, keep=True, call_kwargs=kwargs,
                                 partial=True, classes=classes)

    def _score(self, X, y, sample_weight):
        y_pred = self.predict(X)
        kwargs = routed(self.get_params(deep=False), "score")
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self.scorer(y, y_pred, **kwargs)

    # --- the fit flow ------------------------------------------------------------
    @property
    def _fitted(self):
        return "_slot" in self.__dict__

    def _check_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                          dtype=(np.float32, np.float64), allow_nd=True)
        return self._densify(X)

    def _fit(self, X, y, sample_weight, *, keep, call_kwargs, train=True, partial=False,
             classes=None):
        from ._lowering import fit_key

        pretrained = self.__dict__.pop("_pretrained", None)
        keep = keep and self._fitted
        if pretrained is not None and train and not (partial or keep):
            ready = pretrained.take_planned(fit_key(self, X, y, sample_weight, call_kwargs))
            if ready is not None:
                return self._take_planned(*ready)
        self._validate_params()
        params = self.get_params(deep=False)
        settings = self._fit_settings(params, call_kwargs, keep, partial) if train else None
        X, y, codes, W = self._checked_inputs(X, y, sample_weight, settings, keep=keep,
                                              classes=classes)
        if keep:
            self._train(self._built_slot().model, X, y, W, codes, settings, self._seed, keep=True)
            return self
        seed = _draw_seed(self.random_state)
        slot = self._borrow_or_build(X, params, seed, in_place=not train)
        lease = Lease()
        try:
            planned = None
            if train and not partial and pretrained is not None and _is_array(X):
                planned = self._planned_result(pretrained, slot.model, X, y, W, codes, settings,
                                               seed)
            if planned is not None:
                self._take_trained(slot.model, *planned[1:])
            elif train:
                self._train(slot.model, X, y, W, codes, settings, seed, keep=False)
            else:
                self._encode_targets(y, slot.model, X)  # checks the model's output against y
                self.history_ = defaultdict(list)
        except BaseException:
            CACHE.give_back(slot)
            raise
        CACHE.give_back(slot, lease)
        self._slot, self._lease, self._seed = slot, lease, seed
        return self

    def _checked_inputs(self, X, y, sample_weight, settings, *, keep, classes=None):
        """``(X, y, codes, W)`` validated for a fit (``settings`` None: ``initialize``'s, where
        ``y`` may be None), the rows of weight 0 left out."""
        if settings is None and y is None:
            X = self._check_X(X, reset=True)
            y = self._placeholder_targets(X.shape[0])
        else:
            X, y = validate_data(self, X, y, reset=not keep, accept_sparse=("csr", "csc", "coo"),
                                 dtype=(np.float32, np.float64), allow_nd=True, multi_output=True,
                                 y_numeric=isinstance(self, RegressorMixin))
            X = self._densify(X)
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        y, codes = self._set_target_facts(y, first=not keep, classes=classes)
        W = self._sample_weight(sample_weight, codes, X.shape[0],
                                settings["class_weight"] if settings else None)
        X, y, codes, W = self._without_weightless_rows(X, y, codes, W)
        if not keep:
            # scikeras' meta; _fresh_model records the model's inputs' where they are an array
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        if not keep or "feature_encoder_" not in vars(self):
            self.feature_encoder_ = self.feature_encoder.fit(X)
            vars(self).update(getattr(self.feature_encoder_, "get_metadata", dict)())
        X = self.feature_encoder_.transform(X)
        if settings is not None:
            _check_whole_batches(X, settings["batch_size"], settings["validation_batch_size"])
        return X, y, codes, W

    @property
    def feature_encoder(self):
        """The transformer ``fit`` fits on the validated inputs and applies to them before
        they reach the model, and ``predict`` applies (as in scikeras: none by default;
        override the property to encode them). Its ``get_metadata()``, if any, sets
        fitted attributes. It may make a list or dict of arrays, for a model with several
        inputs, which trains and predicts through ``model.fit`` and ``model.predict``. A
        model whose inputs it makes other than a 2-D array trains one network at a time."""
        from sklearn.preprocessing import FunctionTransformer

        return FunctionTransformer()

    @staticmethod
    def _batch_size(settings, n_train):
        """The fit's minibatch size: ``batch_size`` (None: 32, -1: every row) within ``n_train``."""
        batch_size = settings["batch_size"] or 32
        return n_train if batch_size == -1 else int(min(batch_size, n_train))

    def _fit_settings(self, params, call_kwargs, keep, partial):
        """The training settings of this call: ``fit()`` arguments over ``fit__*`` over parameters.

        Returns a dict of :data:`FIT_SETTINGS`, ``class_weight`` and
        ``extra`` (arguments only ``model.fit`` knows).
        """
        fit_params = routed(params, "fit")
        given = {**own(fit_params), **call_kwargs}
        settings = {name: getattr(self, name, None) for name in FIT_SETTINGS}
        settings.update({k: v for k, v in given.items() if k in FIT_SETTINGS})
        if "initial_epoch" not in given or partial:  # as scikeras: fit() counts from 0
            settings["initial_epoch"] = self.current_epoch if keep and partial else 0
        if partial:
            settings["epochs"] = 1
        settings["validation_data"] = given.get("validation_data")
        constraints = {k: v for k, v in FIT_CONSTRAINTS.items() if settings.get(k) is not None}
        validate_parameters(constraints, settings, f"{type(self).__name__}.fit")
        if "callbacks" not in call_kwargs:
            settings["callbacks"] = (make_callbacks(self.callbacks, routed(params, "callbacks"))
                                     + make_callbacks(fit_params.get("callbacks"),
                                                      routed(fit_params, "callbacks")))
        else:
            settings["callbacks"] = make_callbacks(call_kwargs["callbacks"], {})
        handled = set(FIT_SETTINGS) | ({"class_weight"} if self._takes_class_weight else set())
        settings["class_weight"] = given.get("class_weight", getattr(self, "class_weight", None))
        settings["extra"] = {k: v for k, v in given.items() if k not in handled}
        return settings

    _takes_class_weight = False

    def _without_weightless_rows(self, X, y, codes, W):
        """Leave out the rows of sample weight 0 (bootstraps pass them), as scikeras does."""
        if W is None or np.all(W > 0):
            return X, y, codes, W
        keep = W > 0
        return X[keep], y[keep], None if codes is None else codes[keep], W[keep]

    def _borrow_or_build(self, X, params, seed, in_place=False):
        """A model for this fit, busy: a traced one made fresh when one fits, else a new one
        (``in_place``: a ``model=`` instance itself, never lent to another fit)."""
        from .engine import name_counters, restore_name_counters

        counters = name_counters()
        fresh, compile_kwargs, deferred = self._fresh_model(X, params, seed, in_place)
        self._check_compiled_loss(fresh)
        key, learning_rate = (None, None) if in_place else self._cache_key(fresh, X, params)
        slot = CACHE.borrow(key)
        if slot is not None:
            slot.restart(fresh, learning_rate)
            restore_name_counters(counters)  # the fresh model is dropped: its names can be reused
            return slot
        if deferred is not None:
            deferred.initialize()
        self._compile(fresh, X, params, compile_kwargs)
        slot = CACHE.add(fresh, key)
        if key is not None:
            slot.record_optimizer_start()
        return slot

    def _fresh_model(self, X, params, seed, in_place=False):
        """``(model, compile_kwargs or None, deferred variables or None)``: what the build
        function returns for this fit (see :func:`~skdl._model_cache.build_deferred`), or a
        copy of a ``model=`` instance (``in_place``: the instance)."""
        import keras

        from .engine import seeded

        if _is_array(X):
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        spec = self._build_spec()
        if isinstance(spec, keras.Model):
            if in_place:
                return spec, None, None
            with seeded(seed):
                return _copy_of(spec), None, None
        available = self._build_arguments(spec, params)
        compile_kwargs = None
        if "compile_kwargs" in available:
            compile_kwargs = available["compile_kwargs"] = self._compile_kwargs(params)

        def build():
            with seeded(seed):
                model = call_with_declared(
                    spec, available, f"The model function {getattr(spec, '__name__', spec)!r}")
                if not isinstance(model, keras.Model):
                    raise ValueError(f"The model function must return a keras.Model. Received: "
                                     f"{type(model).__name__}.")
                if isinstance(model, keras.Sequential) and not model.built and _is_array(X):
                    model.build((None,) + X.shape[1:])
            return model

        model, deferred = build_deferred(build, spec)
        return model, compile_kwargs, deferred

    def _build_arguments(self, build, params):
        """What the build function may ask for; ``compile_kwargs`` is made only when it does."""
        user_params = {k: v for k, v in self._kwargs.items() if not is_routed(k) and k != "build_fn"}
        available = {**user_params, **routed(params, "model"), "meta": self._meta(),
                     "params": params}
        signature = inspect.signature(build).parameters.values()
        if any(p.name == "compile_kwargs" or p.kind is p.VAR_KEYWORD for p in signature):
            available["compile_kwargs"] = None
        return available

    def _compile_kwargs(self, params):
        """Fresh optimizer, loss and metrics, and the ``compile__*`` arguments, for one model.

        Their generated names (``auc``, not ``auc_3`` on the fourth fit) are the
        same at every fit, so that ``history_`` keys do not drift.
        """
        from .engine import name_counters, restore_name_counters

        loss = self.loss if self.loss is not None else self._default_loss(None)
        counters = name_counters()
        try:
            return {
                "optimizer": make_optimizer(self.optimizer, routed(params, "optimizer")),
                "loss": make_loss(loss, routed(params, "loss")),
                "metrics": make_metrics(self.metrics, routed(params, "metrics")),
                "run_eagerly": self.run_eagerly,
                **routed(params, "compile"),
            }
        finally:
            restore_name_counters(counters)

    def _compile(self, model, X, params, compile_kwargs):
        """Compile ``model`` with the wrapper's settings, unless the build function did."""
        if model.compiled:
            return
        compile_kwargs = dict(compile_kwargs or self._compile_kwargs(params))
        shapes = _output_shapes(model, X)
        spec = self.loss if self.loss is not None else self._default_loss(shapes[0][-1])
        if len(shapes) > 1 and not isinstance(spec, (list, tuple, dict)):
            # One loss named for a model with several outputs: each output gets its own.
            compile_kwargs["loss"] = [make_loss(spec, routed(params, "loss")) for _ in shapes]
        elif self.loss is None:
            compile_kwargs["loss"] = make_loss(spec, routed(params, "loss"))
        model.compile(**compile_kwargs)

    def _check_compiled_loss(self, model):
        """Refuse a model compiled with another loss than ``loss=``, as scikeras does.

        A ``loss`` left at its default (``None``, or a subclass's own default
        in its ``__init__``) does not count as given.
        """
        import keras

        simple = (str, type, keras.losses.Loss)
        if not model.compiled or self.loss is None or not isinstance(self.loss, simple) \
                or not isinstance(model.loss, simple):
            return
        given, default = loss_name(self.loss), self._default_loss_parameter()
        if given == loss_name(model.loss) or (default is not None and given == loss_name(default)):
            return
        raise ValueError(f"loss={self.loss!r} but model compiled with loss {model.loss!r}: the "
                         "targets are encoded for loss=. Pass the same loss to both, or leave "
                         "loss at its default.")

    @classmethod
    def _default_loss_parameter(cls):
        """The default of ``loss`` in the wrapper's ``__init__`` (a subclass may set one)."""
        parameter = inspect.signature(cls.__init__).parameters.get("loss")
        return None if parameter is None or parameter.default is parameter.empty \
            else parameter.default

    def _cache_key(self, model, X, params):
        """``(key, learning rate)`` of ``model`` for the traced-model cache; key None: no reuse."""
        architecture = architecture_key(model) if _is_array(X) else None
        if architecture is None:
            return None, None
        if model.compiled:
            compiled, learning_rate = compiled_key(model)
        else:
            compiled, learning_rate = self._compile_key(model, X, params)
        if compiled is None:
            return None, None
        return (architecture, compiled, X.shape[1:], str(X.dtype)), learning_rate

    def _compile_key(self, model, X, params):
        """What identifies the compile configuration the wrapper will give ``model``."""
        optimizer_params = routed(params, "optimizer")
        learning_rate = optimizer_params.get("learning_rate")
        if isinstance(learning_rate, Real) and not isinstance(learning_rate, bool):
            del optimizer_params["learning_rate"]
        else:
            learning_rate = None
        optimizer = self.optimizer
        if hasattr(optimizer, "get_config") and not inspect.isclass(optimizer):
            optimizer = (type(optimizer), {k: v for k, v in optimizer.get_config().items()
                                           if k != "name"})
        loss = self.loss if self.loss is not None else self._default_loss(
            _output_shapes(model, X)[0][-1])
        try:
            key = ("wrapper", freeze((optimizer, optimizer_params, loss, routed(params, "loss"),
                                      self.metrics, routed(params, "metrics"),
                                      routed(params, "compile"), self.run_eagerly,
                                      learning_rate is not None)))
        except Unfreezable:
            return None, None
        return key, learning_rate

    def _train(self, model, X, y, W, codes, settings, seed, *, keep):
        """Train ``model`` on the encoded targets; updates ``history_`` and ``training_loop_``."""
        from .engine import train_keras_model

        Y = self._encode_targets(y, model, X)
        train_rows, validation = self._validation(model, X, Y, W, codes, settings, seed)
        batch_size = self._batch_size(settings, _n_rows(train_rows[0]))
        validation_batch_size = settings["validation_batch_size"] or batch_size
        if validation_batch_size == -1:
            validation_batch_size = _n_rows(validation[0]) if validation else batch_size
        callbacks = settings["callbacks"]
        shuffle_seed = seed if seed is not None else int(np.random.randint(2**31 - 1))
        initial_epoch = settings["initial_epoch"]
        saved = [v.numpy() for v in model.variables] if keep else None
        saved_optimizer = [v.numpy() for v in model.optimizer.variables] if keep else None
        try:
            history, loop = train_keras_model(
                model, *train_rows, epochs=settings["epochs"], initial_epoch=initial_epoch,
                batch_size=batch_size, shuffle=settings["shuffle"], seed=shuffle_seed,
                validation=validation, validation_batch_size=validation_batch_size,
                callbacks=callbacks, verbose=int(settings["verbose"]),
                fit_kwargs=settings["extra"], engine=self.engine,
                keras_seed=None if seed is None else seed + initial_epoch)
            losses = history.get("loss", [])
            if losses and not np.isfinite(losses[-1]):
                raise _divergence(losses[-1], initial_epoch + len(losses))
        except BaseException:
            if keep:
                for variable, value in zip(model.variables, saved):
                    variable.assign(value)
                for variable, value in zip(model.optimizer.variables, saved_optimizer):
                    variable.assign(value)
            raise
        finally:
            for callback in callbacks:
                callback.set_model(None)
        self._record_history(history, keep and initial_epoch > 0)
        self.training_loop_ = loop
        return history, loop

    def _record_history(self, history, keep):
        """``history_``: this fit's epoch logs under scikeras' names, after the old ones if
        ``keep`` (a fit that continues the epoch count: ``partial_fit``, or an
        ``initial_epoch`` given)."""
        merged = defaultdict(list)
        if keep:
            for key, values in self.history_.items():
                merged[key] = list(values)
        for key, values in history.items():
            merged[history_key(key)] += [float(v) for v in values]
        self.history_ = merged

    def _validation(self, model, X, Y, W, codes, settings, seed):
        """``((X, Y, W), validation or None)``: ``validation_data``, else a ``validation_split``."""
        if settings["validation_data"] is not None:
            return (X, Y, W), self._checked_validation_data(settings["validation_data"], model, X)
        if not settings["validation_split"]:
            return (X, Y, W), None
        return self._split_validation(X, Y, W, codes, seed, settings["validation_split"])

    def _checked_validation_data(self, data, model, X):
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val) or "
                             f"(X_val, y_val, sample_weight_val). Received: {type(data).__name__}.")
        X_val = self._densify(check_array(data[0], accept_sparse=("csr", "csc", "coo"),
                                          dtype=(np.float32, np.float64), allow_nd=True))
        X_val = self.feature_encoder_.transform(X_val)
        if _is_array(X_val) and _is_array(X) and X_val.shape[1:] != X.shape[1:]:
            raise ValueError(f"validation_data's X_val has rows of shape {X_val.shape[1:]}; the "
                             f"training rows have shape {X.shape[1:]}.")
        y_val = check_array(data[1], ensure_2d=False, dtype=None)
        if len(y_val) != _n_rows(X_val):
            raise ValueError(f"validation_data has {_n_rows(X_val)} samples in X_val but "
                             f"{len(y_val)} in y_val.")
        y_val, codes = self._set_target_facts(y_val, first=False, classes=None)
        Y_val = self._encode_targets(y_val, model, X_val)
        if len(data) == 2:
            return X_val, Y_val
        return X_val, Y_val, self._check_sample_weight(data[2], _n_rows(X_val))

    def _split_validation(self, X, Y, W, codes, seed, fraction):
        """``((X, Y, W), validation)``: ``fraction`` of the rows held out (of each array
        where ``X`` or ``Y`` is a list or dict of arrays)."""
        import keras

        structure = (X, Y) if W is None else (X, Y, W)
        arrays = keras.tree.flatten(structure)
        try:
            parts = train_test_split(*arrays, test_size=fraction, random_state=seed,
                                     stratify=codes)
        except ValueError:  # a class too small to stratify
            parts = train_test_split(*arrays, test_size=fraction, random_state=seed)
        train_rows = keras.tree.pack_sequence_as(structure, parts[0::2])
        validation = keras.tree.pack_sequence_as(structure, parts[1::2])
        n_rows, n_validation = _n_rows(X), _n_rows(validation[0])
        if n_validation < 1 or n_validation == n_rows:
            raise ValueError(f"validation_split={fraction} leaves no rows to validate or to "
                             f"train on ({n_rows} samples).")
        return ((*train_rows, None) if W is None else train_rows), validation

    def _sample_weight(self, sample_weight, codes, n_samples, class_weight):
        weights = None if sample_weight is None else self._check_sample_weight(sample_weight, n_samples)
        if class_weight is not None and codes is not None:
            by_class = compute_sample_weight(class_weight, self.classes_[codes]).astype(np.float32)
            weights = by_class if weights is None else weights * by_class
        return weights

    def _meta(self):
        names = ("n_features_in_", "feature_names_in_", "X_shape_", "X_dtype_", "target_type_",
                 "classes_", "n_classes_", "n_outputs_", "n_outputs_expected_", "y_ndim_",
                 "y_dtype_")
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    # --- predictions ---------------------------------------------------------------
    def _outputs(self, X):
        """The model's outputs for validated ``X``: a list of 2-D float64 arrays."""
        from .engine import predict_keras_model

        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        if "feature_encoder_" in vars(self):
            X = self.feature_encoder_.transform(X)
        params = self.get_params(deep=False)
        predict_routed = routed(params, "predict")
        predict_kwargs = {**own(predict_routed), **_CALL_PREDICT_KWARGS.get()}
        if "batch_size" not in predict_kwargs and self.batch_size is not None:
            predict_kwargs["batch_size"] = self.batch_size  # as scikeras: fit's and predict's
        _check_whole_batches(X, predict_kwargs.get("batch_size"))
        if "callbacks" not in _CALL_PREDICT_KWARGS.get():
            callbacks = [callback for callback in make_callbacks(self.callbacks,
                                                                 routed(params, "callbacks"))
                         if _defines_hooks(callback, "predict")]
            callbacks += make_callbacks(predict_routed.get("callbacks"),
                                        routed(predict_routed, "callbacks"))
            predict_kwargs.pop("callbacks", None)
            if callbacks:
                predict_kwargs["callbacks"] = callbacks
        validate_parameters({k: v for k, v in FIT_CONSTRAINTS.items()
                             if k in ("batch_size", "verbose") and k in predict_kwargs},
                            predict_kwargs, f"{type(self).__name__}.predict")
        unbuilt = self._slot
        if isinstance(unbuilt, _Unbuilt) and "callbacks" not in predict_kwargs:
            outputs = [forward(unbuilt.network, unbuilt.weights, np.asarray(X, np.float32))]
        else:
            outputs = predict_keras_model(self._built_slot().model, X, predict_kwargs)
        outputs = [np.asarray(o, np.float64).reshape(len(o), -1) for o in outputs]
        if not all(np.all(np.isfinite(o)) for o in outputs):
            raise ValueError("The model's outputs are not finite for some rows: the fit diverged "
                             "or these inputs lie far outside the training data's scale.")
        return outputs

    @contextlib.contextmanager
    def _predict_call(self, kwargs):
        """Pass ``predict(X, **kwargs)``'s arguments (for ``model.predict``) to this call."""
        if not kwargs:
            yield
            return
        token = _CALL_PREDICT_KWARGS.set(dict(kwargs))
        try:
            yield
        finally:
            _CALL_PREDICT_KWARGS.reset(token)

    # --- persistence ---------------------------------------------------------------
    def __getstate__(self):
        if self._fitted:
            self._built_slot()
        state = super().__getstate__()
        for name in self._constructor_names():
            if name in state:
                state[name] = _picklable(state[name])
        if "_kwargs" in state:
            state["_kwargs"] = _picklable(state["_kwargs"])
        slot = state.pop("_slot", None)
        state.pop("_lease", None)
        if slot is not None:
            state["model_"] = _model_to_bytes(slot.model)
            state["_custom_objects"] = _custom_objects(slot.model, self.get_params(deep=False))
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            model = _model_from_bytes(state.pop("model_"), state.pop("_custom_objects", None))
            state["_slot"] = Slot(model, None)
        state.pop("_custom_objects", None)
        if isinstance(state.get("history_"), dict):
            state["history_"] = defaultdict(list, state["history_"])
        super().__setstate__(state)


class KerasClassifier(ClassifierOutputs, ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier around your own Keras model.

    The targets are encoded for the model's output and loss: a one-unit
    output gets 0/1 targets (binary; targets of a single class train it
    towards 0 and that class is always predicted, as in scikeras), or, for
    more classes and a loss other than a cross-entropy, the class indices as
    floats (an ordinal output, as in scikeras: ``predict`` picks the class
    nearest the output, ``predict_proba`` returns the output itself), a
    softmax over ``n_classes_`` units gets class indices, or one-hot rows
    when the loss is a (non-sparse) categorical one; multilabel indicator
    targets go as they are, and one-hot rows are predicted one-hot.
    Predictions come back in the labels' own type.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        See :class:`BaseWrapper`; the remaining parameters are documented
        there too.
    class_weight : dict, "balanced" or None, default=None
        Weights by class, multiplied into ``sample_weight``.

    Attributes
    ----------
    model_ : keras.Model
        The trained model.
    history_ : dict of list
        Epoch logs (``loss``, metrics, ``val_*``), appended across
        ``partial_fit`` and warm-started fits.
    current_epoch : int
        Epochs trained so far.
    classes_ : ndarray of shape (n_classes,)
    n_classes_ : int
    target_type_ : str
        ``type_of_target`` of the training targets.
    n_features_in_ : int
    X_shape_ : tuple
    training_loop_ : {"fused", "keras.fit", "stacked"}
        Which loop trained the model last ("stacked": the engine's stacks, in a
        search of :mod:`skdl.model_selection` whose model lowers).

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import load_iris
    >>> from skdl.wrappers import KerasClassifier
    >>> def build(meta, hidden=16):
    ...     return keras.Sequential([keras.Input((meta["n_features_in_"],)),
    ...                              keras.layers.Dense(hidden, activation="relu"),
    ...                              keras.layers.Dense(meta["n_classes_"], activation="softmax")])
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KerasClassifier(build, hidden=32, optimizer="adam", optimizer__learning_rate=0.01,
    ...                       metrics="accuracy", epochs=40, random_state=0).fit(X, y)
    >>> clf.training_loop_, clf.score(X, y) > 0.9, clf.current_epoch
    ('fused', True, 40)
    >>> clf = clf.fit(X, y, epochs=5, batch_size=-1)  # scikeras' call-time arguments
    >>> len(clf.history_["accuracy"])
    5
    """

    _parameter_constraints = {
        **BaseWrapper._parameter_constraints,
        "class_weight": [NONE, Options("balanced"), InstanceOf(dict, "a dict")],
    }
    _takes_class_weight = True

    def __init__(self, model=None, *, warm_start=False, random_state=None, optimizer="rmsprop",
                 loss=None, metrics=None, batch_size=None, validation_batch_size=None, verbose=0,
                 callbacks=None, validation_split=0.0, shuffle=True, run_eagerly=False, epochs=1,
                 engine="auto", class_weight=None, **kwargs):
        super().__init__(
            model, warm_start=warm_start, random_state=random_state, optimizer=optimizer,
            loss=loss, metrics=metrics, batch_size=batch_size,
            validation_batch_size=validation_batch_size, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, shuffle=shuffle, run_eagerly=run_eagerly,
            epochs=epochs, engine=engine, **kwargs)
        self.class_weight = class_weight

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one epoch, keeping the model and the optimizer's state.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            Every class that will be seen; needed on the first call when
            ``y`` does not show them all.
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            ``model.fit`` arguments for this epoch (``batch_size``, ...);
            ``epochs`` and ``initial_epoch`` are refused (TypeError).

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, kwargs, classes=classes)

    @staticmethod
    def scorer(y_true, y_pred, **kwargs):
        """The score :meth:`score` reports: accuracy. Override it in a subclass to change it.

        ``score__*`` parameters are passed as ``kwargs``.
        """
        return accuracy_score(y_true, y_pred, **kwargs)

    def score(self, X, y, sample_weight=None):
        """:meth:`scorer` of ``y`` and the predictions for ``X`` (accuracy by default)."""
        return self._score(X, y, sample_weight)

    def predict_proba(self, X, **kwargs):
        """Probability of each class, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        **kwargs
            ``model.predict`` arguments (``batch_size``, ``verbose``, ...).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples,)
            A column of ones when the training targets held a single class.
            A one-unit model fitted on more than two classes (an ordinal
            output) gives its raw output, 1-D, as scikeras does: no
            probabilities.
        """
        with self._predict_call(kwargs):
            return self._proba(self._class_outputs(X))

    def _proba(self, outputs):
        if self.n_classes_ == 1 and not self._multilabel:
            return np.ones((outputs.shape[0], 1))
        if self._is_ordinal(outputs):
            return np.asarray(outputs[:, 0], np.float64)
        return super()._proba(outputs)

    def predict(self, X, **kwargs):
        """Predicted class labels, in the training labels' type (one-hot rows for one-hot targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        **kwargs
            ``model.predict`` arguments (``batch_size``, ``verbose``, ...).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            A one-unit model fitted on more than two classes predicts the
            class whose code (0 to ``n_classes_ - 1``) is nearest its output
            (scikeras takes the argmax of that one column: always the first
            class).
        """
        with self._predict_call(kwargs):
            outputs = self._class_outputs(X)
        if self._is_ordinal(outputs):
            codes = np.clip(np.rint(outputs[:, 0]), 0, self.n_classes_ - 1).astype(np.intp)
            return self.classes_[codes]
        proba = self._proba(outputs)
        if self.__dict__.get("_one_hot"):
            return np.eye(self.n_classes_, dtype=int)[proba.argmax(axis=1)]
        return self._labels(proba)

    def _is_ordinal(self, outputs):
        """Whether ``outputs`` are a one-unit model's for more than two classes: class codes
        it was trained to output (see :meth:`_encode_targets`)."""
        return outputs.shape[1] == 1 and self.n_classes_ > 2 and not self._multilabel

    def _placeholder_targets(self, n_samples):
        return np.arange(n_samples) % 2

    def _default_loss(self, units):
        multiclass = getattr(self, "target_type_", "binary") == "multiclass"
        if units == 1 or (units is None and not multiclass) or \
                getattr(self, "target_type_", "") == "multilabel-indicator":
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def _set_target_facts(self, y, *, first, classes):
        y = as_class_targets(y)
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} supports binary, multiclass and multilabel "
                             f"targets; these are {target_type!r}.")
        if first:
            labels, multilabel = class_labels(y, classes, target_type)
            self.classes_ = labels
            self.n_classes_ = len(labels)
            self.target_type_ = "multilabel-indicator" if multilabel else \
                "binary" if len(labels) <= 2 else "multiclass"
            self.n_outputs_ = y.shape[1] if multilabel else 1
            self.n_outputs_expected_ = 1
            self.y_dtype_, self.y_ndim_ = y.dtype, y.ndim
            self._one_hot = bool(multilabel and np.all(np.asarray(y).sum(axis=1) == 1))
        elif (self.target_type_ == "multilabel-indicator") != (target_type == "multilabel-indicator"):
            raise ValueError("The type of target (multilabel or not) differs from the previous fit.")
        return y, class_codes(y, self.classes_, self.target_type_ == "multilabel-indicator")

    def _encode_targets(self, y, model, X):
        if self.target_type_ == "multilabel-indicator":
            return y.astype(np.float32)
        codes = np.searchsorted(self.classes_, y)
        units = _output_shapes(model, X)[0][-1]
        if units == 1 and self.n_classes_ <= 2:
            return (codes == 1).astype(np.float32)[:, None]
        name = loss_name(model.loss)
        if units == 1 and "crossentropy" not in name:
            # As scikeras' ClassifierLabelEncoder: the class codes, as floats, for an ordinal output.
            return codes.astype(np.float32)[:, None]
        if units != self.n_classes_:
            ordinal = (" A one-unit output learns the class codes 0 .. n_classes_ - 1, which "
                       f"takes a loss other than a cross-entropy (such as 'mae'), not {name!r}."
                       if units == 1 else "")
            raise ValueError(
                f"The model's output has {units} unit(s) but the targets have {self.n_classes_} "
                "classes. End the model with Dense(meta['n_classes_'], activation='softmax') (or "
                f"Dense(1, activation='sigmoid') for binary targets).{ordinal}")
        if "categorical" in name and "sparse" not in name:
            return np.eye(self.n_classes_, dtype=np.float32)[codes]
        return codes.astype(np.int32)

    def _class_outputs(self, X):
        return self._outputs(X)[0]

    @property
    def _multilabel(self):
        return self.target_type_ == "multilabel-indicator"


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A scikit-learn regressor around your own Keras model.

    ``y`` of shape (n_samples, k) trains a model with one output of ``k``
    units, or a model with several outputs whose units add up to ``k`` (the
    columns are split among the outputs in order, so a two-headed
    functional model takes a two-column ``y``). ``predict`` returns the
    outputs side by side, 1-D when ``y`` was 1-D.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        See :class:`BaseWrapper`; the remaining parameters are documented
        there too. The default loss is ``"mse"``.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of list
    current_epoch : int
    n_outputs_ : int
        Number of target columns.
    n_features_in_ : int
    training_loop_ : {"fused", "keras.fit", "stacked"}

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import make_regression
    >>> from skdl.wrappers import KerasRegressor
    >>> def build(meta):
    ...     return keras.Sequential([keras.Input((meta["n_features_in_"],)),
    ...                              keras.layers.Dense(meta["n_outputs_"])])
    >>> X, y = make_regression(200, 5, noise=1.0, random_state=0)
    >>> reg = KerasRegressor(build, optimizer="adam", optimizer__learning_rate=0.1, epochs=60,
    ...                      random_state=0).fit(X, y / 100)
    >>> round(reg.score(X, y / 100), 2)
    1.0
    """

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train one epoch, keeping the model and the optimizer's state.

        ``kwargs`` are ``model.fit`` arguments for this epoch; ``epochs`` and
        ``initial_epoch`` are refused (TypeError).

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight, kwargs)

    @staticmethod
    def scorer(y_true, y_pred, **kwargs):
        """The score :meth:`score` reports: R². Override it in a subclass to change it.

        ``score__*`` parameters are passed as ``kwargs``.
        """
        return r2_score(y_true, y_pred, **kwargs)

    def score(self, X, y, sample_weight=None):
        """:meth:`scorer` of ``y`` and the predictions for ``X`` (R² by default)."""
        return self._score(X, y, sample_weight)

    def _placeholder_targets(self, n_samples):
        return np.zeros(n_samples)

    def _default_loss(self, units):
        return "mse"

    def _set_target_facts(self, y, *, first, classes):
        y = np.asarray(y, dtype=np.float64)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self.y_ndim_, self.y_dtype_ = y.ndim, y.dtype
            self.n_outputs_ = Y.shape[1]
            self.n_outputs_expected_ = 1
            self.target_type_ = "continuous" if Y.shape[1] == 1 else "continuous-multioutput"
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} outputs; the model was fitted with "
                             f"{self.n_outputs_}.")
        return _as_float32(Y, "y"), None

    def _encode_targets(self, Y, model, X):
        widths = [shape[-1] for shape in _output_shapes(model, X)]
        if sum(widths) != Y.shape[1]:
            raise ValueError(f"The model's outputs have {sum(widths)} unit(s) in all but y has "
                             f"{Y.shape[1]} column(s). End the model with "
                             "Dense(meta['n_outputs_']).")
        if len(widths) == 1:
            return Y
        edges = np.cumsum([0] + widths)
        return [Y[:, a:b] for a, b in zip(edges[:-1], edges[1:])]

    def predict(self, X, **kwargs):
        """Predicted targets; 1-D when ``y`` was 1-D at fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        **kwargs
            ``model.predict`` arguments (``batch_size``, ``verbose``, ...).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        with self._predict_call(kwargs):
            outputs = np.concatenate(self._outputs(X), axis=1)
        return outputs.ravel() if self.y_ndim_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
