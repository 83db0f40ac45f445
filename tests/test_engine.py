"""The engine: requests in, results out; stacks of networks train as the networks alone."""

import os
import threading

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifierTF, MLPRegressorTF, engine
from skdl._network import NetworkSpec, forward, initial_weights, layout
from skdl.engine import cache_info, clear_cache, stack
from skdl.engine.optimizers import SLOTS
from skdl.exceptions import DivergenceError

X, Y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


def request_of(estimator, X=X, y=Y, **fit_params):
    """The request ``estimator.fit`` would hand the engine (planned, not trained)."""
    return estimator._training_request(X, y, **fit_params).request


def alone(requests):
    return [engine.train([r])[0] for r in requests]


def assert_same_fit(a, b, request=None, rtol=1e-5, atol=1e-6):
    """Same loss curve, weights and outputs. With batch normalization, the dense biases
    before it and the moving means are compared through the outputs only (the biases'
    true gradient is zero, so Adam-like solvers move them by rounding noise, which the
    moving means follow)."""
    assert a.n_iter == b.n_iter and (a.error is None) == (b.error is None)
    np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=rtol)
    assert len(a.weights) == len(b.weights)
    skip = set()
    if request is not None:
        network = request.network
        np.testing.assert_allclose(forward(network, a.weights, request.X),
                                   forward(network, b.weights, request.X), rtol=rtol, atol=atol)
        if network.batch_normalization:
            depth = len(network.hidden_layer_sizes)
            skip = {k for k, w in enumerate(layout(network))
                    if w.role in ("bias", "moving_mean") and w.layer < depth}
    for k, (x, y) in enumerate(zip(a.weights, b.weights)):
        if k not in skip:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"weight {k}")


def test_initial_weights_come_from_the_seed_alone():
    spec = NetworkSpec(4, (8, 5), "relu", 3, batch_normalization=True)
    first, again, other = (initial_weights(spec, s) for s in (7, 7, 8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], other[0])
    roles = [w.role for w in layout(spec)]
    for role, value in zip(roles, first):
        if role in ("bias", "beta", "moving_mean"):
            assert np.all(value == 0)
        elif role in ("gamma", "moving_variance"):
            assert np.all(value == 1)


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                  "lecun_uniform", "lecun_normal", "random_normal",
                                  "random_uniform", "orthogonal"])
def test_kernels_are_drawn_as_keras_initializers_draw_them(name):
    """Same distribution as Keras' initializer: compare moments and bounds on a big draw."""
    spec = NetworkSpec(300, (200,), "relu", 1, kernel_initializer=name)
    ours = initial_weights(spec, 0)[0]
    theirs = np.asarray(type(keras.initializers.get(name))(seed=0)(shape=(300, 200)))
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert abs(ours.mean()) < 0.1 * ours.std()
    # The same tails; and the same bounds where the distribution has any (a plain normal's
    # largest draw is as random as the draw, so only its quantiles are compared).
    for q in (0.9, 0.99, 0.999):
        expected = np.quantile(np.abs(theirs), q)
        assert np.quantile(np.abs(ours), q) == pytest.approx(expected, rel=0.05)
    if name != "random_normal":
        assert np.abs(ours).max() <= np.abs(theirs).max() * 1.05
    if name == "orthogonal":
        np.testing.assert_allclose(ours.T @ ours, np.eye(200), atol=1e-4)


