"""How much memory a stack of networks needs, how much it may use, and so how many
networks one stack holds.

A stack needs its data (each distinct input array once, placed on the device and
staged on the host; the target sets; the validation sets) and, for each of its
networks, weights, gradients, optimizer slots, a best-weights copy, a batch's
activations and its row orders. Under the limit (:func:`skdl.set_config`'s
``memory_limit``; by default most of the memory available) a big search trains
as several stacks of one program, one after another; one network that cannot fit
raises :class:`MemoryError` before anything trains.
"""

import ctypes
import ctypes.util
import functools
import math

import numpy as np

from .._config import get_config
from .._network import layout

#: The share of the available memory a stack may use when no limit is set: the rest is
#: the backend's own (compiled programs, its allocator's slack).
AVAILABLE_SHARE = 0.8

#: Arrays the size of a network's trained weights that a step holds: the weights, their
#: gradient, the best weights kept for early stopping and two temporaries of the update.
WEIGHT_COPIES = 5


def data_bytes(requests):
    """The bytes of a stack's data: each distinct input array once (by identity), the
    targets and the validation sets, each staged on the host and placed once."""
    inputs = {id(r.X): r.X.nbytes for r in requests}
    targets = sum(r.Y.nbytes + r.W.nbytes for r in requests)
    validation = sum(sum(np.asarray(a).nbytes for a in r.validation)
                     for r in requests if r.validation is not None)
    return 2 * (sum(inputs.values()) + targets + validation)


def network_bytes(request, structure, n_slots):
    """The bytes one network of a stack of ``structure`` needs besides the data."""
    weights = sum(math.prod(w.shape) for w in layout(structure.network) if w.trainable)
    units = structure.n_features + sum(structure.widths) + structure.n_outputs
    activations = 4 * structure.batch_size * units  # the forward pass and its gradient
    orders = 2 * (request.n_samples + structure.batch_size)  # the epoch's two row orders
    return 4 * (weights * (WEIGHT_COPIES + n_slots) + activations + orders)


def available_bytes(device=None):
    """The memory free now where ``device`` (None: the CPU unless a GPU is used) trains,
    or None when it cannot be told."""
    if device is not None and device[0] == "gpu":
        return _free_gpu_bytes(device[1])
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _free_gpu_bytes(index):
    import keras

    if keras.backend.backend() != "jax":
        return None  # TensorFlow does not tell a GPU's free memory
    import jax

    stats = jax.devices("gpu")[index].memory_stats() or {}
    if "bytes_limit" not in stats:
        return None
    return stats["bytes_limit"] - stats.get("bytes_in_use", 0)


def limit_bytes(device=None):
    """The memory a stack may use: the configured ``memory_limit``, or
    :data:`AVAILABLE_SHARE` of what is available (None: unknown, no limit)."""
    setting = get_config()["memory_limit"]
    if setting != "auto":
        return setting
    free = available_bytes(device)
    return None if free is None else int(AVAILABLE_SHARE * free)


def _size(n):
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def networks_per_stack(requests, structure, n_slots, concurrent=1):
    """The most networks of ``requests`` one stack of ``structure`` may hold while
    ``concurrent`` stacks train at once, within :func:`limit_bytes` (None: no bound).

    Raises :class:`MemoryError` when one network and the data do not fit.
    """
    limit = limit_bytes(requests[0].training.device)
    if limit is None:
        return None
    data = data_bytes(requests)
    network = max(network_bytes(r, structure, n_slots) for r in requests)
    if data + network > limit:
        setting = get_config()["memory_limit"]
        raise MemoryError(
            f"Training one network of this stack needs about {_size(data + network)} "
            f"({_size(data)} of data, {_size(network)} for the network's weights, optimizer "
            f"state and a batch of {structure.batch_size} rows), more than the "
            f"{_size(limit)} it may use (memory_limit={setting!r}"
            + (", the default: most of the memory available now" if setting == "auto" else "")
            + "). Lower batch_size or the network's size, use fewer rows, or raise "
              "skdl.set_config(memory_limit=...).")
    return max(1, (limit - data) // (network * max(concurrent, 1)))


#: A stack needing this many bytes (see :func:`stack_bytes`) hands its working memory back
#: when it ends (:func:`release_freed_memory`): below it, the next fit reuses it sooner.
RELEASE_MIN_BYTES = 1 << 26


def stack_bytes(requests, structure, n_slots):
    """The bytes a stack of ``requests`` needs: its data and its networks."""
    return data_bytes(requests) + sum(network_bytes(r, structure, n_slots) for r in requests)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None (looked up once: ``find_library`` runs ``ldconfig``)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_freed_memory():
    """Hand the memory the allocator keeps after a big training back to the system (glibc's
    ``malloc_trim``; elsewhere nothing), so that what follows does not add to it: the
    backend's large temporaries, freed, otherwise stay with the process."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
