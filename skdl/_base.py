"""The estimator half shared by the classifier and the regressor.

Validation, the fit / partial_fit flow, fitted state and persistence live
here once; :mod:`skdl.mlp` adds only what differs between classification and
regression (targets, output layer, default loss, predict and score).
"""

import copy
import dataclasses
import functools
import hashlib
import warnings
import weakref
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import __version__
from ._callbacks import CallbackSupportMixin, EpochReporter, callbacks_of, fit_context, with_callbacks
from ._network import sklearn_initial_weights
from ._optim import ACTIVATIONS, KERNEL_INITIALIZERS, SOLVERS
from ._params import (
    BOOLEAN,
    INFINITY,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    Satisfies,
    validate_parameters,
)

#: Densifying a sparse X larger than this many bytes is refused.
MAX_DENSE_BYTES = 4 * 2**30


def _as_float32(values, name):
    """``values`` as contiguous float32; finite values beyond float32's range are refused."""
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(values, dtype=np.float32)
    if not np.all(np.isfinite(converted)):
        # scikit-learn's MLP trains such X into non-finite weights; its message comes first.
        prefix = ("Solver produced non-finite parameter weights. The input data may contain "
                  "large values and need to be preprocessed. ") if name == "X" else ""
        raise ValueError(f"{prefix}{name} has values too large for float32 (|value| > "
                         f"{np.finfo(np.float32).max:.3g}), the precision the network trains in. "
                         "Scale it first (e.g. StandardScaler).")
    return converted


def _is_layer_sizes(value):
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    return all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes)


def _is_callback_list(value):
    import keras

    return all(isinstance(c, keras.callbacks.Callback) for c in value)


def _is_scoring(value):
    return isinstance(value, str) or callable(value)


def _is_plain(value):
    """Whether ``value`` is a number, string, None, or a tuple or list of those (what a
    digest of its ``repr`` tells apart)."""
    if isinstance(value, (tuple, list)):
        return all(_is_plain(item) for item in value)
    return value is None or isinstance(value, (str, bool, Integral, Real))


def _is_device(value):
    if value in ("auto", "cpu", "gpu"):
        return True
    return value.startswith("gpu:") and value[4:].isdigit()


#: Each estimator class's parameter names, read once from its ``__init__``.
_PARAM_NAMES = weakref.WeakKeyDictionary()


@dataclasses.dataclass
class _FitPlan:
    """A fit's engine request, its keys (None unless asked for: see
    :meth:`BaseMLP._plan_fit`), ``X``'s dtype and what the fit reports to
    scikit-learn's callbacks.

    A search's plan (:meth:`BaseMLP._training_request`) also carries what the fit
    needs to take its result without validating its inputs again: ``input_key``
    (see :meth:`BaseMLP._input_key`), the ``fitted`` attributes planning set (its
    classes, network, ...) and the ``warnings`` it raised, which the fit raises.
    """

    request: object
    key: str | None
    unbounded_key: str | None
    dtype: np.dtype
    task_data: dict
    input_key: str | None = None
    fitted: dict = dataclasses.field(default_factory=dict)
    warnings: list = dataclasses.field(default_factory=list)


