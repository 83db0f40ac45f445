"""Which requests train together, how each stack is compiled, and which stacks
train at the same time.

Requests that differ only in data (hyper-parameters, seeds, rows, widths,
depth, activation, solver) can share one compiled program. Sharing saves a
compilation (about a second with XLA, half a second for a TensorFlow
graph) but makes every network of the stack as wide and as deep as the
widest and deepest: :func:`stacks` merges groups while the compilation it
saves outweighs the arithmetic the padding adds, by a rough cost model.
Under XLA on the CPU, networks of one shape (hidden widths) train in a stack
bit for bit as alone. Padded or gated networks sum in another order, and agree
with their single fits only within float32 rounding, which a chaotic fit (a
learning rate near divergence) grows into a different network: so networks
of different shapes share a stack only where its training would take less
than a compilation (a small search, where compiling is most of the time).

A small stack's step leaves cores idle (its operations are too small to
split), so the stacks of a search train side by side, one thread each, up to
one per core (:func:`concurrent_stacks`), the costliest first. A stack that
would keep one core busy long after the others is cut into pieces of equal
size (:func:`pieces`): pieces of one stack share its compiled program, so
they balance the cores without compiling anything more.

A stack whose compilation would cost more than it saves trains on the host,
in NumPy (:mod:`~skdl.engine.host`): :func:`estimate` prices both ways.
Such stacks are never padded (padding only saves compilations) and train one
after another unless their steps are big: a small step is mostly Python,
which threads only take turns at.
"""

import math
import os
from dataclasses import replace

import keras
import numpy as np

from .._device import gpu_count
from .. import _config
from . import host
from .program import compiles_quickly
from .stack import Structure

#: The cost model's constants: seconds to compile one program, and the arithmetic
#: rate (FLOP/s) a stack trains at. Rough on purpose: only their ratio matters.
COMPILE_SECONDS, FLOPS_PER_SECOND = 1.0, 5e10

#: ``jit_compile="auto"`` compiles a stack with XLA from this many model-steps (a
#: model's minibatches summed over its epochs and the stack's models) or this much
#: arithmetic: XLA's step runs several times faster than TensorFlow's graph on small
#: networks but costs about a second to compile.
XLA_MIN_MODEL_STEPS, XLA_MIN_FLOPS = 4000, 1e12

#: ``jit_compile="auto"`` compiles a small network's stack on the CPU (one compiled
#: quickly, see :func:`~skdl.engine.program.compiles_quickly`) from this many model-steps
#: instead: such a program compiles in about the time TensorFlow's graph spends on a
#: thousand steps, and every later fit of the same structure (a search's or
#: ``cross_val_score``'s next fold) then runs several times faster (the changelog has
#: the figures).
QUICK_XLA_MIN_MODEL_STEPS = 1000

#: The cost model of a stack trained on the host in NumPy (:mod:`~skdl.engine.host`):
#: seconds a step costs whatever its size, seconds per weight a solver's step costs (its
#: elementwise passes over the weights and slots), and the arithmetic rate (FLOP/s) of
#: big minibatches; a minibatch of ``HOST_HALF_RATE_BATCH`` rows runs at half that rate
#: (its matrix products are small). Fitted on 2-core Xeon runs of 3 to 81 networks.
HOST_STEP_SECONDS, HOST_UPDATE_SECONDS = 1.5e-4, 4e-9
HOST_FLOPS_PER_SECOND, HOST_HALF_RATE_BATCH = 5e10, 48

#: A stack on the host trains alongside others (each in its thread) from this much
#: arithmetic per step: below it, its step is mostly Python.
HOST_ALONGSIDE_MIN_STEP_FLOPS = 2e8

#: An XLA stack carries its weights one array per weight (see
#: :func:`skdl.engine.stack.epoch`) from this many weight-steps (its models' weights
#: times its longest run's minibatches): the flat array's two copies a step cost more
#: than the second or so the larger program takes to compile.
PER_WEIGHT_MIN_WEIGHT_STEPS = 1e9


def stackable(request):
    """Whether ``request`` can train in a stack with others (Keras callbacks, ``verbose``
    and L-BFGS reporting its iterations to an epoch hook train alone)."""
    return not (request.callbacks or request.training.verbose
                or (request.training.solver == "lbfgs" and request.epoch_hook is not None))


