"""The host executor (:mod:`skdl.engine.host`): a stack trained in NumPy is the network a
compiled program trains, to float32 rounding; the planner picks it for small stacks only."""

import dataclasses

import numpy as np
import pytest

import skdl
from skdl import MLPClassifierTF, MLPRegressorTF
from skdl._network import NetworkSpec
from skdl.engine import FitRequest, TrainingSpec, cache_info, clear_cache, train
from skdl.engine.planning import estimate, structure_of
from skdl.model_selection import GridSearchCV

SOLVERS = ("sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad", "adamax")


def _requests(task, n_requests=6, *, sizes=((12,), (8, 6), (5, 5, 5)), activations=("relu",),
              solvers=("adam", "sgd"), l1=0.0, wide_and_deep=False, validation=False, weights=False,
              max_iter=6, dropout=0.0, loss=None, output=None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    n_outputs, output, loss = {"multiclass": (3, "softmax", "log_loss"),
                               "binary": (1, "logistic", "log_loss"),
                               "multilabel": (2, "logistic", "log_loss"),
                               "regression": (2, output or "identity", loss or "squared_error")}[task]
    score = X @ rng.normal(size=(5, 3))
    Y = {"multiclass": np.argmax(score, axis=1).astype(np.int32),
         "binary": (score[:, :1] > 0).astype(np.float32),
         "multilabel": (score[:, :2] > 0).astype(np.float32),
         "regression": (np.abs(score[:, :2]) if loss == "poisson" else score[:, :2]).astype(np.float32)}[task]
    W = rng.uniform(0.5, 2, 120).astype(np.float32) if weights else np.ones(120, np.float32)
    requests = []
    for k in range(n_requests):
        rows = np.sort(rng.choice(120, 90 - 7 * (k % 3), replace=False))
        solver = solvers[k % len(solvers)]
        network = NetworkSpec(5, sizes[k % len(sizes)], activations[k % len(activations)], n_outputs,
                              output_activation=output, wide_and_deep=wide_and_deep,
                              dropout=dropout * (k % 3) / 2)
        training = TrainingSpec(task, loss, solver, learning_rate_init=0.05 if solver == "adagrad" else 0.01,
                                alpha=1e-3 * (k + 1), l1=l1, weight_decay=0.01 if solver == "adamw" else 0.0,
                                nesterovs_momentum=bool(k % 2), batch_size=16, max_iter=max_iter,
                                early_stopping=validation, dropout=network.dropout)
        held_out = np.setdiff1d(np.arange(120), rows)
        extra = {}
        if validation:
            def accuracy(outputs, Y_val, W_val):
                return float(np.mean(np.argmax(outputs, axis=1) == Y_val))
            extra = {"validation": (X[held_out], Y[held_out], W[held_out]), "score": accuracy}
        requests.append(FitRequest(network, training, X[rows], Y[rows], W[rows], seed=k, **extra))
    return requests


def _trained(requests, executor):
    with skdl.config_context(executor=executor):
        return train(requests, concurrency=1)


def _assert_same_networks(requests, weights_rtol=1e-4):
    host, compiled = _trained(requests, "numpy"), _trained(requests, "compiled")
    for a, b in zip(host, compiled):
        assert a.error is None and b.error is None
        assert a.n_iter == b.n_iter
        np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=1e-5)
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_allclose(x, y, rtol=weights_rtol, atol=weights_rtol * np.max(np.abs(y)))


@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression"])
def test_a_host_stack_trains_the_compiled_stacks_networks(task):
    _assert_same_networks(_requests(task, weights=True))


@pytest.mark.parametrize("loss, output", [("absolute_error", "identity"), ("huber", "tanh"),
                                          ("squared_error", "softplus"), ("huber", "relu"),
                                          ("absolute_error", "logistic"), ("poisson", "exp")])
def test_a_regressors_losses_and_outputs_train_the_same_on_the_host(loss, output):
    _assert_same_networks(_requests("regression", loss=loss, output=output, max_iter=8))


def test_every_solver_activation_and_penalty_trains_the_same_on_the_host():
    _assert_same_networks(_requests("regression", 12, activations=("relu", "tanh", "logistic", "identity"),
                                    solvers=SOLVERS, l1=1e-3))
    _assert_same_networks(_requests("multiclass", 10, activations=("elu", "selu", "leaky_relu", "softplus",
                                                                   "gelu", "silu")))


def test_dropout_draws_the_compiled_stacks_masks_on_the_host():
    requests = _requests("multiclass", dropout=0.4, max_iter=8)
    _assert_same_networks(requests)
    with skdl.config_context(executor="numpy"):  # the masks are drawn: dropout changes the network
        without = train([dataclasses.replace(r, network=dataclasses.replace(r.network, dropout=0.0),
                                             training=dataclasses.replace(r.training, dropout=0.0))
                         for r in requests], concurrency=1)
        dropped = train(requests, concurrency=1)
    assert not np.allclose(dropped[1].weights[0], without[1].weights[0])


def test_wide_and_deep_networks_and_early_stopping_train_the_same_on_the_host():
    _assert_same_networks(_requests("multiclass", wide_and_deep=True, validation=True, max_iter=12))


