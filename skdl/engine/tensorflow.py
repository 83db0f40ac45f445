"""TensorFlow's share of the engine: gradients, compilation, placement.

A compiled function is one ``tf.function`` (``autograph=False``: the engine
writes its loops with ``keras.ops.while_loop``), traced once with the
stack size, the number of rows and the epoch's length left unknown, so one
trace serves every fit and every stack of a program.
"""

import os
from contextlib import nullcontext

import numpy as np
import tensorflow as tf

name = "tensorflow"


def _share_cores_with_sibling_workers():
    """Size TensorFlow's thread pools to this process's share of the cores.

    joblib's process workers (``n_jobs``) and Ray tasks set ``OMP_NUM_THREADS``
    to the cores each may use; TensorFlow ignores it and would start one thread
    per core in every worker, oversubscribing the machine.
    """
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(share))
            tf.config.threading.set_inter_op_parallelism_threads(int(share))
        except RuntimeError:  # the runtime already started; its pools stay as they are
            pass


_share_cores_with_sibling_workers()


def value_and_grad(function):
    """``function(weights) -> (value, aux)`` -> ``weights -> ((value, aux), gradients)``."""
    def evaluate(weights):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            value, aux = function(weights)
        return (value, aux), tape.gradient(value, weights)
    return evaluate


class Compiled:
    """A ``tf.function`` traced once per signature in which the dimensions that
    ``dynamic(path, array)`` names are left unknown (the rows of the data, say), then
    called as that concrete function (which skips the signature matching that costs
    about half a millisecond a call). The other dimensions stay known to TensorFlow,
    which folds the shape arithmetic of the traced step away."""

    def __init__(self, function, dynamic, jit_compile=False, device=None, donate=()):
        self.function = tf.function(function, autograph=False, jit_compile=jit_compile)
        self.dynamic, self.device, self.concrete = dynamic, device, {}

    def _signature(self, args):
        def spec(path, value):
            shape = list(np.shape(value))
            for axis in self.dynamic(path, value):
                if axis < len(shape):
                    shape[axis] = None
            return tf.TensorSpec(shape, tf.as_dtype(value.dtype))
        return _map_with_paths(spec, args)

    def __call__(self, *args):
        signature = self._signature(args)
        key = tuple((tuple(s.shape.as_list()), s.dtype) for s in tf.nest.flatten(signature))
        with on_device(self.device):
            concrete = self.concrete.get(key)
            if concrete is None:
                concrete = self.concrete[key] = self.function.get_concrete_function(*signature)
            return concrete(*args)


def _map_with_paths(function, tree, path=()):
    """``function(path, leaf)`` over the leaves of nested tuples, lists and dicts."""
    if isinstance(tree, dict):
        return {k: _map_with_paths(function, v, path + (k,)) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map_with_paths(function, v, path + (k,)) for k, v in enumerate(tree))
    return function(path, tree)


def on_device(device):
    return tf.device(f"/{device[0].upper()}:{device[1]}") if device else nullcontext()


def place(tree, device):
    """NumPy arrays -> tensors on ``device`` (None: TensorFlow's choice)."""
    with on_device(device):
        return tf.nest.map_structure(tf.constant, tree)


def to_numpy(tree):
    return tf.nest.map_structure(lambda t: t.numpy(), tree)
