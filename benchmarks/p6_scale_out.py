"""P6, scale-out: the P1 search with n_jobs=1 and n_jobs=2 (joblib's loky workers), sklearn and skdl.

The P1 search (digits, ``make_pipeline(StandardScaler(), est)``, GridSearchCV
over hidden layers {(64,), (64, 64)} x solver {adam, sgd}, StratifiedKFold(5,
shuffle=True, random_state=0), 30 epochs, batch 32, 21 fits with the refit),
each row in its own fresh subprocess, all in this run:

- ``sklearn_1`` / ``sklearn_2``: scikit-learn's MLPClassifier, n_jobs=1 and 2 (the anchor);
- ``skdl_1``: MLPClassifierTF, n_jobs=1;
- ``skdl_2_cold``: n_jobs=2 in a fresh process: each new worker imports
  TensorFlow and traces its programs inside the timed search;
- ``skdl_2_warm``: n_jobs=2 after ``skdl.start_workers(2)``, untimed (its time is
  reported apart), as the parent's own imports are.

And P7 (``p7_fused_search.py``'s search) through skdl's stacked search:
``p7_stacked_1`` (n_jobs=1), ``p7_stacked_2`` (n_jobs=2: whole stacks to
joblib's loky workers) and ``p7_stacked_ray_2`` (a local Ray cluster of 2 CPUs:
each stack a Ray task), with the speed-up over n_jobs=1 and whether every
candidate's score is the same.

Times exclude interpreter start and the parent's imports.  The speed-up is
n_jobs=1's time over the row's, per library; "same scores" compares every
``cv_results_`` split score with the library's n_jobs=1 row.  Goal: skdl
n_jobs=2 >= 1.6x its n_jobs=1 time on 2 cores, with identical scores.

    PYTHONPATH=. python benchmarks/p6_scale_out.py [--quick] [--n-jobs 2]
"""

import argparse
import importlib
import os
import time

import numpy as np

import _common as C
from p1_small_search import HIDDEN, SOLVERS, data_and_cv


def _pid(estimator, X, y):
    return os.getpid()


def search(estimator, n_jobs, args):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y, cv = data_and_cv(args)
    grid = {"hidden_layer_sizes": HIDDEN, "solver": SOLVERS}
    grid = {f"{type(estimator).__name__.lower()}__{k}": v for k, v in grid.items()}
    t = time.perf_counter()
    gs = GridSearchCV(make_pipeline(StandardScaler(), estimator), grid, cv=cv, n_jobs=n_jobs,
                      scoring={"accuracy": "accuracy", "pid": _pid}, refit="accuracy").fit(X, y)
    seconds = time.perf_counter() - t
    res = gs.cv_results_
    folds = range(args.folds)
    return {"seconds": seconds, "best_score": float(gs.best_score_), "n_jobs": n_jobs,
            "scores": [[float(s) for s in res[f"split{i}_test_accuracy"]] for i in folds],
            "fit_pids": sorted({int(p) for i in folds for p in res[f"split{i}_test_pid"]})}


def sklearn_row(n_jobs):
    def row(args):
        from sklearn.neural_network import MLPClassifier
        return search(MLPClassifier(max_iter=args.epochs, batch_size=args.batch_size, random_state=0),
                      n_jobs, args)
    return row


def skdl_row(n_jobs, warm=False):
    def row(args):
        importlib.import_module("keras")  # the parent's import, untimed in every skdl row
        from skdl import MLPClassifierTF, start_workers
        out = {}
        if warm:
            t = time.perf_counter()
            out["warm_pids"] = start_workers(n_jobs)
            out["warm_up"] = time.perf_counter() - t
        est = MLPClassifierTF(max_iter=args.epochs, batch_size=args.batch_size, random_state=0)
        return {**out, **search(est, n_jobs, args)}
    return row


