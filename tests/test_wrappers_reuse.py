"""A wrapper fit whose model has the architecture and compile configuration of one already
traced trains that one: the reuse must be invisible (same results as a fresh build for the same
random_state), bounded, and must never touch a model a fitted estimator or a user holds."""

import gc
import weakref

import keras
import numpy as np
import pytest

from skdl import _model_cache
from skdl.wrappers import KerasClassifier, KerasRegressor, clear_model_cache
from test_wrappers import mlp

SPARSE = "sparse_categorical_crossentropy"


@pytest.fixture(autouse=True)
def empty_cache():
    clear_model_cache()
    gc.collect()
    yield
    clear_model_cache()


def trained_model(estimator):
    """The model a fitted wrapper trained, without taking it out of the cache (as model_ does)."""
    return estimator._slot.model


def fresh_fit(make, X, y):
    """``make()`` fitted on a model built for it alone: the cache emptied first."""
    clear_model_cache()
    gc.collect()
    return make().fit(X, y)


def compiled_mlp(meta, compile_kwargs):
    model = mlp(meta, dropout=0.3)
    model.compile(**{**compile_kwargs, "loss": SPARSE})
    return model


@pytest.mark.parametrize("engine", ["fused", "keras"])
@pytest.mark.parametrize("build", [mlp, compiled_mlp], ids=["wrapper-compiled", "user-compiled"])
def test_a_reused_model_predicts_as_a_fresh_build(iris_scaled32, engine, build):
    X, y = iris_scaled32

    def make():
        return KerasClassifier(build, loss=SPARSE, optimizer="adam", dropout=0.3, epochs=3,
                               batch_size=16, engine=engine, random_state=7)

    first = make().fit(X, y)
    expected = first.predict_proba(X)
    model = weakref.ref(trained_model(first))
    del first
    gc.collect()
    reused = make().fit(X, y)
    assert trained_model(reused) is model()  # it trained the first fit's model again
    np.testing.assert_array_equal(reused.predict_proba(X), expected)
    np.testing.assert_array_equal(fresh_fit(make, X, y).predict_proba(X), expected)
    assert reused.history_ == fresh_fit(make, X, y).history_


def test_interleaved_configurations_match_their_fresh_builds(iris_scaled32):
    X, y = iris_scaled32
    configs = [dict(hidden_layer_sizes=(8,), optimizer__learning_rate=0.001),
               dict(hidden_layer_sizes=(16, 8), optimizer__learning_rate=0.001),
               dict(hidden_layer_sizes=(8,), optimizer__learning_rate=0.05),
               dict(hidden_layer_sizes=(16, 8), optimizer__learning_rate=0.001, random_state=3)]

    def make(config):
        return KerasClassifier(mlp, loss=SPARSE, optimizer="adam", epochs=2,
                               **{"random_state": 0, **config})

    expected = [fresh_fit(lambda: make(c), X, y).predict_proba(X) for c in configs]
    clear_model_cache()
    for _ in range(2):
        for config, proba in zip(configs, expected):
            np.testing.assert_array_equal(make(config).fit(X, y).predict_proba(X), proba)
    assert len(_model_cache.CACHE) == 2  # one traced model per architecture


def test_changing_a_build_parameter_builds_anew(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, model__hidden_layer_sizes=(8,), random_state=0)
    first = weakref.ref(trained_model(clf.fit(X, y)))
    clf.set_params(model__hidden_layer_sizes=(5,)).fit(X, y)
    gc.collect()
    assert trained_model(clf) is not first()
    assert [layer.units for layer in trained_model(clf).layers] == [5, 3]


def test_a_learning_rate_change_reuses_the_model_with_the_new_rate(iris_scaled32):
    X, y = iris_scaled32

    def make(rate):
        return KerasClassifier(mlp, loss=SPARSE, optimizer="sgd", optimizer__learning_rate=rate,
                               epochs=2, random_state=0)

    expected = fresh_fit(lambda: make(0.3), X, y).predict_proba(X)
    clear_model_cache()
    slow = make(0.001).fit(X, y)
    model = weakref.ref(trained_model(slow))
    del slow
    gc.collect()
    fast = make(0.3).fit(X, y)
    assert trained_model(fast) is model()
    assert float(trained_model(fast).optimizer.learning_rate.numpy()) == pytest.approx(0.3)
    np.testing.assert_array_equal(fast.predict_proba(X), expected)


