"""KerasClassifier / KerasRegressor: scikeras scripts, the user's own architectures, routing,
the two training loops, targets, state and persistence."""

import gc
import pickle
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import KerasClassifier, KerasRegressor
from skdl.exceptions import DivergenceError


def mlp(meta, hidden_layer_sizes=(16,), dropout=0.0):
    """The build function scikeras' tutorial teaches."""
    model = keras.Sequential([keras.Input((meta["n_features_in_"],))])
    for units in hidden_layer_sizes:
        model.add(keras.layers.Dense(units, activation="relu"))
        if dropout:
            model.add(keras.layers.Dropout(dropout))
    if meta["target_type_"] == "multiclass":
        model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
    else:
        model.add(keras.layers.Dense(meta["n_outputs_"], activation="sigmoid"))
    return model


def linear_regressor(meta):
    return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                             keras.layers.Dense(meta["n_outputs_"])])


class EpochLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))


class PerBatch(EpochLog):
    def on_train_batch_end(self, batch, logs=None):
        pass


# --- scikeras scripts, import changed ---------------------------------------------------
def test_scikeras_style_grid_gets_stratified_folds_on_sorted_iris(iris):
    X, y = iris  # sorted by class: plain KFold would test unseen classes
    clf = KerasClassifier(
        mlp, loss="sparse_categorical_crossentropy", optimizer="adam", epochs=30,
        batch_size=16, verbose=0, random_state=0, hidden_layer_sizes=(16,),
        callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=3)])
    assert is_classifier(clf)
    grid = {"kerasclassifier__model__hidden_layer_sizes": [(16,), (32, 32)],
            "kerasclassifier__optimizer__learning_rate": [0.003, 0.03]}
    search = GridSearchCV(make_pipeline(StandardScaler(), clf), grid, cv=3).fit(X, y)
    fold_scores = [search.cv_results_[f"split{k}_test_score"][search.best_index_] for k in range(3)]
    assert min(fold_scores) > 0.8
    best = search.best_estimator_[-1]
    assert best.model_.optimizer.learning_rate.numpy() == pytest.approx(
        search.best_params_["kerasclassifier__optimizer__learning_rate"])
    assert len(best.model_.layers) == len(search.best_params_["kerasclassifier__model__hidden_layer_sizes"]) + 1
    assert best.training_loop_ == "fused"
    assert cross_val_score(clone(clf), X, y, cv=3).min() > 0.6


def test_early_stopping_stops_the_fused_loop(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, optimizer="sgd", optimizer__learning_rate=1e-6, epochs=50,
                          callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=2,
                                                                   min_delta=1e-3)],
                          random_state=0).fit(X, y)
    assert clf.training_loop_ == "fused"
    assert len(clf.history_["loss"]) == 3


# --- the user's own architectures --------------------------------------------------------
def test_functional_wide_and_deep_regressor_with_two_outputs():
    X, y = make_regression(300, 6, n_targets=2, noise=0.5, random_state=0)
    y = y / y.std(axis=0)

    def wide_and_deep(meta, units=32):
        inputs = keras.Input((meta["n_features_in_"],))
        deep = keras.layers.Dense(units, activation="relu")(inputs)
        deep = keras.layers.Dense(units, activation="relu")(deep)
        both = keras.layers.Concatenate()([inputs, deep])
        main = keras.layers.Dense(1, name="main")(both)
        aux = keras.layers.Dense(1, name="aux")(deep)
        return keras.Model(inputs, [main, aux])

    reg = KerasRegressor(wide_and_deep, optimizer="adam", optimizer__learning_rate=0.01,
                         loss="mse", epochs=60, random_state=0, validation_split=0.2)
    reg.fit(X, y)
    assert len(reg.model_.outputs) == 2
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, y) > 0.9
    assert {"loss", "val_loss"} <= set(reg.history_)
    assert any(key.startswith("main") for key in reg.history_)


