"""The one-import swap: public behaviours of scikit-learn's MLP that skdl's MLPs share.

Most tests run the same lines on ``sklearn.neural_network`` and on ``skdl`` and expect
the same outcome, so a change in scikit-learn's behaviour shows up here too. Fits are
tiny (iris, a few epochs).
"""

import inspect
import pickle
import re
import warnings

import numpy as np
import pytest
import sklearn.neural_network
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network._base import LOSS_FUNCTIONS  # the loss scale under test

import skdl

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
MODULES = pytest.mark.parametrize("module", [sklearn.neural_network, skdl],
                                  ids=["sklearn", "skdl"])
ESTIMATORS = pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])


def quiet_fit(estimator, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kwargs)


def small(module, name="MLPClassifier", **params):
    return getattr(module, name)(**{"hidden_layer_sizes": (2,), "max_iter": 5,
                                    "random_state": 0, **params})


def target(name):
    return IRIS_Y if name == "MLPClassifier" else IRIS_X[:, 0]


def outputs(estimator, X):
    return estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else estimator.predict(X)


# --- 1. coefs_ and intercepts_ are the model -----------------------------------------------
@MODULES
def test_in_place_edits_are_what_predict_uses(module):
    m = quiet_fit(small(module), IRIS_X, IRIS_Y)
    m.coefs_[1][:] = 0
    m.intercepts_[1][:] = 0
    np.testing.assert_allclose(m.predict_proba(IRIS_X[:1]), [[1 / 3, 1 / 3, 1 / 3]])
    assert m.score(IRIS_X, IRIS_Y) == pytest.approx(1 / 3)  # every row predicts class 0


@MODULES
def test_assigned_arrays_are_what_predict_uses(module):
    m = quiet_fit(small(module), IRIS_X, IRIS_Y)
    m.coefs_ = [np.zeros_like(c) for c in m.coefs_]
    m.intercepts_ = [np.zeros_like(b) for b in m.intercepts_[:-1]] + [np.array([0.0, 0.0, 5.0])]
    assert m.predict_proba(IRIS_X).argmax(axis=1).tolist() == [2] * 150
    np.testing.assert_allclose(m.predict_proba(IRIS_X[:1]).sum(), 1.0)


@MODULES
def test_predictions_do_not_change_with_unrelated_fits(module):
    m = quiet_fit(small(module), IRIS_X, IRIS_Y)
    before = m.predict_proba(IRIS_X)
    m.coefs_[1][:] *= 2.0
    edited = m.predict_proba(IRIS_X)
    assert not np.allclose(edited, before)
    quiet_fit(small(module, random_state=1), IRIS_X, IRIS_Y)  # same shapes, other weights
    np.testing.assert_array_equal(m.predict_proba(IRIS_X), edited)


@MODULES
@ESTIMATORS
def test_a_pickle_holds_the_edited_arrays_and_predicts_as_the_original(module, name):
    m = quiet_fit(small(module, name), IRIS_X, target(name))
    m.coefs_[-1][:] = 0
    m.intercepts_[-1][:] = 0.5
    expected = np.full((150, 3), 1 / 3) if name == "MLPClassifier" else np.full(150, 0.5)
    restored = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(outputs(m, IRIS_X), expected)
    np.testing.assert_allclose(outputs(restored, IRIS_X), expected)
    for a, b in zip(restored.coefs_ + restored.intercepts_, m.coefs_ + m.intercepts_):
        np.testing.assert_array_equal(a, b)


def _barely_moving(module, name, **params):
    """Plain SGD with a learning rate so small that one epoch leaves the weights in place."""
    return small(module, name, solver="sgd", learning_rate_init=1e-9, momentum=0.0, **params)


