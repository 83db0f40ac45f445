"""P10, the seed recipe: a user's Keras model in a random search (Hands-On ML ch. 10), scikeras against skdl.

The workload is the book's, on a synthetic regression set in place of California
housing (which needs the network): ``make_friedman1(n_samples=4000, n_features=8,
noise=1.0, random_state=0)`` (the noise's variance is about 4% of the target's, so
the best R² reachable is about 0.96; a linear model reaches about 0.72), split as the
book does (``train_test_split(random_state=42)`` into ``X_train_full`` / ``X_test``,
then ``X_train`` / ``X_valid``: 2,250 training and 750 validation rows; the test part
is held out and unused), a ``StandardScaler`` fitted on ``X_train``. The book's
``build_model(n_hidden, n_neurons, learning_rate)`` returns a compiled ``Sequential``
(``n_hidden`` ``Dense(n_neurons, "relu")`` layers, ``Dense(1)``, ``SGD``, ``"mse"``),
wrapped as ``KerasRegressor(build_model, verbose=0, random_state=0)`` and searched by
``RandomizedSearchCV(n_iter=10, cv=3, random_state=42)`` over ``model__n_hidden``
{0, 1, 2, 3}, ``model__n_neurons`` randint(1, 100) and ``model__learning_rate``
reciprocal(3e-4, 3e-2), fitted with ``epochs=100``, ``validation_data=(X_valid,
y_valid)`` and ``callbacks=[EarlyStopping(patience=10)]``. Every row scores R² (the
book's ``keras.wrappers`` scored the negated loss).

Rows, each in its own fresh subprocess, in this run; each times the search's ``fit``
only (imports, data and the search's construction untimed):

- ``scikeras``: ``scikeras.wrappers.KerasRegressor`` in scikit-learn's search, run by
  ``--scikeras-python`` (default ``/tmp/scikeras-venv/bin/python``; see
  ``benchmarks/README.md``); "not run" when that interpreter is missing.
- ``skdl_sklearn``: ``skdl.wrappers.KerasRegressor`` in scikit-learn's search.
- ``skdl_search``: the same in ``skdl.model_selection.RandomizedSearchCV`` (the headline).
- ``mlp_search``: ``MLPRegressorTF`` in skdl's search over the same space, written with
  its scalar depth and width parameters: ``n_hidden_layers`` {0, 1, 2, 3} and
  ``n_hidden_units`` randint(1, 100) stand for ``n_hidden`` and ``n_neurons``. Their
  names sort as the wrapper's do (learning rate, depth, width), so the search's
  sampler draws the same candidates from the same ``random_state`` (the report checks
  it). ``learning_rate_init`` is reciprocal(6e-4, 6e-2), twice the wrapper's:
  scikit-learn's squared error (and so ``MLPRegressorTF``'s) is half the mean squared
  error, so its SGD step is half Keras' at the same rate, and each draw is exactly
  twice the wrapper's. The rest mirrors the Keras model and fit: ``solver="sgd"``,
  ``momentum=0.0`` (Keras' SGD default), ``alpha=0.0`` (no penalty),
  ``kernel_initializer="glorot_uniform"`` (Keras' ``Dense``), ``batch_size=32``,
  ``max_iter=100`` and ``early_stopping=True`` with ``n_iter_no_change=10``,
  ``tol=0.0`` (stop after 10 epochs without a better validation R², which is a
  lower validation MSE: ``EarlyStopping(patience=10)``), the validation rows being a
  ``validation_fraction=0.1`` split of each training fold (scikit-learn's default: it
  keeps 90% of a fold for training, where the wrappers train on all of it and
  validate on ``X_valid``), or with ``--mlp-validation data`` the wrappers' own
  ``validation_data=(X_valid, y_valid)`` passed to the search's ``fit`` (both train
  in stacks). Unlike Keras' callback, the MLP then restores its best epoch's weights.

The report gives each row's search time, its ratio to ``skdl_sklearn`` and to
``scikeras``, ``best_score_``, ``best_params_`` and every candidate's
``mean_test_score``, and how the two skdl wrapper rows' scores agree. Goals (issue 32):
skdl's search over the wrapper at or under 0.30x the same wrapper in scikit-learn's
search (headed 0.15x) and at or under 0.05x scikeras; the same best parameters (or best
scores within 0.02) and every candidate's score within 0.05.

    PYTHONPATH=. python benchmarks/p10_seed_recipe.py [--quick] [--scikeras-python PATH]
        [--only skdl_sklearn,skdl_search] [--json FILE.json]
"""