def test_programs_are_shared_by_fits_that_differ_only_in_hyper_parameters(compiled):
    clear_cache()
    built = cache_info()["built"]
    fast = MLPClassifierTF((8,), learning_rate_init=0.1, max_iter=5, random_state=0).fit(X, Y)
    slow = MLPClassifierTF((8,), learning_rate_init=1e-5, alpha=0.1, beta_1=0.5,
                           max_iter=5, random_state=0).fit(X, Y)
    assert cache_info()["built"] - built == 1
    assert fast.loss_ < slow.loss_ - 0.1
    again = MLPClassifierTF((8,), learning_rate_init=0.1, max_iter=5, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(again.coefs_[0], fast.coefs_[0])  # no state carried over


def test_threads_fitting_at_once_get_the_results_they_get_alone():
    def fit(seed):
        return MLPClassifierTF((8,), max_iter=5, random_state=seed).fit(X, Y).predict_proba(X)

    by_itself = {seed: fit(seed) for seed in range(4)}
    together = {}

    def run(seed):
        together[seed] = fit(seed)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in range(4):
        np.testing.assert_array_equal(together[seed], by_itself[seed])


def test_cpu_device_trains_and_predicts():
    clf = MLPClassifierTF((8,), max_iter=5, device="cpu", random_state=0).fit(X, Y)
    ref = MLPClassifierTF((8,), max_iter=5, random_state=0).fit(X, Y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-5)


# --- stacks ------------------------------------------------------------------------------
FOLDS = [np.arange(150) % 5 != k for k in range(5)]


def fold_requests(make, folds=FOLDS, **fit_params):
    return [request_of(make(k), X[rows], Y[rows], **fit_params) for k, rows in enumerate(folds)]


@pytest.mark.parametrize("params", [
    dict(solver="adam"),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    dict(solver="rmsprop", dropout=0.3),
    dict(solver="nadam"),
    # Not Adam-like with batch normalization: the dense biases before it have a zero true
    # gradient, whose rounding noise Adam scales up to full steps, differently in every run.
    dict(solver="sgd", batch_normalization=True),
    dict(solver="adamw", wide_and_deep=True, l1=1e-3),
    dict(solver="adagrad", activation="tanh"),
], ids=["adam", "sgd", "rmsprop_dropout", "nadam", "sgd_bn", "adamw_wide_l1", "adagrad_tanh"])
def test_a_stack_trains_each_model_as_it_trains_alone(params):
    """Five folds, each its own seed, learning rate, alpha and hidden width, in one stack."""
    def make(k):
        return MLPClassifierTF(hidden_layer_sizes=(4 + 3 * k, 5), learning_rate_init=0.01 * (k + 1),
                               alpha=10.0 ** -k, batch_size=16, max_iter=3, random_state=k, **params)

    requests = fold_requests(make)
    assert engine.stacks(requests) == [[0, 1, 2, 3, 4]]  # one stack
    assert engine.structure_of(requests).padded
    for request, a, b in zip(requests, engine.train(requests), alone(requests)):
        # Three epochs: Adam-like steps (and L1's sign) scale float32 rounding up a little.
        assert_same_fit(a, b, request, rtol=1e-4, atol=5e-5)


def test_one_epoch_of_a_stack_starts_and_shuffles_as_each_fit_alone():
    def make(k):
        return MLPClassifierTF((6,), batch_size=8, max_iter=1, random_state=k)

    requests = fold_requests(make)
    for request, stacked, single in zip(requests, engine.train(requests), alone(requests)):
        assert_same_fit(stacked, single)
        start = initial_weights(request.network, request.seed)
        assert not np.allclose(stacked.weights[0], start[0])  # it trained


def test_each_model_of_a_stack_stops_on_its_own():
    def make(k):
        return MLPClassifierTF((6,), early_stopping=k % 2 == 0, n_iter_no_change=2 + k, tol=1e-2,
                               max_iter=40, learning_rate_init=0.05, random_state=k)

    requests = fold_requests(make)
    stacked, single = engine.train(requests), alone(requests)
    n_iters = [r.n_iter for r in stacked]
    assert len(set(n_iters)) > 1 and max(n_iters) <= 40
    for a, b in zip(stacked, single):
        assert_same_fit(a, b)
        if a.validation_scores is not None:
            np.testing.assert_allclose(a.validation_scores, b.validation_scores, rtol=1e-5)


def test_a_diverging_model_stops_alone_and_the_others_are_untouched():
    def make(k):
        return MLPRegressorTF(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, max_iter=5,
                              learning_rate_init=1e3 if k == 2 else 0.01, random_state=k)

    target = X[:, 0]
    requests = [request_of(make(k), X[rows], target[rows]) for k, rows in enumerate(FOLDS)]
    stacked, single = engine.train(requests), alone(requests)
    assert isinstance(stacked[2].error, DivergenceError)
    assert isinstance(single[2].error, DivergenceError)
    for k in (0, 1, 3, 4):
        assert stacked[k].error is None
        assert_same_fit(stacked[k], single[k])


def test_a_stack_of_regressors_with_two_outputs_and_sample_weights():
    def make(k):
        return MLPRegressorTF(hidden_layer_sizes=(3 + k,), max_iter=4, batch_size=20, random_state=k)

    targets = np.column_stack([X[:, 0], -X[:, 1]])
    weights = np.linspace(0.0, 2.0, 150)
    requests = [request_of(make(k), X[rows], targets[rows], sample_weight=weights[rows])
                for k, rows in enumerate(FOLDS)]
    for a, b in zip(engine.train(requests), alone(requests)):
        assert_same_fit(a, b)


def test_depth_activation_and_solver_are_data_in_a_stack():
    """Networks of different depths (the missing layers pass their input through),
    activations and solvers in one stack, each trained as it trains alone."""
    configurations = [dict(hidden_layer_sizes=(7,), activation="relu", solver="adam"),
                      dict(hidden_layer_sizes=(5, 6), activation="tanh", solver="sgd"),
                      dict(hidden_layer_sizes=(4, 3, 8), activation="logistic", solver="adam"),
                      dict(hidden_layer_sizes=(9, 2), activation="elu", solver="rmsprop",
                           nesterovs_momentum=False),
                      dict(hidden_layer_sizes=(3,), activation="relu", solver="sgd",
                           nesterovs_momentum=False)]

    def make(k):
        return MLPClassifierTF(learning_rate_init=0.02, batch_size=16, max_iter=3, random_state=k,
                               wide_and_deep=True, **configurations[k])

    requests = fold_requests(make)
    assert engine.stacks(requests) == [[0, 1, 2, 3, 4]]
    structure = engine.structure_of(requests)
    assert structure.gated and structure.padded and len(structure.widths) == 3
    assert len(structure.activations) == 4 and len(structure.solvers) == 3
    for request, a, b in zip(requests, engine.train(requests), alone(requests)):
        assert_same_fit(a, b, request, rtol=1e-4, atol=5e-5)


def test_solvers_of_a_stack_share_slot_arrays_and_each_model_gets_its_own_slots_back():
    """SGD's momentum lives in Adam's first-moment array and RMSprop's velocity in its
    second (Adagrad's accumulator starts elsewhere: its own array); each model's optimizer
    state, which a warm start continues from, is the one its single fit ends with."""
    solvers = ("adam", "sgd", "rmsprop", "adagrad", "sgd")

    def make(k):
        return MLPClassifierTF((6,), solver=solvers[k], learning_rate_init=0.02, batch_size=16,
                               max_iter=3, random_state=k)

    requests = fold_requests(make)
    assert engine.stacks(requests) == [[0, 1, 2, 3, 4]]
    assert stack.slot_names(engine.structure_of(requests)) == ["accumulator", "m", "v"]
    for request, a, b in zip(requests, engine.train(requests), alone(requests)):
        assert_same_fit(a, b, request)
        state, own = a.optimizer_state, b.optimizer_state
        assert sorted(state["slots"]) == sorted(own["slots"]) == sorted(SLOTS[request.training.solver])
        for name, arrays in own["slots"].items():
            for x, y in zip(state["slots"][name], arrays):
                np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6, err_msg=name)
        assert state["step"] == own["step"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="JAX's XLA sums a stack's products in other orders than a single fit's: "
                           "there they agree within float32 rounding (the tests above)")
