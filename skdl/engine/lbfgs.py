"""L-BFGS: one network, full batch, through SciPy.

scikit-learn's ``solver="lbfgs"`` minimises the whole training loss with
:func:`scipy.optimize.minimize`; so does this, with the loss and gradient of
the network from its compiled program (a stack of one).
"""

import numpy as np
import scipy.optimize

from . import stack
from .network_stack import column, final_check, initial_state, model_columns, model_weights
from .request import FitResult
from .runs import divergence


def train_lbfgs(program, request):
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

