"""A user's compiled Keras model, lowered into the engine's specs so that its fits train in stacks.

A wrapper's model lowers when it is a plain network: a ``keras.Sequential``,
or a functional model that is a chain, of blocks ``Dense [BatchNormalization]
[Activation] [Dropout]`` (one activation for the hidden blocks, Keras' default
batch normalization before it in all of them or none, Dropout of one rate in
all or none; biases in every hidden Dense layer or in none, and in the output
layer; one L1, L2 or L1L2 kernel regularizer on every Dense layer or on none,
no other regularizer or constraint), then the output ``Dense [Activation]``;
compiled with a standard optimizer (SGD with momentum or Nesterov's, Adam,
AdamW, Nadam, Adamax, RMSprop, Adagrad) at a constant learning rate or on a
standard schedule (``ExponentialDecay``, ``InverseTimeDecay``,
``PolynomialDecay``, ``CosineDecay``), a standard loss (mse, mae, Huber,
binary or (sparse) categorical cross-entropy) and standard metrics (mae, mse,
root mean squared error, accuracy: names or their Keras classes); trained with ``epochs``,
``batch_size``, ``shuffle``, ``validation_data`` or ``validation_split``, and
at most one ``keras.callbacks.EarlyStopping`` and one ``ReduceLROnPlateau``
watching the loss or a metric. The engine then
trains it as ``model.fit`` would (:class:`~skdl.engine.TrainingSpec`'s
``rules="keras"``), from the model's own first weights. Anything else raises
:class:`NotLowerable`, naming what blocked it, and trains through Keras.

Only public Keras API is read here: layer attributes, ``get_config()`` and
``get_compile_config()``.
"""

import hashlib
import inspect

import numpy as np

from ._network import BN_EPSILON, BN_MOMENTUM, NetworkSpec, layout
from ._optim import ACTIVATIONS, OUTPUT_ACTIVATIONS, REGRESSOR_OUTPUT_ACTIVATIONS

#: Keras' activation names -> skdl's (:data:`skdl._optim.OUTPUT_ACTIVATIONS` the other way).
_OUTPUTS = {keras: skdl for skdl, keras in OUTPUT_ACTIVATIONS.items()}

#: Keras' loss classes -> their names in :data:`_LOSSES`.
_LOSS_CLASSES = {"MeanSquaredError": "mse", "MeanAbsoluteError": "mae", "Huber": "huber",
                 "BinaryCrossentropy": "binary_crossentropy",
                 "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
                 "CategoricalCrossentropy": "categorical_crossentropy"}

#: Keras' loss names -> (task, engine loss).
_LOSSES = {
    "mse": ("regression", "mean_squared_error"),
    "mean_squared_error": ("regression", "mean_squared_error"),
    "mae": ("regression", "absolute_error"),
    "mean_absolute_error": ("regression", "absolute_error"),
    "huber": ("regression", "huber"),
    "binary_crossentropy": ("binary", "log_loss"),
    "sparse_categorical_crossentropy": ("multiclass", "log_loss"),
    "categorical_crossentropy": ("multiclass", "log_loss"),
}

#: Each classification task's output activation (skdl's names).
_CLASSIFIER_OUTPUTS = {"binary": "logistic", "multiclass": "softmax"}

#: Keras optimizer classes -> engine solver, and the config values each must have.
_SOLVERS = {
    "SGD": ("sgd", {}),
    "Adam": ("adam", {"amsgrad": False}),
    "AdamW": ("adamw", {"amsgrad": False}),
    "Nadam": ("nadam", {}),
    "RMSprop": ("rmsprop", {"rho": 0.9, "momentum": 0.0, "centered": False}),
    "Adagrad": ("adagrad", {"initial_accumulator_value": 0.1}),
    "Adamax": ("adamax", {}),
}

#: Optimizer settings that must be off (None or False) for the engine's updates to be Keras'.
_OPTIMIZER_OFF = ("clipnorm", "clipvalue", "global_clipnorm", "use_ema", "loss_scale_factor",
                  "gradient_accumulation_steps")


