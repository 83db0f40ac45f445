"""What the host loop tracks for each model of a stack between epochs.

A run decides, after each epoch, what goes into the model's history and
whether it trains another epoch. :class:`ModelRun` follows scikit-learn's
MLP (loss curve, validation score, ``tol`` / ``n_iter_no_change``, the SGD
learning-rate schedules, early stopping, ``max_iter``, divergence), or for a
request under Keras' rules, ``keras.Model.fit``'s epochs and
``keras.callbacks.EarlyStopping`` and ``ReduceLROnPlateau``; :class:`KerasRun` follows
``keras.Model.fit`` for a user's own compiled model (a fixed number of epochs
from ``initial_epoch``, every metric in the logs, ``model.stop_training``).
"""

import numpy as np

from ..exceptions import DivergenceError
from .request import FitResult


def divergence(epoch, what="the loss became non-finite"):
    """The error a model that diverged at ``epoch`` reports."""
    return DivergenceError(
        f"Training diverged: {what} at epoch {epoch}. Lower 'learning_rate_init', scale the "
        "inputs (e.g. StandardScaler) or add regularisation (alpha). The estimator keeps its "
        "previous state.")


def max_iter_warning(max_iter):
    """scikit-learn's warning for a stochastic fit that ran out of epochs."""
    return (f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
            "optimization hasn't converged yet.")


def _improved(current, best, rule):
    """Keras' ``MonitorCallback._is_improvement``: ``current`` beats ``best`` (None: nothing
    yet) by more than ``rule.min_delta`` in ``rule.mode``'s direction."""
    if best is None:
        return True
    if rule.mode == "max":
        return current - rule.min_delta > best
    return current + rule.min_delta < best


