"""Bad input gets scikit-learn's error type and a message naming the problem; a failed fit
keeps the previous model; faults in the middle of training leave a usable or unfitted estimator."""

import re

import keras
import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

from skdl import MLPClassifierTF, MLPRegressorTF, Perceptron
from skdl._params import InvalidParameterError

rng = np.random.RandomState(0)
X = rng.normal(size=(40, 4))
Y_CLS = np.arange(40) % 3
Y_REG = X @ [1.0, -1.0, 0.5, 0.0]
FAST = dict(max_iter=3, random_state=0)
ESTIMATORS = {
    "classifier": (lambda **kw: MLPClassifierTF(**{"hidden_layer_sizes": (4,), **FAST, **kw}), Y_CLS),
    "regressor": (lambda **kw: MLPRegressorTF(**{"hidden_layer_sizes": (4,), **FAST, **kw}), Y_REG),
    "perceptron": (lambda **kw: Perceptron(**{"max_iter": 5, "random_state": 0, **kw}), Y_CLS),
}


def with_nan(a):
    a = np.array(a, dtype=float)
    a.flat[3] = np.nan
    return a


def with_inf(a):
    a = np.array(a, dtype=float)
    a.flat[3] = np.inf
    return a


# (case id, estimators, fit arguments, expected error, message pattern)
FIT_CASES = [
    ("nan in X", "all", lambda y: (with_nan(X), y), ValueError, "NaN"),
    ("inf in X", "all", lambda y: (with_inf(X), y), ValueError, "infinity"),
    ("nan in y", ["regressor"], lambda y: (X, with_nan(y)), ValueError, "NaN"),
    ("inf in y", ["regressor"], lambda y: (X, with_inf(y)), ValueError, "infinity"),
    ("3-D X", "all", lambda y: (X.reshape(40, 2, 2), y), ValueError, "dim"),
    ("1-D X", "all", lambda y: (X[:, 0], y), ValueError, "2D array"),
    ("string X", "all", lambda y: (np.full((40, 4), "a"), y), ValueError, "convert|string"),
    ("complex X", "all", lambda y: (X + 1j, y), ValueError, "[Cc]omplex"),
    ("empty X", "all", lambda y: (X[:0], y[:0]), ValueError, "0 sample"),
    ("no features", "all", lambda y: (X[:, :0], y), ValueError, "0 feature"),
    ("length mismatch", "all", lambda y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
    ("continuous y", ["classifier", "perceptron"], lambda y: (X, Y_REG), ValueError, "Unknown label type"),
    ("one class", ["perceptron"], lambda y: (X, np.zeros(40)), ValueError, "class"),
    ("string y for a regressor", ["regressor"], lambda y: (X, np.array(["a"] * 40)), ValueError,
     "convert|numeric"),
]

PARAM_CASES = [
    ("unknown solver", dict(solver="newton"), "'solver' parameter.*'adam'.*'sgd'"),
    ("unknown activation", dict(activation="swish"), "'activation' parameter.*'relu'"),
    ("unknown loss", dict(loss="hinge"), "'loss' parameter.*'squared_error'"),
    ("unknown initializer", dict(kernel_initializer="zeros"), "'kernel_initializer' parameter.*'he_normal'"),
    ("unknown schedule", dict(learning_rate="cosine"), "'learning_rate' parameter.*'adaptive'"),
    ("zero layer size", dict(hidden_layer_sizes=(4, 0)), "'hidden_layer_sizes' parameter.*positive"),
    ("negative layer size", dict(hidden_layer_sizes=-3), "'hidden_layer_sizes' parameter"),
    ("negative alpha", dict(alpha=-1.0), r"'alpha' parameter.*\[0.0, inf\).*Got -1.0"),
    ("dropout of one", dict(dropout=1.0), r"'dropout' parameter.*\[0.0, 1.0\)"),
    ("negative dropout", dict(dropout=-0.1), "'dropout' parameter"),
    ("validation_fraction of one", dict(validation_fraction=1.0), r"'validation_fraction'.*\[0.0, 1.0\)"),
    ("zero batch", dict(batch_size=0), "'batch_size' parameter"),
    ("zero epochs", dict(max_iter=0), "'max_iter' parameter"),
    ("float epochs", dict(max_iter=2.5), "'max_iter' parameter.*an int"),
    ("zero learning rate", dict(learning_rate_init=0.0), "'learning_rate_init' parameter"),
    ("momentum above one", dict(momentum=1.5), "'momentum' parameter"),
    ("zero patience", dict(n_iter_no_change=0), "'n_iter_no_change' parameter"),
    ("string shuffle", dict(shuffle="yes"), "'shuffle' parameter.*a bool"),
    ("unknown device", dict(device="tpu"), "'device' parameter.*'gpu:N'"),
    ("not a callback", dict(callbacks=[print]), "'callbacks' parameter.*keras.callbacks.Callback"),
    ("bad jit flag", dict(jit_compile="yes"), "'jit_compile' parameter"),
]


def _cases(kind):
    return [name for name in ESTIMATORS if kind == "all" or name in kind]


@pytest.mark.parametrize("case, name, make_args, error, pattern",
                         [(c, n, a, e, p) for c, kind, a, e, p in FIT_CASES for n in _cases(kind)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_bad_fit_input_raises_and_keeps_the_previous_model(case, name, make_args, error, pattern):
    make, y = ESTIMATORS[name]
    estimator = make().fit(X, y)
    before = estimator.predict(X).copy()
    with pytest.raises(error, match=pattern):
        estimator.fit(*make_args(y))
    np.testing.assert_array_equal(estimator.predict(X), before)
    assert estimator.n_features_in_ == 4


@pytest.mark.parametrize("case, params, pattern", PARAM_CASES, ids=[c[0] for c in PARAM_CASES])
@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_bad_parameters_are_named_in_the_error(case, params, pattern, name):
    make, y = ESTIMATORS[name]
    if "loss" in params and name == "regressor":
        pattern = "'loss' parameter.*'huber'"
    with pytest.raises(InvalidParameterError, match=pattern):
        make(**params).fit(X, y)
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize("name, method", [(n, m) for n in ESTIMATORS for m in ("predict", "predict_proba", "score")
                                          if not (n != "classifier" and m == "predict_proba")])
def test_wrong_feature_count_and_unfitted_use(name, method):
    make, y = ESTIMATORS[name]
    estimator = make()
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(estimator, method)(*args)
    estimator.fit(X, y)
    bad = (X[:, :3], y) if method == "score" else (X[:, :3],)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4 features"):
        getattr(estimator, method)(*bad)


@pytest.mark.parametrize("sample_weight, pattern", [
    (np.r_[np.nan, np.ones(39)], "NaN"), (np.r_[-1.0, np.ones(39)], "Negative"),
    (np.zeros(40), "at least one non-zero"), (np.ones(39), r"sample_weight.shape")])
@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_bad_sample_weight(sample_weight, pattern, name):
    make, y = ESTIMATORS[name]
    with pytest.raises(ValueError, match=pattern):
        make().fit(X, y, sample_weight=sample_weight)


def test_partial_fit_errors():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifierTF().partial_fit(X, Y_CLS)
    clf = MLPClassifierTF((4,)).partial_fit(X, Y_CLS, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("`y` has classes not in `self.classes_`. "
                                                   "`self.classes_` has [0 1 2]. 'y' has [7].")):
        clf.partial_fit(X, np.full(40, 7))
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:, :3], Y_CLS)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        MLPClassifierTF(solver="lbfgs").partial_fit(X, Y_CLS, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="does not support early_stopping"):
        MLPRegressorTF(early_stopping=True).partial_fit(X, Y_REG)
    assert clf.n_iter_ == 1 and clf.t_ == 40  # the failed calls changed nothing


def test_unseen_labels_at_score_and_in_validation_data():
    clf = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    assert 0 <= clf.score(X, np.full(40, 9)) <= 1  # like scikit-learn: simply wrong predictions
    with pytest.raises(ValueError, match="labels not seen"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=(X, np.full(40, 9)))
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=X)
    with pytest.raises(ValueError, match="X has 3 features"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=(X[:, :3], Y_CLS))