class NotLowerable(Exception):
    """Why a model's fit cannot train in the engine's stacks (the message says what)."""


def lower(model, settings):
    """The engine's ``(network, training)`` for fits of the compiled ``model`` with ``settings``
    (the wrapper's resolved fit settings: :data:`skdl.wrappers.FIT_SETTINGS`, and
    ``extra`` and ``class_weight``).

    ``network`` is a :class:`~skdl._network.NetworkSpec`; ``training`` the
    keyword arguments of a :class:`~skdl.engine.TrainingSpec` (its ``task``
    included) under Keras' rules. Raises :class:`NotLowerable`.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"),
    ...                           keras.layers.Dense(1)])
    >>> model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    >>> network, training = lower(model, {"epochs": 5, "batch_size": None, "shuffle": True,
    ...                                   "callbacks": [], "verbose": 0})
    >>> network.hidden_layer_sizes, network.activation, training["solver"], training["loss"]
    ((8,), 'relu', 'sgd', 'mean_squared_error')
    """
    import keras

    task, loss = _loss(model)
    layers = _chain(model)
    sizes, activation, output, dropout, normalized, biased = _layers(layers)
    if task == "regression" and output not in REGRESSOR_OUTPUT_ACTIVATIONS:
        raise NotLowerable(f"its output activation {output!r} is not a regressor's")
    if task != "regression" and output != _CLASSIFIER_OUTPUTS[task]:
        raise NotLowerable(f"its loss reads a {_CLASSIFIER_OUTPUTS[task]} output, not {output!r}")
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    if task == "binary" and dense[-1].units != 1:
        raise NotLowerable("its binary cross-entropy averages over several labels")
    network = NetworkSpec(n_features=int(dense[0].kernel.shape[0]), hidden_layer_sizes=sizes,
                          activation=activation, n_outputs=dense[-1].units,
                          output_activation=output, dropout=dropout,
                          batch_normalization=normalized, hidden_bias=biased)
    metrics = _metrics(model, task)
    training = {"task": task, "loss": loss, "dropout": dropout, **_optimizer(model),
                "metrics": metrics, **_regularization(dense), **_fit(settings, metrics),
                "rules": "keras"}
    _check_schedule_and_plateau(training)
    return network, training


def lowered_request(model, settings, train_rows, validation, batch_size, seed):
    """The engine's request for one fit of ``model`` (see :func:`lower`): ``train_rows`` the
    wrapper's ``(X, Y, None)`` with Keras' targets, ``validation`` its ``(X_val, Y_val)`` or
    None; the fit starts from the model's own weights. Raises :class:`NotLowerable`."""
    from . import engine

    network, training = lower(model, settings)
    spec = engine.TrainingSpec(**training, batch_size=batch_size)
    X, Y = train_rows[0], train_rows[1]
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise NotLowerable("its inputs are not a table of features")
    if validation is not None:
        if len(validation) == 3:
            raise NotLowerable("validation_data carries sample weights")
        validation = _engine_rows(spec.task, *validation)
    return engine.FitRequest(network, spec, *_engine_rows(spec.task, X, Y), seed,
                             validation=validation, score=_no_score,
                             initial=engine_weights(network, model.get_weights()))


def _missing_bias(network, weight):
    """Whether ``weight`` (of ``layout(network)``) is a bias-less hidden layer's zero bias."""
    return weight.role == "bias" and weight.layer < len(network.hidden_layer_sizes) \
        and not network.hidden_bias


def engine_weights(network, weights):
    """A lowered model's weights (``model.get_weights()``) in the engine's layout: with a
    zero bias for each bias-less hidden layer (``network.hidden_bias`` False)."""
    given = iter(weights)
    return [np.zeros(weight.shape, np.float32) if _missing_bias(network, weight)
            else np.asarray(next(given), np.float32) for weight in layout(network)]


