"""skdl's global settings: :func:`set_config`, :func:`get_config`, :func:`config_context`.

Like scikit-learn's, a setting holds for the process (threads included) until it is
set again; :func:`config_context` sets it for a block.
"""

import os
import re
import threading
from contextlib import contextmanager

_DEFAULTS = {"memory_limit": "auto", "executor": "auto",
             "compile_cache": os.environ.get("SKDL_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")}

#: The values of the ``executor`` setting.
EXECUTORS = ("auto", "numpy", "compiled")
_config = dict(_DEFAULTS)
_lock = threading.Lock()

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value, name="memory_limit"):
    """A memory size as bytes: a number of bytes, or a string such as ``"512MiB"`` or
    ``"2 GB"``; ``"auto"`` stays ``"auto"``.

    Examples
    --------
    >>> parse_bytes("1.5 GiB"), parse_bytes(1000), parse_bytes("auto")
    (1610612736, 1000, 'auto')
    """
    if isinstance(value, str):
        if value == "auto":
            return value
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", value)
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"{name} must be 'auto', a number of bytes or a size such as "
                             f"'512MiB' or '2GB'. Received: {value!r}.")
        value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be 'auto' or a positive number of bytes. Received: {value!r}.")
    return int(value)


def get_config():
    """skdl's current settings, as a dict (see :func:`set_config`).

    Examples
    --------
    >>> import skdl
    >>> skdl.get_config()["memory_limit"]
    'auto'
    """
    with _lock:
        return dict(_config)


def set_config(memory_limit=None, executor=None, compile_cache=None):
    """Set skdl's global settings; a setting left at None keeps its value.

    Parameters
    ----------
    memory_limit : "auto", int or str, default=None
        The memory a stack of networks may use while it trains: its data, weights,
        optimizer slots and a batch's activations. A search whose networks need more
        trains as several stacks, one after another; if one network alone needs more, it
        raises :class:`MemoryError` saying how much it needs. ``"auto"`` (the starting
        value): most of the memory available when the stack starts (the RAM the system
        reports free on the CPU, the device's free memory on a GPU). A number of bytes,
        or a size such as ``"2GiB"``, ``"500MB"``.
    executor : {"auto", "numpy", "compiled"}, default=None
        What runs a stack's arithmetic on the CPU. ``"compiled"``: a program of Keras'
        backend (a TensorFlow graph or XLA, JAX's XLA), compiled once per network shape
        in the process (about a second) and fast after that. ``"numpy"``: NumPy on the
        host, nothing compiled, slower arithmetic, for the networks it covers (dense
        layers, dropout, every loss but a classifier's squared error, no batch
        normalization; others compile). ``"auto"`` (the starting value): NumPy for the stacks whose
        compilation would cost more than it saves (a small search's), a compiled program
        for the others and wherever one is built already, and on a GPU. Either way the
        networks are the same to float32 rounding, and ``model_`` is a Keras model.
    compile_cache : bool, default=None
        Whether compiled programs are kept on disk for the next process (the starting
        value is True, or False when the environment variable ``SKDL_CACHE`` is ``0``).
        Under JAX, skdl turns on JAX's persistent compilation cache in
        :func:`cache_folder`'s ``jax`` folder, bounded to :data:`JAX_CACHE_MAX_BYTES`
        (the least recently used entries go first), unless the process set its own
        ``jax_compilation_cache_dir``. It is read when skdl builds its first program
        under JAX. Under TensorFlow nothing is kept (see the searching guide: writing
        XLA's cache costs a cold search more than reading it saves).

    Examples
    --------
    >>> import skdl
    >>> skdl.set_config(memory_limit="4GiB")
    >>> skdl.get_config()["memory_limit"]
    4294967296
    >>> skdl.set_config(memory_limit="auto")
    """
    updates = {}
    if memory_limit is not None:
        updates["memory_limit"] = parse_bytes(memory_limit)
    if compile_cache is not None:
        if not isinstance(compile_cache, bool):
            raise ValueError(f"compile_cache must be True or False. Received: {compile_cache!r}.")
        updates["compile_cache"] = compile_cache
    if executor is not None:
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}. Received: {executor!r}.")
        updates["executor"] = executor
    with _lock:
        _config.update(updates)


#: The most bytes JAX's persistent cache may hold in :func:`cache_folder`.
JAX_CACHE_MAX_BYTES = 1 << 30


def cache_folder():
    """Where skdl keeps what outlives a process: ``$SKDL_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/skdl``, else ``~/.cache/skdl``.

    Examples
    --------
    >>> import os
    >>> from skdl._config import cache_folder
    >>> saved = dict(os.environ)
    >>> os.environ["SKDL_CACHE_DIR"] = "~/skdl-cache"
    >>> cache_folder() == os.path.expanduser("~/skdl-cache")
    True
    >>> del os.environ["SKDL_CACHE_DIR"]; os.environ["XDG_CACHE_HOME"] = "/var/cache"
    >>> cache_folder()
    '/var/cache/skdl'
    >>> os.environ.clear(); os.environ.update(saved)
    """
    if os.environ.get("SKDL_CACHE_DIR"):
        return os.path.expanduser(os.environ["SKDL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skdl")


@contextmanager
def config_context(**settings):
    """Set skdl's settings (as :func:`set_config`) for the ``with`` block only.

    Examples
    --------
    >>> import skdl
    >>> with skdl.config_context(memory_limit="1GiB"):
    ...     skdl.get_config()["memory_limit"]
    1073741824
    >>> skdl.get_config()["memory_limit"]
    'auto'
    """
    before = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        with _lock:
            _config.clear()
            _config.update(before)
