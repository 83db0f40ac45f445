"""Keras callbacks around the host loop's epochs.

Callbacks written for Keras (``EarlyStopping``, ``ModelCheckpoint``,
``TensorBoard``, ``LearningRateScheduler``, ``ReduceLROnPlateau``) read and
write ``callback.model``. The engine trains skdl's networks as plain arrays,
not as a Keras model: :class:`KerasCallbacks` builds a Keras model that mirrors
the network once per fit, copies the weights into it before each epoch's end,
takes the learning rate and ``stop_training`` back, and takes the weights back
after training (so ``EarlyStopping(restore_best_weights=True)`` works). A
user's own Keras model is trained in place: :class:`ModelCallbacks` hands the
callbacks that model, as ``model.fit`` does.
"""

import keras
import numpy as np

from .._network import build_network

#: Keras optimizers that match skdl's solvers, for ``model.optimizer`` (callbacks read
#: and set its learning rate; the engine does the updates).
_KERAS_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "nadam": "Nadam",
                     "rmsprop": "RMSprop", "adagrad": "Adagrad", "adamax": "Adamax",
                     "lbfgs": "Adam"}


class KerasCallbacks:
    """The ``callbacks`` of one fit, called with the usual epoch logs."""

    def __init__(self, callbacks, network, solver, learning_rate, max_iter, steps):
        self.model = build_network(network)
        self.model.optimizer = getattr(keras.optimizers, _KERAS_OPTIMIZERS[solver])(
            learning_rate=float(learning_rate))
        self.model.stop_training = False
        self.callbacks = list(callbacks)
        self.callback_list = keras.callbacks.CallbackList(
            self.callbacks, model=self.model, add_history=False, add_progbar=False,
            epochs=max_iter, verbose=0, steps=steps)

    @property
    def learning_rate(self):
        return float(np.asarray(self.model.optimizer.learning_rate))

    @learning_rate.setter
    def learning_rate(self, value):
        self.model.optimizer.learning_rate = float(value)

    @property
    def stop_training(self):
        return bool(self.model.stop_training)

    def train_begin(self):
        self.callback_list.on_train_begin()

    def epoch_begin(self, epoch, learning_rate):
        """Call ``on_epoch_begin``; returns the learning rate the callbacks leave."""
        self.learning_rate = learning_rate
        self.callback_list.on_epoch_begin(epoch)
        return self.learning_rate

    def epoch_end(self, epoch, logs, weights, learning_rate):
        """Call ``on_epoch_end`` with the model holding ``weights()``; returns the learning rate."""
        self.learning_rate = learning_rate
        self.model.set_weights(weights())
        self.callback_list.on_epoch_end(epoch, dict(logs))
        return self.learning_rate

    def train_end(self, weights):
        """Call ``on_train_end``; returns the weights the model holds afterwards."""
        self.model.set_weights(weights)
        self.callback_list.on_train_end()
        for callback in self.callbacks:
            # Don't let the estimator's parameters (and so its pickles and clones)
            # keep a reference to this model.
            callback.set_model(None)
        return [np.asarray(w) for w in self.model.get_weights()]


class ModelCallbacks:
    """The ``callbacks`` of one fit of a user's Keras ``model``, with a ``History``
    (``model.history``) and, when ``verbose``, a progress bar, as in ``model.fit``."""

    def __init__(self, model, callbacks, *, verbose, epochs, steps):
        self.model = model
        self.callback_list = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=model, verbose=verbose,
            epochs=epochs, steps=steps)

    @property
    def stop_training(self):
        return bool(self.model.stop_training)

    def train_begin(self):
        self.model.stop_training = False
        self.callback_list.on_train_begin()

    def epoch_begin(self, epoch, learning_rate):
        """Call ``on_epoch_begin``; the model's optimizer keeps the learning rate."""
        self.callback_list.on_epoch_begin(epoch)
        return learning_rate

    def epoch_end(self, epoch, logs, weights, learning_rate):
        """Call ``on_epoch_end``; the model already holds its weights (``weights`` is unused)."""
        self.callback_list.on_epoch_end(epoch, logs)
        return learning_rate

    def train_end(self):
        self.callback_list.on_train_end()
