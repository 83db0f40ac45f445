"""skdl's halving searches: scikit-learn's rounds and results, each round trained in stacks,
and survivors of a search over ``max_iter`` continuing their fits instead of retraining."""

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn import model_selection as sk
from sklearn.experimental import enable_halving_search_cv
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier, MLPRegressor, engine, model_selection as skdl_ms

del enable_halving_search_cv  # imported for its effect: scikit-learn's halving searches


def request(data, max_iter, **params):
    """The engine request of a small network's fit on ``data`` (planned, not trained)."""
    params = {**dict(hidden_layer_sizes=(8,), learning_rate_init=0.02, batch_size=16,
                     random_state=0, tol=0.0), **params, "max_iter": max_iter}
    return MLPClassifier(**params)._training_request(*data).request


@pytest.mark.parametrize("params", [
    dict(solver="adam"),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate="invscaling",
         learning_rate_init=0.2),
    dict(solver="rmsprop", dropout=0.2, hidden_layer_sizes=(8, 6)),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-3, n_iter_no_change=2, alpha=1e-2),
])
def test_continuing_a_fit_trains_the_same_network_as_one_longer_fit(params, iris_scaled):
    longer = engine.train([request(iris_scaled, 12, **params)])[0]
    first = request(iris_scaled, 4, **params)
    shorter = engine.train([first])[0]
    how, more = engine.continuation(first, shorter, 12)
    assert how == "more" and more.start.epochs == 4 and more.training.max_iter == 8
    result = engine.continued(shorter, engine.train([more])[0], 12)
    assert result.n_iter == longer.n_iter == 12 and not result.converged
    np.testing.assert_allclose(result.loss_curve, longer.loss_curve, rtol=1e-5)
    for ours, theirs in zip(result.weights, longer.weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert result.convergence_warning == longer.convergence_warning  # names 12, not 8
    assert result.t == longer.t


def test_networks_of_different_shapes_continue_together_in_one_padded_stack(iris_scaled):
    shapes = [(8,), (5, 3)]
    firsts = [request(iris_scaled, 4, hidden_layer_sizes=shape) for shape in shapes]
    shorter = engine.train(firsts)
    more = [engine.continuation(first, result, 12)[1] for first, result in zip(firsts, shorter)]
    assert len(engine.stacks(more)) == 1  # the narrower network's slots padded as its weights
    results = [engine.continued(result, extra, 12)
               for result, extra in zip(shorter, engine.train(more))]
    longer = engine.train([request(iris_scaled, 12, hidden_layer_sizes=shape) for shape in shapes])
    for ours, theirs in zip(results, longer):
        np.testing.assert_allclose(ours.loss_curve, theirs.loss_curve, rtol=1e-4)
        for a, b in zip(ours.weights, theirs.weights):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_a_fit_that_stopped_early_is_what_a_longer_budget_gives_and_early_stopping_retrains(
        iris_scaled):
    stopping = dict(tol=0.05, n_iter_no_change=1)
    first = request(iris_scaled, 20, **stopping)
    stopped = engine.train([first])[0]
    assert stopped.n_iter < 20 and stopped.converged
    assert engine.continuation(first, stopped, 60) == ("same", stopped)
    longer = engine.train([request(iris_scaled, 60, **stopping)])[0]
    assert longer.loss_curve == stopped.loss_curve
    early = request(iris_scaled, 3, early_stopping=True, n_iter_no_change=50)
    assert engine.continuation(early, engine.train([early])[0], 9) == ("retrain", None)


def grid_search_pair(X, y, estimator, grid, **options):
    ours = skdl_ms.HalvingGridSearchCV(estimator, grid, **options).fit(X, y)
    theirs = sk.HalvingGridSearchCV(estimator, grid, **options).fit(X, y)
    return ours, theirs


def assert_same_rounds(ours, theirs, atol):
    assert ours.n_resources_ == theirs.n_resources_
    assert ours.n_candidates_ == theirs.n_candidates_
    assert ours.n_remaining_candidates_ == theirs.n_remaining_candidates_
    assert ours.n_iterations_ == theirs.n_iterations_
    for key in ("iter", "n_resources"):
        np.testing.assert_array_equal(ours.cv_results_[key], theirs.cv_results_[key])
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    for key in theirs.cv_results_:
        if "test_score" in key or "train_score" in key:
            np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], atol=atol,
                                       err_msg=key)