@MODULES
@ESTIMATORS
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_training_continues_from_the_edited_arrays(module, name, how):
    m = quiet_fit(_barely_moving(module, name, warm_start=how == "warm_start"), IRIS_X, target(name))
    for array in m.coefs_ + m.intercepts_:
        array[:] = 0.25  # in place: nothing else holds the weights
    if how == "partial_fit":
        m.partial_fit(IRIS_X, target(name))
    else:
        quiet_fit(m.set_params(max_iter=1), IRIS_X, target(name))
    for array in m.coefs_ + m.intercepts_:
        np.testing.assert_allclose(array, 0.25, atol=1e-5)


# --- 4. dtypes follow X ------------------------------------------------------------------------
@ESTIMATORS
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("predict_dtype", [np.float32, np.float64])
def test_fitted_arrays_and_predictions_take_the_dtype_scikit_learn_gives(name, fit_dtype,
                                                                         predict_dtype):
    dtypes = {}
    for module in (sklearn.neural_network, skdl):
        m = quiet_fit(small(module, name), IRIS_X.astype(fit_dtype), target(name))
        prediction = m.predict(IRIS_X[:3].astype(predict_dtype))
        dtypes[module.__name__] = (
            {a.dtype for a in m.coefs_ + m.intercepts_},
            outputs(m, IRIS_X[:3].astype(predict_dtype)).dtype,
            prediction.dtype if name == "MLPRegressor" else None)
    assert dtypes["skdl"] == dtypes["sklearn.neural_network"]
    arrays, outputs_dtype, _ = dtypes["skdl"]
    assert arrays == {np.dtype(fit_dtype)}
    assert outputs_dtype == np.result_type(fit_dtype, predict_dtype)


# --- 6. the loss is scikit-learn's, at its scale -------------------------------------------------
MULTILABEL_X, MULTILABEL_Y = make_multilabel_classification(n_samples=50, n_classes=5,
                                                            random_state=0, return_indicator=True)
TASKS = {
    "binary": ("MLPClassifier", {}, IRIS_X, (IRIS_Y == 1).astype(int)),
    "multiclass": ("MLPClassifier", {}, IRIS_X, IRIS_Y),
    "multilabel": ("MLPClassifier", {}, MULTILABEL_X, MULTILABEL_Y),
    "regression": ("MLPRegressor", {}, IRIS_X, IRIS_X[:, 0]),
    "multi-output": ("MLPRegressor", {}, IRIS_X, IRIS_X[:, :2] * [1.0, -2.0]),
    "poisson": ("MLPRegressor", {"loss": "poisson"}, IRIS_X, np.round(IRIS_X[:, 0])),
}


def _sklearn_loss(estimator, task, X, y, alpha):
    """scikit-learn's ``_backprop`` loss at ``estimator``'s weights: its loss function of
    the predictions plus ``0.5 * alpha * ||W||^2 / n_samples``."""
    if task in ("binary", "multiclass", "multilabel"):
        proba = estimator.predict_proba(X)
        if task == "binary":
            y_true, y_prob, name = y.reshape(-1, 1), proba[:, 1:], "binary_log_loss"
        elif task == "multiclass":
            y_true, y_prob, name = np.eye(3)[y], proba, "log_loss"
        else:
            y_true, y_prob, name = y, proba, "binary_log_loss"
    else:
        y_true = y.reshape(len(y), -1)
        y_prob = estimator.predict(X).reshape(len(y), -1)
        name = "poisson" if task == "poisson" else "squared_error"
    penalty = 0.5 * alpha * sum(float((c.astype(np.float64) ** 2).sum()) for c in estimator.coefs_)
    return LOSS_FUNCTIONS[name](y_true, y_prob.astype(np.float64)) + penalty / len(X)


