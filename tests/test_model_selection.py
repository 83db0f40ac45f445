"""skdl.model_selection: scikit-learn's searches, whose networks train in stacks, give
scikit-learn's results."""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn import model_selection as sk
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier, MLPRegressor, model_selection as skdl_ms
from skdl.exceptions import DivergenceError

GROUPS = np.arange(150) % 4  # iris' rows
FAST = dict(hidden_layer_sizes=(8,), max_iter=8, learning_rate_init=0.03, batch_size=16,
            random_state=0)


def pipeline(**params):
    return make_pipeline(StandardScaler(), MLPClassifier(**{**FAST, **params}))


def assert_same_cv_results(ours, theirs, atol=0.01):
    """Same keys, same types and shapes, the same candidates and near-equal scores."""
    assert list(ours) == list(theirs)
    for key in theirs:
        a, b = ours[key], theirs[key]
        assert type(a) is type(b), key
        if key == "params":
            assert a == b
        elif key.startswith("param_"):
            assert a.dtype == b.dtype and list(a) == list(b) and np.array_equal(a.mask, b.mask), key
        elif "time" in key:
            assert a.shape == b.shape and a.dtype == b.dtype, key
        elif key.startswith("rank_"):
            assert a.dtype == b.dtype, key
        else:
            np.testing.assert_allclose(a, b, atol=atol, err_msg=key)


def test_grid_search_gives_scikit_learns_results_with_its_fits_in_one_stack(iris):
    X, Y = iris
    grid = {"mlpclassifier__hidden_layer_sizes": [(4,), (8,)],
            "mlpclassifier__learning_rate_init": [0.01, 0.03]}
    options = dict(cv=3, scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="acc",
                   return_train_score=True)
    ours = skdl_ms.GridSearchCV(pipeline(), grid, **options).fit(X, Y)
    theirs = sk.GridSearchCV(pipeline(), grid, **options).fit(X, Y)
    assert ours.stacking_["fits"] == 12 and ours.stacking_["stacks"] == 1
    assert ours.stacking_["refits"] == 4  # every candidate's refit trained with them: one is kept
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_, abs=0.01)
    # The refit trains alone in both: the same network.
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5)
    assert set(ours.scorer_) == {"acc", "f1"} and ours.multimetric_


def test_randomized_search_with_groups_and_a_routed_sample_weight(iris):
    X, Y = iris
    space = {"learning_rate_init": loguniform(1e-3, 1e-1), "alpha": loguniform(1e-5, 1e-1),
             "hidden_layer_sizes": [(4,), (6,), (8,)]}
    weights = np.where(Y == 0, 2.0, 1.0)
    results = []
    for module in (skdl_ms, sk):
        search = module.RandomizedSearchCV(MLPClassifier(**FAST), space, n_iter=5,
                                           cv=GroupKFold(4), random_state=0)
        results.append(search.fit(StandardScaler().fit_transform(X), Y, groups=GROUPS,
                                  sample_weight=weights))
    ours, theirs = results
    assert ours.stacking_["fits"] == 20
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_


def test_a_search_with_a_refit_callable_and_parallel_jobs(iris):
    X, Y = iris

    def refit(results):
        return int(np.argmin(results["rank_test_score"]))

    grid = {"mlpclassifier__alpha": [1e-4, 1e-1]}
    ours = skdl_ms.GridSearchCV(pipeline(), grid, cv=3, refit=refit, n_jobs=2).fit(X, Y)
    theirs = sk.GridSearchCV(pipeline(), grid, cv=3, refit=refit).fit(X, Y)
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_index_ == theirs.best_index_
    assert not hasattr(ours, "best_score_")


def test_a_diverging_candidate_gets_the_error_score_and_the_others_train(iris):
    X, _ = iris
    y = X[:, 0]
    grid = {"learning_rate_init": [1e-3, 1e4]}
    regressor = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, max_iter=5,
                             random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = skdl_ms.GridSearchCV(regressor, grid, cv=3, error_score=np.nan).fit(X, y)
    assert any(issubclass(w.category, FitFailedWarning) for w in caught)
    scores = ours.cv_results_["mean_test_score"]
    assert np.isnan(scores[1]) and np.isfinite(scores[0])
    theirs = sk.GridSearchCV(regressor, grid, cv=3, error_score=np.nan).fit(X, y)
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_)
    with pytest.raises(DivergenceError):
        skdl_ms.GridSearchCV(regressor, grid, cv=3, error_score="raise").fit(X, y)


