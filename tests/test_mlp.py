"""Behaviour of MLPClassifierTF and MLPRegressorTF: the one-import swap and the Keras knobs."""

import inspect

import numpy as np
import pytest
import sklearn.neural_network
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdl
from skdl import MLPClassifierTF, MLPRegressorTF

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_XS = StandardScaler().fit_transform(IRIS_X)
REG_X, REG_Y = make_regression(120, 5, n_targets=1, noise=1.0, random_state=0)
REG_Y = REG_Y / REG_Y.std()
FAST = dict(max_iter=40, learning_rate_init=0.02, random_state=0)


@pytest.mark.parametrize("ours, theirs", [(MLPClassifierTF, MLPClassifier), (MLPRegressorTF, MLPRegressor)])
def test_every_sklearn_parameter_has_the_same_name_default_and_position(ours, theirs):
    ours_sig, theirs_sig = inspect.signature(ours), inspect.signature(theirs)
    for name, param in theirs_sig.parameters.items():
        assert name in ours_sig.parameters, name
        assert ours_sig.parameters[name].default == param.default, name
        assert ours_sig.parameters[name].kind == param.kind, name
    positional = [n for n, p in theirs_sig.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert list(ours_sig.parameters)[:len(positional)] == positional


def test_sklearn_script_runs_unchanged_after_the_import_swap():
    grid = {"mlpclassifier__hidden_layer_sizes": [(8,), (8, 8)],
            "mlpclassifier__solver": ["adam", "sgd"],
            "mlpclassifier__learning_rate_init": [0.02]}
    scores = {}
    for module in (sklearn.neural_network, skdl):
        pipe = make_pipeline(StandardScaler(), module.MLPClassifier(max_iter=60, random_state=0))
        search = GridSearchCV(pipe, grid, cv=3).fit(IRIS_X, IRIS_Y)
        scores[module.__name__] = search.best_score_
    assert isinstance(search.best_estimator_[-1], MLPClassifierTF)
    assert scores["skdl"] > 0.9
    assert abs(scores["skdl"] - scores["sklearn.neural_network"]) < 0.05


def test_estimator_kinds_are_recognised_by_sklearn():
    assert is_classifier(MLPClassifierTF()) and not is_regressor(MLPClassifierTF())
    assert is_regressor(MLPRegressorTF()) and not is_classifier(MLPRegressorTF())


def test_sorted_iris_gets_stratified_folds():
    # scikeras on scikit-learn >= 1.6 is not recognised as a classifier, so
    # cross_val_score uses KFold on the sorted labels and scores 0.0.
    clf = make_pipeline(StandardScaler(), MLPClassifierTF((16,), **FAST))
    assert isinstance(check_cv(3, IRIS_Y, classifier=is_classifier(clf)), StratifiedKFold)
    scores = cross_val_score(clf, IRIS_X, IRIS_Y, cv=3)
    assert scores.min() > 0.8


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs", "rmsprop", "adagrad", "adamw", "nadam"])
def test_each_solver_learns_iris(solver):
    lr = {"sgd": 0.1, "adagrad": 0.2}.get(solver, 0.02)
    clf = MLPClassifierTF((16,), solver=solver, max_iter=60, learning_rate_init=lr,
                          random_state=0).fit(IRIS_XS, IRIS_Y)
    assert clf.score(IRIS_XS, IRIS_Y) > 0.85
    assert 1 <= clf.n_iter_ <= 60


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "selu", "elu",
                                        "leaky_relu", "gelu", "softplus"])
def test_each_activation_trains(activation):
    clf = MLPClassifierTF((8,), activation=activation, **FAST).fit(IRIS_XS, IRIS_Y)
    assert clf.score(IRIS_XS, IRIS_Y) > 0.8


def test_no_hidden_layer_is_a_linear_model():
    clf = MLPClassifierTF((), **FAST).fit(IRIS_XS, IRIS_Y)
    assert [c.shape for c in clf.coefs_] == [(4, 3)]
    assert clf.n_layers_ == 2
    assert clf.score(IRIS_XS, IRIS_Y) > 0.8


