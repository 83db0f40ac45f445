"""The epoch loop, written once for every backend.

It drives a borrowed :class:`~skdl.engine.Program`: one compiled call per
epoch, then the per-epoch bookkeeping scikit-learn's MLP does (loss curve,
validation score, ``tol`` / ``n_iter_no_change`` stopping, the SGD learning
rate schedules, best-weight restoration) and Keras callbacks.
"""

import warnings
from dataclasses import dataclass, field

import keras
import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import DivergenceError


@dataclass
class Schedule:
    """The SGD learning-rate schedule of scikit-learn's MLP."""

    kind: str = "constant"
    learning_rate_init: float = 1e-3
    power_t: float = 0.5
    applies: bool = False  # scikit-learn applies schedules to solver="sgd" only

    def after_epoch(self, program, t):
        if self.applies and self.kind == "invscaling":
            program.set_learning_rate(self.learning_rate_init / (t + 1) ** self.power_t)

    def on_plateau(self, program, current):
        """Return the new learning rate, or None to stop training."""
        if not (self.applies and self.kind == "adaptive") or current <= 1e-6:
            return None
        program.set_learning_rate(current / 5.0)
        return current / 5.0


@dataclass
class History:
    """Per-epoch logs, the ones Keras callbacks receive (``loss``, ``val_loss``, ...)."""

    epochs: list = field(default_factory=list)

    def record(self, logs):
        self.epochs.append(dict(logs))

    def as_dict(self):
        keys = dict.fromkeys(k for logs in self.epochs for k in logs)
        return {k: [logs.get(k, np.nan) for logs in self.epochs] for k in keys}


@dataclass
class Outcome:
    loss: float
    loss_curve: list
    n_iter: int
    t: int
    best_loss: float | None
    validation_scores: list | None
    best_validation_score: float | None
    history: History
    no_improvement_count: int = 0


def _check_finite(loss, epoch):
    if not np.isfinite(loss):
        raise DivergenceError(
            f"Training diverged: the loss became {loss} at epoch {epoch}. Lower "
            "'learning_rate_init', scale the inputs (e.g. StandardScaler) or add "
            "regularisation (alpha). The estimator keeps its previous state."
        )


def run_stochastic(program, train, n_train, *, validation=None, score_validation=None,
                   max_iter, batch_size, shuffle, seed, schedule, tol, n_iter_no_change,
                   early_stopping, callbacks=None, verbose=False, t0=0, n_iter0=0,
                   incremental=False, metric_name=None):
    """Train ``program`` epoch by epoch; returns an :class:`Outcome`.

    ``validation`` is a placed data handle and ``score_validation`` a function
    of no argument giving the validation score of the program's current
    weights; with ``early_stopping`` the best-scoring weights are restored.
    """
    history = History()
    callback_list = keras.callbacks.CallbackList(
        list(callbacks or []), model=program.model, add_history=False, add_progbar=False,
        epochs=max_iter, verbose=0, steps=max(1, -(-n_train // batch_size)))
    program.model.stop_training = False
    loss_curve, validation_scores = [], [] if validation is not None else None
    best_loss, best_score, best_weights = np.inf, -np.inf, None
    no_improvement, t, n_iter, loss = 0, t0, n_iter0, np.nan
    learning_rate = schedule.learning_rate_init
    callback_list.on_train_begin()
    for epoch in range(max_iter):
        callback_list.on_epoch_begin(epoch)
        loss = program.train_epoch(train, (seed, n_iter), batch_size, shuffle)
        _check_finite(loss, n_iter + 1)
        n_iter, t = n_iter + 1, t + n_train
        loss_curve.append(loss)
        logs = {"loss": loss}
        if validation is not None:
            score = score_validation()
            validation_scores.append(score)
            logs["val_loss"] = program.evaluate(validation)
            logs["val_score"] = score
            if metric_name:
                logs["val_" + metric_name] = score
        if verbose:
            print(f"Iteration {n_iter}, loss = {loss:.8f}"
                  + (f", validation score = {logs['val_score']:.6f}" if validation is not None else ""))
        if early_stopping:
            current = validation_scores[-1]
            no_improvement = no_improvement + 1 if current < best_score + tol else 0
            if current > best_score:
                best_score, best_weights = current, program.get_weights()
        else:
            no_improvement = no_improvement + 1 if loss > best_loss - tol else 0
            best_loss = min(best_loss, loss)
        schedule.after_epoch(program, t)
        history.record(logs)
        callback_list.on_epoch_end(epoch, logs)
        if program.model.stop_training:
            break
        if no_improvement > n_iter_no_change:
            lowered = schedule.on_plateau(program, learning_rate)
            if lowered is None:
                if verbose:
                    what = "Validation score" if early_stopping else "Training loss"
                    print(f"{what} did not improve more than tol={tol} for "
                          f"{n_iter_no_change} consecutive epochs. Stopping.")
                break
            learning_rate, no_improvement = lowered, 0
        if incremental:
            break
    else:
        if not incremental:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning)
    callback_list.on_train_end()
    for callback in callbacks or []:
        # The network belongs to a shared program: don't let the estimator's
        # parameters (and so its pickles and clones) keep a reference to it.
        callback.set_model(None)
    if early_stopping and best_weights is not None:
        program.set_weights(best_weights)
    return Outcome(
        loss=loss, loss_curve=loss_curve, n_iter=n_iter, t=t,
        best_loss=None if early_stopping else best_loss,
        validation_scores=validation_scores,
        best_validation_score=max(validation_scores) if validation_scores else None,
        history=history, no_improvement_count=no_improvement)


def run_lbfgs(program, train, n_train, *, max_iter, max_fun, tol, verbose=False):
    """Full-batch L-BFGS-B through :func:`scipy.optimize.minimize` with the network's gradient."""
    variables = program.model.trainable_variables
    index = [id(v) for v in program.model.weights]
    positions = [index.index(id(v)) for v in variables]
    shapes = [tuple(v.shape) for v in variables]
    sizes = [int(np.prod(s)) for s in shapes]
    loss_curve = []

    def unpack(flat):
        weights = program.get_weights()
        offset = 0
        for position, shape, size in zip(positions, shapes, sizes):
            weights[position] = flat[offset:offset + size].reshape(shape).astype("float32")
            offset += size
        return weights

    def fun(flat):
        program.set_weights(unpack(flat))
        loss, grads = program.value_and_grad(train)
        loss_curve.append(loss)
        if verbose:
            print(f"Evaluation {len(loss_curve)}, loss = {loss:.8f}")
        return loss, np.concatenate([g.ravel() for g in grads]).astype("float64")

    start = program.get_weights()
    x0 = np.concatenate([start[p].ravel() for p in positions]).astype("float64")
    result = scipy.optimize.minimize(
        fun, x0, method="L-BFGS-B", jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol})
    _check_finite(result.fun, result.nit)
    program.set_weights(unpack(result.x))
    if result.status != 0:
        warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                      f"(status={result.status}): {result.message}. Increase the number of "
                      "iterations (max_iter) or scale the data.", ConvergenceWarning)
    history = History()
    for loss in loss_curve:
        history.record({"loss": loss})
    return Outcome(loss=float(result.fun), loss_curve=loss_curve, n_iter=int(result.nit),
                   t=n_train, best_loss=float(min(loss_curve)), validation_scores=None,
                   best_validation_score=None, history=history)
