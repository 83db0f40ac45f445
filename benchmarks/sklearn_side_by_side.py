"""scikit-learn's MLP and skdl's with the same parameters, on breast_cancer and diabetes.

Prints one table: test score and fit time of each, and skdl's time as a ratio
of scikit-learn's, measured in the same run on the same split.

    python benchmarks/sklearn_side_by_side.py [--repeats 3]
"""

import argparse
import platform
import warnings
from datetime import datetime

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import _common as C
import skdl

CASES = [
    ("breast_cancer", load_breast_cancer, MLPClassifier, skdl.MLPClassifierTF,
     dict(hidden_layer_sizes=(64,), max_iter=200, random_state=0)),
    ("breast_cancer lbfgs", load_breast_cancer, MLPClassifier, skdl.MLPClassifierTF,
     dict(hidden_layer_sizes=(64,), solver="lbfgs", max_iter=200, random_state=0)),
    ("diabetes", load_diabetes, MLPRegressor, skdl.MLPRegressorTF,
     dict(hidden_layer_sizes=(32,), alpha=1.0, learning_rate_init=0.01, early_stopping=True,
          max_iter=300, random_state=0)),
    ("diabetes sgd", load_diabetes, MLPRegressor, skdl.MLPRegressorTF,
     dict(hidden_layer_sizes=(32,), solver="sgd", alpha=1.0, learning_rate_init=0.01, max_iter=300,
          random_state=0)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fits per estimator; the best time counts")
    parser.add_argument("--json", default=None, metavar="FILE.json",
                        help="also write the report as JSON (for the docs' tables)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    import keras
    import sklearn

    print(f"{datetime.now():%Y-%m-%d %H:%M}, {platform.processor() or platform.machine()}, "
          f"scikit-learn {sklearn.__version__}, keras {keras.__version__} ({keras.backend.backend()}), "
          f"skdl {skdl.__version__}; best of {args.repeats} fits, first skdl fit of a shape excluded\n")
    print("| dataset | params | sklearn score | skdl score | sklearn fit s | skdl fit s | skdl / sklearn |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    json_rows = []
    for name, load, theirs, ours, params in CASES:
        X, y = load(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
        if theirs is MLPRegressor:
            scale = y_tr.std()
            y_tr, y_te = y_tr / scale, y_te / scale
        results = []
        for cls in (theirs, ours):
            pipe = make_pipeline(StandardScaler(), cls(**params))
            if cls is ours:
                pipe.fit(X_tr, y_tr)  # trace the program once, as a search would
            seconds = C.best_of(lambda: pipe.fit(X_tr, y_tr), args.repeats)
            results.append((pipe.score(X_te, y_te), seconds))
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if k != "random_state")
        (s_score, s_time), (o_score, o_time) = results
        print(f"| {name} | {shown} | {s_score:.3f} | {o_score:.3f} | {s_time:.2f} | {o_time:.2f} | "
              f"{o_time / s_time:.2f} |")
        json_rows.append(C.report_row(name, o_time, "s", o_time / s_time, shown,
                                      **{"sklearn score": s_score, "skdl score": o_score,
                                         "sklearn fit s": s_time}))
    if args.json:
        C.write_json_report(
            args.json, "side-by-side", "scikit-learn's MLP and skdl's, same parameters", json_rows,
            value_label="skdl fit s", ratio_label="skdl / sklearn",
            reference="scikit-learn's MLP on the same case",
            setup=f"one fit each on a 75/25 split, best of {args.repeats} fit times after one untimed "
                  "skdl fit of the shape; test accuracy (breast_cancer) or R^2 (diabetes, target scaled)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
