"""P7, a real tuning search: RandomizedSearchCV(n_iter=50) on digits, its 250 fits trained in stacks.

digits (1797 x 64); ``make_pipeline(StandardScaler(), MLPClassifier(max_iter=30,
batch_size=32, random_state=0))``; ``RandomizedSearchCV(n_iter=50,
cv=StratifiedKFold(5, shuffle=True, random_state=0), random_state=0)`` over
``hidden_layer_sizes`` {(32,), (64,), (128,), (64, 64), (128, 64)},
``learning_rate_init`` loguniform(1e-4, 1e-1), ``alpha`` loguniform(1e-6, 1e-1),
``solver`` {adam, sgd}: 250 fits and the refit. Each row in its own subprocess, in
this run; imports outside the timing. Goal: skdl's stacked search <= 0.15x
scikit-learn's time (issue 11), headed for 0.10x.

    PYTHONPATH=. python benchmarks/p7_fused_search.py [--quick] [--only sklearn,skdl_fused]
"""

import _search_rows as S

GOAL_RATIO = 0.15


def run(mlp_class, search_module, quick=False, n_jobs=None):
    import numpy as np
    from scipy.stats import loguniform
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    pipe = make_pipeline(StandardScaler(), mlp_class(max_iter=3 if quick else 30, batch_size=32,
                                                     random_state=0))
    space = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,), (128,), (64, 64), (128, 64)],
             "mlpclassifier__learning_rate_init": loguniform(1e-4, 1e-1),
             "mlpclassifier__alpha": loguniform(1e-6, 1e-1),
             "mlpclassifier__solver": ["adam", "sgd"]}
    search = search_module.RandomizedSearchCV(
        pipe, space, n_iter=5 if quick else 50, random_state=0, n_jobs=n_jobs,
        cv=StratifiedKFold(2 if quick else 5, shuffle=True, random_state=0))
    return search.fit(X, y)


def main():
    setup = ("P7: digits, StandardScaler pipeline, RandomizedSearchCV(n_iter=50, StratifiedKFold(5, "
             "shuffle=True, random_state=0), random_state=0) over hidden_layer_sizes x "
             "learning_rate_init x alpha x solver {adam, sgd}; 30 epochs, batch 32; each system in its "
             "own subprocess, times exclude interpreter start and imports")
    S.main(__file__, __doc__.splitlines()[0], run,
           "P7 a real tuning search, trained in stacks (digits RandomizedSearchCV n_iter=50)", setup,
           GOAL_RATIO, f"Goal: skdl's stacked search at or under {GOAL_RATIO:.2f}x sklearn's time "
           "(issue 11), headed for 0.10x.", "P7")


if __name__ == "__main__":
    main()