@pytest.mark.parametrize("task", list(TASKS))
def test_loss_curve_is_scikit_learns_loss_at_the_same_weights(task):
    # One full-batch epoch of plain SGD with a vanishing learning rate: the epoch's loss
    # is the loss at the starting weights, which are (still) the fitted ones. A loss
    # averaged instead of summed over 5 labels would be 5 times smaller.
    name, params, X, y = TASKS[task]
    if task == "poisson" and "poisson" not in LOSS_FUNCTIONS:
        pytest.skip("scikit-learn < 1.7 has no Poisson loss")
    alpha = 0.5
    m = quiet_fit(_barely_moving(skdl, name, hidden_layer_sizes=(8,), max_iter=1, alpha=alpha,
                                 batch_size=len(X), shuffle=False, **params), X, y)
    assert m.loss_curve_[0] == pytest.approx(_sklearn_loss(m, task, X, y, alpha), rel=1e-4)


def test_sklearns_formula_matches_its_own_loss_curve():
    # The reference above is scikit-learn's loss_curve_ formula: check it on scikit-learn.
    X, y = MULTILABEL_X, MULTILABEL_Y
    m = quiet_fit(_barely_moving(sklearn.neural_network, "MLPClassifier", hidden_layer_sizes=(8,),
                                 max_iter=1, alpha=0.5, batch_size=len(X), shuffle=False), X, y)
    assert m.loss_curve_[0] == pytest.approx(_sklearn_loss(m, "multilabel", X, y, 0.5), rel=1e-6)


# --- 2. n_iter_no_change=np.inf ------------------------------------------------------------------
@MODULES
@ESTIMATORS
def test_infinite_patience_trains_to_max_iter(module, name):
    m = small(module, name, max_iter=7, tol=1e6, n_iter_no_change=np.inf)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(7\) reached"):
        m.fit(IRIS_X, target(name))
    assert m.n_iter_ == 7 and len(m.loss_curve_) == 7


# --- 3. warm_start with other classes ------------------------------------------------------------
@pytest.mark.parametrize("labels, seen", [(np.where(IRIS_Y == 2, 1, IRIS_Y), "[0 1]"),
                                          (np.where(IRIS_Y == 2, 3, IRIS_Y), "[0 1 3]"),
                                          (np.array(["a", "b", "c"])[IRIS_Y], "['a' 'b' 'c']")])
@MODULES
def test_warm_start_refuses_other_classes_with_sklearns_message(module, labels, seen):
    m = quiet_fit(small(module, warm_start=True), IRIS_X, IRIS_Y)
    before = [c.copy() for c in m.coefs_]
    message = ("warm_start can only be used where `y` has the same classes as in the previous "
               f"call to fit. Previously got [0 1 2], `y` has {seen}")
    with pytest.raises(ValueError, match=re.escape(message)):
        m.fit(IRIS_X, labels)
    assert m.classes_.tolist() == [0, 1, 2]
    for a, b in zip(m.coefs_, before):
        np.testing.assert_array_equal(a, b)


@MODULES
def test_partial_fit_follows_sklearns_class_rules(module):
    m = small(module)
    m.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    m.partial_fit(IRIS_X[:50], IRIS_Y[:50])  # a subset of the classes is fine
    with pytest.raises(ValueError, match=re.escape(
            "`y` has classes not in `self.classes_`. `self.classes_` has [0 1 2]. 'y' has [0 1 5].")):
        m.partial_fit(IRIS_X, np.where(IRIS_Y == 2, 5, IRIS_Y))
    with pytest.raises(ValueError, match=re.escape(
            "`classes=[0, 1]` is not the same as on last call to partial_fit, was: array([0, 1, 2])")):
        m.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1])
    warm = small(module, warm_start=True).partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("Previously got [0 1 2], `y` has [0]")):
        warm.partial_fit(IRIS_X[:50], IRIS_Y[:50])  # with warm_start, scikit-learn's warm_start rule


