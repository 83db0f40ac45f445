"""Shared helpers for the benchmark scripts: machine header, markdown tables,
isolated rows (one subprocess per system), timing and the FLOP floor.

Never imports TensorFlow (or any backend) at module level: ``p4_gpu_throughput.py``
runs on machines with JAX and no TensorFlow.
"""

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_TAG = "@@SKDL_BENCH_RESULT "

# The package names shown in the header: (import name, distribution names to try).
PACKAGES = [
    ("numpy", ("numpy",)),
    ("sklearn", ("scikit-learn",)),
    ("keras", ("keras",)),
    ("tensorflow", ("tensorflow-cpu", "tensorflow", "tensorflow-gpu")),
    ("jax", ("jax",)),
    ("jaxlib", ("jaxlib",)),
    ("optax", ("optax",)),
    ("torch", ("torch",)),
    ("skorch", ("skorch",)),
    ("scikeras", ("scikeras",)),
    ("psutil", ("psutil",)),
]


def ensure_skdl_importable():
    """Make ``import skdl`` work from a checkout without ``PYTHONPATH=.``."""
    if importlib.util.find_spec("skdl") is None and REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)


def installed(module):
    """True when ``module`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(*modules):
    """The first of ``modules`` that is not installed, or None."""
    for module in modules:
        if not installed(module):
            return module
    return None


def package_version(module, dists):
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def skdl_version():
    ensure_skdl_importable()
    try:
        path = os.path.join(REPO_ROOT, "skdl", "__init__.py")
        with open(path) as f:
            for line in f:
                if line.startswith("__version__"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        pass
    return package_version("skdl", ("skdl",))


def git_revision():
    try:
        out = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--", "skdl"],
                               capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip() + ("+local changes in skdl/" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def load_average():
    """The 1-, 5- and 15-minute load averages as text (``"n/a"`` where the system has none)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_description():
    """CPU model, cores, RAM and operating system, in one line."""
    try:
        import psutil
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        physical = None
    mem = memory_gib()
    return (f"{cpu_model()}, {os.cpu_count()} logical cores"
            + (f" ({physical} physical)" if physical else "")
            + (f", {mem:.0f} GiB RAM" if mem else "")
            + f", {platform.system()} {platform.release()}")


def package_versions():
    """``{import name: version}`` of the packages in :data:`PACKAGES` that are installed."""
    versions = {}
    for module, dists in PACKAGES:
        version = package_version(module, dists)
        if version is not None:
            versions[module] = version
    return versions


def header_lines(title, extra=()):
    """Date, machine and package versions, as markdown-friendly lines."""
    versions = package_versions()
    absent = [m for m, _ in PACKAGES if m not in versions]
    lines = [
        f"## {title}",
        "",
        f"- date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- machine: {machine_description()}, load average {load_average()}",
        f"- python {platform.python_version()} ({sys.executable})",
        f"- skdl {skdl_version()} (git {git_revision()})",
        f"- packages: {', '.join(f'{m} {v}' for m, v in versions.items())}",
        f"- not installed: {', '.join(absent) or 'none'}",
        f"- KERAS_BACKEND={os.environ.get('KERAS_BACKEND', '(unset: tensorflow)')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}",
    ]
    lines.extend(f"- {e}" for e in extra)
    return lines


def markdown_table(headers, rows):
    """``rows`` is a list of lists (already formatted or plain values)."""
    def cell(v):
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def emit(text, out_path=None, mode="a"):
    print(text, flush=True)
    if out_path:
        with open(out_path, mode) as f:
            f.write(text + "\n")


def log(msg):
    """Progress goes to stderr so stdout stays a clean report."""
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def fmt(x, digits=3, unit=""):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        s = f"{x:.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.{digits - 1}f}" if abs(x) >= 1 else f"{x:.{digits}f}"
    return s + unit


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


# --------------------------------------------------------------------------
# Rows in subprocesses: each system runs in a fresh interpreter, so one
# system's memory, traced graphs and thread pools never affect another's.

def add_common_args(parser):
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: a smoke run that checks the script works (numbers are meaningless)")
    parser.add_argument("--only", default=None,
                        help="comma-separated row names to run (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated row names to skip")
    parser.add_argument("--anchor-python", default=None,
                        help="interpreter for the optional anchors (scikeras, skorch, torch), e.g. "
                             "/tmp/anchors/bin/python; default: this interpreter")
    parser.add_argument("--row-timeout", type=float, default=3600.0,
                        help="seconds before a row's subprocess is stopped")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    parser.add_argument("--json", default=None, metavar="FILE.json",
                        help="also write the report as JSON (for the docs' tables and figure)")
    parser.add_argument("--row", default=None, help=argparse.SUPPRESS)  # internal: run one row
    return parser