import argparse
import os
import time

import _common as C
import _search_rows as S

LABELS = {
    "scikeras": "scikeras",
    "skdl_sklearn": "skdl wrapper, scikit-learn's search",
    "skdl_search": "**skdl wrapper, skdl's search**",
    "mlp_search": "MLPRegressorTF, skdl's search",
}
REFERENCE = "skdl_sklearn"
GOAL_RATIO = 0.30  # skdl's search over the wrapper / the wrapper in scikit-learn's (headed 0.15)
GOAL_SCIKERAS = 0.05  # the same over scikeras'
AGREEMENT = (0.02, 0.05)  # best scores, then every candidate's mean CV R², within these
PATIENCE = 10


def data(n_samples):
    """The book's split of friedman1: ``(X_train, y_train, X_valid, y_valid)``, scaled."""
    from sklearn.datasets import make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_friedman1(n_samples=n_samples, n_features=8, noise=1.0, random_state=0)
    X_train_full, X_test, y_train_full, y_test = train_test_split(X, y, random_state=42)
    X_train, X_valid, y_train, y_valid = train_test_split(X_train_full, y_train_full,
                                                          random_state=42)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_valid), y_valid


def build_model(n_hidden=1, n_neurons=30, learning_rate=3e-3, input_shape=(8,)):
    """The book's model function: ``n_hidden`` ReLU layers of ``n_neurons``, SGD on the MSE."""
    import keras

    model = keras.Sequential([keras.Input(shape=input_shape)])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_neurons, activation="relu"))
    model.add(keras.layers.Dense(1))
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=learning_rate))
    return model


def space(mlp=False):
    """The search space: the wrapper's routed ``model__*`` names, or ``MLPRegressorTF``'s
    equivalents (learning rates doubled: see the module's docstring)."""
    from scipy.stats import randint, reciprocal

    if mlp:
        return {"n_hidden_layers": [0, 1, 2, 3], "n_hidden_units": randint(1, 100),
                "learning_rate_init": reciprocal(6e-4, 6e-2)}
    return {"model__n_hidden": [0, 1, 2, 3], "model__n_neurons": randint(1, 100),
            "model__learning_rate": reciprocal(3e-4, 3e-2)}


def estimator(name, args):
    """The estimator of row ``name`` and the search class it runs in (imported here)."""
    if name == "mlp_search":
        from skdl import MLPRegressorTF
        from skdl.model_selection import RandomizedSearchCV

        return MLPRegressorTF(solver="sgd", momentum=0.0, alpha=0.0, batch_size=32,
                              kernel_initializer="glorot_uniform", max_iter=args.epochs,
                              early_stopping=True, validation_fraction=0.1,
                              n_iter_no_change=PATIENCE, tol=0.0, random_state=0), RandomizedSearchCV
    if name == "scikeras":
        from scikeras.wrappers import KerasRegressor
    else:
        from skdl.wrappers import KerasRegressor
    if name == "skdl_search":
        from skdl.model_selection import RandomizedSearchCV
    else:
        from sklearn.model_selection import RandomizedSearchCV
    return KerasRegressor(model=build_model, verbose=0, random_state=0), RandomizedSearchCV


def row(name):
    """The row function of ``name``: the search, timed, as :func:`_search_rows._result`'s dict
    with each candidate's parameters and (skdl's wrapper) the best fit's training loop."""
    def run(args):
        if name == "scikeras" and C.missing("scikeras"):
            return C.not_installed("scikeras")
        import keras

        X_train, y_train, X_valid, y_valid = data(args.samples)
        model, search_class = estimator(name, args)
        search = search_class(model, space(mlp=name == "mlp_search"), n_iter=args.n_iter, cv=3,
                              random_state=42)
        fit_params = {"validation_data": (X_valid, y_valid)}
        if name != "mlp_search":
            fit_params.update(epochs=args.epochs,
                              callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE)])
        elif args.mlp_validation == "fraction":
            fit_params = {}
        started = time.perf_counter()
        search.fit(X_train, y_train, **fit_params)
        seconds = time.perf_counter() - started
        loop = getattr(search.best_estimator_, "training_loop_", None)
        result = S._result(search, seconds, f"best fit's training loop: {loop}" if loop else "")
        failed = sum(s != s for s in result["mean_test_scores"])  # NaN: a fit that failed
        if failed:
            result["note"] = "; ".join(x for x in (result["note"], f"{failed} candidates failed") if x)
        result["candidates"] = [{k.split("__", 1)[-1]: v for k, v in p.items()}
                                for p in search.cv_results_["params"]]
        return result
    return run


