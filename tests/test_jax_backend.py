"""The estimators under KERAS_BACKEND=jax, against TensorFlow.

The backend is fixed per process, so each backend runs every scenario in one
subprocess (a module-scoped fixture; starting one costs seconds), and the
tests compare what they wrote.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

SCENARIOS = textwrap.dedent("""
    import os, numpy as np, keras
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler
    from skdl import MLPClassifierTF, MLPRegressorTF
    from skdl.engine.program import backend as engine_backend
    backend = os.environ["KERAS_BACKEND"]
    assert keras.backend.backend() == backend
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    clf = MLPClassifierTF((16,), max_iter=60, learning_rate_init=0.02, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9, clf.score(X, y)
    assert engine_backend().name == backend
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)

    for params in (dict(solver="sgd", learning_rate_init=0.1), dict(solver="lbfgs"),
                   # batch 32: with the default batch (all of iris' 135 training rows) an
                   # epoch is one step, and 40 steps score 0.69 to 0.92 by the seed's luck.
                   dict(dropout=0.2, batch_normalization=True, early_stopping=True,
                        learning_rate_init=0.02, batch_size=32)):
        other = MLPClassifierTF((16,), max_iter=40, random_state=0, **params).fit(X, y)
        assert other.score(X, y) > 0.8, (params, other.score(X, y))

    same = [MLPClassifierTF((8,), max_iter=10, dropout=0.1, random_state=5).fit(X, y).predict_proba(X)
            for _ in range(2)]
    np.testing.assert_array_equal(*same)

    def make(seed):
        return MLPClassifierTF((8,), max_iter=5, random_state=seed)
    alone = [make(s).fit(X, y).predict_proba(X) for s in (1, 2)]
    a, b = make(1), make(2)
    for _ in range(5):
        a.partial_fit(X, y, classes=[0, 1, 2])
        b.partial_fit(X, y, classes=[0, 1, 2])
    a2 = make(1)
    for _ in range(5):
        a2.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(a.predict_proba(X), a2.predict_proba(X))
    first, second = make(1).fit(X, y), make(2).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), alone[0])
    np.testing.assert_array_equal(second.predict_proba(X), alone[1])

    Y = np.column_stack([X[:, 0], -X[:, 1]])
    reg = MLPRegressorTF(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.02,
                         random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (150, 2) and reg.score(X, Y) > 0.8, reg.score(X, Y)

    from skdl.wrappers import KerasClassifier
    def build(meta):
        return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                 keras.layers.Dense(16, activation="relu"),
                                 keras.layers.Dense(meta["n_classes_"], activation="softmax")])
    wrapped = KerasClassifier(build, optimizer="adam", optimizer__learning_rate=0.02, epochs=40,
                              random_state=0).fit(X, y)
    assert wrapped.training_loop_ == {"jax": "keras.fit", "tensorflow": "fused"}[backend]
    assert wrapped.score(X, y) > 0.9, wrapped.score(X, y)

    # A traced model reused by a later fit trains as the new model would (model.fit under JAX).
    import gc
    from skdl.wrappers import clear_model_cache
    def wrapper():
        return KerasClassifier(build, optimizer="adam", epochs=2, batch_size=16, random_state=3)
    clear_model_cache()
    gc.collect()
    new = wrapper().fit(X, y).predict_proba(X)
    for _ in range(2):  # the second reuse restarts from values the first fit's state held
        gc.collect()  # the last wrapper is gone: its model is free for the next fit
        np.testing.assert_array_equal(wrapper().fit(X, y).predict_proba(X), new)
    print("accuracy", clf.score(X, y))
""")


PERSISTENCE = textwrap.dedent("""
    import os, pickle, sys, numpy as np
    from sklearn.datasets import load_iris
    from skdl import MLPClassifierTF
    X, y = load_iris(return_X_y=True)
    out = sys.argv[1]
    clf = MLPClassifierTF((8,), max_iter=20, batch_normalization=True, random_state=0).fit(X, y)
    np.save(f"{out}/saved.npy", clf.predict_proba(X))
    pickle.dump(clf, open(f"{out}/model.tmp", "wb"))
    os.replace(f"{out}/model.tmp", f"{out}/model.pkl")  # whole, for a reader waiting for it
""")

LOAD = textwrap.dedent("""
    import os, pickle, sys, time, numpy as np
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    deadline = time.monotonic() + 600
    while not os.path.exists(f"{sys.argv[2]}/model.pkl"):  # the other backend's run saves it
        assert time.monotonic() < deadline, "no model was saved"
        time.sleep(0.1)
    clf = pickle.load(open(f"{sys.argv[2]}/model.pkl", "rb"))
    np.save(f"{sys.argv[1]}/loaded.npy", clf.predict_proba(X))
