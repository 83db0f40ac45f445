"""A matrix of bad inputs: each gets scikit-learn's exception type and a message naming
the problem, no Keras / TensorFlow exception escapes, and a failed fit leaves the model
fitted before it exactly as it was (an unfitted estimator stays unfitted).

Data are tiny (30 x 4) and fits run 3 epochs, so the module runs in seconds once Keras
is imported.
"""

import re
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skdl._params import InvalidParameterError
from skdl.mlp import MLPClassifierTF, MLPRegressorTF
from skdl.perceptron import Perceptron

rng = np.random.RandomState(0)
X = rng.normal(size=(30, 4))
Y_CLS = np.arange(30) % 3
Y_REG = X @ [1.0, -1.0, 0.5, 0.0]
TARGETS = {"classifier": Y_CLS, "regressor": Y_REG, "perceptron": Y_CLS}
FACTORIES = {
    "classifier": lambda **kw: MLPClassifierTF(**{"hidden_layer_sizes": (4,), "max_iter": 3,
                                                  "random_state": 0, **kw}),
    "regressor": lambda **kw: MLPRegressorTF(**{"hidden_layer_sizes": (4,), "max_iter": 3,
                                                "random_state": 0, **kw}),
    "perceptron": lambda **kw: Perceptron(**{"max_iter": 5, "random_state": 0, **kw}),
}
CLASS_NAME = {"classifier": "MLPClassifierTF", "regressor": "MLPRegressorTF",
              "perceptron": "Perceptron"}
MLPS = ("classifier", "regressor")
ALL = ("classifier", "regressor", "perceptron")
CLASSIFIERS = ("classifier", "perceptron")

#: Root modules of the backend; an exception of one of their types must never reach the user.
BACKEND_MODULES = {"keras", "tensorflow", "tf_keras", "jax", "jaxlib", "xla", "optree"}
#: Text that only a backend error would put in a message.
BACKEND_TEXT = re.compile(r"Graph execution error|InvalidArgumentError|ResourceExhausted|"
                          r"XlaRuntimeError|tensorflow/core|Traceback \(most recent call")


# --- helpers ----------------------------------------------------------------------
def make(name, **params):
    return FACTORIES[name](**params)