def test_a_stack_of_one_shape_trains_each_model_bit_for_bit_as_it_trains_alone():
    """Twenty networks of one shape compiled with XLA, in one piece: after an epoch, each
    one's weights are its single fit's, bit for bit. Until the bias joined its kernel's
    matrix product, XLA summed the bias gradients over the batch in another order from 16
    models on."""
    digits, labels = load_digits(return_X_y=True)
    digits = StandardScaler().fit_transform(digits)

    def make(k):
        return MLPClassifierTF((64,), batch_size=32, max_iter=1, learning_rate_init=0.01,
                               jit_compile=True, random_state=k)

    requests = [request_of(make(k), digits, labels) for k in range(20)]
    assert engine.stacks(requests) == [list(range(20))]
    for stacked, single in zip(engine.train(requests, concurrency=1), alone(requests)):
        for a, b in zip(stacked.weights, single.weights):
            np.testing.assert_array_equal(a, b)


def test_networks_of_different_shapes_share_a_stack_only_where_it_trains_quicker_than_it_compiles(compiled):
    """Padded and gated networks agree with their single fits only within float32 rounding,
    so they share a stack where compiling is most of the time, and not otherwise; networks
    of one shape share one whatever its size."""
    digits, labels = load_digits(return_X_y=True)

    def requests(shapes, max_iter, solvers=("adam",)):
        return [request_of(MLPClassifierTF(shape, solver=solver, max_iter=max_iter, random_state=0),
                           digits, labels) for shape in shapes for solver in solvers]

    assert engine.stacks(requests([(32,), (64,)] * 3, max_iter=2)) == [[0, 1, 2, 3, 4, 5]]
    assert engine.stacks(requests([(32,), (64,)] * 3, max_iter=200)) == [[0, 2, 4], [1, 3, 5]]
    assert engine.stacks(requests([(64,)] * 3, max_iter=200, solvers=("adam", "sgd"))) == \
        [[0, 1, 2, 3, 4, 5]]


