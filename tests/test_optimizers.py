"""Each solver updates the weights exactly as the Keras optimizer of the same name."""

import keras
import numpy as np
import pytest

from skdl import MLPClassifierTF
from skdl._network import build_network, sklearn_initial_weights

KERAS = {
    "sgd": lambda p: keras.optimizers.SGD(momentum=p.get("momentum", 0.9),
                                          nesterov=p.get("nesterovs_momentum", True)),
    "adam": lambda p: keras.optimizers.Adam(beta_1=p.get("beta_1", 0.9), epsilon=1e-8),
    "adamw": lambda p: keras.optimizers.AdamW(weight_decay=p.get("weight_decay", 0.004), epsilon=1e-8),
    "nadam": lambda p: keras.optimizers.Nadam(epsilon=1e-8),
    "rmsprop": lambda p: keras.optimizers.RMSprop(epsilon=1e-8),
    "adagrad": lambda p: keras.optimizers.Adagrad(epsilon=1e-8),
    "adamax": lambda p: keras.optimizers.Adamax(beta_1=p.get("beta_1", 0.9), epsilon=1e-8),
}


@pytest.mark.parametrize("solver, params", [
    ("sgd", {}), ("sgd", dict(nesterovs_momentum=False)), ("sgd", dict(momentum=0.0)),
    ("adam", dict(beta_1=0.8)), ("adamw", {}), ("adamw", dict(weight_decay=0.1)), ("nadam", {}),
    ("rmsprop", {}), ("adagrad", {}), ("adamax", {}), ("adamax", dict(beta_1=0.8)),
], ids=str)
def test_a_fit_takes_the_keras_optimizers_steps(solver, params, iris_scaled32):
    X, Y = iris_scaled32
    clf = MLPClassifierTF((8, 5), solver=solver, alpha=0.0, shuffle=False, batch_size=32, max_iter=3,
                          learning_rate_init=0.01, tol=0.0, n_iter_no_change=100, random_state=0,
                          **params).fit(X, Y)
    start = sklearn_initial_weights(clf._network_spec, np.random.RandomState(0))  # random_state=0
    model = build_network(clf._network_spec, start)
    optimizer = KERAS[solver](params)
    optimizer.learning_rate = 0.01
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy())
    history = model.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(clf.loss_curve_, history.history["loss"], rtol=1e-5)
    for ours, theirs in zip(clf._layout_weights(np.float32), model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
