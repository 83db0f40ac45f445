"""The command line: ``python -m skdl tune`` and ``python -m skdl predict``.

Nothing heavy is imported at module level, so ``--help`` answers at once;
Keras and TensorFlow load when training starts.
"""

import argparse
import contextlib
import json
import sys
import time

DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")

DEFAULT_SPACE = {
    "hidden_layer_sizes": [[], [32], [64], [128], [64, 64], [128, 64], [64, 64, 64]],
    "activation": ["relu", "tanh", "elu"],
    "solver": ["adam", "sgd", "rmsprop"],
    "learning_rate_init": {"loguniform": [1e-4, 3e-2]},
    "alpha": {"loguniform": [1e-6, 1e-2]},
}


class CommandError(Exception):
    """A problem to report in one line, without a traceback."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skdl",
        description="Tune and use Keras networks with scikit-learn searches.")
    commands = parser.add_subparsers(dest="command", required=True)

    tune = commands.add_parser(
        "tune", help="randomized search over topology, activation, solver and learning rate",
        description="Run a cross-validated randomized search and print a leaderboard.")
    source = tune.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS, help="a dataset bundled with scikit-learn")
    source.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    tune.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    tune.add_argument("--task", choices=("classification", "regression"),
                      help="force the task (default: inferred from the target)")
    tune.add_argument("--n-iter", type=int, default=10, help="candidates to try (default: 10)")
    tune.add_argument("--cv", type=int, default=3, help="cross-validation folds (default: 3)")
    tune.add_argument("--n-jobs", type=int, default=1, help="parallel fits (default: 1)")
    tune.add_argument("--max-iter", type=int, default=50, help="epochs per fit (default: 50)")
    tune.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    tune.add_argument("--space", metavar="FILE",
                      help="JSON (or YAML) search space replacing the default; values are lists, "
                           'or {"loguniform": [low, high]}')
    tune.add_argument("--out", metavar="MODEL_FILE", help="save the best pipeline here (joblib)")
    tune.add_argument("--checkpoint", metavar="DIR",
                      help="save finished fits in this folder; run again, the search resumes")
    tune.add_argument("--quiet", action="store_true", help="no progress on stderr")

    predict = commands.add_parser("predict", help="predict with a saved model",
                                  description="Print (or write) predictions of a saved model.")
    predict.add_argument("--model", required=True, metavar="MODEL_FILE", help="a file saved by tune --out")
    predict.add_argument("--data", required=True, metavar="FILE.csv", help="a CSV file with the feature columns")
    predict.add_argument("--out", metavar="PRED.csv", help="write predictions here instead of printing")
    return parser


# --- data ---------------------------------------------------------------------------
def _read_csv(path):
    try:
        import pandas as pd
    except ImportError as error:
        raise CommandError("reading CSV files needs pandas: pip install pandas") from error
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError as error:
        raise CommandError(f"no such file: {path}") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {path} as CSV: {str(error).splitlines()[0]}") from error
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise CommandError(f"{path} has no data rows")
    return frame


def _infer_task(y):
    import numpy as np

    values = np.asarray(y)
    if values.dtype.kind in "OUSb":
        return "classification"
    distinct = np.unique(values[~np.isnan(values.astype(float))])
    integral = np.all(np.mod(distinct, 1) == 0)
    return "classification" if integral and len(distinct) <= 20 else "regression"


def load_problem(args):
    """Return (X, y, task, feature columns or None, target name)."""
    if args.dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{args.dataset}")()
        task = args.task or ("regression" if args.dataset == "diabetes" else "classification")
        return bunch.data, bunch.target, task, None, "target"
    if not args.target:
        raise CommandError("--data needs --target COLUMN")
    frame = _read_csv(args.data)
    if args.target not in frame.columns:
        raise CommandError(f"target column {args.target!r} not in {args.data}; columns: "
                           f"{', '.join(map(str, frame.columns))}")
    frame = frame.dropna(subset=[args.target])
    y = frame.pop(args.target).to_numpy()
    if frame.shape[1] == 0:
        raise CommandError(f"{args.data} has no feature columns besides {args.target!r}")
    return frame, y, args.task or _infer_task(y), list(frame.columns), args.target


def make_pipeline_for(X, task, args):
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from . import MLPClassifier, MLPRegressor

    estimator = (MLPClassifier if task == "classification" else MLPRegressor)(
        max_iter=args.max_iter, random_state=args.random_state)
    if hasattr(X, "columns"):
        prep = make_column_transformer(
            (make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(dtype_include="number")),
            (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
             make_column_selector(dtype_exclude="number")))
    else:
        prep = StandardScaler()
    return make_pipeline(prep, estimator)


def load_space(path, step):
    """The search space with the estimator's parameter names prefixed for the pipeline."""
    from scipy.stats import loguniform

    space = DEFAULT_SPACE
    if path:
        try:
            with open(path) as handle:
                text = handle.read()
        except OSError as error:
            raise CommandError(f"cannot read space file {path}: {error.strerror}") from error
        try:
            space = json.loads(text)
        except json.JSONDecodeError:
            try:
                import yaml

                space = yaml.safe_load(text)
            except Exception as error:
                raise CommandError(f"space file {path} is neither JSON nor YAML") from error
        if not isinstance(space, dict) or not space:
            raise CommandError(f"space file {path} must map parameter names to values")
    distributions = {}
    for name, values in space.items():
        if isinstance(values, dict) and set(values) == {"loguniform"}:
            low, high = values["loguniform"]
            values = loguniform(low, high)
        elif not isinstance(values, list) or not values:
            raise CommandError(f"space: {name!r} must be a non-empty list or {{\"loguniform\": [low, high]}}")
        elif name == "hidden_layer_sizes":
            values = [tuple(v) if isinstance(v, list) else v for v in values]
        distributions[f"{step}__{name}"] = values
    return distributions


