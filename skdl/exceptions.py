"""Errors skdl raises besides scikit-learn's own."""


class DivergenceError(ValueError, FloatingPointError):
    """Training produced a non-finite loss or weights; the estimator keeps its previous state."""