def quick_defaults(args, **sizes):
    """Give each option of ``sizes`` that was not given its ``(quick, full)`` value, by ``--quick``.

    ``quick_defaults(args, fits=(20, 150))`` sets ``args.fits`` to 20 with ``--quick``
    and to 150 without, unless ``--fits`` was given.
    """
    for name, (quick, full) in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def parse_search_args(parser, n_jobs, n_jobs_help):
    """Parse the P1 search's options (epochs, batch size, folds, n_jobs); --quick shrinks them."""
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (default 30; 3 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--folds", type=int, default=None, help="CV folds (default 5; 2 with --quick)")
    parser.add_argument("--n-jobs", type=int, default=n_jobs, help=n_jobs_help)
    return quick_defaults(parser.parse_args(), epochs=(3, 30), folds=(2, 5))


def child_argv(args, parser):
    """The command-line options to forward to a row's subprocess."""
    argv = []
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "row", "only", "skip", "out", "json",
                                                          "anchor_python", "row_timeout"):
            continue
        value = getattr(args, action.dest)
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            if value:
                argv.append(flag)
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def report_result(result):
    """Called in a row's subprocess: hand a JSON-able dict back to the parent."""
    sys.stdout.flush()
    print(RESULT_TAG + json.dumps(result), flush=True)


def child_environment(env_extra=None):
    """This process's environment for a child Python: the checkout first on ``PYTHONPATH``
    (``import skdl`` finds it), TensorFlow's start-up logging off, then ``env_extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(env_extra or {})
    return env


def run_row(script, name, argv, python=None, timeout=3600.0, env_extra=None):
    """Run ``script --row name argv`` in a fresh interpreter; returns its result dict.

    The dict has ``status``: ``"ok"``, ``"not installed"`` / ``"skipped"`` (with
    ``reason``) or ``"error"`` (with ``reason``, the last line of stderr).
    """
    env = child_environment(env_extra)
    cmd = [python or sys.executable, os.path.abspath(script), "--row", name] + list(argv)
    log(f"row {name}: {' '.join(cmd if python and python != sys.executable else cmd[1:])}")
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
    except OSError as e:
        return {"status": "error", "reason": f"could not start {cmd[0]}: {e}"}
    wall = time.perf_counter() - start
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG):])
    if result is None:
        lines = [l for l in (proc.stderr or "").splitlines() if l.strip()]
        reason = lines[-1] if lines else f"exit status {proc.returncode}, no result"
        log(f"row {name} failed ({wall:.0f} s): {reason}")
        if os.environ.get("SKDL_BENCH_DEBUG"):
            print(proc.stderr, file=sys.stderr)
        return {"status": "error", "reason": reason[:300]}
    result.setdefault("status", "ok")
    log(f"row {name} done in {wall:.0f} s: {result.get('status')}"
        + (f" ({result['reason']})" if result.get("reason") else ""))
    return result


def selected(args, names):
    only = [n for n in (args.only or "").split(",") if n]
    skip = [n for n in args.skip.split(",") if n]
    return [n for n in names if (not only or n in only) and n not in skip]


def not_installed(*modules):
    """Result for a row whose packages are missing (reported, never a failure)."""
    gone = missing(*modules)
    return {"status": "not installed", "reason": f"not installed: {gone}"}


def status_text(result):
    """None for a result that is ok (or has no status), else a short cell text."""
    if result.get("status", "ok") == "ok":
        return None
    return f"{result.get('status')}: {result.get('reason', '')}" if result.get("status") != "not installed" \
        else result.get("reason", "not installed")


def quiet():
    """Silence TensorFlow's and the libraries' chatter in a row's subprocess."""
    import warnings
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


# --------------------------------------------------------------------------
# Timing