def same_candidates(wrapper, mlp):
    """Whether ``mlp``'s candidates are ``wrapper``'s: the same depth and width, the
    learning rate doubled."""
    return len(wrapper) == len(mlp) and all(
        (w["n_hidden"], w["n_neurons"]) == (m["n_hidden_layers"], m["n_hidden_units"])
        and abs(m["learning_rate_init"] - 2 * w["learning_rate"]) <= 1e-9 * m["learning_rate_init"]
        for w, m in zip(wrapper, mlp))


def agreement(a, b):
    """How rows ``a`` and ``b`` (result dicts) agree: a sentence, or None when one is missing."""
    if not all(r.get("status") == "ok" for r in (a, b)):
        return None
    best, each = AGREEMENT
    differences = [abs(x - y) for x, y in zip(a["mean_test_scores"], b["mean_test_scores"])]
    largest = max(differences, default=float("nan"))
    same_best = a["best_params"] == b["best_params"]
    best_gap = abs(a["best_score"] - b["best_score"])
    met = (same_best or best_gap <= best) and largest <= each
    return (f"skdl's search against scikit-learn's, over the wrapper: best parameters "
            f"{'the same' if same_best else 'differ'}, best scores {best_gap:.4f} apart; "
            f"{sum(d <= each for d in differences)} of {len(differences)} candidates' mean CV R² "
            f"within {each} (largest difference {largest:.4f}): "
            f"{'meets' if met else 'misses'} the goal (same best or within {best}, every "
            f"candidate within {each}).")


def candidates_table(results):
    """Each candidate's parameters (the wrapper's) and its mean CV R² in every row."""
    ok = {name: r for name, r in results.items() if r.get("status") == "ok"}
    wrapper = next((r for name, r in ok.items() if name != "mlp_search"), None)
    if wrapper is None:
        return None
    rows = []
    for i, params in enumerate(wrapper["candidates"]):
        cells = [i, params["n_hidden"], params["n_neurons"], f"{params['learning_rate']:.2e}"]
        cells += [f"{r['mean_test_scores'][i]:.4f}" if i < len(r["mean_test_scores"]) else "-"
                  for r in ok.values()]
        rows.append(cells)
    return C.markdown_table(["candidate", "n_hidden", "n_neurons", "learning_rate"]
                            + [f"{C.plain(LABELS[name])}: mean CV R²" for name in ok], rows)


def report(results, args):
    """The table of rows, the candidates' table and the findings; the JSON report with ``--json``."""
    reference = results[REFERENCE].get("seconds")
    scikeras = results["scikeras"].get("seconds")
    rows, json_rows = [], []
    for name, result in results.items():
        label = LABELS[name]
        if result.get("status") != "ok":
            rows.append([label, C.status_text(result), "-", "-", "-", "-", "-"])
            json_rows.append(C.report_row(C.plain(label), None, "s", notes=C.status_text(result)))
            continue
        params = ", ".join(f"{k}={v}" for k, v in result["best_params"].items())
        notes = "; ".join(x for x in (params, result.get("note")) if x)
        rows.append([label, f"{result['seconds']:.2f} s", C.ratio(result["seconds"], reference),
                     C.ratio(result["seconds"], scikeras), f"{result['best_score']:.4f}",
                     result["fits"], notes])
        json_rows.append(C.report_row(
            C.plain(label), result["seconds"], "s", C.row_ratio(result["seconds"], reference), notes,
            **{"ratio to scikeras": C.row_ratio(result["seconds"], scikeras),
               "best CV R²": result["best_score"], "fits": result["fits"],
               "candidates' mean CV R²": [round(s, 4) for s in result["mean_test_scores"]]}))
    table = C.markdown_table(["system", "search time", "ratio to skdl wrapper in sklearn's search",
                              "ratio to scikeras", "best CV R²", "fits", "best params / note"], rows)
    candidates = candidates_table(results)
    if candidates:
        table += ("\n\nEach candidate's mean CV R² (MLPRegressorTF's learning_rate_init is twice "
                  "the learning_rate shown):\n\n" + candidates)
    C.finish_report("P10 the seed recipe: a user's Keras model in a random search (Hands-On ML ch. 10)",
                    args, table, [setup_text(args)], findings(results), workload="P10",
                    json_rows=json_rows, value_label="search time",
                    ratio_label="ratio to the wrapper in sklearn's search",
                    reference=C.plain(LABELS[REFERENCE]), headline=C.plain(LABELS["skdl_search"]),
                    goal=GOAL_RATIO)


