"""scikit-learn's callback API (:mod:`sklearn.callback`, scikit-learn >= 1.9) for skdl's fits.

A fit is a task of scikit-learn's callback tree and each epoch (an L-BFGS
iteration for ``solver="lbfgs"``) one of its subtasks: callbacks set with
``set_callbacks`` on the estimator, or on a search or pipeline around it,
hear ``on_fit_task_begin`` / ``on_fit_task_end`` for each, and one returning
True at an epoch's end stops training there. The engine knows nothing of
scikit-learn: it calls the request's epoch hook (:class:`EpochReporter`).

On scikit-learn < 1.9 (no :mod:`sklearn.callback`) the mixin is empty, so
the estimators have no ``set_callbacks``, and nothing here runs.

scikit-learn's private names used here, in one place (``tests/test_callbacks.py``
checks that they exist): ``_init_callback_context``, the method its
estimators call at the start of ``fit`` (documented for estimator authors),
and ``_skl_callbacks``, where ``set_callbacks`` keeps the callbacks (and
``clone`` copies them from).
"""

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9
    HAS_CALLBACK_API = False

    class CallbackSupportMixin:
        """scikit-learn < 1.9 has no callback API: nothing to add."""

    def with_callbacks(method):
        return method
else:
    HAS_CALLBACK_API = True

__all__ = ["CallbackSupportMixin", "with_callbacks", "HAS_CALLBACK_API", "callbacks_of",
           "has_callbacks", "fit_context", "EpochReporter"]

#: Where ``set_callbacks`` keeps an estimator's callbacks.
CALLBACKS_ATTRIBUTE = "_skl_callbacks"


def callbacks_of(estimator):
    """The scikit-learn callbacks set on (or propagated to) ``estimator``."""
    return list(vars(estimator).get(CALLBACKS_ATTRIBUTE, ()))


def has_callbacks(estimator):
    """Whether ``estimator``, or an estimator among its (nested) parameters, has callbacks."""
    if callbacks_of(estimator):
        return True
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    return any(hasattr(value, "__dict__") and callbacks_of(value) for value in params.values())


def fit_context(estimator, max_subtasks):
    """Open ``estimator``'s callback context for this fit (None without the API).

    Call it at the start of a method wrapped by ``with_callbacks``, which tears
    the callbacks down when the method ends, whether it succeeds or fails.
    """
    if not HAS_CALLBACK_API:
        return None
    return estimator._init_callback_context(max_subtasks=max_subtasks)


class EpochReporter:
    """The engine's epoch hook for one fit: each epoch is a subtask of the fit's context.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted (what the hooks receive as ``estimator``).
    context : sklearn.callback.CallbackContext
        The fit's context, from :func:`fit_context`.
    task_name : str
        The name of each epoch's task ("epoch", or "lbfgs-iter" as scikit-learn's
        ``LogisticRegression`` names its L-BFGS iterations).
    data : dict
        ``X``, ``y`` and ``metadata`` handed to the hooks.
    fitted_attributes : callable
        ``(epoch, logs, weights) -> dict``: the attributes that make a copy of the
        estimator predict as the model stands (evaluated only when a callback
        asks for ``fitted_estimator``).
    """

    def __init__(self, estimator, context, task_name, data, fitted_attributes):
        self.estimator, self.context, self.task_name = estimator, context, task_name
        self.data, self.fitted_attributes = data, fitted_attributes
        self.task = None

    def begin(self, epoch):
        self.task = self.context.subcontext(task_name=self.task_name)
        self.task.call_on_fit_task_begin(estimator=self.estimator, **self.data)

    def end(self, epoch, logs=None, weights=None):
        """Report the epoch's end; returns whether a callback asks to stop."""
        task, self.task = self.task, None
        if logs is None:  # begun, never run
            return task.call_on_fit_task_end(estimator=self.estimator)
        return task.call_on_fit_task_end(
            estimator=self.estimator, **self.data,
            reconstruction_attributes=lambda: self.fitted_attributes(epoch, logs, weights()))
