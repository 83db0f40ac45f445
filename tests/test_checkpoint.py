"""``checkpoint=``: a search run again reads the fits it finished and trains the rest (issue 33)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from sklearn.model_selection import KFold

import skdl
from skdl import MLPClassifierTF
from skdl.model_selection import GridSearchCV, cross_validate

GRID = {"learning_rate_init": [0.01, 0.03], "hidden_layer_sizes": [(8,), (12,)]}


def search(checkpoint, X, y, **params):
    estimator = MLPClassifierTF(max_iter=5, batch_size=32, random_state=0, **params)
    return GridSearchCV(estimator, GRID, cv=KFold(2), checkpoint=checkpoint).fit(X, y)


def entries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".fit"))


def test_a_search_run_again_reads_every_fit_and_gives_the_same_results(tmp_path, iris_scaled):
    X, y = iris_scaled
    first = search(tmp_path, X, y)
    assert first.stacking_["checkpointed"] == 0 and len(entries(tmp_path)) == 8 + 4
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*checkpoint entry")  # none is refused
        again = search(tmp_path, X, y)
    assert again.stacking_["checkpointed"] == 12 and again.stacking_["stacks"] == 0
    np.testing.assert_array_equal(again.cv_results_["mean_test_score"],
                                  first.cv_results_["mean_test_score"])
    for a, b in zip(again.best_estimator_.coefs_, first.best_estimator_.coefs_):
        np.testing.assert_array_equal(a, b)
    assert again.get_params()["checkpoint"] == tmp_path


def test_changed_data_or_settings_are_not_read_from_the_checkpoint(tmp_path, iris_scaled):
    X, y = iris_scaled
    search(tmp_path, X, y)
    assert search(tmp_path, X[5:], y[5:]).stacking_["checkpointed"] == 0  # rows dropped
    assert search(tmp_path, X, y, alpha=0.01).stacking_["checkpointed"] == 0


def test_a_damaged_or_foreign_entry_is_trained_again_with_a_warning(tmp_path, iris_scaled,
                                                                   monkeypatch):
    X, y = iris_scaled
    clean = search(tmp_path, X, y)
    names = entries(tmp_path)
    damaged = tmp_path / names[0]
    data = bytearray(damaged.read_bytes())
    data[-10] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (tmp_path / names[1]).write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="checksum does not match") as caught:
        again = search(tmp_path, X, y)
    assert any("not an skdl checkpoint" in str(w.message) for w in caught)
    assert again.stacking_["checkpointed"] == 10
    np.testing.assert_allclose(again.cv_results_["mean_test_score"],
                               clean.cv_results_["mean_test_score"], atol=1e-6)
    monkeypatch.setattr(skdl, "__version__", "0.0.0-other")
    with pytest.warns(UserWarning, match="wrote it, this is skdl 0.0.0-other"):
        assert search(tmp_path, X, y).stacking_["checkpointed"] == 0


def test_a_checkpoint_under_the_home_folder_is_written_there(tmp_path, iris_scaled, monkeypatch):
    X, y = iris_scaled
    monkeypatch.setenv("HOME", str(tmp_path))
    cross_validate(MLPClassifierTF((8,), max_iter=3, random_state=0), X, y, cv=KFold(2),
                   checkpoint="~/searches/iris")
    assert len(entries(tmp_path / "searches" / "iris")) == 2


def test_a_checkpoint_that_is_a_file_is_refused_naming_it(tmp_path, iris_scaled):
    X, y = iris_scaled
    path = tmp_path / "a-file"
    path.write_text("")
    with pytest.raises(ValueError, match="checkpoint must be a folder"):
        search(path, X, y)


def test_cross_validate_resumes_from_its_checkpoint(tmp_path, iris_scaled):
    X, y = iris_scaled
    estimator = MLPClassifierTF((8,), max_iter=5, random_state=0)
    first = cross_validate(estimator, X, y, cv=KFold(3), checkpoint=tmp_path)
    assert len(entries(tmp_path)) == 3
    again = cross_validate(estimator, X, y, cv=KFold(3), checkpoint=tmp_path)
    np.testing.assert_array_equal(again["test_score"], first["test_score"])


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import KFold
    from skdl import MLPClassifierTF
    from skdl.model_selection import GridSearchCV

    X, y = load_digits(return_X_y=True)
    X = X / 16
    grid = {"batch_size": [16, 128], "learning_rate_init": [0.01, 0.03]}
    search = GridSearchCV(MLPClassifierTF((16,), max_iter=int(sys.argv[2]), random_state=0), grid,
                          cv=KFold(2), checkpoint=sys.argv[1]).fit(X, y)
    print(search.stacking_["checkpointed"], search.cv_results_["mean_test_score"].tolist())
""")


def run_script(folder, max_iter, wait=True):
    command = [sys.executable, "-c", SCRIPT, str(folder), str(max_iter)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return process
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-2000:]
    assert "checkpoint entry" not in err  # no entry refused
    checkpointed, scores = out.strip().splitlines()[-1].split(" ", 1)
    return int(checkpointed), np.array(eval(scores))


def test_a_search_killed_midway_resumes_where_it_stopped(tmp_path):
    folder = tmp_path / "checkpoint"
    process = run_script(folder, 60, wait=False)
    deadline = time.monotonic() + 300
    # batch 128's stack ends long before batch 16's (7x the steps): kill the search then.
    while not (folder.exists() and entries(folder)) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(entries(folder))
    assert 0 < finished < 12
    checkpointed, resumed = run_script(folder, 60)
    assert checkpointed == finished
    _, clean = run_script(tmp_path / "clean", 60)
    np.testing.assert_allclose(resumed, clean, atol=0.01)


def test_two_searches_sharing_a_checkpoint_at_once_leave_it_whole(tmp_path):
    folder = tmp_path / "shared"
    processes = [run_script(folder, 4, wait=False) for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]
    assert len(entries(folder)) == 12 and not [n for n in os.listdir(folder) if n.endswith(".tmp")]
    checkpointed, _ = run_script(folder, 4)
    assert checkpointed == 12