def findings(results):
    """The goal, then the headline's ratios and the rows' agreement, in words."""
    footer = [f"Goal (issue 32): skdl's search over the wrapper at or under {GOAL_RATIO:.2f}x the "
              f"wrapper in scikit-learn's search (headed 0.15x) and at or under {GOAL_SCIKERAS:.2f}x "
              f"scikeras; the same best parameters or best scores within {AGREEMENT[0]}, every "
              f"candidate's mean CV R² within {AGREEMENT[1]}."]
    headline = results["skdl_search"]
    for name, goal in ((REFERENCE, GOAL_RATIO), ("scikeras", GOAL_SCIKERAS)):
        other = results[name]
        if headline.get("status") == "ok" and other.get("status") == "ok":
            ratio = headline["seconds"] / other["seconds"]
            footer.append(f"skdl's search / {C.plain(LABELS[name])}: {ratio:.2f}x "
                          f"({'meets' if ratio <= goal else 'misses'} {goal:.2f}x).")
    sentence = agreement(headline, results[REFERENCE])
    if sentence:
        footer.append(sentence)
    mlp, wrapper = results["mlp_search"], headline if headline.get("status") == "ok" else results[REFERENCE]
    if mlp.get("status") == "ok" and wrapper.get("status") == "ok":
        same = same_candidates(wrapper["candidates"], mlp["candidates"])
        footer.append(f"MLPRegressorTF's candidates {'are' if same else 'are not'} the wrapper's "
                      f"(same depth and width, learning rate doubled).")
    return footer


def setup_text(args):
    """The workload's set-up, in one line."""
    stopping = "validation_fraction=0.1" if args.mlp_validation == "fraction" else "validation_data"
    return (f"P10: make_friedman1(n_samples={args.samples}, n_features=8, noise=1.0, random_state=0), "
            f"the book's train_test_split(random_state=42) twice, StandardScaler; the book's "
            f"build_model (SGD, mse) in KerasRegressor(verbose=0, random_state=0); "
            f"RandomizedSearchCV(n_iter={args.n_iter}, cv=3, random_state=42) over n_hidden {{0..3}} x "
            f"n_neurons randint(1, 100) x learning_rate reciprocal(3e-4, 3e-2), fit with "
            f"epochs={args.epochs}, validation_data, EarlyStopping(patience={PATIENCE}); "
            f"MLPRegressorTF: the same space as n_hidden_layers x n_hidden_units x "
            f"learning_rate_init reciprocal(6e-4, 6e-2) (half-MSE loss), sgd, momentum 0, batch 32, "
            f"early_stopping on {stopping}; each row in its own subprocess, times exclude "
            f"interpreter start, imports and data")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    parser.add_argument("--scikeras-python", default="/tmp/scikeras-venv/bin/python",
                        help="interpreter with scikeras installed, for the scikeras row")
    parser.add_argument("--samples", type=int, default=None,
                        help="friedman1 rows before the book's splits (default 4000; 1000 with --quick)")
    parser.add_argument("--mlp-validation", choices=("fraction", "data"), default="fraction",
                        help="MLPRegressorTF's early-stopping rows: a validation_fraction=0.1 split "
                             "of each fold (default) or the wrappers' validation_data")
    parser.add_argument("--n-iter", type=int, default=None, help="candidates (default 10; 3 with --quick)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per fit (default 100; 5 with --quick)")
    args = C.quick_defaults(parser.parse_args(), samples=(1000, 4000), n_iter=(3, 10), epochs=(5, 100))
    rows = {name: row(name) for name in LABELS}
    if args.row:
        return C.run_child(rows, args)
    no_scikeras = not os.path.exists(args.scikeras_python)
    if no_scikeras:
        args.skip = ",".join(x for x in (args.skip, "scikeras") if x)
    args.anchor_python = args.scikeras_python
    results = C.run_all(__file__, parser, args, rows, optional=("scikeras",))
    if no_scikeras and results["scikeras"].get("reason") == "--only/--skip":
        results["scikeras"] = {"status": "not run", "reason": f"no {args.scikeras_python}"}
    report(results, args)


if __name__ == "__main__":
    main()