# --- 5. partial_fit is hidden for lbfgs ----------------------------------------------------------
@ESTIMATORS
def test_partial_fit_is_hidden_for_lbfgs(name):
    m = getattr(skdl, name)(solver="lbfgs")
    assert not hasattr(m, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        m.partial_fit(IRIS_X, target(name))
    assert hasattr(m.set_params(solver="sgd"), "partial_fit")
    # scikit-learn hides it on its classifier; its regressor's check lacks a call
    # (``available_if(lambda est: est._check_solver)``), so it shows the method.
    assert hasattr(sklearn.neural_network.MLPClassifier(solver="lbfgs"), "partial_fit") is False


# --- more of scikit-learn's public behaviour ------------------------------------------------------
@pytest.mark.parametrize("name, parameters", [
    ("MLPClassifier", ["self", "X", "y", "sample_weight", "classes"]),
    ("MLPRegressor", ["self", "X", "y", "sample_weight"])])
def test_partial_fit_has_sklearns_signature(name, parameters):
    # scikit-learn >= 1.7's order (1.6 had no sample_weight there).
    assert list(inspect.signature(getattr(skdl, name).partial_fit).parameters) == parameters
    theirs = inspect.signature(getattr(sklearn.neural_network, name).partial_fit)
    if "sample_weight" in theirs.parameters:
        assert list(theirs.parameters) == parameters


@MODULES
def test_n_iter_counts_the_last_calls_epochs(module):
    m = small(module, warm_start=True, max_iter=3)
    quiet_fit(m, IRIS_X, IRIS_Y)
    quiet_fit(m, IRIS_X, IRIS_Y)
    assert (m.n_iter_, len(m.loss_curve_), m.t_) == (3, 6, 900)
    p = small(module)
    for _ in range(3):
        p.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    assert (p.n_iter_, len(p.loss_curve_), p.t_) == (1, 3, 450)


def test_partial_fit_calls_shuffle_and_train_as_scikit_learns_do():
    """Each call draws from a fresh RandomState(random_state), the first after the first
    weights: the same minibatches, so the same losses and predictions."""
    fitted = []
    for module in (sklearn.neural_network, skdl):
        model = module.MLPRegressor(hidden_layer_sizes=(4,), batch_size=16, random_state=0)
        for _ in range(3):
            model.partial_fit(IRIS_X, IRIS_X[:, 0])
        fitted.append(model)
    ours, theirs = fitted
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(ours.predict(IRIS_X), theirs.predict(IRIS_X), rtol=1e-4, atol=1e-6)


@MODULES
@ESTIMATORS
def test_validation_fraction_zero_is_accepted_without_early_stopping(module, name):
    m = quiet_fit(small(module, name, validation_fraction=0.0), IRIS_X, target(name))
    assert m.n_iter_ == 5


@MODULES
def test_a_column_target_gives_a_warning_and_1d_predictions(module):
    m = small(module, "MLPRegressor")
    with pytest.warns(DataConversionWarning):
        quiet_fit(m, IRIS_X, IRIS_X[:, :1])
    assert m.predict(IRIS_X[:3]).shape == (3,)


@MODULES
def test_batch_size_beyond_the_data_warns_and_is_clipped(module):
    with pytest.warns(UserWarning, match="Got `batch_size` less than 1 or larger than sample size"):
        quiet_fit(small(module, batch_size=1000), IRIS_X, IRIS_Y)


@MODULES
def test_verbose_prints_sklearns_lines(module, capsys):
    quiet_fit(small(module, max_iter=30, early_stopping=True, n_iter_no_change=1, tol=10.0,
                    verbose=True), IRIS_X, IRIS_Y)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Iteration 1, loss = \d+\.\d{8}", lines[0])
    assert re.fullmatch(r"Validation score: \d\.\d{6}", lines[1])
    assert lines[-1] == ("Validation score did not improve more than tol=10.000000 for 1 "
                         "consecutive epochs. Stopping.")


@MODULES
def test_a_warm_start_continues_the_stopping_count(module):
    # tol=10: no epoch improves, so the first fit stops once n_iter_no_change is exceeded;
    # the count carries over and the warm-started fit stops after its first epoch.
    m = small(module, max_iter=50, tol=10.0, n_iter_no_change=2, warm_start=True)
    m.fit(IRIS_X, IRIS_Y)
    assert m.n_iter_ == 4
    m.fit(IRIS_X, IRIS_Y)
    assert m.n_iter_ == 1 and len(m.loss_curve_) == 5


@MODULES
def test_a_warm_start_adds_to_the_validation_scores(module):
    m = small(module, max_iter=50, early_stopping=True, n_iter_no_change=2, warm_start=True)
    first = quiet_fit(m, IRIS_X, IRIS_Y).n_iter_
    quiet_fit(m, IRIS_X, IRIS_Y)
    assert len(m.validation_scores_) == first + m.n_iter_
    assert m.best_validation_score_ == max(m.validation_scores_)


def test_partial_fit_keeps_the_learning_rate_its_schedule_reached():
    # SGD's invscaling rate decays with the samples seen, across partial_fit calls too.
    params = dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling",
                  learning_rate_init=0.5, shuffle=False, random_state=0)
    a = skdl.MLPClassifier(**params)
    for _ in range(3):
        a.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    b = quiet_fit(skdl.MLPClassifier(max_iter=3, n_iter_no_change=np.inf, **params), IRIS_X, IRIS_Y)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-5)


