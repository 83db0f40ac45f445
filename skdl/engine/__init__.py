"""The training engine: compiled programs per backend, lent from one cache.

``borrow_program(network_spec, training_spec)`` is the only entry point the
estimators use; which backend compiles the program follows ``keras.backend``.
"""

import keras

from ._cache import ProgramCache
from ._program import Program, TrainingSpec

__all__ = ["Program", "TrainingSpec", "borrow_program", "clear_cache", "cache_info"]

_CACHE = ProgramCache(max_idle=16)


def _program_class():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from .tensorflow import TensorFlowProgram
        return TensorFlowProgram
    if backend == "jax":
        from .jax import JaxProgram
        return JaxProgram
    raise RuntimeError(
        f"skdl trains with the TensorFlow or JAX Keras backend. Received: "
        f"KERAS_BACKEND={backend!r}. Set KERAS_BACKEND=tensorflow (the default) or jax."
    )


def borrow_program(network_spec, training_spec, device=None):
    """Context manager lending a compiled program for these specs.

    Examples
    --------
    >>> from skdl._network import NetworkSpec
    >>> from skdl.engine import TrainingSpec, borrow_program
    >>> spec = NetworkSpec(n_features=4, hidden_layer_sizes=(8,), activation="relu", n_outputs=3)
    >>> with borrow_program(spec, TrainingSpec("multiclass", "log_loss", "adam")) as program:
    ...     [w.shape for w in program.get_weights()]
    [(4, 8), (8,), (8, 3), (3,)]
    """
    program_class = _program_class()
    key = (keras.backend.backend(), network_spec, training_spec, device)
    return _CACHE.borrow(key, lambda: program_class(network_spec, training_spec, device))


def clear_cache():
    """Drop every idle program (their graphs and variables are then freed)."""
    _CACHE.clear()


def cache_info():
    """``{"idle": programs kept now, "max_idle": bound, "built": programs built so far}``."""
    return {"idle": _CACHE.n_idle, "max_idle": _CACHE.max_idle, "built": _CACHE.built}
