"""P11, a search at MNIST scale: peak memory growth and time of a GridSearchCV over 4 networks x 5 folds.

Synthetic float32 N x 784, 10 classes (``X = rand``, ``y = argmax(X @ W)``);
``GridSearchCV(cv=5)`` over ``hidden_layer_sizes`` {(256,), (512, 256)} x
``learning_rate_init`` {1e-3, 3e-3}, 3 epochs, batch 128, ``random_state=0``, at
N = 20,000 / 40,000 / 60,000 (``--sizes``). Each system and size in its own
subprocess, in this run: scikit-learn's ``MLPClassifier`` under its
``GridSearchCV``, skdl's ``MLPClassifier`` under ``skdl.model_selection``'s. The
peak resident memory's growth during the search (Linux's ``VmHWM``, reset just
before it) and the search's time; imports and the data outside both. Goals (issue
35): at 40,000 rows at most +1 GiB and at most 1.0x scikit-learn's time (headed:
within 2x the data's own size, 0.5x); at 60,000 rows at most +1.5 GiB.

    PYTHONPATH=. python benchmarks/p11_mnist_search.py [--quick] [--sizes 20000,40000,60000]
"""

import argparse
import importlib
import time

import _common as C

GRID = {"hidden_layer_sizes": [(256,), (512, 256)], "learning_rate_init": [1e-3, 3e-3]}
GOAL_GIB = {40000: 1.0, 60000: 1.5}


def data(n):
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.random((n, 784), dtype=np.float32)
    y = np.argmax(X @ rng.standard_normal((784, 10)).astype(np.float32), axis=1)
    return X, y


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def search_row(system, n):
    def row(args):
        import gc

        import numpy as np
        from sklearn.model_selection import KFold
        if system == "sklearn":
            from sklearn.model_selection import GridSearchCV
            from sklearn.neural_network import MLPClassifier
        else:
            importlib.import_module("keras")  # the backend's import stays outside the timing
            from skdl import MLPClassifier
            from skdl.model_selection import GridSearchCV
        X, y = data(args.quick_rows or n)
        search = GridSearchCV(MLPClassifier(max_iter=1 if args.quick else 3, batch_size=128,
                                            random_state=0), GRID, cv=KFold(5))
        gc.collect()
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # the peak resident size starts again from the current one
        before = _status("VmRSS")
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
        growth = _status("VmHWM") - before
        return {"status": "ok", "seconds": seconds, "growth_gib": growth / 2**30,
                "data_gib": X.nbytes / 2**30, "best_score": float(search.best_score_),
                "scores": np.round(search.cv_results_["mean_test_score"], 4).tolist(),
                "stacking": getattr(search, "stacking_", None)}
    return row


def search_flops(n, folds=5, epochs=3):
    """The matrix products' FLOPs of the search: every fold's fits and the refits."""
    total = 0
    for hidden in GRID["hidden_layer_sizes"]:
        units = (784,) + hidden + (10,)
        weights = sum(a * b for a, b in zip(units[:-1], units[1:]))
        rows = n * (folds - 1) + n  # each row trains in folds - 1 folds, and in the refit
        total += len(GRID["learning_rate_init"]) * 6 * weights * rows * epochs
    return total


def floor_row(args):
    """The float32 matmul floor: the search's FLOPs at this machine's best matmul rate (TF)."""
    import os
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    gflops, shape, _ = C.matmul_peak_gflops()
    return {"status": "ok", "gflops": gflops, "shape": list(shape)}


def rows_for(sizes):
    rows = {f"{system}_{n}": search_row(system, n) for n in sizes for system in ("sklearn", "skdl")}
    return dict(rows, floor=floor_row)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    C.add_common_args(parser)
    parser.add_argument("--sizes", default="20000,40000,60000", help="row counts, comma-separated")
    parser.add_argument("--quick-rows", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick and args.quick_rows is None:
        args.quick_rows = 2000
    sizes = [int(n) for n in args.sizes.split(",")]
    rows = rows_for(sizes)
    if args.row:
        return C.run_child(rows, args)
    results = C.run_all(__file__, parser, args, rows)
    table, json_rows = [], []
    floor = results["floor"]
    peak = floor["gflops"] * 1e9 if floor.get("status") == "ok" else None
    for n in sizes:
        reference = results[f"sklearn_{n}"]
        if peak:
            table.append([f"{n:,}", "matmul floor", "", f"{search_flops(args.quick_rows or n) / peak:.1f} s",
                          C.fmt(C.row_ratio(search_flops(args.quick_rows or n) / peak,
                                            reference.get("seconds")), unit="x"), ""])
        for system in ("sklearn", "skdl"):
            result = results[f"{system}_{n}"]
            if result.get("status") != "ok":
                table.append([f"{n:,}", system, C.status_text(result), "", "", ""])
                continue
            ratio = C.row_ratio(result["seconds"], reference.get("seconds"))
            goal = GOAL_GIB.get(n)
            growth = f"+{result['growth_gib']:.2f} GiB" + (
                "" if goal is None or system == "sklearn" else
                (" (goal met)" if result["growth_gib"] <= goal else f" (goal {goal} GiB missed)"))
            table.append([f"{n:,}", system, growth, f"{result['seconds']:.1f} s",
                          "" if ratio is None else f"{ratio:.2f}x", f"{result['best_score']:.4f}"])
            json_rows.append(C.report_row(f"{system} {n:,} rows", result["seconds"], "s", ratio, **{
                "peak memory growth (GiB)": round(result["growth_gib"], 3),
                "best CV accuracy": result["best_score"]}))
    title = "P11 a search at MNIST scale (GridSearchCV 4 candidates x 5 folds, N x 784)"
    C.finish_report(
        title, args, C.markdown_table(
            ["rows", "system", "peak memory growth", "time", "time vs sklearn", "best score"], table),
        ["P11: synthetic float32 N x 784, 10 classes; GridSearchCV(cv=KFold(5)) over "
         "hidden_layer_sizes {(256,), (512, 256)} x learning_rate_init {1e-3, 3e-3}; 3 epochs, "
         "batch 128; each system and size in its own subprocess; imports and data outside the "
         "measures"] + ([f"matmul floor: the search's matrix products (6 x weights x rows x "
                         f"epochs over its 20 fits and 4 refits) at this machine's best float32 "
                         f"matmul rate ({floor['gflops']:.0f} GFLOP/s, TensorFlow, shape "
                         f"{floor['shape']})"] if peak else []),
        ["Goals (issue 35): 40,000 rows at most +1 GiB and at most 1.0x scikit-learn's time "
         "(headed: within 2x the data's size, 0.5x); 60,000 rows at most +1.5 GiB."],
        workload="P11", json_rows=json_rows, value_label="search time (s)",
        ratio_label="time vs sklearn", reference="sklearn", goal=1.0,
        headline=f"skdl {40000 if 40000 in sizes else sizes[-1]:,} rows")


if __name__ == "__main__":
    main()
