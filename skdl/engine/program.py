"""Compiled programs: a :class:`~skdl.engine.stack.Structure`'s functions, built once and shared.

A program holds no training state (that travels in and out of each call),
so one program serves every fit and every stack of its structure, from any
thread; a bounded cache keeps the most recently used ones.
"""

import functools
import math
import threading
from collections import OrderedDict

import keras
from keras import ops

from . import stack


def backend():
    """The engine's backend module for Keras' backend: gradients, compilation, placement."""
    name = keras.backend.backend()
    if name == "tensorflow":
        from . import tensorflow
        return tensorflow
    if name == "jax":
        from . import jax
        return jax
    raise RuntimeError(
        f"skdl trains with the TensorFlow or JAX Keras backend. Received: "
        f"KERAS_BACKEND={name!r}. Set KERAS_BACKEND=tensorflow (the default) or jax.")


def _dynamic_rows(path, value):
    """The dimensions that vary between calls of a program's functions on one stack: the
    rows of the data (the ``X``, ``Y``, ``W`` entries of the second argument: ``X``'s rows,
    the target sets' count and rows) and the length of the orders (the last two arguments
    of an epoch or an evaluation). The stack's size stays fixed: each size is traced once."""
    if path[0] == 1 and len(path) > 1:
        return (0,) if path[1] == "X" else (0, 1)
    return (1,) if path[0] in (4, 5) else ()


def _select_improved(improved, new, old):
    """``new`` for the models marked in ``improved`` (M,), ``old`` for the others."""
    return [ops.where(ops.reshape(improved, (-1,) + (1,) * (len(n.shape) - 1)), n, o)
            for n, o in zip(new, old)]


#: LLVM's optimization level for the small networks' programs compiled for the CPU (XLA's
#: default is 3); the backends apply it (JAX per program, TensorFlow through ``XLA_FLAGS``).
CPU_OPTIMIZATION_LEVEL = 1

#: Networks of up to this many trainable weights are compiled quickly on the CPU, at
#: :data:`CPU_OPTIMIZATION_LEVEL`: level 1 compiles small networks faster and trains them
#: as fast, while a big network's epochs compile no faster and run slower at it (the
#: changelog has the figures).
QUICK_COMPILATION_MAX_WEIGHTS = 100_000


def compiles_quickly(structure):
    """Whether ``structure``'s programs are compiled at the quick CPU optimization level."""
    weights = sum(math.prod(w.shape) for w in structure.layout if w.trainable)
    return weights <= QUICK_COMPILATION_MAX_WEIGHTS


class Program:
    """The compiled functions of one structure on one device."""

    def __init__(self, structure, device=None):
        engine = backend()
        self.structure, self.device, self.backend = structure, device, engine
        compiled = functools.partial(engine.Compiled, device=device, jit_compile=structure.jit_compile,
                                     quick=compiles_quickly(structure))
        self.train_epoch = compiled(functools.partial(stack.packed_epoch, structure,
                                                      engine.value_and_grad),
                                    dynamic=_dynamic_rows, donate=(0,))
        self.evaluate = compiled(functools.partial(stack.packed_evaluate, structure), dynamic=_dynamic_rows)
        self.full_batch = compiled(functools.partial(stack.packed_full_batch, structure,
                                                     engine.value_and_grad), dynamic=_dynamic_rows)
        self.select_improved = engine.Compiled(_select_improved, dynamic=lambda p, v: (), device=device)

    def place(self, tree):
        return self.backend.place(tree, self.device)


class ProgramCache:
    """At most ``max_size`` programs, the least recently used dropped first (and so
    freed, with their traced graphs): memory stays flat over thousands of fits."""

    def __init__(self, max_size=16):
        self.max_size, self.built = max_size, 0
        self._programs = OrderedDict()
        self._lock = threading.Lock()

    def get(self, structure, device=None):
        key = (keras.backend.backend(), structure, device)
        with self._lock:
            program = self._programs.get(key)
            if program is not None:
                self._programs.move_to_end(key)
                return program
        program = Program(structure, device)
        with self._lock:
            program = self._programs.setdefault(key, program)
            self._programs.move_to_end(key)
            self.built += 1
            while len(self._programs) > self.max_size:
                self._programs.popitem(last=False)
        return program

    def clear(self):
        with self._lock:
            self._programs.clear()

    def __len__(self):
        return len(self._programs)


#: The programs of this process.
PROGRAMS = ProgramCache(max_size=16)