def test_validation_split_too_small_and_poisson_misuse():
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressorTF(early_stopping=True, **FAST).fit(X[:8], Y_REG[:8])
    with pytest.raises(ValueError, match="negative"):
        MLPRegressorTF("poisson", **FAST).fit(X, Y_REG)
    with pytest.raises(ValueError, match="output_activation='identity'"):
        MLPRegressorTF("poisson", output_activation="relu", **FAST).fit(X, np.abs(Y_REG))


def test_gpu_device_without_a_gpu_says_so():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="device='gpu' asks for GPU 0, but the backend sees 0"):
        MLPClassifierTF(device="gpu", **FAST).fit(X, Y_CLS)


def test_sparse_input_is_densified():
    dense = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    sparse = MLPClassifierTF((4,), **FAST).fit(scipy.sparse.csr_matrix(X), Y_CLS)
    np.testing.assert_allclose(sparse.predict_proba(scipy.sparse.csr_matrix(X)), dense.predict_proba(X),
                               rtol=1e-6)


def test_mixed_dtype_dataframe_is_refused_with_the_column_problem():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": X[:, 0], "b": ["x", "y"] * 20})
    with pytest.raises(ValueError, match="could not convert|string"):
        MLPClassifierTF((4,), **FAST).fit(frame, Y_CLS)


