"""Training a finished fit further: a longer epoch budget continues a shorter one.

With the same seed, a model's minibatch shuffles (their stream's state is
part of the result), dropout draws and learning rate schedule depend only on
how many epochs and samples it has seen, so
training ``n`` epochs and then ``m`` more from the weights, optimizer state and
stopping bookkeeping where the first ``n`` ended trains the same network as
``n + m`` epochs at once (to float32 rounding). A halving search over
``max_iter`` uses it: each round's survivors continue instead of retraining.
"""

import dataclasses

from .request import Start
from .runs import max_iter_warning


def continuation(request, result, max_iter):
    """How ``request``, trained into ``result``, reaches ``max_iter`` epochs.

    Returns ``("same", result)`` when ``result`` is already what ``max_iter``
    epochs give (the fit stopped or diverged before its budget ran out), ``("more",
    request)`` with the request that trains the missing epochs from where
    ``result`` ended, or ``("retrain", None)`` when it cannot continue (early
    stopping keeps its best epoch's weights, not the last's, and Keras' its patience;
    L-BFGS and Keras callbacks keep state of their own).
    """
    t = request.training
    if result.error is not None or result.converged or result.n_iter < t.max_iter:
        return "same", result
    if (t.early_stopping or t.keras_stopping or t.keras_plateau or t.solver == "lbfgs" or request.callbacks
            or request.incremental or request.start is not None
            or result.optimizer_state is None or max_iter <= result.n_iter):
        return "retrain", None
    start = Start(result.weights, result.optimizer_state, epochs=result.n_iter, samples=result.t,
                  no_improvement=result.no_improvement,
                  best_loss=float("inf") if result.best_loss is None else result.best_loss,
                  shuffles=result.shuffles)
    training = dataclasses.replace(t, max_iter=max_iter - result.n_iter, executor=result.executor)
    return "more", dataclasses.replace(request, training=training, start=start)


def continued(first, more, max_iter):
    """One result from ``first`` and ``more``, the epochs that continued it, as if one
    fit of ``max_iter`` epochs had trained them all."""
    history = {key: first.history.get(key, []) + more.history.get(key, [])
               for key in dict.fromkeys(list(first.history) + list(more.history))}
    scores = None
    if first.validation_scores is not None:
        scores = list(first.validation_scores) + list(more.validation_scores or [])
    return dataclasses.replace(
        more, loss_curve=list(first.loss_curve) + list(more.loss_curve),
        validation_scores=scores, best_validation_score=max(scores) if scores else None,
        n_iter=first.n_iter + more.n_iter, history=history,
        convergence_warning=None if more.converged else max_iter_warning(max_iter))
