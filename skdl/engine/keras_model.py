"""Training and predicting with a user's compiled Keras model.

The model trains through the engine's host loop, the one skdl's own networks
train through (:class:`~skdl.engine.trainer.StackTrainer`), as a stack of one
(:class:`KerasModelStack`) under ``model.fit``'s rules
(:class:`~skdl.engine.runs.KerasRun`). With the TensorFlow backend an epoch is
one ``tf.function`` call: a stateless shuffle, then a graph loop that runs the
model's own ``train_step`` on every minibatch (so the user's loss, metrics,
regularisers and any overridden ``train_step`` apply unchanged). Everything
this loop cannot honour (another backend, ``run_eagerly``, ``fit__``
arguments, callbacks that act on every batch) trains through ``model.fit``
instead, Keras' own loop, as L-BFGS trains through SciPy's. Either way the
callbacks see the same epoch logs and the history has the same keys.
"""

import contextlib
import functools
import random
import weakref

import keras
import numpy as np

from . import keras_private
from .chunks import PREDICT_CHUNK, fixed_chunks
from .keras_callbacks import ModelCallbacks
from .runs import KerasRun
from .trainer import StackTrainer

#: Callback hooks the fused loop never calls: a callback overriding one of
#: them trains through ``model.fit``.
BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def why_keras_fit(model, callbacks, fit_kwargs, engine):
    """Why the fused loop cannot train ``model`` (a sentence), or None when it can."""
    if engine == "keras":
        return "engine='keras' was asked for"
    backend = keras.backend.backend()
    if backend != "tensorflow":
        return f"the fused loop is written for TensorFlow; the backend is {backend}"
    if model.run_eagerly:
        return "run_eagerly=True"
    if not _is_keras_own(model, "fit"):
        return f"the model's fit is its own ({type(model).__name__})"
    if fit_kwargs:
        return f"fit__ arguments go to model.fit ({', '.join(sorted(fit_kwargs))})"
    for callback in callbacks:
        if overrides(callback, BATCH_HOOKS):
            return f"{type(callback).__name__} acts on every batch"
    if not keras_private.can_build_ahead(model):
        return "this Keras version cannot build the model's metrics ahead of the loop"
    return None


def overrides(callback, hooks):
    """Whether ``callback``'s class defines one of Keras' callback ``hooks`` (method names)."""
    return any(getattr(type(callback), hook) is not getattr(keras.callbacks.Callback, hook)
               for hook in hooks)


def _is_keras_own(model, method):
    """Whether ``model``'s ``method`` is Keras' own (not its class's, nor one set on it)."""
    return getattr(getattr(model, method, None), "__func__", None) is getattr(keras.Model, method)


@contextlib.contextmanager
def seeded(seed, *, backend=False):
    """Seed Python's and NumPy's generators (and with ``backend``, Keras' and TensorFlow's)
    for the block, leaving Python's and NumPy's as they were after it.

    Keras draws the seeds of initializers and dropout layers from Python's
    generator when they are made, so this makes a build reproducible;
    ``backend=True`` is for ``model.fit``, whose shuffles use TensorFlow's
    global seed (setting it clears TensorFlow's kernel caches, which costs
    several milliseconds, so the fused loop does without).
    """
    if seed is None:
        yield
        return
    python_state, numpy_state = random.getstate(), np.random.get_state()
    if backend:
        keras.utils.set_random_seed(seed)
    else:
        random.seed(seed)
        np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def train(model, x, y, sample_weight, *, epochs, initial_epoch, batch_size, shuffle, seed,
          validation, validation_batch_size, callbacks, verbose, fit_kwargs, engine,
          keras_seed=None):
    """Train a compiled ``model`` for ``epochs`` epochs; returns ``(history dict, loop name)``.

    ``validation`` is ``None`` or ``(x_val, y_val[, sample_weight_val])``.
    ``seed`` fixes the fused loop's shuffles (epoch ``e`` uses ``(seed, e)``);
    ``keras_seed`` seeds ``model.fit``'s when it trains instead.
    """
    reason = why_keras_fit(model, callbacks, fit_kwargs, engine)
    if reason is not None:
        if keras_private.can_build_ahead(model):
            # model.fit builds an unbuilt model's metrics from a first batch of its data,
            # which under JAX draws one extra shuffle: a reused (built) model would then
            # see other shuffles than a new one with the same seed.
            first = (x, y) if sample_weight is None else (x, y, sample_weight)
            keras_private.build_ahead(model, keras.tree.map_structure(lambda a: a[:1], first))
        with seeded(keras_seed, backend=True):
            history = model.fit(
                x=x, y=y, sample_weight=sample_weight, batch_size=batch_size,
                epochs=initial_epoch + epochs, initial_epoch=initial_epoch, shuffle=shuffle,
                validation_data=validation, validation_batch_size=validation_batch_size,
                callbacks=callbacks, verbose=verbose, **fit_kwargs)
        return history.history, "keras.fit"
    stack = KerasModelStack(
        model, x, y, sample_weight, epochs=epochs, initial_epoch=initial_epoch,
        batch_size=batch_size, shuffle=shuffle, seed=seed, validation=validation,
        validation_batch_size=validation_batch_size, callbacks=callbacks, verbose=verbose)
    return StackTrainer(stack).run()[0], "fused"


