"""KerasClassifier / KerasRegressor do what scikeras 0.13 documents (quick start, advanced
usage, migration guide, parameter routing, its public API), one test per behaviour.

Where scikeras is broken on scikit-learn >= 1.6 (classifier tags, stratified folds) skdl stays
right (test_wrappers.py); where skdl deliberately differs, docs/user_guide/migrating.rst says so.
"""

import pickle
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier, VotingClassifier

from skdl.wrappers import KerasClassifier, KerasRegressor
from test_wrappers import BatchCount, mlp

SPARSE = "sparse_categorical_crossentropy"


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(200, 5, noise=1.0, random_state=0)
    return X.astype("float32"), y / y.std()


def linear(meta):
    return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                             keras.layers.Dense(meta["n_outputs_"])])


def softmax(meta):
    return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                             keras.layers.Dense(meta["n_classes_"], activation="softmax")])


class Counted(keras.metrics.Metric):
    """A custom metric class (module level, so a pickle can name it): counts batches."""

    def __init__(self, name="counted", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(1.0)

    def result(self):
        return self.count * 1.0


class Tally(keras.callbacks.Callback):
    """Notes ``(tag, epoch)`` in a list all its copies share (the wrappers copy callbacks)."""

    seen = []

    def __init__(self, tag):
        super().__init__()
        self.tag = tag

    def on_epoch_end(self, epoch, logs=None):
        Tally.seen.append((self.tag, epoch))


class Schedule:
    """scikeras' routed-callback example: decays the learning rate after ``wait`` epochs."""

    def __init__(self, wait=1, coef=0.1):
        self.wait, self.coef = wait, coef

    def __call__(self, epoch, learning_rate):
        return learning_rate if epoch < self.wait else learning_rate * float(np.exp(-self.coef))


# --- single components ----------------------------------------------------------------
def test_a_single_metric_and_loss_string_and_a_single_callback(iris_scaled32, regression):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, metrics="accuracy", epochs=3, random_state=0,
                          callbacks=keras.callbacks.EarlyStopping(monitor="loss", patience=1,
                                                                  min_delta=10.0))
    clf.fit(X, y)
    assert set(clf.history_) == {"loss", "accuracy"}
    assert clf.current_epoch == 2  # the callback (a single instance) stopped it
    reg = KerasRegressor(linear, loss="mse", metrics="mae", epochs=1, random_state=0)
    assert set(reg.fit(*regression).history_) == {"loss", "mean_absolute_error"}


def test_metric_shorthands_are_reported_under_scikeras_names(regression):
    X, y = regression
    reg = KerasRegressor(linear, metrics=["mse", "mae"], validation_split=0.2, epochs=1,
                         random_state=0).fit(X, y)
    assert set(reg.history_) == {"loss", "mean_squared_error", "mean_absolute_error", "val_loss",
                                 "val_mean_squared_error", "val_mean_absolute_error"}

    def compiled(meta):
        model = linear(meta)
        model.compile(optimizer="adam", loss="mse", metrics=["mse", "acc"])
        return model

    reg = KerasRegressor(compiled, epochs=1, random_state=0).fit(X, y)
    assert set(reg.history_) == {"loss", "mean_squared_error", "acc"}


def test_batch_size_minus_one_is_the_whole_data_set(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, batch_size=-1, validation_batch_size=-1,
                          validation_split=0.2, metrics=[BatchCount], epochs=2,
                          random_state=0).fit(X, y)
    assert clf.history_["batches"] == [1.0, 1.0]
    assert clf.history_["val_batches"] == [1.0, 1.0]


# --- call-time arguments ------------------------------------------------------------------
def test_fit_takes_keras_fit_arguments(iris_scaled32):
    X, y = iris_scaled32  # validation_split=0.2: 120 training rows, 30 validation rows
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=[BatchCount], validation_split=0.2,
                          epochs=1, random_state=0)
    clf.fit(X, y, epochs=3, batch_size=16, validation_batch_size=8)
    assert clf.history_["batches"] == [8.0] * 3
    assert clf.history_["val_batches"] == [4.0] * 3
    assert clf.epochs == 1 and clf.batch_size is None  # the parameters are untouched


