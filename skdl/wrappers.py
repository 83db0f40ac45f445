"""``KerasClassifier`` and ``KerasRegressor``: scikit-learn estimators around your own Keras model.

A maintained replacement for ``scikeras.wrappers``: the same parameters
(``model=``, ``loss``, ``optimizer``, ``metrics``, routed ``model__*``,
``optimizer__*``, ``fit__*`` ...), so a scikeras script needs only its import
changed, on the base skdl's MLP estimators use (validation, the failed-fit
transaction, pickling, scikit-learn >= 1.6 tags). Training runs through
skdl's fused epoch loop where the model allows and ``model.fit`` otherwise
(:mod:`skdl.engine.keras_model`).
"""

import contextlib
import inspect
import os
import random
import tempfile
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._base import ClassifierOutputs, EstimatorBase, _as_float32
from ._params import BOOLEAN, NONE, RANDOM_STATE, InstanceOf, Interval, Options, Satisfies, validate_parameters
from ._routing import (
    call_with_declared,
    is_routed,
    loss_name,
    make_callbacks,
    make_loss,
    make_metrics,
    make_optimizer,
    routed,
)
from .exceptions import DivergenceError

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]


def _is_model_spec(value):
    import keras

    return value is None or callable(value) or isinstance(value, keras.Model)


def _is_component(value):
    return isinstance(value, str) or inspect.isclass(value) or hasattr(value, "get_config") or callable(value)


def _is_component_list(value, is_item=_is_component):
    values = value.values() if isinstance(value, dict) else value
    return not isinstance(value, str) and all(is_item(v) for v in values)


def _is_callback(value):
    import keras

    kind = value if inspect.isclass(value) else type(value)
    return issubclass(kind, keras.callbacks.Callback)


@contextlib.contextmanager
def _seeded(seed):
    """Seed Keras' random streams for building a model, leaving Python's and NumPy's as they were."""
    if seed is None:
        yield
        return
    import keras

    python_state, numpy_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _output_shapes(model, X):
    """The shape of each of the model's outputs for inputs shaped like ``X``."""
    import keras

    outputs = getattr(model, "outputs", None) if model.built else None
    if not outputs:
        spec = model.compute_output_spec(keras.KerasTensor((None,) + X.shape[1:], "float32"))
        outputs = spec if isinstance(spec, (list, tuple)) else [spec]
    return [tuple(output.shape) for output in outputs]


def _model_to_bytes(model):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as file:
            return file.read()


def _model_from_bytes(data):
    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as file:
            file.write(data)
        return keras.saving.load_model(path)


