"""The estimators under KERAS_BACKEND=jax (one subprocess: the backend is fixed per process)."""

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
    from skdl.engine import borrow_program
    backend = os.environ["KERAS_BACKEND"]
    assert keras.backend.backend() == backend
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    clf = MLPClassifierTF((16,), max_iter=60, learning_rate_init=0.02, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9, clf.score(X, y)
    with borrow_program(clf._network_spec, clf._training_spec) as program:
        assert type(program).__name__ == {"jax": "JaxProgram", "tensorflow": "TensorFlowProgram"}[backend]
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)

    for params in (dict(solver="sgd", learning_rate_init=0.1), dict(solver="lbfgs"),
                   dict(dropout=0.2, batch_normalization=True, early_stopping=True,
                        learning_rate_init=0.02)):
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
    print("accuracy", clf.score(X, y))
""")


def _run(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", SCENARIOS], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return float(result.stdout.split("accuracy")[-1])


def test_estimators_under_jax_behave_as_under_tensorflow():
    jax_accuracy = _run("jax")
    tf_accuracy = _run("tensorflow")
    assert abs(jax_accuracy - tf_accuracy) <= 0.05  # different RNGs, same learning


STEP_FOR_STEP = textwrap.dedent("""
    import sys, warnings, numpy as np
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler
    from skdl._network import NetworkSpec
    from skdl.engine import TrainingSpec, borrow_program
    from skdl.engine.loop import Schedule, run_lbfgs, run_stochastic
    warnings.simplefilter("ignore")  # ConvergenceWarning: the fits are short on purpose
    X, y = load_iris(return_X_y=True)
    X, y = (StandardScaler().fit_transform(X) + 1.0).astype("float32"), y.astype("int32")
    ones = np.ones(len(X), "float32")
    zero_tail = ones.copy()
    zero_tail[128:] = 0  # 150 rows in batches of 32: the partial last batch weighs nothing
    results = {}

    def fit(name, spec, solver, w, alpha, lr=0.01):
        with borrow_program(spec, TrainingSpec("multiclass", "log_loss", solver)) as program:
            program.start(0, learning_rate=lr, alpha=alpha, l1=0.0)
            rng = np.random.RandomState(0)  # the same start under both backends
            weights = [rng.uniform(-0.6, 0.6, w.shape).astype("float32") if w.ndim == 2 else w
                       for w in program.get_weights()]
            program.start(0, weights=weights, learning_rate=lr, alpha=alpha, l1=0.0)
            train = program.place(X, y, w)
            if solver == "lbfgs":
                outcome = run_lbfgs(program, train, len(X), max_iter=15, max_fun=15000, tol=0.0)
            else:
                outcome = run_stochastic(program, train, len(X), max_iter=6, batch_size=32,
                                         shuffle=False, seed=0, schedule=Schedule(), tol=0.0,
                                         n_iter_no_change=100, early_stopping=False)
            results[name + "_loss"] = outcome.loss_curve
            results[name + "_proba"] = program.predict(X)
            results[name + "_moving"] = [i for i, v in enumerate(program.model.weights)
                                         if "moving" in v.path]
            for i, value in enumerate(program.get_weights()):
                results[f"{name}_w{i}"] = value

    # SGD, not Adam: the biases before batch normalization get rounding noise for gradients,
    # which Adam would scale up to full-size steps.
    fit("bn", NetworkSpec(4, (8, 6), "relu", 3, batch_normalization=True), "sgd", ones, 1e-4, lr=0.05)
    fit("bn_narrow", NetworkSpec(4, (5, 1), "tanh", 3, batch_normalization=True, wide_and_deep=True),
        "sgd", ones, 1e-4, lr=0.05)
    fit("zero_tail", NetworkSpec(4, (8,), "tanh", 3), "sgd", zero_tail, 0.05, lr=0.1)
    fit("lbfgs_bn", NetworkSpec(4, (8,), "tanh", 3, batch_normalization=True), "lbfgs", ones, 1e-4)
    np.savez(sys.argv[1], **results)
""")


def test_jax_fits_match_tensorflow_fits_step_for_step(tmp_path):
    """Same start, no shuffling: padding rows, zero-weight batches and lbfgs state as under TensorFlow."""
    import numpy as np

    results = {}
    for backend in ("tensorflow", "jax"):
        path = tmp_path / f"{backend}.npz"
        run = subprocess.run([sys.executable, "-c", STEP_FOR_STEP, str(path)], capture_output=True,
                             text=True, env={**os.environ, "KERAS_BACKEND": backend})
        assert run.returncode == 0, run.stderr[-3000:]
        results[backend] = np.load(path)
    tf, jx = results["tensorflow"], results["jax"]
    assert set(tf.files) == set(jx.files)
    for key in sorted(tf.files):
        if key.endswith("_loss"):
            assert len(jx[key]) == len(tf[key]), key
            np.testing.assert_allclose(jx[key], tf[key], rtol=2e-4, err_msg=key)
        elif not key.endswith("_moving"):
            np.testing.assert_allclose(jx[key], tf[key], rtol=2e-4, atol=2e-4, err_msg=key)
    mean, variance = jx["lbfgs_bn_moving"]  # lbfgs moved the batch-norm statistics, as under TensorFlow
    assert not np.allclose(jx[f"lbfgs_bn_w{mean}"], 0.0)
    assert not np.allclose(jx[f"lbfgs_bn_w{variance}"], 1.0)


@pytest.mark.parametrize("saved_under, loaded_under", [("tensorflow", "jax"), ("jax", "tensorflow")])
def test_a_model_pickled_under_one_backend_predicts_the_same_under_the_other(saved_under, loaded_under,
                                                                             tmp_path):
    save = ("import pickle, numpy as np; from sklearn.datasets import load_iris; from skdl import MLPClassifierTF;"
            "X, y = load_iris(return_X_y=True);"
            "clf = MLPClassifierTF((8,), max_iter=20, batch_normalization=True, random_state=0).fit(X, y);"
            f"pickle.dump(clf, open({str(tmp_path / 'm.pkl')!r}, 'wb'));"
            f"np.save({str(tmp_path / 'saved.npy')!r}, clf.predict_proba(X))")
    load = ("import pickle, numpy as np; from sklearn.datasets import load_iris;"
            "X, y = load_iris(return_X_y=True);"
            f"clf = pickle.load(open({str(tmp_path / 'm.pkl')!r}, 'rb'));"
            f"np.save({str(tmp_path / 'loaded.npy')!r}, clf.predict_proba(X))")
    for code, backend in ((save, saved_under), (load, loaded_under)):
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                       env={**os.environ, "KERAS_BACKEND": backend})
    import numpy as np

    np.testing.assert_allclose(np.load(tmp_path / "loaded.npy"), np.load(tmp_path / "saved.npy"),
                               rtol=1e-4, atol=1e-6)
