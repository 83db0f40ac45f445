"""Classification targets, read once for skdl's MLP classifier and the Keras classifier wrapper:
the labels a first fit learns, and each row's code among them.

Examples
--------
>>> import numpy as np
>>> y = as_class_targets(["b", "a", "b"])
>>> labels, multilabel = class_labels(y)
>>> labels.tolist(), multilabel, class_codes(y, labels, multilabel).tolist()
(['a', 'b'], False, [1, 0, 1])
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d


def as_class_targets(y):
    """``y`` as an array: 1-D labels, or a 2-D label-indicator matrix (a single column is
    squeezed to 1-D, with scikit-learn's ``DataConversionWarning``)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    return y


def class_labels(y, classes=None, target_type=None):
    """``(labels, multilabel)`` a first fit on ``y`` learns, after scikit-learn's check of
    classification targets (``target_type``: ``y``'s ``type_of_target``, when the caller
    has checked it already): a label-indicator matrix's column numbers, else the sorted
    labels of ``y``, or of ``classes`` where given (``partial_fit``'s: they replace
    ``y``'s, as in scikit-learn and scikeras; a label of ``y`` outside them is refused by
    :func:`class_codes`)."""
    if target_type is None:
        check_classification_targets(y)
        target_type = type_of_target(y) if y.ndim == 2 else None
    multilabel = target_type == "multilabel-indicator"
    if multilabel:
        return np.arange(y.shape[1]), True
    return np.unique(y if classes is None else np.asarray(classes)), False


def class_codes(y, labels, multilabel, checked=True):
    """Each row's code among ``labels`` (None for a label-indicator matrix, whose width is
    checked); with ``checked``, a label not among them is refused with a ``ValueError``
    naming it (a first fit without ``classes`` may skip that: its labels are ``y``'s)."""
    if multilabel:
        if y.shape[1] != len(labels):
            raise ValueError(f"y has {y.shape[1]} labels; the model was fitted with "
                             f"{len(labels)}.")
        return None
    unseen = np.setdiff1d(y, labels) if checked else ()
    if len(unseen):
        raise ValueError(f"y contains labels not seen in the first call to fit or partial_fit "
                         f"(or its classes=): {unseen.tolist()}. Known classes: "
                         f"{labels.tolist()}.")
    return np.searchsorted(labels, y)