def test_the_optimizer_starts_afresh_but_keeps_its_learning_rate(iris_scaled32):
    X, y = iris_scaled32

    def make(callbacks=None):
        return KerasClassifier(mlp, loss=SPARSE, optimizer="adam", optimizer__learning_rate=0.01,
                               epochs=2, batch_size=50, callbacks=callbacks, random_state=0)

    decayed = make([keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate / 10)])
    decayed.fit(X, y)
    del decayed
    gc.collect()
    clf = make().fit(X, y)
    optimizer = trained_model(clf).optimizer
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert int(optimizer.iterations.numpy()) == 6  # 2 epochs of 3 batches, from 0
    np.testing.assert_array_equal(clf.predict_proba(X),
                                  fresh_fit(make, X, y).predict_proba(X))


def test_a_live_estimators_model_is_never_lent(iris_scaled32):
    X, y = iris_scaled32
    first = KerasClassifier(mlp, loss=SPARSE, epochs=2, random_state=0).fit(X, y)
    proba = first.predict_proba(X)
    second = KerasClassifier(mlp, loss=SPARSE, epochs=5, random_state=1).fit(X, y)
    assert trained_model(second) is not trained_model(first)
    np.testing.assert_array_equal(first.predict_proba(X), proba)


def test_a_model_read_through_model_is_never_reused(iris_scaled32):
    X, y = iris_scaled32
    clf = KerasClassifier(mlp, loss=SPARSE, epochs=2, random_state=0).fit(X, y)
    model = clf.model_
    weights = model.get_weights()
    del clf
    gc.collect()
    other = KerasClassifier(mlp, loss=SPARSE, epochs=2, random_state=1).fit(X, y)
    assert trained_model(other) is not model
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_a_failed_refit_keeps_the_model_and_frees_the_borrowed_one(iris_scaled32):
    X, y = iris_scaled32

    class Fails(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom")

    clf = KerasClassifier(mlp, loss=SPARSE, epochs=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    with pytest.raises(RuntimeError, match="boom"):
        clf.set_params(callbacks=[Fails()]).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert len(_model_cache.CACHE) == 2  # the failed fit's model, free again
    other = KerasClassifier(mlp, loss=SPARSE, epochs=1, random_state=5).fit(X, y)
    assert len(_model_cache.CACHE) == 2 and trained_model(other) is not trained_model(clf)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_the_cache_keeps_a_bounded_number_of_free_models(iris_scaled32, monkeypatch):
    X, y = iris_scaled32
    monkeypatch.setattr(_model_cache.CACHE, "max_free", 2)
    for units in (3, 4, 5, 6, 7):
        KerasClassifier(mlp, loss=SPARSE, hidden_layer_sizes=(units,), random_state=0).fit(X, y)
        gc.collect()
    assert len(_model_cache.CACHE) <= 3  # two free, and the last fit's until its next check


class Scaled(keras.layers.Layer):
    """A custom layer whose factor its config does not show."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.factor = 1.0

    def call(self, inputs):
        return inputs * self.factor


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(3, activation="softmax")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def scaled(meta, factor=1.0):
    layer = Scaled()
    layer.factor = factor
    return keras.Sequential([keras.Input((4,)), layer, keras.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("build", [lambda: Subclassed(), scaled],
                         ids=["subclassed model", "custom layer"])
def test_models_the_cache_cannot_describe_are_built_for_each_fit(iris_scaled32, build):
    X, y = iris_scaled32
    first = KerasClassifier(build, loss=SPARSE, random_state=0).fit(X, y)
    model = weakref.ref(trained_model(first))
    del first
    gc.collect()
    second = KerasClassifier(build, loss=SPARSE, random_state=0).fit(X, y)
    assert trained_model(second) is not model()
    assert len(_model_cache.CACHE) == 0


def test_a_custom_layers_hidden_state_is_never_carried_over(iris_scaled32):
    X, y = iris_scaled32
    proba = {}
    for factor in (1.0, 0.0):
        clf = KerasClassifier(scaled, factor=factor, loss=SPARSE, random_state=0).fit(X, y)
        proba[factor] = clf.predict_proba(X)
        del clf  # its model would be free for the next fit, were it reusable
        gc.collect()
    assert np.all(proba[0.0] == proba[0.0][0])  # a zero factor: every row predicted alike
    assert not np.all(proba[1.0] == proba[1.0][0])


def test_a_regressor_with_two_outputs_reuses_its_model(iris_scaled32):
    X, _ = iris_scaled32
    Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 2]])

    def two_heads(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(8, activation="relu")(inputs)
        return keras.Model(inputs, [keras.layers.Dense(1, name="main")(hidden),
                                    keras.layers.Dense(1, name="aux")(hidden)])

    def make():
        return KerasRegressor(two_heads, epochs=3, random_state=0)

    expected = fresh_fit(make, X, Y)
    clear_model_cache()
    first = make().fit(X, Y)
    model = weakref.ref(trained_model(first))
    del first
    gc.collect()
    reused = make().fit(X, Y)
    assert trained_model(reused) is model()
    np.testing.assert_array_equal(reused.predict(X), expected.predict(X))
    assert set(reused.history_) == set(expected.history_)


def _plainly(build):
    """Mark ``build`` as one the wrappers build plainly, as Keras builds it (no deferred variables)."""
    _model_cache._PLAIN_BUILDS[build] = True
    return build


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["initializers", "seed-generators"])
def test_deferred_builds_start_from_the_weights_a_plain_build_draws(iris_scaled32, dropout):
    X, y = iris_scaled32

    def deferred(meta):
        return mlp(meta, dropout=dropout)

    def plain(meta):
        return mlp(meta, dropout=dropout)

    def weights(build):
        clf = KerasClassifier(build, loss=SPARSE, random_state=5).initialize(X, y)
        return [v.numpy() for v in trained_model(clf).variables]

    expected = weights(_plainly(plain))
    for _ in range(2):  # a fresh model given its variables, then a traced one restarted
        got = weights(deferred)
        assert len(got) == len(expected)
        for value, want in zip(got, expected):
            np.testing.assert_array_equal(value, want)
    assert deferred not in _model_cache._PLAIN_BUILDS


def test_a_build_function_that_sets_its_weights_keeps_them(iris_scaled32):
    X, y = iris_scaled32

    def preset(meta):
        model = mlp(meta)
        model.set_weights([np.full(w.shape, 0.1 * (k + 1), "float32")
                           for k, w in enumerate(model.get_weights())])
        return model

    for _ in range(2):
        model = trained_model(KerasClassifier(preset, loss=SPARSE, random_state=0).initialize(X, y))
        for k, value in enumerate(model.get_weights()):
            np.testing.assert_array_equal(value, np.full(value.shape, 0.1 * (k + 1), "float32"))
    assert preset in _model_cache._PLAIN_BUILDS


def test_a_build_function_with_its_own_initializer_is_reproducible(iris_scaled32):
    X, y = iris_scaled32

    def own_initializer(meta):
        def normal(shape, dtype=None):
            return np.random.normal(size=shape).astype("float32")

        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax",
                                                                       kernel_initializer=normal)])

    first, again = (trained_model(KerasClassifier(own_initializer, loss=SPARSE, random_state=2)
                                  .initialize(X, y)).get_weights() for _ in range(2))
    np.testing.assert_array_equal(first[0], again[0])
    assert own_initializer in _model_cache._PLAIN_BUILDS


def test_a_build_function_compiling_with_an_optimizer_by_name_is_reused(iris_scaled32):
    X, y = iris_scaled32

    def compiled(meta):
        model = mlp(meta)
        model.compile(optimizer="adam", loss=SPARSE)  # makes variables of its own values
        return model

    def make():
        return KerasClassifier(compiled, loss=SPARSE, epochs=2, random_state=4)

    expected = fresh_fit(make, X, y).predict_proba(X)
    for _ in range(2):
        np.testing.assert_array_equal(make().fit(X, y).predict_proba(X), expected)
    assert compiled in _model_cache._PLAIN_BUILDS
    assert len(_model_cache.CACHE) == 1
