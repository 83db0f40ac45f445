"""The JAX program: an epoch is one jitted ``lax.scan`` over minibatches.

Written the way Keras' own JAX trainer is: pure functions of explicit state
(``stateless_call`` and ``stateless_apply``), the state written back into the
Keras variables after each call so that the backend-neutral parts of skdl
(weights, optimizer resets, callbacks) see it.
"""

import math

import jax
import jax.numpy as jnp
import keras
import numpy as np

from ._links import output_link, per_sample_loss
from ._program import Program


def _bucket(n_batches):
    """Round a batch count up by at most 1/8, so nearby fold sizes share a compilation."""
    grain = 2 ** max(int(math.log2(n_batches)) - 3, 0)
    return -(-n_batches // grain) * grain


def _keep_feature_axis(layer):
    """Keras squeezes a one-feature BatchNormalization's masked moments to scalars, which
    its own ``batch_normalization`` then rejects: give them back their feature axis."""
    moments = layer._moments

    def _moments(inputs, mask):
        return tuple(jnp.reshape(m, (1,)) for m in moments(inputs, mask))

    layer._moments = _moments


class JaxProgram(Program):
    def __init__(self, network_spec, training_spec, device=None):
        super().__init__(network_spec, training_spec)
        self.device = None if device is None else jax.devices(device[0])[device[1]]
        trainable = self.model.trainable_variables
        self._kernel_index = [next(i for i, v in enumerate(trainable) if v is k) for k in self.kernels]
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.BatchNormalization) and layer.moving_mean.shape == (1,):
                _keep_feature_axis(layer)
        self._loss = per_sample_loss(training_spec)
        self._link = output_link(training_spec)
        self._make_batches = jax.jit(self._batches, static_argnames=("batch_size", "shuffle"))
        self._run_epoch = jax.jit(self._epoch, donate_argnums=(0, 1, 2))
        self._predict_fn = jax.jit(self._predict_outputs)
        self._evaluate_fn = jax.jit(self._mean_loss)
        self._value_and_grad_fn = jax.jit(self._objective_and_gradients)

    # -- pure functions of (state, data) ------------------------------------------
    def _penalty(self, trainable, alpha, l1):
        kernels = [trainable[i] for i in self._kernel_index]
        total = 0.0
        if self.training_spec.l2_penalty:
            total = total + 0.5 * alpha * sum(jnp.sum(k * k) for k in kernels)
        if self.training_spec.l1_penalty:
            total = total + l1 * sum(jnp.sum(jnp.abs(k)) for k in kernels)
        return total

    def _weighted_loss(self, trainable, non_trainable, x, y, w, training, real=None):
        """Sum of weighted per-sample losses, the weight it is a sum over, and the new state.

        ``real`` masks out padding rows (None: every row is data). Like the
        TensorFlow program's exact-size batches, batch normalization and an
        all-zero-weight batch's divisor count only the real rows.
        """
        outputs, non_trainable = self.model.stateless_call(trainable, non_trainable, x,
                                                           training=training, mask=real)
        total = jnp.sum(self._loss(y, outputs) * w)
        weight = jnp.sum(w)
        rows = w.shape[0] if real is None else jnp.sum(real)
        return total, jnp.where(weight > 0, weight, rows), non_trainable

    def _objective(self, trainable, non_trainable, alpha, l1, x, y, w, real=None):
        total, weight, non_trainable = self._weighted_loss(trainable, non_trainable, x, y, w, True, real)
        return (total + self._penalty(trainable, alpha, l1)) / weight, (weight, non_trainable)

    def _objective_and_gradients(self, trainable, non_trainable, alpha, l1, x, y, w):
        (loss, (_, non_trainable)), gradients = jax.value_and_grad(self._objective, has_aux=True)(
            trainable, non_trainable, alpha, l1, x, y, w)
        return loss, gradients, non_trainable

    def _batches(self, x, y, w, key, batch_size, shuffle):
        """The epoch's minibatches as (buckets, batch_size, ...) arrays, which of their rows
        are data, and the real batch count."""
        n = x.shape[0]
        n_batches = -(-n // batch_size)
        buckets = _bucket(n_batches)
        order = jax.random.permutation(key, n) if shuffle else jnp.arange(n)
        pad = buckets * batch_size - n
        order = jnp.concatenate([order, jnp.zeros(pad, order.dtype)])
        weights = jnp.concatenate([w[order[:n]], jnp.zeros(pad, w.dtype)])

        def batched(a):
            return a[order].reshape((buckets, batch_size) + a.shape[1:])

        real = jnp.arange(buckets * batch_size) < n
        return (batched(x), batched(y), weights.reshape(buckets, batch_size),
                real.reshape(buckets, batch_size), n_batches)

    def _epoch(self, trainable, non_trainable, optimizer_state, alpha, l1, xb, yb, wb, realb,
               n_batches):
        """Every minibatch in one scan; compiled per (buckets, batch_size), not per data size."""
        def step(carry, batch):
            index, x, y, w, real = batch

            def train(carry):
                trainable, non_trainable, optimizer_state, epoch_loss, epoch_weight = carry
                (loss, (weight, non_trainable)), gradients = jax.value_and_grad(
                    self._objective, has_aux=True)(trainable, non_trainable, alpha, l1, x, y, w, real)
                trainable, optimizer_state = self.optimizer.stateless_apply(
                    optimizer_state, gradients, trainable)
                return (trainable, non_trainable, optimizer_state,
                        epoch_loss + loss * weight, epoch_weight + weight)

            # Batches past the data (bucket padding) leave the state untouched.
            return jax.lax.cond(index < n_batches, train, lambda c: c, carry), None

        start = (trainable, non_trainable, optimizer_state, jnp.float32(0.0), jnp.float32(0.0))
        (trainable, non_trainable, optimizer_state, epoch_loss, epoch_weight), _ = jax.lax.scan(
            step, start, (jnp.arange(xb.shape[0]), xb, yb, wb, realb))
        return trainable, non_trainable, optimizer_state, epoch_loss / epoch_weight

    def _mean_loss(self, trainable, non_trainable, x, y, w):
        total, weight, _ = self._weighted_loss(trainable, non_trainable, x, y, w, False)
        return total / weight

    def _predict_outputs(self, trainable, non_trainable, x):
        outputs, _ = self.model.stateless_call(trainable, non_trainable, x, training=False)
        return self._link(outputs)

    # -- state in and out of the Keras variables --------------------------------
    def _state(self):
        model = self.model
        return ([v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables],
                [v.value for v in self.optimizer.variables])

    def _write_back(self, trainable, non_trainable, optimizer_state):
        for variables, values in ((self.model.trainable_variables, trainable),
                                  (self.model.non_trainable_variables, non_trainable),
                                  (self.optimizer.variables, optimizer_state)):
            for variable, value in zip(variables, values):
                variable.assign(value)

    # -- the Program interface -----------------------------------------------------
    def place(self, X, y=None, sample_weight=None):
        return tuple(None if a is None else jax.device_put(a, self.device) for a in (X, y, sample_weight))

    def train_epoch(self, data, seed, batch_size, shuffle):
        key = jax.random.fold_in(jax.random.PRNGKey(seed[0]), seed[1])
        batches = self._make_batches(*data, key, batch_size=int(batch_size), shuffle=bool(shuffle))
        trainable, non_trainable, optimizer_state = self._state()
        trainable, non_trainable, optimizer_state, loss = self._run_epoch(
            trainable, non_trainable, optimizer_state, self.alpha.value, self.l1.value, *batches)
        self._write_back(trainable, non_trainable, optimizer_state)
        return float(loss)

    def evaluate(self, data):
        trainable, non_trainable, _ = self._state()
        return float(self._evaluate_fn(trainable, non_trainable, *data))

    def _predict_chunk(self, X):
        trainable, non_trainable, _ = self._state()
        return np.asarray(self._predict_fn(trainable, non_trainable, jax.device_put(X, self.device)))

    def value_and_grad(self, data):
        trainable, non_trainable, _ = self._state()
        loss, gradients, non_trainable = self._value_and_grad_fn(
            trainable, non_trainable, self.alpha.value, self.l1.value, *data)
        # Training-mode calls move batch-norm statistics and dropout streams, as under TensorFlow.
        for variable, value in zip(self.model.non_trainable_variables, non_trainable):
            variable.assign(value)
        return float(loss), [np.asarray(g) for g in gradients]

