"""``MLPClassifierTF`` and ``MLPRegressorTF``: scikit-learn's MLP, trained by Keras.

They differ only where classification and regression differ: target
encoding, the output layer, the default loss, and predict / score.
"""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import BaseMLP, ClassifierOutputs, _as_float32
from ._callbacks import with_callbacks
from ._optim import (
    CLASSIFIER_LOSSES,
    REGRESSOR_LOSSES,
    REGRESSOR_OUTPUT_ACTIVATIONS,
    STOCHASTIC_SOLVERS,
)
from ._params import NONE, InstanceOf, Options
from ._targets import as_class_targets, class_codes, class_labels

_COMMON_PARAMETERS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer. An
        empty tuple gives a network with no hidden layer.
    activation : {"identity", "logistic", "tanh", "relu", "selu", "elu", \
"leaky_relu", "gelu", "softplus", "silu"}, default="relu"
        Activation of the hidden layers.
    solver : {"adam", "sgd", "lbfgs", "rmsprop", "adagrad", "adamw", "nadam", "adamax"}, default="adam"
        The optimizer. ``"lbfgs"`` runs full-batch L-BFGS-B through
        :func:`scipy.optimize.minimize` with the network's gradient.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * ||W||^2`` on the kernels,
        divided by the (weighted) batch size, as in scikit-learn.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule for ``solver="sgd"`` (as in scikit-learn).
    learning_rate_init : float, default=0.001
        The initial learning rate.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    max_iter : int, default=200
        Maximum number of epochs (iterations for ``"lbfgs"``).
    shuffle : bool, default=True
        Whether to shuffle samples each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. The same int gives the same predictions on a CPU.
    tol : float, default=1e-4
        Tolerance for the optimisation (see ``n_iter_no_change``).
    verbose : bool or int, default=False
        Print the loss (and validation score) after each epoch.
    warm_start : bool, default=False
        Reuse the previous solution as the starting point of ``fit``.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Whether ``solver="sgd"`` uses Nesterov's momentum.
    early_stopping : bool, default=False
        Stop when the validation score stops improving and restore the best
        epoch's weights. The validation data is ``validation_data`` passed to
        ``fit`` or else a ``validation_fraction`` split of the training data.
    validation_fraction : float in [0, 1), default=0.1
        Share of the training data held out for early stopping (only used
        with ``early_stopping=True``, where it must leave rows on both sides).
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decay rates of the Adam family (adam, adamw, nadam, adamax).
    epsilon : float, default=1e-8
        Numerical stability constant of adam, adamw, nadam, adamax, rmsprop, adagrad.
    n_iter_no_change : int or np.inf, default=10
        Epochs without ``tol`` improvement before stopping; ``np.inf`` trains
        for ``max_iter`` epochs.
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``solver="lbfgs"``.
    dropout : float in [0, 1), default=0.0
        Dropout rate after each hidden layer.
    batch_normalization : bool, default=False
        Batch normalisation before each hidden activation.
    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 * |W|`` on the kernels.
    kernel_initializer : str, default="scikit-learn"
        How the weights start. "scikit-learn": as scikit-learn's MLP starts
        them, kernels and biases uniform in ``±sqrt(6 / (fan_in + fan_out))``
        (``±sqrt(2 / ...)`` for ``activation="logistic"``), drawn from
        ``random_state`` before the early-stopping split and the epochs'
        shuffles, in scikit-learn's order, so that the same ``random_state``
        starts the network scikit-learn's would. Or a Keras initializer of the
        kernels ("glorot_uniform", "he_normal", ...; biases start at zero).
    wide_and_deep : bool, default=False
        Concatenate the input with the last hidden layer before the output
        layer (a Wide & Deep network).
    weight_decay : float or None, default=None
        Decoupled weight decay of the Keras optimizer (None: the optimizer's
        default, which is 0.004 for adamw and none for the others).
    callbacks : list of keras.callbacks.Callback or None, default=None
        Keras callbacks called each epoch with the logs ``loss``,
        ``val_loss``, ``val_score`` (and ``val_accuracy`` / ``val_r2``);
        setting ``model.stop_training`` stops training.
    device : {"auto", "cpu", "gpu", "gpu:N"}, default="auto"
        Where the network trains and predicts.
    jit_compile : bool or "auto", default="auto"
        Compile the training step with XLA (TensorFlow backend; JAX always
        compiles). An XLA step runs several times faster than TensorFlow's
        graph on small networks, but compiling costs about a second per
        network structure. ``"auto"`` compiles when the stack the fit trains
        in (a search's folds and candidates train together, see
        :mod:`skdl.model_selection`) runs 4000 minibatch steps or more,
        summed over its networks (1000 for a network of up to 100,000
        weights on the CPU), or reaches 1e12 FLOPs.
    n_hidden_layers : int or None, default=None
        When set, the number of hidden layers, each ``n_hidden_units`` wide
        (or as wide as ``hidden_layer_sizes``' first layer): depth as one
        integer, for searches that sample scalars (Optuna, scikit-optimize,
        ``randint``). ``hidden_layer_sizes`` keeps scikit-learn's meaning and
        is used when both are None.
    n_hidden_units : int or None, default=None
        When set, the width of every hidden layer (``n_hidden_layers`` of
        them, or as many as ``hidden_layer_sizes`` has).
    scoring : str, callable or None, default=None
        How the validation data is scored for ``validation_scores_`` and
        early stopping: a scikit-learn scorer name (``"f1_macro"``,
        ``"roc_auc"``, ``"neg_log_loss"``, ...) or a callable
        ``scorer(estimator, X, y)``, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. None
        scores with ``score`` (accuracy, R²), as scikit-learn's MLP does."""

_COMMON_ATTRIBUTES_DOC = """
    loss_ : float
        The last epoch's training loss.
    best_loss_ : float or None
        The lowest training loss seen (None with ``early_stopping``).
    loss_curve_ : list of float
        The training loss of each epoch.
    validation_scores_ : list of float or None
        The validation score of each epoch, when validation data was used.
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    history_ : dict of list
        Per-epoch logs as Keras' ``History.history``.
    t_ : int
        Number of training samples seen.
    coefs_ : list of ndarray
        Kernel of each Dense layer, in ``X``'s floating dtype (training runs
        in float32). These arrays are the model: ``predict``, warm starts
        and pickles use them, edits included.
    intercepts_ : list of ndarray
        Bias of each Dense layer, like ``coefs_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.
    n_iter_ : int
        Number of epochs run (iterations for lbfgs).
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        The output function.
    batch_norm_ : list of dict
        With ``batch_normalization``, each hidden layer's ``gamma``, ``beta``,
        ``moving_mean`` and ``moving_variance`` (empty otherwise).
    model_ : keras.Model
        A Keras network holding the fitted arrays, built on each access; it
        predicts what the estimator predicts (the output activation,
        ``out_activation_``, is inside it)."""


def _is_stochastic(estimator):
    """Whether ``partial_fit`` exists: the solver trains in minibatches (not L-BFGS)."""
    return estimator.solver in STOCHASTIC_SOLVERS


class MLPClassifierTF(ClassifierOutputs, ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by Keras.

    A one-import replacement for :class:`sklearn.neural_network.MLPClassifier`
    (same parameters, defaults and fitted attributes) with the Keras knobs
    that users tune as plain parameters, so that a search can reach them.

    Parameters
    ----------{_COMMON_PARAMETERS_DOC}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        Cross-entropy, or the mean squared error between the predicted
        probabilities and the one-hot targets.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, in the type they were given.{_COMMON_ATTRIBUTES_DOC}

    See Also
    --------
    MLPRegressorTF : The regressor.
    sklearn.neural_network.MLPClassifier : The NumPy original.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdl import MLPClassifierTF
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifierTF((16,), max_iter=300, learning_rate_init=0.01,
    ...                       random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [Options(*CLASSIFIER_LOSSES)],
        "class_weight": [NONE, Options("balanced"), InstanceOf(dict, "a dict")],
    }
    _metric_name = "accuracy"
    _proba_dtype = None  # the forward pass's: X's and the fitted arrays' floating dtype

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="log_loss", dropout=0.0, batch_normalization=False, l1=0.0,
                 kernel_initializer="scikit-learn", wide_and_deep=False, weight_decay=None,
                 class_weight=None, callbacks=None, device="auto", jit_compile="auto",
                 n_hidden_layers=None, n_hidden_units=None, scoring=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.loss = loss
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.l1 = l1
        self.kernel_initializer = kernel_initializer
        self.wide_and_deep = wide_and_deep
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.device = device
        self.jit_compile = jit_compile
        self.n_hidden_layers = n_hidden_layers
        self.n_hidden_units = n_hidden_units
        self.scoring = scoring

    def _prepare_targets(self, y, *, first, classes=None):
        y = as_class_targets(y)
        if first:
            self.classes_, multilabel = class_labels(y, classes)
            # One class trains as scikit-learn's MLP trains it: a binary network whose
            # target is always 0, and whose predictions are always that class.
            task = "multilabel" if multilabel else \
                "binary" if len(self.classes_) <= 2 else "multiclass"
        else:
            task = self._training_spec.task
            if (task == "multilabel") != (y.ndim == 2):
                raise ValueError("The type of target (multilabel or not) differs from the "
                                 "previous call to fit.")
        codes = class_codes(y, self.classes_, task == "multilabel",
                            checked=not first or classes is not None)
        if task == "multilabel":
            return task, y.astype(np.float32), None, y.shape[1]
        if task == "binary":
            return task, (codes == 1).astype(np.float32)[:, None], codes, 1
        return task, codes.astype(np.int32), codes, len(self.classes_)

    def _check_continued_targets(self, y, *, keep, incremental, classes):
        """scikit-learn's rules: ``partial_fit``'s ``classes`` never change; a warm start
        needs the same classes as before; ``partial_fit`` accepts a subset of them."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        known = self.classes_ if keep else None
        if classes is not None:
            if keep and not np.array_equal(self.classes_, unique_labels(classes)):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                 f"partial_fit, was: {self.classes_!r}")
            known = unique_labels(classes)
        if known is None:
            return
        seen = unique_labels(y)
        if self.warm_start:
            if set(seen) != set(known):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {known}, `y` has {seen}")
        elif len(np.setdiff1d(seen, known, assume_unique=True)):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{known}. 'y' has {seen}.")

    def _class_weights(self, codes):
        if self.class_weight is None:
            return np.float32(1.0)
        if codes is None:
            raise ValueError("class_weight is not supported for multilabel targets; pass "
                             "sample_weight instead.")
        return compute_sample_weight(self.class_weight, self.classes_[codes]).astype(np.float32)

    def _output_spec(self, task, n_outputs):
        return "softmax" if task == "multiclass" else "logistic", self.loss

    def _decode_targets(self, Y):
        """Encoded targets back to the labels they encode."""
        if Y.ndim == 1:
            return self.classes_[Y]
        if self._multilabel:
            return Y.astype(int)
        return self.classes_[Y[:, 0].astype(int)]

    def _validation_score(self, outputs, Y, sample_weight):
        if len(self.classes_) == 1:  # predict's accuracy: it always predicts the one class
            return 1.0
        if Y.ndim == 1:  # class codes
            correct = outputs.argmax(axis=1) == Y
        else:
            correct = np.all((outputs > 0.5) == (Y > 0.5), axis=1)
        return float(np.average(correct, weights=sample_weight if sample_weight.sum() > 0 else None))

    @available_if(_is_stochastic)
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch on ``(X, y)``, keeping the optimizer's state.

        Only available for the stochastic solvers (not ``solver="lbfgs"``),
        as in scikit-learn.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; required on the first call.

        Returns
        -------
        self : object
        """
        if not self._fitted and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._checked_fit(X, y, sample_weight, None, incremental=True, classes=classes)

    def _class_outputs(self, X):
        return self._forward(X)

    @property
    def _multilabel(self):
        return self._training_spec.task == "multilabel"


class MLPRegressorTF(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by Keras.

    A one-import replacement for :class:`sklearn.neural_network.MLPRegressor`
    with the Keras knobs users tune as plain parameters.

    Parameters
    ----------
    loss : {{"squared_error", "absolute_error", "huber", "poisson"}}, default="squared_error"
        ``"squared_error"`` is half the mean squared error, as in scikit-learn;
        ``"poisson"`` uses a log link (``out_activation_ == "exp"``).{_COMMON_PARAMETERS_DOC}
    output_activation : {{"identity", "relu", "softplus", "logistic", "tanh"}}, default="identity"
        Activation of the output layer (e.g. ``"softplus"`` for positive
        targets, ``"logistic"`` for targets in (0, 1)).

    Attributes
    ----------{_COMMON_ATTRIBUTES_DOC}

    See Also
    --------
    MLPClassifierTF : The classifier.
    sklearn.neural_network.MLPRegressor : The NumPy original.

    Examples
    --------
    >>> import numpy as np
    >>> from skdl import MLPRegressorTF
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> y = 2 * X.ravel() + 1
    >>> reg = MLPRegressorTF(hidden_layer_sizes=(), solver="lbfgs", random_state=0).fit(X, y)
    >>> np.round(reg.predict([[0.5]]), 2)
    array([2.])
    """

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [Options(*REGRESSOR_LOSSES)],
        "output_activation": [Options(*REGRESSOR_OUTPUT_ACTIVATIONS)],
    }
    _metric_name = "r2"
    _is_regressor = True

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 output_activation="identity", dropout=0.0, batch_normalization=False, l1=0.0,
                 kernel_initializer="scikit-learn", wide_and_deep=False, weight_decay=None,
                 callbacks=None, device="auto", jit_compile="auto", n_hidden_layers=None,
                 n_hidden_units=None, scoring=None):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.dropout = dropout
        self.batch_normalization = batch_normalization
        self.l1 = l1
        self.kernel_initializer = kernel_initializer
        self.wide_and_deep = wide_and_deep
        self.weight_decay = weight_decay
        self.callbacks = callbacks
        self.device = device
        self.jit_compile = jit_compile
        self.n_hidden_layers = n_hidden_layers
        self.n_hidden_units = n_hidden_units
        self.scoring = scoring

    def _prepare_targets(self, y, *, first, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError("Some value(s) of y are negative which is not allowed for "
                             "Poisson regression.")
        if first:
            self._y_is_1d = y.ndim == 1
        elif Y.shape[1] != self._network_spec.n_outputs:
            raise ValueError(f"y has {Y.shape[1]} outputs; the model was fitted with "
                             f"{self._network_spec.n_outputs}.")
        return "regression", _as_float32(Y, "y"), None, Y.shape[1]

    def _output_spec(self, task, n_outputs):
        if self.loss == "poisson":
            if self.output_activation != "identity":
                raise ValueError("loss='poisson' applies its own exp link; use "
                                 f"output_activation='identity'. Received: "
                                 f"output_activation={self.output_activation!r}.")
            return "exp", "poisson"
        return self.output_activation, self.loss

    def _decode_targets(self, Y):
        return Y.ravel() if self._y_is_1d else Y

    def _validation_score(self, outputs, Y, sample_weight):
        return float(r2_score(Y, outputs, sample_weight=sample_weight))

    @available_if(_is_stochastic)
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``(X, y)``, keeping the optimizer's state.

        Only available for the stochastic solvers (not ``solver="lbfgs"``),
        as in scikit-learn.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._checked_fit(X, y, sample_weight, None, incremental=True)

    def predict(self, X):
        """Predicted targets; 1-D when ``y`` had one column at fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In ``X``'s floating dtype, or float64 when the model was fitted
            on float64 data (as scikit-learn's MLP).
        """
        outputs = self._forward(X)
        return outputs.ravel() if self._y_is_1d else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class MLPClassifier(MLPClassifierTF):
    """:class:`MLPClassifierTF` under scikit-learn's class name.

    ``make_pipeline`` names a step after its class, so a script whose grid
    says ``"mlpclassifier__alpha"`` keeps working when its import changes
    from ``sklearn.neural_network`` to ``skdl``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdl import MLPClassifier
    >>> make_pipeline(StandardScaler(), MLPClassifier()).steps[-1][0]
    'mlpclassifier'
    """


class MLPRegressor(MLPRegressorTF):
    """:class:`MLPRegressorTF` under scikit-learn's class name (see :class:`MLPClassifier`).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skdl import MLPRegressor
    >>> make_pipeline(MLPRegressor()).steps[-1][0]
    'mlpregressor'
    """
