"""The training engine: one boundary between the estimators and the training.

An estimator validates its inputs, encodes its targets and hands the engine
one :class:`FitRequest` per network (data, network and training specs, seed,
where to start, callbacks); :func:`train` gives back one :class:`FitResult`
each (weights, optimizer state, loss curve, validation scores, ``n_iter``,
``t``, history, or the error that stopped it). Behind it: requests that can
share a compiled program are grouped into stacks (one stack of one for an
ordinary fit), each stack trains through one compiled call per epoch
(:mod:`~skdl.engine.stack`, the same code on TensorFlow and JAX) driven by
one host loop (:mod:`~skdl.engine.trainer`) that does scikit-learn's
per-epoch bookkeeping for every model (:mod:`~skdl.engine.runs`) and freezes
the models that stop or diverge; L-BFGS runs each model's SciPy
minimisation, a stack's objectives evaluated together on the host
(:mod:`~skdl.engine.lbfgs`). A stack too small to pay for a compilation
runs the same arithmetic in NumPy, nothing compiled (:mod:`~skdl.engine.host`).
Which requests share a stack, whether it compiles (and with XLA), and which stacks train side by side (on the CPU, one
thread each, a big stack cut into pieces that share its compiled program), is
:mod:`~skdl.engine.planning`'s call; packing the
networks into a stack's arrays and back is
:mod:`~skdl.engine.network_stack`'s. Programs are cached by structure
(:mod:`~skdl.engine.program`); the estimators keep only NumPy arrays. The
wrappers' Keras models train through the same host loop, reached through
:func:`train_keras_model` (:mod:`~skdl.engine.keras_model`).
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from .host import HostProgram
from .program import PROGRAMS as _CACHE
from .planning import concurrent_stacks, cost, overlaps, pieces, stackable, stacks, structure_of
from .request import FitRequest, FitResult, KerasPlateau, KerasSchedule, KerasStopping, Start, TrainingSpec, data_digest, fit_keys
from .continuation import continuation, continued
from .lbfgs import train_lbfgs
from .memory import RELEASE_MIN_BYTES, networks_per_stack, release_freed_memory, stack_bytes
from .network_stack import NetworkStack, PlacedInputs
from .stack import slot_names
from .trainer import StackTrainer

__all__ = ["FitRequest", "FitResult", "KerasPlateau", "KerasSchedule", "KerasStopping", "Start", "TrainingSpec", "train", "stacks",
           "stackable", "structure_of", "clear_cache", "cache_info", "epochs", "data_digest",
           "fit_keys", "continued", "continuation"]


def train(requests, concurrency=None, progress=None, finished=None):
    """Train every request; returns one :class:`FitResult` per request, in order.

    Stacks train side by side in up to ``concurrency`` threads (None: one per
    core this process may use, see :func:`~skdl.engine.planning.concurrent_stacks`),
    big ones cut into pieces (:func:`~skdl.engine.planning.pieces`): a network's
    result depends on it only within float32 rounding. ``progress``, when given,
    is called after each epoch of each stack (from its thread) with the number of
    networks that trained it: :func:`epochs` of the requests is their total.
    ``finished``, when given, is called as each stack (or piece) ends, from its
    thread, with the indices of its requests and their results.

    Examples
    --------
    >>> import numpy as np
    >>> from skdl._network import NetworkSpec
    >>> from skdl.engine import FitRequest, TrainingSpec, train
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    >>> Y = (X[:, :1] > 0).astype("float32")
    >>> network = NetworkSpec(3, (8,), "relu", 1, output_activation="logistic")
    >>> spec = TrainingSpec("binary", "log_loss", learning_rate_init=0.05, batch_size=16,
    ...                     max_iter=20)
    >>> requests = [FitRequest(network, spec, X, Y, np.ones(64, "float32"), seed=seed)
    ...             for seed in (0, 1)]
    >>> [r.n_iter for r in train(requests)], [w.shape for w in train(requests[:1])[0].weights]
    ([20, 20], [(3, 8), (8,), (8, 1), (1,)])
    """
    results = [None] * len(requests)
    groups = stacks(requests)
    apart, together = [], []
    for group in groups:
        (together if overlaps([requests[k] for k in group]) else apart).append(group)
    workers = concurrent_stacks() if concurrency is None else concurrency
    jobs = _side_by_side_jobs(together, requests, workers)
    inputs = PlacedInputs()

    big = []

    def run(structure, group, piece, cancelled=None):
        members = [requests[k] for k in piece]
        piece_results = _train_stack(members, cancelled, structure, [requests[k] for k in group],
                                     progress, inputs)
        if stack_bytes(members, structure, len(slot_names(structure))) >= RELEASE_MIN_BYTES:
            big.append(True)
            release_freed_memory()  # this stack's working memory, before the next one's
        if finished is not None:
            finished(piece, piece_results)
        return piece_results

    trained = []
    alone = [(group, structure_of([requests[k] for k in group])) for group in apart]
    with _one_blas_thread_on_host([structure for _, structure in alone]
                                  + [structure for structure, _, _ in jobs]):
        for group, structure in alone:  # one after another, in pieces that fit the memory limit
            members = [requests[k] for k in group]
            cut = pieces([group], requests, 1, [_networks_per_stack(members, structure, 1)])[0]
            trained += [(piece, run(structure, group, piece)) for piece in cut]
        trained += zip((piece for _, _, piece in jobs), _train_side_by_side(jobs, workers, run))
    for piece, piece_results in trained:
        for k, result in zip(piece, piece_results):
            if results[k] is None:  # a piece filled up with repeats trains them twice
                results[k] = result
    if big:
        del trained, inputs  # the placed data goes too
        release_freed_memory()
    return results


def _side_by_side_jobs(groups, requests, workers):
    """``(structure, group, piece)`` triples in the order threads take them: every stack's
    first piece, the costliest first (they compile), then the other pieces in the order
    of their first (they reuse the program their first piece compiled, the earliest
    started being the likeliest done)."""
    first, rest = [], []
    structures = [structure_of([requests[k] for k in group]) for group in groups]
    caps = [_networks_per_stack([requests[k] for k in group], structure, workers)
            for group, structure in zip(groups, structures)]
    for group, structure, cut in zip(groups, structures, pieces(groups, requests, workers, caps)):
        first.append((structure, group, cut[0]))
        rest += [(structure, group, piece) for piece in cut[1:]]

    def by_cost(job):
        return -cost([requests[k] for k in job[2]])
    first.sort(key=by_cost)
    started = {id(group): k for k, (_, group, _) in enumerate(first)}
    return first + sorted(rest, key=lambda job: started[id(job[1])])


def _one_blas_thread_on_host(structures):
    """While stacks on the host train, NumPy's matrix products run on one thread: theirs
    are small and many, and a BLAS that splits each between threads slows them down (on
    the 2-core Xeon of ``docs/benchmarks.rst``, a (21, 200, 64) x (21, 64, 100) product
    took 4.0 ms on OpenBLAS' two threads and 0.6 ms on one; stacks side by side would
    each have split theirs too)."""
    if any(structure.host for structure in structures):
        return _blas_threads().limit(limits=1, user_api="blas")
    return nullcontext()


@functools.cache
def _blas_threads():
    """The process's BLAS thread pools (threadpoolctl reads them once: a limit is then cheap)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _train_side_by_side(jobs, workers, run):
    """``run(structure, group, piece, cancelled)`` of each ``(structure, group, piece)`` job,
    in up to ``workers`` threads; their results, in order."""
    if min(workers, len(jobs)) <= 1:
        return [run(*job) for job in jobs]
    cancelled = threading.Event()
    with ThreadPoolExecutor(workers, thread_name_prefix="skdl-stack") as pool:
        futures = [pool.submit(run, *job, cancelled) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            cancelled.set()  # the other threads stop at their next epoch
            raise


def _networks_per_stack(members, structure, concurrent):
    """:func:`~skdl.engine.memory.networks_per_stack` for a stack of ``members`` (L-BFGS
    trains its one network alone)."""
    if members[0].training.solver == "lbfgs":
        return None
    return networks_per_stack(members, structure, len(slot_names(structure)), concurrent)


def _train_stack(members, cancelled=None, structure=None, everyone=None, progress=None, inputs=None):
    """Train ``members`` as one stack of ``structure`` (None: their own), a piece of the
    stack of ``everyone`` when given, its inputs placed through ``inputs`` (a
    :class:`~skdl.engine.network_stack.PlacedInputs`) when given."""
    structure = structure_of(members) if structure is None else structure
    program = HostProgram(structure) if structure.host else _CACHE.get(structure, members[0].training.device)
    if members[0].training.solver == "lbfgs":
        results = train_lbfgs(program, members)
        if progress is not None:  # their budgets: L-BFGS' iterations are not epochs
            progress(sum(member.training.max_iter for member in members))
        return results
    return StackTrainer(NetworkStack(program, members, everyone, inputs), cancelled, progress).run()


def epochs(requests):
    """How many network-epochs training ``requests`` may take (each one's ``max_iter``; an
    incremental fit's one): what :func:`train`'s ``progress`` counts up to."""
    return sum(1 if r.incremental else r.training.max_iter for r in requests)


def clear_cache():
    """Drop every cached program (their traced graphs are then freed)."""
    _CACHE.clear()


def cache_info():
    """``{"programs": programs kept now, "max_programs": bound, "built": built so far}``."""
    return {"programs": len(_CACHE), "max_programs": _CACHE.max_size, "built": _CACHE.built}


# --- a user's own Keras model (the wrappers' front end) -------------------------------------
# The wrappers reach the engine through these names only; Keras' private attributes stay
# behind keras_private (name counters, deferred variables), the loops in keras_model.
from . import keras_model  # noqa: E402
from .keras_model import assign_all, overrides, seeded  # noqa: E402
from .keras_private import (  # noqa: E402
    DeferredVariables,
    initial_values,
    name_counters,
    restore_name_counters,
)

__all__ += ["train_keras_model", "predict_keras_model", "seeded", "overrides", "assign_all",
            "name_counters", "restore_name_counters", "DeferredVariables", "initial_values"]

#: Callback hooks of the validation passes, which the fused loop does not call.
_TEST_HOOKS = ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end")


def train_keras_model(model, x, y, sample_weight=None, *, epochs, batch_size, seed,
                      initial_epoch=0, shuffle=True, validation=None, validation_batch_size=None,
                      callbacks=(), verbose=0, fit_kwargs=None, engine="auto", keras_seed=None):
    """Train a user's compiled Keras ``model``; returns ``(history dict, loop name)``.

    The loop is the fused one (``"fused"``: the engine's host loop, one
    compiled call per epoch) where it can train the model, else Keras' own
    ``model.fit`` (``"keras.fit"``). ``engine="keras"`` asks for
    ``model.fit``; ``engine="fused"`` for the fused loop, and raises a
    ``ValueError`` naming why when it cannot train the model. ``x`` is an
    array, or a list or dict of arrays (those train through ``model.fit``);
    ``validation`` is None or ``(x_val, y_val[, sample_weight_val])``.
    ``seed`` fixes the fused loop's shuffles, ``keras_seed`` ``model.fit``'s.
    See :func:`~skdl.engine.keras_model.train`.
    """
    callbacks, fit_kwargs = list(callbacks), dict(fit_kwargs or {})
    reason = keras_model.why_keras_fit(model, callbacks, fit_kwargs, engine)
    if reason is None and not hasattr(x, "shape"):
        reason = f"its inputs are a {type(x).__name__} of arrays (it takes one array)"
    if reason is None and validation is not None:
        validated_by = [type(c).__name__ for c in callbacks if overrides(c, _TEST_HOOKS)]
        if validated_by:  # model.fit runs the validation passes through the callbacks
            reason = f"{validated_by[0]} acts on the validation passes (on_test_* hooks)"
    if reason is not None and engine == "fused":
        raise ValueError(f"engine='fused' cannot train this model: {reason}. "
                         "Use engine='auto' or 'keras'.")
    return keras_model.train(
        model, x, y, sample_weight, epochs=epochs, initial_epoch=initial_epoch,
        batch_size=batch_size, shuffle=shuffle, seed=seed, validation=validation,
        validation_batch_size=validation_batch_size or batch_size, callbacks=callbacks,
        verbose=verbose, fit_kwargs=fit_kwargs, engine="keras" if reason else engine,
        keras_seed=keras_seed)


def predict_keras_model(model, x, predict_kwargs=None):
    """A user's Keras ``model``'s outputs for ``x``: a list of arrays, one per output.

    ``x`` one array predicts in fixed-size compiled chunks where it can (see
    :func:`~skdl.engine.keras_model.predict`); a list or dict of arrays
    predicts through ``model.predict``. ``predict_kwargs`` are
    ``model.predict``'s (``batch_size=-1``: every row at once).
    """
    if hasattr(x, "shape"):
        return keras_model.predict(model, x, predict_kwargs=predict_kwargs)
    outputs = model.predict(x=x, **{"verbose": 0, **(predict_kwargs or {})})
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
