"""The engine's programs: starting fits, resetting state, lending from the cache."""

import threading

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifierTF
from skdl._network import NetworkSpec
from skdl.engine import TrainingSpec, borrow_program, cache_info, clear_cache

SPEC = NetworkSpec(n_features=4, hidden_layer_sizes=(8,), activation="relu", n_outputs=3)
ADAM = TrainingSpec("multiclass", "log_loss", "adam")
X, Y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X).astype("float32")
Y = Y.astype("int32")
W = np.ones(len(X), "float32")


def _train_once(program, seed=0, learning_rate=0.01):
    program.start(seed, learning_rate=learning_rate, alpha=0.0, l1=0.0)
    return program.train_epoch(program.place(X, Y, W), (seed, 0), 32, True)


def test_start_draws_weights_from_the_seed_alone():
    with borrow_program(SPEC, ADAM) as program:
        program.start(7, learning_rate=0.01, alpha=0.0, l1=0.0)
        first = program.get_weights()
        program.train_epoch(program.place(X, Y, W), (7, 0), 32, True)
        program.start(7, learning_rate=0.01, alpha=0.0, l1=0.0)
        again = program.get_weights()
        program.start(8, learning_rate=0.01, alpha=0.0, l1=0.0)
        other = program.get_weights()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], other[0])
    assert np.all(first[1] == 0)  # biases start at zero


def test_starting_a_fit_resets_the_optimizer_but_not_the_learning_rate():
    with borrow_program(SPEC, ADAM) as program:
        loss_a = _train_once(program, learning_rate=0.05)
        slots = program.get_optimizer_state()
        assert any(np.any(s != 0) for s in slots)
        loss_b = _train_once(program, learning_rate=0.05)
        assert loss_a == loss_b  # the second fit did not inherit Adam's moments
        assert float(program.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
        assert int(program.optimizer.iterations.numpy()) == 5  # 150 samples / 32 per batch


def test_learning_rate_is_a_variable_shared_by_fits_with_different_rates():
    clear_cache()
    built = cache_info()["built"]
    fast = MLPClassifierTF((8,), learning_rate_init=0.1, max_iter=5, random_state=0).fit(X, Y)
    slow = MLPClassifierTF((8,), learning_rate_init=1e-5, max_iter=5, random_state=0).fit(X, Y)
    assert cache_info()["built"] - built == 1
    assert fast.loss_ < slow.loss_ - 0.1


def test_two_threads_borrowing_the_same_shape_get_two_programs():
    clear_cache()
    inside, release, seen = threading.Barrier(3), threading.Event(), []

    def borrow():
        with borrow_program(SPEC, ADAM) as program:
            seen.append(id(program))
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=borrow) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both threads hold a program now
    release.set()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2
    assert cache_info()["idle"] == 2


def test_threads_fitting_at_once_get_the_results_they_get_alone():
    def fit(seed):
        return MLPClassifierTF((8,), max_iter=5, random_state=seed).fit(X, Y).predict_proba(X)

    alone = {seed: fit(seed) for seed in range(4)}
    together = {}

    def run(seed):
        together[seed] = fit(seed)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in range(4):
        np.testing.assert_array_equal(together[seed], alone[seed])


def test_cpu_device_trains_and_predicts():
    clf = MLPClassifierTF((8,), max_iter=5, device="cpu", random_state=0).fit(X, Y)
    ref = MLPClassifierTF((8,), max_iter=5, random_state=0).fit(X, Y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-5)


def test_xla_epochs_learn_like_the_graph_loop():
    plain = MLPClassifierTF((8,), max_iter=20, learning_rate_init=0.02, random_state=0).fit(X, Y)
    xla = MLPClassifierTF((8,), max_iter=20, learning_rate_init=0.02, jit_compile=True,
                          random_state=0).fit(X, Y)
    # Same seeds and batches; only the compiler differs.
    np.testing.assert_allclose(xla.loss_curve_, plain.loss_curve_, rtol=1e-3)
    assert xla.score(X, Y) == plain.score(X, Y)


