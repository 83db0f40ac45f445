"""The TensorFlow program: one ``tf.function`` call trains a whole epoch.

The epoch is a graph-side loop over minibatches (shuffled with a stateless
seed), so Python is entered once per epoch rather than once per batch, and
the traced graphs are reused by every fit that borrows this program.
"""

from contextlib import nullcontext

import tensorflow as tf

from ._links import output_link, per_sample_loss
from ._program import Program


class TensorFlowProgram(Program):
    def __init__(self, network_spec, training_spec, device=None):
        self.device = None if device is None else f"/{device[0].upper()}:{device[1]}"
        with tf.device(device) if device else nullcontext():
            super().__init__(network_spec, training_spec)
        self._compile()

    def _compile(self):
        model, optimizer = self.model, self.optimizer
        trainable = model.trainable_variables
        loss_fn, link = per_sample_loss(self.training_spec), output_link(self.training_spec)
        n_features, n_outputs = self.network_spec.n_features, self.network_spec.n_outputs
        x_spec = tf.TensorSpec([None, n_features], tf.float32)
        if self.training_spec.task == "multiclass":
            y_spec = tf.TensorSpec([None], tf.int32)
        else:
            y_spec = tf.TensorSpec([None, n_outputs], tf.float32)
        w_spec = tf.TensorSpec([None], tf.float32)

        def weighted_loss(x, y, w, training):
            per_sample = loss_fn(y, model(x, training=training))
            total = tf.reduce_sum(per_sample * w)
            weight = tf.reduce_sum(w)
            weight = tf.where(weight > 0, weight, tf.cast(tf.shape(w)[0], tf.float32))
            return total, weight

        @tf.function(input_signature=[x_spec, y_spec, w_spec, tf.TensorSpec([2], tf.int32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool)])
        def train_epoch(x, y, w, seed, batch_size, shuffle):
            n = tf.shape(x)[0]
            order = tf.range(n)
            order = tf.cond(shuffle, lambda: tf.random.experimental.stateless_shuffle(order, seed),
                            lambda: order)
            n_batches = (n + batch_size - 1) // batch_size
            epoch_loss, epoch_weight = tf.constant(0.0), tf.constant(0.0)
            for i in tf.range(n_batches):
                index = order[i * batch_size:tf.minimum((i + 1) * batch_size, n)]
                with tf.GradientTape() as tape:
                    total, weight = weighted_loss(tf.gather(x, index), tf.gather(y, index),
                                                  tf.gather(w, index), True)
                    loss = (total + self.penalty()) / weight
                optimizer.apply(tape.gradient(loss, trainable), trainable)
                epoch_loss += loss * weight
                epoch_weight += weight
            return epoch_loss / epoch_weight

        @tf.function(input_signature=[x_spec, y_spec, w_spec])
        def evaluate(x, y, w):
            total, weight = weighted_loss(x, y, w, False)
            return total / weight

        @tf.function(input_signature=[tf.TensorSpec([self.predict_chunk, n_features], tf.float32)])
        def predict(x):
            return link(model(x, training=False))

        @tf.function(input_signature=[x_spec, y_spec, w_spec])
        def value_and_grad(x, y, w):
            with tf.GradientTape() as tape:
                total, weight = weighted_loss(x, y, w, True)
                loss = (total + self.penalty()) / weight
            return loss, tape.gradient(loss, trainable)

        self._train_epoch, self._evaluate = train_epoch, evaluate
        self._predict, self._value_and_grad = predict, value_and_grad

    def place(self, X, y=None, sample_weight=None):
        """Copy arrays onto the program's device once; returns a data handle."""
        with tf.device(self.device) if self.device else nullcontext():
            return tuple(None if a is None else tf.constant(a) for a in (X, y, sample_weight))

    def train_epoch(self, data, seed, batch_size, shuffle):
        seed = tf.constant(seed, tf.int32)
        return float(self._train_epoch(*data, seed, tf.constant(batch_size, tf.int32),
                                       tf.constant(bool(shuffle))))

    def evaluate(self, data):
        return float(self._evaluate(*data))

    def _predict_chunk(self, X):
        return self._predict(tf.constant(X)).numpy()

    def value_and_grad(self, data):
        loss, grads = self._value_and_grad(*data)
        return float(loss), [g.numpy() for g in grads]