def fitted(name, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make(name, **params).fit(X, TARGETS[name])


def case(name, *values, id):
    """A parameter set for estimator ``name``."""
    return pytest.param(name, *values, id=f"{name}-{id}")


def assert_no_backend_leak(exc):
    """Neither the exception nor any exception chained to it is a backend type."""
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        root = (type(current).__module__ or "").split(".")[0]
        assert root not in BACKEND_MODULES, (
            f"a {type(current).__module__}.{type(current).__name__} leaked "
            f"(chained to {type(exc).__name__}): {current}")
        current = current.__cause__ or current.__context__
    assert not BACKEND_TEXT.search(str(exc)), f"backend text in the message: {exc}"


@contextmanager
def raises(error, match):
    with pytest.raises(error, match=match) as info:
        yield info
    assert_no_backend_leak(info.value)


def snapshot(est):
    """The fitted state a failed call must leave untouched."""
    snap = {"keys": sorted(vars(est)), "n_features_in_": est.n_features_in_,
            "predict": np.array(est.predict(X))}
    if isinstance(est, (MLPClassifierTF, MLPRegressorTF)):
        snap.update(coefs_=[c.copy() for c in est.coefs_],
                    intercepts_=[b.copy() for b in est.intercepts_],
                    n_iter_=est.n_iter_, t_=est.t_, loss_curve_=list(est.loss_curve_),
                    n_outputs_=est.n_outputs_)
        if isinstance(est, MLPClassifierTF):
            snap.update(proba=est.predict_proba(X), classes_=est.classes_.copy())
    else:
        snap.update(coef_=est.coef_.copy(), intercept_=est.intercept_.copy(),
                    classes_=est.classes_.copy(), n_iter_=est.n_iter_, t_=est.t_)
    return snap


def assert_intact(est, snap):
    after = snapshot(est)
    assert after["keys"] == snap["keys"], "the failed call added or removed attributes"
    for key, value in snap.items():
        if key in ("coefs_", "intercepts_"):
            assert len(after[key]) == len(value), key
            for a, b in zip(after[key], value):
                np.testing.assert_array_equal(a, b, err_msg=key)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        else:
            assert after[key] == value, key


def assert_unfitted(est):
    assert not hasattr(est, "n_features_in_"), "a failed first fit left n_features_in_ behind"
    with raises(NotFittedError, match="not fitted yet"):
        est.predict(X)


def with_value(a, value, index=3):
    a = np.array(a, dtype=float)
    a.flat[index] = value
    return a


TOO_BIG_FOR_FLOAT32 = 1e39  # finite in float64, inf once cast to float32


# --- 1. bad data at fit -----------------------------------------------------------
# (case id, estimators, name -> (fit args, fit kwargs), expected type, message pattern)
FIT_DATA = [
    ("X-nan", ALL, lambda n: ((with_value(X, np.nan), TARGETS[n]), {}), ValueError,
     "Input X contains NaN"),
    ("X-inf", ALL, lambda n: ((with_value(X, np.inf), TARGETS[n]), {}), ValueError,
     "Input X contains infinity"),
    ("X-None-object", ALL, lambda n: ((np.full((30, 4), None, dtype=object), TARGETS[n]), {}),
     ValueError, "Input X contains NaN"),
    ("y-nan", ALL, lambda n: ((X, with_value(TARGETS[n], np.nan)), {}), ValueError,
     "Input y contains NaN"),
    ("y-inf", ("regressor",), lambda n: ((X, with_value(Y_REG, np.inf)), {}), ValueError,
     "Input y contains infinity"),
    ("X-1d", ALL, lambda n: ((X[:, 0], TARGETS[n]), {}), ValueError,
     "Expected 2D array, got 1D array"),
    ("X-3d", ALL, lambda n: ((X.reshape(30, 2, 2), TARGETS[n]), {}), ValueError,
     "Found array with dim 3"),
    ("X-string", ALL, lambda n: ((np.full((30, 4), "a"), TARGETS[n]), {}), ValueError,
     "could not convert string to float"),
    ("X-complex", ALL, lambda n: ((X + 1j, TARGETS[n]), {}), ValueError,
     "Complex data not supported"),
    ("X-no-samples", ALL, lambda n: ((X[:0], TARGETS[n][:0]), {}), ValueError,
     r"0 sample\(s\)"),
    ("X-no-features", ALL, lambda n: ((X[:, :0], TARGETS[n]), {}), ValueError,
     r"0 feature\(s\)"),
    ("X-y-length", ALL, lambda n: ((X, TARGETS[n][:-1]), {}), ValueError,
     r"inconsistent numbers of samples: \[30, 29\]"),
    ("y-3d", MLPS, lambda n: ((X, np.zeros((30, 2, 2))), {}), ValueError,
     "Found array with dim 3"),
    ("y-continuous", CLASSIFIERS, lambda n: ((X, Y_REG), {}), ValueError, "Unknown label type"),
    # (skdl's MLP classifier fits one class, as scikit-learn's does: test_sklearn_parity.py)
    ("y-one-class", ("perceptron",), lambda n: ((X, np.zeros(30)), {}), ValueError,
     r"at least 2 classes.*only one class"),
    ("y-string", ("regressor",), lambda n: ((X, np.array(["a"] * 30)), {}), ValueError,
     "could not convert string to float"),
    ("sample_weight-nan", ALL,
     lambda n: ((X, TARGETS[n]), {"sample_weight": with_value(np.ones(30), np.nan)}),
     ValueError, "sample_weight contains NaN"),
    ("sample_weight-inf", ALL,
     lambda n: ((X, TARGETS[n]), {"sample_weight": with_value(np.ones(30), np.inf)}),
     ValueError, "sample_weight contains (NaN or )?infinity"),
    # scikit-learn's Perceptron accepts negative weights, so only the MLPs refuse them
    ("sample_weight-negative", MLPS,
     lambda n: ((X, TARGETS[n]), {"sample_weight": with_value(np.ones(30), -1.0)}),
     ValueError, "Negative values in data passed to sample_weight"),
    ("sample_weight-all-zero", ALL,
     lambda n: ((X, TARGETS[n]), {"sample_weight": np.zeros(30)}), ValueError,
     "Sample weights must contain at least one non-zero number"),
    ("sample_weight-length", ALL,
     lambda n: ((X, TARGETS[n]), {"sample_weight": np.ones(29)}), ValueError,
     r"sample_weight.shape == \(29,\), expected \(30,\)"),
    ("sample_weight-2d", ALL,
     lambda n: ((X, TARGETS[n]), {"sample_weight": np.ones((30, 1))}), ValueError,
     r"sample_weight.shape|Sample weights must be 1D"),
    # float64 values beyond float32's range: the estimator trains in float32
    ("X-too-large-for-float32", MLPS,
     lambda n: ((with_value(X, TOO_BIG_FOR_FLOAT32), TARGETS[n]), {}), ValueError,
     r"X.*(too large|float32)"),
    ("y-too-large-for-float32", ("regressor",),
     lambda n: ((X, with_value(Y_REG, TOO_BIG_FOR_FLOAT32)), {}), ValueError,
     r"\by\b.*(too large|float32)"),
    ("sample_weight-too-large-for-float32", MLPS,
     lambda n: ((X, TARGETS[n]), {"sample_weight": with_value(np.ones(30), TOO_BIG_FOR_FLOAT32)}),
     ValueError, r"sample_weight.*(too large|float32)"),
]


@pytest.mark.parametrize(
    "name, make_args, error, pattern",
    [case(n, a, e, p, id=c) for c, names, a, e, p in FIT_DATA for n in names])
def test_bad_fit_data_is_refused_and_keeps_the_previous_model(name, make_args, error, pattern):
    args, kwargs = make_args(name)
    est = fitted(name)
    snap = snapshot(est)
    with raises(error, pattern):
        est.fit(*args, **kwargs)
    assert_intact(est, snap)

    fresh = make(name)
    with raises(error, pattern):
        fresh.fit(*args, **kwargs)
    assert_unfitted(fresh)


# --- 2. bad parameters ------------------------------------------------------------
SOLVERS = ["adam", "sgd", "lbfgs", "rmsprop", "adagrad", "adamw", "nadam", "adamax"]  # as documented
ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "selu", "elu", "leaky_relu", "gelu",
               "softplus", "silu"]