ZERO_TAIL = W.copy()
ZERO_TAIL[128:] = 0  # 150 rows in batches of 32: the partial last batch weighs nothing


@pytest.mark.parametrize("params, sample_weight", [
    # The padded last batch (22 real rows of 32) must not reach batch normalization's
    # statistics; the one-unit layer takes Keras' squeezed masked moments.
    (dict(hidden_layer_sizes=(8, 1), batch_normalization=True, wide_and_deep=True,
          activation="tanh", alpha=1e-4), None),
    (dict(hidden_layer_sizes=(8, 6), batch_normalization=True, alpha=1e-4), None),
    # An all-zero-weight partial batch divides its penalty by its 22 real rows, not 32.
    (dict(hidden_layer_sizes=(8,), activation="tanh", alpha=0.05), ZERO_TAIL),
], ids=["bn_narrow", "bn", "zero_tail"])
def test_xla_padding_rows_change_nothing(params, sample_weight):
    """Same start, no shuffling: the XLA epoch's padding rows leave the fit as the graph loop's."""
    # SGD, not Adam: the biases before batch normalization get rounding noise for
    # gradients, which Adam would scale up to full-size steps.
    common = dict(solver="sgd", batch_size=32, shuffle=False, max_iter=6, learning_rate_init=0.05,
                  tol=0.0, n_iter_no_change=100, random_state=0, **params)
    fits = [MLPClassifierTF(jit_compile=jit, **common).fit(X, Y, sample_weight=sample_weight)
            for jit in (False, True)]
    plain, xla = fits
    assert xla._training_spec.jit_compile and not plain._training_spec.jit_compile
    np.testing.assert_allclose(xla.loss_curve_, plain.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(xla.predict_proba(X), plain.predict_proba(X), rtol=1e-4, atol=1e-4)
    paths = [v.path for v in plain.model_.weights]
    assert len(xla._weights) == len(plain._weights) == len(paths)
    if params.get("batch_normalization"):
        assert any("moving" in p for p in paths)
    for path, a, b in zip(paths, xla._weights, plain._weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=path)


def test_tensorflow_thread_pools_follow_the_workers_core_share():
    import os
    import subprocess
    import sys

    code = ("import skdl.engine.tensorflow, tensorflow as tf;"
            "print(tf.config.threading.get_intra_op_parallelism_threads(),"
            " tf.config.threading.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "KERAS_BACKEND": "tensorflow"})
    assert out.stdout.split() == ["1", "1"]


@pytest.mark.parametrize("params", [dict(solver="sgd"),
                                    dict(solver="sgd", nesterovs_momentum=False),
                                    dict(solver="sgd", momentum=0.0)], ids=str)
def test_fused_optimizer_kernels_match_the_keras_optimizer(params):
    # weight_decay=0.0 keeps Keras' own optimizer; None lets the engine fuse it.
    common = dict(hidden_layer_sizes=(8,), max_iter=10, learning_rate_init=0.05, random_state=0, **params)
    fused = MLPClassifierTF(**common).fit(X, Y)
    keras_path = MLPClassifierTF(weight_decay=0.0, **common).fit(X, Y)
    np.testing.assert_allclose(fused.loss_curve_, keras_path.loss_curve_, rtol=1e-4)
    for a, b in zip(fused.coefs_, keras_path.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_jit_compile_auto_compiles_only_big_fits():
    small = MLPClassifierTF((8,), max_iter=2, random_state=0).fit(X, Y)
    assert small._training_spec.jit_compile is False
    big = MLPClassifierTF((8,), max_iter=2, random_state=0)
    big.XLA_MIN_FLOPS = 1.0  # any fit counts as big
    big.fit(X, Y)
    assert big._training_spec.jit_compile is True
    big.partial_fit(X, Y)  # keeps the compiled choice of the first fit
    assert big._training_spec.jit_compile is True