class EstimatorBase(BaseEstimator):
    """What every skdl network estimator shares, whoever builds its network.

    :class:`BaseMLP` (skdl's own networks) and :class:`~skdl.wrappers.BaseWrapper`
    (the user's Keras model) both take from here: the transaction that keeps
    a fitted estimator intact when a fit fails, input and sample-weight
    checks, the pickled version tag and the tags.
    """

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature at every get_params, so at every clone
        # of a search (inspect.signature dominated a big search's host time).
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(names)

    def _transaction(self, fit, *args, **kwargs):
        """Run ``fit``; if it raises, put every attribute back as it was."""
        before = dict(self.__dict__)
        try:
            return fit(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _densify(self, X):
        """``X`` dense and float32 (values beyond float32's range refused)."""
        return _as_float32(self._dense(X), "X")

    @staticmethod
    def _dense(X):
        """A sparse ``X`` as a dense array (refused beyond ``MAX_DENSE_BYTES`` in float32)."""
        if scipy.sparse.issparse(X):
            needed = X.shape[0] * X.shape[1] * 4
            if needed > MAX_DENSE_BYTES:
                raise ValueError(
                    f"X is a sparse matrix of shape {X.shape}; skdl trains on dense arrays and "
                    f"densifying it would need {needed / 2**30:.1f} GiB (limit "
                    f"{MAX_DENSE_BYTES / 2**30:.0f} GiB). Reduce the number of features, e.g. "
                    "with TruncatedSVD.")
            X = X.toarray()
        return np.asarray(X)

    def _check_sample_weight(self, sample_weight, n_samples):
        if sample_weight is None:
            return np.ones(n_samples, np.float32)
        if np.isscalar(sample_weight):
            sample_weight = np.full(n_samples, sample_weight)
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},)!")
        if not np.all(np.isfinite(sample_weight)):
            raise ValueError("sample_weight contains NaN or infinity.")
        if np.any(sample_weight < 0):
            raise ValueError("Negative values in data passed to sample_weight.")
        if not np.any(sample_weight > 0):
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return _as_float32(sample_weight, "sample_weight")

    def __sklearn_is_fitted__(self):
        return self._fitted

    def __sklearn_clone__(self):
        twin = super().__sklearn_clone__()
        pretrained = self.__dict__.get("_pretrained")
        if pretrained is not None:  # a search's results trained ahead reach its clones
            twin._pretrained = pretrained
        return twin

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        state.pop("_model", None)
        state.pop("_pretrained", None)
        state["_skdl_version"] = __version__
        return state

    def __setstate__(self, state):
        saved = state.pop("_skdl_version", None)
        if saved is not None and saved != __version__:
            warnings.warn(
                f"{type(self).__name__} was saved by skdl {saved} and is loaded by skdl "
                f"{__version__}. It usually works; refit it if predictions look wrong.", UserWarning)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags


