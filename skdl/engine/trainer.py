"""Training a stack: the epoch loop, written once for every backend and stack size.

Each epoch is one compiled call for the whole stack; between calls the host
does for each model what scikit-learn's MLP does after an epoch (loss curve,
validation score, ``tol`` / ``n_iter_no_change``, the SGD learning-rate
schedules, early stopping's best weights, divergence) and takes the models
that stopped out of the next epoch's running set. A model that diverges is
frozen and reported; the others never see it.
"""

import math
import warnings

import numpy as np
import scipy.optimize

from .._network import forward, layout
from ..exceptions import DivergenceError
from . import stack
from .keras_callbacks import KerasCallbacks
from .request import FitResult

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
def _segments(network, weight, axis):
    """The (start, length) pieces of ``weight``'s ``axis`` that a network really has."""
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
    """For each axis of ``weight``, (padded slice, real slice) pairs of its real pieces."""
    pieces = []
    for axis in range(len(weight.shape)):
        pairs, start_real, start_padded = [], 0, 0
        for real_size, padded_size in zip(_segments(real, weight, axis), _segments(padded, weight, axis)):
            pairs.append((slice(start_padded, start_padded + real_size),
                          slice(start_real, start_real + real_size)))
            start_real += real_size
            start_padded += padded_size
        pieces.append(pairs)
    return pieces


def pad(real, padded, weights):
    """``weights`` of network ``real`` laid into the (wider) shapes of network ``padded``."""
    out = []
    for weight_real, weight_padded, value in zip(layout(real), layout(padded), weights):
        target = np.zeros(weight_padded.shape, np.float32)
        for index in _product(_slices(real, padded, weight_real)):
            target[tuple(p for p, _ in index)] = value[tuple(r for _, r in index)]
        out.append(target)
    return out


def unpad(real, padded, weights):
    """The inverse of :func:`pad`."""
    out = []
    for weight_real, value in zip(layout(real), weights):
        target = np.zeros(weight_real.shape, np.float32)
        for index in _product(_slices(real, padded, weight_real)):
            target[tuple(r for _, r in index)] = value[tuple(p for p, _ in index)]
        out.append(target)
    return out


def _product(axes):
    combos = [[]]
    for pairs in axes:
        combos = [c + [p] for c in combos for p in pairs]
    return combos


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

    def plan(self, orders, n_steps=None):
        plan = {"source": self.source, "n_rows": self.n_rows, "order": np.stack(orders)}
        if n_steps is not None:
            plan["n_steps"] = np.int32(n_steps)
        return plan


# --- training a stack --------------------------------------------------------------------------
def _stacked(values):
    return np.stack([np.asarray(v, np.float32) for v in values])


