"""A bounded, thread-safe pool of idle programs, keyed by what they compile."""

import threading
from collections import OrderedDict
from contextlib import contextmanager


class ProgramCache:
    """Lend programs by key; keep at most ``max_idle`` of them between loans.

    A program is lent to one borrower at a time: two threads fitting the same
    shape at once get two programs, so concurrent fits never share variables.
    The least recently returned programs are dropped first, which keeps memory
    flat over thousands of fits of many shapes.
    """

    def __init__(self, max_idle=16):
        self.max_idle = max_idle
        self._idle = OrderedDict()  # key -> list of idle programs
        self._lock = threading.Lock()
        self.built = 0

    @contextmanager
    def borrow(self, key, build):
        program = None
        with self._lock:
            pool = self._idle.get(key)
            if pool:
                program = pool.pop()
                if not pool:
                    del self._idle[key]
        if program is None:
            program = build()
            self.built += 1
        try:
            yield program
        finally:
            self._give_back(key, program)

    def _give_back(self, key, program):
        with self._lock:
            self._idle.setdefault(key, []).append(program)
            self._idle.move_to_end(key)
            while self.n_idle > self.max_idle:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    @property
    def n_idle(self):
        return sum(len(pool) for pool in self._idle.values())

    def clear(self):
        with self._lock:
            self._idle.clear()
