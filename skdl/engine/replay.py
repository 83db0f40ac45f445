"""Recording fits instead of training them, and handing back results trained ahead.

:mod:`skdl.model_selection` uses these to train a search's fits in stacks
while scikit-learn's own search code does everything else: a first pass
fits each candidate's pipeline on each split with :func:`recording` on, so
that the skdl estimator at its end hands its request over (raising
:class:`Recorded`) instead of training; the recorded requests are trained
in stacks; then scikit-learn's search runs as usual with
:func:`pretrained` on, and each skdl fit finds its result ready (a fit whose
request was not trained ahead just trains).
"""

import threading
from contextlib import contextmanager


class Recorded(Exception):
    """Raised by the engine, while recording, in place of training ``requests``."""

    def __init__(self, requests):
        super().__init__("skdl recorded a fit instead of training it (skdl.model_selection's "
                         "first pass); this never reaches user code.")
        self.requests = requests


_local = threading.local()
_stores, _lock = [], threading.Lock()


def is_recording():
    return getattr(_local, "recording", False)


@contextmanager
def recording():
    """In this thread, skdl fits raise :class:`Recorded` with their requests."""
    previous = is_recording()
    _local.recording = True
    try:
        yield
    finally:
        _local.recording = previous


@contextmanager
def pretrained(results):
    """While active (in every thread), a fit whose request's fingerprint is a key of
    ``results`` takes that result instead of training."""
    with _lock:
        _stores.append(results)
    try:
        yield
    finally:
        with _lock:
            _stores.remove(results)


def lookup(request):
    """The result trained ahead for ``request``, or None (always None for a request
    whose epochs are reported: they must run under its hook)."""
    if not any(_stores) or request.epoch_hook is not None:
        return None  # nothing trained ahead yet: no need to digest the request's data
    key = request.fingerprint()
    with _lock:
        for store in _stores:
            if key in store:
                return store[key]
    return None