def test_halving_over_max_iter_continues_the_survivors_and_gives_scikit_learns_results(iris_scaled):
    X, Y = iris_scaled
    grid = {"learning_rate_init": [0.003, 0.01, 0.03], "alpha": [1e-4, 1e-3, 1e-2],
            "solver": ["adam", "sgd"]}
    options = dict(cv=3, resource="max_iter", min_resources=3, max_resources=27, factor=3,
                   return_train_score=True)
    estimator = MLPClassifier((8,), batch_size=16, random_state=0)
    ours, theirs = grid_search_pair(X, Y, estimator, grid, **options)
    assert_same_rounds(ours, theirs, atol=1e-6)
    assert ours.best_params_ == theirs.best_params_
    # 18 -> 6 -> 2 candidates: the 6 and the 2 continue their 3 folds' fits.
    assert ours.n_candidates_ == [18, 6, 2] and ours.stacking_["continued"] == (6 + 2) * 3
    assert ours.stacking_["fits"] == (18 + 6 + 2) * 3
    # The refit's candidate was trained ahead in the last round, with the others.
    assert ours.stacking_["refits"] == 2
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-4,
                               atol=1e-6)
    assert ours.best_estimator_.n_iter_ == theirs.best_estimator_.n_iter_
    assert ours.best_estimator_.loss_curve_ == pytest.approx(theirs.best_estimator_.loss_curve_,
                                                             rel=1e-5)


def test_halving_over_the_samples_of_a_pipeline_gives_scikit_learns_rounds_and_scores(digits):
    X, y = digits[0][:600] / 16.0, digits[1][:600]
    space = {"mlpclassifier__learning_rate_init": loguniform(1e-3, 1e-1),
             "mlpclassifier__hidden_layer_sizes": [(8,), (16,)]}
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=10, batch_size=32,
                                                         random_state=0))
    results = [module.HalvingRandomSearchCV(pipe, space, n_candidates=9, factor=3, cv=3,
                                            min_resources=60, random_state=0)
               .fit(X, y) for module in (skdl_ms, sk)]
    ours, theirs = results
    assert_same_rounds(ours, theirs, atol=1e-6)
    assert ours.best_params_ == theirs.best_params_
    assert ours.stacking_["fits"] == sum(ours.n_candidates_) * 3
    assert ours.stacking_["continued"] == 0  # more samples each round: nothing continues


def test_a_seedless_halving_search_trains_each_fit_once(monkeypatch, iris_scaled):
    X, Y = iris_scaled
    trained = []
    train = engine.train
    monkeypatch.setattr(engine, "train", lambda requests, *a, **k: trained.append(len(requests))
                        or train(requests, *a, **k))
    grid = {"learning_rate_init": [0.003, 0.01, 0.03], "alpha": [1e-4, 1e-2]}
    search = skdl_ms.HalvingGridSearchCV(MLPClassifier((8,), batch_size=16), grid, cv=3,
                                         resource="max_iter", min_resources=4, max_resources=12,
                                         factor=3).fit(X, Y)
    assert search.n_candidates_ == [6, 2]
    # Round one: 18 fits; round two: 6 continued fits and the 2 candidates' refits; no more.
    assert trained == [18, 8]
    assert search.best_estimator_.n_iter_ == 12


@pytest.mark.parametrize("options, message", [
    (dict(resource="epochs"), "Cannot use resource=epochs"),
    (dict(resource="n_samples", min_resources=1000), "min_resources_=1000 is greater than"),
    (dict(factor=0), "The 'factor' parameter"),
    (dict(resource="max_iter"), "resource can only be 'n_samples' when max_resources='auto'"),
])
def test_bad_halving_settings_raise_scikit_learns_errors_and_leave_nothing_fitted(options,
                                                                                  message,
                                                                                  iris_scaled):
    X, _ = iris_scaled
    grid = {"alpha": [1e-4, 1e-2]}
    estimator = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    errors = []
    for module in (skdl_ms, sk):
        search = module.HalvingGridSearchCV(estimator, grid, cv=3, **options)
        with pytest.raises(ValueError, match=message) as caught:
            search.fit(X, X[:, 0])
        errors.append(str(caught.value))
        assert not hasattr(search, "best_estimator_") and not hasattr(search, "cv_results_")
    assert errors[0] == errors[1]
    assert "_pretrained" not in vars(estimator)