def test_fits_that_cannot_be_stacked_train_as_scikit_learn_trains_them(iris):
    """Another estimator in the grid: one fit at a time; lbfgs' fits train in a stack."""
    X, Y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("model", MLPClassifier(**FAST))])
    grid = [{"model": [MLPClassifier(**FAST)], "model__solver": ["adam", "lbfgs"]},
            {"model": [LogisticRegression(max_iter=200)]}]
    ours = skdl_ms.GridSearchCV(pipe, grid, cv=3).fit(X, Y)
    theirs = sk.GridSearchCV(pipe, grid, cv=3).fit(X, Y)
    assert ours.stacking_["fits"] == 6  # the adam and lbfgs candidates' three splits each
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"][1:],
                               theirs.cv_results_["mean_test_score"][1:], rtol=1e-6)


def test_an_estimator_that_is_not_skdl_runs_scikit_learns_search_as_it_is(iris):
    X, Y = iris
    search = skdl_ms.GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=3)
    search.fit(X, Y)
    assert search.stacking_ == {"fits": 0, "refits": 0, "continued": 0, "checkpointed": 0,
                                "stacks": 0, "host_stacks": 0, "programs": 0, "train_time": 0.0}
    expected = sk.GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=3).fit(X, Y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  expected.cv_results_["mean_test_score"])


def test_cross_validate_and_cross_val_score_give_scikit_learns_results(iris):
    X, Y = iris
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    weights = np.linspace(0.5, 1.5, len(X))
    options = dict(cv=cv, scoring=["accuracy", "neg_log_loss"], return_train_score=True,
                   return_estimator=True, return_indices=True,
                   params={"mlpclassifier__sample_weight": weights})
    ours = skdl_ms.cross_validate(pipeline(), X, Y, **options)
    theirs = sk.cross_validate(pipeline(), X, Y, **options)
    assert list(ours) == list(theirs)
    for key in ("test_accuracy", "train_accuracy", "test_neg_log_loss", "train_neg_log_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], atol=0.01, err_msg=key)
    for a, b in zip(ours["estimator"], theirs["estimator"]):
        for x, y in zip(a[-1].coefs_, b[-1].coefs_):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours["indices"]["test"], theirs["indices"]["test"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(skdl_ms.cross_val_score(pipeline(), X, Y, cv=cv, groups=GROUPS),
                               sk.cross_val_score(pipeline(), X, Y, cv=cv, groups=GROUPS), atol=0.01)


def test_cross_validate_with_every_network_in_one_stack_keeps_each_its_own_early_stopping(iris):
    X, Y = iris
    est = pipeline(early_stopping=True, n_iter_no_change=2, max_iter=40)
    ours = skdl_ms.cross_validate(est, X, Y, cv=5, return_estimator=True)
    theirs = sk.cross_validate(est, X, Y, cv=5, return_estimator=True)
    ours_iters = [e[-1].n_iter_ for e in ours["estimator"]]
    assert ours_iters == [e[-1].n_iter_ for e in theirs["estimator"]]
    np.testing.assert_allclose(ours["test_score"], theirs["test_score"], atol=0.01)


class CountingScaler(StandardScaler):
    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        CountingScaler.fits += 1
        return super().fit(X, y, sample_weight)


def test_the_first_pass_fits_a_pipelines_earlier_steps_once_per_split_and_setting(monkeypatch,
                                                                                  iris):
    from skdl.model_selection import _stacking

    X, Y = iris
    pipe = Pipeline([("scale", CountingScaler()), ("model", MLPClassifier(**FAST))])
    candidates = [{"scale__with_std": with_std, "model__alpha": alpha, "model__solver": "sgd"}
                  for with_std in (True, False) for alpha in (1e-4, 1e-3, 1e-2)]
    splits = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, Y))
    CountingScaler.fits = 0
    shared = _stacking.plan(pipe, X, Y, candidates, splits, {})
    assert len(shared) == 12 and CountingScaler.fits == 4  # 2 settings x 2 splits
    monkeypatch.setattr(_stacking, "_preprocessing", lambda *args: None)  # every pipeline in full
    CountingScaler.fits = 0
    alone = _stacking.plan(pipe, X, Y, candidates, splits, {})
    assert CountingScaler.fits == 12
    assert [p.request.fingerprint() for p in shared] == [p.request.fingerprint() for p in alone]
    # Routed fit parameters go through the pipeline's own fit: nothing shared.
    CountingScaler.fits = 0
    weights = np.linspace(0.5, 1.5, len(X))
    monkeypatch.undo()
    routed = _stacking.plan(pipe, X, Y, candidates, splits, {"model__sample_weight": weights})
    assert len(routed) == 12 and CountingScaler.fits == 12


