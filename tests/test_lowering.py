"""A user's Keras model lowered into the engine: the same training as ``model.fit``, and
skdl's searches over a wrapper training its fits in stacks."""

import pickle
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_friedman1
from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV

from skdl import engine
from skdl._lowering import NotLowerable, lower, lowered_request, model_weights
from skdl._network import layout
from skdl.engine.runs import ModelRun
from skdl.model_selection import GridSearchCV
from skdl.wrappers import KerasClassifier, KerasRegressor

SETTINGS = {"epochs": 4, "batch_size": 16, "shuffle": False, "callbacks": [], "verbose": 0,
            "validation_split": 0.0, "validation_data": None}


def _data(task, n=96, features=5):
    if task == "regression":
        X, y = make_friedman1(n_samples=n, n_features=features, random_state=0)
        return X.astype(np.float32), ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
    X, y = make_classification(n_samples=n, n_features=features, n_informative=3,
                               n_classes=3 if task == "multiclass" else 2, random_state=0)
    X = X.astype(np.float32)
    return X, (y.astype(np.int32) if task == "multiclass" else y.astype(np.float32)[:, None])


def _model(optimizer, loss, output_units=1, output="linear", hidden=(8, 6), activation="tanh"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,))]
                             + [keras.layers.Dense(units, activation=activation) for units in hidden]
                             + [keras.layers.Dense(output_units, activation=output)])
    model.compile(optimizer=optimizer, loss=loss)
    return model


CASES = {
    "sgd-nesterov-mse": (lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True), "mse",
                         "regression"),
    "adam-mae": (lambda: keras.optimizers.Adam(0.01), "mae", "regression"),
    "rmsprop-huber": (lambda: keras.optimizers.RMSprop(0.005), keras.losses.Huber(),
                      "regression"),
    "adamw-mse": (lambda: keras.optimizers.AdamW(0.01, weight_decay=0.01), "mean_squared_error",
                  "regression"),
    "nadam-sparse-cce": (lambda: keras.optimizers.Nadam(0.01), "sparse_categorical_crossentropy",
                         "multiclass"),
    "adagrad-bce": (lambda: keras.optimizers.Adagrad(0.1), "binary_crossentropy", "binary"),
    "adamax-cce": (lambda: keras.optimizers.Adamax(0.02), "categorical_crossentropy",
                   "multiclass"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_lowered_fit_trains_as_model_fit_does(case):
    make_optimizer, loss, task = CASES[case]
    X, Y = _data(task)
    if loss == "categorical_crossentropy":
        Y = np.eye(3, dtype=np.float32)[Y]
    units, output = {"regression": (1, "linear"), "binary": (1, "sigmoid"),
                     "multiclass": (3, "softmax")}[task]
    twin = _model(make_optimizer(), loss, units, output)
    lowered = _model(make_optimizer(), loss, units, output)
    request = lowered_request(lowered, SETTINGS, (X, Y, None), (X[:20], Y[:20]), 16, seed=0)
    assert request.training.task == task and request.training.rules == "keras"
    result = engine.train([request])[0]
    history = twin.fit(X, Y, epochs=4, batch_size=16, shuffle=False, verbose=0,
                       validation_data=(X[:20], Y[:20])).history
    for ours, theirs in zip(result.weights, twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4, atol=1e-6)
    np.testing.assert_allclose(result.history["val_loss"], history["val_loss"], rtol=2e-4,
                               atol=1e-6)
    assert result.n_iter == 4 and result.convergence_warning is None


class _Model:
    stop_training = False

    def get_weights(self):
        return []


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("patience, min_delta, restore", [(0, 0.0, False), (2, 0.0, True),
                                                           (3, 0.05, True), (1, 0.2, False)])
@pytest.mark.parametrize("losses", [[1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78, 0.6],
                                    [1.0, 1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92],
                                    [float("nan"), 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]])
def test_keras_rules_stop_where_early_stopping_stops(patience, min_delta, restore, losses, mode):
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                             min_delta=min_delta, restore_best_weights=restore,
                                             mode=mode)
    callback.set_model(_Model())
    callback.on_train_begin()
    keras_epochs = 0
    for epoch, loss in enumerate(losses):
        callback.on_epoch_end(epoch, {"val_loss": loss})
        keras_epochs += 1
        if callback.model.stop_training:
            break
    stopping = engine.KerasStopping("val_loss", min_delta, patience, restore, mode)
    training = engine.TrainingSpec("regression", "mean_squared_error", rules="keras",
                                   max_iter=len(losses), keras_stopping=stopping)
    request = engine.FitRequest(None, training, np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2),
                                0, validation=(np.zeros((1, 1)), np.zeros((1, 1)), np.ones(1)))
    run, best_epoch = ModelRun(request), None
    for loss in losses:
        if run.after_epoch(0.5, None, loss):
            best_epoch = run.n_iter - 1
        run.decide()
        if not run.running:
            break
    assert run.n_iter == keras_epochs
    assert best_epoch == (callback.best_epoch if restore else None)


