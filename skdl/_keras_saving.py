"""A user's Keras model and Keras objects: copied, saved to bytes and loaded, pickled.

What the wrappers need to keep a user's model apart from theirs (a fit trains
a copy), to pickle a fitted wrapper (its model in Keras' ``.keras`` format,
with the user's own classes and functions carried by reference), and to
pickle parameters holding Keras objects of the user's own classes.
"""

import inspect
import os
import sys
import tempfile
from numbers import Integral, Real


def _custom_objects(model, params):
    """The user's own classes and functions the saved ``model`` names, to load it again.

    Keras only finds classes that were registered; a pickle can carry these
    by reference (so they must be importable where it is loaded, as for any
    pickled class).
    """
    import keras

    found = [type(model), *_layer_classes(model), type(getattr(model, "optimizer", None))]
    found += list(_leaves(getattr(model, "loss", None)))
    found += [type(m) for m in _metric_objects(model.metrics if model.built else [])]
    for value in params.values():
        found += list(_leaves(value))
    saveable = (keras.layers.Layer, keras.losses.Loss, keras.metrics.Metric,
                keras.optimizers.Optimizer, keras.initializers.Initializer,
                keras.regularizers.Regularizer, keras.constraints.Constraint)
    objects = {}
    for obj in found:
        obj = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
        if not (inspect.isfunction(obj) or issubclass(obj, saveable)):
            continue
        module = sys.modules.get(obj.__module__ or "")
        if module is None or obj.__module__.split(".")[0] == "keras":
            continue
        if getattr(module, obj.__qualname__, None) is obj:
            objects[keras.saving.get_registered_name(obj)] = obj
    return objects


def _layer_classes(model):
    classes = []
    for layer in getattr(model, "layers", []):
        classes += [type(layer), *_layer_classes(layer)]
    return classes


def _metric_objects(metrics):
    for metric in metrics:
        yield metric
        yield from _metric_objects(getattr(metric, "metrics", []))


def _leaves(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif value is not None and not isinstance(value, (str, bool, Integral, Real)):
        yield value


def _model_to_bytes(model):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as file:
            return file.read()


def _model_from_bytes(data, custom_objects=None):
    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as file:
            file.write(data)
        return keras.saving.load_model(path, custom_objects=custom_objects)


def _copy_of(model):
    """A model like ``model`` with its weights and compile configuration, which it leaves alone."""
    import keras

    try:
        copy = keras.models.clone_model(model)
    except (NotImplementedError, TypeError, ValueError):
        return _model_from_bytes(_model_to_bytes(model), _custom_objects(model, {}))
    for target, source in zip(copy.variables, model.variables):
        target.assign(source)
    if model.compiled:
        copy.compile_from_config(model.get_compile_config())
    return copy


class _ByConfig:
    """A metric, loss or optimizer of the user's own class, pickled as its class and config.

    Keras' own pickling finds the class again by its registered name, which an
    unregistered class lacks; the class itself pickles by reference.
    """

    def __init__(self, obj, config):
        self.obj, self.config = obj, config

    def __reduce__(self):
        return _from_config, (type(self.obj), self.config)


def _from_config(cls, config):
    return cls.from_config(config)


def _picklable(value):
    """``value`` (a parameter) with each Keras object of a user's class in it wrapped in
    :class:`_ByConfig`."""
    import keras

    if type(value) in (list, tuple):
        return type(value)(_picklable(v) for v in value)
    if type(value) is dict:
        return {k: _picklable(v) for k, v in value.items()}
    own_class = isinstance(value, (keras.metrics.Metric, keras.losses.Loss,
                                   keras.optimizers.Optimizer)) \
        and (type(value).__module__ or "").split(".")[0] != "keras"
    if not own_class:
        return value
    try:
        return _ByConfig(value, value.get_config())
    except NotImplementedError:
        return value