def _family(request):
    """What requests must share to train in one stack: L-BFGS' networks their shape (a
    padded weight would count in each iteration's sums), not a minibatch size."""
    n, t = request.network, request.training
    lbfgs = t.solver == "lbfgs"
    shared = (n.hidden_layer_sizes, n.activation) if lbfgs else t.batch_size
    return (n.n_features, n.n_outputs, n.output_activation, n.batch_normalization, n.hidden_bias,
            n.wide_and_deep, n.dropout > 0, not n.hidden_layer_sizes, t.task, t.loss, shared,
            t.l1 > 0, t.weight_decay > 0, t.jit_compile, t.executor, t.device,
            t.lr_schedule is not None,
            tuple(name for _, name in t.metrics), _keras_penalty(t),
            request.validation is not None, lbfgs)


def _keras_penalty(training):
    """Whether a fit's penalty is Keras' regularizers' (added to each minibatch's mean
    loss) rather than scikit-learn's ``alpha`` (divided by the minibatch's weight)."""
    return training.rules == "keras" and (training.alpha > 0 or training.l1 > 0)


def carried_widths(sizes, depth):
    """A network's hidden widths stretched to ``depth`` layers: a missing layer passes its
    input through, so it is as wide as the last real one."""
    return tuple(sizes) + (sizes[-1],) * (depth - len(sizes)) if sizes else ()


def _widths(requests):
    depth = max(len(r.network.hidden_layer_sizes) for r in requests)
    stretched = [carried_widths(r.network.hidden_layer_sizes, depth) for r in requests]
    return tuple(max(column) for column in zip(*stretched)) if depth else ()


def _flops(request, widths):
    """Training arithmetic of ``request`` when padded to ``widths``."""
    n = request.network
    units = (n.n_features,) + tuple(widths)
    macs = sum(a * b for a, b in zip(units[:-1], units[1:]))
    macs += (units[-1] + (n.n_features if n.wide_and_deep and widths else 0)) * n.n_outputs
    return 6.0 * macs * request.n_samples * request.training.max_iter


def _weights(request, widths):
    """How many weights ``request``'s network has when padded to ``widths``."""
    n = request.network
    units = (n.n_features,) + tuple(widths)
    inputs = units[-1] + (n.n_features if n.wide_and_deep and widths else 0)
    return sum((a + 1) * b for a, b in zip(units[:-1], units[1:])) + (inputs + 1) * n.n_outputs


def _host_seconds(requests, widths):
    """The cost model's seconds for ``requests`` trained as one stack on the host."""
    steps = [_steps(r) for r in requests]
    batch = requests[0].training.batch_size
    rate = HOST_FLOPS_PER_SECOND * batch / (batch + HOST_HALF_RATE_BATCH)
    return (max(steps) * HOST_STEP_SECONDS
            + sum(steps) * _weights(requests[0], widths) * HOST_UPDATE_SECONDS
            + sum(_flops(r, widths) for r in requests) / rate)


def _executor(requests):
    """The executor ``requests`` ask for: the one the fits they continue trained with, else
    the ``executor`` setting (:func:`skdl.set_config`)."""
    asked = requests[0].training.executor
    return _config.get_config()["executor"] if asked == "auto" else asked


def _host_allowed(requests):
    """Whether a stack of ``requests`` may train on the host, in NumPy: its executor
    (:func:`_executor`) allows it, the host can train its networks, and under ``"auto"``,
    on the CPU with ``jit_compile`` left to skdl."""
    setting = _executor(requests)
    if setting == "compiled" or not host.supports(requests):
        return False
    return setting == "numpy" or (_on_cpu(requests) and requests[0].training.jit_compile == "auto")


def estimate(requests):
    """The cost model's ``(compilation, training)`` seconds of a stack of ``requests``: on
    the host where that is allowed and cheaper (no compilation), else compiled."""
    widths = _widths(requests)
    compiled = sum(_flops(r, widths) for r in requests) / FLOPS_PER_SECOND
    if _host_allowed(requests):
        on_host = _host_seconds(requests, widths)
        if on_host < COMPILE_SECONDS + compiled or _executor(requests) == "numpy":
            return 0.0, on_host
    return COMPILE_SECONDS, compiled