def test_the_scikit_learn_private_names_the_searches_rely_on_are_there(iris):
    from sklearn.model_selection._search import BaseSearchCV

    from skdl.model_selection import _sklearn

    X, _ = iris
    assert all(callable(getattr(_sklearn, name)) for name in _sklearn.__all__)
    assert _sklearn.num_samples(X) == len(X)
    assert callable(BaseSearchCV._get_routed_params_for_fit)


def count_trainings(monkeypatch):
    """The number of networks each engine call trains, as a list that fills up."""
    from skdl import engine

    trained, train = [], engine.train
    monkeypatch.setattr(engine, "train", lambda requests, *args, **kwargs: trained.append(
        len(requests)) or train(requests, *args, **kwargs))
    return trained


def test_a_seedless_search_trains_each_fit_once_with_fresh_randomness(monkeypatch, iris):
    X, Y = iris
    trained = count_trainings(monkeypatch)
    grid = {"mlpclassifier__alpha": [1e-4, 1e-4], "mlpclassifier__learning_rate_init": [0.01]}
    search = skdl_ms.GridSearchCV(pipeline(random_state=None), grid, cv=3).fit(X, Y)
    assert trained == [6 + 2]  # every split's fit and every refit, in one call: none again
    assert search.stacking_["fits"] == 6 and search.stacking_["refits"] == 2
    scores = np.array([[search.cv_results_[f"split{k}_test_score"][c] for k in range(3)]
                       for c in range(2)])
    # The same candidate twice: each of its fits drew its own seed, as scikit-learn's do.
    assert not np.array_equal(scores[0], scores[1])
    assert search.best_estimator_[-1].loss_curve_ != skdl_ms.GridSearchCV(
        pipeline(random_state=None), grid, cv=3).fit(X, Y).best_estimator_[-1].loss_curve_


def test_a_random_state_instance_gives_the_draws_scikit_learns_clones_give(monkeypatch, iris):
    X, Y = iris
    trained = count_trainings(monkeypatch)
    grid = {"mlpclassifier__learning_rate_init": [0.01, 0.03]}
    ours = skdl_ms.GridSearchCV(pipeline(random_state=np.random.RandomState(3)), grid,
                                cv=3).fit(X, Y)
    assert trained == [6 + 2]
    theirs = sk.GridSearchCV(pipeline(random_state=np.random.RandomState(3)), grid,
                             cv=3).fit(X, Y)
    assert_same_cv_results(ours.cv_results_, theirs.cv_results_, atol=1e-6)


def test_planning_a_fit_trains_nothing_and_leaves_the_estimator_as_it_was(monkeypatch, iris):
    X, Y = iris
    trained = count_trainings(monkeypatch)
    fitted = MLPClassifier(**FAST).fit(X, Y)
    before = {name: value for name, value in vars(fitted).items()}
    plan = fitted._training_request(X[:100], Y[:100])
    assert trained == [1]  # the fit's own: planning trained nothing
    assert vars(fitted).keys() == before.keys() and fitted.coefs_ is before["coefs_"]
    assert plan.request.X.shape == (100, 4) and plan.request.start is None
    seedless = MLPClassifier(**{**FAST, "random_state": None})
    one, two = (seedless._training_request(X, Y) for _ in range(2))
    assert one.key == two.key and one.request.seed != two.request.seed
    assert one.unbounded_key == seedless.set_params(max_iter=99)._training_request(
        X, Y).unbounded_key
    seeded = [MLPClassifier(**FAST)._training_request(X, Y) for _ in range(2)]
    assert seeded[0].key == seeded[1].key != one.key