def model_weights(network, weights):
    """The inverse of :func:`engine_weights`: what the model's ``set_weights`` takes."""
    return [value for weight, value in zip(layout(network), weights)
            if not _missing_bias(network, weight)]


def _engine_rows(task, X, Y):
    """``(X, Y, W)`` as the engine reads them: float32 inputs, class codes for "multiclass"
    (Keras' one-hot targets too), float32 columns otherwise, unit weights."""
    Y = np.asarray(Y)
    if task == "multiclass":
        Y = (Y.argmax(axis=1) if Y.ndim == 2 else Y).astype(np.int32)
    else:
        Y = Y.astype(np.float32).reshape(len(Y), -1)
    return np.asarray(X, np.float32), Y, np.ones(len(Y), np.float32)


def _no_score(outputs, Y, W):
    """A lowered fit's validation score: none (its logs carry ``val_loss``)."""
    return float("nan")


def _loss(model):
    """``(task, engine loss)`` of the model's compiled loss (a name or a standard instance)."""
    import keras

    config = model.get_compile_config() or {}
    for name in ("weighted_metrics", "loss_weights"):
        if config.get(name):
            raise NotLowerable(f"it is compiled with {name}")
    if config.get("run_eagerly") or config.get("steps_per_execution", 1) != 1:
        raise NotLowerable("it is compiled with run_eagerly or steps_per_execution")
    loss = model.loss
    if isinstance(loss, keras.losses.Loss):
        loss_config = loss.get_config()
        if loss_config.get("from_logits") or loss_config.get("reduction") != "sum_over_batch_size" \
                or loss_config.get("delta", 1.0) != 1.0 or loss_config.get("label_smoothing"):
            raise NotLowerable(f"its loss {type(loss).__name__} has settings the engine lacks")
        loss = _LOSS_CLASSES.get(type(loss).__name__, type(loss).__name__) \
            if type(loss).__module__.startswith("keras.") else type(loss).__name__
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise NotLowerable(f"its loss {loss!r} is not one the engine computes")
    return _LOSSES[loss]


#: Metric names ``compile`` takes -> the engine's metric (``"accuracy"`` the task's).
_METRIC_NAMES = {"mae": "mean_absolute_error", "mean_absolute_error": "mean_absolute_error",
                 "MeanAbsoluteError": "mean_absolute_error", "mse": "mean_squared_error",
                 "mean_squared_error": "mean_squared_error",
                 "MeanSquaredError": "mean_squared_error",
                 "RootMeanSquaredError": "root_mean_squared_error",
                 "accuracy": "accuracy", "acc": "accuracy"}

#: Keras metric classes -> the engine's metric, and the tasks it reads.
_METRIC_CLASSES = {"MeanAbsoluteError": ("mean_absolute_error", ("regression", "binary")),
                   "MeanSquaredError": ("mean_squared_error", ("regression", "binary")),
                   "RootMeanSquaredError": ("root_mean_squared_error", ("regression", "binary")),
                   "BinaryAccuracy": ("accuracy", ("binary",)),
                   "SparseCategoricalAccuracy": ("accuracy", ("multiclass",)),
                   "CategoricalAccuracy": ("accuracy", ("multiclass",))}


def _metrics(model, task):
    """The :class:`~skdl.engine.TrainingSpec` ``metrics`` of the model's compiled metrics:
    ``(log name, engine metric)`` pairs, the log names Keras' history uses."""
    metrics = (model.get_compile_config() or {}).get("metrics") or []
    if isinstance(metrics, dict) or any(isinstance(m, (list, tuple)) for m in metrics):
        raise NotLowerable("its metrics are given per output")
    pairs = []
    for metric in metrics:
        if isinstance(metric, str) and metric in _METRIC_NAMES:
            name = _METRIC_NAMES[metric]
            tasks = ("binary", "multiclass") if name == "accuracy" else ("regression", "binary")
            pairs.append((metric, name))
        elif isinstance(metric, dict) and metric.get("class_name") in _METRIC_CLASSES \
                and str(metric.get("module", "")).startswith("keras") \
                and set(metric.get("config", {})) <= {"name", "dtype", "threshold"} \
                and metric["config"].get("threshold", 0.5) == 0.5:
            name, tasks = _METRIC_CLASSES[metric["class_name"]]
            pairs.append((metric["config"]["name"], name))
        else:
            raise NotLowerable(f"its metric {metric!r} is not one the engine tracks")
        if task not in tasks:
            raise NotLowerable(f"its metric {metric!r} does not apply to a {task} model")
    return tuple(pairs)


