"""scikeras' own test suite, run on skdl: its tests with ``scikeras.wrappers`` swapped for skdl's.

scikeras 0.13.0 ships no tests, so the suite is a folder holding scikeras'
``tests/`` package (``--suite``, default ``/tmp/scikeras-suite``: a folder with
``tests/__init__.py``, ``conftest.py``, ``mlp_models.py``, ``testing_utils.py`` and
the ``test_*.py`` files of ``--files``), copied from github.com/adriangb/scikeras.
The one at 2026-12-07's reports holds ``test_api.py``, ``test_callbacks.py`` and
``test_parameters.py`` as they are at commit 390789f8 (the Keras 3 tests),
``conftest.py`` from there with ``from keras import config`` (its ``keras.backend``
import fails on Keras 3.15), ``test_serialization.py`` ported to Keras 3 from its
tensorflow.keras version (commit 03a1890), and ``mlp_models.py`` /
``testing_utils.py`` rebuilt for Keras 3 (``dynamic_regressor`` compiles with "mse"
when scikeras passes ``loss=None``).

The suite is copied into a temporary folder and run by pytest in its own process
with a stand-in package ``scikeras`` first on ``sys.path`` whose ``wrappers`` is
skdl's (scikeras is no dependency of skdl). With ``--scikeras-python PATH`` (an
interpreter where scikeras is installed) the same files also run on scikeras
itself, for the reference count. Tests that download data sets are deselected and
counted as "needs the network" (:data:`NETWORK`).

    PYTHONPATH=. python benchmarks/scikeras_suite.py [--scikeras-python /tmp/scikeras-venv/bin/python] [--out FILE] [--json FILE.json]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as C

FILES = ("test_api.py", "test_callbacks.py", "test_parameters.py", "test_serialization.py")

#: Tests that fetch a data set (``fetch_california_housing``) from the network.
NETWORK = (
    "test_serialization.py::test_custom_loss_function",
    "test_serialization.py::test_custom_model_registered",
    "test_serialization.py::test_custom_model_unregistered",
    "test_serialization.py::test_run_eagerly",
)

SHIM = {
    "__init__.py": '"""skdl standing in for scikeras, for scikeras\' own tests."""\n',
    "wrappers.py": "from skdl.wrappers import *  # noqa: F401,F403\n"
                   "from skdl.wrappers import BaseWrapper, KerasClassifier, KerasRegressor  # noqa: F401\n",
}

SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|deselected|skipped|xfailed|xpassed)")


def prepare(suite, folder, files, shim):
    """Copy the suite's ``tests`` package (and, for skdl, the stand-in ``scikeras``) into ``folder``."""
    source = Path(suite) / "tests"
    absent = [name for name in ("__init__.py", "conftest.py", *files) if not (source / name).is_file()]
    if absent:
        raise SystemExit(f"{source} lacks {', '.join(absent)}: see this script's docstring")
    target = Path(folder) / "tests"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    if shim:
        package = Path(folder) / "shim" / "scikeras"
        package.mkdir(parents=True)
        for name, text in SHIM.items():
            (package / name).write_text(text)


def run_suite(suite, files, python, shim, timeout):
    """Run the suite in a fresh pytest process; returns ``(counts, failures, which scikeras)``."""
    with tempfile.TemporaryDirectory() as folder:
        prepare(suite, folder, files, shim)
        env = C.child_environment({"COLUMNS": "400"})  # pytest's summary lines are cut to fit
        if shim:
            env["PYTHONPATH"] = str(Path(folder) / "shim") + os.pathsep + env["PYTHONPATH"]
        which = subprocess.run([python, "-c", "import scikeras; print(scikeras.__file__)"],
                               cwd=folder, env=env, capture_output=True, text=True)
        origin = which.stdout.strip() or which.stderr.strip().splitlines()[-1]
        if which.returncode or shim != origin.startswith(folder):
            raise SystemExit(f"{python}: scikeras is {origin}, expected "
                             f"{'the stand-in' if shim else 'a real scikeras'}")
        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--tb=line",
                   "--rootdir", folder, *[f"tests/{name}" for name in files]]
        command += [f"--deselect=tests/{test}" for test in NETWORK if test.split("::")[0] in files]
        C.log(f"{'skdl' if shim else 'scikeras'}: {' '.join(command[1:])}")
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=timeout)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    counts = {}
    for n, kind in SUMMARY.findall(last):
        counts["errors" if kind.startswith("error") else kind] = int(n)
    if not counts:
        raise SystemExit(f"pytest gave no counts:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    failures = re.findall(r"^(?:FAILED|ERROR) tests/(\S+?)(?: - (.*))?$", done.stdout, re.M)
    return counts, [(test, (why or "")[:160]) for test, why in failures], origin


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="/tmp/scikeras-suite",
                        help="folder holding scikeras' tests/ package (see the docstring)")
    parser.add_argument("--files", default=",".join(FILES),
                        help="comma-separated test files of the suite to run")
    parser.add_argument("--scikeras-python", default=None,
                        help="an interpreter with scikeras installed: run the suite on scikeras too")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per pytest run")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    parser.add_argument("--json", default=None, metavar="FILE.json",
                        help="also write the report as JSON")
    args = parser.parse_args()
    files = [name.strip() for name in args.files.split(",") if name.strip()]
    network = [test for test in NETWORK if test.split("::")[0] in files]

    systems = []
    if args.scikeras_python:
        systems.append(("scikeras (itself)", run_suite(args.suite, files, args.scikeras_python,
                                                       False, args.timeout)))
    systems.append(("skdl (scikeras.wrappers swapped)",
                    run_suite(args.suite, files, sys.executable, True, args.timeout)))

    reference = systems[0][1][0].get("passed") if args.scikeras_python else None
    rows, json_rows, notes = [], [], []
    for label, (counts, failures, origin) in systems:
        passed, failed = counts.get("passed", 0), counts.get("failed", 0)
        errors = counts.get("errors", 0)
        rows.append([label, passed, failed, errors, counts.get("deselected", 0),
                     ", ".join(test for test, _ in failures) or "-"])
        json_rows.append(C.report_row(label, passed, "tests passed",
                                      C.row_ratio(passed, reference), f"scikeras: {origin}",
                                      failed=failed, errors=errors,
                                      **{"needs the network": len(network),
                                         "failing tests": [test for test, _ in failures]}))
        notes += [f"{label}: {test}: {why}" for test, why in failures]
    table = C.markdown_table(["system", "passed", "failed", "errors", "needs the network "
                              "(deselected)", "failing tests"], rows)
    header = [f"suite: {args.suite}/tests: {', '.join(files)}",
              f"needs the network (deselected): {', '.join(network) or 'none'}"]
    title = "scikeras' test suite on skdl"
    C.print_report(title, args, table, header, notes)
    if args.json:
        C.write_json_report(args.json, "scikeras-suite", title, json_rows, value_label="passed",
                            ratio_label="passed / scikeras' passed",
                            reference=systems[0][0] if reference is not None else "none run",
                            setup=" ".join(header), notes=notes)


if __name__ == "__main__":
    main()