def cost(requests):
    """The cost model's estimate of training ``requests`` as one stack, in seconds."""
    return sum(estimate(requests))


def _pads_cheaply(requests):
    """Whether ``requests`` may share a stack though their networks differ in shape: its
    estimated training is shorter than a compilation."""
    if len({r.network.hidden_layer_sizes for r in requests}) == 1:
        return True
    return estimate(requests)[1] < COMPILE_SECONDS


def _merge_cheaply(groups, requests):
    """Merge groups (lists of indices) while a merge lowers the estimated cost, networks
    of different shapes only where :func:`_pads_cheaply` allows it."""
    groups = [list(g) for g in groups]
    costs = [cost([requests[i] for i in g]) for g in groups]
    while len(groups) > 1:
        best = None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                members = [requests[i] for i in groups[a] + groups[b]]
                merged = cost(members)
                if not _pads_cheaply(members):
                    continue
                saving = costs[a] + costs[b] - merged
                if saving > 0 and (best is None or saving > best[0]):
                    best = (saving, a, b, merged)
        if best is None:
            break
        _, a, b, merged = best
        groups[a] = sorted(groups[a] + groups.pop(b))
        costs[a] = merged
        costs.pop(b)
    return groups


def stacks(requests):
    """Group ``requests`` into stacks: a list of lists of indices.

    Requests of one family start in groups of identical networks; groups are
    then merged while the cost model says it pays.

    Examples
    --------
    >>> import numpy as np
    >>> from skdl._network import NetworkSpec
    >>> from skdl.engine import FitRequest, TrainingSpec
    >>> from skdl.engine.planning import stacks
    >>> X, Y, W = np.zeros((100, 4), "float32"), np.zeros(100, "int32"), np.ones(100, "float32")
    >>> def request(sizes, solver="adam"):
    ...     network = NetworkSpec(4, sizes, "relu", 3, output_activation="softmax")
    ...     return FitRequest(network, TrainingSpec("multiclass", "log_loss", solver, max_iter=10),
    ...                       X, Y, W, seed=0)
    >>> stacks([request((8,)), request((16,)), request((8, 8), "sgd"), request((8,), "lbfgs"),
    ...         request((8,), "lbfgs"), request((16,), "lbfgs")])
    [[0, 1, 2], [3, 4], [5]]
    """
    families, alone = {}, []
    for index, request in enumerate(requests):
        if stackable(request):
            n, t = request.network, request.training
            exact = (n.hidden_layer_sizes, n.activation, t.solver)
            families.setdefault(_family(request), {}).setdefault(exact, []).append(index)
        else:
            alone.append([index])
    groups = []
    for family in families.values():
        groups += _merge_cheaply(list(family.values()), requests)
    return sorted(groups + alone)


