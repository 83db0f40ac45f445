"""The backend-neutral half of a compiled training program.

A *program* owns one Keras network and one optimizer for a given
:class:`~skdl._network.NetworkSpec` and :class:`TrainingSpec`, plus the
compiled functions that train and predict with them. Estimators never keep a
program: they keep NumPy weights and borrow a program from the cache for the
length of a ``fit`` or ``predict``, so one program serves every fit of the
same shape (every fold of a grid point, every refit of a search).
"""

from dataclasses import dataclass

import keras
import numpy as np

from .._network import build_network, dense_layers, initial_weights
from .._optim import make_optimizer


def fixed_chunks(X, size):
    """The rows of ``X`` in chunks of exactly ``size`` rows, the last one zero-padded.

    Compiled predict functions take one fixed shape, so that a row's output
    never depends on how many rows came with it (the kernels a backend
    picks, and so the float32 rounding, vary with the shape).
    """
    pad = -X.shape[0] % size
    if pad:
        X = np.concatenate([X, np.zeros((pad,) + X.shape[1:], X.dtype)])
    return [X[i:i + size] for i in range(0, X.shape[0], size)]


@dataclass(frozen=True)
class TrainingSpec:
    """What fixes a program's compiled training step besides the network."""

    task: str
    loss: str
    solver: str
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float | None = None
    l2_penalty: bool = True
    l1_penalty: bool = False
    jit_compile: bool = False


class Program:
    """Network, optimizer and hyper-parameter variables; subclasses compile.

    Backend subclasses implement ``place``, ``train_epoch``, ``evaluate``,
    ``predict`` and ``value_and_grad``.
    """

    def __init__(self, network_spec, training_spec):
        self.network_spec, self.training_spec = network_spec, training_spec
        self.model = build_network(network_spec)
        self.kernels = [layer.kernel for layer in dense_layers(self.model)]
        t = training_spec
        self.optimizer = make_optimizer(
            t.solver, momentum=t.momentum, nesterovs_momentum=t.nesterovs_momentum,
            beta_1=t.beta_1, beta_2=t.beta_2, epsilon=t.epsilon, weight_decay=t.weight_decay)
        self.optimizer.build(self.model.trainable_variables)
        # The model carries its optimizer so Keras callbacks that read
        # ``model.optimizer`` (TensorBoard, LR schedulers) find it.
        self.model.optimizer = self.optimizer
        lr_path = self.optimizer._learning_rate.path
        self._slots = [v for v in self.optimizer.variables if v.path != lr_path]
        self._slot_initial = [np.array(v.numpy()) for v in self._slots]
        self.alpha = keras.Variable(0.0, dtype="float32", trainable=False, name="alpha")
        self.l1 = keras.Variable(0.0, dtype="float32", trainable=False, name="l1")
        self._seed_states = [layer.seed_generator.state for layer in self.model.layers
                             if getattr(layer, "seed_generator", None) is not None]
        self.owner = None  # identifies whose weights the variables hold now

    # -- state, written once for every backend through Keras variables ------
    def start(self, seed, *, learning_rate, alpha, l1, weights=None, optimizer_state=None):
        """Prepare a fit: weights (fresh from ``seed`` unless given), optimizer, dropout streams.

        Backends may override this with one compiled call doing the same
        steps; its fresh weights may come from the backend's own random
        stream, but still from ``seed`` alone.
        """
        if weights is None:
            weights = initial_weights(self.model, self.network_spec.kernel_initializer, seed)
        self.set_weights(weights)
        self.reset_optimizer(optimizer_state)
        self.reseed(seed)
        self.set_hyperparameters(learning_rate=learning_rate, alpha=alpha, l1=l1)

    def set_weights(self, weights):
        for variable, value in zip(self.model.weights, weights):
            variable.assign(value)

    def get_weights(self):
        return [np.array(v.numpy()) for v in self.model.weights]

    def reset_optimizer(self, state=None):
        """Zero the slots and iteration count (or load ``state``); the learning rate is left alone."""
        for variable, value in zip(self._slots, state if state is not None else self._slot_initial):
            variable.assign(value)

    def get_state(self):
        """``(weights, optimizer slots)`` as NumPy arrays."""
        return self.get_weights(), self.get_optimizer_state()

    def get_optimizer_state(self):
        return [np.array(v.numpy()) for v in self._slots]

    def set_hyperparameters(self, *, learning_rate, alpha, l1):
        self.optimizer.learning_rate = float(learning_rate)
        self.alpha.assign(float(alpha))
        self.l1.assign(float(l1))

    def set_learning_rate(self, learning_rate):
        self.optimizer.learning_rate = float(learning_rate)

    def reseed(self, seed):
        """Restart the dropout streams so that a fit depends on its seed alone."""
        for k, state in enumerate(self._seed_states):
            state.assign(np.array([seed % (2**31 - 1), k], dtype=state.dtype))

    def penalty(self):
        """``0.5 * alpha * ||W||^2 + l1 * |W|`` over the kernels, as a backend tensor."""
        ops, total = keras.ops, 0.0
        if self.training_spec.l2_penalty:
            total = total + 0.5 * self.alpha * sum(ops.sum(ops.square(k)) for k in self.kernels)
        if self.training_spec.l1_penalty:
            total = total + self.l1 * sum(ops.sum(ops.abs(k)) for k in self.kernels)
        return total

    #: Rows per predict call. Every call has this exact shape so that a row's
    #: prediction never depends on how many rows came with it (the matmul
    #: kernels a backend picks, and so the float32 rounding, vary with shape).
    predict_chunk = 256

    def checked_state(self, X):
        """``(weights, optimizer slots, finite)``: a fit's result, and whether the network's
        outputs on the first ``predict_chunk`` rows of ``X`` are finite (its last check).

        Backends may do it in one compiled call.
        """
        weights, slots = self.get_state()
        return weights, slots, bool(np.all(np.isfinite(self.predict(X[:self.predict_chunk]))))

    def predict(self, X):
        """The network's output, through its link, for the rows of ``X``."""
        outputs = [self._predict_chunk(chunk) for chunk in fixed_chunks(X, self.predict_chunk)]
        return np.concatenate(outputs)[:X.shape[0]]
