"""The same search on a local Ray cluster, through joblib's Ray backend, scores the same."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_cluster():
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    yield
    ray.shutdown()


def test_search_on_ray_scores_like_the_local_search(local_cluster, iris):
    X, Y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=10, random_state=0))
    grid = {"mlpclassifier__solver": ["adam", "sgd"]}
    local = GridSearchCV(pipe, grid, cv=3).fit(X, Y)
    with parallel_backend("ray"):
        remote = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
