"""scikeras 0.13 and skdl.wrappers on the same scikeras-style script: GridSearchCV on iris and digits,
against scikit-learn's MLPClassifier on the same grid.

The user script below (a build function, a ``KerasClassifier`` and a 2x2 grid
over ``model__hidden_layer_sizes`` x ``optimizer__learning_rate``, ``cv=3``) is
written once; ``--impl`` only chooses where ``KerasClassifier`` is imported from:

    --impl scikeras   from scikeras.wrappers import KerasClassifier
    --impl skdl       from skdl.wrappers import KerasClassifier

``--impl sklearn`` runs the same search with scikit-learn's ``MLPClassifier``
(``hidden_layer_sizes`` x ``learning_rate_init``, adam, batch 32, at most 30
epochs, stopping after 3 epochs without a lower training loss, as the
wrappers' ``EarlyStopping(monitor="loss", patience=3)``): the reference the
table's last column divides by.

Datasets: ``iris`` (sorted by class, as ``load_iris`` returns it, bare
estimator), ``digits`` (``make_pipeline(StandardScaler(), clf)``) and
``digits-prescaled`` (the bare estimator on X standardised once up front: the
timing comparison when the pipeline form fails for one library; ``--all`` runs
it only then). Each run prints the search's wall time (imports untimed),
``best_score_``, the best candidate's per-fold test scores, the CV splitter
``GridSearchCV`` picked, ``sklearn.base.is_classifier(estimator)`` and, for
skdl, ``best_estimator_``'s ``training_loop_``. A run that raises reports the
first line of its error instead: that is a finding, not a script failure.

scikeras is not a project dependency: run this from a scratch venv that has both
libraries over the same Keras/TensorFlow (see benchmarks/README.md):

    /tmp/scikeras-venv/bin/python benchmarks/keras_wrappers_side_by_side.py --all
    /tmp/scikeras-venv/bin/python benchmarks/keras_wrappers_side_by_side.py --impl skdl --dataset iris

``--all`` runs every impl x dataset in a fresh subprocess of the current python
and prints one table with the time ratio scikeras / skdl.
"""

import argparse
import importlib
import sys
import time

import _common as C

IMPLS = ["sklearn", "scikeras", "skdl"]
DATASETS = ["iris", "digits"]
FALLBACK = "digits-prescaled"  # --all adds it when a pipeline run fails
GRID = {"model__hidden_layer_sizes": [(32,), (64, 64)], "optimizer__learning_rate": [1e-3, 1e-2]}
CV = 3


