"""JAX's share of the engine: gradients, compilation, placement.

A compiled function is one ``jax.jit`` whose first argument (the training
state) is donated, so an epoch updates the weights in place. JAX compiles
per shape: the engine pads row counts to a few sizes so that folds of
nearby sizes share a compilation. Compiled programs are kept on disk for the
next process by JAX's persistent compilation cache (:func:`use_persistent_cache`).
"""

import importlib.util
import os
import threading

import jax
import numpy as np

from .. import _config
from .program import CPU_OPTIMIZATION_LEVEL

name = "jax"

#: Programs that compile faster than this are not worth an entry in the cache.
CACHE_MIN_COMPILE_SECONDS = 0.1


def use_persistent_cache():
    """Turn on JAX's persistent compilation cache in :func:`skdl._config.cache_folder`'s
    ``jax`` folder, unless the ``compile_cache`` setting is off or the process chose its
    own folder. JAX writes each entry whole under a temporary name, so processes may
    share the folder; an entry it cannot read is compiled again (with a warning), never
    trusted; the folder is bounded to :data:`skdl._config.JAX_CACHE_MAX_BYTES` where
    ``filelock`` (which JAX's bound needs) is installed."""
    if not _config.get_config()["compile_cache"] or jax.config.jax_compilation_cache_dir:
        return
    folder = os.path.join(_config.cache_folder(), "jax")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:  # a read-only home: no cache, as before
        return
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_COMPILE_SECONDS)
    if importlib.util.find_spec("filelock") is not None:
        jax.config.update("jax_compilation_cache_max_size", _config.JAX_CACHE_MAX_BYTES)


use_persistent_cache()


def value_and_grad(function):
    """``function(weights) -> (value, aux)`` -> ``weights -> ((value, aux), gradients)``."""
    return jax.value_and_grad(function, has_aux=True)


class Compiled:
    """``jax.jit`` of ``function``, compiled at
    :data:`~skdl.engine.program.CPU_OPTIMIZATION_LEVEL` when ``quick`` and on the CPU;
    ``dynamic`` and ``jit_compile`` are TensorFlow's concern."""

    def __init__(self, function, dynamic=None, jit_compile=True, device=None, donate=(), quick=False):
        on_cpu = (device[0] if device else jax.default_backend()) == "cpu"
        options = {"xla_backend_optimization_level": CPU_OPTIMIZATION_LEVEL} if quick and on_cpu else None
        self.function = jax.jit(function, donate_argnums=donate, compiler_options=options)
        self.called, self._first_call = False, threading.Lock()

    def __call__(self, *args):
        if not self.called:
            with self._first_call:  # pieces of one stack in threads: compiled once
                if not self.called:
                    outputs = self.function(*args)
                    self.called = True
                    return outputs
        return self.function(*args)


def place(tree, device):
    """NumPy arrays -> arrays on ``device`` (None: JAX's default device)."""
    target = None if device is None else jax.devices(device[0])[device[1]]
    return jax.tree_util.tree_map(lambda a: jax.device_put(a, target), tree)


def to_numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)