@MODULES
@pytest.mark.parametrize("labels", [np.full(10, 1), np.array(["a"] * 10)], ids=["int", "str"])
def test_a_single_class_is_fitted_and_always_predicted(module, labels):
    X = np.random.RandomState(0).randn(10, 2)
    clf = quiet_fit(small(module, max_iter=20, early_stopping=True, validation_fraction=0.2), X,
                    labels)
    assert list(clf.classes_) == [labels[0]] and clf.n_outputs_ == 1
    assert list(clf.predict(X)) == list(labels) and clf.score(X, labels) == 1.0
    proba = clf.predict_proba(X)  # scikit-learn's two columns, the positive one falling
    assert proba.shape == (10, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.validation_scores_ == [1.0] * clf.n_iter_


@MODULES
def test_a_diverging_fit_with_early_stopping_records_nan_and_keeps_its_best_epoch(module):
    """scikit-learn's own test_mlp_diverging_loss: the validation score of a diverged
    epoch is NaN, training goes on to max_iter, the best epoch's weights are kept."""
    mlp = module.MLPRegressor(hidden_layer_sizes=100, activation="identity", solver="sgd",
                              learning_rate_init=1, max_iter=20, early_stopping=True,
                              n_iter_no_change=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(IRIS_X, IRIS_Y)
    assert np.isnan(mlp.validation_scores_[-1]) and isinstance(mlp.validation_scores_[-1], float)
    assert mlp.n_iter_ == 20 and not np.isfinite(mlp.loss_curve_[-1])
    assert all(np.all(np.isfinite(w)) for w in mlp.coefs_ + mlp.intercepts_)
    assert np.all(np.isfinite(mlp.predict(IRIS_X)))


@MODULES
def test_early_stopping_stratifies_binary_targets_as_scikit_learn_does(module):
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['True'\]"):
        module.MLPClassifier(early_stopping=True).fit([[1, 2], [2, 3], [3, 4], [4, 5]],
                                                      [0, 0, 0, 1])


@ESTIMATORS
def test_lbfgs_trains_on_every_row_whatever_early_stopping_says(name):
    """scikit-learn's early stopping belongs to the stochastic solvers: L-BFGS ignores it."""
    X, y = (IRIS_X - IRIS_X.mean(0)) / IRIS_X.std(0), target(name)
    fitted = {module: quiet_fit(small(module, name, solver="lbfgs", early_stopping=True,
                                      max_iter=20), X, y)
              for module in (sklearn.neural_network, skdl)}
    ours, theirs = fitted[skdl], fitted[sklearn.neural_network]
    assert ours.n_iter_ == theirs.n_iter_ and ours.validation_scores_ is None
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-3)


@MODULES
def test_inputs_too_large_to_train_get_scikit_learns_message(module):
    X = np.finfo(np.float64).max * np.random.RandomState(0).uniform(size=(10, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Solver produced non-finite parameter weights. The "
                                             "input data may contain large values"):
            module.MLPRegressor().fit(X, np.arange(10.0))


def _trajectory_cases():
    from sklearn.datasets import load_diabetes, load_digits

    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X, digits_y = digits_X[:300] / 16.0, digits_y[:300]
    diabetes_X, diabetes_y = load_diabetes(return_X_y=True)
    iris_X = (IRIS_X - IRIS_X.mean(axis=0)) / IRIS_X.std(axis=0)
    regression_y = (diabetes_y - diabetes_y.mean()) / diabetes_y.std()
    return {
        "iris-sgd-tanh": ("MLPClassifier", iris_X, IRIS_Y,
                          dict(solver="sgd", activation="tanh", learning_rate_init=0.1, max_iter=15)),
        "digits-adam-relu": ("MLPClassifier", digits_X, digits_y, dict(max_iter=12)),
        "digits-adam-early-stopping": ("MLPClassifier", digits_X, digits_y,
                                       dict(max_iter=12, early_stopping=True)),
        "digits-sgd-logistic": ("MLPClassifier", digits_X, digits_y,
                                dict(solver="sgd", activation="logistic", learning_rate_init=0.3,
                                     max_iter=12, learning_rate="invscaling")),
        "binary-adam-early-stopping": ("MLPClassifier", iris_X, IRIS_Y == 1,
                                       dict(max_iter=12, early_stopping=True,
                                            validation_fraction=0.2)),
        "diabetes-adam-regressor": ("MLPRegressor", diabetes_X, regression_y,
                                    dict(learning_rate_init=0.01, max_iter=12)),
        "diabetes-sgd-regressor-early-stopping": ("MLPRegressor", diabetes_X, regression_y,
                                                  dict(solver="sgd", learning_rate_init=0.01,
                                                       max_iter=12, early_stopping=True)),
    }


TRAJECTORIES = _trajectory_cases()


@pytest.mark.parametrize("case", list(TRAJECTORIES))
def test_the_same_random_state_trains_scikit_learns_network(case):
    """scikit-learn's initial weights, shuffles and early-stopping split, in its order: the
    loss curve within 1e-4 relative at every epoch (float32 against float64), the
    validation scores and the predictions the same."""
    name, X, y, params = TRAJECTORIES[case]
    fitted = [quiet_fit(getattr(module, name)(hidden_layer_sizes=(16,), batch_size=32,
                                              random_state=0, **params), X, y)
              for module in (sklearn.neural_network, skdl)]
    theirs, ours = fitted
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-4)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-6)
    if name == "MLPClassifier":
        assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.99
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-4)
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-3, atol=1e-4)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_a_stacked_search_scores_scikit_learns_networks():
    """The same draws in stacks: a grid over skdl's MLP in skdl's search scores what the
    same grid over scikit-learn's MLP in scikit-learn's search scores."""
    from sklearn.model_selection import GridSearchCV

    from skdl.model_selection import GridSearchCV as StackedGridSearchCV

    name, X, y, params = TRAJECTORIES["digits-adam-relu"]
    grid = {"learning_rate_init": [1e-3, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}
    searches = [search(module.MLPClassifier(batch_size=32, random_state=0, max_iter=8), grid,
                       cv=3).fit(X, y)
                for search, module in ((GridSearchCV, sklearn.neural_network),
                                       (StackedGridSearchCV, skdl))]
    theirs, ours = searches
    assert ours.stacking_["fits"] == 12
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], atol=1e-9)
    assert ours.best_params_ == theirs.best_params_
