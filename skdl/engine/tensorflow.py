"""TensorFlow's share of the engine: gradients, compilation, placement.

A compiled function is one ``tf.function`` (``autograph=False``: the engine
writes its loops with ``keras.ops.while_loop``), traced once with the
stack size, the number of rows and the epoch's length left unknown, so one
trace serves every fit and every stack of a program.
"""

import os
import re
import threading
from contextlib import nullcontext

import numpy as np
import tensorflow as tf

from .program import CPU_OPTIMIZATION_LEVEL

name = "tensorflow"

#: Tracing builds a graph in Python, holding the GIL throughout: threads tracing at once
#: only slow each other down. One at a time, the first trace is done sooner, and its
#: program compiles while the next one is traced.
_TRACING = threading.Lock()

#: TensorFlow versions whose XLA has ``--xla_cpu_use_fusion_emitters`` (2.19's has not;
#: checked in the released libraries): XLA stops a process whose ``XLA_FLAGS`` names a
#: flag it does not know, so the flag is asked for only where it was seen.
_FUSION_EMITTERS_FLAG_VERSIONS = ((2, 20), (2, 21))


def quick_cpu_flags(version=None):
    """XLA's flags for small networks' CPU programs under TensorFlow ``version`` (None:
    this one's): LLVM's :data:`~skdl.engine.program.CPU_OPTIMIZATION_LEVEL`, and XLA's
    older fusion emitters, not its MLIR ones, where that version has the choice (small
    networks' programs compile faster with them and train as fast; see the changelog)."""
    version = tf.__version__ if version is None else version
    flags = {"--xla_backend_optimization_level": str(CPU_OPTIMIZATION_LEVEL)}
    release = re.match(r"(\d+)\.(\d+)", version)
    if release and tuple(map(int, release.groups())) in _FUSION_EMITTERS_FLAG_VERSIONS:
        flags["--xla_cpu_use_fusion_emitters"] = "false"
    return flags


_compilation_choice = threading.Lock()
_compilation_chosen = False


def choose_cpu_compilation(quick):
    """Before the process's first XLA program: when it is ``quick`` (a small network's),
    add :func:`quick_cpu_flags` to ``XLA_FLAGS``, unless TensorFlow sees a GPU; a flag
    already set keeps its value.

    XLA reads ``XLA_FLAGS`` once, at its first compilation in the process, and the
    flags then hold for every program: so the first XLA program decides, and a GPU's
    code is never compiled with them. A process that compiled with XLA before skdl
    keeps the flags it read.
    """
    global _compilation_chosen
    from .._device import gpu_count

    with _compilation_choice:
        if _compilation_chosen:
            return
        _compilation_chosen = True
        flags = os.environ.get("XLA_FLAGS", "")
        if not quick or gpu_count() > 0:
            return
        added = [f"{name}={value}" for name, value in quick_cpu_flags().items() if name not in flags]
        os.environ["XLA_FLAGS"] = " ".join([flags] + added).strip()


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
    called as that concrete function on its flattened arguments: few, flat arguments
    keep the cost of a call (tens of microseconds per argument) down. The other
    dimensions stay known to TensorFlow, which folds the shape arithmetic away.
    ``quick`` marks a small network's program (see :func:`choose_cpu_compilation`)."""

    def __init__(self, function, dynamic, jit_compile=False, device=None, donate=(), quick=False):
        self.python_function, self.dynamic, self.device, self.quick = function, dynamic, device, quick
        self.jit_compile, self.template, self.axes, self.concrete = jit_compile, None, None, {}
        self._tracing = threading.Lock()  # pieces of one stack in threads: traced, compiled once

    def _prepare(self, args):
        """Remember the arguments' structure and each leaf's dynamic axes (first call)."""
        self.template = args
        self.axes = [set(self.dynamic(path, leaf)) for path, leaf in _leaves_with_paths(args)]

    def _trace(self, flat):
        specs = [tf.TensorSpec([None if axis in axes else d for axis, d in enumerate(np.shape(leaf))],
                               tf.as_dtype(leaf.dtype)) for leaf, axes in zip(flat, self.axes)]
        template, function = self.template, self.python_function

        def flat_function(*leaves):
            return function(*tf.nest.pack_sequence_as(template, list(leaves)))

        traced = tf.function(flat_function, autograph=False, jit_compile=self.jit_compile)
        return traced.get_concrete_function(*specs)

    def __call__(self, *args):
        if self.axes is None:  # set last by _prepare: the template is there too
            with self._tracing:
                if self.axes is None:
                    self._prepare(args)
        flat = tf.nest.flatten(args)
        key = tuple((tuple(None if axis in axes else d for axis, d in enumerate(np.shape(leaf))),
                     tf.as_dtype(leaf.dtype)) for leaf, axes in zip(flat, self.axes))
        with on_device(self.device):
            concrete = self.concrete.get(key)
            if concrete is None:
                with self._tracing:
                    concrete = self.concrete.get(key)
                    if concrete is None:  # trace, and compile in a first call, once
                        if self.jit_compile:
                            choose_cpu_compilation(self.quick)
                        with _TRACING:
                            concrete = self._trace(flat)
                        outputs = concrete(*flat)
                        self.concrete[key] = concrete
                        return outputs
            return concrete(*flat)


def _leaves_with_paths(tree, path=()):
    """``(path, leaf)`` pairs of nested tuples, lists and dicts, in ``tf.nest.flatten`` order
    (dict keys sorted)."""
    if isinstance(tree, dict):
        return [pair for key in sorted(tree) for pair in _leaves_with_paths(tree[key], path + (key,))]
    if isinstance(tree, (list, tuple)):
        return [pair for k, value in enumerate(tree) for pair in _leaves_with_paths(value, path + (k,))]
    return [(path, tree)]


def on_device(device):
    return tf.device(f"/{device[0].upper()}:{device[1]}") if device else nullcontext()


#: Arrays from this many bytes are placed on the CPU without ``tf.constant``'s copies.
LARGE_ARRAY_BYTES = 1 << 24

#: The alignment TensorFlow's kernels require of a tensor's buffer.
_ALIGNMENT = 64


def _aligned_copy(array):
    """``array``'s values in a new buffer aligned as TensorFlow's tensors are."""
    raw = np.empty(array.nbytes + _ALIGNMENT, np.uint8)
    offset = -raw.ctypes.data % _ALIGNMENT
    out = raw[offset:offset + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out


def _on_cpu(device):
    from .._device import gpu_count

    return device[0] == "cpu" if device is not None else gpu_count() == 0


def _constant(value):
    """A tensor of ``value`` on the current device; a large NumPy array on the CPU is
    copied once into an aligned buffer that the tensor then reads in place (DLPack),
    where ``tf.constant`` would hold two copies of it."""
    if isinstance(value, np.ndarray) and value.nbytes >= LARGE_ARRAY_BYTES:
        return tf.experimental.dlpack.from_dlpack(_aligned_copy(value).__dlpack__())
    return tf.constant(value)


def place(tree, device):
    """NumPy arrays -> tensors on ``device`` (None: TensorFlow's choice)."""
    with on_device(device):
        return tf.nest.map_structure(_constant if _on_cpu(device) else tf.constant, tree)


def to_numpy(tree):
    return tf.nest.map_structure(lambda t: t.numpy(), tree)