def _build(n_hidden=1, n_neurons=8, learning_rate=0.01):
    model = keras.Sequential([keras.Input((5,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_neurons, activation="relu"))
    model.add(keras.layers.Dense(1))
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=learning_rate))
    return model


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, n_features=5, noise=0.5, random_state=1)
    X = (X - X.mean(0)) / X.std(0)
    return X[:240], y[:240], X[240:], y[240:]


def test_skdl_search_over_a_wrapper_trains_its_fits_in_stacks(friedman):
    X, y, X_valid, y_valid = friedman
    grid = {"model__n_hidden": [0, 1, 2], "model__learning_rate": [0.003, 0.01]}
    fit_params = {"epochs": 25, "validation_data": (X_valid, y_valid),
                  "callbacks": [keras.callbacks.EarlyStopping(patience=3)]}
    ours = GridSearchCV(KerasRegressor(_build, random_state=0), grid, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # every fit lowers: no fallback warning
        ours.fit(X, y, **fit_params)
    theirs = SklearnGridSearchCV(KerasRegressor(_build, random_state=0), grid, cv=3)
    theirs.fit(X, y, **fit_params)
    assert ours.stacking_["fits"] == 18 and ours.stacking_["stacks"] < 18
    assert ours.best_estimator_.training_loop_ == "stacked"
    assert theirs.best_estimator_.training_loop_ == "fused"
    history = ours.best_estimator_.history_
    assert set(history) == {"loss", "val_loss"} and len(history["loss"]) <= 25
    # Only the epochs' shuffles differ (the engine's against TensorFlow's).
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], atol=0.05)
    assert ours.best_estimator_.score(X_valid, y_valid) > 0.5


@pytest.mark.parametrize("activation", ["swish", "gelu", "softplus"])
def test_hidden_activations_lower_and_train_as_model_fit_does(activation):
    X, Y = _data("regression")
    network, _ = lower(_model("adam", "mse", activation=activation), SETTINGS)
    assert network.activation == {"swish": "silu"}.get(activation, activation)
    result, history, twin = _twins(lambda: _model(keras.optimizers.Adam(0.01), "mse",
                                                  activation=activation), X, Y, SETTINGS, None)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4)
    for ours, theirs in zip(result.weights, twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("executor", ["numpy", "compiled"])
def test_hidden_layers_without_biases_train_as_model_fit_does(executor):
    import skdl

    X, Y = _data("regression")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh",
                                                                        use_bias=False),
                                  keras.layers.Dense(6, activation="tanh", use_bias=False),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        return model

    with skdl.config_context(executor=executor):
        result, history, twin = _twins(build, X, Y, SETTINGS, (X[:20], Y[:20]))
    network, _ = lower(build(), SETTINGS)
    assert not any(np.any(w) for w, spec in zip(result.weights, layout(network))
                   if spec.role == "bias" and spec.layer < 2)  # they never moved from zero
    for ours, theirs in zip(model_weights(network, result.weights), twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4)


def test_a_searched_wrapper_without_hidden_biases_predicts_with_its_model(friedman):
    X, y, _, _ = friedman

    def build(n_neurons=8):
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(n_neurons, use_bias=False),
                                  keras.layers.BatchNormalization(), keras.layers.Activation("elu"),
                                  keras.layers.Dense(1)])
        model.compile(loss="mse", optimizer=keras.optimizers.Adam(0.01))
        return model

    search = GridSearchCV(KerasRegressor(build, random_state=0, epochs=4),
                          {"model__n_neurons": [4, 8]}, cv=2).fit(X, y)
    best = search.best_estimator_
    assert search.stacking_["fits"] == 4 and best.training_loop_ == "stacked"
    before = best.predict(X)  # NumPy, from the engine's weights (zero hidden biases)
    assert len(best.model_.get_weights()) == 7  # the user's model: no hidden bias
    np.testing.assert_allclose(best.model_.predict(X, verbose=0).ravel(), before, rtol=1e-5,
                               atol=1e-5)


