"""The scikit-learn private names skdl's searches use, in one place.

scikit-learn's own ``_fit_and_score`` splits a fold's rows and fit
parameters with the first two (and rows with the third); the first pass of
a stacked search must split them the same way, so that each fit it records is
the fit scikit-learn then runs; the fourth counts rows as scikit-learn does. A search also calls its own
``BaseSearchCV._get_routed_params_for_fit``. ``tests/test_model_selection.py``
fails loudly if any of them moves.
"""

from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils.metaestimators import _safe_split as safe_split
from sklearn.utils.validation import _check_method_params as check_method_params
from sklearn.utils.validation import _num_samples as num_samples

__all__ = ["safe_split", "check_method_params", "safe_indexing", "num_samples"]
