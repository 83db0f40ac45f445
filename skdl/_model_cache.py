"""Traced Keras models kept for reuse by the wrappers' later fits.

Building a Keras model is cheap next to tracing its training and predict
functions (and TensorFlow keeps every traced graph for the life of the
process). So a wrapper's fit still calls the user's build function, but when
the model it returns has the architecture and compile configuration of a
model already traced, it trains that model instead: the fresh model's
variables (its initial weights, drawn from ``random_state``, and its dropout
streams) are copied into it and its optimizer is put back in its initial
state, learning rate excepted, which is set to the fresh one. The fit is
then exactly the fit of the fresh model, on functions traced once.

The fresh model is built with its variables deferred
(:func:`build_deferred`): they read as their initializers' values but get no
backend storage, which is most of a small model's build time under
TensorFlow. Only a model that is kept (no traced one matches) is given its
variables.

A model in the cache is lent to one fitted estimator at a time, through a
:class:`Lease` the estimator keeps: it is free again once that estimator
refits or is garbage collected. An estimator whose ``model_`` is read takes
its model out of the cache for good (:meth:`ModelCache.detach`), so no
model a user holds is ever trained by another fit. The cache keeps at most
:data:`MAX_FREE_MODELS` free models, dropping the least recently used.

What makes two models "the same" (:func:`architecture_key`): the model's
class and its layers' classes, its config with the names Keras generates
(``dense_12``) numbered by first appearance, its variables' shapes and
dtypes; plus a compile key from the caller. Only Sequential and functional
models of Keras' own layers are reused: a subclassed model's or a custom
layer's config need not describe all it holds.
"""

import re
import threading
import weakref
from collections import OrderedDict
from numbers import Real

import numpy as np

#: Free (unleased) models kept for reuse, over every architecture.
MAX_FREE_MODELS = 8

#: Build functions whose models cannot be built with deferred variables (they make an
#: optimizer, assign weights or use their own initializers): built plainly from then on.
_PLAIN_BUILDS = weakref.WeakKeyDictionary()


class Unfreezable(TypeError):
    """A value that cannot be part of a cache key; the fit builds its own model."""