def test_fits_that_share_a_planned_model_train_as_if_each_built_its_own(friedman, monkeypatch):
    from skdl import _wrapper_plans

    X, y, _, _ = friedman
    results = {}
    for held in (_wrapper_plans.MAX_PLANNED_MODELS, 0):  # 0: every plan builds its model
        monkeypatch.setattr(_wrapper_plans, "MAX_PLANNED_MODELS", held)
        BUILDS.clear()
        search = GridSearchCV(KerasRegressor(_counted, loss="mse", optimizer="sgd",
                                             random_state=0, epochs=3),
                              {"model__n_hidden": [0, 1], "optimizer__learning_rate": [0.01, 0.02]},
                              cv=3).fit(X, y)
        results[held] = search.cv_results_["mean_test_score"], len(BUILDS)
    (shared, shared_builds), (own, own_builds) = results.values()
    assert (shared_builds, own_builds) == (4, 16)
    np.testing.assert_array_equal(shared, own)


def test_a_refit_not_trained_ahead_trains_in_the_engine_too(friedman):
    X, y, _, _ = friedman
    search = GridSearchCV(KerasRegressor(_build, random_state=0, epochs=5),
                          {"model__n_hidden": [0, 1]}, cv=2)
    search.MAX_SPECULATIVE_REFITS = 0
    search.fit(X, y)
    assert search.stacking_["fits"] == 4 and search.stacking_["refits"] == 0
    best = search.best_estimator_
    assert best.training_loop_ == "stacked" and len(best.history_["loss"]) == 5
    np.testing.assert_allclose(best.predict(X), best.model_.predict(X, verbose=0).ravel(),
                               rtol=1e-5, atol=1e-5)


BUILDS = []


def _counted(n_hidden=1):
    """A model the wrapper compiles (so no build runs twice), its builds counted."""
    BUILDS.append(n_hidden)
    return keras.Sequential([keras.Input((5,))]
                            + [keras.layers.Dense(8, activation="relu")] * n_hidden
                            + [keras.layers.Dense(1)])


def test_a_searched_wrapper_builds_its_model_only_when_asked_and_predicts_the_same(friedman):
    X, y, _, _ = friedman
    builds = BUILDS
    builds.clear()
    search = GridSearchCV(KerasRegressor(_counted, loss="mse", optimizer="sgd", random_state=0,
                                         epochs=5),
                          {"model__n_hidden": [0, 1]}, cv=2).fit(X, y)
    assert search.stacking_["fits"] == 4 and search.stacking_["refits"] == 2
    # planning built each candidate's model once (a seeded wrapper's folds and refit
    # build the same model); scikit-learn's pass built none
    assert len(builds) == 2
    best = search.best_estimator_
    before = best.predict(X)  # NumPy, from the trained weights
    restored = pickle.loads(pickle.dumps(best))  # pickling builds the model
    assert len(builds) == 3
    model = best.model_
    np.testing.assert_allclose(model.predict(X, verbose=0).ravel(), before, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(restored.predict(X), before, rtol=1e-5, atol=1e-5)
    assert best.current_epoch == 5 and best.training_loop_ == "stacked"
    best.set_params(warm_start=True).fit(X, y, epochs=2)  # continues the built model
    assert best.training_loop_ == "fused" and best.current_epoch == 2


def test_a_seedless_classifier_search_lowers_and_predicts_its_classes():
    X, y = make_classification(n_samples=150, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    labels = np.array(["a", "b", "c"])[y]

    def build(meta, units=8):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                  keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dropout(0.1),
                                  keras.layers.Dense(meta["n_classes_"], activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        return model

    search = GridSearchCV(KerasClassifier(build, epochs=10), {"model__units": [4, 8]}, cv=2)
    search.fit(X, labels)
    assert search.stacking_["fits"] == 4
    assert search.best_estimator_.training_loop_ == "stacked"
    assert set(search.predict(X)) <= {"a", "b", "c"}
    assert search.best_estimator_.predict_proba(X).shape == (150, 3)


def test_a_functional_chain_lowers_and_a_branching_graph_does_not():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dropout(0.2)(keras.layers.Dense(4, activation="elu")(inputs))
    chain = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    chain.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    network, training = lower(chain, SETTINGS)
    assert (network.hidden_layer_sizes, network.activation, network.dropout) == ((4,), "elu", 0.2)
    assert (training["task"], training["solver"]) == ("multiclass", "adam")
    left, right = keras.layers.Dense(4)(inputs), keras.layers.Dense(4)(inputs)
    branching = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Add()([left, right])))
    branching.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotLowerable, match="not a chain"):
        lower(branching, SETTINGS)