def stacked_p7_row(n_jobs, ray=False):
    """P7 through skdl's stacked search with ``n_jobs`` (whole stacks to joblib's workers), or
    on a local Ray cluster of ``n_jobs`` CPUs (each stack a Ray task)."""
    def row(args):
        import contextlib

        importlib.import_module("keras")
        from p7_fused_search import run
        from skdl import MLPClassifier
        from skdl import model_selection
        context = contextlib.nullcontext()
        if ray:
            ray_module = importlib.import_module("ray")
            from joblib import parallel_backend
            from ray.util.joblib import register_ray
            ray_module.init(num_cpus=n_jobs, include_dashboard=False, log_to_driver=False)
            register_ray()
            context = parallel_backend("ray")
        with context:
            t = time.perf_counter()
            found = run(MLPClassifier, model_selection, args.quick, n_jobs=n_jobs)
            seconds = time.perf_counter() - t
        return {"seconds": seconds, "best_score": float(found.best_score_), "n_jobs": n_jobs,
                "scores": np.round(found.cv_results_["mean_test_score"], 10).tolist()}
    return row


def rows_for(n):
    return {"sklearn_1": sklearn_row(1), f"sklearn_{n}": sklearn_row(n), "skdl_1": skdl_row(1),
            f"skdl_{n}_cold": skdl_row(n), f"skdl_{n}_warm": skdl_row(n, warm=True),
            "p7_stacked_1": stacked_p7_row(1), f"p7_stacked_{n}": stacked_p7_row(n),
            f"p7_stacked_ray_{n}": stacked_p7_row(n, ray=True)}


P7_ROWS = ("p7_stacked_1", "p7_stacked_{n}", "p7_stacked_ray_{n}")


def p7_table(results, n):
    """The stacked P7 rows: n_jobs=1, n_jobs=n (loky) and Ray, against n_jobs=1."""
    names = [name.format(n=n) for name in P7_ROWS]
    one = results.get(names[0], {})
    table, json_rows = [], []
    for name, label in zip(names, ("skdl stacked search, n_jobs=1", f"skdl stacked search, n_jobs={n} (loky)",
                                   f"skdl stacked search, n_jobs={n}, local Ray ({n} CPUs)")):
        r = results.get(name, {})
        if r.get("status") != "ok":
            table.append([label, C.status_text(r), "-", "-", "-"])
            continue
        speedup = one["seconds"] / r["seconds"] if one.get("status") == "ok" else None
        same = "-" if r is one or one.get("status") != "ok" else (
            "yes" if np.allclose(r["scores"], one["scores"], atol=1e-6) else "**no**")
        table.append([label, f"{r['seconds']:.1f} s", "-" if speedup is None or r is one else f"{speedup:.2f}x",
                      f"{r['best_score']:.4f}", same])
        json_rows.append(C.report_row(f"P7 {label}", r["seconds"], "s", None, **{
            "speed-up over its n_jobs=1": None if r is one else speedup,
            "best CV accuracy": r["best_score"], "same scores as n_jobs=1": same.strip("*")}))
    return C.markdown_table(["P7 (digits RandomizedSearchCV n_iter=50)", "search time",
                             "speed-up over n_jobs=1", "best CV accuracy", "same scores"], table), json_rows


def labels_for(n):  # the P1 rows' (the P7 rows have their own table)
    return {"sklearn_1": "sklearn MLPClassifier", f"sklearn_{n}": "sklearn MLPClassifier",
            "skdl_1": "skdl MLPClassifierTF", f"skdl_{n}_cold": "skdl MLPClassifierTF, fresh workers",
            f"skdl_{n}_warm": f"**skdl MLPClassifierTF after start_workers({n})**"}


