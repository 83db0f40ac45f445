"""Rosenblatt's perceptron in plain NumPy, a drop-in for scikit-learn's."""

import inspect
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._params import BOOLEAN, NONE, InstanceOf, Interval, Options, validate_parameters

MAX_INT = np.iinfo(np.int32).max


@contextmanager
def _unchanged_on_error(estimator):
    """Put every attribute back if the block raises.

    Fitted attributes are only assigned once training succeeded, but
    ``validate_data`` resets ``n_features_in_`` and ``feature_names_in_`` as
    soon as it sees the new ``X``.
    """
    before = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(before)
        raise


def _rows(X):
    """Each sample as (columns, values): all columns of a dense row, the stored ones of CSR."""
    if not scipy.sparse.issparse(X):
        return [(slice(None), x) for x in X]
    if not X.has_canonical_format:  # duplicate entries would collide in w[columns] += ...
        X = X.copy()
        X.sum_duplicates()
    return [(X.indices[a:b], X.data[a:b]) for a, b in zip(X.indptr[:-1], X.indptr[1:])]


def _dot(w, columns, x):
    """``w . x`` summed left to right, as sklearn's Cython loop does (``np.dot`` may not)."""
    products = w[columns] * x
    return np.add.accumulate(products)[-1] if products.size else 0.0


def _initial_weights(n_classes, n_features, coef_init, intercept_init):
    """Zeros, or copies of the given initial values, shaped like ``coef_`` and ``intercept_``."""
    rows = 1 if n_classes == 2 else n_classes
    coef, intercept = np.zeros((rows, n_features)), np.zeros(rows)
    if coef_init is not None:
        coef_init = np.array(coef_init, dtype=np.float64)
        if rows == 1 and coef_init.size == n_features:
            coef_init = coef_init.reshape(1, -1)
        if coef_init.shape != coef.shape:
            raise ValueError(f"coef_init has shape {coef_init.shape}; "
                             f"expected {coef.shape} for {n_classes} classes.")
        coef = coef_init
    if intercept_init is not None:
        intercept_init = np.atleast_1d(np.array(intercept_init, dtype=np.float64))
        if intercept_init.shape != intercept.shape:
            raise ValueError(f"intercept_init has shape {intercept_init.shape}; "
                             f"expected {intercept.shape} for {n_classes} classes.")
        intercept = intercept_init
    return coef, intercept


def _checked_sample_weight(sample_weight, X, allow_all_zero):
    """scikit-learn's own check of ``sample_weight``, as float64.

    Newer scikit-learn versions refuse all-zero weights unless
    ``allow_all_zero_weights``; 1.6 has no such parameter and accepts them,
    as its Perceptron then does.
    """
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters:
        return _check_sample_weight(sample_weight, X, dtype=np.float64,
                                    allow_all_zero_weights=allow_all_zero)
    return _check_sample_weight(sample_weight, X, dtype=np.float64)


