"""Training a stack: the epoch loop, written once for every backend and stack size.

Each epoch is one compiled call for the whole stack; between calls the host
does for each model what scikit-learn's MLP does after an epoch (loss curve,
validation score, ``tol`` / ``n_iter_no_change``, the SGD learning-rate
schedules, early stopping's best weights, divergence) and takes the models
that stopped out of the next epoch's running set. A model that diverges is
frozen and reported; the others never see it.
"""

import itertools
import math

import numpy as np
import scipy.optimize

from .._network import forward, layout
from ..exceptions import DivergenceError
from . import stack
from .keras_callbacks import KerasCallbacks
from .planning import carried_widths
from .optimizers import SLOTS
from .request import OPTIMIZER_STATE_FORMAT, FitResult

#: Rows of the training data whose outputs a fit's last check computes.
FINAL_CHECK_ROWS = 256


def divergence(epoch, what="the loss became non-finite"):
    return DivergenceError(
        f"Training diverged: {what} at epoch {epoch}. Lower 'learning_rate_init', scale the "
        "inputs (e.g. StandardScaler) or add regularisation (alpha). The estimator keeps its "
        "previous state.")


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
    out = {w.name: np.zeros(w.shape, np.float32) for w in layout(padded)}
    for weight, value in zip(layout(real), weights):
        target = out[_counterpart(real, padded, weight).name]
        for into, source in _slices(real, padded, weight):
            target[into] = value[source]
    return [out[w.name] for w in layout(padded)]


def unpad(real, padded, weights):
    """The inverse of :func:`pad`."""
    by_name = {w.name: value for w, value in zip(layout(padded), weights)}
    out = []
    for weight in layout(real):
        source, value = by_name[_counterpart(real, padded, weight).name], np.zeros(weight.shape, np.float32)
        for into, from_real in _slices(real, padded, weight):
            value[from_real] = source[into]
        out.append(value)
    return out


