"""Saving and loading: pickle and joblib, whole pipelines, fresh processes, other versions."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdl
from skdl import MLPClassifierTF, MLPRegressorTF, Perceptron

def _predict_in_fresh_process(path, method, X, tmp_path):
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
def test_joblib_round_trip_of_a_pipeline_in_a_fresh_process(make, tmp_path, iris):
    X, Y = iris
    model = make().fit(X, Y if not isinstance(make()[-1], MLPRegressorTF) else X[:, 0])
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    np.testing.assert_array_equal(_predict_in_fresh_process(path, method, X, tmp_path),
                                  getattr(model, method)(X))


def test_unpickled_estimator_rebuilds_its_keras_model_and_keeps_training(iris, small_classifier):
    X, Y = iris
    clf = small_classifier(max_iter=5).fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.model_.count_params() == clf.model_.count_params()
    restored.partial_fit(X, Y)
    assert restored.n_iter_ == 1 and restored.t_ == clf.t_ + len(X)  # n_iter_ as scikit-learn's
    assert len(restored.loss_curve_) == len(clf.loss_curve_) + 1


def test_loading_a_pickle_from_another_skdl_version_says_which(monkeypatch, iris, small_classifier):
    X, Y = iris
    clf = small_classifier(max_iter=2).fit(X, Y)
    blob = pickle.dumps(clf)
    monkeypatch.setattr(skdl._base, "__version__", "9.9.9")
    with pytest.warns(UserWarning, match=r"saved by skdl 0\.1\.0 and is loaded by skdl 9\.9\.9"):
        restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_pickle_holds_numpy_weights_not_keras_objects(iris, small_classifier):
    X, Y = iris
    clf = small_classifier(max_iter=2).fit(X, Y)
    clf.model_  # built on demand, not pickled
    state = clf.__getstate__()
    assert "_model" not in state
    arrays = state["coefs_"] + state["intercepts_"]
    assert arrays and all(isinstance(w, np.ndarray) for w in arrays)
    assert not any("keras" in type(v).__module__ for v in state.values())


def test_skops_loads_a_fitted_pipeline_trusting_only_skdls_estimator_classes(iris, small_classifier):
    import skops.io as skops_io
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdl import MLPRegressor

    X, Y = iris
    clf = make_pipeline(StandardScaler(),
                        small_classifier(max_iter=3, batch_normalization=True)).fit(X, Y)
    clf[-1].partial_fit(StandardScaler().fit_transform(X), Y)  # an optimizer state to save too
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, X[:, 0])
    for model, name in ((clf, "skdl.mlp.MLPClassifierTF"), (reg, "skdl.mlp.MLPRegressor")):
        blob = skops_io.dumps(model)
        assert skops_io.get_untrusted_types(data=blob) == [name]
        loaded = skops_io.loads(blob, trusted=[name])
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded = skops_io.loads(skops_io.dumps(clf), trusted=["skdl.mlp.MLPClassifierTF"])
    assert loaded[-1]._optimizer_state["step"] == clf[-1]._optimizer_state["step"]


@pytest.mark.parametrize("change", ["names", "format", "solver"])
def test_a_saved_optimizer_state_that_does_not_fit_is_dropped_with_a_warning(change, iris,
                                                                             small_classifier):
    X, Y = iris
    clf = small_classifier(max_iter=2)
    for _ in range(2):
        clf.partial_fit(X, Y, classes=[0, 1, 2])
    state = clf.__getstate__()
    optimizer_state = dict(state["_optimizer_state"])
    if change == "names":  # as if a new release laid the weights out in another order
        optimizer_state["names"] = optimizer_state["names"][::-1]
    elif change == "format":
        optimizer_state["format"] = 0
    else:
        optimizer_state["solver"] = "sgd"
    state["_optimizer_state"] = optimizer_state
    restored = MLPClassifierTF.__new__(MLPClassifierTF)
    with pytest.warns(UserWarning, match="optimizer state is dropped"):
        restored.__setstate__(state)
    assert restored._optimizer_state is None
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, Y)  # a fresh optimizer (one step: one full batch), the saved weights
    assert restored._optimizer_state["step"] == 1 < clf._optimizer_state["step"]