def best_of(fn, repeats=3):
    """Best wall time of ``repeats`` calls of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def rss_mib():
    import psutil
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def epoch_clock_callback():
    """A Keras callback recording ``time.perf_counter()`` at the end of every epoch.

    Its ``times`` list starts with the time at ``on_train_begin``; per-epoch
    durations are successive differences.  ``per_epoch(skip_first=True)``
    averages the epochs after the first (the first one traces and compiles).
    """
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_begin(self, logs=None):
            self.times = [time.perf_counter()]

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None:
                float(loss)  # wait for an asynchronous backend (JAX) to finish the epoch
            self.times.append(time.perf_counter())

        def durations(self):
            return [b - a for a, b in zip(self.times[:-1], self.times[1:])]

        def per_epoch(self, skip_first=True):
            d = self.durations()
            d = d[1:] if skip_first and len(d) > 1 else d
            return sum(d) / len(d) if d else float("nan")

    return EpochClock()


# --------------------------------------------------------------------------
# FLOP floor on CPU

FLOOR_SHAPES = [(128, 784, 1024), (128, 1024, 512), (128, 1024, 1024), (128, 512, 512),
                (256, 1024, 1024), (1024, 1024, 1024)]


def matmul_peak_gflops(shapes=FLOOR_SHAPES, repeats=3, seconds=0.3, backend="tensorflow"):
    """Best float32 matmul rate over ``shapes`` (m, k, n) and ``repeats`` blocks of ~``seconds``.

    Returns ``(best GFLOP/s, (m, k, n) of the best, {shape: best GFLOP/s})``.
    ``backend`` is ``"tensorflow"`` (a ``tf.function``, as the anchors measured) or
    ``"numpy"``.
    """
    import numpy as np

    if backend == "tensorflow":
        import tensorflow as tf

        f = tf.function(lambda a, b: tf.matmul(a, b))

        def make(m, k, n):
            a = tf.random.normal((m, k)); b = tf.random.normal((k, n))
            return lambda: f(a, b).numpy()
    else:
        rng = np.random.default_rng(0)

        def make(m, k, n):
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            return lambda: a @ b

    per_shape = {}
    for m, k, n in shapes:
        call = make(m, k, n)
        for _ in range(3):
            call()
        t = time.perf_counter(); reps = 0
        while time.perf_counter() - t < 0.05:
            call(); reps += 1
        one = (time.perf_counter() - t) / reps
        block = max(1, int(seconds / one))
        best = 0.0
        for _ in range(repeats):
            t = time.perf_counter()
            for _ in range(block):
                call()
            dt = time.perf_counter() - t
            best = max(best, 2.0 * m * k * n * block / dt / 1e9)
        per_shape[(m, k, n)] = best
    shape = max(per_shape, key=per_shape.get)
    return per_shape[shape], shape, per_shape


# --------------------------------------------------------------------------
# The MNIST-scale synthetic set and network of P3/P4 (anchor_big.py, gpu_anchor.py)

BIG_HIDDEN = (1024, 512, 512, 512)


def synthetic_mnist(n=60000, d=784, c=10, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32)
    W = rng.standard_normal((d, c)).astype(np.float32)
    y = np.argmax(X @ W + rng.standard_normal((n, c)).astype(np.float32), 1).astype("int32")
    return X, y


def flop_per_epoch(n, d=784, hidden=BIG_HIDDEN, c=10):
    """Forward + backward matmul FLOPs of one epoch (6 x weights x samples), as benchmarks.md counts."""
    sizes = (d,) + tuple(hidden) + (c,)
    return 6 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * n


# --------------------------------------------------------------------------
# The driver every script uses

def run_child(rows, args):
    """In a row's subprocess: run ``rows[args.row](args)`` and report its dict."""
    quiet()
    ensure_skdl_importable()
    result = rows[args.row](args)
    report_result(result)


def run_all(script, parser, args, rows, optional=(), env_extra=None):
    """In the parent: run every selected row in its own subprocess; ``{name: result}``.

    Rows not selected (``--only`` / ``--skip``) get ``status="skipped"``.
    ``optional`` rows run with ``--anchor-python`` when it is given.
    """
    argv = child_argv(args, parser)
    chosen = selected(args, list(rows))
    results = {}
    for name in rows:
        if name not in chosen:
            results[name] = {"status": "skipped", "reason": "--only/--skip"}
            continue
        python = args.anchor_python if (name in optional and args.anchor_python) else None
        results[name] = run_row(script, name, argv, python=python, timeout=args.row_timeout,
                                env_extra=env_extra)
    return results


def print_report(title, args, table, extra_header=(), footer=()):
    """Header (date, machine, versions), the table, then notes; to stdout and ``--out``."""
    text = "\n".join(header_lines(title, extra_header)) + "\n\n" + table + "\n"
    if footer:
        text += "\n" + "\n".join(footer) + "\n"
    emit(text, args.out, mode="w")


#: The last note of a ``--quick`` run's report.
QUICK_NOTE = "(--quick: smoke-run sizes, the numbers mean nothing.)"


