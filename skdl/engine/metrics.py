"""Metrics a stack tracks besides its loss, as ``keras.Model.fit`` reports them.

A metric is a per-row value summed over an epoch's rows and divided by their
weight: Keras' training metrics are such running means over the epoch's
minibatches (each taken before the minibatch's update), and its validation
metrics the same over the held-out rows. ``root_mean_squared_error`` takes the
square root of the mean at the end, as ``keras.metrics.RootMeanSquaredError``.
Written once for ``keras.ops`` and NumPy (``xp``).
"""

import numpy as np

#: The metrics a stack computes, by the engine's names.
METRICS = ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "accuracy")


def row_values(name, task, y, outputs, xp):
    """Each row's ``name`` (..., B) from its targets and the network's outputs
    (probabilities for a classifier)."""
    if name == "accuracy":
        if task == "multiclass":  # class codes against the most probable class
            return _as_float(xp.equal(xp.argmax(outputs, axis=-1), _as_int(y, xp)), xp)
        # a probability above 0.5, as keras.metrics.binary_accuracy thresholds it
        return xp.mean(_as_float(xp.equal(_as_float(outputs > 0.5, xp), y), xp), axis=-1)
    error = outputs - y
    if name == "mean_absolute_error":
        return xp.mean(xp.abs(error), axis=-1)
    return xp.mean(xp.square(error), axis=-1)


def totals(names, task, y, outputs, w, xp):
    """Each metric's weighted sum over the rows (..., len(names)): ``w`` (..., B) weighs
    each row (zero for padding)."""
    return xp.stack([xp.sum(row_values(name, task, y, outputs, xp) * w, axis=-1)
                     for name in names], axis=-1)


def _as_float(array, xp):
    return array.astype(np.float32) if xp is np else xp.cast(array, "float32")


def _as_int(array, xp):
    return array.astype(np.int64) if xp is np else xp.cast(array, "int32")


def finished(name, mean):
    """The metric from its weighted mean over the rows."""
    return float(np.sqrt(mean)) if name == "root_mean_squared_error" else float(mean)
