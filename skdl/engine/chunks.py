"""Predicting in chunks of one fixed shape."""

import numpy as np

#: Rows per compiled predict call.
PREDICT_CHUNK = 256


def fixed_chunks(X, size=PREDICT_CHUNK):
    """The rows of ``X`` in chunks of exactly ``size`` rows, the last one zero-padded.

    Compiled predict functions take one fixed shape, so that a row's output
    never depends on how many rows came with it (the kernels a backend
    picks, and so the float32 rounding, vary with the shape).

    Examples
    --------
    >>> import numpy as np
    >>> from skdl.engine.chunks import fixed_chunks
    >>> [chunk.shape for chunk in fixed_chunks(np.ones((5, 2)), 4)]
    [(4, 2), (4, 2)]
    """
    pad = -X.shape[0] % size
    if pad:
        X = np.concatenate([X, np.zeros((pad,) + X.shape[1:], X.dtype)])
    return [X[i:i + size] for i in range(0, X.shape[0], size)]
