"""scikeras-style routed parameters: ``optimizer__learning_rate=0.01`` and friends.

A wrapper's parameters named ``<route>__<name>`` go to one component: the
model-building function (``model__``), the optimizer, the loss, the metrics,
``compile`` itself, ``model.fit``, ``model.predict``, the callbacks or the
scorer. This module reads them and turns the user's strings, classes and
instances into fresh Keras objects for one fit, with scikeras' rules:

* a component given as a class (or a name) is made with the routed
  parameters: ``optimizer__momentum=0.9``;
* in a list or dict of components, ``<route>__<param>`` goes to every item
  and ``<route>__<index or key>__<param>`` to one:
  ``loss__1__label_smoothing=0.5``;
* a parameter whose value is a class is itself made with the parameters
  routed below it, and numeric names are positional arguments:
  ``callbacks=LearningRateScheduler, callbacks__0=Schedule,
  callbacks__0__coef=0.2`` makes ``LearningRateScheduler(Schedule(coef=0.2))``.
"""

import copy
import functools
import inspect
import re

ROUTES = ("model", "optimizer", "loss", "metrics", "compile", "fit", "predict", "callbacks",
          "score")

#: Metric names Keras resolves from the loss and the targets; they stay names.
KERAS_RESOLVED_METRICS = ("acc", "accuracy", "ce", "crossentropy")


def routed(params, route):
    """The parameters of ``params`` routed to ``route``, without the prefix.

    Examples
    --------
    >>> routed({"optimizer__learning_rate": 0.1, "epochs": 3, "model__units": 8}, "optimizer")
    {'learning_rate': 0.1}
    """
    prefix = route + "__"
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def is_routed(name):
    """Whether ``name`` is ``<route>__<something>`` for a known route."""
    route, sep, rest = name.partition("__")
    return bool(sep and rest) and route in ROUTES


def own(params):
    """The parameters of ``params`` that are not routed further down."""
    return {k: v for k, v in params.items() if "__" not in k}


class Component:
    """What a route makes: its name in messages and the Keras module resolving its names."""

    def __init__(self, what, module_name=None, copy_instances=True):
        # copy_instances: whether an instance given without parameters is copied for each model.
        self.what, self.module_name, self.copy_instances = what, module_name, copy_instances

    @property
    def module(self):
        import keras

        return getattr(keras, self.module_name) if self.module_name else None


OPTIMIZER = Component("optimizer", "optimizers")
LOSS = Component("loss", "losses", copy_instances=False)  # stateless: used as given
METRIC = Component("metric", "metrics")
CALLBACK = Component("callback")


def instantiate(spec, params, component, shared=None):
    """A fresh object (or list / dict of them) from ``spec`` and its routed ``params``.

    ``shared`` are the parameters a list or dict passes to each of its items.

    Examples
    --------
    >>> import keras
    >>> from skdl._routing import LOSS, instantiate
    >>> losses = instantiate([keras.losses.CategoricalCrossentropy] * 2,
    ...                      {"label_smoothing": 0.1, "1__label_smoothing": 0.5}, LOSS)
    >>> [loss.get_config()["label_smoothing"] for loss in losses]
    [0.1, 0.5]
    """
    if isinstance(spec, (list, tuple)):
        return type(spec)(instantiate(item, routed(params, str(i)), component, own(params))
                          for i, item in enumerate(spec))
    if isinstance(spec, dict):
        return {key: instantiate(item, routed(params, str(key)), component, own(params))
                for key, item in spec.items()}
    kwargs = {**(shared or {}), **own(params)}
    if inspect.isclass(spec):
        return _call_class(spec, kwargs, params)
    if isinstance(spec, str):
        return _from_name(spec, _made(kwargs, params), component)
    if not kwargs and not component.copy_instances:
        return spec
    if hasattr(spec, "get_config") and hasattr(type(spec), "from_config") and component.module:
        return type(spec).from_config({**spec.get_config(), **kwargs})
    if kwargs:
        raise ValueError(
            f"The {component.what} {_describe(spec)} is neither a class nor a name, so the "
            f"{component.what} parameters {sorted(kwargs)} cannot be applied to it. Give the "
            "class instead (with its parameters routed) or configure the instance yourself.")
    return spec


def _call_class(cls, kwargs, params):
    """``cls(*positional, **named)``, numbered parameters being the positional ones."""
    values = _made(kwargs, params)
    positional = [values.pop(k) for k in sorted((k for k in values if k.isdigit()), key=int)]
    return cls(*positional, **values)


def _made(kwargs, params):
    """``kwargs`` with each value that is a class made from the parameters routed below it
    (``optimizer__learning_rate=ExponentialDecay, optimizer__learning_rate__decay_rate=0.9``)."""
    values = {}
    for name, value in kwargs.items():
        inner = routed(params, name)
        values[name] = _call_class(value, own(inner), inner) if inspect.isclass(value) else value
    return values


def _from_name(name, kwargs, component):
    module = component.module
    if module is None:
        raise ValueError(f"A {component.what} cannot be given by name ({name!r}); give its "
                         "class or an instance.")
    if kwargs:
        return module.get({"class_name": name, "config": kwargs})
    if component is METRIC and name in KERAS_RESOLVED_METRICS:
        return name
    return module.get(name)