def test_xor_needs_a_hidden_layer():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 10, dtype=float)
    y = np.array([0, 1, 1, 0] * 10)
    linear = MLPClassifierTF((), solver="lbfgs", random_state=0).fit(X, y)
    hidden = MLPClassifierTF((8,), activation="tanh", solver="lbfgs", random_state=0).fit(X, y)
    assert linear.score(X, y) <= 0.75
    assert hidden.score(X, y) == 1.0


def test_wide_and_deep_concatenates_input_with_last_hidden_layer():
    clf = MLPClassifierTF((8, 6), wide_and_deep=True, **FAST).fit(IRIS_XS, IRIS_Y)
    assert [c.shape for c in clf.coefs_] == [(4, 8), (8, 6), (10, 3)]
    assert clf.score(IRIS_XS, IRIS_Y) > 0.8


def test_dropout_and_batch_normalization_appear_in_the_network_and_train():
    import keras

    clf = MLPClassifierTF((16,), dropout=0.2, batch_normalization=True, **FAST).fit(IRIS_XS, IRIS_Y)
    kinds = {type(layer).__name__ for layer in clf.model_.layers}
    assert {"Dropout", "BatchNormalization"} <= kinds
    assert clf.score(IRIS_XS, IRIS_Y) > 0.8
    assert isinstance(clf.model_, keras.Model)
    assert [c.shape for c in clf.coefs_] == [(4, 16), (16, 3)]


def test_l1_and_alpha_shrink_the_weights():
    plain = MLPClassifierTF((16,), alpha=0.0, **FAST).fit(IRIS_XS, IRIS_Y)
    l1 = MLPClassifierTF((16,), alpha=0.0, l1=1.0, **FAST).fit(IRIS_XS, IRIS_Y)
    l2 = MLPClassifierTF((16,), alpha=10.0, **FAST).fit(IRIS_XS, IRIS_Y)
    norm = lambda est: sum(np.abs(c).sum() for c in est.coefs_)  # noqa: E731
    assert norm(l1) < 0.8 * norm(plain)
    assert norm(l2) < 0.8 * norm(plain)


def test_kernel_initializer_changes_the_starting_point():
    a = MLPClassifierTF((16,), max_iter=1, kernel_initializer="he_normal", random_state=0).fit(IRIS_XS, IRIS_Y)
    b = MLPClassifierTF((16,), max_iter=1, kernel_initializer="glorot_uniform", random_state=0).fit(IRIS_XS, IRIS_Y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


def test_squared_error_loss_for_a_classifier_trains():
    ce = MLPClassifierTF((16,), **FAST).fit(IRIS_XS, IRIS_Y)
    mse = MLPClassifierTF((16,), loss="squared_error", **FAST).fit(IRIS_XS, IRIS_Y)
    assert mse.score(IRIS_XS, IRIS_Y) > 0.8
    assert mse.loss_ < ce.loss_  # half the mean squared error of probabilities is small


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_regressor_losses_fit(loss):
    reg = MLPRegressorTF(loss, (16,), **FAST).fit(REG_X, REG_Y)
    assert reg.score(REG_X, REG_Y) > 0.8


def test_poisson_regression_predicts_positive_means():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 3))
    y = rng.poisson(np.exp(X @ [0.5, -0.5, 0.3]))
    reg = MLPRegressorTF("poisson", (8,), **FAST).fit(X, y)
    assert reg.out_activation_ == "exp"
    assert np.all(reg.predict(X) > 0)


def test_output_activation_bounds_regression_predictions():
    reg = MLPRegressorTF(hidden_layer_sizes=(8,), output_activation="softplus", **FAST).fit(REG_X, REG_Y)
    assert np.all(reg.predict(REG_X) >= 0)
    assert reg.out_activation_ == "softplus"


