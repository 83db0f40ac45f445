"""P9, halving searches on digits: over the samples (HalvingRandomSearchCV) and over the epochs (HalvingGridSearchCV).

digits (1797 x 64), ``make_pipeline(StandardScaler(), MLPClassifier(batch_size=32,
random_state=0))``. ``--resource n_samples`` (the default):
``HalvingRandomSearchCV(n_candidates=27, factor=3, cv=3, random_state=0)`` over P7's
space, 30 epochs. ``--resource max_iter``: ``HalvingGridSearchCV(factor=3, cv=3,
resource="mlpclassifier__max_iter", min_resources=5, max_resources=45)`` over 9
candidates (``hidden_layer_sizes`` {(32,), (64,), (64, 64)} x ``learning_rate_init``
{1e-3, 3e-3, 1e-2}), 5 -> 15 -> 45 epochs. Rows: scikit-learn's halving over its own
MLP (the reference), scikit-learn's halving over skdl (one network at a time), skdl's
halving (each round in stacks; over ``max_iter``, survivors continue their fits).
Each row in its own subprocess, in this run; imports outside the timing. Goal: skdl's
halving at or under 0.50x scikit-learn's (issue 30), headed for 0.15x.

    PYTHONPATH=. python benchmarks/p9_halving_search.py [--resource max_iter] [--quick]
"""

import importlib
import os
import sys

import _search_rows as S

GOAL_RATIO = 0.50


def resource():
    """The ``--resource`` argument, read before the common arguments are parsed and handed
    to the rows' subprocesses through the environment."""
    if "--resource" in sys.argv:
        k = sys.argv.index("--resource")
        os.environ["SKDL_P9_RESOURCE"] = sys.argv[k + 1]
        del sys.argv[k:k + 2]
    return os.environ.get("SKDL_P9_RESOURCE", "n_samples")


RESOURCE = resource()


def run(mlp_class, search_module, quick=False):
    import numpy as np
    from scipy.stats import loguniform
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    importlib.import_module("sklearn.experimental.enable_halving_search_cv")  # the halving searches
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    if RESOURCE == "n_samples":
        pipe = make_pipeline(StandardScaler(), mlp_class(max_iter=3 if quick else 30,
                                                         batch_size=32, random_state=0))
        space = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,), (128,), (64, 64), (128, 64)],
                 "mlpclassifier__learning_rate_init": loguniform(1e-4, 1e-1),
                 "mlpclassifier__alpha": loguniform(1e-6, 1e-1),
                 "mlpclassifier__solver": ["adam", "sgd"]}
        search = search_module.HalvingRandomSearchCV(pipe, space, n_candidates=9 if quick else 27,
                                                     factor=3, cv=3, random_state=0)
    else:
        pipe = make_pipeline(StandardScaler(), mlp_class(batch_size=32, random_state=0))
        grid = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,), (64, 64)],
                "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}
        search = search_module.HalvingGridSearchCV(
            pipe, grid, factor=3, cv=3, resource="mlpclassifier__max_iter", min_resources=1 if quick
            else 5, max_resources=9 if quick else 45)
    return search.fit(X, y)


def main():
    if RESOURCE == "n_samples":
        setup = ("P9 (samples): digits, StandardScaler pipeline, HalvingRandomSearchCV("
                 "n_candidates=27, factor=3, cv=3, random_state=0) over P7's space (hidden_layer_sizes "
                 "x learning_rate_init x alpha x solver {adam, sgd}); 30 epochs, batch 32")
        title = "P9 a halving search over the samples (digits HalvingRandomSearchCV, 27 candidates)"
    else:
        setup = ("P9 (epochs): digits, StandardScaler pipeline, HalvingGridSearchCV(factor=3, cv=3, "
                 "resource='mlpclassifier__max_iter', min_resources=5, max_resources=45) over "
                 "hidden_layer_sizes {(32,), (64,), (64, 64)} x learning_rate_init {1e-3, 3e-3, 1e-2}; "
                 "batch 32")
        title = "P9 a halving search over the epochs (digits HalvingGridSearchCV, 5 -> 15 -> 45 epochs)"
    setup += "; each system in its own subprocess, times exclude interpreter start and imports"
    S.main(__file__, __doc__.splitlines()[0], run, title, setup, GOAL_RATIO,
           f"Goal: skdl's halving at or under {GOAL_RATIO:.2f}x scikit-learn's halving over its own "
           "MLP (issue 30), headed for 0.15x.", "P9" if RESOURCE == "n_samples" else "P9-epochs")


if __name__ == "__main__":
    main()