# --- one model's bookkeeping -----------------------------------------------------------------
class ModelRun:
    """What the host tracks for one model of a stack between epochs."""

    def __init__(self, request):
        t, start = request.training, request.start
        self.request, self.training = request, t
        self.learning_rate = t.learning_rate_init
        self.epochs = start.epochs if start is not None else 0  # seeds each epoch's shuffle
        self.n_iter = 0  # this call's epochs, as scikit-learn's n_iter_ (partial_fit: 1)
        self.t = start.samples if start is not None else 0
        self.loss_curve, self.history = [], []
        self.validation_scores = [] if request.validation is not None else None
        self.best_loss, self.best_score, self.has_best = np.inf, -np.inf, False
        self.no_improvement = 0
        if start is not None:
            self.best_loss, self.best_score = start.best_loss, start.best_score
            self.no_improvement = start.no_improvement
            self.learning_rate = (start.optimizer_state or {}).get("learning_rate", self.learning_rate)
        self.running, self.converged, self.error, self.loss = True, True, None, np.nan
        self.convergence_warning = None

    def order(self, n_rows, width):
        """This epoch's row order, padded to ``width``."""
        order = np.zeros(width, np.int32)
        if self.training.shuffle:
            order[:n_rows] = np.random.default_rng([self.request.seed, self.epochs]).permutation(n_rows)
        else:
            order[:n_rows] = np.arange(n_rows)
        return order

    def after_epoch(self, loss, score=None, validation_loss=None):
        """Record an epoch; returns whether its weights are the best so far (early stopping)."""
        t, request = self.training, self.request
        if not np.isfinite(loss):
            self.error, self.running = divergence(self.n_iter + 1, f"the loss became {loss}"), False
            return False
        self.epochs, self.n_iter = self.epochs + 1, self.n_iter + 1
        self.t += request.X.shape[0]
        self.loss = loss
        self.loss_curve.append(loss)
        logs = {"loss": loss}
        if request.validation is not None:
            self.validation_scores.append(score)
            logs.update(val_loss=validation_loss, val_score=score)
            if request.metric_name:
                logs["val_" + request.metric_name] = score
        if t.verbose:
            print(f"Iteration {self.n_iter}, loss = {loss:.8f}")
            if score is not None:
                print(f"Validation score: {score:f}")
        improved = False
        if t.early_stopping:
            self.no_improvement = self.no_improvement + 1 if score < self.best_score + t.tol else 0
            if score > self.best_score:
                self.best_score, improved, self.has_best = score, True, True
        else:
            self.no_improvement = self.no_improvement + 1 if loss > self.best_loss - t.tol else 0
            self.best_loss = min(self.best_loss, loss)
        if t.solver == "sgd" and t.learning_rate == "invscaling":
            self.learning_rate = t.learning_rate_init / (self.t + 1) ** t.power_t
        self.history.append(logs)
        return improved

    def decide(self, stop_requested=False):
        """After the epoch's callbacks: stop now or go on."""
        t = self.training
        if stop_requested:
            self.running = False
        elif self.no_improvement > t.n_iter_no_change:
            # scikit-learn's trigger_stopping, its messages included.
            what = "Validation score" if t.early_stopping else "Training loss"
            message = (f"{what} did not improve more than tol={t.tol:f} for "
                       f"{t.n_iter_no_change:d} consecutive epochs.")
            if t.solver == "sgd" and t.learning_rate == "adaptive" and self.learning_rate > 1e-6:
                self.learning_rate, self.no_improvement = self.learning_rate / 5.0, 0
                message += f" Setting learning rate to {self.learning_rate:f}"
            else:
                adaptive = t.solver == "sgd" and t.learning_rate == "adaptive"
                message += " Learning rate too small. Stopping." if adaptive else " Stopping."
                self.running = False
            if t.verbose:
                print(message)
        if self.running and self.request.incremental:
            self.running = False
        elif self.running and self.n_iter >= t.max_iter:
            self.running, self.converged = False, False
            self.convergence_warning = (
                f"Stochastic Optimizer: Maximum iterations ({t.max_iter}) reached and the "
                "optimization hasn't converged yet.")

    def result(self, weights, optimizer_state):
        history_keys = dict.fromkeys(k for logs in self.history for k in logs)
        return FitResult(
            weights=weights, optimizer_state=optimizer_state, loss=float(self.loss),
            loss_curve=[float(v) for v in self.loss_curve],
            best_loss=None if self.training.early_stopping else float(self.best_loss),
            validation_scores=self.validation_scores,
            best_validation_score=max(self.validation_scores) if self.validation_scores else None,
            n_iter=self.n_iter, t=self.t,
            history={k: [logs.get(k, np.nan) for logs in self.history] for k in history_keys},
            converged=self.converged, convergence_warning=self.convergence_warning,
            error=self.error, no_improvement=self.no_improvement)


# --- the stack's data ------------------------------------------------------------------------
def _distinct_sets(requests, part):
    """The stack's distinct data sets (compared by content) and which one each model reads."""
    sets, keys, source = [], {}, []
    for request in requests:
        arrays = part(request)
        key = tuple(id(a) for a in arrays) if len(requests) == 1 else tuple(
            (a.shape, a.dtype.str, a.tobytes()) for a in arrays)
        if key not in keys:
            keys[key] = len(sets)
            sets.append(arrays)
        source.append(keys[key])
    return sets, np.asarray(source, np.int32)


def _padded_sets(sets, n_rows):
    """Stack the (X, Y, W) sets along a new first axis, each zero-padded to ``n_rows``."""
    def stacked(arrays):
        out = np.zeros((len(arrays), n_rows) + arrays[0].shape[1:], arrays[0].dtype)
        for k, array in enumerate(arrays):
            out[k, :len(array)] = array
        return out
    return {name: stacked([s[k] for s in sets]) for k, name in enumerate(("X", "Y", "W"))}