def test_convolutional_classifier_on_digits_as_images(digits):
    X, y = digits
    X = (X / 16.0).reshape(-1, 8, 8, 1).astype("float32")

    def convnet(meta, filters=8):
        return keras.Sequential([
            keras.Input(meta["X_shape_"][1:]),
            keras.layers.Conv2D(filters, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(meta["n_classes_"], activation="softmax")])

    clf = KerasClassifier(convnet, optimizer="adam", optimizer__learning_rate=0.01, epochs=8,
                          random_state=0).fit(X[:1400], y[:1400])
    assert clf.X_shape_ == (1400, 8, 8, 1)
    assert clf.score(X[1400:], y[1400:]) > 0.85
    assert clf.predict_proba(X[:5]).shape == (5, 10)


def test_a_model_instance_is_cloned_for_each_fit(iris_scaled32):
    X, y = iris_scaled32
    original = mlp({"n_features_in_": 4, "target_type_": "multiclass", "n_classes_": 3})
    before = [w.copy() for w in original.get_weights()]
    clf = KerasClassifier(original, optimizer="adam", epochs=3, random_state=0).fit(X, y)
    assert clf.model_ is not original
    for a, b in zip(before, original.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_model_compiled_by_the_function_with_compile_kwargs_is_kept(iris_scaled32):
    X, y = iris_scaled32
    seen = {}

    def compiled(meta, compile_kwargs):
        model = mlp(meta)
        seen.update(compile_kwargs)
        model.compile(**{**compile_kwargs, "loss": "categorical_crossentropy"})
        return model

    clf = KerasClassifier(compiled, optimizer="adam", optimizer__learning_rate=0.02,
                          metrics=["accuracy"], epochs=20, random_state=0).fit(X, y)
    assert isinstance(seen["optimizer"], keras.optimizers.Adam)
    assert float(seen["optimizer"].learning_rate.numpy()) == pytest.approx(0.02)
    assert clf.model_.loss == "categorical_crossentropy"  # so the targets went one-hot
    assert clf.score(X, y) > 0.8
    assert "accuracy" in clf.history_


# --- routing and parameters --------------------------------------------------------------
def test_routed_parameters_reach_their_component(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, optimizer=keras.optimizers.SGD, optimizer__momentum=0.5,
                          model__hidden_layer_sizes=(7, 5), loss__from_logits=False,
                          epochs=1, random_state=0)
    clf.set_params(optimizer__learning_rate=0.123)
    assert clf.get_params()["optimizer__learning_rate"] == 0.123
    clf.fit(X, y)
    optimizer = clf.model_.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.momentum == 0.5
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.123)
    assert [layer.units for layer in clf.model_.layers] == [7, 5, 3]
    assert clone(clf).get_params()["model__hidden_layer_sizes"] == (7, 5)


def test_an_undeclared_parameter_is_refused_by_name():
    clf = KerasClassifier(mlp)
    with pytest.raises(ValueError, match="'hidden'"):
        clf.set_params(hidden=3)


def test_a_missing_model_argument_is_named(iris_scaled32):
    def needs_width(meta, width):
        return mlp(meta)

    with pytest.raises(ValueError, match="'width'"):
        KerasClassifier(needs_width).fit(*iris_scaled32)


def test_bad_parameters_name_themselves(iris_scaled32):
    with pytest.raises(ValueError, match="'epochs'"):
        KerasClassifier(mlp, epochs=0).fit(*iris_scaled32)
    with pytest.raises(ValueError, match="model="):
        KerasClassifier().fit(*iris_scaled32)
    with pytest.raises(ValueError, match="'validation_split'"):
        KerasClassifier(mlp, validation_split=1.0).fit(*iris_scaled32)


# --- the two loops -----------------------------------------------------------------------
def test_fused_loop_and_model_fit_train_the_same_way(iris_scaled32):
    X, y = iris_scaled32
    runs = {}
    for engine in ("fused", "keras"):
        log = EpochLog()
        clf = KerasClassifier(mlp, optimizer="adam", optimizer__learning_rate=0.01, epochs=5,
                              shuffle=False, batch_size=32, random_state=0, engine=engine,
                              metrics=["accuracy"], validation_split=0.2, callbacks=[log])
        runs[engine] = clf.fit(X, y), log
    (fused, fused_log), (keras_fit, keras_log) = runs["fused"], runs["keras"]
    assert fused.training_loop_ == "fused" and keras_fit.training_loop_ == "keras.fit"
    assert set(fused.history_) == set(keras_fit.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in fused.history_:
        np.testing.assert_allclose(fused.history_[key], keras_fit.history_[key], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fused.predict_proba(X), keras_fit.predict_proba(X), atol=1e-5)
    assert [sorted(logs) for logs in fused_log.logs] == [sorted(logs) for logs in keras_log.logs]


def test_the_fused_loop_is_the_engines_host_loop(iris_scaled32, monkeypatch):
    """A wrapper's fused fit and an MLP estimator's fit train through the same host loop."""
    from skdl import MLPClassifierTF
    from skdl.engine import trainer
    from skdl.engine.keras_model import KerasModelStack
    from skdl.engine.network_stack import NetworkStack

    trained, run = [], trainer.StackTrainer.run

    def recording_run(self):
        trained.append(type(self.stack))
        return run(self)

    monkeypatch.setattr(trainer.StackTrainer, "run", recording_run)
    clf = KerasClassifier(mlp, epochs=2, random_state=0, engine="fused").fit(*iris_scaled32)
    MLPClassifierTF(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(*iris_scaled32)
    assert trained == [KerasModelStack, NetworkStack]
    assert len(clf.history_["loss"]) == 2


def test_per_batch_callbacks_train_through_model_fit(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, epochs=2, callbacks=[PerBatch()], random_state=0).fit(X, y)
    assert clf.training_loop_ == "keras.fit"
    assert len(clf.history_["loss"]) == 2
    with pytest.raises(ValueError, match="PerBatch acts on every batch"):
        KerasClassifier(mlp, epochs=2, callbacks=[PerBatch()], engine="fused").fit(X, y)


class CountedFit(keras.Sequential):
    """A model whose class has a fit of its own (counting its calls)."""

    calls = 0

    def fit(self, *args, **kwargs):
        CountedFit.calls += 1
        return super().fit(*args, **kwargs)


def counted_fit(meta):
    return CountedFit([keras.Input((meta["n_features_in_"],)),
                       keras.layers.Dense(meta["n_classes_"], activation="softmax")])


def test_a_model_with_a_fit_of_its_own_trains_through_it(iris_scaled32):
    X, y = iris_scaled32
    CountedFit.calls = 0
    clf = KerasClassifier(counted_fit, loss="sparse_categorical_crossentropy", epochs=2,
                          random_state=0).fit(X, y)
    assert clf.training_loop_ == "keras.fit" and CountedFit.calls == 1
    assert len(clf.history_["loss"]) == 2
    with pytest.raises(ValueError, match=r"the model's fit is its own \(CountedFit\)"):
        KerasClassifier(counted_fit, loss="sparse_categorical_crossentropy", epochs=2,
                        engine="fused").fit(X, y)


def test_callbacks_given_as_classes_take_routed_parameters(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, epochs=40, optimizer="sgd", optimizer__learning_rate=1e-7,
                          callbacks=[keras.callbacks.EarlyStopping], callbacks__monitor="loss",
                          callbacks__patience=1, callbacks__min_delta=1e-3, random_state=0)
    assert len(clf.fit(*iris_scaled32).history_["loss"]) == 2
    assert clf.callbacks == [keras.callbacks.EarlyStopping]  # the parameter is untouched


# --- targets -------------------------------------------------------------------------------
def test_binary_string_labels_with_one_sigmoid_unit(iris_scaled32):
    X, y = iris_scaled32
    labels = np.where(y == 0, "setosa", "other")
    clf = KerasClassifier(mlp, optimizer="adam", optimizer__learning_rate=0.05, epochs=20,
                          random_state=0).fit(X, labels)
    assert clf.model_.loss == "binary_crossentropy"
    assert clf.classes_.tolist() == ["other", "setosa"]
    assert set(clf.predict(X)) == {"other", "setosa"}
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, labels) > 0.95


def test_multilabel_targets(iris_scaled32):
    X, y = iris_scaled32
    Y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    clf = KerasClassifier(mlp, optimizer="adam", optimizer__learning_rate=0.05, epochs=30,
                          random_state=0).fit(X, Y)
    assert clf.target_type_ == "multilabel-indicator"
    assert clf.predict(X).shape == (150, 3)
    assert clf.score(X, Y) > 0.8


def test_an_output_of_the_wrong_width_is_explained(iris_scaled32):
    def two_units(meta):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])

    with pytest.raises(ValueError, match="2 unit.*3 classes"):
        KerasClassifier(two_units).fit(*iris_scaled32)