# --- faults in the middle of training -------------------------------------------
class Raising(keras.callbacks.Callback):
    def __init__(self, error, at_epoch=1):
        super().__init__()
        self.error, self.at_epoch = error, at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise self.error


@pytest.mark.parametrize("error", [RuntimeError("callback broke"), KeyboardInterrupt()],
                         ids=["callback error", "KeyboardInterrupt"])
def test_an_interrupted_fit_keeps_the_previous_model(error):
    clf = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    before = clf.predict_proba(X)
    clf.set_params(callbacks=[Raising(error)], max_iter=5)
    with pytest.raises(type(error)):
        clf.fit(X, Y_CLS)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == 3
    fresh = MLPClassifierTF((4,), callbacks=[Raising(error)], max_iter=5)
    with pytest.raises(type(error)):
        fresh.fit(X, Y_CLS)
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def test_diverging_run_says_at_which_epoch():
    from skdl.exceptions import DivergenceError

    with pytest.raises(DivergenceError, match=r"diverged: the loss became (nan|inf) at epoch \d+"):
        MLPRegressorTF(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e6, max_iter=50,
                       random_state=0).fit(X * 1e6, Y_REG * 1e6)


def test_early_stopping_patience_running_out_after_the_first_epoch():
    from sklearn.neural_network import MLPClassifier

    params = dict(hidden_layer_sizes=(4,), early_stopping=True, n_iter_no_change=1, tol=100.0,
                  max_iter=50, random_state=0)
    data = np.tile(X, (3, 1)), np.tile(Y_CLS, 3)
    clf = MLPClassifierTF(**params).fit(*data)
    assert clf.n_iter_ == MLPClassifier(**params).fit(*data).n_iter_ == 3  # stops like scikit-learn
    assert len(clf.validation_scores_) == 3
    assert clf.predict(X).shape == (40,)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
def test_values_beyond_float32_are_refused_not_trained_into_nan(where):
    big = np.full(40, 1e39)
    args = {"X": (np.column_stack([big, X[:, 1:]]), Y_REG, None), "y": (X, big, None),
            "sample_weight": (X, Y_REG, big)}[where]
    reg = MLPRegressorTF(hidden_layer_sizes=(4,), **FAST)
    with pytest.raises(ValueError, match=f"{where} has values too large for float32"):
        reg.fit(args[0], args[1], sample_weight=args[2])


def test_a_fit_whose_outputs_overflow_never_predicts_nan_silently():
    # One SGD step at lr=1e6 on inputs of 1e6: the loss is still finite, the outputs are not.
    reg = MLPRegressorTF(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e6, max_iter=1,
                         batch_size=40, random_state=0)
    try:
        reg.fit(X * 1e6, Y_REG * 1e6)
    except ValueError as error:  # DivergenceError, when the weights themselves went non-finite
        assert "diverged" in str(error)
    else:
        with pytest.raises(ValueError, match="outputs overflow float32"):
            reg.predict(X * 1e6)
