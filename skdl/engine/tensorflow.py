"""The TensorFlow program: one ``tf.function`` call trains a whole epoch.

The epoch shuffles the placed data once (a stateless seed per epoch), then a
graph-side loop runs every minibatch, so Python is entered once per epoch, not
once per batch. Preparing a fit (fresh weights, optimizer slots, dropout
streams, learning rate) is one more call. The traced functions are reused by
every fit that borrows this program.
"""

import os
from contextlib import nullcontext

import keras
import tensorflow as tf

from .._network import dense_layers, kernel_initializer
from ._links import output_link, per_sample_loss
from ._program import Program, fixed_chunks


def _share_cores_with_sibling_workers():
    """Size TensorFlow's thread pools to this process's share of the cores.

    joblib's process workers (``n_jobs``) and Ray tasks set ``OMP_NUM_THREADS``
    to the cores each may use; TensorFlow ignores it and would start one thread
    per core in every worker, oversubscribing the machine.
    """
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(share))
            tf.config.threading.set_inter_op_parallelism_threads(int(share))
        except RuntimeError:  # the runtime already started; its pools stay as they are
            pass


_share_cores_with_sibling_workers()


class _Concrete:
    """A ``tf.function`` traced on its first call, then called as its concrete function.

    Tracing lazily spares fits the functions they never use (evaluate,
    value_and_grad); calling the concrete function skips the signature
    matching that costs about half a millisecond per call.
    """

    def __init__(self, function):
        self.function, self.concrete = function, None

    def __call__(self, *args):
        if self.concrete is None:
            self.concrete = self.function.get_concrete_function()
        return self.concrete(*args)


