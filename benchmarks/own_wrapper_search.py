"""A wrapper search of the kind users write after chapter 11 (issue 32's own case, not P10's shape).

Digits (1,797 images, 10 classes), scaled. A ``KerasClassifier`` over a
``build_model(n_hidden, n_neurons, learning_rate)`` whose hidden blocks are
``Dense(n_neurons, use_bias=True)``, ``BatchNormalization()``,
``Activation("elu")`` and ``Dropout(0.2)``, a softmax output, ``Adam`` on an
``ExponentialDecay(learning_rate, 200, 0.5)`` schedule, the sparse categorical
cross-entropy and ``metrics=["accuracy"]``; ``random_state=None`` (seedless,
as users leave it). ``RandomizedSearchCV(n_iter=8, cv=3, random_state=0)``
over ``n_hidden`` {1, 2}, ``n_neurons`` {32, 64, 128} and ``learning_rate``
log-uniform(1e-3, 3e-2), fitted with ``epochs=40``, ``batch_size=32``,
``validation_split=0.1`` and ``EarlyStopping(patience=5,
restore_best_weights=True)``. Scored by accuracy.

Rows, each in its own fresh subprocess: the wrapper in scikit-learn's search
(the reference) and in skdl's search. Seedless fits draw different first weights
and shuffles in each row, so the candidates' scores agree as two seeds do, not
exactly.

    PYTHONPATH=. python benchmarks/own_wrapper_search.py [--quick] [--json FILE.json]
"""

import argparse
import time

import _common as C
import _search_rows as S

LABELS = {
    "skdl_sklearn": "skdl wrapper, scikit-learn's search",
    "skdl_search": "**skdl wrapper, skdl's search**",
}
REFERENCE = "skdl_sklearn"
GOAL_RATIO = 0.30  # issue 32's goal for a search over a wrapper


def build_model(n_hidden=1, n_neurons=64, learning_rate=1e-2, meta=None):
    """Chapter 11's blocks: Dense, BatchNormalization, ELU, Dropout; Adam on a decaying rate."""
    import keras

    model = keras.Sequential([keras.Input((meta["n_features_in_"],))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_neurons, kernel_initializer="he_normal"))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("elu"))
        model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, 200, 0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def row(name):
    def run(args):
        import keras
        from scipy.stats import loguniform
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler

        from skdl.wrappers import KerasClassifier

        if name == "skdl_search":
            from skdl.model_selection import RandomizedSearchCV
        else:
            from sklearn.model_selection import RandomizedSearchCV
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X).astype("float32")
        space = {"model__n_hidden": [1, 2], "model__n_neurons": [32, 64, 128],
                 "model__learning_rate": loguniform(1e-3, 3e-2)}
        search = RandomizedSearchCV(KerasClassifier(build_model, verbose=0), space,
                                    n_iter=3 if args.quick else 8, cv=3, random_state=0)
        started = time.perf_counter()
        search.fit(X, y, epochs=3 if args.quick else 40, batch_size=32, validation_split=0.1,
                   callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
        seconds = time.perf_counter() - started
        loop = getattr(search.best_estimator_, "training_loop_", None)
        return S._result(search, seconds, f"best fit's training loop: {loop}")
    return run


def report(results, args):
    reference = results[REFERENCE].get("seconds")
    rows, json_rows = [], []
    for name, result in results.items():
        label = LABELS[name]
        if result.get("status") != "ok":
            rows.append([label, C.status_text(result), "-", "-", "-"])
            json_rows.append(C.report_row(C.plain(label), None, "s", notes=C.status_text(result)))
            continue
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in result["best_params"].items())
        notes = "; ".join(x for x in (params, result.get("note")) if x)
        rows.append([label, f"{result['seconds']:.2f} s", C.ratio(result["seconds"], reference),
                     f"{result['best_score']:.4f}", notes])
        json_rows.append(C.report_row(
            C.plain(label), result["seconds"], "s", C.row_ratio(result["seconds"], reference), notes,
            **{"best CV accuracy": result["best_score"],
               "candidates' mean CV accuracy": [round(s, 4) for s in result["mean_test_scores"]]}))
    table = C.markdown_table(["system", "search time", "ratio to the wrapper in sklearn's search",
                              "best CV accuracy", "best params / note"], rows)
    footer = [f"Goal (issue 32): skdl's search over the wrapper at or under {GOAL_RATIO:.2f}x the "
              "wrapper in scikit-learn's search."]
    ours, theirs = results["skdl_search"], results[REFERENCE]
    if ours.get("status") == "ok" and theirs.get("status") == "ok":
        gaps = [abs(a - b) for a, b in zip(ours["mean_test_scores"], theirs["mean_test_scores"])]
        footer.append(f"skdl's search / scikit-learn's: {ours['seconds'] / theirs['seconds']:.2f}x; "
                      f"candidates' mean CV accuracies differ by at most {max(gaps):.4f} "
                      "(seedless: different first weights and shuffles in each row).")
    setup = ("digits, StandardScaler; KerasClassifier(build_model, random_state=None): hidden blocks "
             "Dense(he_normal) -> BatchNormalization -> Activation('elu') -> Dropout(0.2), softmax "
             "output, Adam(ExponentialDecay(learning_rate, 200, 0.5)), metrics=['accuracy']; "
             f"RandomizedSearchCV(n_iter={3 if args.quick else 8}, cv=3, random_state=0) over "
             "n_hidden {1, 2} x n_neurons {32, 64, 128} x learning_rate loguniform(1e-3, 3e-2); fit "
             f"epochs={3 if args.quick else 40}, batch_size=32, validation_split=0.1, "
             "EarlyStopping(patience=5, restore_best_weights=True); each row in its own subprocess, "
             "imports and data untimed")
    C.finish_report("Own case (issue 32): a chapter-11 wrapper search on digits", args, table,
                    [setup], footer, workload="own-wrapper", json_rows=json_rows,
                    value_label="search time", ratio_label="ratio to the wrapper in sklearn's search",
                    reference=C.plain(LABELS[REFERENCE]), headline=C.plain(LABELS["skdl_search"]),
                    goal=GOAL_RATIO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    args = parser.parse_args()
    rows = {name: row(name) for name in LABELS}
    if args.row:
        return C.run_child(rows, args)
    report(C.run_all(__file__, parser, args, rows), args)


if __name__ == "__main__":
    main()
