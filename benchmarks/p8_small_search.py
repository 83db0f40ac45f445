"""P8, a small search whose every candidate is a different network (Hands-On ML style, breast_cancer).

breast_cancer, the training part of ``train_test_split(random_state=0, stratify=y)``;
``Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(max_iter=200,
early_stopping=True, random_state=0))])``; ``RandomizedSearchCV(n_iter=8, cv=3,
random_state=0)`` over ``hidden_layer_sizes`` {(50,), (50, 50), (20, 20, 20)},
``alpha`` {1e-4, 1e-3, 1e-2}, ``solver`` {adam, sgd, lbfgs}, ``learning_rate_init``
{1e-3, 1e-2}, ``activation`` {relu, tanh, logistic}. Each row in its own
subprocess, in this run; imports outside the timing. Goal: at or under 1.0x
scikit-learn's time.

    PYTHONPATH=. python benchmarks/p8_small_search.py [--quick] [--only sklearn,skdl_fused]
"""

import _search_rows as S

GOAL_RATIO = 1.0


def run(mlp_class, search_module, quick=False):
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = load_breast_cancer(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, random_state=0, stratify=y)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", mlp_class(max_iter=20 if quick else 200, early_stopping=True,
                                       random_state=0))])
    space = {"mlp__hidden_layer_sizes": [(50,), (50, 50), (20, 20, 20)],
             "mlp__alpha": [1e-4, 1e-3, 1e-2], "mlp__solver": ["adam", "sgd", "lbfgs"],
             "mlp__learning_rate_init": [1e-3, 1e-2], "mlp__activation": ["relu", "tanh", "logistic"]}
    search = search_module.RandomizedSearchCV(pipe, space, n_iter=8, cv=3, random_state=0)
    return search.fit(X, y)


def main():
    setup = ("P8: breast_cancer (training part), StandardScaler pipeline, early_stopping=True, "
             "max_iter=200, RandomizedSearchCV(n_iter=8, cv=3, random_state=0) over depth x alpha x "
             "solver {adam, sgd, lbfgs} x learning rate x activation; each system in its own "
             "subprocess, times exclude interpreter start and imports")
    S.main(__file__, __doc__.splitlines()[0], run,
           "P8 a small search of different networks (breast_cancer, Hands-On ML style)", setup,
           GOAL_RATIO, f"Goal: at or under {GOAL_RATIO:.1f}x sklearn's time.", "P8")


if __name__ == "__main__":
    main()