def concurrent_stacks():
    """How many stacks train at once: one per core this process may use (a joblib or
    Ray worker's share, from ``OMP_NUM_THREADS``)."""
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        return int(share)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pieces(groups, requests, workers, caps=None):
    """Each group (a list of indices into ``requests``) cut into up to ``workers`` pieces
    of equal size, or more where ``caps`` (one per group: the most networks a piece may
    hold, None for no bound; see :mod:`~skdl.engine.memory`) asks: a list of lists of
    pieces.

    A group is cut when its training (its estimated cost less the compilation) is more
    than a quarter of a thread's fair share of the whole: pieces that small let
    ``workers`` threads end together. Pieces have one size, the last one filled up
    with repeats of its last index, because a stack's size is part of its compiled
    shapes: every piece runs the group's one program.

    Examples
    --------
    >>> import numpy as np
    >>> from skdl._network import NetworkSpec
    >>> from skdl.engine import FitRequest, TrainingSpec
    >>> from skdl.engine.planning import pieces
    >>> X, Y, W = np.zeros((100, 4), "float32"), np.zeros(100, "int32"), np.ones(100, "float32")
    >>> network = NetworkSpec(4, (8,), "relu", 3, output_activation="softmax")
    >>> requests = [FitRequest(network, TrainingSpec("multiclass", "log_loss", max_iter=10),
    ...                        X, Y, W, seed=seed) for seed in range(6)]
    >>> pieces([[0, 1, 2, 3, 4], [5]], requests, workers=2)
    [[[0, 1, 2], [3, 4, 4]], [[5]]]
    """
    training = [estimate([requests[i] for i in group])[1] for group in groups]
    share = sum(training) / (4 * workers)
    out = []
    for group, seconds, cap in zip(groups, training, caps or [None] * len(groups)):
        count = min(workers, len(group), math.ceil(seconds / share)) if workers > 1 and share > 0 else 1
        if cap is not None:
            count = max(count, math.ceil(len(group) / cap))
        size = -(-len(group) // max(count, 1))
        cut = [group[start:start + size] for start in range(0, len(group), size)]
        cut[-1] = cut[-1] + [cut[-1][-1]] * (size - len(cut[-1]))
        out.append(cut)
    return out


def _on_cpu(requests):
    device = requests[0].training.device
    return device[0] == "cpu" if device is not None else gpu_count() == 0


def overlaps(requests):
    """Whether a stack of ``requests`` may train alongside other stacks: on the CPU (a
    GPU runs one stack's steps at a time anyway), and not when it reports to anyone
    between epochs (Keras callbacks, epoch hooks, ``verbose``); on the host, only when
    its steps are big (a small step is mostly Python, which threads take turns at)."""
    if not (_on_cpu(requests) and all(stackable(r) and r.epoch_hook is None for r in requests)):
        return False
    if estimate(requests)[0] > 0:
        return True
    widths = _widths(requests)
    step = sum(_flops(r, widths) / (r.n_samples * r.training.max_iter) for r in requests)
    return step * requests[0].training.batch_size >= HOST_ALONGSIDE_MIN_STEP_FLOPS


def _steps(request):
    """How many minibatches ``request`` trains at most."""
    return request.training.max_iter * -(-request.n_samples // request.training.batch_size)


def _wants_xla(requests, structure):
    setting = requests[0].training.jit_compile
    if keras.backend.backend() != "tensorflow":
        return False  # JAX compiles every program with XLA anyway
    if setting != "auto":
        return bool(setting)
    quick = _on_cpu(requests) and compiles_quickly(structure)
    model_steps = sum(_steps(r) for r in requests)
    flops = sum(_flops(r, structure.widths) for r in requests)
    return (model_steps >= (QUICK_XLA_MIN_MODEL_STEPS if quick else XLA_MIN_MODEL_STEPS)
            or flops >= XLA_MIN_FLOPS)


def _carries_per_weight(requests, structure):
    if not (structure.jit_compile or keras.backend.backend() == "jax"):
        return False
    weights = len(requests) * sum(int(np.prod(w.shape)) for w in structure.layout if w.trainable)
    return weights * max(_steps(r) for r in requests) >= PER_WEIGHT_MIN_WEIGHT_STEPS


def structure_of(requests):
    """The :class:`~skdl.engine.stack.Structure` of one stack of ``requests``: hidden
    widths and depth of the widest and deepest, every activation and solver it uses."""
    first = requests[0]
    n, t = first.network, first.training
    widths = _widths(requests)
    depth = len(widths)
    structure = Structure(
        n_features=n.n_features, widths=widths, n_outputs=n.n_outputs,
        output_activation=n.output_activation, task=t.task, loss=t.loss, batch_size=t.batch_size,
        activations=tuple(sorted({r.network.activation for r in requests})),
        solvers=tuple(sorted({r.training.solver for r in requests})),
        batch_normalization=n.batch_normalization, wide_and_deep=n.wide_and_deep,
        dropout=any(r.network.dropout > 0 for r in requests),
        l1=any(r.training.l1 > 0 for r in requests),
        weight_decay=any(r.training.weight_decay > 0 for r in requests),
        padded=any(carried_widths(r.network.hidden_layer_sizes, depth) != widths for r in requests),
        gated=any(len(r.network.hidden_layer_sizes) != depth for r in requests),
        metrics=tuple(name for _, name in t.metrics), keras_penalty=_keras_penalty(t),
        scheduled=t.lr_schedule is not None, hidden_bias=n.hidden_bias)
    structure = replace(structure, jit_compile=_wants_xla(requests, structure))
    structure = replace(structure, per_weight=_carries_per_weight(requests, structure))
    if estimate(requests)[0] == 0:  # on the host: a fit's executor depends on its stack alone
        return replace(structure, host=True, jit_compile=False, per_weight=False)
    return structure