def _twins(build, X, Y, settings, validation):
    """The engine's fit of ``build()`` lowered, and ``model.fit`` of its twin."""
    lowered, twin = build(), build()
    request = lowered_request(lowered, settings, (X, Y, None), validation,
                              settings["batch_size"], seed=0)
    result = engine.train([request])[0]
    history = twin.fit(X, Y, epochs=settings["epochs"], batch_size=settings["batch_size"],
                       shuffle=False, verbose=0, validation_data=validation,
                       callbacks=settings["callbacks"]).history
    return result, history, twin


@pytest.mark.parametrize("use_bias", [True, False])
def test_batch_normalization_and_activation_layers_lower_and_train_as_model_fit_does(use_bias):
    X, Y = _data("regression")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,))] + [
            layer for units in (8, 6) for layer in (
                keras.layers.Dense(units, use_bias=use_bias), keras.layers.BatchNormalization(),
                keras.layers.Activation("relu"))] + [keras.layers.Dense(1)])
        # With a bias before a BatchNormalization layer, SGD: its gradient is zero but
        # for round-off, which Adam scales up, differently in each. Without one, Adam
        # (as Hands-On ML's chapter 11 writes these blocks).
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9) if use_bias
                      else keras.optimizers.Adam(0.01), loss="mse")
        return model

    network, _ = lower(build(), SETTINGS)
    assert (network.hidden_layer_sizes, network.activation, network.batch_normalization,
            network.hidden_bias) == ((8, 6), "relu", True, use_bias)
    result, history, twin = _twins(build, X, Y, SETTINGS, (X[:20], Y[:20]))
    theirs = twin.get_weights()
    ours = model_weights(network, result.weights)  # a bias-less layer's zero bias left out
    assert len(ours) == len(theirs) == (14 if use_bias else 12)
    for ours, theirs in zip(ours, theirs):  # moving statistics too
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4)
    np.testing.assert_allclose(result.history["val_loss"], history["val_loss"], rtol=2e-4)


METRIC_CASES = {
    "regression": ("mse", 1, "linear", lambda: ["mae", keras.metrics.RootMeanSquaredError(), "mse"]),
    "binary": ("binary_crossentropy", 1, "sigmoid", lambda: ["accuracy", "mse"]),
    "multiclass": ("sparse_categorical_crossentropy", 3, "softmax",
                   lambda: [keras.metrics.SparseCategoricalAccuracy(name="acc")]),
}


@pytest.mark.parametrize("executor", ["numpy", "compiled"])
@pytest.mark.parametrize("task", METRIC_CASES)
def test_compiled_metrics_lower_and_read_as_model_fit_reports_them(task, executor):
    import skdl

    loss, units, output, metrics = METRIC_CASES[task]
    X, Y = _data(task)

    def build():
        model = _model(keras.optimizers.Adam(0.01), loss, units, output)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=metrics())
        return model

    with skdl.config_context(executor=executor):
        result, history, _ = _twins(build, X, Y, SETTINGS, (X[:20], Y[:20]))
    assert set(history) <= set(result.history) and len(history) > 2
    for key, values in history.items():  # training metrics: running means over the batches
        np.testing.assert_allclose(result.history[key], values, rtol=1e-5, atol=1e-6)


def test_a_searched_wrappers_history_has_its_metrics(friedman):
    X, y, X_valid, y_valid = friedman

    def build(learning_rate=0.01):
        model = _build(1, 8, learning_rate)
        model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate),
                      metrics=["RootMeanSquaredError"])
        return model

    search = GridSearchCV(KerasRegressor(build, random_state=0),
                          {"model__learning_rate": [0.003, 0.01]}, cv=2)
    search.fit(X, y, epochs=3, validation_data=(X_valid, y_valid))
    assert search.stacking_["fits"] == 4
    history = search.best_estimator_.history_
    # model.fit's keys in its order, renamed as scikeras renames them (metric_name on
    # each key: "val_..." keys are not metric names, and stay)
    assert list(history) == ["root_mean_squared_error", "loss", "val_RootMeanSquaredError",
                             "val_loss"]
    np.testing.assert_allclose(np.square(history["root_mean_squared_error"]), history["loss"],
                               rtol=1e-5)


