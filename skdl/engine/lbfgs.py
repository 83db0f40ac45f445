"""L-BFGS: full batch, through SciPy, one network or a stack of them.

scikit-learn's ``solver="lbfgs"`` minimises the whole training loss with
:func:`scipy.optimize.minimize`; so does this, with the loss and gradient of
the network from its program. A stack of networks on the host runs one
SciPy minimisation per network, each with its own iterations, line search
and stopping, in a thread of its own; their objectives are evaluated
together, one call of the stack's program for all the networks waiting for
theirs (:class:`_Rounds`).
"""

import threading

import numpy as np
import scipy.optimize

from . import stack
from .network_stack import column, final_check, initial_state, model_columns, model_weights
from .request import FitResult
from .runs import divergence


def train_lbfgs(program, requests):
    """Full-batch L-BFGS-B of each of ``requests`` (a stack of ``program``'s structure);
    their results, in order. On the host, the networks train together
    (:func:`_train_together`); compiled, one after another."""
    if len(requests) > 1 and program.structure.host:
        return _train_together(program, requests)
    return [_train_one(program, request) for request in requests]


def _train_together(program, requests):
    """The networks of ``requests`` minimised side by side, each by SciPy in its thread,
    their objectives evaluated together, on the rows each trains on (shorter ones padded
    with rows of no weight)."""
    structure = program.structure
    trainable, _, frozen, _ = initial_state(structure, requests)
    columns = model_columns(structure, requests)
    floats, ints = columns["floats"], columns["ints"]
    n_rows = max(r.n_samples for r in requests)
    X = np.zeros((len(requests), n_rows, structure.n_features), np.float32)
    Y = np.zeros((len(requests), n_rows) + requests[0].Y.shape[1:], requests[0].Y.dtype)
    W, real = np.zeros((2, len(requests), n_rows), np.float32)
    for m, request in enumerate(requests):
        X[m, :request.n_samples], Y[m, :request.n_samples] = request.training_inputs(), request.Y
        W[m, :request.n_samples], real[m, :request.n_samples] = request.W, 1.0
    epoch = column("epoch", stack.INT_COLUMNS)

    def evaluate(round_, flats):
        members = sorted(flats)
        every = len(members) == len(requests)
        pick = slice(None) if every else np.array(members)
        ints[:, epoch] = round_  # the dropout stream: each network's evaluations so far
        data = {"X": X[pick], "Y": Y[pick], "W": W[pick], "real": real[pick]}
        state = (np.stack([flats[m] for m in members]).astype(np.float32), None, frozen, None)
        losses, gradients, _ = program.full_batch(state, data, floats[pick], ints[pick])
        return {m: (float(losses[k]), np.asarray(gradients[k], np.float64))
                for k, m in enumerate(members)}

    rounds = _Rounds(evaluate, len(requests))
    outcomes, failures = [None] * len(requests), []

    def minimise(m):
        curve = []

        def fun(flat):
            loss, gradient = rounds.ask(m, flat)
            curve.append(loss)
            return loss, gradient

        t = requests[m].training
        try:
            with np.errstate(all="ignore"):
                outcomes[m] = (_minimise(fun, trainable[m], t), curve)
        except BaseException as error:  # noqa: BLE001 - raised below, in the caller's thread
            failures.append(error)
        finally:
            rounds.leave(m)

    threads = [threading.Thread(target=minimise, args=(m,), name=f"skdl-lbfgs-{m}")
               for m in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rounds.check()
    if failures:
        raise failures[0]
    return [_result(structure, request, outcome, curve,
                    model_weights(structure, request.network, outcome.x[None].astype(np.float32),
                                  frozen, 0))
            for request, (outcome, curve) in zip(requests, outcomes)]


class _Rounds:
    """Objective evaluations shared by networks minimised in threads: each network asks
    for its objective (:meth:`ask`) and waits; when every network still minimising has
    asked, the last one to ask evaluates them all with one call of
    ``evaluate(round, {network: flat weights})`` and wakes the others. A network that
    is done leaves (:meth:`leave`)."""

    def __init__(self, evaluate, networks):
        self._evaluate, self._active = evaluate, set(range(networks))
        self._asked, self._answers, self._error, self._round = {}, {}, None, 0
        self._condition = threading.Condition()

    def ask(self, network, flat):
        """``(loss, gradient)`` of ``network`` at ``flat``."""
        with self._condition:
            self._asked[network] = flat
            self._evaluate_when_all_asked()
            while network not in self._answers:
                if self._error is not None:
                    raise RuntimeError("another network's objective failed") from self._error
                self._condition.wait()
            return self._answers.pop(network)

    def leave(self, network):
        with self._condition:
            self._active.discard(network)
            self._evaluate_when_all_asked()

    def check(self):
        """Raise the error an evaluation raised, if any."""
        if self._error is not None:
            raise self._error

    def _evaluate_when_all_asked(self):
        if not self._asked or len(self._asked) < len(self._active):
            return
        asked, self._asked = self._asked, {}
        try:
            self._answers.update(self._evaluate(self._round, asked))
        except BaseException as error:  # noqa: BLE001 - every waiting thread re-raises it
            self._error = error
        self._round += 1
        self._condition.notify_all()


def _train_one(program, request):
    """Full-batch L-BFGS-B through :func:`scipy.optimize.minimize` with the network's gradient."""
    backend, structure, t = program.backend, program.structure, request.training
    trainable, slots, frozen, counters = initial_state(structure, [request])
    data = program.place({"X": request.training_inputs(), "Y": request.Y[None], "W": request.W[None]})
    columns = model_columns(structure, [request])
    floats, ints = columns["floats"], columns["ints"]
    loss_curve = []

    def fun(flat):
        nonlocal frozen
        ints[:, column("epoch", stack.INT_COLUMNS)] = len(loss_curve)  # the dropout stream
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
            outcome = _minimise(fun, trainable[0], t, reporter)
    except _StopRequested as stopped:
        outcome = scipy.optimize.OptimizeResult(x=stopped.x, fun=loss_curve[-1], nit=stopped.iterations,
                                                status=0, message="stopped by a callback")
    else:
        if reporter is not None:
            reporter.close()
    return _result(structure, request, outcome, loss_curve, weights_at(outcome.x))


def _minimise(fun, start, training, callback=None):
    """SciPy's L-BFGS-B of ``fun`` (loss and gradient) from the flat weights ``start``, with
    scikit-learn's options from ``training`` (a :class:`~skdl.engine.TrainingSpec`)."""
    return scipy.optimize.minimize(
        fun, start.astype(np.float64), method="L-BFGS-B", jac=True, callback=callback,
        options={"maxfun": training.max_fun, "maxiter": training.max_iter, "gtol": training.tol})


def _result(structure, request, outcome, loss_curve, weights):
    """The :class:`FitResult` of SciPy's ``outcome`` for ``request``."""
    result = FitResult(weights=weights, optimizer_state=None, loss=float(outcome.fun),
                       loss_curve=loss_curve, best_loss=float(min(loss_curve)), n_iter=int(outcome.nit),
                       t=request.n_samples, history={"loss": list(loss_curve)},
                       jit_compile=structure.jit_compile,
                       executor="numpy" if structure.host else "compiled")
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