class BaseWrapper(EstimatorBase):
    """What :class:`KerasClassifier` and :class:`KerasRegressor` share.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        A function returning a Keras model (compiled or not), or a model
        instance, which is cloned for each fit. The function receives the
        arguments it names among: the wrapper's own keyword parameters and
        its ``model__*`` parameters (without the prefix), ``meta`` (a dict
        of fitted facts: ``n_features_in_``, ``X_shape_``, ``target_type_``,
        ``classes_``, ``n_classes_``, ``n_outputs_``, ...) and
        ``compile_kwargs`` (the resolved optimizer, loss, metrics and
        ``compile__*`` arguments).
    warm_start : bool, default=False
        Whether ``fit`` continues training the fitted model instead of
        building a new one.
    random_state : int, RandomState instance or None, default=None
        Seeds the model's initial weights, dropout and the epoch shuffles;
        an int makes fits reproducible.
    optimizer : str, class or keras.optimizers.Optimizer, default="rmsprop"
        A fresh optimizer is made for every model, with ``optimizer__*``
        applied.
    loss : str, class, keras.losses.Loss or function, default=None
        ``None`` picks one from the targets and the model's output.
    metrics : list of str, class or keras.metrics.Metric, default=None
        Metrics reported in ``history_`` (``metrics__*`` applied).
    batch_size : int, default=None
        Minibatch size; ``None`` means 32, as in Keras.
    validation_batch_size : int, default=None
        Batch size of the validation passes; ``None`` means ``batch_size``.
    verbose : int, default=0
        0 is silent, 1 a progress bar per epoch, 2 one line per epoch.
    callbacks : list or dict of keras.callbacks.Callback (instances or classes), default=None
        Copied for every fit; ``callbacks__*`` parameters are passed to
        callbacks given as classes, ``callbacks__<index or name>__*`` to one.
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
        model and callbacks allow it. ``training_loop_`` says which ran.
    **kwargs
        Your model function's own parameters (so a search can set them),
        and routed parameters ``model__``, ``optimizer__``, ``loss__``,
        ``metrics__``, ``compile__``, ``fit__``, ``predict__``,
        ``callbacks__``.
    """

    _parameter_constraints = {
        "model": [Satisfies(_is_model_spec, "a function returning a Keras model, or a keras.Model")],
        "warm_start": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "optimizer": [Satisfies(_is_component, "an optimizer name, class or instance")],
        "loss": [NONE, Satisfies(_is_component, "a loss name, class, instance or function")],
        "metrics": [NONE, Satisfies(_is_component_list, "a list of metric names, classes or instances")],
        "batch_size": [NONE, Interval(Integral, 1, None, "left")],
        "validation_batch_size": [NONE, Interval(Integral, 1, None, "left")],
        "verbose": [Interval(Integral, 0, 2, "both"), BOOLEAN],
        "callbacks": [NONE, Satisfies(lambda v: _is_component_list(v, _is_callback), "a list or dict of Keras callbacks (instances or classes)")],
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

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._kwargs)
        return params

    def set_params(self, **params):
        """Set parameters, including routed ones (``optimizer__learning_rate=...``).

        A name that is neither a constructor parameter, nor declared at
        construction, nor routed raises a ValueError.
        """
        declared = set(self._get_param_names())
        extra = {}
        for name in list(params):
            if name in declared:
                continue
            if name in self._kwargs or is_routed(name):
                extra[name] = params.pop(name)
            elif "__" not in name:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. A parameter "
                    f"of your model function must be declared when the wrapper is made "
                    f"({type(self).__name__}(model, {name}=...)) or routed (model__{name}=...).")
        self._kwargs.update(extra)
        return super().set_params(**params) if params else self

    def _validate_params(self):
        params = self.get_params(deep=False)
        validate_parameters(self._parameter_constraints, params, type(self).__name__)
        if self.model is None and not hasattr(self, "_keras_build_fn"):
            raise ValueError(f"{type(self).__name__} needs model=: a function returning a Keras "
                             "model, or a keras.Model instance.")

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
        **kwargs
            Extra arguments for ``model.fit`` (as ``fit__*`` parameters).

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, sample_weight, keep=self.warm_start,
                                 epochs=self.epochs, fit_kwargs=kwargs)

    def initialize(self, X, y=None):
        """Build and compile ``model_`` for data shaped like ``X`` and ``y``, without training.

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, None, keep=False, epochs=0, fit_kwargs={})

    def predict(self, X):  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    # --- the fit flow ------------------------------------------------------------
    @property
    def _fitted(self):
        return "model_" in self.__dict__

    def _check_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                          dtype=(np.float32, np.float64), allow_nd=True)
        return self._densify(X)

    def _fit(self, X, y, sample_weight, *, keep, epochs, fit_kwargs, classes=None):
        self._validate_params()
        keep = keep and self._fitted
        if epochs == 0 and y is None:
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
        params = self.get_params(deep=False)
        if keep:
            model, seed = self.model_, self._seed
        else:
            seed = None if self.random_state is None else int(
                check_random_state(self.random_state).randint(2**31 - 1))
            model = self._build_model(X, params, seed)
        Y = self._encode_targets(y, model, X)
        W = self._sample_weight(sample_weight, codes, X.shape[0])
        history = {}
        if epochs:
            history, loop = self._train(model, X, Y, W, codes, params, epochs, keep, fit_kwargs,
                                        seed)
            self.training_loop_ = loop
        self.model_ = model
        self._seed = seed
        old = self.history_ if keep else {}
        self.history_ = {k: list(old.get(k, [])) + [float(v) for v in history.get(k, [])]
                         for k in dict.fromkeys(list(old) + list(history))}
        return self

    def _train(self, model, X, Y, W, codes, params, epochs, keep, fit_kwargs, seed):
        from .engine.keras_model import train, why_keras_fit

        batch_size = int(min(self.batch_size or 32, X.shape[0]))
        train_rows, validation = self._split_validation(X, Y, W, codes, seed)
        callbacks = make_callbacks(self.callbacks, params)
        fit_kwargs = {**routed(params, "fit"), **fit_kwargs}
        if self.engine == "fused":
            reason = why_keras_fit(model, callbacks, fit_kwargs, "fused")
            if reason is not None:
                raise ValueError(f"engine='fused' cannot train this model: {reason}. "
                                 "Use engine='auto' or 'keras'.")
        shuffle_seed = seed if seed is not None else int(np.random.randint(2**31 - 1))
        initial_epoch = len(self.history_.get("loss", [])) if keep else 0
        saved = [v.numpy() for v in model.variables] if keep else None
        saved_optimizer = [v.numpy() for v in model.optimizer.variables] if keep else None
        try:
            history, loop = train(
                model, *train_rows, epochs=epochs, initial_epoch=initial_epoch,
                batch_size=batch_size, shuffle=self.shuffle, seed=shuffle_seed,
                validation=validation, validation_batch_size=self.validation_batch_size or batch_size,
                callbacks=callbacks, verbose=int(self.verbose),
                fit_kwargs=fit_kwargs, engine=self.engine)
            losses = history.get("loss", [])
            if losses and not np.isfinite(losses[-1]):
                raise DivergenceError(
                    f"Training diverged: the loss became {losses[-1]} at epoch "
                    f"{initial_epoch + len(losses)}. Lower the learning rate "
                    "(optimizer__learning_rate), scale the inputs or add regularisation. The "
                    "estimator keeps its previous state.")
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
        return history, loop

    def _split_validation(self, X, Y, W, codes, seed):
        """``((X, Y, W), validation or None)``: ``validation_split`` of the rows held out."""
        if not self.validation_split:
            return (X, Y, W), None
        arrays = [X, *(Y if isinstance(Y, list) else [Y]), *([] if W is None else [W])]
        try:
            parts = train_test_split(*arrays, test_size=self.validation_split, random_state=seed,
                                     stratify=codes)
        except ValueError:  # a class too small to stratify
            parts = train_test_split(*arrays, test_size=self.validation_split, random_state=seed)
        train_parts, validation_parts = parts[0::2], parts[1::2]

        def regroup(rows):
            X_part, rest = rows[0], list(rows[1:])
            W_part = rest.pop() if W is not None else None
            Y_part = rest if isinstance(Y, list) else rest[0]
            return (X_part, Y_part, W_part)

        validation = regroup(validation_parts)
        if validation[0].shape[0] < 1 or validation[0].shape[0] == X.shape[0]:
            raise ValueError(f"validation_split={self.validation_split} leaves no rows to "
                             f"validate or to train on ({X.shape[0]} samples).")
        return regroup(train_parts), validation if W is not None else validation[:2]

    def _sample_weight(self, sample_weight, codes, n_samples):
        weights = None if sample_weight is None else self._check_sample_weight(sample_weight, n_samples)
        class_weight = getattr(self, "class_weight", None)
        if class_weight is not None and codes is not None:
            by_class = compute_sample_weight(class_weight, self.classes_[codes]).astype(np.float32)
            weights = by_class if weights is None else weights * by_class
        return weights

    def _meta(self):
        names = ("n_features_in_", "feature_names_in_", "X_shape_", "X_dtype_", "target_type_",
                 "classes_", "n_classes_", "n_outputs_", "n_outputs_expected_", "y_ndim_",
                 "y_dtype_")
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    def _build_model(self, X, params, seed):
        import keras

        self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        meta = self._meta()
        compile_kwargs = {
            "optimizer": make_optimizer(self.optimizer, routed(params, "optimizer")),
            "loss": make_loss(self.loss if self.loss is not None else self._default_loss(None),
                              routed(params, "loss")),
            "metrics": make_metrics(self.metrics, routed(params, "metrics")),
            **routed(params, "compile"),
        }
        if self.run_eagerly:
            compile_kwargs["run_eagerly"] = True
        user_params = {k: v for k, v in params.items()
                       if k in self._kwargs and not is_routed(k)}
        with _seeded(seed):
            if isinstance(self.model, keras.Model):
                model = keras.models.clone_model(self.model)
            else:
                build = self.model if self.model is not None else self._keras_build_fn
                available = {**user_params, **routed(params, "model"), "meta": meta,
                             "compile_kwargs": compile_kwargs}
                model = call_with_declared(build, available, f"The model function {getattr(build, '__name__', build)!r}")
                if not isinstance(model, keras.Model):
                    raise ValueError(f"The model function must return a keras.Model. Received: "
                                     f"{type(model).__name__}.")
            if not model.compiled:
                shapes = _output_shapes(model, X)
                spec = self.loss if self.loss is not None else self._default_loss(shapes[0][-1])
                if len(shapes) > 1 and not isinstance(spec, (list, tuple, dict)):
                    # One loss named for a model with several outputs: each output gets its own.
                    compile_kwargs["loss"] = [make_loss(spec, routed(params, "loss")) for _ in shapes]
                elif self.loss is None:
                    compile_kwargs["loss"] = make_loss(spec, routed(params, "loss"))
                model.compile(**compile_kwargs)
        return model

    # --- predictions ---------------------------------------------------------------
    def _outputs(self, X):
        """The model's outputs for validated ``X``: a list of 2-D float64 arrays."""
        from .engine.keras_model import predict

        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        outputs = predict(self.model_, X, predict_kwargs=routed(self.get_params(deep=False), "predict"))
        outputs = [np.asarray(o, np.float64).reshape(X.shape[0], -1) for o in outputs]
        if not all(np.all(np.isfinite(o)) for o in outputs):
            raise ValueError("The model's outputs are not finite for some rows: the fit diverged "
                             "or these inputs lie far outside the training data's scale.")
        return outputs

    # --- persistence ---------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state["model_"] = _model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = _model_from_bytes(state["model_"])
        super().__setstate__(state)