@pytest.mark.parametrize("estimator", [
    MLPClassifier(**{**FAST, "batch_size": 500}),  # a batch too large: planning warns
    pipeline(random_state=None),
    MLPRegressor(**{**FAST, "random_state": np.random.RandomState(1)}),
], ids=["float64 inputs", "pipeline, seedless", "regressor, RandomState"])
def test_each_fit_of_a_search_validates_its_inputs_once(monkeypatch, iris, estimator):
    from skdl._base import BaseMLP

    X, Y = iris
    Y = Y.astype(float) if isinstance(estimator, MLPRegressor) else Y
    validated, plan_fit = [], BaseMLP._plan_fit
    monkeypatch.setattr(BaseMLP, "_plan_fit", lambda self, *args, **kwargs: validated.append(1)
                        or plan_fit(self, *args, **kwargs))
    name = "mlpclassifier__" if isinstance(estimator, Pipeline) else ""
    grid = {name + "alpha": [1e-4, 1e-2]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = skdl_ms.GridSearchCV(estimator, grid, cv=3).fit(X, Y)
    assert len(validated) == ours.stacking_["fits"] + ours.stacking_["refits"] == 6 + 2
    # Each fit warned as it does alone (planning's warnings held, raised by the fit).
    clipped = [w for w in caught if "batch_size" in str(w.message)]
    assert len(clipped) == (7 if estimator.get_params().get("batch_size") == 500 else 0)
    # The fits took the validated state planning gave them: they predict as fits alone do.
    monkeypatch.undo()
    network = ours.best_estimator_[-1] if isinstance(estimator, Pipeline) else ours.best_estimator_
    assert network.n_features_in_ == 4 and network.coefs_[0].dtype == np.float64
    if isinstance(estimator, Pipeline):
        assert list(network.classes_) == [0, 1, 2]
    else:
        theirs = sk.GridSearchCV(estimator, grid, cv=3).fit(X, Y)
        assert_same_cv_results(ours.cv_results_, theirs.cv_results_, atol=1e-6)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)


def test_a_verbose_search_draws_a_bar_of_the_epochs_as_they_train(capsys, iris):
    X, Y = iris
    grid = {"mlpclassifier__alpha": [1e-4, 1e-2]}
    skdl_ms.GridSearchCV(pipeline(max_iter=7), grid, cv=3, verbose=1).fit(X, Y)
    err = capsys.readouterr().err
    assert "training 8 networks in stacks" in err and "56/56" in err  # (6 fits + 2 refits) x 7
    assert "[skdl] 8 fits in 1 stacks (1 on the host), 0 programs compiled" in err
    skdl_ms.GridSearchCV(pipeline(max_iter=7), grid, cv=3).fit(X, Y)
    assert "training" not in capsys.readouterr().err


def test_stacks_trained_in_loky_workers_give_the_scores_trained_in_this_process(iris):
    X, Y = iris
    space = {"mlpclassifier__learning_rate_init": loguniform(1e-3, 1e-1),
             "mlpclassifier__batch_size": [16, 32]}  # two batch sizes: two stacks
    searches = [skdl_ms.RandomizedSearchCV(pipeline(), space, n_iter=4, cv=3, random_state=0,
                                           n_jobs=n_jobs).fit(X, Y) for n_jobs in (1, 2)]
    alone, workers = searches
    assert workers.stacking_["stacks"] == alone.stacking_["stacks"] > 1
    assert workers.stacking_["fits"] == alone.stacking_["fits"] == 12
    assert_same_cv_results(workers.cv_results_, alone.cv_results_, atol=1e-6)
    np.testing.assert_allclose(workers.predict_proba(X), alone.predict_proba(X), rtol=1e-4,
                               atol=1e-6)
