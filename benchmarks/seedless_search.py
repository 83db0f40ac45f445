"""Seedless against seeded: the same stacked search with ``random_state`` None, an int and a RandomState.

digits, ``make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, batch_size=32,
random_state=...))``, skdl's ``GridSearchCV`` over ``hidden_layer_sizes`` {(32,), (64,)}
x ``learning_rate_init`` {1e-3, 1e-2}, ``cv=3`` (12 fits and 4 refits trained ahead).
scikit-learn's default is ``random_state=None``: such a search must train each fit once,
in its stack, as the seeded one does (issue 30: at most 1.3x the seeded search's time).
Each row in its own subprocess, in this run; imports outside the timing.

    PYTHONPATH=. python benchmarks/seedless_search.py [--quick] [--json FILE.json]
"""

import argparse
import time

import _common as C

LABELS = {"seeded": "random_state=0 (the reference)", "seedless": "random_state=None",
          "instance": "random_state=np.random.RandomState(0)"}


def row(kind):
    def run(args):
        import numpy as np
        from sklearn.datasets import load_digits
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        from skdl import MLPClassifier, engine
        from skdl.model_selection import GridSearchCV

        X, y = load_digits(return_X_y=True)
        random_state = {"seeded": 0, "seedless": None, "instance": np.random.RandomState(0)}[kind]
        trained, train = [], engine.train
        engine.train = lambda requests, *a, **k: trained.append(len(requests)) or train(
            requests, *a, **k)
        grid = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,)],
                "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}
        pipe = make_pipeline(StandardScaler(), MLPClassifier(
            max_iter=3 if args.quick else 30, batch_size=32, random_state=random_state))
        started = time.perf_counter()
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "best_score": float(search.best_score_),
                "trained": sum(trained), "calls": len(trained)}
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    args = parser.parse_args()
    rows = {kind: row(kind) for kind in LABELS}
    if args.row:
        return C.run_child(rows, args)
    results = C.run_all(__file__, parser, args, rows)
    reference = results["seeded"].get("seconds")
    table, json_rows = [], []
    for name, result in results.items():
        if result.get("status") != "ok":
            table.append([LABELS[name], C.status_text(result), "-", "-", "-"])
            json_rows.append(C.report_row(LABELS[name], None, "s", notes=C.status_text(result)))
            continue
        trained = f"{result['trained']} in {result['calls']} engine call(s)"
        table.append([LABELS[name], f"{result['seconds']:.2f} s", C.ratio(result["seconds"], reference),
                      f"{result['best_score']:.4f}", trained])
        json_rows.append(C.report_row(
            LABELS[name], result["seconds"], "s",
            result["seconds"] / reference if reference else None,
            **{"best CV accuracy": result["best_score"], "networks trained": trained}))
    text = C.markdown_table(["random_state", "search time", "ratio to seeded", "best CV accuracy",
                             "networks trained"], table)
    setup = ("digits, StandardScaler pipeline, skdl GridSearchCV over hidden_layer_sizes x "
             "learning_rate_init (4 candidates), cv=3, 30 epochs, batch 32; each row in its own "
             "subprocess, times exclude interpreter start and imports")
    footer = ["Goal (issue 30): the seedless search at or under 1.3x the seeded one, each fit "
              "trained once (16 networks: 12 fits and 4 refits)."]
    C.finish_report("Seedless against seeded stacked searches (digits GridSearchCV 2 x 2, cv=3)",
                    args, text, [setup], footer, workload="seedless", json_rows=json_rows,
                    value_label="search time", ratio_label="ratio to seeded",
                    reference=LABELS["seeded"], goal=1.3)


if __name__ == "__main__":
    main()
