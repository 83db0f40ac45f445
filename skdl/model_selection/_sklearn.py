"""The scikit-learn private names skdl's searches use, in one place.

scikit-learn's own ``_fit_and_score`` splits a fold's rows and fit
parameters with these two helpers; the first pass of a stacked search must
split them the same way, so that each fit it records is the fit scikit-learn
then runs. ``tests/test_model_selection.py`` fails loudly if they move.
"""

from sklearn.utils.metaestimators import _safe_split as safe_split
from sklearn.utils.validation import _check_method_params as check_method_params

__all__ = ["safe_split", "check_method_params"]