class KerasModelStack:
    """A user's compiled Keras model as a stack of one for the host loop
    (:class:`~skdl.engine.trainer.StackTrainer`), under ``model.fit``'s rules.

    Its state is the model's own variables, trained in place: an epoch is one
    call of the model's traced epoch function (TensorFlow), a shuffle seeded
    by ``(seed, epoch)`` then the model's ``train_step`` on every minibatch.
    """

    def __init__(self, model, x, y, sample_weight, *, epochs, initial_epoch, batch_size, shuffle,
                 seed, validation, validation_batch_size, callbacks, verbose):
        import tensorflow as tf

        self.model, self.functions = model, _ModelFunctions.of(model)
        self.first = (x, y) if sample_weight is None else (x, y, sample_weight)
        self.validation = None if validation is None else _as_tensors(validation)
        self.batch_size = tf.constant(batch_size, tf.int32)
        self.validation_batch_size = tf.constant(validation_batch_size, tf.int32)
        self.shuffle, self.seed = tf.constant(bool(shuffle)), seed % (2**31 - 1)
        self.runs, self.first_epoch = [KerasRun(initial_epoch, epochs)], initial_epoch
        self.callbacks = ModelCallbacks(model, callbacks, verbose=verbose,
                                        epochs=initial_epoch + epochs,
                                        steps=-(-len(x) // batch_size))

    def initial_state(self):
        if not self.functions.built:
            # Variables can't be created inside the graph loop: build the model, its
            # loss, metrics and optimizer first, as Keras' own fit does.
            import tensorflow as tf

            first_rows = tf.nest.map_structure(lambda a: a[:1], self.first)
            keras_private.build_ahead(self.model, first_rows)
            self.functions.built = True
        return _as_tensors(self.first)

    def epoch(self, data):
        import tensorflow as tf

        seed_pair = tf.constant([self.seed, self.runs[0].epoch], tf.int32)
        logs = _as_floats(self.functions.epoch(data, seed_pair, self.batch_size, self.shuffle))
        if self.validation is not None:
            val_logs = _as_floats(self.functions.evaluate(self.validation,
                                                          self.validation_batch_size))
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        return data, [(logs,)]

    def weights_fetcher(self, state, m):
        return self.model.get_weights

    def results(self, state, best):
        """``[history]``: what ``model.fit`` returns, the ``History`` callback's record
        (it holds what other callbacks add to the logs, e.g. ``LearningRateScheduler``)."""
        self.callbacks.train_end()
        return [self.model.history.history]


class _ModelFunctions:
    """A model's epoch, evaluation, predict and assign functions, traced once per model.

    Nothing here holds the model strongly, and the traced functions do not
    hold this table: it is keyed weakly by the model, so when the estimator
    lets go of a model, reference counting frees the model, its functions and
    their ``tf.function`` objects. (TensorFlow itself still keeps each traced
    epoch graph, about 3 MiB a model; see the wrappers' memory note in the docs.)
    """

    _of = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, model):
        if model not in cls._of:
            cls._of[model] = cls(model)
        return cls._of[model]

    def __init__(self, model):
        model_ref = weakref.ref(model)
        self.epoch = _traced(_train_epoch, model_ref)
        self.evaluate = _traced(_evaluate_batches, model_ref)
        self.predict_chunk = _traced(_predict_chunk, model_ref)
        self._assign = None
        self.built = False  # whether the model's metrics and optimizer are built

    def assign(self, variables, values):
        import tensorflow as tf

        if self._assign is None:
            def assign(new_values):
                for variable, value in zip(variables, new_values):
                    variable.assign(value)

            self._assign = _ByInputs(tf.function(assign, reduce_retracing=True))
        self._assign(list(values))


def _as_tensors(data):
    import tensorflow as tf

    return tf.nest.map_structure(tf.convert_to_tensor, tuple(data))


def _traced(function, model_ref):
    """``function(model_ref, ...)`` as a ``tf.function``, called through :class:`_ByInputs`.

    A ``partial`` also gives each model's function a key of its own in
    TensorFlow's retracing detector, which counts traces by code object and
    would call one trace per model "excessive retracing".
    """
    import tensorflow as tf

    return _ByInputs(tf.function(functools.partial(function, model_ref), reduce_retracing=True))


class _ByInputs:
    """A ``tf.function`` called through its concrete functions, found by the structure,
    shapes and dtypes of a call's inputs. (TensorFlow's own dispatch takes about
    0.4 ms more a call, as much as a small model's whole epoch of minibatches.)"""

    def __init__(self, function):
        self.function, self.concrete = function, {}

    def __call__(self, *args):
        key = _inputs_key(args)
        concrete = self.concrete.get(key)
        if concrete is None:
            concrete = self.concrete[key] = self.function.get_concrete_function(*args)
        return concrete(*args)


def _inputs_key(value):
    if isinstance(value, (tuple, list)):
        return (type(value),) + tuple(_inputs_key(v) for v in value)
    if isinstance(value, dict):
        return (dict,) + tuple((k, _inputs_key(v)) for k, v in sorted(value.items()))
    return tuple(value.shape), str(value.dtype)


def _rows(data):
    import tensorflow as tf

    return tf.shape(tf.nest.flatten(data[0])[0])[0]


def _batches(model, data, batch_size, step):
    """Run ``step`` on each consecutive minibatch of ``data``, in a graph loop."""
    import tensorflow as tf

    n = _rows(data)
    n_batches = (n + batch_size - 1) // batch_size

    def body(i):
        start = i * batch_size
        stop = tf.minimum(start + batch_size, n)
        step(tf.nest.map_structure(lambda a: a[start:stop], data))
        return (i + 1,)

    tf.while_loop(lambda i: i < n_batches, body, (tf.constant(0),))
    return model.get_metrics_result()


def _train_epoch(model_ref, data, seed, batch_size, shuffle):
    import tensorflow as tf

    model = model_ref()
    model.reset_metrics()
    order = tf.range(_rows(data))
    order = tf.cond(shuffle, lambda: tf.random.experimental.stateless_shuffle(order, seed),
                    lambda: order)
    data = tf.nest.map_structure(lambda a: tf.gather(a, order), data)
    return _batches(model, data, batch_size, model.train_step)


def _evaluate_batches(model_ref, data, batch_size):
    model = model_ref()
    model.reset_metrics()
    return _batches(model, data, batch_size, model.test_step)


def _predict_chunk(model_ref, chunk):
    return model_ref()(chunk, training=False)


def _as_floats(logs):
    return {k: float(v) for k, v in logs.items()}


def predict(model, x, *, predict_kwargs=None):
    """The model's outputs for ``x`` (a list of arrays for a multi-output model).

    ``predict_kwargs`` are ``model.predict``'s (``batch_size=-1`` meaning all
    rows). The fused path predicts in chunks of a fixed size whatever
    ``batch_size`` says, so that a row's output never depends on it; any
    other argument, or ``verbose``, or a ``predict`` of the model's own, predicts
    through ``model.predict``.
    """
    kwargs = dict(predict_kwargs or {})
    if kwargs.get("batch_size") == -1:
        kwargs["batch_size"] = max(x.shape[0], 1)
    chunked = set(kwargs) <= {"batch_size", "verbose"} and not kwargs.get("verbose")
    if not chunked or keras.backend.backend() != "tensorflow" or model.run_eagerly \
            or not _is_keras_own(model, "predict"):
        outputs = model.predict(x=x, **{"verbose": 0, **kwargs})  # by name, as scikeras calls it
        return outputs if isinstance(outputs, (list, tuple)) else [outputs]
    function = _ModelFunctions.of(model).predict_chunk
    n = x.shape[0]
    chunks = [function(chunk) for chunk in fixed_chunks(x, PREDICT_CHUNK)]
    chunks = [c if isinstance(c, (list, tuple)) else [c] for c in chunks]
    return [np.concatenate([np.asarray(c[k]) for c in chunks])[:n] for k in range(len(chunks[0]))]


def assign_all(model, variables, values):
    """``variables[k].assign(values[k])`` for every k: one compiled call under TensorFlow.

    ``variables`` must be the same list (the model's and its optimizer's)
    at every call for a given ``model``. The variables get copies: under JAX,
    ``model.fit`` donates its variables' buffers, which would delete ``values``.
    """
    if keras.backend.backend() != "tensorflow":
        for variable, value in zip(variables, values):
            variable.assign(keras.ops.copy(value))
        return
    _ModelFunctions.of(model).assign(variables, values)