def test_class_weight_shifts_predictions(iris_scaled32):
    X, y = iris_scaled32
    kwargs = dict(optimizer="adam", optimizer__learning_rate=0.01, epochs=5, random_state=0)
    plain = KerasClassifier(mlp, **kwargs).fit(X, y)
    weighted = KerasClassifier(mlp, class_weight={0: 1.0, 1: 1.0, 2: 100.0}, **kwargs).fit(X, y)
    assert (weighted.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()


def test_regressor_1d_and_2d_targets():
    X, y = make_regression(200, 4, noise=0.1, random_state=0)
    y = y / y.std()
    reg = KerasRegressor(linear_regressor, optimizer="adam", optimizer__learning_rate=0.05,
                         epochs=40, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (200,)
    assert reg.score(X, y) > 0.98
    reg.fit(X, y[:, None])
    assert reg.predict(X).shape == (200, 1)


# --- state --------------------------------------------------------------------------------
def test_partial_fit_and_warm_start_continue_the_same_model(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, optimizer="adam", epochs=2, random_state=0)
    clf.partial_fit(X, y)
    model, steps = clf.model_, int(clf.model_.optimizer.iterations.numpy())
    clf.partial_fit(X, y)
    assert clf.model_ is model
    assert int(model.optimizer.iterations.numpy()) == 2 * steps
    assert len(clf.history_["loss"]) == 2
    # A warm fit continues the model (and its optimizer) but, as scikeras', counts its
    # epochs from 0: history_ and current_epoch are this fit's.
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.model_ is model and int(model.optimizer.iterations.numpy()) == 4 * steps
    assert len(clf.history_["loss"]) == 2 and clf.current_epoch == 2
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == 3
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.model_ is not model and len(clf.history_["loss"]) == 2


def test_a_failed_warm_fit_leaves_the_fitted_model_as_it_was(iris_scaled32):
    X, y = iris_scaled32

    class Fails(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:  # the warm fit's second epoch (it counts from 0, as scikeras')
                raise RuntimeError("boom")

    clf = KerasClassifier(mlp, optimizer="adam", epochs=3, random_state=0).fit(X, y)
    weights, history = clf.model_.get_weights(), dict(clf.history_)
    proba = clf.predict_proba(X)
    clf.set_params(warm_start=True, callbacks=[Fails()])
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X, y)
    for a, b in zip(weights, clf.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert clf.history_ == history
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_divergence_is_reported_and_the_old_model_kept(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, optimizer="sgd", epochs=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(warm_start=True, optimizer__learning_rate=1e30)
    clf.model_.optimizer.learning_rate.assign(1e30)
    with pytest.raises(DivergenceError):
        clf.fit(X * 1e10, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_fits_are_reproducible_and_leave_numpy_random_alone(iris_scaled32):
    X, y = iris_scaled32
    state = np.random.get_state()[1].copy()
    a = KerasClassifier(mlp, dropout=0.2, epochs=3, random_state=3).fit(X, y).predict_proba(X)
    b = KerasClassifier(mlp, dropout=0.2, epochs=3, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_initialize_builds_without_training(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, random_state=0).initialize(X, y)
    assert int(clf.model_.optimizer.iterations.numpy()) == 0
    assert clf.predict_proba(X).shape == (150, 3)


def test_a_fitted_wrapper_predicts_the_same_in_a_fresh_process(tmp_path, iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, optimizer="adam", epochs=3, random_state=0).fit(X, y)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(f"""
        import pickle, numpy as np
        clf = pickle.loads(open({str(path)!r}, "rb").read())
        np.save({str(tmp_path / "proba.npy")!r}, clf.predict_proba(np.load({str(tmp_path / "X.npy")!r})))
        print(type(clf.model_).__name__, clf.training_loop_, len(clf.history_["loss"]))
    """)
    # The build function is this module's: the fresh process imports it from here, as a user's
    # process imports their own module.
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.split() == ["Sequential", "fused", "3"]
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), clf.predict_proba(X), rtol=1e-6)


def test_a_replaced_model_is_freed_with_its_traced_functions(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, epochs=2, random_state=0).fit(X, y)
    clf.predict(X)
    first = weakref.ref(clf.model_)
    clf.fit(X, y)
    gc.collect()
    assert first() is None


class BatchCount(keras.metrics.Metric):
    """How many minibatches an epoch (or a validation pass) ran."""

    def __init__(self, name="batches", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(1.0)

    def result(self):
        return self.count * 1.0  # a value, not the variable Keras would read later

    def reset_state(self):
        self.count.assign(0.0)


@pytest.mark.parametrize("engine", ["fused", "keras"])
def test_batch_size_and_validation_batch_size_set_the_minibatches(iris_scaled32, engine):
    X, y = iris_scaled32  # validation_split=0.2: 120 training rows, 30 validation rows
    clf = KerasClassifier(mlp, epochs=2, batch_size=32, validation_batch_size=7,
                          validation_split=0.2, metrics=[BatchCount], engine=engine,
                          random_state=0).fit(X, y)
    assert clf.history_["batches"] == [4.0, 4.0]
    assert clf.history_["val_batches"] == [5.0, 5.0]


def test_run_eagerly_trains_through_model_fit(iris_scaled32):
    clf = KerasClassifier(mlp, epochs=1, run_eagerly=True, random_state=0).fit(*iris_scaled32)
    assert clf.training_loop_ == "keras.fit" and clf.model_.run_eagerly


@pytest.mark.parametrize("engine", ["fused", "keras"])
def test_verbose_prints_epochs_and_zero_prints_nothing(iris_scaled32, capsys, engine):
    KerasClassifier(mlp, epochs=2, verbose=0, engine=engine, random_state=0).fit(*iris_scaled32)
    assert capsys.readouterr().out == ""
    KerasClassifier(mlp, epochs=2, verbose=2, engine=engine, random_state=0).fit(*iris_scaled32)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "loss" in out


@pytest.mark.parametrize("name, value", [
    ("engine", "torch"), ("batch_size", 0), ("validation_batch_size", 0), ("verbose", 3),
    ("shuffle", "yes"), ("run_eagerly", 1.5), ("warm_start", None), ("optimizer", 3),
    ("loss", 3), ("metrics", 3), ("callbacks", [3]), ("class_weight", "auto"),
    ("batch_size", -2), ("validation_batch_size", 1.5),
])
def test_a_bad_value_names_its_parameter(iris_scaled32, name, value):
    with pytest.raises(ValueError, match=f"'{name}'"):
        KerasClassifier(mlp, **{name: value}).fit(*iris_scaled32)


def test_traced_functions_are_found_by_the_structure_shapes_and_dtypes_of_their_inputs():
    import tensorflow as tf

    from skdl.engine.keras_model import _ByInputs

    def describe(data):
        sizes = [tf.cast(tf.size(t), tf.float32) for t in tf.nest.flatten(data)]
        return tf.stack([float(len(data))] + [tf.reduce_sum(tf.cast(t, tf.float32))
                                              for t in tf.nest.flatten(data)] + sizes)

    plain, dispatched = tf.function(describe), _ByInputs(tf.function(describe))
    ones, twos = np.ones((4, 1), "float32"), np.full((4, 1), 2, "int32")
    calls = [(ones, [ones, ones]), (ones, ones, ones), (ones, (ones, ones)), (ones, ones, twos),
             (ones, np.ones((5, 1), "float32"), ones), (ones, [ones, ones])]
    for data in calls:
        np.testing.assert_array_equal(dispatched(data), plain(data))
    assert len(dispatched.concrete) == 5


def test_the_estimators_reach_the_engine_through_its_public_names_only():
    """The Keras-model loop and Keras' private attributes stay behind ``skdl.engine``'s
    boundary: no module outside the engine imports its ``keras_model`` or ``keras_private``."""
    import ast

    import skdl
    from skdl import engine

    package = Path(skdl.__file__).parent
    inside = []
    for path in package.rglob("*.py"):
        if path.parent.name == "engine":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
                if any(name.split(".")[-1] in ("keras_model", "keras_private") for name in names):
                    inside.append(f"{path.relative_to(package)}:{node.lineno}")
    assert inside == []
    assert callable(engine.train_keras_model) and callable(engine.predict_keras_model)