SCHEDULES = ["constant", "invscaling", "adaptive"]
LOSSES = {"classifier": ["log_loss", "squared_error"],
          "regressor": ["squared_error", "absolute_error", "huber", "poisson"]}

# (case id, estimators, params, pattern after "must be ", valid values that must be listed)
PARAMS = [
    ("solver-unknown", MLPS, {"solver": "newton"}, "a str among", SOLVERS),
    ("activation-unknown", MLPS, {"activation": "swish"}, "a str among", ACTIVATIONS),
    ("loss-unknown", MLPS, {"loss": "hinge"}, "a str among", None),  # per estimator, below
    ("kernel_initializer-unknown", MLPS, {"kernel_initializer": "zeros"}, "a str among",
     ["glorot_uniform", "he_normal"]),
    ("learning_rate-unknown", MLPS, {"learning_rate": "cosine"}, "a str among", SCHEDULES),
    ("output_activation-unknown", ("regressor",), {"output_activation": "softmax"},
     "a str among", ["identity", "relu", "softplus", "logistic", "tanh"]),
    ("class_weight-unknown", ("classifier",), {"class_weight": "bal"}, "None, a str among",
     ["balanced"]),
    ("hidden_layer_sizes-zero-entry", MLPS, {"hidden_layer_sizes": (4, 0)}, "a positive int", None),
    ("hidden_layer_sizes-negative-entry", MLPS, {"hidden_layer_sizes": (-3,)}, "a positive int",
     None),
    ("hidden_layer_sizes-zero", MLPS, {"hidden_layer_sizes": 0}, "a positive int", None),
    ("hidden_layer_sizes-float-entry", MLPS, {"hidden_layer_sizes": (4.5,)}, "a positive int",
     None),
    ("alpha-negative", ALL, {"alpha": -1.0}, r"a float in the range \[0\.0, inf\)", None),
    ("dropout-one", MLPS, {"dropout": 1.0}, r"a float in the range \[0\.0, 1\.0\)", None),
    ("dropout-negative", MLPS, {"dropout": -0.1}, r"a float in the range \[0\.0, 1\.0\)", None),
    # scikit-learn's MLP takes validation_fraction=0.0 (unused without early_stopping).
    ("validation_fraction-zero", ("perceptron",), {"validation_fraction": 0.0},
     r"a float in the range \(0\.0, 1\.0\)", None),
    ("validation_fraction-one", ("perceptron",), {"validation_fraction": 1.0},
     r"a float in the range \(0\.0, 1\.0\)", None),
    ("validation_fraction-one", MLPS, {"validation_fraction": 1.0},
     r"a float in the range \[0\.0, 1\.0\)", None),
    ("batch_size-zero", MLPS, {"batch_size": 0},
     r"a str among \{'auto'\} or an int in the range \[1, inf\)", None),
    ("batch_size-float", MLPS, {"batch_size": 2.0},
     r"a str among \{'auto'\} or an int in the range \[1, inf\)", None),
    ("max_iter-zero", ALL, {"max_iter": 0}, r"an int in the range \[1, inf\)", None),
    ("max_iter-float", ALL, {"max_iter": 2.5}, r"an int in the range \[1, inf\)", None),
    ("learning_rate_init-zero", MLPS, {"learning_rate_init": 0.0},
     r"a float in the range \(0\.0, inf\)", None),
    ("learning_rate_init-negative", MLPS, {"learning_rate_init": -0.1},
     r"a float in the range \(0\.0, inf\)", None),
    ("momentum-above-one", MLPS, {"momentum": 1.5}, r"a float in the range \[0\.0, 1\.0\]", None),
    ("n_iter_no_change-zero", ALL, {"n_iter_no_change": 0}, r"an int in the range \[1, inf\)",
     None),
    ("shuffle-string", ALL, {"shuffle": "yes"}, "a bool", None),
    ("device-tpu", MLPS, {"device": "tpu"}, "one of 'auto', 'cpu', 'gpu' or 'gpu:N'", None),
    ("random_state-string", MLPS, {"random_state": "a"}, "an int", None),
    ("penalty-unknown", ("perceptron",), {"penalty": "l3"}, "a str among",
     ["l1", "l2", "elasticnet"]),
    ("eta0-zero", ("perceptron",), {"eta0": 0.0}, r"a float in the range \(0\.0, inf\)", None),
]


