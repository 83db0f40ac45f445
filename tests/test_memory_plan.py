"""A search's data is placed once, and a memory limit cuts its stacks (issue 35)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import KFold

import skdl
from skdl import MLPClassifierTF, engine
from skdl.engine import memory
from skdl.model_selection import GridSearchCV

X, y = make_classification(n_samples=300, n_features=12, n_informative=6, n_classes=3,
                           random_state=0)
GRID = {"hidden_layer_sizes": [(16,), (24,)], "learning_rate_init": [1e-3, 1e-2]}


def search(**params):
    estimator = MLPClassifierTF(max_iter=4, batch_size=32, random_state=0, jit_compile=False, **params)
    return GridSearchCV(estimator, GRID, cv=KFold(3)).fit(X, y)


@pytest.fixture
def recorded_stacks(monkeypatch):
    """The (number of networks, placed input rows) of every stack trained."""
    stacks, run = [], engine.StackTrainer.run

    def recording_run(self):
        stacks.append((len(self.stack.requests), self.stack.train_data.placed["X"].shape[0]))
        return run(self)

    monkeypatch.setattr(engine.StackTrainer, "run", recording_run)
    return stacks


def test_a_searchs_folds_read_their_rows_of_one_placed_copy_of_X(recorded_stacks):
    fitted = search()
    # 12 fits and 4 refits read X itself: one copy of its 300 rows, not one per fold or
    # per candidate.
    assert sum(size for size, _ in recorded_stacks) >= 16
    assert {rows for _, rows in recorded_stacks} == {len(X)}
    alone = GridSearchCV(MLPClassifierTF(max_iter=4, batch_size=32, random_state=0,
                                         jit_compile=False), GRID, cv=KFold(3))
    from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV
    reference = SklearnGridSearchCV(alone.estimator, GRID, cv=KFold(3)).fit(X, y)
    np.testing.assert_allclose(fitted.cv_results_["mean_test_score"],
                               reference.cv_results_["mean_test_score"], atol=0.02)


def test_a_memory_limit_cuts_a_search_into_more_stacks_with_the_same_results(recorded_stacks):
    free = search()
    whole = list(recorded_stacks)
    recorded_stacks.clear()
    data = memory.data_bytes([engine_request()])
    with skdl.config_context(memory_limit=data * 4 + 60_000):
        cut = search()
    assert len(recorded_stacks) > len(whole)
    assert max(size for size, _ in recorded_stacks) < max(size for size, _ in whole)
    np.testing.assert_allclose(cut.cv_results_["mean_test_score"],
                               free.cv_results_["mean_test_score"], atol=1e-6)
    assert cut.best_params_ == free.best_params_


def engine_request():
    return MLPClassifierTF((24,), batch_size=32, max_iter=4)._training_request(X, y).request


def test_a_network_that_cannot_fit_the_limit_raises_a_clear_memory_error():
    with skdl.config_context(memory_limit="64KiB"):
        with pytest.raises(MemoryError, match=r"needs about .* more than the 64\.0 KiB|memory_limit=65536"):
            search()
    assert skdl.get_config()["memory_limit"] == "auto"


@pytest.mark.parametrize("value", ["lots", -1, 0, True, "12 parsecs"])
def test_a_bad_memory_limit_is_refused_naming_it(value):
    with pytest.raises(ValueError, match="memory_limit"):
        skdl.set_config(memory_limit=value)


def test_large_arrays_placed_without_tf_constants_copies_train_the_same_networks(monkeypatch):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow's placement")
    from skdl.engine import tensorflow as tf_engine

    copied = search()
    monkeypatch.setattr(tf_engine, "LARGE_ARRAY_BYTES", 0)  # every array through DLPack
    aligned = search()
    np.testing.assert_array_equal(aligned.cv_results_["mean_test_score"],
                                  copied.cv_results_["mean_test_score"])
    for a, b in zip(aligned.best_estimator_.coefs_, copied.best_estimator_.coefs_):
        np.testing.assert_array_equal(a, b)


def test_a_search_with_early_stopping_splits_each_folds_rows_as_its_fits_do():
    from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV

    estimator = MLPClassifierTF(max_iter=6, batch_size=32, random_state=0, early_stopping=True,
                                validation_fraction=0.2, n_iter_no_change=2, jit_compile=False)
    grid = {"learning_rate_init": [1e-3, 3e-2]}
    stacked = GridSearchCV(estimator, grid, cv=KFold(3)).fit(X, y)
    alone = SklearnGridSearchCV(estimator, grid, cv=KFold(3)).fit(X, y)
    assert stacked.stacking_["fits"] == 6
    np.testing.assert_allclose(stacked.cv_results_["mean_test_score"],
                               alone.cv_results_["mean_test_score"], atol=0.02)
    np.testing.assert_allclose(stacked.best_estimator_.validation_scores_,
                               alone.best_estimator_.validation_scores_, atol=0.02)