def test_routed_fit_arguments_and_call_time_arguments_over_them(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=[BatchCount], epochs=1, fit__epochs=2,
                          fit__batch_size=50, random_state=0).fit(X, y)
    assert clf.history_["batches"] == [3.0, 3.0]
    clf.fit(X, y, epochs=1)
    assert clf.history_["batches"] == [3.0]


def test_fit_initial_epoch_numbers_the_epochs(iris_scaled32):
    X, y = iris_scaled32
    Tally.seen = []
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=3, callbacks=[Tally("fit")], random_state=0)
    clf.fit(X, y, initial_epoch=2)
    assert Tally.seen == [("fit", 2), ("fit", 3), ("fit", 4)]
    assert clf.current_epoch == 3


def test_fit_callbacks_add_and_call_time_callbacks_replace(iris_scaled32):
    X, y = iris_scaled32
    Tally.seen = []
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=2, callbacks=[Tally("wrapper")],
                          fit__callbacks=[Tally("routed")], random_state=0)
    clf.fit(X, y)
    assert Tally.seen == [("wrapper", 0), ("routed", 0), ("wrapper", 1), ("routed", 1)]
    Tally.seen = []
    clf.fit(X, y, callbacks=[Tally("call")])
    assert Tally.seen == [("call", 0), ("call", 1)]


def test_fit_validation_data_is_encoded_like_y(iris_scaled32):
    X, y = iris_scaled32
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=["accuracy"], epochs=2, random_state=0)
    clf.fit(X[::2], labels[::2], validation_data=(X[1::2], labels[1::2]))
    assert len(clf.history_["val_accuracy"]) == 2
    assert 0.0 <= clf.history_["val_accuracy"][-1] <= 1.0


def test_predict_takes_keras_predict_arguments(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X, batch_size=7), clf.predict(X))
    np.testing.assert_array_equal(clf.predict_proba(X, batch_size=-1), clf.predict_proba(X))
    reg = KerasRegressor(linear, epochs=1, random_state=0, predict__batch_size=-1)
    np.testing.assert_allclose(reg.fit(X, y).predict(X, batch_size=3), reg.predict(X),
                               rtol=1e-6)


def test_partial_fit_refuses_epochs_and_initial_epoch_and_takes_other_arguments(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=[BatchCount], random_state=0)
    for name in ("epochs", "initial_epoch"):
        with pytest.raises(TypeError, match=f"`{name}`"):
            clf.partial_fit(X, y, **{name: 2})
    clf.partial_fit(X, y, batch_size=50)
    assert clf.history_["batches"] == [3.0]


