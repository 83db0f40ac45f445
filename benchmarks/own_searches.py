"""Searches of the kind users write, not shaped like P1/P7/P8 (issue 31): a breast_cancer grid, a digits random search, a wine search mixing solvers.

``--case breast_cancer``: ``GridSearchCV`` over a ``StandardScaler`` pipeline,
``hidden_layer_sizes`` {(30,), (60,), (30, 30)} x ``alpha`` {1e-4, 1e-3, 1e-2}, cv=4,
``scoring=["accuracy", "roc_auc"]`` with ``refit="accuracy"``, ``max_iter=100``.
``--case digits_random``: ``RandomizedSearchCV(n_iter=20, cv=3, random_state=0)`` over
``hidden_layer_sizes`` {(50,), (100,), (100, 50)}, ``alpha`` and ``learning_rate_init``
log-uniform, ``max_iter=50``, default batch size. ``--case wine_mixed``: ``GridSearchCV``
over ``solver`` {adam, sgd, lbfgs} x ``hidden_layer_sizes`` {(10,), (20,)} x ``alpha``
{1e-4, 1e-2}, cv=5, every other setting at scikit-learn's default (``max_iter=200``).
All with ``random_state=0``. Rows as in P8 (scikit-learn's MLP is the reference),
each in its own subprocess; imports outside the timing.

    PYTHONPATH=. python benchmarks/own_searches.py --case wine_mixed [--quick]
"""

import os
import sys

import _search_rows as S

#: Issue 31's goals: (resolve at, headed for).
GOALS = {"breast_cancer": (0.35, 0.2), "digits_random": (0.20, 0.1), "wine_mixed": (1.0, 0.5)}


def case():
    """The ``--case`` argument, read before the common arguments are parsed and handed to
    the rows' subprocesses through the environment."""
    if "--case" in sys.argv:
        k = sys.argv.index("--case")
        os.environ["SKDL_OWN_CASE"] = sys.argv[k + 1]
        del sys.argv[k:k + 2]
    name = os.environ.get("SKDL_OWN_CASE", "wine_mixed")
    if name not in GOALS:
        raise SystemExit(f"--case must be one of {sorted(GOALS)}; got {name!r}")
    return name


CASE = case()


def run(mlp_class, search_module, quick=False):
    import numpy as np
    from scipy.stats import loguniform
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if CASE == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), mlp_class(max_iter=10 if quick else 100, random_state=0))
        grid = {"mlpclassifier__hidden_layer_sizes": [(30,), (60,), (30, 30)],
                "mlpclassifier__alpha": [1e-4, 1e-3, 1e-2]}
        search = search_module.GridSearchCV(pipe, grid, cv=4, scoring=["accuracy", "roc_auc"],
                                            refit="accuracy")
    elif CASE == "digits_random":
        X, y = load_digits(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), mlp_class(max_iter=5 if quick else 50, random_state=0))
        space = {"mlpclassifier__hidden_layer_sizes": [(50,), (100,), (100, 50)],
                 "mlpclassifier__alpha": loguniform(1e-6, 1e-1),
                 "mlpclassifier__learning_rate_init": loguniform(1e-4, 1e-1)}
        search = search_module.RandomizedSearchCV(pipe, space, n_iter=4 if quick else 20, cv=3,
                                                  random_state=0)
    else:
        X, y = load_wine(return_X_y=True)
        pipe = make_pipeline(StandardScaler(), mlp_class(max_iter=20 if quick else 200, random_state=0))
        grid = {"mlpclassifier__solver": ["adam", "sgd", "lbfgs"],
                "mlpclassifier__hidden_layer_sizes": [(10,), (20,)],
                "mlpclassifier__alpha": [1e-4, 1e-2]}
        search = search_module.GridSearchCV(pipe, grid, cv=5)
    return search.fit(X.astype(np.float64), y)


def main():
    resolve, headed = GOALS[CASE]
    setup = (f"{CASE}: " + {"breast_cancer": "GridSearchCV 9 candidates x cv=4, multi-metric, max_iter=100",
                            "digits_random": "RandomizedSearchCV n_iter=20 x cv=3, max_iter=50",
                            "wine_mixed": "GridSearchCV solver {adam, sgd, lbfgs} x 2 widths x 2 alphas, "
                                          "cv=5, max_iter=200"}[CASE]
             + "; each system in its own subprocess, times exclude interpreter start and imports")
    S.main(__file__, __doc__.splitlines()[0], run, f"A search users write: {CASE}", setup, resolve,
           f"Goal (issue 31): at or under {resolve:.2f}x sklearn's time, headed for {headed:.2f}x.",
           f"own-{CASE}")


if __name__ == "__main__":
    main()