@pytest.mark.parametrize(
    "name, params, expected, valid",
    [case(n, p, e, v, id=c) for c, names, p, e, v in PARAMS for n in names])
def test_bad_parameter_is_named_with_its_valid_values(name, params, expected, valid):
    (param, value), = params.items()
    if param == "loss":
        valid = LOSSES[name]
    est = fitted(name)
    snap, good = snapshot(est), est.get_params()
    est.set_params(**params)
    pattern = (rf"The '{param}' parameter of {CLASS_NAME[name]} must be {expected}.*"
               rf"Got {re.escape(repr(value))} instead")
    with raises(InvalidParameterError, pattern) as info:
        est.fit(X, TARGETS[name])
    # scikit-learn's convention: both except clauses catch a bad parameter
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    for option in valid or []:
        assert repr(option) in str(info.value), f"{option!r} is not listed: {info.value}"
    est.set_params(**good)
    assert_intact(est, snap)


# --- 3. bad data after fit (predict, predict_proba, score, ...) -----------------------
def _methods(name):
    return {"classifier": ("predict", "predict_proba", "score"),
            "regressor": ("predict", "score"),
            "perceptron": ("predict", "decision_function", "score")}[name]


PREDICT_DATA = [
    ("X-3-features", lambda n: X[:, :3], ValueError,
     r"X has 3 features, but \w+ is expecting 4 features as input"),
    ("X-1d", lambda n: X[:, 0], ValueError, "Expected 2D array, got 1D array"),
    ("X-3d", lambda n: X.reshape(30, 2, 2), ValueError, "Found array with dim 3"),
    ("X-nan", lambda n: with_value(X, np.nan), ValueError, "Input X contains NaN"),
    ("X-inf", lambda n: with_value(X, np.inf), ValueError, "Input X contains infinity"),
    ("X-string", lambda n: np.full((30, 4), "a"), ValueError, "could not convert string to float"),
    ("X-complex", lambda n: X + 1j, ValueError, "Complex data not supported"),
    ("X-no-samples", lambda n: X[:0], ValueError, r"0 sample\(s\)"),
    ("X-no-features", lambda n: X[:, :0], ValueError, r"0 feature\(s\)"),
]


@pytest.mark.parametrize(
    "name, method, make_X, error, pattern",
    [case(n, m, a, e, p, id=f"{m}-{c}") for c, a, e, p in PREDICT_DATA for n in ALL
     for m in _methods(n)])
def test_bad_data_after_fit_is_refused(name, method, make_X, error, pattern):
    est = fitted(name)
    snap = snapshot(est)
    Xbad = make_X(name)
    args = (Xbad, TARGETS[name][:len(Xbad)]) if method == "score" else (Xbad,)
    with raises(error, pattern):
        getattr(est, method)(*args)
    assert_intact(est, snap)