""")


def _start(backend, script, out, *args):
    out.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-c", script, str(out), *map(str, args)], text=True,
                            env={**os.environ, "KERAS_BACKEND": backend},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(process):
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    return stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each backend's folder of results: the scenarios' accuracy, the step-for-step fits
    (``fits.npz``), a pickled model and its predictions, and (``loaded.npy``) the other
    backend's pickled model's predictions. The two backends run at the same time."""
    folder = tmp_path_factory.mktemp("backends")
    out = {backend: folder / backend for backend in ("tensorflow", "jax", "tensorflow-load")}
    tensorflow = _start("tensorflow", PERSISTENCE + SCENARIOS + STEP_FOR_STEP, out["tensorflow"])
    jax = _start("jax", PERSISTENCE + SCENARIOS + STEP_FOR_STEP + LOAD, out["jax"], out["tensorflow"])
    try:
        for backend, process in (("tensorflow", tensorflow), ("jax", jax)):
            (out[backend] / "accuracy").write_text(_finish(process).split("accuracy")[-1])
    finally:
        for process in (tensorflow, jax):
            if process.poll() is None:  # the other one failed
                process.kill()
    _finish(_start("tensorflow", LOAD, out["tensorflow-load"], out["jax"]))
    return out


def test_estimators_under_jax_behave_as_under_tensorflow(runs):
    jax_accuracy, tf_accuracy = (float((runs[b] / "accuracy").read_text()) for b in ("jax", "tensorflow"))
    assert abs(jax_accuracy - tf_accuracy) <= 0.05  # different RNGs, same learning


STEP_FOR_STEP = textwrap.dedent("""
    import sys, warnings, numpy as np
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler
    from skdl import MLPClassifierTF, engine
    warnings.simplefilter("ignore")  # ConvergenceWarning: the fits are short on purpose
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X) + 1.0
    zero_tail = np.ones(len(X))
    zero_tail[128:] = 0  # 150 rows in batches of 32: the partial last batch weighs nothing
    results = {}

    def fit(name, sample_weight=None, **params):
        params = {**dict(batch_size=32, max_iter=6, tol=0.0, n_iter_no_change=100, random_state=0),
                  **params}
        clf = MLPClassifierTF(**params).fit(X, y, sample_weight=sample_weight)
        results[name + "_loss"] = clf.loss_curve_
        results[name + "_proba"] = clf.predict_proba(X)
        for i, value in enumerate(clf._layout_weights(np.float32)):
            results[f"{name}_w{i}"] = value

    # Shuffles, initial weights and dropout come from the seed, the same on both backends.
    fit("adam_dropout", hidden_layer_sizes=(8,), dropout=0.3, learning_rate_init=0.01)
    # SGD, not Adam, with batch normalization: the biases before it get rounding noise for
    # gradients, which Adam would scale up to full-size steps.
    fit("bn", hidden_layer_sizes=(8, 6), batch_normalization=True, solver="sgd",
        learning_rate_init=0.05, alpha=1e-4)
    fit("bn_narrow", hidden_layer_sizes=(5, 1), batch_normalization=True, wide_and_deep=True,
        activation="tanh", solver="sgd", learning_rate_init=0.05)
    fit("zero_tail", zero_tail, hidden_layer_sizes=(8,), activation="tanh", solver="sgd",
        learning_rate_init=0.1, alpha=0.05, shuffle=False)
    fit("lbfgs_bn", hidden_layer_sizes=(8,), batch_normalization=True, solver="lbfgs", max_iter=15)

    # A stack of five folds, each its own width and learning rate, equals the fits alone.
    requests = []
    for k in range(5):
        rows = np.arange(150) % 5 != k
        requests.append(MLPClassifierTF((4 + k,), learning_rate_init=0.01 * (k + 1), max_iter=2,
                                        random_state=k)._training_request(X[rows], y[rows]).request)
    for k, (stacked, alone) in enumerate(zip(engine.train(requests),
                                             [engine.train([r])[0] for r in requests])):
        np.testing.assert_allclose(stacked.loss_curve, alone.loss_curve, rtol=1e-5)
        for a, b in zip(stacked.weights, alone.weights):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        results[f"stack{k}_loss"] = stacked.loss_curve
    np.savez(f"{sys.argv[1]}/fits.npz", **results)
""")


def test_jax_fits_match_tensorflow_fits_step_for_step(runs):
    """The same seed gives the same fit on both backends, stacked or alone: padding rows,
    zero-weight batches, batch normalization, dropout and lbfgs included."""
    import numpy as np

    tf, jx = (np.load(runs[backend] / "fits.npz") for backend in ("tensorflow", "jax"))
    assert set(tf.files) == set(jx.files) and len(tf.files) > 20
    for key in sorted(tf.files):
        if key.endswith("_loss"):
            assert len(jx[key]) == len(tf[key]), key
            np.testing.assert_allclose(jx[key], tf[key], rtol=2e-4, err_msg=key)
        else:
            np.testing.assert_allclose(jx[key], tf[key], rtol=2e-4, atol=2e-4, err_msg=key)


@pytest.mark.parametrize("saved_under, loaded_under", [("tensorflow", "jax"), ("jax", "tensorflow")])
def test_a_model_pickled_under_one_backend_predicts_the_same_under_the_other(saved_under, loaded_under,
                                                                             runs):
    import numpy as np

    loaded = runs[loaded_under if loaded_under == "jax" else "tensorflow-load"] / "loaded.npy"
    np.testing.assert_allclose(np.load(loaded), np.load(runs[saved_under] / "saved.npy"),
                               rtol=1e-4, atol=1e-6)
