"""Training behaviour: validation, early stopping, schedules, callbacks, persistence, reuse."""

import pickle

import keras
import numpy as np
import pytest

from skdl import MLPClassifierTF
from skdl.engine import cache_info, clear_cache
from skdl.exceptions import DivergenceError



@pytest.fixture(scope="module")
def digits600(digits_scaled):
    """The first 600 rows of digits, standardised over all 1797."""
    X, y = digits_scaled
    return X[:600], y[:600]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs, self.events, self.learning_rates = [], [], []

    def on_train_begin(self, logs=None):
        self.events.append("begin")

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))
        self.learning_rates.append(float(self.model.optimizer.learning_rate.numpy()))

    def on_train_end(self, logs=None):
        self.events.append("end")


def test_early_stopping_restores_the_best_epoch(digits600):
    X, y = digits600
    clf = MLPClassifierTF((32,), early_stopping=True, n_iter_no_change=3, max_iter=200,
                          learning_rate_init=0.05, random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # The restored weights score what the best epoch scored on the same split, drawn as
    # scikit-learn's MLP draws it: after the first weights, from the same RandomState.
    from sklearn.model_selection import train_test_split

    from skdl._network import sklearn_initial_weights

    stream = np.random.RandomState(0)
    sklearn_initial_weights(clf._network_spec, stream)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.1, random_state=stream)
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)


def test_validation_data_replaces_the_internal_split(digits600):
    X, y = digits600
    X_tr, y_tr, X_val, y_val = X[:400], y[:400], X[400:], y[400:]
    clf = MLPClassifierTF((32,), max_iter=8, random_state=0).fit(X_tr, y_tr, validation_data=(X_val, y_val))
    assert len(clf.validation_scores_) == 8
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_val, y_val))
    assert clf.t_ == 8 * 400  # every training sample used: no internal split
    assert {"loss", "val_loss", "val_score", "val_accuracy"} <= set(clf.history_)


def test_callbacks_receive_the_usual_logs_every_epoch(digits600, small_regressor):
    X, y = digits600
    recorder = Recorder()
    clf = small_regressor(max_iter=4, callbacks=[recorder], early_stopping=True).fit(
        X, y.astype(float))
    assert recorder.events == ["begin", "end"]
    assert len(recorder.logs) == clf.n_iter_ == 4
    assert {"loss", "val_loss", "val_score", "val_r2"} <= set(recorder.logs[0])
    assert [log["loss"] for log in recorder.logs] == pytest.approx(clf.loss_curve_)


def test_keras_early_stopping_callback_stops_training(iris_scaled, small_classifier):
    X, y = iris_scaled
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    clf = small_classifier(max_iter=50, callbacks=[stopper]).fit(X, y)
    assert clf.n_iter_ == 2  # the first epoch sets the baseline, the second fails to beat it


def test_model_checkpoint_and_tensorboard_write_files(tmp_path, digits600, small_classifier):
    X, y = digits600
    path = tmp_path / "best.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    small_classifier(max_iter=3, callbacks=[checkpoint, board], early_stopping=True).fit(X, y)
    assert path.exists()
    restored = keras.models.load_model(path)
    assert restored.output_shape == (None, 10)
    assert any((tmp_path / "logs").rglob("*tfevents*"))


def test_callbacks_param_is_not_mutated_by_fit(iris_scaled, small_classifier):
    X, y = iris_scaled
    recorder = Recorder()
    clf = small_classifier(max_iter=2, callbacks=[recorder])
    params_before = clf.get_params()
    clf.fit(X, y)
    assert clf.get_params()["callbacks"] is params_before["callbacks"]


def test_invscaling_and_adaptive_schedules_change_the_sgd_learning_rate(iris_scaled,
                                                                        small_classifier):
    X, y = iris_scaled
    rec = Recorder()
    small_classifier(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5, power_t=0.5,
                     max_iter=3, callbacks=[rec]).fit(X, y)
    np.testing.assert_allclose(rec.learning_rates, [0.5 / (150 * k + 1) ** 0.5 for k in (1, 2, 3)], rtol=1e-5)
    rec = Recorder()
    small_classifier(solver="sgd", learning_rate="adaptive", learning_rate_init=0.1, tol=10.0,
                     n_iter_no_change=1, max_iter=6, callbacks=[rec]).fit(X, y)
    assert rec.learning_rates[0] == pytest.approx(0.1)
    assert min(rec.learning_rates) == pytest.approx(0.1 / 5 ** 2, rel=1e-5)