class TensorFlowProgram(Program):
    def __init__(self, network_spec, training_spec, device=None):
        self.device = None if device is None else f"/{device[0].upper()}:{device[1]}"
        with self._on_device():
            super().__init__(network_spec, training_spec)
            self._compile_training()
            self._compile_state()

    def _on_device(self):
        return tf.device(self.device) if self.device else nullcontext()

    def _compile_training(self):
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
        apply = self._fused_update() or (lambda grads: optimizer.apply(grads, trainable))
        if self.training_spec.jit_compile:
            # The XLA epoch passes a row mask, which reaches the inner layers (batch
            # normalization) either way; this only spares the warning that the
            # functional model itself would drop it from its output.
            model.supports_masking = True

        def weighted_loss(x, y, w, training, real=None):
            """Sum of weighted per-sample losses, and the weight it is a sum over.

            ``real`` masks out the XLA epoch's padding rows (None: every row is
            data): batch normalization's statistics and an all-zero-weight
            batch's divisor then count only the real rows, as in the graph
            loop's exact-size batches.
            """
            if real is None:
                outputs, rows = model(x, training=training), tf.cast(tf.shape(w)[0], tf.float32)
            else:
                outputs = model(x, training=training, mask=real)
                rows = tf.reduce_sum(tf.cast(real, tf.float32))
            total = tf.reduce_sum(loss_fn(y, outputs) * w)
            weight = tf.reduce_sum(w)
            return total, tf.where(weight > 0, weight, rows)

        def objective_and_gradients(x, y, w, real=None):
            """The minibatch objective (weighted mean loss plus penalty), its weight, its gradients."""
            with tf.GradientTape() as tape:
                total, weight = weighted_loss(x, y, w, True, real)
                loss = (total + self.penalty()) / weight
            return loss, weight, tape.gradient(loss, trainable)

        def train_step(x, y, w, epoch_loss, epoch_weight, real=None):
            loss, weight, gradients = objective_and_gradients(x, y, w, real)
            apply(gradients)
            return epoch_loss + loss * weight, epoch_weight + weight

        @tf.function(autograph=False, input_signature=[x_spec, y_spec, w_spec, tf.TensorSpec([2], tf.int32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool)])
        def train_epoch(x, y, w, seed, batch_size, shuffle):
            n = tf.shape(x)[0]
            order = tf.range(n)
            order = tf.cond(shuffle, lambda: tf.random.experimental.stateless_shuffle(order, seed),
                            lambda: order)
            x, y, w = tf.gather(x, order), tf.gather(y, order), tf.gather(w, order)
            n_batches = (n + batch_size - 1) // batch_size

            def step(i, epoch_loss, epoch_weight):
                start, stop = i * batch_size, tf.minimum((i + 1) * batch_size, n)
                return (i + 1, *train_step(x[start:stop], y[start:stop], w[start:stop],
                                           epoch_loss, epoch_weight))

            _, epoch_loss, epoch_weight = tf.while_loop(
                lambda i, *_: i < n_batches, step, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
            return epoch_loss / epoch_weight

        @tf.function(autograph=False, input_signature=[x_spec, y_spec, w_spec])
        def evaluate(x, y, w):
            total, weight = weighted_loss(x, y, w, False)
            return total / weight

        @tf.function(autograph=False, input_signature=[tf.TensorSpec([self.predict_chunk, n_features], tf.float32)])
        def predict(x):
            return link(model(x, training=False))

        @tf.function(autograph=False, input_signature=[tf.TensorSpec([self.predict_chunk, n_features], tf.float32)])
        def checked_state(x):
            finite = tf.reduce_all(tf.math.is_finite(link(model(x, training=False))))
            return [tf.identity(v) for v in model.weights], [tf.identity(v) for v in self._slots], finite

        @tf.function(autograph=False, input_signature=[x_spec, y_spec, w_spec])
        def value_and_grad(x, y, w):
            loss, _, gradients = objective_and_gradients(x, y, w)
            return loss, gradients

        # Traced on first use: evaluate and value_and_grad serve only some fits.
        @tf.function(autograph=False, jit_compile=True)
        def run_batches(xb, yb, wb, realb, n_batches):
            """XLA: the first ``n_batches`` minibatches of a padded (buckets, batch_size, ...) epoch;
            ``realb`` marks which rows are data."""
            def step(i, epoch_loss, epoch_weight):
                return (i + 1, *train_step(xb[i], yb[i], wb[i], epoch_loss, epoch_weight, realb[i]))

            _, epoch_loss, epoch_weight = tf.while_loop(
                lambda i, *_: i < n_batches, step, (tf.constant(0), tf.constant(0.0), tf.constant(0.0)))
            return epoch_loss / epoch_weight

        @tf.function(autograph=False, input_signature=[x_spec, y_spec, w_spec, tf.TensorSpec([2], tf.int32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool)])
        def train_epoch_xla(x, y, w, seed, batch_size, shuffle):
            n = tf.shape(x)[0]
            n_batches = (n + batch_size - 1) // batch_size
            # XLA compiles per shape: round the batch count up (by at most 1/8) so
            # that folds of nearby sizes share one compilation; the loop stops at
            # n_batches. Padded rows carry zero weight and a False row mask, which
            # keeps them out of batch normalization's statistics.
            octave = tf.math.floor(tf.math.log(tf.cast(n_batches, tf.float32)) / tf.math.log(2.0))
            grain = tf.cast(2 ** tf.maximum(octave - 3, 0), tf.int32)
            buckets = (n_batches + grain - 1) // grain * grain
            order = tf.range(n)
            order = tf.cond(shuffle, lambda: tf.random.experimental.stateless_shuffle(order, seed),
                            lambda: order)
            pad = buckets * batch_size - n
            order = tf.concat([order, tf.zeros([pad], tf.int32)], 0)
            w = tf.concat([tf.gather(w, order[:n]), tf.zeros([pad])], 0)
            batched = lambda a: tf.reshape(tf.gather(a, order),  # noqa: E731
                                           tf.concat([[buckets, batch_size], tf.shape(a)[1:]], 0))
            real = tf.reshape(tf.range(buckets * batch_size) < n, [buckets, batch_size])
            return run_batches(batched(x), batched(y), tf.reshape(w, [buckets, batch_size]), real,
                               n_batches)

        if self.training_spec.jit_compile:
            train_epoch = train_epoch_xla
        self._train_epoch, self._evaluate = _Concrete(train_epoch), _Concrete(evaluate)
        self._predict, self._value_and_grad = _Concrete(predict), _Concrete(value_and_grad)
        self._checked_state = _Concrete(checked_state)

    def _fused_update(self):
        """SGD and Adam as TensorFlow's fused kernels (one op per variable), else None.

        Same arithmetic as the Keras optimizer's ``apply``, on its own slot
        variables, in a fraction of the graph ops: on small networks the
        per-op cost, not the arithmetic, sets the speed (SGD epochs on digits
        ran 1.7x faster), and tracing the epoch takes half as long (Adam:
        about 0.4 s instead of 0.8 s per network, which every new process
        of a parallel search pays for every configuration).
        """
        spec, optimizer = self.training_spec, self.optimizer
        if spec.weight_decay is not None or spec.solver not in ("sgd", "adam"):
            return None
        variables = self.model.trainable_variables
        handles = [v.value.handle for v in variables]
        slot = lambda slots, v: slots[optimizer._get_variable_index(v)].value.handle  # noqa: E731

        def finish():
            optimizer.iterations.assign_add(1)

        if spec.solver == "adam":
            firsts = [slot(optimizer._momentums, v) for v in variables]
            seconds = [slot(optimizer._velocities, v) for v in variables]

            def update(grads):
                lr = tf.cast(optimizer._learning_rate, tf.float32)
                t = tf.cast(optimizer.iterations + 1, tf.float32)
                beta_1, beta_2 = tf.constant(spec.beta_1), tf.constant(spec.beta_2)
                b1_power, b2_power = tf.pow(beta_1, t), tf.pow(beta_2, t)
                for handle, m, v, grad in zip(handles, firsts, seconds, grads):
                    tf.raw_ops.ResourceApplyAdam(
                        var=handle, m=m, v=v, beta1_power=b1_power, beta2_power=b2_power, lr=lr,
                        beta1=beta_1, beta2=beta_2, epsilon=tf.constant(spec.epsilon), grad=grad)
                finish()
            return update

        if spec.momentum == 0:
            def update(grads):
                lr = tf.cast(optimizer._learning_rate, tf.float32)
                for handle, grad in zip(handles, grads):
                    tf.raw_ops.ResourceApplyGradientDescent(var=handle, alpha=lr, delta=grad)
                finish()
            return update
        accumulators = [slot(optimizer.momentums, v) for v in variables]

        def update(grads):
            lr = tf.cast(optimizer._learning_rate, tf.float32)
            for handle, accumulator, grad in zip(handles, accumulators, grads):
                tf.raw_ops.ResourceApplyKerasMomentum(
                    var=handle, accum=accumulator, lr=lr, grad=grad, momentum=spec.momentum,
                    use_nesterov=spec.nesterovs_momentum)
            finish()
        return update

    def _compile_state(self):
        """One call to start a fresh fit, one to load given weights or optimizer slots."""
        model = self.model
        generators = [keras.random.SeedGenerator(0) for _ in dense_layers(model)]
        initializers = [kernel_initializer(self.network_spec.kernel_initializer, g) for g in generators]
        slot_initial = [tf.constant(value) for value in self._slot_initial]
        scalar = tf.TensorSpec([], tf.float32)

        def seeded(state, seed, k):
            state.assign(tf.cast(tf.stack([seed, k]), state.dtype))

        @tf.function(autograph=False, input_signature=[tf.TensorSpec([], tf.int32), scalar, scalar, scalar])
        def fresh(seed, learning_rate, alpha, l1):
            for k, (layer, generator, init) in enumerate(zip(dense_layers(model), generators, initializers)):
                seeded(generator.state, seed, k)
                layer.kernel.assign(init(layer.kernel.shape))
                layer.bias.assign(tf.zeros_like(layer.bias))
            for layer in model.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    for variable, value in ((layer.gamma, 1.0), (layer.beta, 0.0),
                                            (layer.moving_mean, 0.0), (layer.moving_variance, 1.0)):
                        variable.assign(tf.fill(tf.shape(variable), value))
            for variable, value in zip(self._slots, slot_initial):
                variable.assign(value)
            for k, state in enumerate(self._seed_states):
                seeded(state, seed, k)
            self.optimizer._learning_rate.assign(learning_rate)
            self.alpha.assign(alpha)
            self.l1.assign(l1)

        def assigner(variables):
            @tf.function(autograph=False, input_signature=[tf.TensorSpec(v.shape, v.dtype) for v in variables])
            def assign(*values):
                for variable, value in zip(variables, values):
                    variable.assign(value)
            return _Concrete(assign)

        @tf.function(autograph=False, input_signature=[])
        def snapshot():
            return [tf.identity(v) for v in model.weights], [tf.identity(v) for v in self._slots]

        self._fresh, self._snapshot = _Concrete(fresh), _Concrete(snapshot)
        self._assign_weights = assigner(model.weights)
        self._assign_slots = assigner(self._slots)

    # -- state ------------------------------------------------------------------
    def start(self, seed, *, learning_rate, alpha, l1, weights=None, optimizer_state=None):
        if weights is not None or optimizer_state is not None:
            return super().start(seed, learning_rate=learning_rate, alpha=alpha, l1=l1,
                                 weights=weights, optimizer_state=optimizer_state)
        self._fresh(tf.constant(seed % (2**31 - 1), tf.int32), tf.constant(learning_rate, tf.float32),
                    tf.constant(alpha, tf.float32), tf.constant(l1, tf.float32))

    def set_weights(self, weights):
        self._assign_weights(*weights)

    def get_weights(self):
        return [w.numpy() for w in self._snapshot()[0]]

    def get_state(self):
        weights, slots = self._snapshot()
        return [w.numpy() for w in weights], [s.numpy() for s in slots]

    def checked_state(self, X):
        with self._on_device():
            first = fixed_chunks(X[:self.predict_chunk], self.predict_chunk)[0]
            weights, slots, finite = self._checked_state(tf.constant(first))
        return [w.numpy() for w in weights], [s.numpy() for s in slots], bool(finite)

    def reset_optimizer(self, state=None):
        self._assign_slots(*(state if state is not None else self._slot_initial))

    # -- data and compiled calls ---------------------------------------------
    def place(self, X, y=None, sample_weight=None):
        """Copy arrays onto the program's device once; returns a data handle."""
        with self._on_device():
            return tuple(None if a is None else tf.constant(a) for a in (X, y, sample_weight))

    def train_epoch(self, data, seed, batch_size, shuffle):
        with self._on_device():
            return float(self._train_epoch(*data, tf.constant(seed, tf.int32),
                                           tf.constant(batch_size, tf.int32), tf.constant(bool(shuffle))))

    def evaluate(self, data):
        with self._on_device():
            return float(self._evaluate(*data))

    def _predict_chunk(self, X):
        with self._on_device():
            return self._predict(tf.constant(X)).numpy()

    def value_and_grad(self, data):
        with self._on_device():
            loss, grads = self._value_and_grad(*data)
        return float(loss), [g.numpy() for g in grads]