def test_current_epoch_and_history_across_partial_fit_and_fit(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=["accuracy"], validation_split=0.2,
                          epochs=3, random_state=0)
    assert clf.current_epoch == 0
    seen = []
    for step in (clf.partial_fit, clf.partial_fit, clf.fit, clf.partial_fit):
        step(X, y)
        seen.append((clf.current_epoch, {k: len(v) for k, v in clf.history_.items()}))
    keys = {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert seen == [(n, dict.fromkeys(keys, n)) for n in (1, 2, 3, 4)]


# --- the model ------------------------------------------------------------------------------
def _pretrained(X, y):
    keras.utils.set_random_seed(1)
    model = mlp({"n_features_in_": 4, "target_type_": "multiclass", "n_classes_": 3})
    model.compile(loss=SPARSE, optimizer="adam")
    model.fit(X, y, epochs=20, verbose=0)
    return model


def test_a_prebuilt_model_is_used_as_it_is_for_inference_without_fitting(iris_scaled32):
    X, y = iris_scaled32
    model = _pretrained(X, y)
    expected = model.predict(X, verbose=0)
    weights = model.get_weights()
    clf = KerasClassifier(model).initialize(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    assert clf.initialized_ and clf.model_ is model  # the instance itself, as in scikeras
    clf.fit(X, y, epochs=1)  # training starts from the pretrained weights, on a copy
    assert clf.model_ is not model
    assert clf.score(X, y) > 0.8
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_ensembles_around_a_prebuilt_model(iris_scaled32):
    X, y = iris_scaled32
    model = _pretrained(X, y)
    clf = KerasClassifier(model, epochs=2, random_state=0)
    bagging = BaggingClassifier(clf, n_estimators=3, random_state=0).fit(X, y)
    voting = VotingClassifier([("a", clf), ("b", clone(clf))], voting="soft").fit(X, y)
    assert bagging.score(X, y) > 0.8 and voting.score(X, y) > 0.8


def test_rows_of_zero_weight_are_left_out_as_in_scikeras(iris_scaled32):
    X, y = iris_scaled32
    weight = np.where(np.arange(150) % 3 == 0, 0.0, 1.0)
    kwargs = dict(loss=SPARSE, optimizer="adam", metrics=[BatchCount], batch_size=25, epochs=2,
                  random_state=0)
    weighted = KerasClassifier(mlp, **kwargs).fit(X, y, sample_weight=weight)
    subset = KerasClassifier(mlp, **kwargs).fit(X[weight > 0], y[weight > 0])
    assert weighted.history_["batches"] == [4.0, 4.0]
    np.testing.assert_allclose(weighted.predict_proba(X), subset.predict_proba(X), rtol=1e-6)


def test_adaboost_honours_sample_weight_as_scikeras_does(iris_scaled32):
    X, y = iris_scaled32
    weight = np.where(np.arange(150) % 4 == 0, 0.0, 1.0)
    clf = KerasClassifier(mlp, loss=SPARSE, optimizer="adam", optimizer__learning_rate=0.05,
                          epochs=3, random_state=0)
    boosted = AdaBoostClassifier(clf, n_estimators=3, random_state=0)
    weighted = clone(boosted).fit(X, y, sample_weight=weight)
    subset = clone(boosted).fit(X[weight > 0], y[weight > 0])
    np.testing.assert_allclose(weighted.estimator_weights_, subset.estimator_weights_)
    np.testing.assert_array_equal(weighted.predict(X), subset.predict(X))
    assert weighted.estimator_errors_[0] < 0.5


def test_a_subclass_with_its_own_build_method_and_no_model_parameter(iris_scaled32):
    X, y = iris_scaled32

    class MLPClassifier(KerasClassifier):  # scikeras' MLPClassifier tutorial
        def __init__(self, hidden_layer_sizes=(100,), optimizer="adam",
                     optimizer__learning_rate=0.001, epochs=200, verbose=0, **kwargs):
            super().__init__(**kwargs)
            self.hidden_layer_sizes = hidden_layer_sizes
            self.optimizer = optimizer
            self.epochs = epochs
            self.verbose = verbose

        def _keras_build_fn(self, compile_kwargs):
            model = keras.Sequential([keras.Input((self.n_features_in_,))])
            for units in self.hidden_layer_sizes:
                model.add(keras.layers.Dense(units, activation="relu"))
            model.add(keras.layers.Dense(self.n_classes_, activation="softmax"))
            model.compile(loss=SPARSE, optimizer=compile_kwargs["optimizer"])
            return model

    clf = MLPClassifier(hidden_layer_sizes=(32,), epochs=60, random_state=0)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (32,) and params["model"] is None
    assert "optimizer__learning_rate" not in params  # the subclass does not store it
    fitted = clone(clf).fit(X, y)
    assert [layer.units for layer in fitted.model_.layers] == [32, 3]
    assert fitted.score(X, y) > 0.8
    with pytest.raises(ValueError, match="_keras_build_fn"):
        MLPClassifier(model=mlp).fit(X, y)


def test_a_model_compiled_with_another_loss_than_loss_is_refused(iris_scaled32):
    X, y = iris_scaled32

    def compiled(meta):
        model = mlp(meta)
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        return model

    with pytest.raises(ValueError, match="loss='sparse_categorical_crossentropy' but model "
                                         "compiled with loss 'categorical_crossentropy'"):
        KerasClassifier(compiled, loss=SPARSE).fit(X, y)
    clf = KerasClassifier(compiled, loss=keras.losses.CategoricalCrossentropy(), epochs=1)
    assert clf.fit(X, y).model_.loss == "categorical_crossentropy"  # the same loss, spelt apart


def test_a_random_state_instance_makes_fits_reproducible_and_is_left_as_it_was(iris_scaled32):
    X, y = iris_scaled32
    random_state = np.random.RandomState(0)
    before = random_state.get_state()[1].copy()
    clf = KerasClassifier(mlp, loss=SPARSE, dropout=0.2, epochs=2, random_state=random_state)
    first = clf.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), first)
    np.testing.assert_array_equal(random_state.get_state()[1], before)