def test_class_weight_moves_predictions_towards_the_weighted_class():
    X, y = make_classification(200, 4, weights=[0.9], random_state=0)
    plain = MLPClassifierTF((8,), **FAST).fit(X, y)
    weighted = MLPClassifierTF((8,), class_weight={0: 1, 1: 20}, **FAST).fit(X, y)
    assert (weighted.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    balanced = MLPClassifierTF((8,), class_weight="balanced", **FAST).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()


# --- targets -----------------------------------------------------------------
def test_string_labels_come_back_as_given_and_proba_follows_classes():
    names = np.array(["setosa", "versicolor", "virginica"])[IRIS_Y]
    clf = MLPClassifierTF((16,), **FAST).fit(IRIS_XS, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    proba = clf.predict_proba(IRIS_XS)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(IRIS_XS))
    assert set(clf.predict(IRIS_XS)) <= set(clf.classes_)
    np.testing.assert_allclose(clf.predict_log_proba(IRIS_XS), np.log(proba))


def test_binary_uses_one_sigmoid_unit():
    y = np.where(IRIS_Y == 0, "yes", "no")
    clf = MLPClassifierTF((8,), **FAST).fit(IRIS_XS, y)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert clf.predict_proba(IRIS_XS).shape == (150, 2)
    assert list(clf.classes_) == ["no", "yes"]
    assert clf.score(IRIS_XS, y) > 0.95


def test_multilabel_indicator_targets():
    X, Y = make_classification(200, 6, random_state=0), None
    X, y = X
    Y = np.column_stack([y, X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    clf = MLPClassifierTF((16,), **FAST).fit(X, Y)
    assert clf.n_outputs_ == 3 and clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == (200, 3)
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    assert clf.predict_proba(X).shape == (200, 3)
    assert (clf.predict(X) == Y).mean() > 0.8


def test_regression_output_shapes_follow_y():
    one = MLPRegressorTF(hidden_layer_sizes=(8,), **FAST).fit(REG_X, REG_Y)
    assert one.predict(REG_X).shape == (120,)
    Y = np.column_stack([REG_Y, -REG_Y])
    two = MLPRegressorTF(hidden_layer_sizes=(8,), **FAST).fit(REG_X, Y)
    assert two.predict(REG_X).shape == (120, 2) and two.n_outputs_ == 2


# --- fitted attributes and methods ------------------------------------------
def test_fitted_attributes():
    clf = MLPClassifierTF((16, 8), max_iter=30, learning_rate_init=0.02, random_state=0).fit(IRIS_XS, IRIS_Y)
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == len(clf.loss_curve_) == len(clf.history_["loss"])
    assert clf.t_ == clf.n_iter_ * 150
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert [c.shape for c in clf.coefs_] == [(4, 16), (16, 8), (8, 3)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert np.all(np.diff(clf.loss_curve_[:10]) < 0.05)  # it learns


@pytest.mark.parametrize("estimator", [
    MLPClassifierTF((16,), **FAST),
    MLPClassifierTF((16,), **FAST).set_params(hidden_layer_sizes=(6,), batch_normalization=True),
    MLPRegressorTF(hidden_layer_sizes=(16,), loss="poisson", **FAST),
    MLPRegressorTF(hidden_layer_sizes=(16,), output_activation="softplus", wide_and_deep=True,
                   **FAST),
], ids=["multiclass", "batch_norm", "poisson", "softplus_wide"])
def test_model_predicts_what_the_estimator_predicts_and_survives_keras_saving(estimator, tmp_path):
    import keras

    y = IRIS_Y if isinstance(estimator, MLPClassifierTF) else IRIS_XS[:, 0] ** 2
    est = estimator.fit(IRIS_XS, y)
    expected = est.predict_proba(IRIS_XS) if hasattr(est, "predict_proba") else est.predict(IRIS_XS)
    X32 = IRIS_XS.astype("float32")
    got = np.asarray(est.model_(X32)).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(est.model_.get_weights()[0], est.coefs_[0].astype("float32"))
    est.model_.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras")
    np.testing.assert_allclose(loaded.predict(X32, verbose=0).reshape(expected.shape), expected,
                               rtol=1e-4, atol=1e-6)


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(IRIS_XS, columns=["a", "b", "c", "d"])
    clf = MLPClassifierTF((8,), **FAST).fit(frame, IRIS_Y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]


def test_same_random_state_same_predictions_and_different_otherwise():
    fit = lambda seed: MLPClassifierTF((16,), max_iter=20, random_state=seed, dropout=0.1).fit(IRIS_XS, IRIS_Y)  # noqa: E731
    np.testing.assert_array_equal(fit(3).predict_proba(IRIS_XS), fit(3).predict_proba(IRIS_XS))
    assert not np.allclose(fit(3).predict_proba(IRIS_XS), fit(4).predict_proba(IRIS_XS))


def test_each_class_lists_the_parameters_of_its_own_init():
    class Wider(MLPClassifierTF):
        def __init__(self, hidden_layer_sizes=(100,), extra=1, **kwargs):
            super().__init__(hidden_layer_sizes=hidden_layer_sizes, **kwargs)
            self.extra = extra

    base = set(MLPClassifierTF().get_params())  # read (and kept) before the subclass's
    assert set(Wider(extra=3).get_params()) == {"hidden_layer_sizes", "extra"}
    assert set(MLPClassifierTF().get_params()) == base
    assert Wider(extra=3).get_params()["extra"] == 3


def test_clone_gives_an_unfitted_copy_with_the_same_params():
    clf = MLPClassifierTF((16,), **FAST).fit(IRIS_XS, IRIS_Y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "n_iter_")
    np.testing.assert_array_equal(copy.fit(IRIS_XS, IRIS_Y).predict_proba(IRIS_XS),
                                  clf.predict_proba(IRIS_XS))


def test_partial_fit_continues_training():
    clf = MLPClassifierTF((16,), learning_rate_init=0.02, batch_size=16, random_state=0)
    clf.partial_fit(IRIS_XS[:50], IRIS_Y[:50], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2]
    losses = []
    for _ in range(15):
        clf.partial_fit(IRIS_XS, IRIS_Y)
        losses.append(clf.loss_)
    # n_iter_ counts the last call's epochs, as scikit-learn's does; t_ every sample seen.
    assert clf.n_iter_ == 1 and clf.t_ == 50 + 15 * 150
    assert len(clf.loss_curve_) == 16
    assert losses[-1] < losses[0]
    assert clf.score(IRIS_XS, IRIS_Y) > 0.8


def test_partial_fit_keeps_optimizer_state_between_calls():
    # Adam's moments carry over: one call of 2 epochs' data in two halves is
    # not the same as a fresh optimizer each time.
    a = MLPRegressorTF(hidden_layer_sizes=(8,), random_state=0, shuffle=False)
    a.partial_fit(REG_X, REG_Y).partial_fit(REG_X, REG_Y)
    b = MLPRegressorTF(hidden_layer_sizes=(8,), random_state=0, shuffle=False, max_iter=2,
                       tol=0, n_iter_no_change=100).fit(REG_X, REG_Y)
    np.testing.assert_allclose(a.predict(REG_X), b.predict(REG_X), rtol=1e-4, atol=1e-5)


def test_warm_start_starts_from_the_previous_solution():
    clf = MLPClassifierTF((16,), warm_start=True, max_iter=5, learning_rate_init=0.02, random_state=0)
    clf.fit(IRIS_XS, IRIS_Y)
    first_run_end = clf.loss_
    clf.fit(IRIS_XS, IRIS_Y)
    fresh = MLPClassifierTF((16,), max_iter=5, learning_rate_init=0.02, random_state=0).fit(IRIS_XS, IRIS_Y)
    assert clf.loss_curve_[5] < fresh.loss_curve_[0]
    assert len(clf.loss_curve_) == 10
    assert clf.loss_curve_[5] <= first_run_end * 1.1


def test_lbfgs_honours_max_iter_and_fits_a_line():
    X = np.linspace(-1, 1, 100).reshape(-1, 1)
    y = 3 * X.ravel() - 1
    reg = MLPRegressorTF(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.coefs_[0].ravel(), [3.0], rtol=1e-3)
    np.testing.assert_allclose(reg.intercepts_[0], [-1.0], rtol=1e-3)
    with pytest.warns(Warning, match="lbfgs failed to converge"):
        short = MLPRegressorTF(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=2, random_state=0).fit(REG_X, REG_Y)
    assert short.n_iter_ <= 2


def test_verbose_prints_each_epoch(capsys):
    MLPClassifierTF((8,), max_iter=3, verbose=True, random_state=0).fit(IRIS_XS, IRIS_Y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 3, loss = " in out
    MLPClassifierTF((8,), max_iter=3, random_state=0).fit(IRIS_XS, IRIS_Y)
    assert capsys.readouterr().out == ""