def freeze(value):
    """A hashable stand-in for ``value``: nested configs become tuples.

    Classes and functions stand for themselves; a Keras object for its
    class and config. Anything else raises :class:`Unfreezable`.

    Examples
    --------
    >>> freeze({"units": [16, 8], "activation": "relu"})
    ('dict', (('activation', 'relu'), ('units', ('list', (16, 8)))))
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return ("list", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, type) or callable(value) and not hasattr(value, "get_config"):
        try:
            hash(value)
        except TypeError as error:
            raise Unfreezable(repr(value)) from error
        return value
    if hasattr(value, "get_config"):
        return ("object", type(value), freeze(value.get_config()))
    raise Unfreezable(repr(value))


def _snake_case(name):
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_generated_name(name, class_name):
    return re.fullmatch(re.escape(_snake_case(class_name)) + r"(_\d+)?", name) is not None


def _generated_names(node, class_name, found):
    """Collect, in order, the names in a Keras config that Keras made up (``dense_3``)."""
    if isinstance(node, dict):
        if "class_name" in node and isinstance(node.get("config"), dict):
            _generated_names(node["config"], node["class_name"], found)
            return
        name = node.get("name")
        if class_name and isinstance(name, str) and _is_generated_name(name, class_name):
            found.setdefault(name, f"<{_snake_case(class_name)} #{len(found)}>")
        for value in node.values():
            _generated_names(value, None, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _generated_names(value, None, found)


def _renamed(node, names):
    if isinstance(node, str):
        return names.get(node, node)
    if isinstance(node, dict):
        return {k: _renamed(v, names) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_renamed(v, names) for v in node]
    return node


def _is_keras_own(cls):
    return cls.__module__.split(".")[0] == "keras"


def _is_reusable(model, layer_classes):
    """Whether ``model``'s config and variables describe all it is.

    A Sequential or functional model of Keras' own layers, none of which
    keeps state outside its variables (a lookup layer's vocabulary). A
    subclassed model or a custom layer may hold anything in attributes its
    config does not show, so it is built for each fit.
    """
    kind = type(model)
    if not _is_keras_own(kind) or kind.__name__ not in ("Sequential", "Functional"):
        return False
    return all(_is_keras_own(cls) and not hasattr(cls, "save_assets") for cls in layer_classes)


def _layer_classes(model):
    classes = []
    for layer in getattr(model, "layers", []):
        classes.append(type(layer))
        if hasattr(layer, "layers"):
            classes.extend(_layer_classes(layer))
    return tuple(classes)


def architecture_key(model):
    """What identifies ``model``'s architecture, or None when it cannot be reused.

    Two models of the same key differ only in the values of their variables
    and in the names Keras generated for them.
    """
    layer_classes = _layer_classes(model)
    if not model.built or not _is_reusable(model, layer_classes):
        return None
    try:
        config = model.get_config()
        names = {}
        _generated_names(config, type(model).__name__, names)
        if isinstance(config.get("name"), str) and _is_generated_name(
                config["name"], "Functional" if "input_layers" in config else type(model).__name__):
            names.setdefault(config["name"], "<model>")
        variables = tuple((tuple(v.shape), str(v.dtype), bool(v.trainable))
                          for v in model.variables)
        return (type(model), layer_classes, freeze(_renamed(config, names)), variables)
    except (Unfreezable, NotImplementedError, TypeError, ValueError):
        return None


def compiled_key(model):
    """What identifies the compile configuration a user gave ``model``, and its learning rate.

    Returns ``(key, learning_rate)``: a float learning rate is left out of
    the key (a reused model gets the fresh one), a schedule stays in.
    ``key`` is None when the configuration cannot be part of a key.
    """
    try:
        config = model.get_compile_config() or {}
        optimizer = dict(config.get("optimizer") or {})
        settings = dict(optimizer.get("config") or {})
        settings.pop("name", None)
        learning_rate = settings.get("learning_rate")
        if isinstance(learning_rate, Real):
            settings.pop("learning_rate")
        else:
            learning_rate = None
        optimizer["config"] = settings
        rest = {k: v for k, v in config.items() if k != "optimizer"}
        key = ("compiled", type(model.optimizer), freeze(optimizer), freeze(rest),
               freeze(model.loss))
        return key, learning_rate
    except (Unfreezable, NotImplementedError, TypeError, ValueError):
        return None, None


def build_deferred(build, function):
    """``(model, deferred)``: the model ``build()`` returns, its variables deferred.

    ``deferred`` is the :class:`~skdl.engine.DeferredVariables`
    holding the model's variables: call its ``initialize()`` to keep the
    model, or drop both. A build that cannot be deferred (it raises inside
    the deferred block, assigns a variable, or uses an initializer of its
    own, whose values could depend on when it runs) is built again plainly
    and ``deferred`` is None; ``function``, the user's build function, is
    then built plainly at every later fit. ``build`` must seed itself, so
    that both builds draw the same initial weights.
    """
    from .engine import DeferredVariables, name_counters, restore_name_counters

    key = getattr(function, "__func__", function)  # a bound method is made anew at each access
    try:
        plain = key in _PLAIN_BUILDS
    except TypeError:
        key, plain = None, False
    if not plain:
        counters = name_counters()
        try:
            with DeferredVariables() as deferred:
                model = build()
        except Exception:
            deferred = None
        if deferred is not None and not deferred.assigned and deferred.keras_initialized:
            return model, deferred
        restore_name_counters(counters)  # the plain build names its layers as the first did
    model = build()
    if key is not None:
        _PLAIN_BUILDS[key] = True
    return model, None


class Lease:
    """Held by a fitted estimator for as long as its model belongs to it."""

    __slots__ = ("__weakref__",)


class Slot:
    """One model of the cache (or one detached from it), and who it is lent to."""

    def __init__(self, model, key):
        self.model, self.key = model, key
        self.lease = None  # weakref to the Lease of the estimator holding it
        self.busy = False  # a fit is running on it
        self.cached = key is not None
        self._optimizer_start = None

    @property
    def free(self):
        return self.cached and not self.busy and (self.lease is None or self.lease() is None)

    def record_optimizer_start(self):
        """Remember the optimizer's initial state (before any step), to restore it on reuse."""
        import keras

        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        # The learning rate is one of them: a callback may change it during a fit.
        self._optimizer_start = [(v, keras.ops.copy(v.value)) for v in optimizer.variables]

    def restart(self, fresh, learning_rate):
        """Make the model what ``fresh`` is: its variables, a new optimizer, ``learning_rate``."""
        from .engine import assign_all, initial_values

        start = self._optimizer_start or []
        variables = list(self.model.variables) + [variable for variable, _ in start]
        values = list(initial_values(fresh.variables)) + [value for _, value in start]
        assign_all(self.model, variables, values)
        if learning_rate is not None:
            self.model.optimizer.learning_rate = float(learning_rate)


class ModelCache:
    """The wrappers' traced models, by key; thread-safe."""

    def __init__(self, max_free=MAX_FREE_MODELS):
        self.max_free = max_free
        self._slots = OrderedDict()  # id(slot) -> slot, least recently used first
        self._lock = threading.Lock()

    def borrow(self, key):
        """A free model of ``key``, marked busy, or None."""
        if key is None:
            return None
        with self._lock:
            for slot in self._slots.values():
                if slot.key == key and slot.free:
                    slot.busy = True
                    self._slots.move_to_end(id(slot))
                    return slot
        return None

    def add(self, model, key):
        """A new busy slot for ``model`` (kept for reuse when ``key`` is not None)."""
        slot = Slot(model, key)
        slot.busy = True
        if key is not None:
            with self._lock:
                self._slots[id(slot)] = slot
                self._trim()
        return slot

    def give_back(self, slot, lease=None):
        """End a fit on ``slot``; ``lease`` (on success) lends it to the fitted estimator."""
        with self._lock:
            slot.busy = False
            slot.lease = None if lease is None else weakref.ref(lease)
            self._trim()

    def detach(self, slot):
        """Take ``slot`` out of the cache for good: its model now belongs to its holder."""
        with self._lock:
            self._slots.pop(id(slot), None)
            slot.cached = False

    def clear(self):
        """Forget every free model."""
        with self._lock:
            for slot in [s for s in self._slots.values() if s.free]:
                del self._slots[id(slot)]

    def __len__(self):
        return len(self._slots)

    def _trim(self):
        free = [s for s in self._slots.values() if s.free]
        for slot in free[:max(0, len(free) - self.max_free)]:
            del self._slots[id(slot)]


#: The process-wide cache the wrappers use.
CACHE = ModelCache()