class StackTrainer:
    """Train ``requests`` (stackable into ``structure``) with ``program``."""

    def __init__(self, program, requests):
        self.program, self.requests = program, requests
        self.structure = structure = program.structure
        self.padded_network = structure.network
        self.runs = [ModelRun(r) for r in requests]
        self.train_data = StackData(program, requests, lambda r: (r.X, r.Y, r.W), structure.batch_size)
        self.validation = None
        if requests[0].validation is not None:
            self.validation = StackData(program, requests, lambda r: r.validation, 1)
        self.callbacks = None
        if requests[0].callbacks:
            request = requests[0]
            self.callbacks = KerasCallbacks(
                request.callbacks, request.network, request.training.solver,
                request.training.learning_rate_init, request.training.max_iter,
                steps=-(-request.X.shape[0] // structure.batch_size))
        self.constant_plan = self._constant_plan()

    # -- state in -------------------------------------------------------------------------
    def _initial_state(self):
        from .._network import initial_weights

        weights, slots, step, u_product = [], [], [], []
        for request in self.requests:
            start = request.start
            own = start.weights if start is not None else initial_weights(request.network, request.seed)
            weights.append(pad(request.network, self.padded_network, own))
            state = start.optimizer_state if start is not None else None
            slots.append(None if state is None else {
                name: np.concatenate([np.ravel(a) for a in arrays])
                for name, arrays in state["slots"].items()})
            step.append(0.0 if state is None else state["step"])
            u_product.append(1.0 if state is None else state["u_product"])
        params = [_stacked(values) for values in zip(*weights)]
        trainable = np.concatenate([p.reshape(len(p), -1) for w, p in zip(layout(self.padded_network), params)
                                    if w.trainable], axis=1)
        initial = stack.initial_slots(self.structure, len(self.requests), trainable.shape[1])
        for m, own in enumerate(slots):
            for name, values in (own or {}).items():
                initial[name][m] = values
        return {"trainable": trainable,
                "frozen": [p for w, p in zip(layout(self.padded_network), params) if not w.trainable],
                "slots": initial, "step": np.asarray(step, np.float32),
                "u_product": np.asarray(u_product, np.float32)}

    def _constant_plan(self):
        t = [r.training for r in self.requests]
        hyper = {name: np.asarray([getattr(x, name) for x in t], np.float32)
                 for name in ("momentum", "beta_1", "beta_2", "epsilon", "weight_decay", "alpha",
                              "l1", "dropout")}
        plan = {"hyper": hyper, "seeds": np.asarray([r.seed % 2**32 for r in self.requests], np.uint32)}
        if self.structure.padded:
            plan["unit_masks"] = [
                np.stack([(np.arange(width) < (r.network.hidden_layer_sizes[layer])).astype(np.float32)
                          for r in self.requests])
                for layer, width in enumerate(self.structure.widths)]
        return plan

    def _epoch_plan(self, data, orders, n_steps):
        plan = dict(self.constant_plan, **data.plan(orders, n_steps))
        plan["hyper"] = dict(plan["hyper"], learning_rate=np.asarray(
            [run.learning_rate for run in self.runs], np.float32))
        plan["running"] = np.asarray([run.running for run in self.runs])
        plan["epochs"] = np.asarray([run.epochs % 2**32 for run in self.runs], np.uint32)
        return plan

    # -- the loop --------------------------------------------------------------------------
    def run(self):
        program, runs, data = self.program, self.runs, self.train_data
        state = program.place(self._initial_state())
        best, batch_size = None, self.structure.batch_size
        if self.callbacks:
            self.callbacks.train_begin()
        epoch = 0
        while any(run.running for run in runs):
            for run in runs:
                if run.running and run.request.epoch_hook is not None:
                    run.request.epoch_hook.begin(run.n_iter)
            if self.callbacks:
                runs[0].learning_rate = self.callbacks.epoch_begin(epoch, runs[0].learning_rate)
            orders = [run.order(n, data.width) for run, n in zip(runs, data.n_rows)]
            n_steps = max(-(-int(n) // batch_size) for run, n in zip(runs, data.n_rows) if run.running)
            running = [run.running for run in runs]
            plan = program.place(self._epoch_plan(data, orders, n_steps))
            state, losses = program.train_epoch(state, data.placed, plan)
            losses = program.backend.to_numpy(losses)
            scores = validation_losses = [None] * len(runs)
            if self.validation is not None:
                scores, validation_losses = self._validate(state, running)
            improved = np.zeros(len(runs), bool)
            for m, run in enumerate(runs):
                if running[m]:
                    improved[m] = run.after_epoch(float(losses[m]), scores[m], validation_losses[m])
            if improved.any():
                current = [state["trainable"]] + list(state["frozen"])
                best = program.select_improved(improved, current, current if best is None else best)
            stop = [False] * len(runs)
            if self.callbacks and runs[0].running:
                weights = self._weights_of(program.backend.to_numpy(
                    [state["trainable"]] + list(state["frozen"])), 0)
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
        """A function giving model ``m``'s weights as they are in ``state`` now."""
        current = [state["trainable"]] + list(state["frozen"])
        return lambda: self._weights_of(self.program.backend.to_numpy(current), m)

    def _validate(self, state, running):
        data = self.validation
        orders = [np.arange(data.width, dtype=np.int32) for _ in self.runs]
        outputs, losses = self.program.evaluate(state["trainable"], state["frozen"], data.placed,
                                                data.plan(orders))
        outputs, losses = self.program.backend.to_numpy((outputs, losses))
        scores = [None] * len(self.runs)
        for m, request in enumerate(self.requests):
            if running[m]:
                X_val, Y_val, W_val = request.validation
                n_outputs = request.network.n_outputs
                scores[m] = request.score(outputs[m, :len(X_val), :n_outputs], Y_val, W_val)
        return scores, [float(v) for v in losses]

    def _weights_of(self, flat_and_frozen, m):
        """Model ``m``'s own weights (layout order, unpadded) from ``[trainable] + frozen``."""
        trainable, *frozen = flat_and_frozen
        padded = stack.merge(self.structure, _unflatten(self.structure, trainable[m:m + 1]),
                             [f[m:m + 1] for f in frozen])
        return unpad(self.requests[m].network, self.padded_network, [p[0] for p in padded])

    def _results(self, state, best):
        backend = self.program.backend
        current = backend.to_numpy([state["trainable"]] + list(state["frozen"]))
        slots = backend.to_numpy(state["slots"])
        step, u_product = backend.to_numpy((state["step"], state["u_product"]))
        best = backend.to_numpy(best) if best is not None else None
        results = []
        for m, (run, request) in enumerate(zip(self.runs, self.requests)):
            use_best = request.training.early_stopping and run.has_best
            weights = self._weights_of(best if use_best else current, m)
            if self.callbacks:
                weights = self.callbacks.train_end(weights)
            real_trainable = [w for w in layout(request.network) if w.trainable]
            optimizer_state = {
                "names": [w.name for w in real_trainable],
                "shapes": [w.shape for w in real_trainable],
                "solver": request.training.solver,
                "slots": {name: self._trainable_of(values, m) for name, values in slots.items()},
                "step": float(step[m]), "u_product": float(u_product[m]),
                "learning_rate": float(run.learning_rate)}
            if run.error is None:
                run.error = final_check(request, weights, run.n_iter)
            results.append(run.result(weights, optimizer_state))
        return results

    def _trainable_of(self, flat, m):
        """Model ``m``'s unpadded arrays shaped like its trainable weights, from a flat (M, P)."""
        padded = stack.merge(self.structure, _unflatten(self.structure, flat[m:m + 1]),
                             [np.zeros((1,) + w.shape, np.float32)
                              for w in layout(self.padded_network) if not w.trainable])
        network = self.requests[m].network
        return [value for w, value in zip(layout(network),
                                          unpad(network, self.padded_network, [p[0] for p in padded]))
                if w.trainable]


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
    network_layout = layout(request.network)
    weights = [np.array(w, np.float32)[None] for w in (
        request.start.weights if request.start is not None else _fresh(request))]
    trainable = np.concatenate([w.reshape(1, -1) for spec, w in zip(network_layout, weights)
                                if spec.trainable], axis=1)
    frozen = [w for spec, w in zip(network_layout, weights) if not spec.trainable]
    data = program.place({"X": request.X[None], "Y": request.Y[None], "W": request.W[None]})
    hyper = program.place({name: np.asarray([getattr(t, name)], np.float32)
                           for name in ("alpha", "l1", "dropout")})
    seeds = program.place(np.asarray([request.seed % 2**32], np.uint32))
    loss_curve = []

    def fun(flat):
        nonlocal frozen
        counters = program.place(np.asarray([len(loss_curve)], np.uint32))
        loss, gradient, frozen = backend.to_numpy(program.full_batch(
            program.place(flat[None].astype(np.float32)), program.place(frozen), data, hyper, seeds,
            counters))
        loss = float(loss[0])
        loss_curve.append(loss)
        if t.verbose:
            print(f"Evaluation {len(loss_curve)}, loss = {loss:.8f}")
        return loss, np.asarray(gradient[0], np.float64)

    def weights_at(flat):
        final = stack.merge(structure, _unflatten(structure, flat[None].astype(np.float32)), frozen)
        return [np.asarray(w[0], np.float32) for w in final]

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
                       t=request.X.shape[0], history={"loss": list(loss_curve)})
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


def _fresh(request):
    from .._network import initial_weights

    return initial_weights(request.network, request.seed)