def test_a_wrapper_with_a_custom_metric_class_pickles_after_partial_fit(tmp_path, iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=[Counted], random_state=0)
    clf.partial_fit(X, y)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(f"""
        import pickle, numpy as np
        clf = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        np.save({str(tmp_path / "proba.npy")!r}, clf.predict_proba(X))
        clf.partial_fit(X, clf.predict(X))
        print(sorted(clf.history_), clf.current_epoch)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.split("\n")[0] == "['counted', 'loss'] 2"
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), clf.predict_proba(X), rtol=1e-6)


# --- routing ----------------------------------------------------------------------------------
def test_routed_parameters_reach_one_item_of_a_list(iris_scaled32):
    X, y = iris_scaled32

    def two_heads(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        return keras.Model(inputs, [keras.layers.Dense(1, name="a")(hidden),
                                    keras.layers.Dense(1, name="b")(hidden)])

    reg = KerasRegressor(two_heads, loss=[keras.losses.MeanSquaredError, keras.losses.Huber],
                         loss__name="shared", loss__1__name="huber_b", epochs=1,
                         random_state=0)
    reg.fit(X, np.column_stack([X[:, 0], X[:, 1]]))
    assert [loss.name for loss in reg.model_.loss] == ["shared", "huber_b"]
    clf = KerasClassifier(mlp, loss=SPARSE, metrics=[keras.metrics.SparseTopKCategoricalAccuracy],
                          metrics__0__k=2, metrics__0__name="top2", epochs=1, random_state=0)
    assert set(clf.fit(X, y).history_) == {"loss", "top2"}


def test_a_routed_class_becomes_a_positional_argument(iris_scaled32):
    X, y = iris_scaled32  # scikeras' LearningRateScheduler example
    clf = KerasClassifier(mlp, loss=SPARSE, optimizer="sgd", optimizer__learning_rate=0.1,
                          callbacks=keras.callbacks.LearningRateScheduler,
                          callbacks__0=Schedule, callbacks__0__coef=0.5, epochs=3,
                          random_state=0).fit(X, y)
    assert clf.history_["learning_rate"] == pytest.approx([0.1, 0.1 * np.exp(-0.5),
                                                           0.1 * np.exp(-1.0)], rel=1e-5)


def test_a_routed_class_inside_a_named_optimizer(iris_scaled32):
    X, y = iris_scaled32
    schedule = keras.optimizers.schedules.ExponentialDecay
    clf = KerasClassifier(mlp, loss=SPARSE, optimizer="sgd", optimizer__learning_rate=schedule,
                          optimizer__learning_rate__initial_learning_rate=0.1,
                          optimizer__learning_rate__decay_steps=5,
                          optimizer__learning_rate__decay_rate=0.5, epochs=2, batch_size=30,
                          random_state=0).fit(X, y)
    rate = clf.model_.optimizer.learning_rate  # after 10 steps: 0.1 * 0.5 ** (10 / 5)
    assert float(rate.numpy() if hasattr(rate, "numpy") else rate) == pytest.approx(0.025)


def test_callbacks_in_a_dict_are_routed_by_name(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=5, random_state=0,
                          callbacks={"stop": keras.callbacks.EarlyStopping},
                          callbacks__stop__monitor="loss", callbacks__stop__patience=0,
                          callbacks__stop__min_delta=10.0).fit(X, y)
    assert clf.current_epoch == 2


def test_the_build_function_may_take_params_and_build_fn_still_works(iris_scaled32):
    X, y = iris_scaled32
    seen = {}

    def build(meta, params, hidden=16):
        seen.update(params)
        return mlp(meta, hidden_layer_sizes=(hidden,))

    KerasClassifier(build, loss=SPARSE, hidden=4, epochs=1, random_state=0).fit(X, y)
    assert seen["hidden"] == 4 and seen["loss"] == SPARSE
    with pytest.warns(FutureWarning, match="build_fn"):
        clf = KerasClassifier(build_fn=mlp, loss=SPARSE, epochs=1, random_state=0).fit(X, y)
    assert clf.predict(X).shape == (150,)


def test_scorer_can_be_overridden_and_takes_score_parameters(iris_scaled32):
    X, y = iris_scaled32

    class Weighted(KerasClassifier):
        @staticmethod
        def scorer(y_true, y_pred, **kwargs):
            return float(np.mean(y_true == y_pred)) * kwargs.get("scale", 1.0)

    clf = Weighted(mlp, loss=SPARSE, epochs=5, score__scale=10.0, random_state=0).fit(X, y)
    assert clf.score(X, y) == pytest.approx(10.0 * np.mean(clf.predict(X) == y))


def test_one_hot_targets_are_predicted_one_hot(iris_scaled32):
    X, y = iris_scaled32
    Y = np.eye(3, dtype=int)[y]
    clf = KerasClassifier(softmax, loss="categorical_crossentropy", optimizer="sgd",
                          optimizer__learning_rate=1e-4, random_state=0).fit(X, Y)
    proba = clf.predict_proba(X)
    assert (proba.max(axis=1) < 0.5).any()  # rows with no class above one half still get one
    np.testing.assert_array_equal(clf.predict(X), np.eye(3, dtype=int)[proba.argmax(axis=1)])


def test_fit_arguments_are_checked_by_name(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE)
    with pytest.raises(ValueError, match="'batch_size' parameter of KerasClassifier.fit"):
        clf.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="'epochs' parameter of KerasClassifier.fit"):
        clf.set_params(fit__epochs=-1).fit(X, y)


# --- scikeras' own test suite (benchmarks/scikeras_suite.py) ------------------------------------
def test_a_classifier_fits_targets_of_a_single_class_and_predicts_it(iris_scaled32):
    X, _ = iris_scaled32
    y = np.full(len(X), "only")
    clf = KerasClassifier(mlp, epochs=2, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["only"] and clf.target_type_ == "binary"
    assert (clf.predict(X) == "only").all()
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((len(X), 1)))


def test_a_subclass_default_loss_is_not_a_given_loss(regression):
    X, y = regression

    def compiled(meta):
        model = linear(meta)
        model.compile(optimizer="adam", loss="mae")
        return model

    class CosineByDefault(KerasRegressor):
        def __init__(self, *args, loss=keras.losses.CosineSimilarity(), **kwargs):  # noqa: B008
            super().__init__(*args, loss=loss, **kwargs)

    assert CosineByDefault(compiled).fit(X, y).model_.loss == "mae"
    with pytest.raises(ValueError, match="loss=<.*categorical_hinge.*> but model compiled with "
                                         "loss 'mae'"):
        CosineByDefault(compiled, loss=keras.losses.CategoricalHinge()).fit(X, y)


def test_a_metric_instance_of_an_unregistered_class_pickles_with_the_wrapper(regression):
    X, y = regression
    reg = KerasRegressor(linear, metrics=["mse", Counted(name="custom")], random_state=0)
    reg.partial_fit(X, y)
    for epochs in (2, 3):
        reg = pickle.loads(pickle.dumps(reg)).partial_fit(X, y)
        assert set(reg.history_) == {"loss", "mean_squared_error", "custom"}
        assert reg.current_epoch == epochs
    assert type(reg.metrics[1]) is Counted and reg.metrics[1].name == "custom"


class Calls(keras.callbacks.Callback):
    """Counts its hook calls in a dict the caller holds."""

    def __init__(self, counts):
        super().__init__()
        self.counts = counts

    def on_train_begin(self, logs=None):
        self.counts["train"] += 1

    def on_test_begin(self, logs=None):
        self.counts["test"] += 1

    def on_predict_begin(self, logs=None):
        self.counts["predict"] += 1


def test_callback_instances_share_what_they_hold_with_the_caller(iris_scaled32):
    X, y = iris_scaled32
    counts = defaultdict(int)
    callback = Calls(counts)
    KerasClassifier(mlp, loss=SPARSE, epochs=2, callbacks=callback, random_state=0).fit(X, y)
    assert counts == {"train": 1}
    assert callback.model is None  # the copy was trained with, not the parameter


def test_callbacks_with_predict_hooks_see_predictions_and_fit_callbacks_do_not(iris_scaled32):
    X, y = iris_scaled32
    plain, for_fit, for_predict = defaultdict(int), defaultdict(int), defaultdict(int)
    clf = KerasClassifier(mlp, loss=SPARSE, callbacks=Calls(plain),
                          fit__callbacks=Calls(for_fit), predict__callbacks=Calls(for_predict),
                          random_state=0).fit(X, y)
    clf.predict(X)
    assert plain == {"train": 1, "predict": 1}
    assert for_fit == {"train": 1} and for_predict == {"predict": 1}


def test_callbacks_with_test_hooks_see_each_validation_pass(iris_scaled32):
    X, y = iris_scaled32
    counts = defaultdict(int)
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=3, validation_split=0.2,
                          callbacks=[Calls(counts)], random_state=0).fit(X, y)
    assert counts == {"train": 1, "test": 3}
    assert clf.training_loop_ == "keras.fit"
    with pytest.raises(ValueError, match="Calls acts on the validation passes"):
        clf.set_params(engine="fused").fit(X, y)


def test_a_fit_and_predict_set_on_the_model_are_called_with_the_calls_arguments(iris_scaled32):
    """scikeras' dynamic kwargs test: it patches ``model_.fit`` / ``model_.predict`` on the
    instance and checks the arguments of one call reach them."""
    from unittest import mock

    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, warm_start=True, batch_size=128, epochs=1,
                          random_state=0).initialize(X, y)
    model = clf.model_
    with mock.patch.object(model, "fit", side_effect=model.fit) as fit:
        clf.fit(X, y, batch_size=90, epochs=2)
    assert fit.call_count == 1 and fit.call_args.kwargs["batch_size"] == 90
    assert fit.call_args.kwargs["epochs"] == 2 and clf.training_loop_ == "keras.fit"
    with mock.patch.object(model, "predict", side_effect=model.predict) as predict:
        assert clf.predict(X, batch_size=90).shape == (150,)
    assert predict.call_count == 1 and predict.call_args.kwargs["batch_size"] == 90
    assert clf.batch_size == 128  # the call's arguments are not kept


def test_model_predict_gets_the_wrappers_batch_size_all_rows_for_minus_one(regression):
    from unittest import mock

    X, y = regression
    reg = KerasRegressor(linear, loss="mse", batch_size=-1, epochs=1, random_state=0).fit(X, y)
    predict, seen = reg.model_.predict, []

    def recording(**kwargs):  # scikeras calls model.predict with every argument by name
        seen.append(kwargs["batch_size"])
        return predict(**kwargs)

    with mock.patch.object(reg.model_, "predict", new=recording):
        reg.predict(X)
    assert seen == [len(X)]


class _Doubled(KerasRegressor):
    """A subclass with a feature encoder, as scikeras' data-transformer guide writes one."""

    @property
    def feature_encoder(self):
        from sklearn.preprocessing import FunctionTransformer

        class Doubling(FunctionTransformer):
            def get_metadata(self):
                return {"n_features_encoded_": 2 * self.n_features_in_}

        return Doubling(lambda x: 2 * x, validate=True)


def test_a_subclass_feature_encoder_transforms_what_fit_and_predict_give_the_model(regression):
    X, y = regression
    reg = _Doubled(linear, epochs=2, random_state=0).fit(X, y)
    assert reg.n_features_encoded_ == 10  # its metadata became fitted attributes
    expected = reg.model_.predict(2 * X, verbose=0).ravel()
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(reg.predict(X), reg.model_.predict(X, verbose=0).ravel())


def test_a_batch_of_every_row_needs_encoded_inputs_with_a_shape(regression):
    from sklearn.preprocessing import FunctionTransformer

    class Listed(KerasRegressor):
        @property
        def feature_encoder(self):
            return FunctionTransformer(lambda x: [x])

    X, y = regression
    with pytest.raises(ValueError, match="requires that `X` implement `shape`"):
        Listed(linear, batch_size=-1).fit(X, y)


def test_partial_fit_classes_are_the_classes_as_in_scikit_learns_mlp(iris_scaled32):
    from sklearn.neural_network import MLPClassifier

    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE).partial_fit(X, y, classes=[0, 1, 2, 3])
    assert clf.classes_.tolist() == [0, 1, 2, 3] and clf.predict_proba(X).shape == (150, 4)
    for estimator in (KerasClassifier(mlp, loss=SPARSE), MLPClassifier()):
        with pytest.raises(ValueError, match="not"):  # a label of y outside classes
            estimator.partial_fit(X, y, classes=[0, 1])