class StackData:
    """A stack's training (or validation) sets placed on the device once, and each
    model's rows in them."""

    def __init__(self, program, requests, part, batch_size):
        sets, self.source = _distinct_sets(requests, part)
        self.n_rows = np.asarray([len(part(r)[0]) for r in requests], np.int32)
        padded_rows = bucket(max(int(self.n_rows.max()), 1))
        self.width = -(-padded_rows // batch_size) * batch_size
        self.placed = program.place(_padded_sets(sets, padded_rows))


# --- training a stack --------------------------------------------------------------------------
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


def _column(name, columns=stack.FLOAT_COLUMNS):
    return columns.index(name)


def _stacked(values):
    return np.stack([np.asarray(v, np.float32) for v in values])


def initial_state(structure, requests):
    """The packed state (see :func:`stack.unpack_state`) a stack starts from: each model's
    fresh (or given) weights padded into the stack's shapes, fresh (or given) slots."""
    from .._network import initial_weights

    padded_network = structure.network
    weights, given_slots, counters = [], [], []
    for request in requests:
        start = request.start
        own = start.weights if start is not None else initial_weights(request.network, request.seed)
        weights.append(pad(request.network, padded_network, own))
        state = start.optimizer_state if start is not None else None
        given_slots.append(None if state is None else {
            name: np.concatenate([np.ravel(a) for a in arrays]) for name, arrays in state["slots"].items()})
        counters.append((0.0, 1.0) if state is None else (state["step"], state["u_product"]))
    params = [_stacked(values) for values in zip(*weights)]
    trainable = np.concatenate([p.reshape(len(p), -1) for w, p in zip(layout(padded_network), params)
                                if w.trainable], axis=1)
    frozen = [p.reshape(len(p), -1) for w, p in zip(layout(padded_network), params) if not w.trainable]
    frozen = np.concatenate(frozen, axis=1) if frozen else np.zeros((len(requests), 0), np.float32)
    slots = stack.initial_slots(structure, len(requests), trainable.shape[1])
    for m, own in enumerate(given_slots):
        for name, values in (own or {}).items():
            slots[name][m] = values
    names = stack.slot_names(structure)
    packed_slots = np.stack([slots[name] for name in names]) if names else \
        np.zeros((0,) + trainable.shape, np.float32)
    return trainable, packed_slots, frozen, np.asarray(counters, np.float32)


def model_weights(structure, real_network, trainable, frozen, m):
    """Model ``m``'s own weights (layout order, unpadded) from packed NumPy arrays."""
    shapes = [w.shape for w in structure.layout if not w.trainable]
    sizes = [int(np.prod(shape)) for shape in shapes]
    frozen_pieces = [piece.reshape((1,) + tuple(shape)) for piece, shape in
                     zip(np.split(frozen[m:m + 1], np.cumsum(sizes)[:-1], axis=1), shapes)] if sizes else []
    padded = stack.merge(structure, _unflatten(structure, trainable[m:m + 1]), frozen_pieces)
    return unpad(real_network, structure.network, [p[0] for p in padded])


class StackTrainer:
    """Train ``requests`` (stackable into ``program.structure``) with ``program``."""

    def __init__(self, program, requests):
        self.program, self.requests = program, requests
        self.structure = structure = program.structure
        self.runs = [ModelRun(r) for r in requests]
        self.train_data = StackData(program, requests, lambda r: (r.X, r.Y, r.W), structure.batch_size)
        self.columns = model_columns(structure, requests)
        self.validation = None
        if requests[0].validation is not None:
            self.validation = StackData(program, requests, lambda r: r.validation, 1)
            ints = self.columns["ints"].copy()
            ints[:, _column("source", stack.INT_COLUMNS)] = self.validation.source
            ints[:, _column("n_rows", stack.INT_COLUMNS)] = self.validation.n_rows
            order = np.tile(np.arange(self.validation.width, dtype=np.int32), (len(requests), 1))
            self.validation_plan = program.place((self.columns["floats"], ints, order))
        self.callbacks = None
        if requests[0].callbacks:
            request = requests[0]
            self.callbacks = KerasCallbacks(
                request.callbacks, request.network, request.training.solver,
                request.training.learning_rate_init, request.training.max_iter,
                steps=-(-request.X.shape[0] // structure.batch_size))

    def _epoch_plan(self):
        """The per-model arrays of this epoch: learning rates, who runs, each one's epoch."""
        data, runs = self.train_data, self.runs
        floats, ints = self.columns["floats"].copy(), self.columns["ints"].copy()
        floats[:, _column("learning_rate")] = [run.learning_rate for run in runs]
        floats[:, _column("running")] = [run.running for run in runs]
        ints[:, _column("source", stack.INT_COLUMNS)] = data.source
        ints[:, _column("n_rows", stack.INT_COLUMNS)] = data.n_rows
        ints[:, _column("epoch", stack.INT_COLUMNS)] = [run.epochs % 2**31 for run in runs]
        order = np.stack([run.order(n, data.width) for run, n in zip(runs, data.n_rows)])
        return floats, ints, order

    # -- the loop --------------------------------------------------------------------------
    def run(self):
        program, runs = self.program, self.runs
        state = program.place(initial_state(self.structure, self.requests))
        best = None
        if self.callbacks:
            self.callbacks.train_begin()
        epoch = 0
        while any(run.running for run in runs):
            for run in runs:
                if run.running and run.request.epoch_hook is not None:
                    run.request.epoch_hook.begin(run.n_iter)
            if self.callbacks:
                runs[0].learning_rate = self.callbacks.epoch_begin(epoch, runs[0].learning_rate)
            running = [run.running for run in runs]
            state, losses = program.train_epoch(state, self.train_data.placed,
                                                *program.place(self._epoch_plan()))
            losses = program.backend.to_numpy(losses)
            scores = validation_losses = [None] * len(runs)
            if self.validation is not None:
                scores, validation_losses = self._validate(state, running)
            improved = np.zeros(len(runs), bool)
            for m, run in enumerate(runs):
                if running[m]:
                    improved[m] = run.after_epoch(float(losses[m]), scores[m], validation_losses[m])
            if improved.any():
                current = [state[0], state[2]]
                best = program.select_improved(improved, current, current if best is None else best)
            stop = [False] * len(runs)
            if self.callbacks and runs[0].running:
                trainable, frozen = program.backend.to_numpy((state[0], state[2]))
                weights = model_weights(self.structure, self.requests[0].network, trainable, frozen, 0)
                runs[0].learning_rate = self.callbacks.epoch_end(
                    epoch, runs[0].history[-1], weights, runs[0].learning_rate)
                stop[0] = self.callbacks.stop_training
            for m, run in enumerate(runs):
                hook = run.request.epoch_hook
                if not running[m] or hook is None:
                    continue
                if run.error is not None:
                    hook.end(run.n_iter)  # the epoch diverged: it ends empty
                else:
                    stop[m] = bool(hook.end(run.n_iter - 1, dict(run.history[-1]),
                                            self._weights_fetcher(state, m))) or stop[m]
            for m, run in enumerate(runs):
                if running[m] and run.error is None:
                    run.decide(stop[m])
            epoch += 1
        return self._results(state, best)

    def _weights_fetcher(self, state, m):
        """A function giving model ``m``'s weights as they are in ``state`` now (call it
        before the next epoch: under JAX, an epoch reuses the state's buffers)."""
        trainable, frozen = state[0], state[2]
        network = self.requests[m].network
        return lambda: model_weights(self.structure, network,
                                     *self.program.backend.to_numpy((trainable, frozen)), m)

    def _validate(self, state, running):
        outputs, losses = self.program.evaluate(state, self.validation.placed, *self.validation_plan)
        outputs, losses = self.program.backend.to_numpy((outputs, losses))
        scores = [None] * len(self.runs)
        for m, request in enumerate(self.requests):
            if running[m]:
                X_val, Y_val, W_val = request.validation
                scores[m] = request.score(outputs[m, :len(X_val), :request.network.n_outputs],
                                          Y_val, W_val)
        return scores, [float(v) for v in losses]

    def _results(self, state, best):
        backend, structure = self.program.backend, self.structure
        trainable, slots, frozen, counters = backend.to_numpy(state)
        best = backend.to_numpy(best) if best is not None else None
        names = stack.slot_names(structure)
        results = []
        for m, (run, request) in enumerate(zip(self.runs, self.requests)):
            use_best = request.training.early_stopping and run.has_best
            kept = best if use_best else (trainable, frozen)
            weights = model_weights(structure, request.network, kept[0], kept[1], m)
            if self.callbacks:
                weights = self.callbacks.train_end(weights)
            own_slots = {name: self._trainable_of(slots[names.index(name)], m)
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


def final_check(request, weights, n_iter):
    """A fit's last check: the weights, and the outputs of a chunk of training rows, are
    finite (an epoch's loss is taken before its last update)."""
    if not all(np.all(np.isfinite(w)) for w in weights):
        return divergence(n_iter, "the weights became non-finite")
    with np.errstate(all="ignore"):
        outputs = forward(request.network, weights, request.X[:FINAL_CHECK_ROWS])
    if not np.all(np.isfinite(outputs)):
        return divergence(n_iter, "the network's outputs became non-finite")
    return None


# --- L-BFGS: one model, full batch -----------------------------------------------------------
def train_lbfgs(program, request):
    """Full-batch L-BFGS-B through :func:`scipy.optimize.minimize` with the network's gradient."""
    backend, structure, t = program.backend, program.structure, request.training
    trainable, slots, frozen, counters = initial_state(structure, [request])
    data = program.place({"X": request.X[None], "Y": request.Y[None], "W": request.W[None]})
    columns = model_columns(structure, [request])
    floats, ints = columns["floats"], columns["ints"]
    loss_curve = []

    def fun(flat):
        nonlocal frozen
        ints[:, _column("epoch", stack.INT_COLUMNS)] = len(loss_curve)  # the dropout stream
        state = program.place((flat[None].astype(np.float32), slots, frozen, counters))
        loss, gradient, frozen = backend.to_numpy(program.full_batch(state, data,
                                                                    *program.place((floats, ints))))
        loss = float(loss[0])
        loss_curve.append(loss)
        if t.verbose:
            print(f"Evaluation {len(loss_curve)}, loss = {loss:.8f}")
        return loss, np.asarray(gradient[0], np.float64)

    def weights_at(flat):
        return model_weights(structure, request.network, flat[None].astype(np.float32), frozen, 0)

    reporter = None
    if request.epoch_hook is not None:
        reporter = _IterationReporter(request.epoch_hook, weights_at, lambda: loss_curve[-1])
    try:
        with np.errstate(all="ignore"):
            outcome = scipy.optimize.minimize(
                fun, trainable[0].astype(np.float64), method="L-BFGS-B", jac=True,
                callback=reporter, options={"maxfun": t.max_fun, "maxiter": t.max_iter, "gtol": t.tol})
    except _StopRequested as stopped:
        outcome = scipy.optimize.OptimizeResult(x=stopped.x, fun=loss_curve[-1], nit=stopped.iterations,
                                                status=0, message="stopped by a callback")
    else:
        if reporter is not None:
            reporter.close()
    weights = weights_at(outcome.x)
    result = FitResult(weights=weights, optimizer_state=None, loss=float(outcome.fun),
                       loss_curve=loss_curve, best_loss=float(min(loss_curve)), n_iter=int(outcome.nit),
                       t=request.X.shape[0], history={"loss": list(loss_curve)},
                       jit_compile=structure.jit_compile)
    if not np.isfinite(outcome.fun):
        result.error = divergence(outcome.nit)
    elif outcome.status != 0:
        result.converged = False
        result.convergence_warning = (
            f"lbfgs failed to converge after {outcome.nit} iteration(s) (status={outcome.status}): "
            f"{outcome.message}. Increase the number of iterations (max_iter) or scale the data.")
    if result.error is None:
        result.error = final_check(request, weights, result.n_iter)
    return result


class _StopRequested(Exception):
    """Raised from SciPy's callback when the epoch hook stops L-BFGS (any SciPy version)."""

    def __init__(self, x, iterations):
        super().__init__("L-BFGS stopped by its epoch hook")
        self.x, self.iterations = x, iterations


class _IterationReporter:
    """SciPy's per-iteration ``callback`` as epoch-hook calls: each iteration begins
    before it runs and ends after it (the one begun last, which never runs, ends
    empty in :meth:`close`)."""

    def __init__(self, hook, weights_at, last_loss):
        self.hook, self.weights_at, self.last_loss = hook, weights_at, last_loss
        self.iteration = 0
        hook.begin(0)

    def __call__(self, xk):
        x = np.array(xk)
        stop = self.hook.end(self.iteration, {"loss": self.last_loss()}, lambda: self.weights_at(x))
        self.iteration += 1
        if stop:
            raise _StopRequested(x, self.iteration)
        self.hook.begin(self.iteration)

    def close(self):
        self.hook.end(self.iteration)