class Perceptron(ClassifierMixin, BaseEstimator):
    """Linear perceptron classifier trained with Rosenblatt's rule.

    A pure-NumPy reference implementation of
    :class:`sklearn.linear_model.Perceptron`: same parameters, same fitted
    attributes and, with ``shuffle=False``, the same weights, epochs and update
    count.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet'}, default=None
        Regularization term; None trains the plain perceptron.
    alpha : float, default=0.0001
        Constant that multiplies the regularization term, if any.
    l1_ratio : float, default=0.15
        The Elastic Net mixing parameter, ``0 <= l1_ratio <= 1``; only used
        with ``penalty='elasticnet'``.
    fit_intercept : bool, default=True
        Whether to learn an intercept. If False, the data is assumed to be
        centered.
    max_iter : int, default=1000
        Maximum number of passes over the training data (epochs) in
        :meth:`fit`; :meth:`partial_fit` always makes one.
    tol : float or None, default=1e-3
        Training stops when an epoch's mean loss (unweighted, plus the
        penalty) is above the best mean loss so far minus ``tol`` for
        ``n_iter_no_change`` epochs in a row; with ``early_stopping``, when
        the validation accuracy is below the best one plus ``tol``. With
        ``tol=0`` an unchanged loss is no stall, so a separated training set
        runs all ``max_iter`` epochs. None: always run ``max_iter`` epochs.
    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.
    verbose : int, default=0
        Print a line per epoch when positive.
    eta0 : float, default=1.0
        Constant by which the updates are multiplied.
    n_jobs : int, default=None
        Accepted for compatibility; the one-vs-rest problems are solved one
        after the other.
    random_state : int, RandomState instance or None, default=0
        Seeds the shuffling and the early-stopping split.
    early_stopping : bool, default=False
        Whether to hold out a stratified ``validation_fraction`` of the data
        and stop when its accuracy has not improved by ``tol`` for
        ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=5
        Number of epochs with no improvement to wait before stopping.
    class_weight : dict, {class_label: weight} or "balanced", default=None
        Multiplies the updates made for the samples of each class.
        "balanced" uses ``n_samples / (n_classes * np.bincount(y))``.
    warm_start : bool, default=False
        Whether :meth:`fit` starts from the previous solution.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, as given in ``y``.
    coef_ : ndarray of shape (1, n_features) if n_classes == 2 else \
(n_classes, n_features)
        Weights of the decision function.
    intercept_ : ndarray of shape (1,) if n_classes == 2 else (n_classes,)
        Constants of the decision function.
    n_iter_ : int
        Number of epochs run; for more than two classes, the largest
        number over the one-vs-rest problems.
    t_ : float
        ``1 +`` the number of samples visited (held-out ones included), as in
        scikit-learn.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has feature
        names that are all strings.

    See Also
    --------
    sklearn.linear_model.Perceptron : The Cython implementation this one follows.
    sklearn.linear_model.SGDClassifier : Perceptron is SGD with
        ``loss="perceptron"`` and ``learning_rate="constant"``.

    Notes
    -----
    Rosenblatt's rule visits one sample at a time. With labels
    :math:`y_i \\in \\{-1, +1\\}`, whenever :math:`y_i (w \\cdot x_i + b) \\le 0`
    (a mistake, or a point on the boundary) it makes the update

    .. math:: w \\leftarrow w + \\eta_0 s_i y_i x_i, \\qquad
              b \\leftarrow b + \\eta_0 s_i y_i,

    where :math:`s_i` is the sample weight times the class weight; correctly
    classified points change nothing. More than two classes are learnt one
    against the rest. On linearly separable data the rule converges; a single
    perceptron draws one line, so it cannot represent XOR (Minsky and Papert,
    1969) and gets at most three of its four points right.

    The loop and the stopping rule replicate scikit-learn's ``_plain_sgd``
    operation for operation, which makes ``shuffle=False`` results identical.
    Shuffled orders come from NumPy's generator rather than scikit-learn's, so
    shuffled fits differ. Penalties are applied to the weights directly rather
    than through a running scale factor, which agrees to rounding error.
    Everything is computed in float64, also for float32 input (scikit-learn
    keeps float32). On sparse ``X``, as in scikit-learn, updates touch only a
    sample's stored entries and intercept updates are damped by a factor of
    0.01.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdl import Perceptron
    >>> X, y = load_iris(return_X_y=True)
    >>> petals, is_setosa = X[:, 2:], y == 0
    >>> clf = Perceptron(shuffle=False).fit(petals, is_setosa)
    >>> clf.score(petals, is_setosa)
    1.0
    >>> clf.predict([[1.5, 0.3], [4.5, 1.5]])
    array([ True, False])
    >>> X_xor, y_xor = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    >>> Perceptron().fit(X_xor, y_xor).score(X_xor, y_xor) <= 0.75
    True
    """

    _parameter_constraints = {
        "penalty": [Options("l2", "l1", "elasticnet"), NONE],
        "alpha": [Interval(Real, 0, None, "left")],
        "l1_ratio": [Interval(Real, 0, 1, "both")],
        "fit_intercept": [BOOLEAN],
        "max_iter": [Interval(Integral, 1, None, "left")],
        "tol": [Interval(Real, 0, None, "left"), NONE],
        "shuffle": [BOOLEAN],
        "verbose": [Interval(Integral, 0, None, "left"), BOOLEAN],
        "eta0": [Interval(Real, 0, None, "neither")],
        "n_jobs": [InstanceOf(Integral, "an int"), NONE],
        "random_state": [Interval(Integral, 0, 2**32 - 1, "both"),
                         InstanceOf(np.random.RandomState, "a numpy RandomState"), NONE],
        "early_stopping": [BOOLEAN],
        "validation_fraction": [Interval(Real, 0, 1, "neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, "left")],
        "class_weight": [Options("balanced"), InstanceOf(dict, "a dict"), NONE],
        "warm_start": [BOOLEAN],
    }

    def __init__(
        self,
        *,
        penalty=None,
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        eta0=1.0,
        n_jobs=None,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the perceptron, up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels; at least two classes.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial weights; ``(1, n_features)`` or ``(n_features,)`` for two
            classes. Defaults to zeros, or to ``coef_`` with ``warm_start``.
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts; ``(1,)`` or a scalar for two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of the updates, on top of ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        with _unchanged_on_error(self):
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
            check_classification_targets(y)
            classes = np.unique(y)
            if self.warm_start and hasattr(self, "coef_"):
                coef_init = self.coef_ if coef_init is None else coef_init
                intercept_init = self.intercept_ if intercept_init is None else intercept_init
            coef, intercept = _initial_weights(len(classes), X.shape[1], coef_init, intercept_init)
            coef, intercept, n_iter = self._train(X, y, classes, coef, intercept,
                                                  sample_weight, self.max_iter)
        self.classes_, self.coef_, self.intercept_ = classes, coef, intercept
        self.n_iter_, self.t_ = n_iter, 1.0 + n_iter * X.shape[0]
        if self.tol is not None and n_iter == self.max_iter:
            warnings.warn("Maximum number of iteration reached before convergence. "
                          "Consider increasing max_iter to improve the fit.",
                          ConvergenceWarning)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Make one epoch over the given samples, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Its class labels, all of them among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class label of the whole training set. Required on the first
            call; later calls may omit it or must repeat it.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample multipliers of the updates.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._validate_params()
        first_call = not hasattr(self, "classes_")
        if first_call and self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit")
        if first_call and self.class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: one batch "
                "does not tell the class frequencies. Pass a dict, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) on a large enough sample of the targets.")
        with _unchanged_on_error(self):
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64,
                                 reset=first_call)
            check_classification_targets(y)
            classes = self._partial_fit_classes(classes, first_call)
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ValueError(f"y contains labels {unseen.tolist()} that are not in "
                                 f"classes {classes.tolist()} of the first call to "
                                 "partial_fit.")
            if first_call:
                coef, intercept = _initial_weights(len(classes), X.shape[1], None, None)
            else:
                coef, intercept = self.coef_.copy(), self.intercept_.copy()
            coef, intercept, n_iter = self._train(X, y, classes, coef, intercept,
                                                  sample_weight, max_iter=1)
        self.classes_, self.coef_, self.intercept_ = classes, coef, intercept
        self.n_iter_, self.t_ = n_iter, getattr(self, "t_", 1.0) + n_iter * X.shape[0]
        return self

    def decision_function(self, X):
        """Confidence scores ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive scores predict ``classes_[1]``;
            otherwise the highest column wins.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels taken from ``classes_``.
        """
        scores = self.decision_function(X)
        indices = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[indices]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --- training ---------------------------------------------------------
    def _validate_params(self):
        validate_parameters(self._parameter_constraints, self.get_params(deep=False),
                            type(self).__name__)

    def _partial_fit_classes(self, classes, first_call):
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is None:
            return self.classes_
        classes = unique_labels(classes)
        if not first_call and not np.array_equal(classes, self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on the first "
                             f"call to partial_fit, was: {self.classes_!r}")
        return classes

    def _train(self, X, y, classes, coef, intercept, sample_weight, max_iter):
        """Train one weight vector per one-vs-rest problem (one for two classes)."""
        if len(classes) < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the "
                             f"data, but the data contains only one class: {classes[0]!r}.")
        sample_weight = _checked_sample_weight(sample_weight, X, allow_all_zero=self.early_stopping)
        class_weight = compute_class_weight(self.class_weight, classes=classes, y=y)
        held_out = self._validation_mask(y, sample_weight)
        rng = check_random_state(self.random_state)
        if len(classes) == 2:
            problems = [(classes[1], class_weight[1], class_weight[0], rng)]
        else:
            seeds = rng.randint(MAX_INT, size=len(classes))
            problems = [(c, cw, 1.0, np.random.RandomState(seed))
                        for c, cw, seed in zip(classes, class_weight, seeds)]
        n_iter = 0
        for k, (positive, pos_weight, neg_weight, rng) in enumerate(problems):
            y_pm = np.where(y == positive, 1.0, -1.0)
            weight = np.where(y_pm > 0, pos_weight, neg_weight) * sample_weight
            with np.errstate(over="ignore", invalid="ignore"):  # _epochs reports overflow itself
                coef[k], intercept[k], n_iter_k = self._epochs(
                    X, y_pm, coef[k], intercept[k], weight, sample_weight, held_out, max_iter, rng)
            n_iter = max(n_iter, n_iter_k)
        return coef, intercept, n_iter

    def _validation_mask(self, y, sample_weight):
        """True for the samples held out for early stopping (none without it)."""
        held_out = np.zeros(len(y), dtype=bool)
        if not self.early_stopping:
            return held_out
        split = StratifiedShuffleSplit(test_size=self.validation_fraction,
                                       random_state=self.random_state)
        train, val = next(split.split(np.zeros((len(y), 1)), y))
        if not np.any(sample_weight[val] > 0):
            raise ValueError("The sample weights for validation set are all zero, "
                             "consider using a different random state.")
        if len(train) == 0 or len(val) == 0:
            raise ValueError(f"Splitting {len(y)} samples with validation_fraction="
                             f"{self.validation_fraction} left an empty set; change "
                             "validation_fraction, add samples or disable early_stopping.")
        held_out[val] = True
        return held_out

    def _epochs(self, X, y, w, b, weight, sample_weight, held_out, max_iter, rng):
        """Run Rosenblatt's rule on labels ``y`` in {-1, +1}, as sklearn's ``_plain_sgd``.

        ``weight`` scales each sample's updates (class weight times sample
        weight); the held-out accuracy is weighted by ``sample_weight`` alone.
        Returns the final weights, intercept and number of epochs.
        """
        eta, alpha = self.eta0, self.alpha
        l1_ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(self.penalty, self.l1_ratio)
        decay = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        shrink, q = 0.0, np.zeros_like(w)  # truncated-gradient L1 state (Tsuruoka et al., 2009)
        w, rows, train = w.copy(), _rows(X), np.flatnonzero(~held_out)
        intercept_decay = 0.01 if scipy.sparse.issparse(X) else 1.0  # as sklearn's make_dataset
        X_val, y_val, weight_val = X[held_out], y[held_out], sample_weight[held_out]
        # The penalty term of the objective uses sklearn's running norms, which
        # an update refreshes and the decay scales but the L1 truncation leaves stale.
        sq_norm, l1_norm = w @ w, np.abs(w).sum()
        best, no_improvement = (-np.inf if self.early_stopping else np.inf), 0
        for epoch in range(1, max_iter + 1):
            objective = 0.0
            for i in rng.permutation(train) if self.shuffle else train:
                columns, x = rows[i]
                margin = y[i] * (_dot(w, columns, x) + b)
                objective += max(0.0, -margin)
                if self.penalty is not None:
                    objective += alpha * ((1.0 - l1_ratio) * 0.5 * sq_norm
                                          + l1_ratio * l1_norm)
                update = eta * y[i] * weight[i] if margin <= 0 else 0.0
                if self.penalty in ("l2", "elasticnet"):
                    w *= decay
                    sq_norm, l1_norm = sq_norm * decay**2, l1_norm * decay
                if update != 0.0:
                    w[columns] += update * x
                    touched = w[columns]  # sklearn's norms then sum over the sample's columns
                    sq_norm, l1_norm = touched @ touched, np.abs(touched).sum()
                    if self.fit_intercept:
                        b += update * intercept_decay
                if self.penalty in ("l1", "elasticnet"):
                    shrink += l1_ratio * eta * alpha
                    z, q_ = w[columns].copy(), q[columns]
                    w[columns] = np.where(z > 0, np.maximum(0.0, z - (shrink + q_)),
                                          np.where(z < 0, np.minimum(0.0, z + (shrink - q_)), z))
                    q[columns] += w[columns] - z
            if not (np.isfinite(b) and np.isfinite(w).all()):
                raise ValueError(f"Floating-point under-/overflow occurred at epoch #{epoch}. "
                                 "Scaling input data with StandardScaler or MinMaxScaler "
                                 "might help.")
            objective /= len(train)
            if self.verbose:
                print(f"-- Epoch {epoch}\nNorm: {np.linalg.norm(w):.2f}, "
                      f"NNZs: {np.count_nonzero(w)}, Bias: {b:.6f}, "
                      f"Objective: {objective:.6f}")
            if self.early_stopping:
                scores = (X_val @ w[None, :].T + b).ravel()
                score = accuracy_score(y_val, np.where(scores > 0, 1.0, -1.0),
                                       sample_weight=weight_val)
                stalled = self.tol is not None and score < best + self.tol
                best = max(best, score)
            else:
                stalled = self.tol is not None and objective > best - self.tol
                best = min(best, objective)
            no_improvement = no_improvement + 1 if stalled else 0
            if no_improvement >= self.n_iter_no_change:
                break
        return w, b, epoch