SCHEDULES = {  # case -> (the engine's kind, the schedule)
    "exponential": ("exponential",
                    lambda: keras.optimizers.schedules.ExponentialDecay(0.05, 7, 0.5)),
    "exponential-staircase": ("exponential", lambda: keras.optimizers.schedules.ExponentialDecay(
        0.05, 7, 0.5, staircase=True)),
    "inverse-time": ("inverse_time",
                     lambda: keras.optimizers.schedules.InverseTimeDecay(0.05, 5, 0.7)),
    "polynomial": ("polynomial", lambda: keras.optimizers.schedules.PolynomialDecay(
        0.05, 15, 0.001, power=2.0)),
    "cosine": ("cosine", lambda: keras.optimizers.schedules.CosineDecay(0.05, 15, alpha=0.1)),
}


@pytest.mark.parametrize("executor", ["numpy", "compiled"])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_learning_rate_schedules_lower_and_train_as_model_fit_does(schedule, executor):
    import skdl

    X, Y = _data("regression")  # 6 updates an epoch: the schedules move within epochs
    kind, make = SCHEDULES[schedule]
    network, training = lower(_model(keras.optimizers.Adam(make()), "mse"), SETTINGS)
    assert training["lr_schedule"].kind == kind
    with skdl.config_context(executor=executor):
        result, history, twin = _twins(lambda: _model(keras.optimizers.Adam(make()), "mse"), X, Y,
                                       SETTINGS, (X[:20], Y[:20]))
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4)
    for ours, theirs in zip(result.weights, twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


def test_early_stopping_on_validation_accuracy_lowers_and_stops_where_keras_does():
    X, Y = _data("multiclass")

    def build():
        model = _model(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", 3,
                       "softmax")
        model.compile(optimizer=keras.optimizers.Adam(0.05),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    stopping = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2,
                                             restore_best_weights=True)
    settings = {**SETTINGS, "epochs": 30, "callbacks": [stopping]}
    _, training = lower(build(), settings)
    assert training["keras_stopping"].mode == "max"  # "auto": accuracy rises
    result, history, twin = _twins(build, X, Y, settings, (X[:30], Y[:30]))
    assert len(history["loss"]) < 30  # the case stops early
    assert result.n_iter == len(history["loss"])
    np.testing.assert_allclose(result.history["val_accuracy"], history["val_accuracy"])
    for ours, theirs in zip(result.weights, twin.get_weights()):  # the best epoch's
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("monitor, cooldown, min_lr", [("loss", 0, 0.0), ("val_loss", 1, 0.004)])
def test_reduce_lr_on_plateau_lowers_and_lowers_the_rate_where_keras_does(monitor, cooldown,
                                                                          min_lr):
    X, Y = _data("regression")
    plateau = keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=1,
                                                min_delta=0.5, cooldown=cooldown, min_lr=min_lr)
    settings = {**SETTINGS, "epochs": 10, "callbacks": [plateau]}
    result, history, twin = _twins(lambda: _model(keras.optimizers.SGD(0.02), "mse"), X, Y,
                                   settings, (X[:20], Y[:20]))
    assert len(set(history["learning_rate"])) > 2  # the case lowers the rate, more than once
    np.testing.assert_allclose(result.history["learning_rate"], history["learning_rate"],
                               rtol=1e-6)
    np.testing.assert_allclose(result.history["loss"], history["loss"], rtol=2e-4)
    for ours, theirs in zip(result.weights, twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("executor", ["numpy", "compiled"])
@pytest.mark.parametrize("regularizer", [lambda: keras.regularizers.L2(0.01),
                                         lambda: keras.regularizers.L1L2(l1=0.003, l2=0.01)])
def test_kernel_regularizers_lower_and_train_as_model_fit_does(regularizer, executor):
    import skdl

    X, Y = _data("regression", n=90)  # a last, partial batch: Keras' penalty is not divided

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(
            8, activation="tanh", kernel_regularizer=regularizer()), keras.layers.Dense(
            1, kernel_regularizer=regularizer())])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        return model

    with skdl.config_context(executor=executor):
        result, history, twin = _twins(build, X, Y, SETTINGS, (X[:20], Y[:20]))
    for key in ("loss", "val_loss"):  # both count the penalty, as Keras' do
        np.testing.assert_allclose(result.history[key], history[key], rtol=2e-4)
    for ours, theirs in zip(result.weights, twin.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("layers, reason", [
    (lambda: [keras.layers.Dense(4, activation="relu"), keras.layers.BatchNormalization()],
     "does not follow a linear Dense"),
    (lambda: [keras.layers.Dense(4), keras.layers.BatchNormalization(momentum=0.9)],
     "not Keras' default"),
    (lambda: [keras.layers.Dense(4, activation="relu"), keras.layers.Activation("tanh")],
     "Activation .* does not follow a linear Dense"),
    (lambda: [keras.layers.Dense(4), keras.layers.BatchNormalization(),
              keras.layers.Activation("relu"), keras.layers.Dense(3),
              keras.layers.Activation("relu")], "BatchNormalization follows some"),
    (lambda: [keras.layers.Dense(4, kernel_regularizer="l2")], "not one L1, L2 or L1L2 on every"),
    (lambda: [keras.layers.Dense(4, use_bias=False), keras.layers.Dense(3)],
     "do not all have a bias or all lack one"),
])
def test_layer_blocks_that_do_not_lower_say_why(layers, reason):
    model = keras.Sequential([keras.Input((3,)), *layers(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotLowerable, match=reason):
        lower(model, SETTINGS)


@pytest.mark.parametrize("layer, reason", [
    (lambda: keras.layers.BatchNormalization(), "BatchNormalization"),
    (lambda: keras.layers.Dense(4, activation="relu", bias_regularizer="l2"),
     "bias_regularizer"),
])
def test_a_model_that_does_not_lower_trains_through_keras_and_says_why(friedman, layer, reason):
    X, y, _, _ = friedman

    def build():
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                                  layer(), keras.layers.Dense(1)])
        model.compile(loss="mse", optimizer="sgd")
        return model

    search = GridSearchCV(KerasRegressor(build, random_state=0), {"epochs": [1, 2]}, cv=2)
    with pytest.warns(UserWarning, match=f"one network at a time through Keras.*{reason}"):
        search.fit(X, y)
    assert search.stacking_["fits"] == 0
    assert search.best_estimator_.training_loop_ == "fused"


@pytest.mark.parametrize("compile_kwargs, fit_settings, reason", [
    ({"metrics": ["AUC"]}, {}, "metric 'AUC' is not one the engine tracks"),
    ({"metrics": ["accuracy"]}, {}, "does not apply to a regression model"),
    ({"metrics": [keras.metrics.BinaryAccuracy(threshold=0.7)]}, {}, "not one the engine"),
    ({"optimizer": keras.optimizers.SGD(keras.optimizers.schedules.PiecewiseConstantDecay(
        [10], [0.1, 0.01]))}, {}, "follows a PiecewiseConstantDecay schedule"),
    ({"optimizer": keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(
        0.1, 10, 0.9))}, {"callbacks": [keras.callbacks.ReduceLROnPlateau()]},
     "cannot set a learning rate that follows a schedule"),
    ({"optimizer": keras.optimizers.Adam(clipnorm=1.0)}, {}, "clipnorm"),
    ({"loss": keras.losses.MeanSquaredError(reduction="sum")}, {}, "settings"),
    ({}, {"callbacks": [keras.callbacks.ReduceLROnPlateau(monitor="val_mae")]},
     "ReduceLROnPlateau watches"),
    ({}, {"callbacks": [keras.callbacks.TerminateOnNaN()]}, "TerminateOnNaN acts on training"),
    ({}, {"callbacks": [keras.callbacks.EarlyStopping(monitor="val_mae")]}, "EarlyStopping"),
    ({}, {"extra": {"steps_per_epoch": 2}}, "steps_per_epoch"),
])
def test_lowering_names_what_blocks_it(compile_kwargs, fit_settings, reason):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(**{"optimizer": "sgd", "loss": "mse", **compile_kwargs})
    with pytest.raises(NotLowerable, match=reason):
        lower(model, {**SETTINGS, **fit_settings})


def test_bad_fit_arguments_get_clear_errors(friedman):
    X, y, _, _ = friedman
    with pytest.raises(ValueError, match="epochs"):
        KerasRegressor(_build).fit(X, y, epochs=0)
    with pytest.raises(ValueError, match="validation_data's X_val"):
        KerasRegressor(_build).fit(X, y, validation_data=(X[:, :2], y))
