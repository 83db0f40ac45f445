"""scikit-learn's own MLP test suite, run on skdl: ``test_mlp.py`` with its import swapped.

Copies the installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` into a
temporary folder twice, once as it is and once with ``from sklearn.neural_network import
MLPClassifier, MLPRegressor`` replaced by skdl's, runs pytest on each in its own process
and prints both counts and skdl's failures side by side. Four of its tests read
scikit-learn's private internals (``_coef_grads``, ``_no_improvement_count`` after
``partial_fit``, ...): skdl is expected to fail those.

    PYTHONPATH=. python benchmarks/sklearn_mlp_suite.py [--out FILE]
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as C

SWAP = ("from sklearn.neural_network import MLPClassifier, MLPRegressor",
        "from skdl import MLPClassifier, MLPRegressor")


def run_suite(source, folder, swap):
    text = source.read_text()
    if swap:
        assert SWAP[0] in text, "scikit-learn's test file no longer imports the MLPs as expected"
        text = text.replace(*SWAP)
    target = Path(folder) / ("test_mlp_skdl.py" if swap else "test_mlp_sklearn.py")
    target.write_text(text)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                           str(target)], cwd=folder, capture_output=True, text=True,
                          env=C.child_environment())
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (passed|failed|errors?)",
                                                            done.stdout.splitlines()[-1]))
    failures = sorted(set(re.findall(r"^(?:FAILED|ERROR) \S+::(\S+)", done.stdout, re.M)))
    return counts, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args()
    import sklearn

    source = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    with tempfile.TemporaryDirectory() as folder:
        theirs, their_failures = run_suite(source, folder, swap=False)
        ours, our_failures = run_suite(source, folder, swap=True)
    rows = [["scikit-learn's MLP", theirs.get("passed", 0), theirs.get("failed", 0),
             theirs.get("error", 0) + theirs.get("errors", 0), ", ".join(their_failures) or "-"],
            ["skdl's MLP (import swapped)", ours.get("passed", 0), ours.get("failed", 0),
             ours.get("error", 0) + ours.get("errors", 0), ", ".join(our_failures) or "-"]]
    table = C.markdown_table(["system", "passed", "failed", "errors", "failing tests"], rows)
    C.print_report(f"scikit-learn {sklearn.__version__}'s test_mlp.py on skdl", args, table,
                   [f"source: {source}"])


if __name__ == "__main__":
    main()