class BaseMLP(CallbackSupportMixin, EstimatorBase):
    """Shared machinery of :class:`~skdl.MLPClassifierTF` and :class:`~skdl.MLPRegressorTF`.

    With scikit-learn >= 1.9 it speaks scikit-learn's callback API
    (``set_callbacks``): a fit is a task and each epoch one of its subtasks.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [Satisfies(_is_layer_sizes, "a positive int or a sequence of positive ints (empty for no hidden layer)")],
        "activation": [Options(*ACTIVATIONS)],
        "solver": [Options(*SOLVERS)],
        "alpha": [Interval(Real, 0, None, "left")],
        "batch_size": [Options("auto"), Interval(Integral, 1, None, "left")],
        "learning_rate": [Options("constant", "invscaling", "adaptive")],
        "learning_rate_init": [Interval(Real, 0, None, "neither")],
        "power_t": [Interval(Real, 0, None, "left")],
        "max_iter": [Interval(Integral, 1, None, "left")],
        "shuffle": [BOOLEAN],
        "random_state": [RANDOM_STATE],
        "tol": [Interval(Real, 0, None, "left")],
        "verbose": [Interval(Integral, 0, None, "left"), BOOLEAN],
        "warm_start": [BOOLEAN],
        "momentum": [Interval(Real, 0, 1, "both")],
        "nesterovs_momentum": [BOOLEAN],
        "early_stopping": [BOOLEAN],
        "validation_fraction": [Interval(Real, 0, 1, "left")],
        "beta_1": [Interval(Real, 0, 1, "left")],
        "beta_2": [Interval(Real, 0, 1, "left")],
        "epsilon": [Interval(Real, 0, None, "neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, "left"), INFINITY],
        "max_fun": [Interval(Integral, 1, None, "left")],
        "dropout": [Interval(Real, 0, 1, "left")],
        "batch_normalization": [BOOLEAN],
        "l1": [Interval(Real, 0, None, "left")],
        "kernel_initializer": [Options(*KERNEL_INITIALIZERS)],
        "wide_and_deep": [BOOLEAN],
        "weight_decay": [NONE, Interval(Real, 0, None, "left")],
        "callbacks": [NONE, Satisfies(_is_callback_list, "None or a list of keras.callbacks.Callback")],
        "device": [Satisfies(_is_device, "one of 'auto', 'cpu', 'gpu' or 'gpu:N'")],
        "jit_compile": [BOOLEAN, Options("auto")],
        "n_hidden_layers": [NONE, Interval(Integral, 0, None, "left")],
        "n_hidden_units": [NONE, Interval(Integral, 1, None, "left")],
        "scoring": [NONE, Satisfies(_is_scoring, "None, a scorer name or a callable scorer(estimator, X, y)")],
    }

    # --- what subclasses define -------------------------------------------
    def _prepare_targets(self, y, *, first, classes=None):  # pragma: no cover - abstract
        """Return (task, encoded targets, label codes for stratification or None, n_outputs).

        On the first fit this also sets the target attributes (``classes_``).
        """
        raise NotImplementedError

    def _check_continued_targets(self, y, *, keep, incremental, classes):
        """Refuse targets that the fit cannot continue with (scikit-learn's rules)."""

    def _output_spec(self, task, n_outputs):  # pragma: no cover - abstract
        """Return (output activation inside the network, loss name, out_activation_)."""
        raise NotImplementedError

    def _validation_score(self, outputs, y_encoded, sample_weight):  # pragma: no cover
        raise NotImplementedError

    # --- public API --------------------------------------------------------
    @with_callbacks
    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Training inputs; sparse matrices are densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights; each minibatch loss is their
            weighted mean.
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), default=None
            Held-out data for ``validation_scores_`` and, with
            ``early_stopping=True``, for stopping; it replaces the internal
            ``validation_fraction`` split.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._checked_fit(X, y, sample_weight, validation_data, incremental=False)

    def _checked_fit(self, X, y, sample_weight, validation_data, incremental, classes=None):
        """Check the parameters, open the callback context, then fit (or leave the
        estimator as it was)."""
        self._validate_params()
        context = fit_context(self, self._n_tasks(incremental))
        return self._transaction(self._fit, X, y, sample_weight, validation_data, incremental,
                                 classes, context)

    def _n_tasks(self, incremental):
        """How many epochs (L-BFGS: iterations, and a last one begun but never run) a fit
        may report to scikit-learn's callbacks."""
        if incremental:
            return 1
        return self.max_iter + 1 if self.solver == "lbfgs" else self.max_iter

    def _validate_params(self):
        validate_parameters(self._parameter_constraints, self.get_params(deep=False),
                            type(self).__name__)

    @property
    def _fitted(self):
        return "coefs_" in self.__dict__

    #: Fitted arrays whose absence means "not fitted" rather than a typo.
    _FITTED_ARRAYS = ("coefs_", "intercepts_", "batch_norm_", "model_")

    def __getattr__(self, name):
        # Only reached when normal lookup fails: NotFittedError is an AttributeError too.
        if name in BaseMLP._FITTED_ARRAYS:
            check_is_fitted(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_X(self, X, reset):
        """``X`` validated and dense, in its floating dtype (float32 or float64)."""
        X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                          dtype=(np.float64, np.float32))
        return self._dense(X)

    def _check_X_y(self, X, y, reset, multi_output):
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=("csr", "csc", "coo"),
                             dtype=(np.float64, np.float32), multi_output=multi_output,
                             y_numeric=self._is_regressor)
        return self._dense(X), y

    def _check_rows(self, X, rows, y, reset):
        """``X`` (inputs of which the fit reads rows ``rows``) and ``y`` (those rows'
        targets) validated as ``_check_X_y(X[rows], y)`` validates them, without the copy."""
        X = self._check_X(X, reset=reset)
        y = validate_data(self, X="no_validation", y=y, reset=False, multi_output=True,
                          y_numeric=self._is_regressor)
        if len(rows) != len(y):
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{len(rows)}, {len(y)}]")
        return X, y

    _is_regressor = False

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return int(min(self.batch_size, n_samples))

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a tuple, with ``n_hidden_layers`` / ``n_hidden_units``
        (when set) giving the depth and the width of every hidden layer."""
        sizes = self.hidden_layer_sizes
        sizes = (int(sizes),) if isinstance(sizes, Integral) else tuple(int(s) for s in sizes)
        if self.n_hidden_layers is None and self.n_hidden_units is None:
            return sizes
        depth = len(sizes) if self.n_hidden_layers is None else int(self.n_hidden_layers)
        width = int(self.n_hidden_units) if self.n_hidden_units is not None else (sizes[0] if sizes else 100)
        return (width,) * depth

    def _network(self, n_features, n_outputs, task):
        from ._network import NetworkSpec

        output_activation, _ = self._output_spec(task, n_outputs)
        sizes = self._hidden_layer_sizes()
        return NetworkSpec(
            n_features=n_features, hidden_layer_sizes=sizes, activation=self.activation,
            n_outputs=n_outputs, output_activation=output_activation, dropout=float(self.dropout),
            batch_normalization=bool(self.batch_normalization), wide_and_deep=bool(self.wide_and_deep),
            kernel_initializer=self.kernel_initializer)

    def _training(self, task, n_samples, jit_compile, executor="auto"):
        from ._device import resolve_device
        from .engine import TrainingSpec

        _, loss = self._output_spec(task, None)
        weight_decay = self.weight_decay
        if weight_decay is None:
            weight_decay = 0.004 if self.solver == "adamw" else 0.0
        return TrainingSpec(
            task=task, loss=loss, solver=self.solver, learning_rate_init=float(self.learning_rate_init),
            alpha=float(self.alpha), l1=float(self.l1), momentum=float(self.momentum),
            nesterovs_momentum=bool(self.nesterovs_momentum), beta_1=float(self.beta_1),
            beta_2=float(self.beta_2), epsilon=float(self.epsilon), weight_decay=float(weight_decay),
            dropout=float(self.dropout), batch_size=self._batch_size(n_samples),
            shuffle=bool(self.shuffle), max_iter=int(self.max_iter), tol=float(self.tol),
            n_iter_no_change=self.n_iter_no_change, early_stopping=bool(self.early_stopping),
            learning_rate=self.learning_rate, power_t=float(self.power_t), max_fun=int(self.max_fun),
            jit_compile=jit_compile, device=resolve_device(self.device), verbose=bool(self.verbose),
            executor=executor)

    def _split_validation(self, X, rows, Y, W, stratify, validation_data, random_state):
        """Return ``((rows, Y, W), validation arrays or None)``: the training rows of ``X``
        (``rows`` None: all of them; a split leaves ``X`` whole and names its rows) and
        their targets and weights."""
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (X_val, y_val) or "
                                 f"(X_val, y_val, sample_weight_val). Received: {type(validation_data).__name__}.")
            X_val = _as_float32(self._check_X(validation_data[0], reset=False), "X")
            try:
                y_val = check_array(validation_data[1], ensure_2d=False, dtype=None,
                                    ensure_all_finite=True)
            except (TypeError, ValueError) as error:
                raise ValueError(f"validation_data's y_val is not valid: {error}") from error
            if len(y_val) != X_val.shape[0]:
                raise ValueError(f"validation_data has {X_val.shape[0]} samples in X_val but "
                                 f"{len(y_val)} in y_val.")
            _, Y_val, _, _ = self._prepare_targets(y_val, first=False)
            W_val = self._check_sample_weight(validation_data[2] if len(validation_data) == 3 else None,
                                              X_val.shape[0])
            return (rows, Y, W), (X_val, Y_val, W_val)
        if not self.early_stopping or self.solver == "lbfgs":  # L-BFGS trains on every row
            return (rows, Y, W), None
        # Splitting the row numbers splits the rows as splitting them would (the same draws).
        rows, val_rows, Y, Y_val, W, W_val = train_test_split(
            np.arange(len(X)) if rows is None else rows, Y, W, test_size=self.validation_fraction,
            random_state=random_state, stratify=stratify)
        if len(val_rows) < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return (rows, Y, W), (X[val_rows], Y_val, W_val)

    def _training_request(self, X, y, sample_weight=None, validation_data=None, rows=None,
                          given=None):
        """What ``fit(X, y, ...)`` would train, without training it and leaving this
        estimator as it was: how a search plans its fits. With ``rows``, what
        ``fit(X[rows], y, ...)`` would train (``y`` and ``sample_weight`` are those
        rows'), its request reading those rows of ``X`` without a copy: the fits of a
        search's folds share its unsplit ``X``. ``given``: the array whose rows the fit
        will be given, when ``X`` is a float32 copy of it.

        Returns the fit's plan: its engine ``request`` (whose seed, for
        ``random_state=None``, is drawn now: fresh randomness, as each fit gets),
        ``key`` (what identifies the fit: see :meth:`_plan_fit`), ``unbounded_key``
        (the same, whatever ``max_iter``: a longer fit can continue a shorter one), and
        what lets the fit take its result unvalidated: ``input_key`` (see
        :meth:`_input_key`), the ``fitted`` attributes and the ``warnings``.
        """
        # A shallow twin plans the fit: the request's scorer reads the fitted state the
        # plan gives the twin (its classes, ...), and this estimator keeps its own.
        planner = object.__new__(type(self))
        planner.__dict__.update(self.__dict__)
        if isinstance(planner.random_state, np.random.RandomState):  # drawn from: not to move
            planner.random_state = copy.deepcopy(planner.random_state)
        planner._validate_params()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plan = planner._plan_fit(X, y, sample_weight, validation_data, incremental=False,
                                     keyed=True, rows=rows)
        params, before = set(self._get_param_names()), vars(self)
        plan.fitted = {name: value for name, value in vars(planner).items()
                       if name not in params and (name not in before or before[name] is not value)}
        plan.warnings = caught
        plan.input_key = self._input_key(X if given is None else given, y, sample_weight,
                                         validation_data, rows)
        return plan

    def _input_key(self, X, y, sample_weight=None, validation_data=None, rows=None):
        """A digest of this estimator's parameters and of the inputs as ``fit`` is given
        them, before any validation (``rows``: ``X``'s rows ``rows``, as in
        :meth:`_training_request`); None where it can't tell fits apart cheaply (inputs
        that are not plain arrays, a ``validation_data``, a parameter that is not a
        plain value). A search's fit whose inputs give the key of a planned fit takes
        that fit's validated state and result instead of validating them again.

        Examples
        --------
        >>> import numpy as np
        >>> from skdl import MLPClassifier
        >>> X, y = np.arange(12.0).reshape(6, 2), np.array([0, 1] * 3)
        >>> net, rows = MLPClassifier(random_state=0), np.array([4, 0, 2])
        >>> net._input_key(X[rows], y[rows]) == net._input_key(X, y[rows], rows=rows)
        True
        >>> net._input_key(X.tolist(), y) is None
        True
        """
        from .engine import data_digest

        arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
        if validation_data is not None or not all(
                isinstance(a, np.ndarray) and a.dtype.kind in "biufU" for a in arrays):
            return None
        settings = []
        for name, value in sorted(self.get_params(deep=False).items()):
            if isinstance(value, np.random.RandomState):
                value = ("RandomState", data_digest([value.get_state()[1]]), value.get_state()[2:])
            elif not _is_plain(value):
                return None
            settings.append((name, value))
        text = repr((type(self).__qualname__, settings, data_digest(arrays, rows)))
        return hashlib.sha256(text.encode()).hexdigest()

    def _plan_fit(self, X, y, sample_weight, validation_data, incremental, classes=None,
                  context=None, keyed=False, rows=None):
        """Validate the inputs, encode the targets and build the fit's engine request.

        With ``keyed``, the plan carries the fit's keys: digests of what decides its
        result except, for ``random_state=None``, the seed (a seedless fit may take any
        fresh seed, so a result trained ahead with one serves it), and for
        ``unbounded_key`` ``max_iter`` too.
        """
        from . import engine

        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        keep = self._fitted and (incremental or self.warm_start)
        if rows is None:
            X, y = self._check_X_y(X, y, reset=not keep, multi_output=True)
        else:
            X, y = self._check_rows(X, rows, y, reset=not keep)
        task_data = {"X": X, "y": y, "metadata": None if sample_weight is None else
                     {"sample_weight": sample_weight}}
        if context is not None:
            context.call_on_fit_task_begin(estimator=self, **task_data)
        dtype, X = X.dtype, _as_float32(X, "X")
        n_samples = len(y)
        if n_samples < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        self._check_continued_targets(y, keep=keep, incremental=incremental, classes=classes)
        task, Y, codes, n_outputs = self._prepare_targets(y, first=not keep, classes=classes)
        W = self._check_sample_weight(sample_weight, n_samples) * self._class_weights(codes)
        network = self._network(X.shape[1], n_outputs, task)
        if keep and (network != self._network_spec or task != self._training_spec.task):
            raise ValueError(
                "warm_start and partial_fit need the same network and targets as the previous "
                "fit; change warm_start=False (or call fit) to start over.")
        # A continued fit keeps the arithmetic it started with (XLA or not, NumPy or compiled).
        jit, executor = (self._training_spec.jit_compile, self._training_spec.executor) if keep \
            else (self.jit_compile, "auto")
        # scikit-learn's draws, in its order, from its RandomState (the global one for None):
        # the first weights, the early-stopping split, then each epoch's shuffle.
        stream = check_random_state(self.random_state)
        initial = None
        if not keep and self.kernel_initializer == "scikit-learn":
            initial = sklearn_initial_weights(network, stream)
        # Validation targets are encoded as this fit's (the transaction undoes this on failure).
        self._network_spec, self._training_spec = network, self._training(task, n_samples, jit, executor)
        unsplit, unsplit_rows = (X, Y, W), rows
        # Only a single-column target is stratified, as in scikit-learn's MLP (its indicator).
        stratify = None if keep or task != "binary" else Y.astype(bool)
        (rows, Y, W), validation = self._split_validation(X, rows, Y, W, stratify, validation_data,
                                                          stream)
        shuffles = stream.get_state()
        # The seed of the dropout masks and the Keras initializers.
        seed = self._seed if keep else int(stream.randint(2**31 - 1))
        training = self._training(task, len(Y), jit, executor)
        if self.solver != "lbfgs" and self.batch_size != "auto" and self.batch_size > len(Y):
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                          "to be clipped")
        start = self._start(incremental) if keep else None
        score, metric_name = self._validation_scoring(validation)
        request = engine.FitRequest(
            network, training, X, Y, W, seed, validation=validation, score=score,
            metric_name=metric_name, start=start, incremental=incremental, callbacks=self.callbacks,
            epoch_hook=self._epoch_reporter(context, task_data, dtype), initial=initial,
            shuffles=shuffles, rows=rows)
        key = unbounded_key = None
        if keyed:
            # The data before the seed splits it (a given validation set is the seed's too).
            data = engine.data_digest(list(unsplit) + list(validation if validation_data is not None
                                                             else ()), unsplit_rows)
            key, unbounded_key = engine.fit_keys(request, data, seeded=self.random_state is not None)
        return _FitPlan(request, key, unbounded_key, dtype, task_data)

    def _fit(self, X, y, sample_weight, validation_data, incremental, classes=None, context=None):
        from . import engine

        pretrained = self.__dict__.pop("_pretrained", None)
        # A hook hears epochs train: a fit that scikit-learn callbacks listen to trains.
        listened = context is not None and bool(callbacks_of(self))
        if pretrained is not None and not (incremental or listened or self._fitted
                                           or classes is not None):
            ready = pretrained.take_planned(self._input_key(X, y, sample_weight, validation_data))
            if ready is not None:
                return self._take_planned(*ready, X, y, sample_weight, context)
        plan = self._plan_fit(X, y, sample_weight, validation_data, incremental, classes, context,
                              keyed=pretrained is not None)
        request, seed = plan.request, plan.request.seed
        planned = None
        if pretrained is not None and request.epoch_hook is None:
            planned = pretrained.take(plan.key)
        if planned is not None:
            seed, result = planned
        else:
            result = engine.train([request])[0]
        return self._finish(request, seed, result, plan.dtype, context, plan.task_data)

    def _take_planned(self, value, plan, X, y, sample_weight, context):
        """Fit as the search planned it: the state its planning validated and the
        result trained for it (``value``: its ``(seed, result)``), nothing checked again."""
        self.__dict__.update(plan.fitted)
        for caught in plan.warnings:
            warnings.warn(caught.message, caught.category)
        task_data = {"X": X, "y": y, "metadata": None if sample_weight is None else
                     {"sample_weight": sample_weight}}
        if context is not None:
            context.call_on_fit_task_begin(estimator=self, **task_data)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return self._finish(plan.request, *value, dtype, context, task_data)

    def _finish(self, request, seed, result, dtype, context, task_data):
        """Set the fitted attributes from the trained ``result`` of ``request``."""
        if result.error is not None:
            raise result.error
        if result.convergence_warning and not request.incremental:
            warnings.warn(result.convergence_warning, ConvergenceWarning)
        self._training_spec = dataclasses.replace(request.training, jit_compile=result.jit_compile,
                                                  executor=result.executor)
        self._seed = seed
        self._record(result, dtype, keep=request.start is not None)
        if context is not None:
            context.call_on_fit_task_end(estimator=self, **task_data, reconstruction_attributes={})
        return self

    def _start(self, incremental):
        """Where a warm start or ``partial_fit`` continues from (as scikit-learn's MLP: the
        arrays, the optimizer for ``partial_fit`` only, and the stopping bookkeeping)."""
        from . import engine

        best_loss, best_score = self.best_loss_, self.best_validation_score_
        return engine.Start(
            self._layout_weights(np.float32), self._optimizer_state if incremental else None,
            epochs=getattr(self, "_epochs", self.n_iter_), samples=self.t_,
            no_improvement=getattr(self, "_no_improvement_count", 0),
            best_loss=np.inf if best_loss is None else best_loss,
            best_score=-np.inf if best_score is None or not self.early_stopping else best_score)

    def _epoch_reporter(self, context, task_data, dtype):
        """The request's epoch hook when scikit-learn callbacks listen (else None)."""
        if context is None or not callbacks_of(self):
            return None
        task_name = "lbfgs-iter" if self.solver == "lbfgs" else "epoch"
        return EpochReporter(self, context, task_name, task_data,
                             functools.partial(self._epoch_attributes, dtype=dtype))

    def _epoch_attributes(self, epoch, logs, weights, dtype):
        """The fitted attributes of the model as an epoch left it (for ``fitted_estimator``)."""
        from ._network import split_weights

        spec = self._network_spec
        coefs, intercepts, batch_norm = split_weights(spec, [np.asarray(w, dtype) for w in weights])
        return {"coefs_": coefs, "intercepts_": intercepts, "batch_norm_": batch_norm,
                "loss_": float(logs["loss"]), "n_iter_": epoch + 1,
                "n_layers_": len(spec.hidden_layer_sizes) + 2,
                "n_outputs_": spec.n_outputs, "out_activation_": spec.output_activation}

    _metric_name = None

    def _validation_scoring(self, validation):
        """``(score(outputs, Y, W) -> float, name)`` for the validation data: ``score``'s
        accuracy or R² by default, else the ``scoring`` scorer on the network's outputs."""
        if self.scoring is None or validation is None:
            return self._validation_score, self._metric_name
        from sklearn.metrics import check_scoring

        try:
            scorer = check_scoring(self, scoring=self.scoring)
        except ValueError as error:  # scikit-learn's message names check_scoring, not us
            raise ValueError(
                f"The 'scoring' parameter of {type(self).__name__} must be a scikit-learn scorer "
                "name (sklearn.metrics.get_scorer_names()) or a callable scorer(estimator, X, y). "
                f"Got {self.scoring!r} instead.") from error
        name = self.scoring if isinstance(self.scoring, str) else getattr(self.scoring, "__name__",
                                                                          "scoring")
        return functools.partial(self._scored_outputs, scorer, validation[0]), name

    def _scored_outputs(self, scorer, X, outputs, Y, sample_weight):
        """``scorer`` on an estimator whose predictions for ``X`` are ``outputs``."""
        view = copy.copy(self)
        view._forward = lambda _: outputs.astype(np.float64)
        weights = None if np.all(sample_weight == 1) else sample_weight
        return float(scorer(view, X, self._decode_targets(Y), sample_weight=weights))

    def _class_weights(self, codes):
        return np.float32(1.0)

    def _record(self, result, dtype, keep):
        """Set the fitted attributes from a finished training run."""
        from ._network import split_weights

        self.coefs_, self.intercepts_, self.batch_norm_ = split_weights(
            self._network_spec, [np.asarray(w, dtype) for w in result.weights])
        self._optimizer_state = result.optimizer_state
        self.n_iter_ = result.n_iter
        self._epochs = (getattr(self, "_epochs", 0) if keep else 0) + result.n_iter  # seeds shuffles
        self.t_ = result.t
        self.loss_ = float(result.loss)
        previous = self.loss_curve_ if keep else []
        self.loss_curve_ = previous + list(result.loss_curve)
        best_losses = [result.best_loss] + ([self.best_loss_] if keep else [])
        best_losses = [loss for loss in best_losses if loss is not None]
        self.best_loss_ = float(min(best_losses)) if result.best_loss is not None else None
        self._no_improvement_count = result.no_improvement
        self.validation_scores_, self.best_validation_score_ = self._validation_record(result, keep)
        history = result.history
        if keep:
            old = self.history_
            history = {k: old.get(k, [np.nan] * len(old.get("loss", []))) + v for k, v in history.items()}
        self.history_ = history
        self.n_layers_ = len(self._network_spec.hidden_layer_sizes) + 2
        self.n_outputs_ = self._network_spec.n_outputs
        self.out_activation_ = self._network_spec.output_activation

    def _validation_record(self, result, keep):
        """``validation_scores_`` and ``best_validation_score_``: a continued fit adds to
        the previous ones, as scikit-learn's MLP does."""
        scores, best = result.validation_scores, result.best_validation_score
        if keep and scores is not None and self.validation_scores_ is not None:
            scores = list(self.validation_scores_) + list(scores)
            best = max(best, self.best_validation_score_)
        return scores, best

    # --- persistence ---------------------------------------------------------------------
    def __getstate__(self):
        """Plain data only (arrays, numbers, strings, lists, dicts), so that ``skops.io``
        loads a fitted estimator trusting nothing but skdl's estimator classes."""
        state = super().__getstate__()
        for name in ("_network_spec", "_training_spec"):
            if name in state:
                state[name] = dataclasses.asdict(state[name])
        return state

    def __setstate__(self, state):
        from ._network import NetworkSpec
        from .engine import TrainingSpec
        from .engine.request import optimizer_state_fits

        if isinstance(state.get("_network_spec"), dict):
            spec = dict(state["_network_spec"], hidden_layer_sizes=tuple(
                state["_network_spec"]["hidden_layer_sizes"]))
            state["_network_spec"] = NetworkSpec(**spec)
        if isinstance(state.get("_training_spec"), dict):
            training = state["_training_spec"]
            device = training.get("device")
            state["_training_spec"] = TrainingSpec(**dict(
                training, device=tuple(device) if device is not None else None))
        optimizer_state = state.get("_optimizer_state")
        if optimizer_state is not None:
            reason = optimizer_state_fits(optimizer_state, state["_network_spec"],
                                          state["_training_spec"].solver)
            if reason is not None:
                warnings.warn(f"{type(self).__name__}: the saved optimizer state is dropped because "
                              f"{reason}; the weights are kept, and partial_fit starts a fresh "
                              "optimizer.", UserWarning)
                state["_optimizer_state"] = None
        super().__setstate__(state)

    # --- the fitted network ------------------------------------------------------------
    def _layout_weights(self, dtype):
        """The fitted arrays (``coefs_``, ``intercepts_``, ``batch_norm_``) in layout order."""
        from ._network import join_weights

        return [np.asarray(w, dtype) for w in join_weights(
            self._network_spec, self.coefs_, self.intercepts_, self.batch_norm_)]

    @property
    def model_(self):
        """keras.Model: a Keras network holding the fitted arrays, built on each access.

        It predicts what the estimator predicts (class probabilities, or
        values): the output activation is inside the network.
        """
        from ._network import build_network

        check_is_fitted(self)
        return build_network(self._network_spec, self._layout_weights(np.float32))

    def _output_dtype(self, X):
        """What ``predict`` computes in: NumPy's promotion of ``X``'s floating dtype and the
        fitted arrays' (as scikit-learn's MLP: float32 for float32 ``X`` and a model
        fitted on float32, float64 as soon as either is float64)."""
        dtype = np.result_type(X.dtype, *(np.asarray(w).dtype for w in self.coefs_ + self.intercepts_))
        return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def _forward(self, X):
        """Validated ``X`` through the network, in NumPy (see :meth:`_output_dtype`)."""
        from ._network import forward

        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        dtype = self._output_dtype(X)
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = forward(self._network_spec, self._layout_weights(dtype), X.astype(dtype, copy=False))
        if not np.all(np.isfinite(outputs)):
            raise ValueError(
                "The network's outputs overflow for some rows: the fit diverged or these "
                "inputs lie far outside the training data's scale. Refit with scaled inputs "
                "(e.g. StandardScaler) or a lower 'learning_rate_init'.")
        return outputs