def test_lbfgs_runs_its_objective_on_the_host(iris_scaled):
    X, y = iris_scaled
    fitted = {}
    for executor in ("numpy", "compiled"):
        with skdl.config_context(executor=executor):
            fitted[executor] = MLPClassifierTF((6,), solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    assert fitted["numpy"].n_iter_ == fitted["compiled"].n_iter_
    np.testing.assert_allclose(fitted["numpy"].loss_curve_, fitted["compiled"].loss_curve_, rtol=1e-4)
    # L-BFGS' line searches grow float32 rounding more than a stochastic step does.
    np.testing.assert_allclose(fitted["numpy"].predict_proba(X), fitted["compiled"].predict_proba(X),
                               atol=5e-3)


def test_host_stacks_train_on_one_blas_thread_and_give_the_threads_back(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from skdl.engine import host

    seen, train_epoch = [], host.HostProgram.train_epoch

    def recording(self, *args):
        seen.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return train_epoch(self, *args)

    monkeypatch.setattr(host.HostProgram, "train_epoch", recording)
    with threadpool_limits(limits=2, user_api="blas"), skdl.config_context(executor="numpy"):
        train(_requests("multiclass", 3, max_iter=2))
        after = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    assert seen and all(threads == {1} for threads in seen)
    assert after == {2}


def _lbfgs_requests(X, y):
    """L-BFGS fits of three folds (rows of 100, 100 and 99: padded together) and two alphas,
    with sample weights."""
    from sklearn.model_selection import KFold

    weights = np.linspace(0.5, 1.5, len(X))
    return [MLPClassifierTF((6,), solver="lbfgs", max_iter=60, alpha=alpha, random_state=k)
            ._training_request(X[train], y[train], sample_weight=weights[train]).request
            for alpha in (1e-4, 1e-1) for k, (train, _) in enumerate(KFold(3, shuffle=True,
                                                                          random_state=0).split(X))]


def test_a_stack_of_lbfgs_fits_gives_each_the_network_it_trains_alone(iris_scaled):
    requests = _lbfgs_requests(*iris_scaled)
    assert skdl.engine.stacks(requests) == [list(range(6))]
    with skdl.config_context(executor="numpy"):
        together = train(requests, concurrency=1)
        alone = [train([request])[0] for request in requests]
    for a, b in zip(together, alone):
        assert a.error is None and a.executor == "numpy" and a.n_iter == b.n_iter > 1
        np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=1e-5)
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-4 * np.max(np.abs(y)))
    # Each network stops on its own: their iteration counts differ.
    assert len({result.n_iter for result in together}) > 1


def test_a_failing_objective_in_an_lbfgs_stack_raises_and_stops_every_network(monkeypatch,
                                                                             iris_scaled):
    from skdl.engine import host

    def broken(self, *args):
        raise FloatingPointError("objective failed")

    monkeypatch.setattr(host.HostProgram, "full_batch", broken)
    with skdl.config_context(executor="numpy"), pytest.raises(FloatingPointError, match="objective"):
        train(_lbfgs_requests(*iris_scaled), concurrency=1)


def test_a_small_search_compiles_nothing_and_keeps_keras_models(iris_scaled):
    X, y = iris_scaled
    built = cache_info()["built"]
    search = GridSearchCV(MLPClassifierTF((8,), max_iter=5, random_state=0),
                          {"alpha": [1e-4, 1e-2], "solver": ["adam", "sgd"]}, cv=3).fit(X, y)
    assert cache_info()["built"] == built
    assert search.stacking_["programs"] == 0 and search.stacking_["host_stacks"] == search.stacking_["stacks"]
    assert search.best_estimator_.model_.predict(X[:5].astype(np.float32)).shape == (5, 3)
    clear_cache()
    with skdl.config_context(executor="compiled"):
        compiled = GridSearchCV(MLPClassifierTF((8,), max_iter=5, random_state=0),
                                {"alpha": [1e-4, 1e-2], "solver": ["adam", "sgd"]}, cv=3).fit(X, y)
    assert compiled.stacking_["programs"] >= 1 and compiled.stacking_["host_stacks"] == 0
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               compiled.cv_results_["mean_test_score"], atol=1e-6)


def test_the_planner_keeps_big_stacks_and_unsupported_networks_compiled():
    small = _requests("multiclass", 2)
    assert structure_of(small).host and estimate(small)[0] == 0
    big = [FitRequest(r.network, TrainingSpec("multiclass", "log_loss", max_iter=100_000, batch_size=16),
                      r.X, r.Y, r.W, seed=0) for r in small]
    assert not structure_of(big).host and estimate(big)[0] > 0
    normalized = [FitRequest(NetworkSpec(5, (8,), "relu", 3, "softmax", batch_normalization=True),
                             r.training, r.X, r.Y, r.W, seed=0) for r in small]
    with skdl.config_context(executor="numpy"):
        assert not structure_of(normalized).host
    with skdl.config_context(executor="compiled"):
        assert not structure_of(small).host


def test_the_executor_and_compile_cache_settings_are_checked():
    with pytest.raises(ValueError, match="executor must be one of"):
        skdl.set_config(executor="gpu")
    with pytest.raises(ValueError, match="compile_cache must be True or False"):
        skdl.set_config(compile_cache="no")
    assert skdl.get_config()["executor"] == "auto"


def test_a_regressor_fitted_on_the_host_predicts_as_its_keras_model(iris_scaled):
    X, y = iris_scaled
    with skdl.config_context(executor="numpy"):
        model = MLPRegressorTF(hidden_layer_sizes=(6, 4), max_iter=8, random_state=0).fit(X[:, :3], X[:, 3])
    np.testing.assert_allclose(model.predict(X[:, :3]),
                               model.model_.predict(X[:, :3].astype(np.float32), verbose=0)[:, 0],
                               rtol=1e-5, atol=1e-5)
