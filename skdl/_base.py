"""The estimator half shared by the classifier and the regressor.

Validation, the fit / partial_fit flow, fitted state and persistence live
here once; :mod:`skdl.mlp` adds only what differs between classification and
regression (targets, output layer, default loss, predict and score).
"""

import dataclasses
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import __version__
from ._optim import ACTIVATIONS, KERNEL_INITIALIZERS, SOLVERS
from ._params import (
    BOOLEAN,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    Satisfies,
    validate_parameters,
)
from .exceptions import DivergenceError

#: Densifying a sparse X larger than this many bytes is refused.
MAX_DENSE_BYTES = 4 * 2**30


def _as_float32(values, name):
    """``values`` as contiguous float32; finite values beyond float32's range are refused."""
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(values, dtype=np.float32)
    if not np.all(np.isfinite(converted)):
        raise ValueError(f"{name} has values too large for float32 (|value| > "
                         f"{np.finfo(np.float32).max:.3g}), the precision the network trains in. "
                         "Scale it first (e.g. StandardScaler).")
    return converted


def _is_layer_sizes(value):
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    return all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes)


def _is_callback_list(value):
    import keras

    return all(isinstance(c, keras.callbacks.Callback) for c in value)


def _is_device(value):
    if value in ("auto", "cpu", "gpu"):
        return True
    return value.startswith("gpu:") and value[4:].isdigit()