@pytest.mark.parametrize("name, method", [case(n, m, id=m) for n in MLPS for m in _methods(n)])
def test_values_beyond_float32_after_fit_predict_in_float64_or_are_refused(name, method):
    # Predictions run in X's dtype (float64 here, as scikit-learn's MLP): 1e39 is a number,
    # not an inf; what comes back is finite, or a ValueError saying the outputs overflow.
    est = fitted(name)
    Xbig = with_value(X, TOO_BIG_FOR_FLOAT32)
    args = (Xbig, TARGETS[name]) if method == "score" else (Xbig,)
    try:
        out = getattr(est, method)(*args)
    except ValueError as error:
        assert "overflow" in str(error)
    else:
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", [case(n, id="score-y-length") for n in ALL])
def test_score_with_a_y_of_the_wrong_length(name):
    est = fitted(name)
    with raises(ValueError, r"inconsistent numbers of samples"):
        est.score(X, TARGETS[name][:-1])


@pytest.mark.parametrize("name", [case(n, id="renamed-columns") for n in ALL])
def test_feature_names_that_differ_from_fit(name):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make(name).fit(frame, TARGETS[name])
    with raises(ValueError, "The feature names should match those that were passed during fit"):
        est.predict(frame.rename(columns={"a": "z"}))


NOT_FITTED = [(n, m) for n in ALL for m in _methods(n)] + [
    ("classifier", "predict_log_proba"), ("classifier", "coefs_"), ("classifier", "intercepts_"),
    ("classifier", "model_"), ("regressor", "coefs_"), ("regressor", "model_")]


@pytest.mark.parametrize("name, method", [case(n, m, id=m) for n, m in NOT_FITTED])
def test_use_before_fit_raises_not_fitted(name, method):
    est = make(name)
    with raises(NotFittedError, rf"This {CLASS_NAME[name]} instance is not fitted yet"):
        attribute = getattr(est, method)
        if callable(attribute):
            attribute(*((X, TARGETS[name]) if method == "score" else (X,)))


# --- 4. scenarios: validation data, warm_start, partial_fit, losses, divergence ------
# Each scenario is (case id, estimators, setup, action, expected type, pattern).
# ``setup(name)`` returns the estimator (fitted or not); ``action(est, name)`` fails.
# Parameters that ``action`` sets are put back before the fitted state is compared.
def _fit(**params):
    return lambda est, n: est.set_params(**params).fit(X, TARGETS[n])


def _fit_with(make_args, **params):
    def action(est, n):
        args, kwargs = make_args(n)
        est.set_params(**params).fit(*args, **kwargs)
    return action


def _partial_fit(make_args, **params):
    def action(est, n):
        args, kwargs = make_args(n)
        est.set_params(**params).partial_fit(*args, **kwargs)
    return action


def _vd(make_vd):
    return _fit_with(lambda n: ((X, TARGETS[n]), {"validation_data": make_vd(n)}))


def _fresh(**params):
    return lambda n: make(n, **params)


def _fitted(**params):
    return lambda n: fitted(n, **params)


def _classes(n):
    """What a first partial_fit call needs besides X and y."""
    return {} if n == "regressor" else {"classes": [0, 1, 2]}


def _fitted_incrementally(n):
    return make(n).partial_fit(X, TARGETS[n], **_classes(n))


MULTILABEL = np.c_[Y_CLS == 0, Y_CLS == 1].astype(int)
#: The Perceptron's message, or scikit-learn's MLP's (which skdl's MLPs give).
UNSEEN_7 = r"labels.*\[7\]|" + re.escape("`self.classes_` has [0 1 2]. 'y' has [7].")
DIVERGING = {"solver": "sgd", "learning_rate_init": 1e6, "momentum": 0.9, "max_iter": 5}


def _diverging_data(n):
    return (X * 1e6, Y_REG * 1e6 if n == "regressor" else TARGETS[n]), {}


