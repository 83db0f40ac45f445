"""start_workers: a search with the same n_jobs runs its fits in the warmed workers, same scores."""

import os
import sys

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.model_selection import GridSearchCV

from skdl import MLPClassifier, start_workers


def _backend_loaded():
    import keras
    return os.getpid(), f"skdl.engine.{keras.backend.backend()}" in sys.modules


def test_a_search_runs_in_the_warmed_workers_with_the_same_scores(iris):
    X, Y = iris
    pids = start_workers(n_jobs=2)
    assert len(pids) == 2 and os.getpid() not in pids
    assert "keras" in sys.modules  # this process refits: it imported the backend too
    loaded = Parallel(n_jobs=2)(delayed(_backend_loaded)() for _ in range(8))
    assert all(ok for _, ok in loaded) and {pid for pid, _ in loaded} <= set(pids)

    scoring = {"accuracy": "accuracy", "pid": lambda estimator, X, y: os.getpid()}
    grid = {"solver": ["adam", "sgd"]}
    searches = [GridSearchCV(MLPClassifier((8,), max_iter=10, random_state=0), grid, cv=3,
                             scoring=scoring, refit="accuracy", n_jobs=n_jobs).fit(X, Y)
                for n_jobs in (1, 2)]
    fit_pids = {int(p) for i in range(3) for p in searches[1].cv_results_[f"split{i}_test_pid"]}
    assert fit_pids <= set(pids)
    for key in ["mean_test_accuracy"] + [f"split{i}_test_accuracy" for i in range(3)]:
        np.testing.assert_array_equal(searches[0].cv_results_[key], searches[1].cv_results_[key])


@pytest.mark.parametrize("n_jobs", [0, "x", 1.5, True])
def test_bad_n_jobs(n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        start_workers(n_jobs)


def test_one_job_loads_the_backend_here():
    assert start_workers(n_jobs=1) == [os.getpid()]