def test_big_compiled_stacks_carry_one_array_per_weight_and_train_the_same(monkeypatch):
    """A big XLA stack's epoch carries each weight (and slot) as its own array rather
    than one flat array: each model trains as it does in a flat stack and alone."""
    from skdl.engine import planning

    def make(k):
        return MLPClassifierTF((4 + 3 * k, 5), solver=("adam", "sgd")[k % 2], jit_compile=True,
                               learning_rate_init=0.01 * (k + 1), alpha=10.0 ** -k, batch_size=16,
                               max_iter=3, random_state=k)

    requests = fold_requests(make)
    assert not engine.structure_of(requests).per_weight  # small: one flat array
    flat = engine.train(requests)
    monkeypatch.setattr(planning, "PER_WEIGHT_MIN_WEIGHT_STEPS", 0)
    assert engine.structure_of(requests).per_weight
    single = alone(requests)
    for request, a, b, c in zip(requests, engine.train(requests), flat, single):
        assert_same_fit(a, b, request, rtol=1e-4, atol=5e-5)
        assert_same_fit(a, c, request, rtol=1e-4, atol=5e-5)


def test_requests_that_cannot_share_a_program_get_stacks_of_their_own():
    def request(**params):
        return request_of(MLPClassifierTF(**{**dict(hidden_layer_sizes=(8,), max_iter=2,
                                                    random_state=0), **params}))

    requests = [request(), request(solver="sgd"), request(solver="lbfgs"), request(activation="tanh"),
                request(hidden_layer_sizes=(8, 8)), request(batch_size=16), request(loss="squared_error"),
                request(batch_normalization=True), request(verbose=True),
                request(hidden_layer_sizes=())]
    assert engine.stacks(requests) == [[0, 1, 3, 4], [2], [5], [6], [7], [8], [9]]