SCENARIOS = [
    # validation_data
    ("validation_data-not-a-tuple", MLPS, _fitted(), _vd(lambda n: X), ValueError,
     r"validation_data must be a tuple \(X_val, y_val\)"),
    ("validation_data-4-tuple", MLPS, _fitted(),
     _vd(lambda n: (X, TARGETS[n], np.ones(30), np.ones(30))), ValueError,
     "validation_data must be a tuple"),
    ("validation_data-3-features", MLPS, _fitted(), _vd(lambda n: (X[:, :3], TARGETS[n])),
     ValueError, r"X has 3 features, but \w+ is expecting 4 features"),
    ("validation_data-unseen-labels", ("classifier",), _fitted(),
     _vd(lambda n: (X, np.full(30, 9))), ValueError, r"labels not seen.*\[9\]"),
    ("validation_data-length", MLPS, _fitted(), _vd(lambda n: (X, TARGETS[n][:-1])), ValueError,
     "validation_data has 30 samples in X_val but 29 in y_val"),
    ("validation_data-X-nan", MLPS, _fitted(), _vd(lambda n: (with_value(X, np.nan), TARGETS[n])),
     ValueError, "Input X contains NaN"),
    ("validation_data-y-nan", ("regressor",), _fitted(),
     _vd(lambda n: (X, with_value(Y_REG, np.nan))), ValueError,
     r"(?s)^(?=.*NaN)(?=.*(y_val|validation))"),
    ("validation_data-y-scalar", MLPS, _fitted(), _vd(lambda n: (X, 3.0)), (ValueError, TypeError),
     r"y_val|validation"),
    ("validation_data-negative-weight", MLPS, _fitted(),
     _vd(lambda n: (X, TARGETS[n], -np.ones(30))), ValueError,
     "Negative values in data passed to sample_weight"),
    # early stopping with a validation split of fewer than 2 samples (8 * 0.1 -> 1)
    ("early_stopping-tiny-split", ("regressor",), _fitted(),
     _fit_with(lambda n: ((X[:8], Y_REG[:8]), {}), early_stopping=True), ValueError,
     r"validation set is too small.*validation_fraction"),
    # a stratified split of 1 sample fails in train_test_split first, as in scikit-learn's MLP
    ("early_stopping-tiny-split", CLASSIFIERS, _fitted(),
     _fit_with(lambda n: ((X[:8], Y_CLS[:8]), {}), early_stopping=True), ValueError,
     (r"validation set is too small|test_size = 1 should be greater or equal to the number "
      r"of classes")),
    # Poisson loss
    ("poisson-negative-y", ("regressor",), _fitted(), _fit(loss="poisson"), ValueError,
     "negative.*Poisson"),
    ("poisson-relu-output", ("regressor",), _fitted(),
     _fit_with(lambda n: ((X, np.abs(Y_REG)), {}), loss="poisson", output_activation="relu"),
     ValueError, r"loss='poisson'.*output_activation='identity'"),
    # divergence
    ("diverging-sgd", MLPS, _fitted(), _fit_with(_diverging_data, **DIVERGING), ValueError,
     r"(?i)diverged.*epoch \d+"),
    ("diverging-sgd-first-fit", MLPS, _fresh(), _fit_with(_diverging_data, **DIVERGING),
     ValueError, r"(?i)diverged.*epoch \d+"),
    ("diverging-eta0", ("perceptron",), _fitted(),
     _fit_with(lambda n: ((X * 1e300, Y_CLS), {}), eta0=1e300), ValueError,
     r"(?i)(diverg|overflow).*epoch #?\d+"),
    # warm_start on different targets, features or network
    ("warm_start-unseen-labels", ("classifier",), _fitted(),
     _fit_with(lambda n: ((X, Y_CLS + 5), {}), warm_start=True), ValueError,
     re.escape("warm_start can only be used where `y` has the same classes as in the previous "
               "call to fit. Previously got [0 1 2], `y` has [5 6 7]")),
    ("warm_start-multilabel-after-multiclass", ("classifier",), _fitted(),
     _fit_with(lambda n: ((X, MULTILABEL), {}), warm_start=True), ValueError,
     re.escape("Previously got [0 1 2], `y` has [0 1]")),  # scikit-learn's check comes first
    ("warm_start-two-outputs-after-one", ("regressor",), _fitted(),
     _fit_with(lambda n: ((X, np.c_[Y_REG, Y_REG]), {}), warm_start=True), ValueError,
     "y has 2 outputs; the model was fitted with 1"),
    ("warm_start-3-features", MLPS, _fitted(),
     _fit_with(lambda n: ((X[:, :3], TARGETS[n]), {}), warm_start=True), ValueError,
     r"X has 3 features, but \w+ is expecting 4 features"),
    ("warm_start-other-network", MLPS, _fitted(), _fit(warm_start=True, hidden_layer_sizes=(5,)),
     ValueError, "warm_start and partial_fit need the same network"),
    # partial_fit on a fitted estimator
    ("partial_fit-unseen-labels", CLASSIFIERS, _fitted(),
     _partial_fit(lambda n: ((X, np.full(30, 7)), {})), ValueError, UNSEEN_7),
    ("partial_fit-unseen-labels-after-partial_fit", ("classifier",), _fitted_incrementally,
     _partial_fit(lambda n: ((X, np.full(30, 7)), {})), ValueError, UNSEEN_7),
    ("partial_fit-3-features", ALL, _fitted(),
     _partial_fit(lambda n: ((X[:, :3], TARGETS[n]), {})), ValueError,
     r"X has 3 features, but \w+ is expecting 4 features"),
    ("partial_fit-3-features-after-partial_fit", MLPS, _fitted_incrementally,
     _partial_fit(lambda n: ((X[:, :3], TARGETS[n]), {})), ValueError,
     r"X has 3 features, but \w+ is expecting 4 features"),
    ("partial_fit-other-classes", CLASSIFIERS, _fitted(),
     _partial_fit(lambda n: ((X, TARGETS[n]), {"classes": [0, 1, 2, 3]})), ValueError,
     r"(?i)classes.*(not the same|differ)"),
    ("partial_fit-other-classes-after-partial_fit", CLASSIFIERS,
     lambda n: make(n).partial_fit(X, Y_CLS, classes=[0, 1, 2]),
     _partial_fit(lambda n: ((X, TARGETS[n]), {"classes": [0, 1, 2, 3]})), ValueError,
     r"(?i)classes.*(not the same|differ)"),
    ("partial_fit-multilabel-after-multiclass", ("classifier",), _fitted(),
     _partial_fit(lambda n: ((X, MULTILABEL), {})), ValueError,
     r"type of target \(multilabel or not\) differs"),
    ("partial_fit-two-outputs-after-one", ("regressor",), _fitted(),
     _partial_fit(lambda n: ((X, np.c_[Y_REG, Y_REG]), {})), ValueError,
     "y has 2 outputs; the model was fitted with 1"),
    ("partial_fit-lbfgs", MLPS, _fitted(solver="lbfgs"),
     _partial_fit(lambda n: ((X, TARGETS[n]), {})), AttributeError,
     "has no attribute 'partial_fit'"),  # hidden, as scikit-learn hides it
    ("partial_fit-early_stopping", MLPS, _fitted(early_stopping=True),
     _partial_fit(lambda n: ((X, TARGETS[n]), {})), ValueError,
     "partial_fit does not support early_stopping"),
    ("partial_fit-negative-weight", MLPS, _fitted(),
     _partial_fit(lambda n: ((X, TARGETS[n]), {"sample_weight": -np.ones(30)})), ValueError,
     "Negative values in data passed to sample_weight"),
    ("partial_fit-bad-parameter", ALL, _fitted(),
     _partial_fit(lambda n: ((X, TARGETS[n]), {}), alpha=-1.0), InvalidParameterError,
     r"The 'alpha' parameter of \w+ must be"),
    ("partial_fit-X-nan", ALL, _fitted(),
     _partial_fit(lambda n: ((with_value(X, np.nan), TARGETS[n]), {})), ValueError,
     "Input X contains NaN"),
    # partial_fit on an unfitted estimator
    ("partial_fit-first-call-without-classes", CLASSIFIERS, _fresh(),
     _partial_fit(lambda n: ((X, Y_CLS), {})), ValueError,
     "classes must be passed on the first call to partial_fit"),
    ("partial_fit-first-call-classes-missing-a-label", CLASSIFIERS, _fresh(),
     _partial_fit(lambda n: ((X, Y_CLS), {"classes": [0, 1]})), ValueError,
     r"labels.*\[2\]|" + re.escape("`self.classes_` has [0 1]. 'y' has [0 1 2].")),
    ("partial_fit-first-call-one-class", ("perceptron",), _fresh(),
     _partial_fit(lambda n: ((X, np.zeros(30, int)), {"classes": [0]})), ValueError,
     r"at least 2 classes.*only one class"),
    ("partial_fit-first-call-early_stopping", ALL, _fresh(early_stopping=True),
     _partial_fit(lambda n: ((X, TARGETS[n]), _classes(n))),
     ValueError, r"early_stopping"),
    ("partial_fit-first-call-lbfgs", MLPS, _fresh(solver="lbfgs"),
     _partial_fit(lambda n: ((X, TARGETS[n]), _classes(n))),
     AttributeError, "has no attribute 'partial_fit'"),
    ("partial_fit-first-call-X-1d", MLPS, _fresh(),
     _partial_fit(lambda n: ((X[:, 0], TARGETS[n]), _classes(n))),
     ValueError, "Expected 2D array, got 1D array"),
]


