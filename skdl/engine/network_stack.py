"""A stack of skdl networks for the host loop: each network's weights, data and
hyper-parameters packed into the stack's arrays, and its results taken back out.

Networks of different widths and depths share a stack by padding (:func:`pad`,
:func:`unpad`); each network reads its own rows of the stack's distinct data
sets (:class:`StackData`). :class:`NetworkStack` is what
:class:`~skdl.engine.trainer.StackTrainer` trains: one compiled call per epoch
for the whole stack, under scikit-learn's rules (:class:`~skdl.engine.runs.ModelRun`).
"""

import hashlib
import itertools
import math
import threading

import numpy as np

from .._network import forward, layout
from . import metrics, stack
from .keras_callbacks import KerasCallbacks
from .optimizers import SCHEDULE_COLUMNS, SCHEDULES, SLOTS
from .planning import carried_widths
from .request import OPTIMIZER_STATE_FORMAT
from .runs import ModelRun, divergence

#: Rows of the training data whose outputs a fit's last check computes.
FINAL_CHECK_ROWS = 256


def bucket(n):
    """``n`` rounded up by at most 1/8, so that nearby sizes share a compiled shape."""
    grain = 2 ** max(int(math.log2(max(n, 1))) - 3, 0)
    return -(-n // grain) * grain


# --- padding each model's weights into the stack's shapes ---------------------------------------
def _counterpart(real, padded, weight):
    """The weight of the ``padded`` (wider, deeper) network that holds ``weight`` of ``real``:
    the same hidden layer, or the output layer."""
    depth_real, depth_padded = len(real.hidden_layer_sizes), len(padded.hidden_layer_sizes)
    layer = depth_padded if weight.layer == depth_real else weight.layer
    return next(w for w in layout(padded) if w.layer == layer and w.role == weight.role)


def _segments(network, weight, axis):
    """The lengths of the pieces along ``axis`` of ``weight``: one piece, or for a wide &
    deep output layer's inputs, the input features then the last hidden layer."""
    sizes = network.hidden_layer_sizes
    depth = len(sizes)
    if axis == 0 and weight.role == "kernel":
        if weight.layer == 0:
            return [network.n_features]
        if weight.layer == depth and network.wide_and_deep:
            return [network.n_features, sizes[-1]]
        return [sizes[weight.layer - 1]]
    return [network.n_outputs if weight.layer == depth else sizes[weight.layer]]


def _slices(real, padded, weight):
    """Index pairs (into the padded weight, into the real one) covering ``weight``."""
    target = _counterpart(real, padded, weight)
    axes = []
    for axis in range(len(weight.shape)):
        pairs, start_real, start_padded = [], 0, 0
        for size, room in zip(_segments(real, weight, axis), _segments(padded, target, axis)):
            pairs.append((slice(start_padded, start_padded + size), slice(start_real, start_real + size)))
            start_real, start_padded = start_real + size, start_padded + room
        axes.append(pairs)
    return [tuple(zip(*combination)) for combination in itertools.product(*axes)]


def pad(real, padded, weights):
    """``weights`` of network ``real`` laid into the wider and deeper shapes of ``padded``
    (the layers ``real`` lacks stay zero)."""
    if layout(real) == layout(padded):  # nothing to pad: the same weights
        return [np.array(w, np.float32) for w in weights]
    out = {w.name: np.zeros(w.shape, np.float32) for w in layout(padded)}
    for weight, value in zip(layout(real), weights):
        target = out[_counterpart(real, padded, weight).name]
        for into, source in _slices(real, padded, weight):
            target[into] = value[source]
    return [out[w.name] for w in layout(padded)]


def unpad(real, padded, weights):
    """The inverse of :func:`pad`."""
    if layout(real) == layout(padded):
        return [np.array(w, np.float32) for w in weights]
    by_name = {w.name: value for w, value in zip(layout(padded), weights)}
    out = []
    for weight in layout(real):
        source, value = by_name[_counterpart(real, padded, weight).name], np.zeros(weight.shape, np.float32)
        for into, from_real in _slices(real, padded, weight):
            value[from_real] = source[into]
        out.append(value)
    return out


# --- the stack's data ------------------------------------------------------------------------
def _target_sets(requests, part):
    """The stack's distinct target sets ``(Y, W)`` (compared by a digest of their bytes,
    read in place) and which one each request reads."""
    sets, keys, source = [], {}, []
    for request in requests:
        _, _, Y, W = part(request)
        key = (Y.shape, Y.dtype.str, hashlib.sha256(np.ascontiguousarray(Y).data).digest(),
               W.shape, hashlib.sha256(np.ascontiguousarray(W).data).digest())
        if key not in keys:
            keys[key] = len(sets)
            sets.append((Y, W))
        source.append(keys[key])
    return sets, np.asarray(source, np.int32)


def _padded_targets(sets, n_rows):
    """The (Y, W) sets stacked along a new first axis, each zero-padded to ``n_rows``."""
    def stacked(arrays):
        out = np.zeros((len(arrays), n_rows) + arrays[0].shape[1:], arrays[0].dtype)
        for k, array in enumerate(arrays):
            out[k, :len(array)] = array
        return out
    return {"Y": stacked([Y for Y, _ in sets]), "W": stacked([W for _, W in sets])}


def _distinct_inputs(requests, part):
    """The stack's distinct input arrays (by identity: the folds of a search share the
    unsplit ``X``) and each request's rows in their concatenation."""
    arrays, offsets, rows, total = [], {}, [], 0
    for request in requests:
        X, own, _, _ = part(request)
        if id(X) not in offsets:
            offsets[id(X)] = total
            arrays.append(X)
            total += len(X)
        own = np.arange(len(X)) if own is None else own
        rows.append((offsets[id(X)] + own).astype(np.int32))
    return arrays, rows


def _joined_inputs(arrays):
    """``arrays`` one after the other in one float32 array: the one array itself when
    there is one (placing copies it anyway)."""
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate(arrays).astype(np.float32, copy=False)


class PlacedInputs:
    """The input arrays placed for the stacks of one :func:`skdl.engine.train` call: stacks
    that read the same arrays (a search's folds and candidates) share one placed copy."""

    def __init__(self):
        self._placed, self._lock = {}, threading.Lock()

    def get(self, program, arrays):
        key = (tuple(id(a) for a in arrays), program.device, program.backend.name)
        with self._lock:
            if key not in self._placed:  # the arrays are kept too: their ids stay theirs
                self._placed[key] = (arrays, program.place(_joined_inputs(arrays)))
            return self._placed[key][1]


class StackData:
    """A stack's training (or validation) data placed on the device once, and each
    model's rows in it.

    ``part(request)`` gives a request's ``(X, rows, Y, W)`` (``rows`` None: all of ``X``).
    Each distinct input array is placed once (through ``inputs``, a :class:`PlacedInputs`
    shared with other stacks, when given), and each model reads its rows of it by index;
    each distinct target set once too. ``everyone``: the requests of the whole stack that
    ``requests`` are a piece of (default: ``requests``). All their data is placed, so
    that every piece has the same shapes, and so the same compiled code.
    """

    def __init__(self, program, requests, part, batch_size, everyone=None, inputs=None):
        everyone = requests if everyone is None else everyone
        position = {id(request): k for k, request in enumerate(everyone)}
        mine = [position[id(request)] for request in requests]
        arrays, x_rows = _distinct_inputs(everyone, part)
        sets, source = _target_sets(everyone, part)
        self.source, self.x_rows = source[mine], [x_rows[k] for k in mine]
        self.n_rows = np.asarray([len(rows) for rows in self.x_rows], np.int32)
        padded_rows = bucket(max(max(len(Y) for Y, _ in sets), 1))
        self.width = -(-padded_rows // batch_size) * batch_size
        # The inputs' rows are not padded to a bucket: the folds of a search share them.
        placed_inputs = (inputs or PlacedInputs()).get(program, arrays)
        self.placed = dict(program.place(_padded_targets(sets, padded_rows)), X=placed_inputs)

    def x_order(self, order):
        """The rows of the placed inputs at each model's positions ``order`` (M, width)."""
        return np.stack([rows[positions] for rows, positions in zip(self.x_rows, order)])


# --- the stack's arrays ----------------------------------------------------------------------
def model_columns(structure, requests):
    """What differs between the networks of a stack, as the (M, k) arrays of
    :func:`stack.unpack_plan`: ``{"floats": ..., "ints": ...}`` without the columns that
    change every epoch (learning rate, running, epoch), which are left at zero."""
    depth = len(structure.widths)
    stretched = [carried_widths(r.network.hidden_layer_sizes, depth) for r in requests]
    floats = np.zeros((len(requests), len(stack.FLOAT_COLUMNS)), np.float32)
    for k, name in enumerate(stack.FLOAT_COLUMNS):
        if name == "nesterov":
            floats[:, k] = [r.training.nesterovs_momentum for r in requests]
        elif name in SCHEDULE_COLUMNS:
            floats[:, k] = [_schedule_column(r.training.lr_schedule, name) for r in requests]
        elif name not in ("learning_rate", "running"):
            floats[:, k] = [getattr(r.training, name) for r in requests]
    masks = [np.stack([(np.arange(width) < own[layer]) for own in stretched])
             for layer, width in enumerate(structure.widths)]
    gates = [np.asarray([[layer < len(r.network.hidden_layer_sizes)] for r in requests])
             for layer in range(depth)]
    floats = np.concatenate([floats] + masks + gates, axis=1).astype(np.float32)
    ints = np.zeros((len(requests), len(stack.INT_COLUMNS)), np.int32)
    ints[:, stack.INT_COLUMNS.index("seed")] = [r.seed % 2**31 for r in requests]
    ints[:, stack.INT_COLUMNS.index("activation")] = [structure.activations.index(r.network.activation)
                                                      for r in requests]
    ints[:, stack.INT_COLUMNS.index("solver")] = [structure.solvers.index(r.training.solver)
                                                  for r in requests]
    return {"floats": floats, "ints": ints}


def _schedule_column(schedule, name):
    """A fit's value of the schedule column ``name`` (see :data:`SCHEDULE_COLUMNS`)."""
    if schedule is None:
        return 0.0
    return {"schedule": SCHEDULES.index(schedule.kind), "decay_steps": schedule.decay_steps,
            "decay_rate": schedule.rate, "decay_power": schedule.power,
            "staircase": float(schedule.staircase)}[name]


def column(name, columns=stack.FLOAT_COLUMNS):
    """The index of ``name`` among a stack's per-model ``columns``."""
    return columns.index(name)


def _stacked(values):
    return np.stack([np.asarray(v, np.float32) for v in values])


def _padded_trainable(real, padded, arrays):
    """``arrays`` shaped like ``real``'s trainable weights (an optimizer's slots), padded
    into ``padded``'s trainable weights and flattened in their order."""
    given = iter(arrays)
    full = [next(given) if w.trainable else np.zeros(w.shape, np.float32) for w in layout(real)]
    return np.concatenate([np.ravel(value) for w, value in zip(layout(padded), pad(real, padded, full))
                           if w.trainable])


def initial_state(structure, requests):
    """The packed state (see :func:`stack.unpack_state`) a stack starts from: each model's
    fresh (or given) weights padded into the stack's shapes, fresh (or given) slots."""
    from .._network import initial_weights

    padded_network = structure.network
    weights, given_slots, counters = [], [], []
    for request in requests:
        start = request.start
        own = start.weights if start is not None else request.initial if request.initial is not None \
            else initial_weights(request.network, request.seed)
        weights.append(pad(request.network, padded_network, own))
        state = start.optimizer_state if start is not None else None
        given_slots.append(None if state is None else {
            name: _padded_trainable(request.network, padded_network, arrays)
            for name, arrays in state["slots"].items()})
        counters.append((0.0, 1.0) if state is None else (state["step"], state["u_product"]))
    params = [_stacked(values) for values in zip(*weights)]
    trainable = np.concatenate([p.reshape(len(p), -1) for w, p in zip(layout(padded_network), params)
                                if w.trainable], axis=1)
    frozen = [p.reshape(len(p), -1) for w, p in zip(layout(padded_network), params) if not w.trainable]
    frozen = np.concatenate(frozen, axis=1) if frozen else np.zeros((len(requests), 0), np.float32)
    slots = stack.initial_slots(structure, len(requests), trainable.shape[1])
    for m, own in enumerate(given_slots):
        for name, values in (own or {}).items():
            slots[stack.slot_array(name)][m] = values
    names = stack.slot_names(structure)
    packed_slots = np.stack([slots[name] for name in names]) if names else \
        np.zeros((0,) + trainable.shape, np.float32)
    return trainable, packed_slots, frozen, np.asarray(counters, np.float32)


def _metric_logs(tracked, means, prefix=""):
    """The logs of a fit's ``tracked`` metrics (its ``TrainingSpec.metrics``) from their
    weighted means."""
    return {prefix + key: metrics.finished(name, mean) for (key, name), mean in zip(tracked, means)}


def model_weights(structure, real_network, trainable, frozen, m):
    """Model ``m``'s own weights (layout order, unpadded) from packed NumPy arrays."""
    shapes = [w.shape for w in structure.layout if not w.trainable]
    sizes = [int(np.prod(shape)) for shape in shapes]
    frozen_pieces = [piece.reshape((1,) + tuple(shape)) for piece, shape in
                     zip(np.split(frozen[m:m + 1], np.cumsum(sizes)[:-1], axis=1), shapes)] if sizes else []
    padded = stack.merge(structure, _unflatten(structure, trainable[m:m + 1]), frozen_pieces)
    return unpad(real_network, structure.network, [p[0] for p in padded])


class NetworkStack:
    """The networks of ``requests`` (stackable into ``program.structure``) as one stack
    for the host loop, trained by ``program`` under scikit-learn's rules; a piece of the
    stack of ``everyone`` when given (see :class:`StackData`)."""

    first_epoch = 0  # the epoch callbacks see first

    def __init__(self, program, requests, everyone=None, inputs=None):
        self.program, self.requests = program, requests
        self.structure = structure = program.structure
        self.runs = [ModelRun(r) for r in requests]
        self.train_data = StackData(program, requests, lambda r: (r.X, r.rows, r.Y, r.W),
                                    structure.batch_size, everyone, inputs)
        self.columns = model_columns(structure, requests)
        self.validation = None
        if requests[0].validation is not None:
            self.validation = validation = StackData(
                program, requests, lambda r: (r.validation[0], None) + tuple(r.validation[1:]), 1,
                everyone, inputs)
            ints = self.columns["ints"].copy()
            ints[:, column("source", stack.INT_COLUMNS)] = validation.source
            ints[:, column("n_rows", stack.INT_COLUMNS)] = validation.n_rows
            order = np.tile(np.arange(validation.width, dtype=np.int32), (len(requests), 1))
            order = np.where(order < validation.n_rows[:, None], order, 0)
            self.validation_plan = program.place((self.columns["floats"], ints, order,
                                                  validation.x_order(order)))
        self.callbacks = None
        if requests[0].callbacks:
            request = requests[0]
            self.callbacks = KerasCallbacks(
                request.callbacks, request.network, request.training.solver,
                request.training.learning_rate_init, request.training.max_iter,
                steps=-(-request.n_samples // structure.batch_size))

    def _epoch_plan(self):
        """The per-model arrays of this epoch: learning rates, who runs, each one's epoch."""
        data, runs = self.train_data, self.runs
        floats, ints = self.columns["floats"].copy(), self.columns["ints"].copy()
        floats[:, column("learning_rate")] = [run.learning_rate for run in runs]
        floats[:, column("running")] = [run.running for run in runs]
        ints[:, column("source", stack.INT_COLUMNS)] = data.source
        ints[:, column("n_rows", stack.INT_COLUMNS)] = data.n_rows
        ints[:, column("epoch", stack.INT_COLUMNS)] = [run.epochs % 2**31 for run in runs]
        # A stopped model draws no more shuffles: its stream stands where its last epoch left it.
        order = np.stack([_sorted_batches(run.order(n, data.width), n, self.structure.batch_size)
                          if run.running else np.zeros(data.width, np.int32)
                          for run, n in zip(runs, data.n_rows)])
        return floats, ints, order, data.x_order(order)

    def initial_state(self):
        return self.program.place(initial_state(self.structure, self.requests))

    def epoch(self, state):
        """Train every running network one epoch; returns ``(state, outcomes)``: each
        network's ``(loss, validation score, validation loss, metrics)``, ``metrics``
        its training metrics' logs (and validation ones, ``val_`` first) when its
        training tracks some."""
        program = self.program
        running = [run.running for run in self.runs]
        state, losses = program.train_epoch(state, self.train_data.placed,
                                            *program.place(self._epoch_plan()))
        losses = program.backend.to_numpy(losses)
        logs = [{} for _ in self.runs]
        if self.structure.metrics:
            losses, means = losses[:, 0], losses[:, 1:]
            for m, request in enumerate(self.requests):
                logs[m] = _metric_logs(request.training.metrics, means[m])
        scores = validation_losses = [None] * len(self.runs)
        if self.validation is not None:
            scores, validation_losses = self._validate(state, running, logs)
        return state, [(float(loss), score, validation_loss, own_logs) for
                       loss, score, validation_loss, own_logs in
                       zip(losses, scores, validation_losses, logs)]

    def keep_best(self, improved, state, best):
        """``best`` (None at first) with the improved networks' weights from ``state``."""
        current = [state[0], state[2]]
        return self.program.select_improved(improved, current, current if best is None else best)

    def weights_fetcher(self, state, m):
        """A function giving model ``m``'s weights as they are in ``state`` now (call it
        before the next epoch: under JAX, an epoch reuses the state's buffers)."""
        trainable, frozen = state[0], state[2]
        network = self.requests[m].network
        return lambda: model_weights(self.structure, network,
                                     *self.program.backend.to_numpy((trainable, frozen)), m)

    def _validate(self, state, running, logs):
        """Each network's validation score and loss; its validation metrics go into its
        ``logs``."""
        outputs, losses = self.program.evaluate(state, self.validation.placed, *self.validation_plan)
        outputs, losses = self.program.backend.to_numpy((outputs, losses))
        scores = [None] * len(self.runs)
        for m, request in enumerate(self.requests):
            if running[m]:
                X_val, Y_val, W_val = request.validation
                own = outputs[m, :len(X_val), :request.network.n_outputs]
                if self.structure.metrics:
                    means = metrics.totals(self.structure.metrics, self.structure.task, Y_val,
                                           own, W_val, np) / max(float(np.sum(W_val)), 1e-30)
                    logs[m].update(_metric_logs(request.training.metrics, means, "val_"))
                # scikit-learn's MLP scores non-finite predictions as NaN.
                scores[m] = request.score(own, Y_val, W_val) if np.all(np.isfinite(own)) else np.nan
        return scores, [float(v) for v in losses]

    def results(self, state, best):
        backend, structure = self.program.backend, self.structure
        trainable, slots, frozen, counters = backend.to_numpy(state)
        best = backend.to_numpy(best) if best is not None else None
        names = stack.slot_names(structure)
        results = []
        for m, (run, request) in enumerate(zip(self.runs, self.requests)):
            kept = best if run.has_best else (trainable, frozen)
            weights = model_weights(structure, request.network, kept[0], kept[1], m)
            if self.callbacks:
                weights = self.callbacks.train_end(weights)
            own_slots = {name: self._trainable_of(slots[names.index(stack.slot_array(name))], m)
                         for name in SLOTS[request.training.solver]}
            real_trainable = [w for w in layout(request.network) if w.trainable]
            optimizer_state = {
                "format": OPTIMIZER_STATE_FORMAT, "names": [w.name for w in real_trainable],
                "shapes": [w.shape for w in real_trainable], "solver": request.training.solver,
                "slots": own_slots, "step": float(counters[m, 0]), "u_product": float(counters[m, 1]),
                "learning_rate": float(run.learning_rate)}
            if run.error is None:
                run.error = final_check(request, weights, run.n_iter)
            result = run.result(weights, optimizer_state)
            result.jit_compile = structure.jit_compile
            result.executor = "numpy" if structure.host else "compiled"
            results.append(result)
        return results

    def _trainable_of(self, flat, m):
        """Model ``m``'s unpadded arrays shaped like its trainable weights, from a flat (M, P)."""
        network = self.requests[m].network
        frozen = np.zeros((len(self.requests), sum(int(np.prod(w.shape)) for w in self.structure.layout
                                                   if not w.trainable)), np.float32)
        weights = model_weights(self.structure, network, flat, frozen, m)
        return [value for w, value in zip(layout(network), weights) if w.trainable]


def _unflatten(structure, flat):
    """:func:`stack.unflatten` for NumPy arrays."""
    shapes = stack.trainable_shapes(structure)
    sizes = [int(np.prod(shape)) for shape in shapes]
    pieces = np.split(flat, np.cumsum(sizes)[:-1], axis=1)
    return [piece.reshape((len(flat),) + tuple(shape)) for piece, shape in zip(pieces, shapes)]


def _sorted_batches(order, n_rows, batch_size):
    """``order`` with each minibatch's rows in ascending order: a batch's rows are what its
    step averages over, so their order only changes the float32 rounding of its sums, and
    sorted, one set of rows sums the same whatever shuffle drew it (a fit, and as many
    ``partial_fit`` calls, of one full batch give the same network)."""
    order = order.copy()
    full = n_rows - n_rows % batch_size
    order[:full].reshape(-1, batch_size).sort(axis=1)
    order[full:n_rows].sort()
    return order


def final_check(request, weights, n_iter):
    """A fit's last check: the weights, and the outputs of a chunk of training rows, are
    finite (an epoch's loss is taken before its last update)."""
    if not all(np.all(np.isfinite(w)) for w in weights):
        return divergence(n_iter, "the weights became non-finite")
    with np.errstate(all="ignore"):
        outputs = forward(request.network, weights, request.training_inputs(FINAL_CHECK_ROWS))
    if not np.all(np.isfinite(outputs)):
        return divergence(n_iter, "the network's outputs became non-finite")
    return None
