"""The Keras private names skdl relies on, in one place.

Keras 3.15 offers no public way to do these two things; if a Keras release
moves or changes them, ``tests/test_keras_private.py`` fails by name.
"""

import collections


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