def test_stacks_trained_side_by_side_get_the_results_they_get_one_after_another(monkeypatch, compiled):
    def request(**params):  # on the CPU: stacks on a GPU train one after another
        return request_of(MLPClassifierTF(**{**dict(hidden_layer_sizes=(8,), max_iter=3,
                                                    random_state=0, device="cpu"), **params}))

    requests = [request(), request(batch_size=16, random_state=1), request(batch_size=50),
                request(loss="squared_error", random_state=2), request(solver="lbfgs"),
                request(verbose=True)]
    assert len(engine.stacks(requests)) == 6
    threads, run = [], engine.StackTrainer.run

    def recording_run(self):
        threads.append(threading.current_thread().name)
        return run(self)

    monkeypatch.setattr(engine.StackTrainer, "run", recording_run)
    one_after_another = engine.train(requests, concurrency=1)
    assert set(threads) == {threading.current_thread().name}
    threads.clear()
    side_by_side = engine.train(requests, concurrency=3)
    assert len(threads) == 5 and threads[0] == threading.current_thread().name  # verbose: alone
    assert len(set(threads[1:])) > 1 and all(t.startswith("skdl-stack") for t in threads[1:])
    for a, b in zip(side_by_side, one_after_another):
        assert a.n_iter == b.n_iter and a.loss_curve == b.loss_curve
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_array_equal(x, y)


def test_a_stack_cut_into_pieces_for_threads_trains_as_one_stack_with_one_program(monkeypatch, compiled):
    requests = fold_requests(lambda k: MLPClassifierTF((6 + k,), max_iter=3, random_state=k,
                                                       device="cpu"))
    assert len(engine.stacks(requests)) == 1 and len(requests) == 5
    shapes, run = [], engine.StackTrainer.run

    def recording_run(self):
        placed = self.stack.train_data.placed
        shapes.append((len(self.stack.requests), (placed["Y"].shape, placed["X"].shape)))
        return run(self)

    monkeypatch.setattr(engine.StackTrainer, "run", recording_run)
    whole = engine.train(requests, concurrency=1)
    assert shapes == [(5, shapes[0][1])]
    shapes.clear()
    built = engine.cache_info()["built"]
    cut = engine.train(requests, concurrency=2)
    # Two pieces of three (the last model trains twice), each with all the stack's data:
    # the same shapes, so one program and one compilation serve both.
    assert [size for size, _ in shapes] == [3, 3] and shapes[0][1] == shapes[1][1]
    # Every fold's inputs are placed (600 rows; their targets are equal: one set).
    assert shapes[0][1][1][0] >= 600 and engine.cache_info()["built"] == built
    for a, b in zip(cut, whole):
        assert a.n_iter == b.n_iter
        np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=1e-5)
        for x, y in zip(a.weights, b.weights):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_a_cancelled_stack_stops_before_its_next_epoch():
    requests = fold_requests(lambda k: MLPClassifierTF((6,), max_iter=5, random_state=k))
    cancelled = threading.Event()
    cancelled.set()
    assert [r.n_iter for r in engine._train_stack(requests, cancelled)] == [0] * len(requests)
    assert [r.n_iter for r in engine._train_stack(requests)] == [5] * len(requests)


# --- XLA (TensorFlow) --------------------------------------------------------------------
tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason="jit_compile is the TensorFlow engine's option")


@tensorflow_only
def test_xla_epochs_learn_like_the_graph_loop():
    plain = MLPClassifierTF((8,), max_iter=20, learning_rate_init=0.02, random_state=0).fit(X, Y)
    xla = MLPClassifierTF((8,), max_iter=20, learning_rate_init=0.02, jit_compile=True,
                          random_state=0).fit(X, Y)
    assert xla._training_spec.jit_compile and not plain._training_spec.jit_compile
    np.testing.assert_allclose(xla.loss_curve_, plain.loss_curve_, rtol=1e-3)
    assert xla.score(X, Y) == plain.score(X, Y)


ZERO_TAIL = np.ones(150)
ZERO_TAIL[128:] = 0  # 150 rows in batches of 32: the partial last batch weighs nothing