def one_unit(loss):
    """A prebuilt model with one linear output unit, compiled with ``loss``."""
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(loss=loss, optimizer="adam")
    return model


def test_a_one_unit_classifier_learns_the_class_codes_as_in_scikeras(iris_scaled32):
    X, y = iris_scaled32
    model = one_unit("mae")
    clf = KerasClassifier(model=model).initialize(X, y)
    output = model.predict(X, verbose=0)[:, 0]  # scikeras: predict_proba is this output, 1-D
    np.testing.assert_allclose(clf.predict_proba(X), output, rtol=1e-6, atol=1e-6)
    nearest = np.clip(np.rint(output), 0, 2).astype(int)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[nearest])
    clf = KerasClassifier(model=one_unit("mae"), epochs=2, random_state=0).fit(X, y)
    assert clf.predict(X).shape == (150,) and set(clf.predict(X)) <= {0, 1, 2}
    with pytest.raises(ValueError, match="one-unit output learns the class codes"):
        KerasClassifier(model=one_unit("binary_crossentropy")).fit(X, y)


def two_inputs(meta):
    """A functional model of two inputs, the first two features and the other two."""
    first, second = keras.Input((2,), name="first"), keras.Input((2,), name="second")
    joined = keras.layers.Concatenate()([keras.layers.Dense(3)(first), second])
    return keras.Model([first, second], keras.layers.Dense(1)(joined))


