"""Fitting into the ecosystem: a chosen validation metric, and scalar topology parameters
for searches that sample scalars (Optuna, scikit-optimize, randint)."""

import numpy as np
import pytest
from scipy.stats import randint
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import get_scorer
from sklearn.model_selection import RandomizedSearchCV
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier, MLPRegressor

X, Y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = X[:400], Y[:400], X[400:], Y[400:]


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc", "f1"])
def test_validation_scores_are_the_scoring_metric(scoring):
    clf = MLPClassifier((8,), scoring=scoring, max_iter=4, random_state=0)
    clf.fit(X_TRAIN, Y_TRAIN, validation_data=(X_VAL, Y_VAL))
    expected = get_scorer(scoring)(clf, X_VAL, Y_VAL)
    assert clf.validation_scores_[-1] == pytest.approx(expected, rel=1e-5)
    assert clf.history_["val_" + scoring][-1] == pytest.approx(expected, rel=1e-5)


def test_early_stopping_stops_on_the_scoring_metric():
    fits = {scoring: MLPClassifier((8,), early_stopping=True, scoring=scoring, n_iter_no_change=2,
                                   tol=1e-3, max_iter=60, learning_rate_init=0.01, random_state=0).fit(X, Y)
            for scoring in (None, "neg_log_loss")}
    plain, log_loss = fits[None], fits["neg_log_loss"]
    assert all(s <= 0 for s in log_loss.validation_scores_)  # negated losses, not accuracies
    assert log_loss.best_validation_score_ == max(log_loss.validation_scores_)
    assert plain.n_iter_ != log_loss.n_iter_  # another metric, another stopping epoch


def test_a_callable_scorer_and_a_regressor():
    seen = []

    def negative_max_error(estimator, X, y, sample_weight=None):
        seen.append(len(X))
        return -float(np.max(np.abs(estimator.predict(X) - y)))

    reg = MLPRegressor(hidden_layer_sizes=(8,), scoring=negative_max_error, max_iter=3, random_state=0)
    reg.fit(X_TRAIN, X_TRAIN[:, 0], validation_data=(X_VAL, X_VAL[:, 0]))
    assert seen == [len(X_VAL)] * 3
    assert reg.validation_scores_[-1] == pytest.approx(negative_max_error(reg, X_VAL, X_VAL[:, 0]),
                                                       rel=1e-5)
    assert "val_negative_max_error" in reg.history_


def test_a_bad_scoring_value_names_the_parameter():
    with pytest.raises(ValueError, match="'scoring' parameter of MLPClassifier"):
        MLPClassifier(scoring="no_such_metric", early_stopping=True, max_iter=2).fit(X, Y)


def test_depth_and_width_as_scalars_build_the_network():
    clf = MLPClassifier(n_hidden_layers=3, n_hidden_units=7, max_iter=2, random_state=0).fit(X, Y)
    assert [c.shape for c in clf.coefs_] == [(30, 7), (7, 7), (7, 7), (7, 1)]
    deep = MLPClassifier((12,), n_hidden_layers=2, max_iter=2, random_state=0).fit(X, Y)
    assert [c.shape for c in deep.coefs_] == [(30, 12), (12, 12), (12, 1)]
    none = MLPClassifier(n_hidden_layers=0, max_iter=2, random_state=0).fit(X, Y)
    assert [c.shape for c in none.coefs_] == [(30, 1)]
    assert MLPClassifier().get_params()["hidden_layer_sizes"] == (100,)  # scikit-learn's meaning


def test_a_search_samples_depth_and_width_as_integers(iris):
    iris_X, iris_y = iris
    space = {"n_hidden_layers": randint(1, 4), "n_hidden_units": randint(4, 33)}
    search = RandomizedSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_iter=4, cv=3,
                                random_state=0).fit(StandardScaler().fit_transform(iris_X), iris_y)
    best = search.best_estimator_
    assert len(best.coefs_) == best.n_hidden_layers + 1
    assert all(c.shape[1] == best.n_hidden_units for c in best.coefs_[:-1])


def test_optuna_searches_depth_width_learning_rate_and_alpha():
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {"n_hidden_layers": optuna.distributions.IntDistribution(1, 3),
             "n_hidden_units": optuna.distributions.IntDistribution(4, 64, log=True),
             "learning_rate_init": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True),
             "alpha": optuna.distributions.FloatDistribution(1e-6, 1e-1, log=True)}
    search = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_trials=4, cv=3,
                            random_state=0).fit(X, Y)
    assert len(search.trials_) == 4
    best = search.best_estimator_
    assert [c.shape[1] for c in best.coefs_[:-1]] == [search.best_params_["n_hidden_units"]] * \
        search.best_params_["n_hidden_layers"]