@tensorflow_only
@pytest.mark.parametrize("params, sample_weight", [
    (dict(hidden_layer_sizes=(8, 1), batch_normalization=True, wide_and_deep=True,
          activation="tanh", alpha=1e-4), None),
    (dict(hidden_layer_sizes=(8, 6), batch_normalization=True, alpha=1e-4), None),
    # An all-zero-weight partial batch divides its penalty by its 22 real rows, not 32.
    (dict(hidden_layer_sizes=(8,), activation="tanh", alpha=0.05), ZERO_TAIL),
], ids=["bn_narrow", "bn", "zero_tail"])
def test_xla_padding_rows_change_nothing(params, sample_weight):
    """Same start, no shuffling: the compiled epoch's padded last batch leaves the fit as it is."""
    common = dict(solver="sgd", batch_size=32, shuffle=False, max_iter=6, learning_rate_init=0.05,
                  tol=0.0, n_iter_no_change=100, random_state=0, **params)
    plain, xla = (MLPClassifierTF(jit_compile=jit, **common).fit(X, Y, sample_weight=sample_weight)
                  for jit in (False, True))
    np.testing.assert_allclose(xla.loss_curve_, plain.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(xla.predict_proba(X), plain.predict_proba(X), rtol=1e-4, atol=1e-4)
    for a, b in zip(xla._layout_weights(np.float32), plain._layout_weights(np.float32)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


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


def test_xla_compiles_small_networks_at_llvm_level_1_on_a_cpu_and_keeps_the_users_flags():
    import subprocess
    import sys

    code = ("import os, numpy as np; from skdl import MLPClassifierTF;"
            "X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int);"
            "before = os.environ['XLA_FLAGS'];"
            "MLPClassifierTF((4,), max_iter=2, jit_compile=False).fit(X, y);"
            "print(os.environ['XLA_FLAGS'] == before);"
            "MLPClassifierTF(SIZES, max_iter=2, jit_compile=True).fit(X, y);"
            "MLPClassifierTF((4,), max_iter=2, jit_compile=True).fit(X, y);"
            "print(os.environ['XLA_FLAGS'])")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
           "XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    outputs = [subprocess.run([sys.executable, "-c", code.replace("SIZES", sizes)], env=env,
                              capture_output=True, text=True, check=True).stdout.split("\n")[:2]
               for sizes in ("(4,)", "(400, 300)")]  # the process's first XLA program decides
    from skdl.engine.tensorflow import quick_cpu_flags
    quick = " ".join(f"{name}={value}" for name, value in quick_cpu_flags().items())
    assert "--xla_backend_optimization_level=1" in quick
    assert outputs == [["True", "--xla_cpu_enable_fast_math=false " + quick],
                       ["True", "--xla_cpu_enable_fast_math=false"]]


@tensorflow_only
def test_the_fusion_emitters_flag_is_asked_for_only_where_xla_is_known_to_have_it():
    from skdl.engine.tensorflow import quick_cpu_flags

    level = {"--xla_backend_optimization_level": "1"}
    assert quick_cpu_flags("2.19.0") == level  # XLA would stop the process on an unknown flag
    assert quick_cpu_flags("2.20.1") == quick_cpu_flags("2.21.0") == {
        **level, "--xla_cpu_use_fusion_emitters": "false"}
    assert quick_cpu_flags("2.99.0") == level


