"""The Keras private names skdl relies on, in one place.

Keras 3.15 offers no public way to do these things; if a Keras release
moves or changes them, ``tests/test_keras_private.py`` fails by name.
"""

import collections
import copy
import functools
import json

import keras


def can_build_ahead(model):
    """Whether :func:`build_ahead` works for ``model`` (this Keras has ``_symbolic_build``)."""
    return hasattr(model, "_symbolic_build")


def build_ahead(model, data_batch):
    """Build a compiled model's loss, metrics and optimizer variables for ``data_batch``,
    as Keras' own ``fit`` does before its loop (variables cannot be created inside a
    graph loop)."""
    model._symbolic_build(data_batch=data_batch)


def name_counters():
    """A copy of Keras' counters of generated names (``dense_7``), for :func:`restore_name_counters`.

    TensorFlow caches one kernel per distinct variable name it creates
    (tens of KiB each, for the life of the process), and Keras names every
    new layer uniquely, so building models that are then dropped, one per
    fit, grows the process by ~0.1 MiB a fit. Putting the counters back
    after such a build makes the next one reuse the same names. (Keras
    keeps these counters per thread.)
    """
    from keras.src.backend.common import global_state

    return dict(global_state.get_global_attribute("object_name_uids") or {})


def restore_name_counters(counters):
    """Put back Keras' name counters as :func:`name_counters` found them."""
    from keras.src.backend.common import global_state

    global_state.set_global_attribute("object_name_uids", collections.defaultdict(int, counters))


class DeferredVariables:
    """A block whose new Keras variables get no backend storage until :meth:`initialize`.

    Inside it Keras runs as in a ``keras.StatelessScope`` that leaves its
    variables uninitialized: a variable made from an initializer reads as
    that initializer's values (``variable.value``) and costs no backend
    variable, which under TensorFlow is most of the time a small model's
    build takes. Keras queues such variables in a per-thread list; the
    block takes its own out of it, so a model dropped unused leaves nothing
    behind. ``assigned`` says whether the block assigned a value to any
    variable (a stateless scope records such an assignment and drops it).
    A variable made from a value, not an initializer (an optimizer's
    ``iterations``), raises ``ValueError`` inside the block.
    """

    def __init__(self):
        self.variables, self.assigned = [], False

    def __enter__(self):
        self._start = len(self._queue())
        self._scope = keras.StatelessScope(initialize_variables=False)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._scope.__exit__(*exc_info)
        queue = self._queue()
        self.variables = queue[self._start:]
        del queue[self._start:]
        self.assigned = bool(self._scope.state_mapping)
        return False

    @property
    def keras_initialized(self):
        """Whether every variable of the block starts from one of Keras' own initializers
        (so its values do not depend on when it is initialized)."""
        return all(_is_keras_own(v._initializer) for v in self.variables)

    @staticmethod
    def _queue():
        from keras.src.backend.common import global_state

        return global_state.get_global_attribute("uninitialized_variables", [],
                                                 set_to_default=True)

    def initialize(self):
        """Give every variable made in the block its storage and initial value."""
        for variable in self.variables:
            variable._deferred_initialize()
        self.variables = []


def _is_keras_own(initializer):
    """Whether ``initializer`` (an Initializer, or a plain function) is defined by Keras."""
    source = initializer if callable(initializer) and not hasattr(
        initializer, "get_config") else type(initializer)
    return (getattr(source, "__module__", None) or "").split(".")[0] == "keras"


#: Traced functions giving a kind of model's initial values from its seeds, newest last.
_INITIAL_VALUES = collections.OrderedDict()
MAX_INITIAL_VALUE_FUNCTIONS = 16


def initial_values(variables):
    """What the deferred ``variables`` read as: their initializers' values.

    Under TensorFlow an initializer evaluated eagerly costs about a
    millisecond (a handful of eager operations). When every variable starts
    from one of Keras' own initializers, seeded by an int or not random, one
    traced function per kind of model computes them all, each seed fed in
    where Keras would have made its seed tensor from the int; the values are
    the same. Otherwise each variable's ``value`` is read.
    """
    plan = _seed_plan(variables)
    if plan is None:
        return [v.value for v in variables]
    import tensorflow as tf

    key, seeds = plan
    function = _INITIAL_VALUES.pop(key, None)
    if function is None:
        templates = [(copy.copy(v._initializer), tuple(v.shape), v.dtype) for v in variables]
        function = tf.function(functools.partial(_initial_values, templates))
    _INITIAL_VALUES[key] = function
    while len(_INITIAL_VALUES) > MAX_INITIAL_VALUE_FUNCTIONS:
        _INITIAL_VALUES.popitem(last=False)
    return function(tf.constant(seeds, tf.int64))


def _seed_plan(variables):
    """``(key, seeds)`` for :func:`initial_values`' traced path, or None where it does not apply."""
    if keras.backend.backend() != "tensorflow" or not variables:
        return None
    key, seeds = [], []
    for variable in variables:
        initializer = getattr(variable, "_initializer", None)
        if getattr(variable, "_value", None) is not None or \
                not isinstance(initializer, keras.initializers.Initializer) or \
                not _is_keras_own(initializer):
            return None
        seed = getattr(initializer, "seed", None)
        if seed is not None and not isinstance(seed, int):
            return None  # a SeedGenerator: its state moves at each draw
        config = dict(initializer.get_config())
        config.pop("seed", None)
        key.append((type(initializer), json.dumps(config, sort_keys=True, default=repr),
                    tuple(variable.shape), variable.dtype))
        seeds.append([seed or 0, 0])
    return tuple(key), seeds


def _initial_values(templates, seeds):
    values = []
    for k, (initializer, shape, dtype) in enumerate(templates):
        if getattr(initializer, "seed", None) is not None:
            initializer = copy.copy(initializer)
            initializer.seed = _GivenSeed(seeds[k])
        values.append(initializer(shape, dtype=dtype))
    return values


class _GivenSeed(keras.random.SeedGenerator):
    """Stands for an initializer's int seed in a traced function (see :func:`initial_values`).

    Keras' random ops take ``next()`` of a SeedGenerator as the seed tensor,
    as they make ``[seed, 0]`` from an int; this one holds no state variable.
    """

    def __init__(self, tensor):  # SeedGenerator's own __init__ would make a variable
        self._tensor = tensor

    def next(self, ordered=True):
        return self._tensor