@pytest.mark.parametrize(
    "name, setup, action, error, pattern",
    [case(n, s, a, e, p, id=c) for c, names, s, a, e, p in SCENARIOS for n in names])
def test_scenario_is_refused_and_keeps_the_estimator_as_it_was(name, setup, action, error,
                                                              pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = setup(name)
    was_fitted = hasattr(est, "n_features_in_")
    snap, params = (snapshot(est) if was_fitted else None), est.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with raises(error, pattern):
            action(est, name)
    est.set_params(**params)
    if was_fitted:
        assert_intact(est, snap)
    else:
        assert_unfitted(est)


# --- 5. devices ---------------------------------------------------------------------
@pytest.fixture
def no_gpu(monkeypatch):
    """The backend sees no GPU: the real state on a CPU machine, simulated on a GPU one."""
    import skdl._device

    if skdl._device.gpu_count() > 0:
        monkeypatch.setattr(skdl._device, "gpu_count", lambda: 0)


@pytest.mark.parametrize("device", ["gpu", "gpu:1"])
@pytest.mark.parametrize("name", [case(n, id="device") for n in MLPS])
def test_a_gpu_device_without_a_gpu_is_refused_by_name(name, device, no_gpu):
    est = fitted(name)
    snap = snapshot(est)
    index = device[4:] or "0"
    pattern = rf"device={re.escape(repr(device))} asks for GPU {index}, but the backend sees 0"
    with raises(ValueError, pattern):
        est.set_params(device=device).fit(X, TARGETS[name])
    before = est.predict(X)  # predictions run on the host in NumPy, whatever the device
    np.testing.assert_array_equal(est.set_params(device="auto").predict(X), before)
    assert_intact(est, snap)

    fresh = make(name, device=device)
    with raises(ValueError, pattern):
        fresh.fit(X, TARGETS[name])
    assert_unfitted(fresh)


# --- 6. divergence never leaves NaN predictions behind -----------------------------
def _outputs_or_fail(est, Xs, what):
    """The model's outputs on its own training data; an error here means fit should have raised."""
    try:
        return est.predict_proba(Xs) if isinstance(est, MLPClassifierTF) else est.predict(Xs)
    except ValueError as exc:
        pytest.fail(f"{what}, but the model cannot predict its own training data "
                    f"({type(exc).__name__}: {exc}); the divergence belongs in fit's error")


@pytest.mark.parametrize("max_iter", [1, 2, 3, 5])
@pytest.mark.parametrize("name", [case(n, id="fit") for n in MLPS])
def test_a_diverging_fit_raises_or_predicts_finite_values(name, max_iter):
    """Whichever epoch the weights blow up in, the last one included, fit must say so."""
    (Xs, y), _ = _diverging_data(name)
    est = make(name, **{**DIVERGING, "max_iter": max_iter})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xs, y)
    except ValueError as exc:
        assert re.search(r"(?i)diverged.*epoch \d+", str(exc)), exc
        assert_no_backend_leak(exc)
        assert_unfitted(est)
        return
    outputs = _outputs_or_fail(est, Xs, f"fit returned after {est.n_iter_} epoch(s), "
                               f"loss_curve_={est.loss_curve_}, without an error")
    assert np.all(np.isfinite(outputs)), (
        f"fit returned after {est.n_iter_} epoch(s), loss_curve_={est.loss_curve_}, without an "
        f"error, and the model's outputs on its own training data are not finite: {outputs[:3]}")


@pytest.mark.parametrize("name", [case(n, id="partial_fit") for n in MLPS])
def test_diverging_partial_fit_calls_raise_or_predict_finite_values(name):
    (Xs, y), _ = _diverging_data(name)
    est = make(name, **DIVERGING)
    kwargs = _classes(name)
    for call in range(1, 4):
        try:
            est.partial_fit(Xs, y, **kwargs)
        except ValueError as exc:
            assert re.search(r"(?i)diverged.*epoch \d+", str(exc)), exc
            assert_no_backend_leak(exc)
            return
        outputs = _outputs_or_fail(est, Xs, f"partial_fit call {call} returned without an error")
        assert np.all(np.isfinite(outputs)), (
            f"partial_fit call {call} returned without an error and the model's outputs on "
            f"the batch it trained on are not finite: {outputs[:3]}")