class EstimatorBase(BaseEstimator):
    """What every skdl network estimator shares, whoever builds its network.

    :class:`BaseMLP` (skdl's own networks) and :class:`~skdl.wrappers.BaseWrapper`
    (the user's Keras model) both take from here: the transaction that keeps
    a fitted estimator intact when a fit fails, input and sample-weight
    checks, the pickled version tag and the tags.
    """

    def _transaction(self, fit, *args, **kwargs):
        """Run ``fit``; if it raises, put every attribute back as it was."""
        before = dict(self.__dict__)
        try:
            return fit(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    @staticmethod
    def _densify(X):
        if scipy.sparse.issparse(X):
            needed = X.shape[0] * X.shape[1] * 4
            if needed > MAX_DENSE_BYTES:
                raise ValueError(
                    f"X is a sparse matrix of shape {X.shape}; skdl trains on dense arrays and "
                    f"densifying it would need {needed / 2**30:.1f} GiB (limit "
                    f"{MAX_DENSE_BYTES / 2**30:.0f} GiB). Reduce the number of features, e.g. "
                    "with TruncatedSVD.")
            X = X.toarray()
        return _as_float32(X, "X")

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

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ may return __dict__ itself
        state.pop("_model", None)
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


class BaseMLP(EstimatorBase):
    """Shared machinery of :class:`~skdl.MLPClassifierTF` and :class:`~skdl.MLPRegressorTF`."""

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
        "validation_fraction": [Interval(Real, 0, 1, "neither")],
        "beta_1": [Interval(Real, 0, 1, "left")],
        "beta_2": [Interval(Real, 0, 1, "left")],
        "epsilon": [Interval(Real, 0, None, "neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, "left")],
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
    }

    # --- what subclasses define -------------------------------------------
    def _prepare_targets(self, y, *, first, classes=None):  # pragma: no cover - abstract
        """Return (task, encoded targets, label codes for stratification or None, n_outputs).

        On the first fit this also sets the target attributes (``classes_``).
        """
        raise NotImplementedError

    def _output_spec(self, task, n_outputs):  # pragma: no cover - abstract
        """Return (output activation inside the network, loss name, out_activation_)."""
        raise NotImplementedError

    def _validation_score(self, outputs, y_encoded, sample_weight):  # pragma: no cover
        raise NotImplementedError

    # --- public API --------------------------------------------------------
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
        return self._transaction(self._fit, X, y, sample_weight, validation_data,
                                 incremental=False)

    def _validate_params(self):
        validate_parameters(self._parameter_constraints, self.get_params(deep=False),
                            type(self).__name__)

    @property
    def _fitted(self):
        return hasattr(self, "_weights")

    def _check_X(self, X, reset):
        X = validate_data(self, X, reset=reset, accept_sparse=("csr", "csc", "coo"),
                          dtype=(np.float32, np.float64))
        return self._densify(X)

    def _check_X_y(self, X, y, reset, multi_output):
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=("csr", "csc", "coo"),
                             dtype=(np.float32, np.float64), multi_output=multi_output,
                             y_numeric=self._is_regressor)
        return self._densify(X), y

    _is_regressor = False

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return int(min(self.batch_size, n_samples))

    #: Training arithmetic (FLOPs) from which ``jit_compile="auto"`` compiles
    #: epochs with XLA: compiling costs about a second per network shape and
    #: pays back when a fit's arithmetic takes ten seconds or more.
    XLA_MIN_FLOPS = 1e12

    def _wants_xla(self, network, n_samples):
        if self.jit_compile != "auto":
            return bool(self.jit_compile)
        if self.solver == "lbfgs" or network.batch_normalization:
            return False
        units = (network.n_features,) + network.hidden_layer_sizes + (network.n_outputs,)
        n_params = sum((a + 1) * b for a, b in zip(units[:-1], units[1:]))
        return 6 * n_params * n_samples * self.max_iter >= self.XLA_MIN_FLOPS

    def _specs(self, n_features, n_outputs, task):
        from ._network import NetworkSpec
        from .engine import TrainingSpec

        sizes = self.hidden_layer_sizes
        sizes = (int(sizes),) if isinstance(sizes, Integral) else tuple(int(s) for s in sizes)
        inner_activation, loss, out_activation = self._output_spec(task, n_outputs)
        network = NetworkSpec(
            n_features=n_features, hidden_layer_sizes=sizes, activation=self.activation,
            n_outputs=n_outputs, output_activation=inner_activation, dropout=float(self.dropout),
            batch_normalization=bool(self.batch_normalization), wide_and_deep=bool(self.wide_and_deep),
            kernel_initializer=self.kernel_initializer)
        training = TrainingSpec(
            task=task, loss=loss, solver=self.solver, momentum=float(self.momentum),
            nesterovs_momentum=bool(self.nesterovs_momentum), beta_1=float(self.beta_1),
            beta_2=float(self.beta_2), epsilon=float(self.epsilon),
            weight_decay=None if self.weight_decay is None else float(self.weight_decay),
            l2_penalty=self.alpha > 0, l1_penalty=self.l1 > 0)
        return network, training, out_activation

    def _device(self):
        from ._device import resolve_device

        return resolve_device(self.device)

    def _borrow(self):
        from .engine import borrow_program

        return borrow_program(self._network_spec, self._training_spec, self._device())

    def _load(self, program):
        """Make ``program`` hold this estimator's weights (skipped when it already does)."""
        if program.owner is not self._weights_token:
            program.set_weights(self._weights)
            program.owner = self._weights_token

    def _split_validation(self, X, Y, W, codes, validation_data, seed):
        """Return (train arrays, validation arrays or None)."""
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (X_val, y_val) or "
                                 f"(X_val, y_val, sample_weight_val). Received: {type(validation_data).__name__}.")
            X_val = self._check_X(validation_data[0], reset=False)
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
            return (X, Y, W), (X_val, Y_val, W_val)
        if not self.early_stopping:
            return (X, Y, W), None
        X, X_val, Y, Y_val, W, W_val = train_test_split(
            X, Y, W, test_size=self.validation_fraction, random_state=seed, stratify=codes)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return (X, Y, W), (X_val, Y_val, W_val)

    def _fit(self, X, y, sample_weight, validation_data, incremental, classes=None):
        self._validate_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        keep = self._fitted and (incremental or self.warm_start)
        X, y = self._check_X_y(X, y, reset=not keep, multi_output=True)
        if X.shape[0] < 1:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        task, Y, codes, n_outputs = self._prepare_targets(y, first=not keep, classes=classes)
        W = self._check_sample_weight(sample_weight, X.shape[0]) * self._class_weights(codes)
        network, training, out_activation = self._specs(X.shape[1], n_outputs, task)
        jit = self._training_spec.jit_compile if keep else self._wants_xla(network, X.shape[0])
        training = dataclasses.replace(training, jit_compile=jit)
        if keep and (network != self._network_spec or training != self._training_spec):
            raise ValueError(
                "warm_start and partial_fit need the same network and targets as the previous "
                "fit; change warm_start=False (or call fit) to start over.")
        self._network_spec, self._training_spec = network, training
        if keep:
            seed = self._seed
        else:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        (X, Y, W), validation = self._split_validation(X, Y, W, codes if not keep else None,
                                                       validation_data, seed)

        with self._borrow() as program:
            program.owner = None
            program.start(seed + (self.n_iter_ if keep else 0),
                          weights=self._weights if keep else None,
                          optimizer_state=self._optimizer_state if incremental and keep else None,
                          learning_rate=self.learning_rate_init, alpha=self.alpha, l1=self.l1)
            outcome = self._train(program, X, Y, W, validation, seed, keep, incremental)
            # The epoch's loss is taken before its last update: check where that update led,
            # on (a chunk of) the training rows.
            weights, optimizer_state, outputs_finite = program.checked_state(X)
            if not (outputs_finite and all(np.all(np.isfinite(w)) for w in weights)):
                raise DivergenceError(
                    f"Training diverged: the weights or outputs became non-finite at epoch "
                    f"{outcome.n_iter}. Lower 'learning_rate_init', scale the inputs (e.g. "
                    "StandardScaler) or add regularisation (alpha). The estimator keeps its "
                    "previous state.")
            token = object()
            program.owner = token
        self._record(outcome, weights, optimizer_state, token, seed, out_activation, keep)
        return self

    def _train(self, program, X, Y, W, validation, seed, keep, incremental):
        """Run the solver on a started program; returns the loop's ``Outcome``."""
        from .engine.loop import Schedule, run_lbfgs, run_stochastic

        train = program.place(X, Y, W)
        if self.solver == "lbfgs":
            return run_lbfgs(program, train, X.shape[0], max_iter=self.max_iter,
                             max_fun=self.max_fun, tol=self.tol, verbose=self.verbose)
        score_validation = placed_validation = None
        if validation is not None:
            placed_validation = program.place(*validation)

            def score_validation():
                return self._validation_score(program.predict(validation[0]), *validation[1:])

        return run_stochastic(
            program, train, X.shape[0], validation=placed_validation,
            score_validation=score_validation, max_iter=1 if incremental else self.max_iter,
            batch_size=self._batch_size(X.shape[0]), shuffle=self.shuffle, seed=seed,
            schedule=Schedule(self.learning_rate, self.learning_rate_init, self.power_t,
                              applies=self.solver == "sgd"),
            tol=self.tol, n_iter_no_change=self.n_iter_no_change,
            early_stopping=self.early_stopping, callbacks=self.callbacks, verbose=self.verbose,
            t0=self.t_ if keep else 0, n_iter0=self.n_iter_ if incremental and keep else 0,
            incremental=incremental, metric_name=self._metric_name)

    _metric_name = None

    def _class_weights(self, codes):
        return np.float32(1.0)

    def _record(self, outcome, weights, optimizer_state, token, seed, out_activation, keep):
        """Set the fitted attributes from a finished training run."""
        self._weights, self._optimizer_state, self._weights_token = weights, optimizer_state, token
        self._seed = seed
        self.__dict__.pop("_model", None)
        self.n_iter_ = outcome.n_iter
        self.t_ = outcome.t
        self.loss_ = float(outcome.loss)
        previous = self.loss_curve_ if keep else []
        self.loss_curve_ = previous + [float(v) for v in outcome.loss_curve]
        best_losses = [outcome.best_loss] + ([self.best_loss_] if keep else [])
        best_losses = [loss for loss in best_losses if loss is not None]
        self.best_loss_ = float(min(best_losses)) if outcome.best_loss is not None else None
        self.validation_scores_ = outcome.validation_scores
        self.best_validation_score_ = outcome.best_validation_score
        history = outcome.history.as_dict()
        if keep:
            old = self.history_
            history = {k: old.get(k, [np.nan] * len(old.get("loss", []))) + v for k, v in history.items()}
        self.history_ = history
        n_hidden = len(self._network_spec.hidden_layer_sizes)
        self.n_layers_ = n_hidden + 2
        self.n_outputs_ = self._network_spec.n_outputs
        self.out_activation_ = out_activation

    # --- network readouts --------------------------------------------------
    def _dense_positions(self):
        """Indices of (kernel, bias) of each Dense layer in ``_weights``."""
        positions, index = [], 0
        per_hidden = 6 if self._network_spec.batch_normalization else 2
        for _ in self._network_spec.hidden_layer_sizes:
            positions.append((index, index + 1))
            index += per_hidden
        positions.append((index, index + 1))
        return positions

    @property
    def coefs_(self):
        """list of ndarray: the weight matrix of each Dense layer, input side first."""
        check_is_fitted(self)
        return [self._weights[k] for k, _ in self._dense_positions()]

    @property
    def intercepts_(self):
        """list of ndarray: the bias vector of each Dense layer, input side first."""
        check_is_fitted(self)
        return [self._weights[b] for _, b in self._dense_positions()]

    @property
    def model_(self):
        """keras.Model: a standalone Keras network holding the fitted weights.

        It is built on first access and belongs to this estimator alone
        (training reuses cached networks that other estimators share).
        """
        check_is_fitted(self)
        if "_model" not in self.__dict__:
            from ._network import build_network

            model = build_network(self._network_spec)
            model.set_weights(self._weights)
            self.__dict__["_model"] = model
        return self.__dict__["_model"]

    def _forward(self, X):
        """Validated ``X`` through the network and its output link."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        with self._borrow() as program:
            self._load(program)
            outputs = program.predict(X)
        if not np.all(np.isfinite(outputs)):
            raise ValueError(
                "The network's outputs overflow float32 for some rows: the fit diverged or these "
                "inputs lie far outside the training data's scale. Refit with scaled inputs "
                "(e.g. StandardScaler) or a lower 'learning_rate_init'.")
        return outputs


class ClassifierOutputs:
    """``predict_proba``, ``predict_log_proba`` and ``predict`` of every skdl classifier.

    A classifier supplies ``_class_outputs(X)`` (the network's 2-D output
    for validated ``X``) and ``_multilabel``. A one-column output is the
    positive class's probability; several columns are the classes'
    probabilities (renormalised in float64), or each label's for
    multilabel targets. It goes left of ``ClassifierMixin``, whose tags it
    extends.
    """

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
        outputs = np.asarray(self._class_outputs(X), dtype=np.float64)
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
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba > 0.5).astype(int)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