def _chain(model):
    """The layers of a ``keras.Sequential``, or of a functional model whose layers each take
    the previous one's output (its input layer left out)."""
    import keras

    if type(model) is keras.Sequential:
        return model.layers
    if type(model).__name__ != "Functional":
        raise NotLowerable(f"the model is a {type(model).__name__}, not a keras.Sequential or "
                           "a functional chain")
    layers = model.layers
    if len(model.inputs) != 1 or len(model.outputs) != 1 \
            or not isinstance(layers[0], keras.layers.InputLayer):
        raise NotLowerable("the functional model has several inputs or outputs")
    chained = all(layer.input is previous.output for previous, layer in zip(layers, layers[1:]))
    if not chained or model.outputs[0] is not layers[-1].output:
        raise NotLowerable("the functional model's layers are not a chain")
    return layers[1:]


def _layers(layers):
    """``(hidden sizes, hidden activation, output activation, dropout rate, batch
    normalization, hidden biases)`` of a chain of blocks ``Dense [BatchNormalization]
    [Activation] [Dropout]``, the last block ``Dense [Activation]``: one activation
    and one Dropout rate for the hidden blocks, batch normalization in all or none of
    them, biases in all or none of them and in the output layer (activations by
    skdl's names)."""
    blocks = _blocks(layers)
    hidden, output = blocks[:-1], blocks[-1]
    if output["dropout"] is not None or output["normalized"]:
        raise NotLowerable("a Dropout or BatchNormalization layer follows the output layer")
    activations = {block["activation"] for block in hidden}
    if len(activations) > 1 or not activations <= set(ACTIVATIONS):
        raise NotLowerable(f"its hidden layers' activations {sorted(activations)} are not one of "
                           "skdl's activations")
    rates = {block["dropout"] for block in hidden}
    if len(rates) > 1:
        raise NotLowerable("its Dropout layers do not follow every hidden layer at one rate")
    normalized = {block["normalized"] for block in hidden}
    if len(normalized) > 1:
        raise NotLowerable("BatchNormalization follows some hidden layers, not all")
    biases = {block["bias"] for block in hidden}
    if len(biases) > 1 or not output["bias"]:
        raise NotLowerable("its hidden Dense layers do not all have a bias or all lack one, or "
                           "its output layer has none")
    return (tuple(block["units"] for block in hidden),
            activations.pop() if activations else "identity", output["activation"],
            (rates.pop() or 0.0) if rates else 0.0, normalized.pop() if normalized else False,
            biases.pop() if biases else True)