class ClassifierOutputs:
    """``predict_proba``, ``predict_log_proba`` and ``predict`` of every skdl classifier.

    A classifier supplies ``_class_outputs(X)`` (the network's 2-D output
    for validated ``X``) and ``_multilabel``. A one-column output is the
    positive class's probability; several columns are the classes'
    probabilities (renormalised), or each label's for multilabel targets.
    It goes left of ``ClassifierMixin``, whose tags it extends.
    """

    #: The dtype probabilities are computed in (None: the network output's own).
    _proba_dtype = np.float64

    def predict_proba(self, X):
        """Probability of each class, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs shaped as at fit (a wrapped model may take images).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            For multilabel targets, each label's probability.
        """
        return self._proba(self._class_outputs(X))

    def _proba(self, outputs):
        """:meth:`predict_proba` of the network's 2-D ``outputs``."""
        outputs = np.asarray(outputs, dtype=self._proba_dtype)
        if self._multilabel:
            return outputs
        if outputs.shape[1] == 1:
            return np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
        return outputs / outputs.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels, in the training labels' type (an indicator matrix for
        multilabel targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        return self._labels(self.predict_proba(X))

    def _labels(self, proba):
        """:meth:`predict` of the probabilities ``proba``."""
        if self._multilabel:
            return (proba > 0.5).astype(int)
        if len(self.classes_) == 1:  # fitted on one class, as scikit-learn fits: it predicts it
            return np.repeat(self.classes_, len(proba))
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
