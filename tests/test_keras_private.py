"""The Keras private names skdl relies on (skdl/engine/keras_private.py) still do their job."""

import keras
import numpy as np
import pytest

from skdl.engine import keras_private


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_compiled_model_builds_its_metrics_and_optimizer_ahead_of_a_loop():
    model = _model()
    assert keras_private.can_build_ahead(model)
    assert not model.optimizer.built
    keras_private.build_ahead(model, (np.zeros((1, 3), "float32"), np.zeros((1,), "int32")))
    assert model.optimizer.built and model.compiled
    assert any(v.path.startswith("adam") or "adam" in v.path for v in model.optimizer.variables)
    assert {m.name for m in model.metrics} >= {"loss", "compile_metrics"}


def test_restoring_the_name_counters_makes_the_next_build_reuse_the_names():
    counters = keras_private.name_counters()
    first = keras.layers.Dense(2)
    keras_private.restore_name_counters(counters)
    again = keras.layers.Dense(2)
    assert first.name == again.name
    assert keras_private.name_counters() != counters  # building a layer counts a name


def _queued():
    from keras.src.backend.common import global_state

    return len(global_state.get_global_attribute("uninitialized_variables", []) or [])


def _layers(seed):
    return keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(7, kernel_initializer=keras.initializers.HeNormal(seed)),
        keras.layers.Dense(4, kernel_initializer="orthogonal",
                           bias_initializer=keras.initializers.Constant(0.3)),
        keras.layers.Dense(3, kernel_initializer=keras.initializers.TruncatedNormal(seed=seed))])


def test_deferred_variables_read_as_their_initializers_and_leave_no_queue_behind():
    queued = _queued()
    with keras_private.DeferredVariables() as deferred:
        model = _layers(seed=3)
    assert _queued() == queued
    assert len(deferred.variables) == 6 and not deferred.assigned and deferred.keras_initialized
    assert all(getattr(v, "_value", None) is None for v in model.variables)  # no storage yet
    read = [np.asarray(v.value) for v in model.variables]
    deferred.initialize()
    assert all(getattr(v, "_value", None) is not None for v in model.variables)
    for value, variable in zip(read, model.variables):
        np.testing.assert_array_equal(value, variable.numpy())
    np.testing.assert_array_equal(read[0], keras.initializers.HeNormal(3)((5, 7)))


def test_deferred_variables_report_assignments_and_initializers_of_their_own():
    with keras_private.DeferredVariables() as deferred:
        layer = keras.layers.Dense(2, kernel_initializer=lambda shape, dtype=None: np.ones(shape))
        layer.build((None, 3))
    assert not deferred.keras_initialized and not deferred.assigned
    with keras_private.DeferredVariables() as deferred:
        model = _layers(seed=1)
        model.layers[0].kernel.assign(np.zeros((5, 7), "float32"))
    assert deferred.assigned


@pytest.mark.parametrize("seed", [1, 2**31 + 5, None])
def test_initial_values_are_the_values_the_initializers_give(seed):
    with keras_private.DeferredVariables() as deferred:
        model = _layers(seed)
    for _ in range(2):  # the second call runs the traced function made by the first
        values = keras_private.initial_values(model.variables)
        for value, variable in zip(values, model.variables):
            np.testing.assert_array_equal(np.asarray(value), np.asarray(variable.value))
    assert len(deferred.variables) == 6