def test_only_small_networks_are_compiled_quickly():
    from skdl.engine.program import QUICK_COMPILATION_MAX_WEIGHTS, compiles_quickly

    def structure(sizes):
        request = fold_requests(lambda k: MLPClassifierTF(sizes, random_state=k))[0]
        return engine.structure_of([request])
    assert compiles_quickly(structure((64, 64)))
    assert not compiles_quickly(structure((QUICK_COMPILATION_MAX_WEIGHTS // 4,)))


@tensorflow_only
@pytest.mark.parametrize("flags, quick, gpus, expected", [
    ("", True, 0, "--xla_backend_optimization_level=1 --xla_cpu_use_fusion_emitters=false"),
    ("", False, 0, ""),
    ("--xla_backend_optimization_level=2", True, 0,
     "--xla_backend_optimization_level=2 --xla_cpu_use_fusion_emitters=false"),
    ("--xla_cpu_use_fusion_emitters=true", True, 0,
     "--xla_cpu_use_fusion_emitters=true --xla_backend_optimization_level=1"),
    ("", True, 1, ""),
], ids=["small_on_cpu", "big", "users_level", "users_emitters", "gpu_visible"])
def test_the_quick_compilation_flags_are_chosen_once_never_over_the_user_or_a_gpu(
        monkeypatch, flags, quick, gpus, expected):
    from skdl import _device
    from skdl.engine import tensorflow as backend

    monkeypatch.setattr(backend.tf, "__version__", "2.21.0")  # one whose XLA has both flags
    monkeypatch.setattr(backend, "_compilation_chosen", False)
    monkeypatch.setattr(_device, "gpu_count", lambda: gpus)
    monkeypatch.setenv("XLA_FLAGS", flags)
    backend.choose_cpu_compilation(quick)
    assert os.environ["XLA_FLAGS"] == expected
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=elsewhere")
    backend.choose_cpu_compilation(True)  # chosen once per process: XLA reads its flags once
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=elsewhere"


@tensorflow_only
def test_jit_compile_auto_compiles_only_big_stacks(monkeypatch, compiled):
    from skdl.engine import planning

    small = MLPClassifierTF((8,), max_iter=2, random_state=0).fit(X, Y)
    assert small._training_spec.jit_compile is False
    monkeypatch.setattr(planning, "QUICK_XLA_MIN_MODEL_STEPS", 1)  # any fit counts as big
    big = MLPClassifierTF((8,), max_iter=2, random_state=0).fit(X, Y)
    assert big._training_spec.jit_compile is True
    monkeypatch.undo()
    big.partial_fit(X, Y)  # keeps the compiled choice of the first fit
    assert big._training_spec.jit_compile is True
    # A stack of many models is big although each of its fits is small.
    requests = fold_requests(lambda k: MLPClassifierTF((8,), batch_size=8, max_iter=60, random_state=k))
    assert engine.structure_of(requests).jit_compile is True
    assert engine.structure_of(requests[:1]).jit_compile is False


@tensorflow_only
def test_jit_compile_auto_compiles_a_small_network_on_a_cpu_from_fewer_steps(compiled):
    from skdl.engine import planning

    def compiled(sizes, device, max_iter):
        # 19 minibatches of 8 an epoch
        request = request_of(MLPClassifierTF(sizes, batch_size=8, max_iter=max_iter, device=device))
        return engine.structure_of([request]).jit_compile

    quick_epochs = -(-planning.QUICK_XLA_MIN_MODEL_STEPS // 19)
    assert quick_epochs * 19 < planning.XLA_MIN_MODEL_STEPS
    assert compiled((8,), "cpu", quick_epochs) is True
    assert compiled((8,), "cpu", quick_epochs - 1) is False
    # A network too big to compile quickly (160,000 weights) waits for the usual count.
    assert compiled((400, 400), "cpu", quick_epochs) is False


def test_progress_is_reported_after_each_epoch_while_the_stacks_train():
    """Each stack reports every epoch as it trains: the second stack's first epoch already
    sees the first stack's epochs counted; the counts add up to the requests' budgets."""
    import dataclasses

    events, seen = [], []

    class FirstEpochWatch:
        def begin(self, epoch):
            if epoch == 0:
                seen.append(sum(events))

        def end(self, epoch, logs=None, weights=None):
            return False

    classifiers = [request_of(MLPClassifierTF((8,), max_iter=5, tol=0.0, random_state=k))
                   for k in range(3)]
    regressor = request_of(MLPRegressorTF(hidden_layer_sizes=(8,), max_iter=4, random_state=0),
                           y=X[:, 0])
    requests = [dataclasses.replace(r, epoch_hook=FirstEpochWatch())
                for r in classifiers + [regressor]]
    assert len(engine.stacks(requests)) == 2
    engine.train(requests, progress=events.append)
    assert seen[:3] == [0, 0, 0] and seen[3] == 3 * 5  # the regressor's stack came second
    assert events[:5] == [3] * 5 and sum(events) == engine.epochs(requests) == 3 * 5 + 4
