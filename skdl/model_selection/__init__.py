"""scikit-learn's searches and cross-validation, with skdl's networks trained in stacks.

Drop-in replacements for the functions and classes of the same names in
:mod:`sklearn.model_selection`: change the import and the networks of every
fold and candidate train together.
"""

from ._search import GridSearchCV, HalvingGridSearchCV, HalvingRandomSearchCV, RandomizedSearchCV
from ._validation import cross_val_score, cross_validate

__all__ = ["GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV",
           "cross_val_score", "cross_validate"]
