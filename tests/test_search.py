"""Model selection as users write it: searches, pipelines, splitters, parallel backends."""

import numpy as np
import pytest
from joblib import parallel_backend
from scipy.stats import loguniform
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_regression
from sklearn.experimental import enable_halving_search_cv
from sklearn.model_selection import (GridSearchCV, GroupKFold, HalvingRandomSearchCV, KFold,
                                     LeaveOneGroupOut, RandomizedSearchCV, RepeatedStratifiedKFold,
                                     ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit,
                                     TimeSeriesSplit, cross_validate, learning_curve,
                                     validation_curve)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdl import MLPClassifier, MLPClassifierTF

del enable_halving_search_cv  # imported for its effect: scikit-learn's halving searches

FAST = dict(hidden_layer_sizes=(8,), max_iter=30, learning_rate_init=0.03, random_state=0)


def pipeline(**params):
    return make_pipeline(StandardScaler(), MLPClassifier(**{**FAST, **params}))


def test_grid_search_over_keras_knobs(iris):
    X, Y = iris
    grid = {"mlpclassifier__solver": ["adam", "rmsprop"], "mlpclassifier__dropout": [0.0, 0.2],
            "mlpclassifier__hidden_layer_sizes": [(8,), (8, 8)]}
    search = GridSearchCV(pipeline(), grid, cv=3).fit(X, Y)
    assert len(search.cv_results_["params"]) == 8
    assert search.best_score_ > 0.8
    assert search.best_estimator_[-1].dropout in (0.0, 0.2)


def test_randomized_search_with_scipy_distributions(iris):
    X, Y = iris
    space = {"mlpclassifier__learning_rate_init": loguniform(3e-4, 3e-2),
             "mlpclassifier__hidden_layer_sizes": [(), (8,), (16, 8)],
             "mlpclassifier__alpha": loguniform(1e-5, 1e-1)}
    search = RandomizedSearchCV(pipeline(), space, n_iter=4, cv=3, random_state=0).fit(X, Y)
    rates = search.cv_results_["param_mlpclassifier__learning_rate_init"]
    assert all(3e-4 <= r <= 3e-2 for r in rates)
    assert search.best_score_ > 0.7


def test_halving_random_search_uses_max_iter_as_a_resource(iris):
    X, Y = iris
    space = {"hidden_layer_sizes": [(4,), (8,), (16,)], "learning_rate_init": [0.01, 0.03]}
    search = HalvingRandomSearchCV(MLPClassifierTF(hidden_layer_sizes=(8,), random_state=0), space,
                                   resource="max_iter", max_resources=20, min_resources=5, cv=3,
                                   random_state=0).fit(StandardScaler().fit_transform(X), Y)
    assert set(search.cv_results_["param_max_iter"]) <= {5, 10, 15, 20}
    assert search.n_iterations_ >= 2


def test_cross_validate_learning_and_validation_curves(iris):
    X, Y = iris
    scores = cross_validate(pipeline(), X, Y, cv=3, return_train_score=True)
    assert scores["test_score"].shape == (3,) and scores["train_score"].mean() > 0.8
    sizes, train, test = learning_curve(pipeline(), X, Y, cv=3, train_sizes=[0.5, 1.0])
    assert train.shape == (2, 3)
    train, test = validation_curve(pipeline(), X, Y, param_name="mlpclassifier__max_iter",
                                   param_range=[1, 20], cv=3)
    assert test[1].mean() > test[0].mean()


@pytest.mark.parametrize("cv", [KFold(3, shuffle=True, random_state=0), StratifiedKFold(3),
                                RepeatedStratifiedKFold(n_splits=2, n_repeats=2, random_state=0),
                                ShuffleSplit(2, test_size=0.3, random_state=0),
                                StratifiedShuffleSplit(2, test_size=0.3, random_state=0),
                                GroupKFold(3), LeaveOneGroupOut(), TimeSeriesSplit(3)],
                         ids=lambda cv: type(cv).__name__)
def test_every_splitter(cv, iris):
    X, Y = iris
    groups = np.arange(len(X)) % 3 if isinstance(cv, (GroupKFold, LeaveOneGroupOut)) else None
    order = np.random.RandomState(0).permutation(len(X))  # time series: mixed classes per fold
    scores = cross_validate(pipeline(), X[order], Y[order], cv=cv, groups=groups)["test_score"]
    assert np.all(np.isfinite(scores)) and scores.mean() > 0.6


def test_column_transformer_pipeline_with_a_categorical_column(iris):
    X, Y = iris
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(len(X)) % 3]
    prep = ColumnTransformer([("num", StandardScaler(), list("abcd")),
                              ("cat", OneHotEncoder(), ["colour"])])
    scores = cross_validate(make_pipeline(prep, MLPClassifierTF(**FAST)), frame, Y, cv=3)["test_score"]
    assert scores.mean() > 0.8


def test_early_stopping_inside_a_search_never_sees_the_test_fold(iris):
    # early_stopping splits validation_fraction off the *training* fold (100
    # rows of iris with cv=3): 80 rows train, 20 validate, the test fold is unseen.
    X, Y = iris
    result = cross_validate(pipeline(early_stopping=True, validation_fraction=0.2), X, Y, cv=3,
                            return_estimator=True)
    for fitted in result["estimator"]:
        mlp = fitted[-1]
        assert mlp.t_ == mlp.n_iter_ * 80
        assert len(mlp.validation_scores_) == mlp.n_iter_


def test_n_jobs_two_gives_the_same_scores_as_one(iris):
    X, Y = iris
    grid = {"mlpclassifier__hidden_layer_sizes": [(8,), (8, 8)]}
    one = GridSearchCV(pipeline(), grid, cv=3, n_jobs=1).fit(X, Y).cv_results_["split0_test_score"]
    two = GridSearchCV(pipeline(), grid, cv=3, n_jobs=2).fit(X, Y).cv_results_["split0_test_score"]
    np.testing.assert_array_equal(one, two)


def test_threading_backend_gives_the_same_scores(iris):
    X, Y = iris
    grid = {"mlpclassifier__solver": ["adam", "sgd"]}
    one = GridSearchCV(pipeline(), grid, cv=3).fit(X, Y).cv_results_["mean_test_score"]
    with parallel_backend("threading", n_jobs=2):
        two = GridSearchCV(pipeline(), grid, cv=3, n_jobs=2).fit(X, Y).cv_results_["mean_test_score"]
    np.testing.assert_array_equal(one, two)


def test_regressor_search_with_multi_output_targets(small_regressor):
    Xr, Yr = make_regression(90, 4, n_targets=2, random_state=0)
    search = GridSearchCV(small_regressor(max_iter=15),
                          {"loss": ["squared_error", "huber"]}, cv=3).fit(Xr, Yr / Yr.std())
    assert search.best_estimator_.predict(Xr).shape == (90, 2)