class _Split(KerasRegressor):
    """A subclass whose feature encoder makes a list of two arrays, for :func:`two_inputs`."""

    @property
    def feature_encoder(self):
        from sklearn.preprocessing import FunctionTransformer

        return FunctionTransformer(lambda x: [x[:, :2], x[:, 2:]])


@pytest.mark.parametrize("validation", ["split", "data"])
def test_a_feature_encoder_may_make_a_list_of_inputs_for_a_model_of_several(iris_scaled32,
                                                                           validation):
    X, _ = iris_scaled32
    y = X[:, 0] - X[:, 3]
    reg = _Split(two_inputs, loss="mse", epochs=2, random_state=0, **(
        {"validation_split": 0.2} if validation == "split" else
        {"fit__validation_data": (X[:30], y[:30])}))
    reg.fit(X, y)
    assert reg.training_loop_ == "keras.fit" and len(reg.history_["val_loss"]) == 2
    expected = reg.model_.predict([X[:, :2], X[:, 2:]], verbose=0).ravel()
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-5, atol=1e-5)
    reg.partial_fit(X, y)
    assert reg.current_epoch == 3
    with pytest.raises(ValueError, match="engine='fused' cannot train .* list of arrays"):
        _Split(two_inputs, loss="mse", engine="fused").fit(X, y)


def test_skdls_search_fits_a_wrapper_whose_inputs_are_a_list(iris_scaled32):
    from skdl.model_selection import GridSearchCV

    X, _ = iris_scaled32
    search = GridSearchCV(_Split(two_inputs, loss="mse", random_state=0), {"epochs": [1, 2]},
                          cv=2)
    with pytest.warns(UserWarning, match="one network at a time .* not a table of features"):
        search.fit(X, X[:, 0])
    assert search.best_estimator_.training_loop_ == "keras.fit"