def sklearn_script(X, y, pipeline):
    """The same search with scikit-learn's MLPClassifier, the reference."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = MLPClassifier(solver="adam", batch_size=32, max_iter=30, n_iter_no_change=3, tol=0.0,
                        random_state=0)
    grid = {"hidden_layer_sizes": GRID["model__hidden_layer_sizes"],
            "learning_rate_init": GRID["optimizer__learning_rate"]}
    estimator = clf
    if pipeline:
        estimator = make_pipeline(StandardScaler(), clf)
        grid = {f"mlpclassifier__{k}": v for k, v in grid.items()}
    return estimator, GridSearchCV(estimator, grid, cv=CV)


def import_wrapper(impl):
    """The only line that differs between the two runs."""
    if impl == "scikeras":
        from scikeras.wrappers import KerasClassifier
    else:
        from skdl.wrappers import KerasClassifier
    return KerasClassifier


def load(dataset):
    """``(X, y, pipeline?)`` for a dataset name."""
    from sklearn.datasets import load_digits, load_iris
    if dataset == "iris":
        X, y = load_iris(return_X_y=True)  # sorted by class: 50 x 0, 50 x 1, 50 x 2
        return X, y, False
    X, y = load_digits(return_X_y=True)
    if dataset == "digits":
        return X, y, True
    from sklearn.preprocessing import StandardScaler
    return StandardScaler().fit_transform(X), y, False


# ---------------------------------------------------------------------------
# The user's script, written once (scikeras 0.13 style).

def user_script(KerasClassifier, X, y, pipeline):
    import keras
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def build(meta, hidden_layer_sizes=(32,)):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],))])
        for units in hidden_layer_sizes:
            model.add(keras.layers.Dense(units, activation="relu"))
        model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
        return model

    clf = KerasClassifier(
        model=build,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=3)],
        epochs=30,
        batch_size=32,
        verbose=0,
        random_state=0,
    )
    estimator, grid = clf, dict(GRID)
    if pipeline:
        estimator = make_pipeline(StandardScaler(), clf)
        grid = {f"kerasclassifier__{k}": v for k, v in GRID.items()}
    return estimator, GridSearchCV(estimator, grid, cv=CV)

# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# scikeras-documented behaviours, each run with either import (--behaviours).

def _iris():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype("float32"), y


def _mlp(meta):
    import keras
    model = keras.Sequential([keras.Input((meta["n_features_in_"],)),
                              keras.layers.Dense(16, activation="relu")])
    if meta["target_type_"] == "multiclass":
        model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
    else:
        model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model


def _clf(KerasClassifier, **kwargs):
    return KerasClassifier(_mlp, loss="sparse_categorical_crossentropy", verbose=0,
                           **{"random_state": 0, **kwargs})


def b_single_metric_loss_callback(KC, KR):
    import keras
    clf = _clf(KC, metrics="accuracy", epochs=3,
               callbacks=keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0))
    return sorted(clf.fit(*_iris()).history_), len(clf.history_["loss"])


def b_metric_shorthand_names(KC, KR):
    from sklearn.datasets import make_regression
    import keras
    X, y = make_regression(100, 4, random_state=0)
    build = lambda meta: keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])  # noqa: E731
    return sorted(KR(build, loss="mse", metrics=["mse", "acc"], validation_split=0.2, verbose=0,
                     random_state=0).fit(X, y / y.std()).history_)


def b_metric_class_name(KC, KR):
    import keras
    X, y = _iris()
    clf = KC(_mlp, loss="binary_crossentropy", metrics=[keras.metrics.AUC], verbose=0,
             random_state=0)
    return sorted(clf.fit(X, (y == 0).astype(int)).history_)


def b_batch_size_minus_one(KC, KR):
    clf = _clf(KC, optimizer="sgd", batch_size=-1, validation_batch_size=-1, validation_split=0.2,
               epochs=2).fit(*_iris())
    return int(clf.model_.optimizer.iterations.numpy())


def b_fit_call_arguments(KC, KR):
    clf = _clf(KC, optimizer="sgd", validation_split=0.2)
    clf.fit(*_iris(), epochs=3, batch_size=16, validation_batch_size=8)
    return len(clf.history_["loss"]), int(clf.model_.optimizer.iterations.numpy())


def b_fit_initial_epoch(KC, KR):
    clf = _clf(KC, epochs=4).fit(*_iris(), initial_epoch=2)
    return len(clf.history_["loss"]), clf.current_epoch


def b_predict_call_arguments(KC, KR):
    X, y = _iris()
    clf = _clf(KC).fit(X, y)
    return clf.predict(X, batch_size=7).shape, clf.predict_proba(X, batch_size=-1).shape


def b_partial_fit_arguments(KC, KR):
    X, y = _iris()
    clf = _clf(KC, optimizer="sgd")
    refused = []
    for name in ("epochs", "initial_epoch"):
        try:
            clf.partial_fit(X, y, **{name: 2})
        except TypeError:
            refused.append(name)
    clf.partial_fit(X, y, batch_size=50)
    clf.partial_fit(X, y)
    return refused, clf.current_epoch, {k: len(v) for k, v in clf.history_.items()}


def b_warm_start_history(KC, KR):
    X, y = _iris()
    clf = _clf(KC, epochs=2, warm_start=True).fit(X, y).fit(X, y)
    return len(clf.history_["loss"]), clf.current_epoch


def b_prebuilt_model_initialize(KC, KR):
    import keras
    import numpy as np
    X, y = _iris()
    keras.utils.set_random_seed(1)
    model = _mlp({"n_features_in_": 4, "target_type_": "multiclass", "n_classes_": 3})
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(X, y, epochs=10, verbose=0)
    proba = KC(model, verbose=0).initialize(X, y).predict_proba(X)
    return bool(np.allclose(proba, model.predict(X, verbose=0), atol=1e-5))


def b_adaboost(KC, KR):
    from sklearn.datasets import make_moons
    from sklearn.ensemble import AdaBoostClassifier
    X, y = make_moons(random_state=0)
    clf = KC(_mlp, loss="binary_crossentropy", optimizer="adam", optimizer__learning_rate=0.05,
             epochs=5, verbose=0, random_state=0)
    ada = AdaBoostClassifier(clf, n_estimators=3, random_state=0).fit(X, y)
    return len(ada.estimators_), round(float(ada.score(X, y)), 2)


def b_zero_weight_rows(KC, KR):
    import numpy as np
    X, y = _iris()
    w = np.where(np.arange(150) % 3 == 0, 0.0, 1.0)
    clf = _clf(KC, optimizer="sgd", batch_size=25).fit(X, y, sample_weight=w)
    return int(clf.model_.optimizer.iterations.numpy())


def b_subclass_keras_build_fn(KC, KR):
    import keras
    from sklearn.base import clone

    class MLPClassifier(KC):
        def __init__(self, hidden_layer_sizes=(32,), optimizer="adam", epochs=20, verbose=0,
                     **kwargs):
            super().__init__(**kwargs)
            self.hidden_layer_sizes, self.optimizer = hidden_layer_sizes, optimizer
            self.epochs, self.verbose = epochs, verbose

        def _keras_build_fn(self, compile_kwargs):
            model = keras.Sequential([keras.Input((self.n_features_in_,))]
                                     + [keras.layers.Dense(u, activation="relu")
                                        for u in self.hidden_layer_sizes]
                                     + [keras.layers.Dense(self.n_classes_, activation="softmax")])
            model.compile(loss="sparse_categorical_crossentropy",
                          optimizer=compile_kwargs["optimizer"])
            return model

    return round(float(clone(MLPClassifier(random_state=0)).fit(*_iris()).score(*_iris())), 2) > 0.5


def b_compiled_loss_mismatch(KC, KR):
    def compiled(meta):
        model = _mlp(meta)
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        return model
    try:
        KC(compiled, loss="sparse_categorical_crossentropy", verbose=0).fit(*_iris())
    except ValueError as error:
        return "ValueError: " + str(error)[:60]
    return "accepted"


def b_random_state_instance(KC, KR):
    import numpy as np
    X, y = _iris()
    clf = _clf(KC, epochs=2, random_state=np.random.RandomState(0))
    return bool(np.array_equal(clf.fit(X, y).predict_proba(X), clf.fit(X, y).predict_proba(X)))


def b_routed_list_items(KC, KR):
    import keras
    clf = _clf(KC, metrics=[keras.metrics.SparseTopKCategoricalAccuracy], metrics__0__k=2,
               metrics__0__name="top2")
    return sorted(clf.fit(*_iris()).history_)


def b_routed_positional_class(KC, KR):
    import keras

    class Schedule:
        def __init__(self, coef=0.1):
            self.coef = coef

        def __call__(self, epoch, rate):
            return rate * 0.5 ** self.coef

    clf = _clf(KC, optimizer="sgd", optimizer__learning_rate=0.1, epochs=2,
               callbacks=keras.callbacks.LearningRateScheduler, callbacks__0=Schedule,
               callbacks__0__coef=1.0).fit(*_iris())
    return [round(v, 4) for v in clf.history_["learning_rate"]]


def b_build_fn_and_params(KC, KR):
    seen = {}

    def build(meta, params):
        seen.update(params)
        return _mlp(meta)
    KC(build, loss="sparse_categorical_crossentropy", verbose=0).fit(*_iris())
    clf = KC(build_fn=_mlp, loss="sparse_categorical_crossentropy", verbose=0).fit(*_iris())
    return "loss" in seen, clf.predict(_iris()[0]).shape


def b_scorer_and_score_params(KC, KR):
    class Clf(KC):
        @staticmethod
        def scorer(y_true, y_pred, **kwargs):
            return kwargs.get("bonus", 0.0)
    return Clf(_mlp, loss="sparse_categorical_crossentropy", verbose=0, score__bonus=7.0).fit(
        *_iris()).score(*_iris())


def b_pickle_custom_metric_partial_fit(KC, KR):
    import pickle
    import keras

    clf = _clf(KC, metrics=[keras.metrics.SparseCategoricalAccuracy, _Counted])
    clf.partial_fit(*_iris())
    try:
        again = pickle.loads(pickle.dumps(clf))
    except Exception as error:  # noqa: BLE001  the finding
        return f"{type(error).__name__}: {str(error)[:50]}"
    return sorted(again.partial_fit(*_iris()).history_)


def _counted_class():
    import keras

    class Counted(keras.metrics.Metric):
        def __init__(self, name="counted", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(1.0)

        def result(self):
            return self.count * 1.0

    Counted.__qualname__ = "_Counted"
    return Counted


BEHAVIOURS = {name[2:]: f for name, f in dict(globals()).items() if name.startswith("b_")}


def run_behaviour(impl, name):
    """One behaviour with one import: its result as a short string (an error is a result)."""
    global _Counted
    if impl == "scikeras":
        from scikeras.wrappers import KerasClassifier, KerasRegressor
    else:
        from skdl.wrappers import KerasClassifier, KerasRegressor
    _Counted = _counted_class()
    try:
        return str(BEHAVIOURS[name](KerasClassifier, KerasRegressor))
    except Exception as error:  # noqa: BLE001  a crash is the finding
        return f"error {type(error).__name__}: {first_line(error)[:90]}"


def behaviours_table(args):
    """Every behaviour with each import, each in a fresh subprocess (scikeras leaves
    TensorFlow's op determinism on after a seeded fit, which breaks later fits)."""
    rows = []
    for name in BEHAVIOURS:
        cells = []
        for impl in ("scikeras", "skdl"):
            if impl == "scikeras" and C.missing("scikeras"):
                cells.append("not installed")
                continue
            r = C.run_row(__file__, f"{impl}:{name}", ["--behaviour"], timeout=args.row_timeout)
            cells.append(r.get("value", C.status_text(r)))
            C.log(f"{name} [{impl}]: {cells[-1]}")
        rows.append([name.replace("_", " "), *cells, "same" if cells[0] == cells[1] else "differs"])
    table = C.markdown_table(["behaviour (scikeras 0.13 docs)", "scikeras", "skdl.wrappers", ""],
                             rows)
    C.print_report("scikeras 0.13 vs skdl.wrappers: documented behaviours", args, table,
                   ["each behaviour with each import in its own subprocess of this python"],
                   ["Deliberate differences are listed in docs/user_guide/migrating.rst."])


def first_line(error):
    text = f"{type(error).__name__}: {error}"
    return text.strip().splitlines()[0][:200]


def run_one(impl, dataset):
    """One impl x dataset in this process; a dict for the table (``status`` ok or error)."""
    import traceback

    from sklearn.base import is_classifier
    from sklearn.model_selection import check_cv

    if impl != "sklearn":
        KerasClassifier = import_wrapper(impl)
        importlib.import_module("keras")  # imported before the clock starts, as the wrapper's backend
    X, y, pipeline = load(dataset)
    result = {"impl": impl, "dataset": dataset}
    try:
        if impl == "sklearn":
            estimator, search = sklearn_script(X, y, pipeline)
        else:
            estimator, search = user_script(KerasClassifier, X, y, pipeline)
        result["is_classifier"] = bool(is_classifier(estimator))
        result["cv"] = type(check_cv(CV, y, classifier=is_classifier(estimator))).__name__
    except Exception as error:  # noqa: BLE001  a crash is the finding
        traceback.print_exc()
        return {**result, "status": "error", "reason": first_line(error), "where": "setup"}
    start = time.perf_counter()
    try:
        search.fit(X, y)
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        return {**result, "status": "error", "reason": first_line(error), "where": "fit",
                "seconds_to_error": time.perf_counter() - start}
    result["seconds"] = time.perf_counter() - start
    best = search.best_index_
    result["best_score"] = float(search.best_score_)
    result["fold_scores"] = [float(search.cv_results_[f"split{i}_test_score"][best]) for i in range(CV)]
    result["best_params"] = {k.split("__", 1)[1] if "classifier__" in k else k: str(v)
                             for k, v in search.best_params_.items()}
    result["fits"] = len(search.cv_results_["params"]) * CV + 1
    final = search.best_estimator_[-1] if pipeline else search.best_estimator_
    result["training_loop"] = getattr(final, "training_loop_", None)
    result["epochs_run"] = (len(getattr(final, "history_", {}).get("loss", []))
                            or getattr(final, "n_iter_", None))
    return result


def describe(r):
    """The per-run printout."""
    lines = [f"impl: {r['impl']}", f"dataset: {r['dataset']}"]
    if "is_classifier" in r:
        lines.append(f"is_classifier(estimator): {r['is_classifier']} -> GridSearchCV cv={CV} uses {r['cv']}")
    if r.get("status", "ok") != "ok":
        lines.append(f"ERROR ({r.get('where', '?')}): {r.get('reason')}")
        return "\n".join(lines)
    lines += [f"search wall time: {r['seconds']:.2f} s ({r['fits']} fits, imports untimed)",
              f"best_score_: {r['best_score']:.4f}",
              f"best candidate per-fold test scores: {', '.join(f'{s:.4f}' for s in r['fold_scores'])}",
              f"best_params_: {r['best_params']}",
              f"best_estimator_ epochs run: {r['epochs_run']}"]
    if r["impl"] == "skdl":
        lines.append(f"best_estimator_.training_loop_: {r['training_loop']}")
    return "\n".join(lines)


def child(args):
    """``--row impl:dataset`` (from ``--all``): run one, print it, hand the dict back."""
    C.quiet()
    C.ensure_skdl_importable()
    if args.behaviour:
        impl, name = args.row.split(":")
        C.report_result({"status": "ok", "value": run_behaviour(impl, name)})
        return
    impl, dataset = args.row.split(":")
    result = run_one(impl, dataset)
    print(describe(result), flush=True)
    C.report_result(result)


def cell_time(r):
    if r.get("status", "ok") != "ok":
        return f"error: {r.get('reason', '')}"
    return f"{r['seconds']:.1f} s"


def json_system(impl, dataset):
    return f"{impl}, {dataset}" + (" (pipeline)" if dataset == "digits" else "")


def json_row(r, scikeras):
    """The JSON report's row of one impl x dataset; its ratio is to scikeras on that dataset."""
    system = json_system(r["impl"], r["dataset"])
    if r.get("status", "ok") != "ok":
        return C.report_row(system, None, "s", notes=C.status_text(r))
    reference = scikeras.get("seconds") if scikeras.get("status", "ok") == "ok" else None
    return C.report_row(
        system, r["seconds"], "s", C.row_ratio(r["seconds"], reference),
        ", ".join(f"{k}={v}" for k, v in r["best_params"].items()),
        **{"best_score_": r["best_score"],
           "best candidate's fold scores": ", ".join(f"{s:.3f}" for s in r["fold_scores"]),
           "is_classifier": r.get("is_classifier"), "CV splitter": r.get("cv"),
           "training_loop_": r.get("training_loop") if r["impl"] == "skdl" else None})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=IMPLS, help="which KerasClassifier to import")
    parser.add_argument("--dataset", choices=DATASETS + [FALLBACK], default="iris")
    parser.add_argument("--all", action="store_true",
                        help="every impl x dataset, each in a fresh subprocess of this python, and one table")
    parser.add_argument("--row-timeout", type=float, default=1800.0,
                        help="seconds before a run's subprocess is stopped (--all)")
    parser.add_argument("--out", default=None, help="also write the --all report to this file")
    parser.add_argument("--json", default=None, metavar="FILE.json",
                        help="also write the --all report as JSON (for the docs' tables and figure)")
    parser.add_argument("--behaviours", action="store_true",
                        help="run scikeras' documented behaviours with each import and tabulate them")
    parser.add_argument("--behaviour", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--row", default=None, help=argparse.SUPPRESS)  # internal: impl:dataset
    args = parser.parse_args()
    if args.row:
        return child(args)
    if args.behaviours:
        C.quiet()
        C.ensure_skdl_importable()
        return behaviours_table(args)
    if not args.all:
        if not args.impl:
            parser.error("give --impl sklearn|scikeras|skdl (with --dataset), or --all")
        C.quiet()
        C.ensure_skdl_importable()
        absent = C.missing("sklearn") if args.impl == "sklearn" else C.missing("keras", args.impl)
        if absent:
            parser.exit(2, f"not installed: {absent} (in {sys.executable})\n")
        print(describe(run_one(args.impl, args.dataset)))
        return

    results = {}

    def run(impl, dataset):
        if impl == "scikeras" and C.missing("scikeras"):
            results[impl, dataset] = {**C.not_installed("scikeras"), "impl": impl, "dataset": dataset}
            return
        r = C.run_row(__file__, f"{impl}:{dataset}", [], timeout=args.row_timeout)
        results[impl, dataset] = {"impl": impl, "dataset": dataset, **r}
        C.log("\n" + describe(results[impl, dataset]))

    datasets = list(DATASETS)
    for dataset in DATASETS:
        for impl in IMPLS:
            run(impl, dataset)
    if any(results[impl, "digits"].get("status") != "ok" for impl in IMPLS):
        datasets.append(FALLBACK)
        for impl in IMPLS:
            run(impl, FALLBACK)

    rows, json_rows = [], []
    for dataset in datasets:
        for impl in IMPLS:
            r = results[impl, dataset]
            ok = r.get("status", "ok") == "ok"
            other = results["skdl", dataset]
            both = ok and other.get("status", "ok") == "ok"
            json_rows.append(json_row(r, results["scikeras", dataset]))
            reference = results["sklearn", dataset]
            with_reference = ok and reference.get("status", "ok") == "ok"
            rows.append([
                dataset + (" (pipeline)" if dataset == "digits" else ""),
                impl,
                cell_time(r),
                C.ratio(r.get("seconds"), reference.get("seconds")) if with_reference else "",
                C.ratio(r.get("seconds"), other.get("seconds")) if impl == "scikeras" and both else "",
                f"{r['best_score']:.4f}" if ok else "-",
                ", ".join(f"{s:.3f}" for s in r["fold_scores"]) if ok else "-",
                r.get("is_classifier", "-"),
                r.get("cv", "-"),
                (r.get("training_loop") or "-") if ok and impl == "skdl" else "-",
                ", ".join(f"{k}={v}" for k, v in r["best_params"].items()) if ok else "",
            ])
    table = C.markdown_table(["dataset", "impl", "search time", "ratio to sklearn MLP",
                              "scikeras / skdl", "best_score_",
                              "best candidate's fold scores", "is_classifier", "CV splitter",
                              "training_loop_", "best params"], rows)
    extra = [f"GridSearchCV(cv={CV}) over {GRID} (4 candidates x {CV} folds + refit = "
             f"{4 * CV + 1} fits); Dense relu layers + softmax, sparse_categorical_crossentropy, adam, "
             "EarlyStopping(monitor='loss', patience=3), epochs=30, batch_size=32, random_state=0; "
             "sklearn: MLPClassifier on the same grid (learning_rate_init), adam, batch_size=32, "
             "max_iter=30, n_iter_no_change=3, tol=0",
             "each impl x dataset in its own subprocess of this python; times exclude interpreter "
             "start, imports and data loading"]
    footer = ["ratio to sklearn MLP: the search's time over scikit-learn's MLPClassifier's on the same "
              "grid, in this run.",
              "A classifier that sklearn.base.is_classifier does not recognise gets an unstratified, "
              "unshuffled KFold from cv=3: on iris sorted by class every test fold holds a class "
              "the fold's model never saw."]
    if FALLBACK in datasets:
        footer.append(f"{FALLBACK}: the digits pipeline failed for one library, so both ran on X "
                      "standardised once up front (no pipeline) for a timing comparison.")
    C.finish_report("scikeras 0.13 vs skdl.wrappers: the same GridSearchCV script", args, table,
                    extra, footer, workload="wrappers", json_rows=json_rows,
                    value_label="search time", ratio_label="ratio to scikeras",
                    reference="scikeras on the same dataset",
                    headline=json_system("skdl", "digits"), goal_text="", notes=footer)


if __name__ == "__main__":
    main()
