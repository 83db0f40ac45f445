"""The rows a search benchmark (P1, P7, P8) compares, each run in its own subprocess.

A workload gives ``run(mlp_class, search_module) -> fitted search``; this
module turns it into the rows: scikit-learn's MLP in scikit-learn's search
(the reference), skdl's MLP in scikit-learn's search (one fit at a time),
and skdl's MLP in skdl's stacked search, under TensorFlow and JAX, cold (the
first search of a fresh process with the backend's defaults, as on a fresh
machine: no persistent compilation cache), in a fresh process whose persistent
compilation cache an earlier, unreported process filled (TensorFlow's
``--tf_xla_persistent_cache_directory``, JAX's ``jax_compilation_cache_dir``),
and warm (a second search in the same process). The cold row writes no
TensorFlow cache: writing one is an opt-in that costs time of its own (P7 under
TensorFlow: 1.7 s and 3.8 s in two A/B pairs on 2026-12-02); under JAX it
writes skdl's default cache (on since 2026-12-07) into an empty folder of its own.
"""

import argparse
import importlib
import os
import tempfile
import time

import _common as C

#: Where the rows keep compiled programs between processes (set by the parent).
CACHE_ENV = "SKDL_BENCH_XLA_CACHE"

LABELS = {
    "sklearn": "sklearn MLPClassifier, sklearn search",
    "skdl": "skdl MLPClassifier, sklearn search (one fit at a time)",
    "skdl_fused": "**skdl MLPClassifier, skdl search (stacked), TensorFlow, cold**",
    "skdl_fused_cached": "skdl stacked search, TensorFlow, fresh process, XLA cache filled",
    "skdl_fused_warm": "skdl stacked search, TensorFlow, warm (2nd search in the process)",
    "skdl_fused_jax": "skdl stacked search, JAX, cold (an empty compilation cache, written)",
    "skdl_fused_jax_cached": "skdl stacked search, JAX, fresh process, compilation cache filled",
    "skdl_fused_jax_warm": "skdl stacked search, JAX, warm (2nd search in the process)",
}