def finish_report(title, args, table, extra_header=(), footer=(), *, workload=None, json_rows=(),
                  **json_fields):
    """Print the report (:func:`print_report`, with :data:`QUICK_NOTE` last after ``--quick``)
    and, with ``--json`` and a ``workload``, write it as JSON (:func:`write_json_report`).

    The JSON report's ``setup`` is the header lines after the title's, joined; its
    ``goal_text`` the first note and its ``notes`` the others, unless ``json_fields``
    say otherwise; ``smoke_run`` is ``--quick``.
    """
    quick = getattr(args, "quick", False)
    footer = list(footer) + ([QUICK_NOTE] if quick else [])
    print_report(title, args, table, extra_header, footer)
    if workload and getattr(args, "json", None):
        fields = dict(setup=" ".join(extra_header), goal_text=footer[0] if footer else "",
                      notes=footer[1:], smoke_run=quick)
        write_json_report(args.json, workload, title, json_rows, **{**fields, **json_fields})


# --------------------------------------------------------------------------
# JSON reports: what the docs' tables and ratio figure are drawn from
# (see benchmarks/README.md for the fields).

REPORT_FIELDS = ("workload", "title", "date", "machine", "versions", "git_revision", "setup",
                 "value_label", "ratio_label", "reference", "headline", "goal", "rows")


def report_row(system, value, unit, ratio=None, notes="", **columns):
    """One system's row of a JSON report.

    Parameters
    ----------
    system : str
        The row's label, e.g. ``"skdl MLPClassifierTF"``.
    value : float or None
        The workload's main figure (None when the row did not run).
    unit : str
        ``value``'s unit, e.g. ``"s"``, ``"ms"``, ``"MiB"``.
    ratio : float or None
        ``value`` over the reference's value measured in the same run.
    notes : str
        Anything a reader needs to read the row (an error, a version, a caveat).
    **columns
        The other figures of the row, by column name (keyword names are used as given;
        pass a dict with ``**{"best CV accuracy": 0.975}`` for names with spaces).

    Returns
    -------
    dict
    """
    return {"system": system, "value": value, "unit": unit, "ratio": ratio, "notes": notes,
            "columns": columns}


def plain(label):
    """A markdown row label without its bold markers: ``"**skdl**"`` -> ``"skdl"``."""
    return label.replace("**", "")


def row_ratio(value, reference):
    """``value / reference``, or None when either is missing."""
    if value is None or not reference:
        return None
    return value / reference


def write_json_report(path, workload, title, rows, *, value_label, ratio_label, reference,
                      headline=None, goal=None, goal_text="", setup="", notes=(), smoke_run=False,
                      device=None):
    """Write one run's report to ``path`` as JSON, with this run's date, machine and versions.

    Parameters
    ----------
    path : str
        The file to write (its folder must exist).
    workload : str
        ``"P1"`` ... ``"P6"``, ``"wrappers"`` or ``"side-by-side"``.
    title : str
        The report's heading.
    rows : list of dict
        From :func:`report_row`.
    value_label, ratio_label : str
        Column headings for the rows' ``value`` and ``ratio``.
    reference : str
        What the ratios divide by (a row's ``system``, or a description).
    headline : str or None
        The ``system`` of skdl's row that the ratio figure plots; None: not plotted.
    goal : float or None
        The headline ratio the project aims to be at or under.
    goal_text, setup : str
        The goal and the workload's set-up, in words.
    notes : sequence of str
        Findings of this run, in words.
    smoke_run : bool
        True for ``--quick`` runs, whose numbers mean nothing (the figure skips them).
    device : str or None
        The accelerator the rows ran on, when not the CPU.

    Returns
    -------
    dict
        The report as written.
    """
    now = datetime.now().astimezone()
    report = {
        "workload": workload, "title": title,
        "date": f"{now:%Y-%m-%d}", "time": f"{now:%H:%M %Z}",
        "machine": machine_description(), "load_average": load_average(), "device": device,
        "versions": {"python": platform.python_version(), "skdl": skdl_version(), **package_versions()},
        "git_revision": git_revision(),
        "setup": setup, "value_label": value_label, "ratio_label": ratio_label,
        "reference": reference, "headline": headline, "goal": goal, "goal_text": goal_text,
        "rows": list(rows), "notes": list(notes), "smoke_run": bool(smoke_run),
    }
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    log(f"JSON report written to {path}")
    return report