class ModelRun:
    """One network of a stack under scikit-learn's rules, from its :class:`FitRequest`."""

    def __init__(self, request):
        t, start = request.training, request.start
        self.request, self.training = request, t
        self.hook = request.epoch_hook
        self.learning_rate = t.learning_rate_init
        self.epochs = start.epochs if start is not None else 0  # seeds each epoch's shuffle
        self.n_iter = 0  # this call's epochs, as scikit-learn's n_iter_ (partial_fit: 1)
        self.t = start.samples if start is not None else 0
        self.loss_curve, self.history = [], []
        self.validation_scores = [] if request.validation is not None else None
        self.best_loss, self.best_score, self.has_best = np.inf, -np.inf, False
        self.no_improvement = 0
        self.monitored_best, self.wait, self.stopping = None, 0, False  # Keras' EarlyStopping
        self.plateau_best, self.plateau_wait, self.cooldown = None, 0, 0  # ReduceLROnPlateau
        if start is not None:
            self.best_loss, self.best_score = start.best_loss, start.best_score
            self.no_improvement = start.no_improvement
            self.learning_rate = (start.optimizer_state or {}).get("learning_rate", self.learning_rate)
        self.running, self.converged, self.error, self.loss = True, True, None, np.nan
        self.convergence_warning = None
        self.shuffle_stream, self.sample_idx = None, None
        state = request.shuffles
        if start is not None and start.shuffles is not None:
            state, self.sample_idx = start.shuffles
        if state is not None:
            self.shuffle_stream = np.random.RandomState()
            self.shuffle_stream.set_state(state)

    def order(self, n_rows, width):
        """This epoch's row order, padded to ``width``: scikit-learn's (each epoch shuffles
        the previous epoch's order with the request's stream), or without a stream, a
        permutation drawn from the seed and the epoch's number. Called once per epoch."""
        order = np.zeros(width, np.int32)
        if not self.training.shuffle:
            order[:n_rows] = np.arange(n_rows)
        elif self.shuffle_stream is not None:
            if self.sample_idx is None:
                self.sample_idx = np.arange(n_rows)
            # sklearn.utils.shuffle(sample_idx, random_state=stream), as its MLP's epochs call it.
            permutation = np.arange(n_rows)
            self.shuffle_stream.shuffle(permutation)
            self.sample_idx = self.sample_idx[permutation]
            order[:n_rows] = self.sample_idx
        else:
            order[:n_rows] = np.random.default_rng([self.request.seed, self.epochs]).permutation(n_rows)
        return order

    def shuffles(self):
        """Where this model's shuffles stand (see :class:`~skdl.engine.request.Start`)."""
        if self.shuffle_stream is None:
            return None
        return self.shuffle_stream.get_state(), self.sample_idx

    def after_epoch(self, loss, score=None, validation_loss=None, metrics=None):
        """Record an epoch; returns whether its weights are the best so far (early stopping).
        ``metrics``: the epoch's logs of the metrics its training tracks."""
        t, request = self.training, self.request
        if not np.isfinite(loss) and not t.early_stopping:
            self.error, self.running = divergence(self.n_iter + 1, f"the loss became {loss}"), False
            return False
        # With early stopping, a non-finite epoch is recorded as scikit-learn's MLP records
        # it (its NaN validation score never improves, and resets the patience count, as
        # there) and training goes on; the best epoch's weights are kept.
        self.epochs, self.n_iter = self.epochs + 1, self.n_iter + 1
        self.t += request.n_samples
        self.loss = loss
        self.loss_curve.append(loss)
        logs = {"loss": loss}
        if request.validation is not None:
            self.validation_scores.append(score)
            logs.update(val_loss=validation_loss, val_score=score)
            if request.metric_name:
                logs["val_" + request.metric_name] = score
        logs.update(metrics or {})
        if t.verbose:
            print(f"Iteration {self.n_iter}, loss = {loss:.8f}")
            if score is not None:
                print(f"Validation score: {score:f}")
        improved = False
        if t.rules == "keras":
            if t.keras_plateau is not None:
                logs["learning_rate"] = float(np.float32(self.learning_rate))
                self._reduce_on_plateau(logs)
            improved = self._keras_stopping(logs)
        elif t.early_stopping:
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

    def _keras_stopping(self, logs):
        """``keras.callbacks.EarlyStopping.on_epoch_end``; returns whether the
        epoch's weights are the ones to restore at the end."""
        rule = self.training.keras_stopping
        current = None if rule is None else logs.get(rule.monitor)
        if current is None:
            return False
        self.wait += 1
        if _improved(current, self.monitored_best, rule):
            self.monitored_best, self.wait = current, 0
            self.has_best = self.has_best or rule.restore_best_weights
            return rule.restore_best_weights
        # Keras' ``epoch > 0``: a fit under Keras' rules counts its epochs from 0.
        self.stopping = self.wait >= rule.patience and self.n_iter > 1
        return False

    def _reduce_on_plateau(self, logs):
        """``keras.callbacks.ReduceLROnPlateau.on_epoch_end``: the next
        epoch's learning rate."""
        rule = self.training.keras_plateau
        current = logs.get(rule.monitor)
        if current is None:
            return
        if self.cooldown > 0:
            self.cooldown, self.plateau_wait = self.cooldown - 1, 0
        if _improved(current, self.plateau_best, rule):
            self.plateau_best, self.plateau_wait = current, 0
        elif self.cooldown == 0:
            self.plateau_wait += 1
            rate = float(np.float32(self.learning_rate))  # as Keras reads its variable
            if self.plateau_wait >= rule.patience and rate > np.float32(rule.min_lr):
                self.learning_rate = max(rate * rule.factor, rule.min_lr)
                self.cooldown, self.plateau_wait = rule.cooldown, 0

    def decide(self, stop_requested=False):
        """After the epoch's callbacks: stop now or go on."""
        t = self.training
        if stop_requested or self.stopping:
            self.running = False
        elif t.rules == "keras":
            pass
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
            if t.rules == "scikit-learn":
                self.convergence_warning = max_iter_warning(t.max_iter)

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
            error=self.error, no_improvement=self.no_improvement, shuffles=self.shuffles())


class KerasRun:
    """A user's Keras model under ``keras.Model.fit``'s rules: epochs ``initial_epoch``
    to ``initial_epoch + epochs - 1``, unless a callback sets ``model.stop_training``.

    Its logs are the model's own (every metric, ``val_`` ones after validation);
    a non-finite loss is the caller's to judge, as after ``model.fit``.
    """

    hook = None
    learning_rate = None  # the model's optimizer holds it

    def __init__(self, initial_epoch, epochs):
        self.epoch, self.last = initial_epoch, initial_epoch + epochs
        self.n_iter, self.history, self.error = 0, [], None
        self.running = epochs > 0

    def after_epoch(self, logs):
        self.history.append(logs)
        self.epoch, self.n_iter = self.epoch + 1, self.n_iter + 1
        return False  # no weights of its own to keep: EarlyStopping restores them itself

    def decide(self, stop_requested=False):
        self.running = not stop_requested and self.epoch < self.last
