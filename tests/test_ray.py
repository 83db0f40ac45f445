"""Searches on a local two-node Ray cluster score as in one process: scikit-learn's search of
single fits through joblib's Ray backend, and skdl's, whose stacks are Ray tasks."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifier
from skdl import model_selection as skdl_search

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def two_node_cluster():
    from ray.cluster_utils import Cluster
    from ray.util.joblib import register_ray

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    register_ray()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_the_cluster_has_two_nodes(two_node_cluster):
    assert len([node for node in ray.nodes() if node["Alive"]]) == 2


def test_search_on_ray_scores_like_the_local_search(two_node_cluster, iris):
    X, Y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=10, random_state=0))
    grid = {"mlpclassifier__solver": ["adam", "sgd"]}
    local = GridSearchCV(pipe, grid, cv=3).fit(X, Y)
    with parallel_backend("ray"):
        remote = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def test_a_stacked_search_trains_its_stacks_as_ray_tasks_with_the_same_scores(two_node_cluster,
                                                                              iris_scaled,
                                                                              monkeypatch):
    from skdl.model_selection import _stacking

    tasks, on_ray = [], _stacking._trained_on_ray

    def counted(requests, groups):
        tasks.extend(groups)
        return on_ray(requests, groups)

    monkeypatch.setattr(_stacking, "_trained_on_ray", counted)
    X, Y = iris_scaled
    estimator = MLPClassifier(max_iter=8, random_state=0)
    # Two batch sizes: two stacks, so two tasks, one a node.
    grid = {"batch_size": [16, 32], "hidden_layer_sizes": [(8,), (12,)]}
    local = skdl_search.GridSearchCV(estimator, grid, cv=KFold(3)).fit(X, Y)
    with parallel_backend("ray"):
        remote = skdl_search.GridSearchCV(estimator, grid, cv=KFold(3), n_jobs=2).fit(X, Y)
    assert remote.stacking_["fits"] == 12 and remote.stacking_["stacks"] >= 2
    assert len(tasks) == remote.stacking_["stacks"]  # each stack one Ray task
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], atol=1e-6)
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), atol=1e-5)
