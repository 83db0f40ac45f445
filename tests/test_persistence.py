"""Saving and loading: pickle and joblib, whole pipelines, fresh processes, other versions."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdl
from skdl import MLPClassifierTF, MLPRegressorTF, Perceptron

X, Y = load_iris(return_X_y=True)


def _predict_in_fresh_process(path, method, tmp_path):
    np.save(tmp_path / "X.npy", X)
    code = (f"import joblib, numpy as np; model = joblib.load({str(path)!r}); "
            f"np.save({str(tmp_path / 'out.npy')!r}, model.{method}(np.load({str(tmp_path / 'X.npy')!r})))")
    subprocess.run([sys.executable, "-c", code], check=True)
    return np.load(tmp_path / "out.npy")


@pytest.mark.parametrize("make", [
    lambda: make_pipeline(StandardScaler(), MLPClassifierTF((8,), max_iter=10, dropout=0.1, random_state=0)),
    lambda: make_pipeline(StandardScaler(), MLPRegressorTF(hidden_layer_sizes=(8,), max_iter=10, random_state=0)),
    lambda: make_pipeline(StandardScaler(), Perceptron(random_state=0)),
], ids=["classifier", "regressor", "perceptron"])
def test_joblib_round_trip_of_a_pipeline_in_a_fresh_process(make, tmp_path):
    model = make().fit(X, Y if not isinstance(make()[-1], MLPRegressorTF) else X[:, 0])
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    np.testing.assert_array_equal(_predict_in_fresh_process(path, method, tmp_path),
                                  getattr(model, method)(X))


def test_unpickled_estimator_rebuilds_its_keras_model_and_keeps_training():
    clf = MLPClassifierTF((8,), max_iter=5, random_state=0).fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.model_.count_params() == clf.model_.count_params()
    restored.partial_fit(X, Y)
    assert restored.n_iter_ == 1 and restored.t_ == clf.t_ + len(X)  # n_iter_ as scikit-learn's
    assert len(restored.loss_curve_) == len(clf.loss_curve_) + 1


def test_loading_a_pickle_from_another_skdl_version_says_which(monkeypatch):
    clf = MLPClassifierTF((8,), max_iter=2, random_state=0).fit(X, Y)
    blob = pickle.dumps(clf)
    monkeypatch.setattr(skdl._base, "__version__", "9.9.9")
    with pytest.warns(UserWarning, match=r"saved by skdl 0\.1\.0 and is loaded by skdl 9\.9\.9"):
        restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_pickle_holds_numpy_weights_not_keras_objects():
    clf = MLPClassifierTF((8,), max_iter=2, random_state=0).fit(X, Y)
    clf.model_  # built on demand, not pickled
    state = clf.__getstate__()
    assert "_model" not in state
    arrays = state["coefs_"] + state["intercepts_"]
    assert arrays and all(isinstance(w, np.ndarray) for w in arrays)
    assert not any("keras" in type(v).__module__ for v in state.values())