def load_report(path):
    """A JSON report, checked for the fields the docs and the figure read."""
    with open(path) as f:
        report = json.load(f)
    absent = [field for field in REPORT_FIELDS if field not in report]
    if absent:
        raise ValueError(f"{path} is not a benchmark report: it lacks {', '.join(absent)}")
    for row in report["rows"]:
        numbers = [row[key] for key in ("value", "ratio") if row[key] is not None]
        if not isinstance(row["unit"], str) or not all(isinstance(x, (int, float)) for x in numbers):
            raise ValueError(f"{path}: row {row['system']!r} needs a numeric value and ratio (or null) "
                             f"and a unit; got {row['value']!r}, {row['ratio']!r}, {row['unit']!r}")
    systems = [row["system"] for row in report["rows"]]
    if report["headline"] is not None and report["headline"] not in systems:
        raise ValueError(f"{path}: its headline {report['headline']!r} is none of its rows")
    return report


def load_reports(folder):
    """Every ``*.json`` report in ``folder``, sorted by file name."""
    names = sorted(name for name in os.listdir(folder) if name.endswith(".json"))
    return [load_report(os.path.join(folder, name)) for name in names]


# --- the tiny iris workload shared by P2 (time per fit) and P5 (memory per fit) -------------
def iris(float32=False):
    import numpy as np
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    return (X.astype(np.float32) if float32 else X), y


def tiny_keras_model():
    """4 -> 16 (relu) -> 3 (softmax), the network every tiny-iris system trains."""
    import keras
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def tiny_fit_predict(system, epochs):
    """``(fit_predict(i), note)`` for one system on tiny iris; ``i`` is the fit's index (its seed)."""
    if system == "sklearn":
        from sklearn.neural_network import MLPClassifier
        X, y = iris()
        return lambda i: MLPClassifier((16,), max_iter=epochs, random_state=i).fit(X, y).predict(X), ""
    if system == "skdl":
        from skdl import MLPClassifierTF
        X, y = iris()
        return lambda i: MLPClassifierTF((16,), max_iter=epochs, random_state=i).fit(X, y).predict(X), ""
    if system == "keras":
        import keras
        X, y = iris(float32=True)

        def fit_predict(i):
            model = tiny_keras_model()
            model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
            model.fit(X, y, epochs=epochs, verbose=0)
            model.predict(X, verbose=0)
        return fit_predict, f"keras {keras.__version__} ({keras.backend.backend()}), no clear_session"
    if system in ("skdl_wrapper", "scikeras"):  # one script, two imports
        if system == "scikeras":
            from scikeras.wrappers import KerasClassifier
            note = f"scikeras {package_version('scikeras', ('scikeras',))}"
        else:
            from skdl.wrappers import KerasClassifier
            note = "the scikeras row's script with skdl.wrappers imported"
        X, y = iris(float32=True)
        return (lambda i: KerasClassifier(lambda meta=None: tiny_keras_model(), verbose=0, epochs=epochs,
                                          loss="sparse_categorical_crossentropy", optimizer="adam")
                .fit(X, y).predict(X)), note
    if system == "skorch":
        import numpy as np
        import torch
        import torch.nn as nn
        from skorch import NeuralNetClassifier
        torch.manual_seed(0)

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

            def forward(self, x):
                return self.net(x)

        X, y = iris(float32=True)
        y = y.astype(np.int64)
        return (lambda i: NeuralNetClassifier(MLP, criterion=nn.CrossEntropyLoss, max_epochs=epochs,
                                              train_split=None, verbose=0).fit(X, y).predict(X)), \
            f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    raise ValueError(f"unknown tiny-iris system {system!r}")


#: The packages a tiny-iris system needs beyond skdl's own (its row reports them missing).
TINY_PACKAGES = {"keras": ("keras",), "scikeras": ("keras", "scikeras"), "skorch": ("torch", "skorch")}
#: The report labels of the tiny-iris systems P2 and P5 both run (each labels its keras row).
TINY_LABELS = {
    "sklearn": "sklearn MLPClassifier",
    "skdl": "**skdl MLPClassifierTF**",
    "skdl_wrapper": "skdl KerasClassifier (the scikeras row's script)",
    "scikeras": "scikeras KerasClassifier",
    "skorch": "skorch NeuralNetClassifier (PyTorch CPU)",
}


def tiny_row(system, measure, epochs=None):
    """The row function of one :func:`tiny_fit_predict` system (P2, P5).

    The row returns ``measure(fit_predict, args)``'s dict with the system's note, or
    "not installed" when a package of :data:`TINY_PACKAGES` is missing; ``epochs`` is
    a number, or None for ``args.epochs``.
    """
    def row(args):
        packages = TINY_PACKAGES.get(system, ())
        if packages and missing(*packages):
            return not_installed(*packages)
        fit_predict, note = tiny_fit_predict(system, args.epochs if epochs is None else epochs)
        return {**measure(fit_predict, args), **({"note": note} if note else {})}
    return row
