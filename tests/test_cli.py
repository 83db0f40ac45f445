"""The command line: tune prints a leaderboard and saves a model; predict uses it; errors are one line."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from skdl.cli import main

pd = pytest.importorskip("pandas")
FAST = ["--n-iter", "2", "--cv", "2", "--max-iter", "3", "--quiet"]


@pytest.fixture
def iris_csv(tmp_path, iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(150) % 3]
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


def test_tune_prints_a_leaderboard_for_a_bundled_dataset(capsys):
    assert main(["tune", "--dataset", "iris", *FAST]) == 0
    out = capsys.readouterr().out
    assert "Leaderboard (accuracy, 2-fold CV):" in out
    header = [line for line in out.splitlines() if line.lstrip().startswith("rank")][0]
    assert header.split() == ["rank", "mean", "score", "std", "params"]
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 2 and "hidden_layer_sizes=" in rows[0]
    assert "Best accuracy: " in out


def test_tune_regression_dataset_reports_r2(capsys):
    assert main(["tune", "--dataset", "diabetes", *FAST]) == 0
    assert "Leaderboard (R^2" in capsys.readouterr().out


def test_csv_with_a_categorical_column_round_trips_through_predict(iris_csv, tmp_path, capsys):
    model = tmp_path / "model.joblib"
    assert main(["tune", "--data", str(iris_csv), "--target", "species", "--out", str(model), *FAST]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and f"Saved the best pipeline to {model}" in out
    assert main(["predict", "--model", str(model), "--data", str(iris_csv)]) == 0
    predictions = capsys.readouterr().out.split()
    assert len(predictions) == 150 and set(predictions) <= {"setosa", "versicolor", "virginica"}
    written = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(model), "--data", str(iris_csv), "--out", str(written)]) == 0
    assert list(pd.read_csv(written)["species"]) == predictions


def test_a_float_target_is_inferred_as_regression(iris_csv, capsys):
    assert main(["tune", "--data", str(iris_csv), "--target", "pw", *FAST]) == 0
    assert "Leaderboard (R^2" in capsys.readouterr().out


def test_a_space_file_replaces_the_default(tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"hidden_layer_sizes": [[4]], "solver": ["sgd"]}))
    assert main(["tune", "--dataset", "iris", "--space", str(space), *FAST]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert all("hidden_layer_sizes=(4,)" in row and "solver=sgd" in row for row in rows)


@pytest.mark.parametrize("case", ["missing file", "missing target", "malformed csv", "bad model",
                                  "no target flag", "bad space", "missing feature"])
def test_errors_are_one_line_without_traceback(case, iris_csv, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,"2\n3,4,5,6\n')
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a model")
    space = tmp_path / "space.json"
    space.write_text("{not json: [")
    narrow = tmp_path / "narrow.csv"
    pd.DataFrame({"sl": [1.0]}).to_csv(narrow, index=False)
    model = tmp_path / "m.joblib"
    if case == "missing feature":
        main(["tune", "--data", str(iris_csv), "--target", "species", "--out", str(model), *FAST])
        capsys.readouterr()
    argv = {
        "missing file": ["tune", "--data", str(tmp_path / "nope.csv"), "--target", "y"],
        "missing target": ["tune", "--data", str(iris_csv), "--target", "nope"],
        "malformed csv": ["tune", "--data", str(bad), "--target", "a"],
        "bad model": ["predict", "--model", str(junk), "--data", str(iris_csv)],
        "no target flag": ["tune", "--data", str(iris_csv)],
        "bad space": ["tune", "--dataset", "iris", "--space", str(space)],
        "missing feature": ["predict", "--model", str(model), "--data", str(narrow)],
    }[case]
    assert main(argv + (FAST if argv[0] == "tune" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("skdl: error: ") and "\n" not in err and "Traceback" not in err


def test_help_answers_without_importing_keras():
    code = "import sys, runpy; sys.argv = ['skdl', '--help']\ntry:\n    runpy.run_module('skdl', run_name='__main__')\nexcept SystemExit as e:\n    assert e.code == 0\nassert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\nprint('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert "tune" in result.stdout and result.stdout.strip().endswith("ok")


def test_tune_with_a_checkpoint_resumes_from_it(tmp_path, capsys):
    folder = tmp_path / "checkpoint"
    argv = ["tune", "--dataset", "iris", "--n-iter", "2", "--cv", "2", "--max-iter", "3",
            "--checkpoint", str(folder)]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert main(argv) == 0
    again = capsys.readouterr()
    assert len(list(folder.glob("*.fit"))) == 2 * 2 + 2
    assert f"6 read from {folder}" in again.err and f"0 read from {folder}" in first.err
    assert again.out == first.out  # the same leaderboard
