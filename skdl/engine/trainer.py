"""The host loop: training a stack epoch by epoch, written once for every stack.

A stack is what trains together: networks of skdl's estimators
(:class:`~skdl.engine.network_stack.NetworkStack`, any number, on TensorFlow
or JAX) or a user's compiled Keras model
(:class:`~skdl.engine.keras_model.KerasModelStack`, one). Each epoch is one
compiled call for the whole stack; between calls this loop tells each model's
run (:mod:`~skdl.engine.runs`: scikit-learn's rules or Keras') how the epoch
went, keeps the weights of those that improved, calls the Keras callbacks and
the epoch hooks, and takes the models that stopped out of the next epoch's
running set. A model that diverges is frozen and reported; the others never
see it.

A stack offers ``runs`` (one per model), ``callbacks`` (None or the bridge of
:mod:`~skdl.engine.keras_callbacks`), ``first_epoch`` (the index callbacks see
first) and ``initial_state()``, ``epoch(state) -> (state, outcomes)`` (each
model's outcome, what its run's ``after_epoch`` takes), ``keep_best(improved,
state, best)`` (needed only where a run reports improvements), ``weights_fetcher(state,
m)`` and ``results(state, best)`` (which ends the callbacks).
"""

import numpy as np


class StackTrainer:
    """Train ``stack`` until every one of its models has stopped, or until ``cancelled``
    (a :class:`threading.Event`) is set; returns its results. ``progress``, when given,
    hears after each epoch how many models trained it, and at the end the epochs that
    the models that stopped early left unused (so the counts add up to their budgets)."""

    def __init__(self, stack, cancelled=None, progress=None):
        self.stack, self.cancelled, self.progress = stack, cancelled, progress

    def run(self):
        stack = self.stack
        runs, callbacks = stack.runs, stack.callbacks
        state = stack.initial_state()
        best = None
        if callbacks:
            callbacks.train_begin()
        epoch = stack.first_epoch
        while any(run.running for run in runs):
            if self.cancelled is not None and self.cancelled.is_set():
                break
            for run in runs:
                if run.running and run.hook is not None:
                    run.hook.begin(run.n_iter)
            if callbacks:
                runs[0].learning_rate = callbacks.epoch_begin(epoch, runs[0].learning_rate)
            running = [run.running for run in runs]
            state, outcomes = stack.epoch(state)
            improved = np.zeros(len(runs), bool)
            for m, run in enumerate(runs):
                if running[m]:
                    improved[m] = run.after_epoch(*outcomes[m])
            if improved.any():
                best = stack.keep_best(improved, state, best)
            stop = [False] * len(runs)
            if callbacks and runs[0].running:
                runs[0].learning_rate = callbacks.epoch_end(
                    epoch, runs[0].history[-1], stack.weights_fetcher(state, 0),
                    runs[0].learning_rate)
                stop[0] = callbacks.stop_training
            for m, run in enumerate(runs):
                if not running[m] or run.hook is None:
                    continue
                if run.error is not None:
                    run.hook.end(run.n_iter)  # the epoch diverged: it ends empty
                else:
                    stop[m] = bool(run.hook.end(run.n_iter - 1, dict(run.history[-1]),
                                                stack.weights_fetcher(state, m))) or stop[m]
            for m, run in enumerate(runs):
                if running[m] and run.error is None:
                    run.decide(stop[m])
            if self.progress is not None:
                self.progress(sum(running))
            epoch += 1
        if self.progress is not None:
            self.progress(sum(max(0, _budget(run) - run.n_iter) for run in runs))
        return stack.results(state, best)


def _budget(run):
    """The epochs ``run`` may train (see :func:`skdl.engine.epochs`)."""
    training = getattr(run, "training", None)
    if training is None:
        return run.n_iter
    return 1 if run.request.incremental else training.max_iter