def _blocks(layers):
    """The chain cut into blocks, one per ``Dense`` layer: its units, activation (the
    Dense layer's, or the ``Activation`` layer's that follows a linear one), whether a
    ``BatchNormalization`` follows it (before the activation), and the rate of the
    ``Dropout`` that ends it (None: none)."""
    import keras

    blocks = []
    for layer in layers:
        if isinstance(layer, keras.layers.Dense):
            _check_dense(layer)
            blocks.append({"units": layer.units, "activation": _activation(layer),
                           "normalized": False, "dropout": None, "stage": "dense",
                           "bias": bool(layer.use_bias)})
            continue
        block = blocks[-1] if blocks else None
        if isinstance(layer, keras.layers.BatchNormalization):
            if block is None or block["stage"] != "dense" or block["activation"] != "identity":
                raise NotLowerable(f"its BatchNormalization {layer.name!r} does not follow a "
                                   "linear Dense layer (skdl normalizes before the activation)")
            _check_batch_normalization(layer)
            block.update(normalized=True, stage="normalized")
        elif type(layer) is keras.layers.Activation:
            if block is None or block["stage"] not in ("dense", "normalized") \
                    or block["stage"] == "dense" and block["activation"] != "identity":
                raise NotLowerable(f"its Activation {layer.name!r} does not follow a linear "
                                   "Dense or a BatchNormalization layer")
            block.update(activation=_activation(layer), stage="activated")
        elif isinstance(layer, keras.layers.Dropout):
            if block is None or block["stage"] == "dropout" or layer.noise_shape is not None:
                raise NotLowerable("a Dropout layer does not follow a hidden Dense layer")
            block.update(dropout=float(layer.rate), stage="dropout")
        else:
            raise NotLowerable(f"its layer {layer.name!r} is a {type(layer).__name__}, not a "
                               "Dense, BatchNormalization, Activation or Dropout")
    if not blocks:
        raise NotLowerable("it has no Dense layer")
    return blocks


def _regularization(dense):
    """The :class:`~skdl.engine.TrainingSpec` ``alpha`` and ``l1`` of the Dense layers'
    kernel regularizers: Keras' L1, L2 or L1L2, one of them on every kernel or on none
    (the engine's penalty covers every kernel). ``alpha`` is twice L2's factor: the
    engine's penalty is ``0.5 * alpha * ||W||^2``, Keras' ``l2 * ||W||^2``."""
    import keras

    regularizers = [layer.kernel_regularizer for layer in dense]
    if all(r is None for r in regularizers):
        return {"alpha": 0.0, "l1": 0.0}
    kinds = (keras.regularizers.L1, keras.regularizers.L2, keras.regularizers.L1L2)
    configs = {repr(sorted(r.get_config().items())) if type(r) in kinds else None
               for r in regularizers}
    if None in configs or len(configs) > 1:
        raise NotLowerable("its Dense layers' kernel regularizers are not one L1, L2 or L1L2 "
                           "on every kernel")
    config = regularizers[0].get_config()
    return {"alpha": 2.0 * float(config.get("l2", 0.0)), "l1": float(config.get("l1", 0.0))}


def _activation(layer):
    """skdl's name of a Dense or Activation layer's activation."""
    import keras

    name = keras.activations.serialize(layer.activation)
    if not isinstance(name, str) or name not in _OUTPUTS:
        raise NotLowerable(f"its layer {layer.name!r} has an activation the engine lacks")
    return _OUTPUTS[name]


def _check_batch_normalization(layer):
    """A ``BatchNormalization`` layer as the engine's: Keras' defaults, centred and scaled."""
    config = layer.get_config()
    plain = config.get("axis") in (-1, [-1]) and config.get("center") and config.get("scale") \
        and float(config.get("momentum")) == BN_MOMENTUM \
        and float(config.get("epsilon")) == BN_EPSILON and not config.get("synchronized") \
        and not config.get("renorm") and all(config.get(key) is None for key in (
            "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"))
    if not plain or layer.dtype_policy.name != "float32":
        raise NotLowerable(f"its BatchNormalization {layer.name!r} is not Keras' default "
                           f"(axis -1, momentum {BN_MOMENTUM}, epsilon {BN_EPSILON}, centred "
                           "and scaled, float32)")


def _check_dense(layer):
    for name in ("bias_regularizer", "activity_regularizer", "kernel_constraint",
                 "bias_constraint"):
        if getattr(layer, name, None) is not None:
            raise NotLowerable(f"its Dense layer {layer.name!r} has a {name}")
    if getattr(layer, "lora_rank", None) or layer.dtype_policy.name != "float32":
        raise NotLowerable(f"its Dense layer {layer.name!r} is not plain float32")


