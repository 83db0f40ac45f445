"""scikeras-style routed parameters: ``optimizer__learning_rate=0.01`` and friends.

A wrapper's parameters named ``<route>__<name>`` go to one component: the
model-building function (``model__``), the optimizer, the loss, the metrics,
``compile`` itself, ``model.fit``, ``model.predict`` or the callbacks. This
module reads them and turns the user's strings, classes and instances into
fresh Keras objects for one fit.
"""

import copy
import inspect
import re

ROUTES = ("model", "optimizer", "loss", "metrics", "compile", "fit", "predict", "callbacks")


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


def _fresh(spec, kwargs, module, what):
    """A new Keras object from a name, a class or an instance, with ``kwargs`` applied."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if kwargs:
            return module.get({"class_name": spec, "config": kwargs})
        return module.get(spec)
    if inspect.isclass(spec):
        return spec(**kwargs)
    if hasattr(spec, "get_config") and hasattr(type(spec), "from_config"):
        return type(spec).from_config({**spec.get_config(), **kwargs})
    if callable(spec):
        if kwargs:
            raise ValueError(f"{what} is a plain function, so {what}__ parameters "
                             f"({sorted(kwargs)}) cannot be applied to it.")
        return spec
    raise ValueError(f"{what} must be a name, a class or an instance of a Keras {what}. "
                     f"Received: {spec!r}.")


def make_optimizer(spec, kwargs):
    """A fresh optimizer for one fit (an instance is copied through its config)."""
    import keras

    return _fresh(spec, kwargs, keras.optimizers, "optimizer")


def make_loss(spec, kwargs):
    """A loss for one fit; a name without ``loss__`` arguments stays a name, as Keras keeps it."""
    import keras

    if isinstance(spec, str) and not kwargs:
        return spec
    return _fresh(spec, kwargs, keras.losses, "loss")


def make_metrics(specs, kwargs):
    """Fresh metrics; ``metrics__<name>`` applies to every metric given as a class or name."""
    import keras

    if specs is None:
        return None
    if isinstance(specs, (str, type)) or not hasattr(specs, "__iter__"):
        specs = [specs]
    metrics = []
    for spec in specs:
        if isinstance(spec, str) and not kwargs:
            metrics.append(spec)  # Keras resolves "accuracy" by the loss and the targets
        else:
            metrics.append(_fresh(spec, kwargs, keras.metrics, "metric"))
    return metrics


def make_callbacks(specs, params):
    """Fresh callbacks for one fit.

    ``specs`` is a list or a dict (name -> callback) of instances or classes.
    ``callbacks__<param>`` goes to every callback given as a class;
    ``callbacks__<key>__<param>`` to the one at that index or name.
    Instances are deep-copied so that no fit leaves state (or its model) in
    the estimator's parameters.
    """
    if specs is None:
        return []
    named = dict(specs) if isinstance(specs, dict) else dict(enumerate(specs))
    routed_params = routed(params, "callbacks")
    callbacks = []
    for key, spec in named.items():
        own = routed(routed_params, str(key))
        if inspect.isclass(spec):
            shared = {k: v for k, v in routed_params.items() if "__" not in k}
            callbacks.append(spec(**{**shared, **own}))
        else:
            callback = copy.deepcopy(spec)
            for name, value in own.items():
                setattr(callback, name, value)
            callbacks.append(callback)
    return callbacks


def loss_name(loss):
    """A loss's name in snake case (``"categorical_crossentropy"``), or ``""``."""
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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