# --- commands --------------------------------------------------------------------------
def _short(params):
    parts = []
    for key, value in params.items():
        name = key.split("__", 1)[-1]
        parts.append(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


def _leaderboard(results, top=10):
    import numpy as np

    order = np.argsort(results["rank_test_score"], kind="stable")[:top]
    rows = [("rank", "mean score", "std", "params")]
    for i in order:
        rows.append((str(results["rank_test_score"][i]), f"{results['mean_test_score'][i]:.4f}",
                     f"{results['std_test_score'][i]:.4f}", _short(results["params"][i])))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3]
             for row in rows]
    return "\n".join(lines)


def tune(args):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from .model_selection import RandomizedSearchCV

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short fits are the point here

    if args.n_iter < 1 or args.cv < 2 or args.max_iter < 1:
        raise CommandError("--n-iter and --max-iter must be >= 1 and --cv >= 2")
    X, y, task, columns, target = load_problem(args)
    pipe = make_pipeline_for(X, task, args)
    step = pipe.steps[-1][0]
    space = load_space(args.space, step)
    # verbose=1: scikit-learn's "Fitting ..." line and skdl's bar of the epochs as they train.
    search = RandomizedSearchCV(pipe, space, n_iter=args.n_iter, cv=args.cv, n_jobs=args.n_jobs,
                                random_state=args.random_state, verbose=0 if args.quiet else 1,
                                checkpoint=args.checkpoint)
    if not args.quiet:
        print(f"skdl tune: {task} on {args.dataset or args.data} ({len(y)} rows), {args.n_iter} "
              f"candidates x {args.cv} folds, {args.max_iter} epochs each", file=sys.stderr)
    started = time.time()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is the leaderboard's
            search.fit(X, y)
    except ValueError as error:
        raise CommandError(f"search failed: {str(error).splitlines()[0]}") from error
    if not args.quiet:
        stacked = search.stacking_
        resumed = f", {stacked['checkpointed']} read from {args.checkpoint}" if args.checkpoint else ""
        print(f"search done in {time.time() - started:.1f}s ({stacked['fits']} networks trained in "
              f"{stacked['stacks']} stack(s), {stacked['train_time']:.1f}s{resumed})" + " " * 10,
              file=sys.stderr)
    metric = "accuracy" if task == "classification" else "R^2"
    print(f"Leaderboard ({metric}, {args.cv}-fold CV):")
    print(_leaderboard(search.cv_results_))
    print(f"Best {metric}: {search.best_score_:.4f} with {_short(search.best_params_)}")
    if args.out:
        import joblib

        from . import __version__

        joblib.dump({"model": search.best_estimator_, "task": task, "features": columns,
                     "target": target, "skdl_version": __version__}, args.out)
        print(f"Saved the best pipeline to {args.out}")
    return 0


def predict(args):
    import joblib
    import numpy as np

    try:
        saved = joblib.load(args.model)
    except FileNotFoundError as error:
        raise CommandError(f"no such file: {args.model}") from error
    except Exception as error:
        raise CommandError(f"{args.model} is not a model saved by 'skdl tune --out'") from error
    if not isinstance(saved, dict) or "model" not in saved:
        raise CommandError(f"{args.model} is not a model saved by 'skdl tune --out'")
    frame = _read_csv(args.data)
    X = frame
    if saved["features"] is None:
        X = frame.to_numpy()
    else:
        missing = [c for c in saved["features"] if c not in frame.columns]
        if missing:
            raise CommandError(f"{args.data} lacks the model's feature columns: {', '.join(missing)}")
        X = frame[saved["features"]]
    try:
        predictions = saved["model"].predict(X)
    except ValueError as error:
        raise CommandError(f"cannot predict on {args.data}: {str(error).splitlines()[0]}") from error
    if args.out:
        import pandas as pd

        pd.DataFrame({saved["target"]: predictions}).to_csv(args.out, index=False)
    else:
        print("\n".join(map(str, np.asarray(predictions).tolist())))
    return 0


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return {"tune": tune, "predict": predict}[args.command](args)
    except CommandError as error:
        print(f"skdl: error: {error}", file=sys.stderr)
        return 2