def _describe(spec):
    return getattr(spec, "__name__", None) or type(spec).__name__


def make_optimizer(spec, params):
    """A fresh optimizer for one fit (an instance is copied through its config)."""
    return instantiate(spec, params, OPTIMIZER)


def make_loss(spec, params):
    """A loss (or list / dict of them) for one fit; a name without ``loss__`` arguments stays a
    name, which Keras resolves itself (so ``model.loss`` reads as given)."""
    if spec is None or isinstance(spec, str) and not params:
        return spec
    return instantiate(spec, params, LOSS)


def make_metrics(specs, params):
    """Fresh metrics for one fit: a single metric becomes a list of one, as in scikeras.

    ``metrics__<param>`` goes to every metric given as a class or a name,
    ``metrics__<index or key>__<param>`` to one.
    """
    if specs is None:
        return None
    metrics = instantiate(specs, params, METRIC)
    return metrics if isinstance(specs, (list, tuple, dict)) else [metrics]


def make_callbacks(specs, params):
    """Fresh callbacks for one fit, as a flat list.

    ``specs`` is one callback, a list (which may nest lists) or a dict of
    instances or classes. Classes are made with ``callbacks__<param>`` and
    ``callbacks__<index or key>__<param>``; instances are copied (so that
    no fit leaves its model, or the attributes it sets, in the estimator's
    parameters) and get their own routed parameters as attributes. The copy
    is shallow: what the callback holds (a list it appends to, a dict of
    counts) is the one the caller gave, as when scikeras or Keras' own
    ``model.fit`` calls the instance itself.
    """
    if specs is None:
        return []
    if not isinstance(specs, (list, tuple, dict)):
        return [_make_callback(specs, params, {})]
    keyed = specs.items() if isinstance(specs, dict) else enumerate(specs)
    callbacks = []
    for key, spec in keyed:
        mine = routed(params, str(key))
        if isinstance(spec, (list, tuple)):
            callbacks.extend(make_callbacks(spec, mine))
        else:
            callbacks.append(_make_callback(spec, mine, own(params)))
    return callbacks


def _make_callback(spec, params, shared):
    if inspect.isclass(spec):
        return _call_class(spec, {**shared, **own(params)}, params)
    callback = copy.copy(spec)
    for name, value in own(params).items():
        setattr(callback, name, value)
    return callback


def loss_name(loss):
    """A loss's canonical name in snake case (``"mse"`` -> ``"mean_squared_error"``), or ``""``.

    Examples
    --------
    >>> import keras
    >>> loss_name("mse"), loss_name(keras.losses.MeanSquaredError), loss_name(keras.losses.mean_squared_error)
    ('mean_squared_error', 'mean_squared_error', 'mean_squared_error')
    """
    if loss is None:
        return ""
    if isinstance(loss, str):
        return _canonical_loss_name(loss)
    if inspect.isclass(loss):
        return _snake_case(loss.__name__)
    if inspect.isfunction(loss):
        return _snake_case(loss.__name__)
    return _snake_case(type(loss).__name__) if type(loss).__module__.startswith("keras") \
        else _snake_case(getattr(loss, "__name__", type(loss).__name__))


@functools.lru_cache(maxsize=None)
def _canonical_loss_name(name):
    import keras

    try:
        return loss_name(keras.losses.get(name))
    except (ValueError, TypeError):
        return _snake_case(name)


def history_key(key):
    """The name scikeras reports an epoch log under in ``history_``.

    A metric Keras logged under a shorthand (``"mse"``, when a model is
    compiled with the name) is reported under the metric's own name
    (``"mean_squared_error"``); ``loss``, ``val_*`` logs and other names are
    kept. (scikeras derives the name from the class, which turns ``auc``
    into ``a_u_c``; skdl keeps Keras' ``auc``.)

    Examples
    --------
    >>> history_key("mse"), history_key("val_mse"), history_key("acc"), history_key("auc")
    ('mean_squared_error', 'val_mse', 'acc', 'auc')
    """
    if key == "loss" or key.startswith("val_"):
        return key
    return _metric_function_name(key) or key


@functools.lru_cache(maxsize=None)
def _metric_function_name(key):
    import keras

    from .engine import name_counters, restore_name_counters

    counters = name_counters()  # the metric made to look the name up takes none
    try:
        found = keras.metrics.get(key)
    except (ValueError, TypeError):
        return None
    finally:
        restore_name_counters(counters)
    return found.__name__ if inspect.isfunction(found) else _snake_case(type(found).__name__)


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def call_with_declared(function, available, what):
    """Call ``function`` with the entries of ``available`` its signature names.

    A function taking ``**kwargs`` receives them all. A parameter the
    function requires but ``available`` lacks is reported as a ValueError
    naming it.
    """
    signature = inspect.signature(function)
    takes_all = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    if takes_all:
        return function(**available)
    kwargs = {}
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in available:
            kwargs[name] = available[name]
        elif parameter.default is parameter.empty:
            raise ValueError(
                f"{what} needs the argument {name!r}, which the wrapper does not have. Declare "
                f"it on the wrapper ({name}=...) or route it (model__{name}=...).")
    return function(**kwargs)