def _use_backend(backend, cache=False):
    """Choose the Keras backend in this (row) process before Keras is imported, and with
    ``cache``, its persistent compilation cache (the backends' own settings)."""
    os.environ["KERAS_BACKEND"] = backend
    if not cache:  # skdl's own cache (JAX's, on by default) starts empty, as on a fresh machine
        os.environ["SKDL_CACHE_DIR"] = tempfile.mkdtemp(prefix="skdl-cold-cache-")
    folder = os.path.join(os.environ[CACHE_ENV], backend)
    os.makedirs(folder, exist_ok=True)
    if backend == "tensorflow" and cache:
        os.environ["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={folder}"
    if backend == "jax" and cache:
        import jax

        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def _timed(run, mlp_class, search_module, times=1):
    """Run the search ``times`` times; the last search and each run's seconds."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        search = run(mlp_class, search_module)
        seconds.append(time.perf_counter() - started)
    return search, seconds


def _result(search, seconds, note=""):
    stacking = getattr(search, "stacking_", None)
    if stacking:
        continued = f", {stacking['continued']} continued" if stacking.get("continued") else ""
        note = "; ".join(x for x in (note, f"{stacking['fits']} fits{continued} in "
                                     f"{stacking['stacks']} stacks ({stacking['train_time']:.1f} s)")
                         if x)
    if hasattr(search, "n_candidates_"):  # a halving search's rounds
        note = "; ".join(x for x in (note, f"candidates {search.n_candidates_}, resources "
                                     f"{search.n_resources_}") if x)
    return {"seconds": seconds, "best_score": float(search.best_score_),
            "best_params": {k.split("__", 1)[-1]: str(v) for k, v in search.best_params_.items()},
            "fits": len(search.cv_results_["params"]) * search.n_splits_ + bool(search.refit),
            "mean_test_scores": [float(s) for s in search.cv_results_[_mean_test_key(search)]],
            "note": note}


def _mean_test_key(search):
    """The ``cv_results_`` column of the score ``best_score_`` is (multi-metric: the refit's)."""
    return "mean_test_score" if "mean_test_score" in search.cv_results_ else f"mean_test_{search.refit}"


def candidates_agreement(stacked, alone, tolerance=0.01):
    """How the stacked search's candidates score against the same candidates trained one
    at a time (issue 11: every ``mean_test_score`` within 0.01, the same best): a
    sentence, or None when a row is missing."""
    if not all(r.get("status") == "ok" and r.get("mean_test_scores") for r in (stacked, alone)):
        return None
    differences = [abs(a - b) for a, b in zip(stacked["mean_test_scores"], alone["mean_test_scores"])]
    within = sum(d <= tolerance for d in differences)
    same_best = stacked["best_params"] == alone["best_params"]
    return (f"Stacked (TensorFlow, cold) against one fit at a time: {within} of {len(differences)} "
            f"candidates' mean CV accuracy within {tolerance} (largest difference "
            f"{max(differences):.4f}); best parameters {'the same' if same_best else 'differ'}.")


def make_rows(run):
    """The row functions of a workload ``run(mlp_class, search_module) -> fitted search``."""
    def sklearn_row(args):
        from sklearn import model_selection
        from sklearn.neural_network import MLPClassifier
        search, (seconds,) = _timed(run, MLPClassifier, model_selection)
        return _result(search, seconds)

    def skdl_row(backend, stacked, times=1, cache=False, note=""):
        def row(args):
            folder = _use_backend(backend, cache)
            importlib.import_module("keras")  # imports stay out of the timing
            from sklearn import model_selection as sklearn_search

            from skdl import MLPClassifier
            from skdl import model_selection as skdl_search
            note_here = f"{len(os.listdir(folder))} cached programs at start" if cache else note
            search, seconds = _timed(run, MLPClassifier, skdl_search if stacked else sklearn_search,
                                     times)
            extra = f"first search {seconds[0]:.1f} s" if times > 1 else ""
            return _result(search, seconds[-1], "; ".join(x for x in (note_here, extra) if x))
        return row

    return {
        "sklearn": sklearn_row,
        "skdl": skdl_row("tensorflow", False),
        "skdl_fused": skdl_row("tensorflow", True),
        "skdl_fused_fill": skdl_row("tensorflow", True, cache=True),
        "skdl_fused_cached": skdl_row("tensorflow", True, cache=True),
        "skdl_fused_warm": skdl_row("tensorflow", True, times=2),
        "skdl_fused_jax": skdl_row("jax", True),
        "skdl_fused_jax_fill": skdl_row("jax", True, cache=True),
        "skdl_fused_jax_cached": skdl_row("jax", True, cache=True),
        "skdl_fused_jax_warm": skdl_row("jax", True, times=2),
    }


#: The stacked rows in the order they run: each fill row fills its backend's cache (its
#: result is not reported) for the cached row after it.
STACKED_ROWS = ("skdl_fused", "skdl_fused_fill", "skdl_fused_cached", "skdl_fused_warm",
                "skdl_fused_jax", "skdl_fused_jax_fill", "skdl_fused_jax_cached",
                "skdl_fused_jax_warm")


def without_fill_rows(results):
    """``results`` without the fill rows (a failed one is logged: its cached row starts empty)."""
    for name in [name for name in results if name.endswith("_fill")]:
        fill = results.pop(name)
        if fill.get("status") == "error":
            C.log(f"row {name} failed, so the next cached row starts empty: {fill.get('reason')}")
    return results


def cache_environment():
    """A fresh, empty compilation-cache folder for this run (each backend's fill row fills
    it, its cached row reads it)."""
    return {CACHE_ENV: tempfile.mkdtemp(prefix="skdl-xla-cache-")}


def search_table(results, labels, time_digits=2):
    """The markdown table and the JSON report's rows of a search benchmark's ``results``
    (each a row's dict, by name; ``labels`` by the same names): each row's search time,
    its ratio to the ``"sklearn"`` row's, its best CV accuracy and that accuracy's
    difference from scikit-learn's, its fits and its best parameters."""
    reference = results["sklearn"].get("seconds")
    reference_score = results["sklearn"].get("best_score")
    rows, json_rows = [], []
    for name, result in results.items():
        if result.get("status") != "ok":
            rows.append([labels[name], C.status_text(result), "-", "-", "-", "-", "-"])
            json_rows.append(C.report_row(C.plain(labels[name]), None, "s",
                                          notes=C.status_text(result)))
            continue
        difference = None if reference_score is None else result["best_score"] - reference_score
        params = ", ".join(f"{k}={v}" for k, v in result["best_params"].items())
        notes = "; ".join(x for x in (params, result.get("note")) if x)
        rows.append([labels[name], f"{result['seconds']:.{time_digits}f} s",
                     C.ratio(result["seconds"], reference), f"{result['best_score']:.4f}",
                     "-" if difference is None else f"{difference:+.4f}", result["fits"], notes])
        json_rows.append(C.report_row(
            C.plain(labels[name]), result["seconds"], "s", C.row_ratio(result["seconds"], reference),
            notes, **{"best CV accuracy": result["best_score"], "accuracy - sklearn's": difference,
                      "fits": result["fits"]}))
    table = C.markdown_table(["system", "time", "ratio to sklearn", "best CV accuracy",
                              "accuracy - sklearn's", "fits", "best params / note"], rows)
    return table, json_rows


def report(title, setup, goal_ratio, goal_text, results, args, workload):
    """Print the markdown table (and write the JSON report) of a search benchmark."""
    reference = results["sklearn"].get("seconds")
    table, json_rows = search_table(results, LABELS)
    footer = [goal_text]
    agreement = candidates_agreement(results.get("skdl_fused", {}), results.get("skdl", {}))
    if agreement:
        footer.append(agreement)
    fused = results.get("skdl_fused", {})
    if fused.get("status") == "ok" and reference:
        footer.append(f"skdl stacked (TensorFlow, cold): {fused['seconds'] / reference:.2f}x sklearn "
                      f"({'meets' if fused['seconds'] / reference <= goal_ratio else 'misses'} "
                      f"{goal_ratio:.2f}x).")
    C.finish_report(title, args, table, [setup], footer, workload=workload, json_rows=json_rows,
                    value_label="search time", ratio_label="ratio to sklearn",
                    reference=C.plain(LABELS["sklearn"]), headline=C.plain(LABELS["skdl_fused"]),
                    goal=goal_ratio)


def main(script, description, run, title, setup, goal_ratio, goal_text, workload):
    """A search benchmark's command line: run every row of ``run``'s workload, each in its
    own subprocess, and report (``run(mlp_class, search_module, quick)``)."""
    parser = argparse.ArgumentParser(description=description)
    C.add_common_args(parser)
    args = parser.parse_args()
    rows = make_rows(lambda mlp, module: run(mlp, module, args.quick))
    if args.row:
        return C.run_child(rows, args)
    results = C.run_all(script, parser, args, rows, env_extra=cache_environment())
    results = without_fill_rows(results)
    report(title, setup, goal_ratio, goal_text, results, args, workload)
