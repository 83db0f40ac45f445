"""The Keras private names skdl relies on (skdl/engine/keras_private.py) still do their job."""

import keras
import numpy as np

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