def _optimizer(model):
    """The :class:`~skdl.engine.TrainingSpec` fields of the model's compiled optimizer."""
    optimizer = model.optimizer
    name = type(optimizer).__name__
    if name not in _SOLVERS or type(optimizer).__module__.split(".")[0] != "keras":
        raise NotLowerable(f"its optimizer {name} is not one the engine runs")
    solver, required = _SOLVERS[name]
    config = optimizer.get_config()
    learning_rate, schedule = config.get("learning_rate"), None
    if isinstance(learning_rate, dict):
        learning_rate, schedule = _schedule(learning_rate)
    if not isinstance(learning_rate, float):
        raise NotLowerable("its learning rate is not a number or a standard schedule")
    off = [key for key in _OPTIMIZER_OFF if config.get(key) is not None and config[key] is not False]
    wrong = [key for key, value in required.items() if config.get(key) != value]
    if off or wrong:
        raise NotLowerable(f"its {name} optimizer sets {', '.join(off + wrong)}")
    fields = {"solver": solver, "learning_rate_init": learning_rate, "lr_schedule": schedule,
              "weight_decay": float(config.get("weight_decay") or 0.0)}
    if solver == "sgd":
        fields.update(momentum=float(config["momentum"]),
                      nesterovs_momentum=bool(config["nesterov"]))
    for key in ("beta_1", "beta_2", "epsilon"):
        if key in config:
            fields[key] = float(config[key])
    return fields


#: Keras' schedules -> (the engine's kind, config keys of: the rate argument, the power).
_SCHEDULES = {"ExponentialDecay": ("exponential", "decay_rate", None),
              "InverseTimeDecay": ("inverse_time", "decay_rate", None),
              "PolynomialDecay": ("polynomial", "end_learning_rate", "power"),
              "CosineDecay": ("cosine", "alpha", None)}


def _schedule(serialized):
    """``(initial learning rate, KerasSchedule)`` of a serialized
    ``keras.optimizers.schedules`` schedule."""
    from .engine import KerasSchedule

    name, config = serialized.get("class_name"), serialized.get("config") or {}
    if name not in _SCHEDULES or not str(serialized.get("module", "")).startswith("keras"):
        raise NotLowerable(f"its learning rate follows a {name} schedule")
    kind, rate, power = _SCHEDULES[name]
    if config.get("cycle") or config.get("warmup_steps"):
        raise NotLowerable(f"its {name} schedule cycles or warms up")
    return float(config["initial_learning_rate"]), KerasSchedule(
        kind, float(config["decay_steps"]), float(config.get(rate) or 0.0),
        float(config.get(power) or 1.0) if power else 1.0, bool(config.get("staircase")))


def _fit(settings, metrics=()):
    """The :class:`~skdl.engine.TrainingSpec` fields of the fit's settings (``metrics``: the
    model's, as :func:`_metrics` reads them, which its callbacks may watch)."""
    import keras

    if settings.get("extra"):
        raise NotLowerable(f"fit() is given {sorted(settings['extra'])}")
    if settings.get("verbose"):
        raise NotLowerable("verbose fits print Keras' progress")
    if settings.get("class_weight") is not None or settings.get("initial_epoch"):
        raise NotLowerable("class_weight or initial_epoch is given")
    if settings.get("shuffle") not in (True, False):
        raise NotLowerable(f"shuffle={settings.get('shuffle')!r}")
    rules = {keras.callbacks.EarlyStopping: ("keras_stopping", _early_stopping),
             keras.callbacks.ReduceLROnPlateau: ("keras_plateau", _plateau)}
    fields = {"max_iter": int(settings["epochs"]), "shuffle": bool(settings["shuffle"]),
              "keras_stopping": None, "keras_plateau": None}
    directions = _directions(metrics)
    for callback in settings.get("callbacks") or ():
        field, read = rules.get(type(callback), (None, None))
        if field is None or fields[field] is not None:
            raise NotLowerable(f"the callback {type(callback).__name__} acts on training")
        fields[field] = read(callback, directions)
    return fields