class KerasClassifier(ClassifierOutputs, ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier around your own Keras model.

    The targets are encoded for the model's output and loss: a one-unit
    output gets 0/1 targets (binary), a softmax over ``n_classes_`` units
    gets class indices, or one-hot rows when the loss is a (non-sparse)
    categorical one; multilabel indicator targets go as they are. Predictions
    come back in the labels' own type.

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
    classes_ : ndarray of shape (n_classes,)
    n_classes_ : int
    target_type_ : str
        ``type_of_target`` of the training targets.
    n_features_in_ : int
    X_shape_ : tuple
    training_loop_ : {"fused", "keras.fit"}
        Which loop trained the model last.

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
    ...                       epochs=40, random_state=0).fit(X, y)
    >>> clf.training_loop_, clf.score(X, y) > 0.9
    ('fused', True)
    """

    _parameter_constraints = {
        **BaseWrapper._parameter_constraints,
        "class_weight": [NONE, Options("balanced"), InstanceOf(dict, "a dict")],
    }

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

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch, keeping the model and the optimizer's state.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            Every class that will be seen; needed on the first call when
            ``y`` does not show them all.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, sample_weight, keep=True, epochs=1,
                                 fit_kwargs={}, classes=classes)

    def _placeholder_targets(self, n_samples):
        return np.arange(n_samples) % 2

    def _default_loss(self, units):
        multiclass = getattr(self, "target_type_", "binary") == "multiclass"
        if units == 1 or (units is None and not multiclass) or \
                getattr(self, "target_type_", "") == "multilabel-indicator":
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def _set_target_facts(self, y, *, first, classes):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} supports binary, multiclass and multilabel "
                             f"targets; these are {target_type!r}.")
        if first:
            multilabel = target_type == "multilabel-indicator"
            labels = np.arange(y.shape[1]) if multilabel else np.unique(
                y if classes is None else np.concatenate([np.asarray(classes), y]))
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in "
                                 f"the data, but the data contains only one class: {labels[0]!r}.")
            self.classes_ = labels
            self.n_classes_ = len(labels)
            self.target_type_ = "multilabel-indicator" if multilabel else \
                "binary" if len(labels) == 2 else "multiclass"
            self.n_outputs_ = y.shape[1] if multilabel else 1
            self.n_outputs_expected_ = 1
            self.y_dtype_, self.y_ndim_ = y.dtype, y.ndim
        elif (self.target_type_ == "multilabel-indicator") != (target_type == "multilabel-indicator"):
            raise ValueError("The type of target (multilabel or not) differs from the previous fit.")
        if self.target_type_ == "multilabel-indicator":
            if y.shape[1] != self.n_classes_:
                raise ValueError(f"y has {y.shape[1]} labels; the model was fitted with "
                                 f"{self.n_classes_}.")
            return y, None
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(f"y contains labels not seen in the first fit (or classes=): "
                             f"{unseen.tolist()}. Known classes: {self.classes_.tolist()}.")
        return y, np.searchsorted(self.classes_, y)

    def _encode_targets(self, y, model, X):
        if self.target_type_ == "multilabel-indicator":
            return y.astype(np.float32)
        codes = np.searchsorted(self.classes_, y)
        units = _output_shapes(model, X)[0][-1]
        if units == 1 and self.n_classes_ == 2:
            return (codes == 1).astype(np.float32)[:, None]
        if units != self.n_classes_:
            raise ValueError(
                f"The model's output has {units} unit(s) but the targets have {self.n_classes_} "
                "classes. End the model with Dense(meta['n_classes_'], activation='softmax') (or "
                "Dense(1, activation='sigmoid') for binary targets).")
        if "categorical" in loss_name(model.loss) and "sparse" not in loss_name(model.loss):
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
    n_outputs_ : int
        Number of target columns.
    n_features_in_ : int
    training_loop_ : {"fused", "keras.fit"}

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

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch, keeping the model and the optimizer's state.

        Returns
        -------
        self : object
        """
        return self._transaction(self._fit, X, y, sample_weight, keep=True, epochs=1,
                                 fit_kwargs={})

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

    def predict(self, X):
        """Predicted targets; 1-D when ``y`` was 1-D at fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        outputs = np.concatenate(self._outputs(X), axis=1)
        return outputs.ravel() if self.y_ndim_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