def test_training_loss_plateau_stops_when_sklearn_does(iris_scaled):
    from sklearn.neural_network import MLPClassifier

    X, y = iris_scaled
    params = dict(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=2, max_iter=100, random_state=0)
    ours = MLPClassifierTF(**params).fit(X, y)
    theirs = MLPClassifier(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 4


def test_divergence_raises_and_keeps_the_previous_model(iris, iris_scaled, small_regressor):
    X_raw, X = iris[0], iris_scaled[0]
    clf = small_regressor(max_iter=3).fit(X, X_raw[:, 0])
    before = clf.predict(X)
    clf.set_params(solver="sgd", learning_rate_init=1e8, max_iter=20)
    with pytest.raises(DivergenceError, match="diverged.*epoch"):
        clf.fit(X_raw * 1e6, X_raw[:, 0] * 1e6)
    np.testing.assert_array_equal(clf.predict(X), before)
    assert clf.n_iter_ == 3


def test_same_shape_fits_in_turn_and_interleaved_match_fits_alone(iris_scaled):
    X, y = iris_scaled

    def make(seed):
        return MLPClassifierTF((16,), max_iter=5, random_state=seed)

    alone = []
    for seed in (1, 2):
        clear_cache()
        alone.append(make(seed).fit(X, y).predict_proba(X))
    a, b = make(1), make(2)
    a.fit(X, y)
    b.fit(X, y)  # reuses the program a trained with
    np.testing.assert_array_equal(a.predict_proba(X), alone[0])
    np.testing.assert_array_equal(b.predict_proba(X), alone[1])
    # Interleaved partial fits: each estimator keeps its own weights and optimizer state.
    c, d = make(1), make(2)
    for _ in range(5):
        c.partial_fit(X, y, classes=[0, 1, 2])
        d.partial_fit(X, y, classes=[0, 1, 2])
    e = make(1)
    for _ in range(5):
        e.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(c.predict_proba(X), e.predict_proba(X))


def test_program_cache_stays_bounded_and_keeps_the_programs_in_use(monkeypatch, iris_scaled, compiled):
    from skdl import engine

    X, y = iris_scaled
    monkeypatch.setattr(engine._CACHE, "max_size", 2)  # the bound at work in few fits
    clear_cache()
    built_before = cache_info()["built"]
    for i in range(30):
        # 3 distinct shapes twice (more than the cache keeps), then 2 shapes over and over.
        width = 2 + (i % 3 if i < 6 else i % 2)
        MLPClassifierTF((width,), max_iter=1, batch_size=150, random_state=i).fit(X, y)
        assert cache_info()["programs"] <= cache_info()["max_programs"] == 2
    # 6 builds for the cycling phase (each shape was dropped before its turn came again),
    # then the 2 shapes stay cached.
    assert 6 <= cache_info()["built"] - built_before <= 6 + 2
    clear_cache()
    built_before = cache_info()["built"]
    for i in range(20):
        MLPClassifierTF((5,), max_iter=1, random_state=i).fit(X, y)
    assert cache_info()["built"] - built_before == 1


def test_a_fitted_estimator_with_callbacks_pickles_and_clones(iris_scaled, small_classifier):
    from sklearn.base import clone

    X, y = iris_scaled
    clf = small_classifier(max_iter=2, callbacks=[Recorder(), keras.callbacks.EarlyStopping("loss")])
    clf.fit(X, y)
    plain = small_classifier(max_iter=2).fit(X, y)
    # The callbacks hold no reference to the (shared) Keras network after fit.
    assert len(pickle.dumps(clf)) < len(pickle.dumps(plain)) + 2000
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert len(clone(clf).get_params()["callbacks"]) == 2


def test_regressor_validation_data_on_a_first_fit(iris, iris_scaled, small_regressor):
    X_raw, X = iris[0], iris_scaled[0]
    X_tr, X_val = X[:100], X[100:]
    reg = small_regressor(max_iter=4).fit(
        X_tr, X_raw[:100, 0], validation_data=(X_val, X_raw[100:, 0]))
    assert len(reg.validation_scores_) == 4
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X_val, X_raw[100:, 0]), rel=1e-5)


def test_a_full_batch_fit_and_as_many_partial_fits_train_the_same_network(iris_scaled,
                                                                        small_regressor):
    # Each step sums its batch's rows in ascending order: one set of rows, one sum, whatever
    # the shuffle (fit and partial_fit draw different ones), as scikit-learn's own
    # test_partial_fit_regression expects of float64 arithmetic.
    X, y = iris_scaled
    target = X[:, 0] + y
    settings = dict(solver="sgd", batch_size=len(X), learning_rate_init=0.01, momentum=0.9)
    fitted = small_regressor(max_iter=20, **settings).fit(X, target)
    stepped = small_regressor(max_iter=1, **settings)
    for _ in range(20):
        stepped.partial_fit(X, target)
    np.testing.assert_allclose(stepped.predict(X), fitted.predict(X), rtol=1e-7)