def _directions(metrics):
    """Each log key a callback may watch -> the way it improves ("min" or "max"), as
    Keras' ``mode="auto"`` reads it: accuracies rise, losses and errors fall."""
    directions = {"loss": "min", "val_loss": "min"}
    for key, name in metrics:
        directions[key] = directions["val_" + key] = "max" if name == "accuracy" else "min"
    return directions


def _watched(callback, directions):
    """``(monitor, mode)`` of an ``EarlyStopping`` or ``ReduceLROnPlateau`` the engine can
    follow (raises :class:`NotLowerable`)."""
    name = type(callback).__name__
    if callback.monitor not in directions or callback.mode not in ("auto", "min", "max"):
        raise NotLowerable(f"{name} watches {callback.monitor!r}, which is not the loss or a "
                           "metric the engine tracks")
    mode = directions[callback.monitor] if callback.mode == "auto" else callback.mode
    return callback.monitor, mode


def _check_schedule_and_plateau(training):
    if training.get("lr_schedule") is not None and training.get("keras_plateau") is not None:
        raise NotLowerable("ReduceLROnPlateau cannot set a learning rate that follows a "
                           "schedule (Keras refuses it too)")


def _early_stopping(callback, directions):
    from .engine import KerasStopping

    monitor, mode = _watched(callback, directions)
    if callback.baseline is not None or callback.start_from_epoch:
        raise NotLowerable("EarlyStopping sets a baseline or start_from_epoch")
    return KerasStopping(monitor, abs(float(callback.min_delta)), int(callback.patience),
                         bool(callback.restore_best_weights), mode)


def _plateau(callback, directions):
    from .engine import KerasPlateau

    monitor, mode = _watched(callback, directions)
    if callback.verbose:
        raise NotLowerable("ReduceLROnPlateau is verbose")
    return KerasPlateau(monitor, float(callback.factor), int(callback.patience),
                        abs(float(callback.min_delta)), int(callback.cooldown),
                        float(callback.min_lr), mode)


class _NoKey(Exception):
    """A value :func:`fit_key` cannot digest cheaply."""


def fit_key(wrapper, X, y, sample_weight, fit_kwargs):
    """A digest of a wrapper's fit as it is called: its class, its parameters, the ``fit``
    arguments and the inputs (before validation); None where a value cannot be digested
    cheaply (an input that is not a plain array, a model instance, an object with no
    plain settings). A search's fit whose key is a planned fit's takes that fit's
    validated state and trained network instead of validating and building again.

    Functions and classes count by identity (a clone of the wrapper shares them); Keras
    objects by their class and settings (a clone copies them).
    """
    from .engine import data_digest

    arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "biufU" for a in arrays):
        return None
    try:
        settings = _token(wrapper.get_params(deep=False)), _token(fit_kwargs)
    except _NoKey:
        return None
    text = repr((type(wrapper).__qualname__, settings, data_digest(arrays)))
    return hashlib.sha256(text.encode()).hexdigest()


def _token(value, depth=0):
    """``value`` as a plain, comparable value for :func:`fit_key` (raises :class:`_NoKey`)."""
    from .engine import data_digest

    if value is None or isinstance(value, (bool, int, float, str, np.number)):
        return value
    if depth > 4:
        raise _NoKey
    if isinstance(value, np.ndarray):
        return ("array", data_digest([value]))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_token(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _token(v, depth + 1)) for k, v in value.items())))
    if isinstance(value, np.random.RandomState):
        state = value.get_state()
        return ("RandomState", data_digest([state[1]]), state[2:])
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
        return ("callable", id(value))
    if hasattr(value, "get_config") and not hasattr(value, "layers"):  # optimizers, losses
        return ("config", type(value).__qualname__, _token(value.get_config(), depth + 1))
    if type(value).__module__.startswith("keras.") and hasattr(value, "__dict__"):  # callbacks
        fields = {k: v for k, v in vars(value).items() if k not in ("model", "_model")}
        return ("object", type(value).__qualname__, _token(fields, depth + 1))
    raise _NoKey