def json_system(name, labels):
    """A row's label with its n_jobs, unique within the report (the table shows n_jobs in a column)."""
    return f"{C.plain(labels[name])}, n_jobs={name.split('_')[1]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    args = C.parse_search_args(parser, n_jobs=2, n_jobs_help="the parallel rows' n_jobs")
    n = args.n_jobs
    rows = rows_for(n)
    if args.row:
        return C.run_child(rows, args)

    load_before = C.load_average()
    results = C.run_all(__file__, parser, args, rows)
    labels = labels_for(n)
    ok = {name: r for name, r in results.items() if r.get("status") == "ok"}
    anchor = ok.get("sklearn_1", {}).get("seconds")
    table, json_rows = [], []
    p7_names = {name.format(n=n) for name in P7_ROWS}
    for name, r in results.items():
        if name in p7_names:
            continue
        if name not in ok:
            table.append([labels[name], "-", C.status_text(r)] + ["-"] * 6)
            json_rows.append(C.report_row(json_system(name, labels), None, "s", notes=C.status_text(r)))
            continue
        base = ok.get("sklearn_1" if name.startswith("sklearn") else "skdl_1")
        same = "-" if base is None or base is r else ("yes" if r["scores"] == base["scores"] else "**no**")
        if "warm_up" in r:
            inside = set(r["fit_pids"]) <= set(r["warm_pids"])
            warm = f"{r['warm_up']:.1f} s ({len(r['warm_pids'])} workers; fits in them: {'yes' if inside else 'no'})"
        else:
            warm = "-"
        speedup = None if base is None or base is r else base["seconds"] / r["seconds"]
        table.append([labels[name], r["n_jobs"], f"{r['seconds']:.1f} s",
                      "-" if speedup is None else f"{speedup:.2f}x",
                      C.ratio(r["seconds"], anchor), warm, f"{r['best_score']:.4f}", same,
                      len(r["fit_pids"])])
        json_rows.append(C.report_row(
            json_system(name, labels), r["seconds"], "s", C.row_ratio(r["seconds"], anchor),
            **{"speed-up over its n_jobs=1": speedup, "start_workers (untimed)": warm,
               "best CV accuracy": r["best_score"], "same scores as n_jobs=1": same.strip("*"),
               "fit processes": len(r["fit_pids"])}))
    text = C.markdown_table(["system", "n_jobs", "search time", "speed-up over its n_jobs=1",
                             "ratio to sklearn n_jobs=1", "start_workers (untimed)", "best CV accuracy",
                             "same scores as n_jobs=1", "fit processes"], table)
    p7_text, p7_json = p7_table(results, n)
    text += "\n\n" + p7_text
    json_rows += p7_json
    footer = [f"Goal: skdl n_jobs={n} at least 1.6x faster than skdl n_jobs=1, with identical scores."]
    warm, one = ok.get(f"skdl_{n}_warm"), ok.get("skdl_1")
    if warm and one:
        speedup = one["seconds"] / warm["seconds"]
        same = warm["scores"] == one["scores"]
        footer.append(f"skdl after start_workers: {speedup:.2f}x ({'meets' if speedup >= 1.6 else 'misses'} "
                      f"the goal), scores {'identical' if same else 'DIFFERENT'}.")
    extra = [f"P6: the P1 search (digits, {len(HIDDEN)}x{len(SOLVERS)} grid, StratifiedKFold({args.folds}, "
             f"shuffle=True, random_state=0), {args.epochs} epochs, batch {args.batch_size}); each row in its "
             "own subprocess; times exclude interpreter start and the parent's imports",
             f"load average before the rows: {load_before} (the header's is after)"]
    # The goal is a speed-up over skdl's own n_jobs=1, not a ratio to sklearn: no goal marker.
    C.finish_report(f"P6 scale-out (P1 search, n_jobs=1 vs {n})", args, text, extra, footer,
                    workload="P6", json_rows=json_rows, value_label="search time",
                    ratio_label="ratio to sklearn n_jobs=1", reference=json_system("sklearn_1", labels),
                    headline=json_system(f"skdl_{n}_warm", labels))


if __name__ == "__main__":
    main()
