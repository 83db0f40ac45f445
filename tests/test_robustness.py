"""Faults in the middle of training leave a usable or unfitted estimator; misuse across
calls (partial_fit, validation data, devices, data frames) gets a clear error. The matrix of
bad inputs and parameters, each refused with scikit-learn's error and the previous model
kept, is ``test_bad_input.py``'s."""

import re

import keras
import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError

from skdl import MLPClassifierTF, MLPRegressorTF

rng = np.random.RandomState(0)
X = rng.normal(size=(40, 4))
Y_CLS = np.arange(40) % 3
Y_REG = X @ [1.0, -1.0, 0.5, 0.0]
FAST = dict(max_iter=3, random_state=0)


def test_partial_fit_errors():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifierTF().partial_fit(X, Y_CLS)
    clf = MLPClassifierTF((4,)).partial_fit(X, Y_CLS, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("`y` has classes not in `self.classes_`. "
                                                   "`self.classes_` has [0 1 2]. 'y' has [7].")):
        clf.partial_fit(X, np.full(40, 7))
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:, :3], Y_CLS)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        MLPClassifierTF(solver="lbfgs").partial_fit(X, Y_CLS, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="does not support early_stopping"):
        MLPRegressorTF(early_stopping=True).partial_fit(X, Y_REG)
    assert clf.n_iter_ == 1 and clf.t_ == 40  # the failed calls changed nothing


def test_unseen_labels_at_score_and_in_validation_data():
    clf = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    assert 0 <= clf.score(X, np.full(40, 9)) <= 1  # like scikit-learn: simply wrong predictions
    with pytest.raises(ValueError, match="labels not seen"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=(X, np.full(40, 9)))
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=X)
    with pytest.raises(ValueError, match="X has 3 features"):
        MLPClassifierTF((4,), **FAST).fit(X, Y_CLS, validation_data=(X[:, :3], Y_CLS))


def test_validation_split_too_small_and_poisson_misuse():
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressorTF(early_stopping=True, **FAST).fit(X[:8], Y_REG[:8])
    with pytest.raises(ValueError, match="negative"):
        MLPRegressorTF("poisson", **FAST).fit(X, Y_REG)
    with pytest.raises(ValueError, match="output_activation='identity'"):
        MLPRegressorTF("poisson", output_activation="relu", **FAST).fit(X, np.abs(Y_REG))


def test_gpu_device_without_a_gpu_says_so():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="device='gpu' asks for GPU 0, but the backend sees 0"):
        MLPClassifierTF(device="gpu", **FAST).fit(X, Y_CLS)


def test_sparse_input_is_densified():
    dense = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    sparse = MLPClassifierTF((4,), **FAST).fit(scipy.sparse.csr_matrix(X), Y_CLS)
    np.testing.assert_allclose(sparse.predict_proba(scipy.sparse.csr_matrix(X)), dense.predict_proba(X),
                               rtol=1e-6)


def test_mixed_dtype_dataframe_is_refused_with_the_column_problem():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": X[:, 0], "b": ["x", "y"] * 20})
    with pytest.raises(ValueError, match="could not convert|string"):
        MLPClassifierTF((4,), **FAST).fit(frame, Y_CLS)


# --- faults in the middle of training -------------------------------------------
class Raising(keras.callbacks.Callback):
    def __init__(self, error, at_epoch=1):
        super().__init__()
        self.error, self.at_epoch = error, at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise self.error


@pytest.mark.parametrize("error", [RuntimeError("callback broke"), KeyboardInterrupt()],
                         ids=["callback error", "KeyboardInterrupt"])
def test_an_interrupted_fit_keeps_the_previous_model(error):
    clf = MLPClassifierTF((4,), **FAST).fit(X, Y_CLS)
    before = clf.predict_proba(X)
    clf.set_params(callbacks=[Raising(error)], max_iter=5)
    with pytest.raises(type(error)):
        clf.fit(X, Y_CLS)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == 3
    fresh = MLPClassifierTF((4,), callbacks=[Raising(error)], max_iter=5)
    with pytest.raises(type(error)):
        fresh.fit(X, Y_CLS)
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def test_diverging_run_says_at_which_epoch():
    from skdl.exceptions import DivergenceError

    with pytest.raises(DivergenceError, match=r"diverged: the loss became (nan|inf) at epoch \d+"):
        MLPRegressorTF(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e6, max_iter=50,
                       random_state=0).fit(X * 1e6, Y_REG * 1e6)


def test_early_stopping_patience_running_out_after_the_first_epoch():
    from sklearn.neural_network import MLPClassifier

    params = dict(hidden_layer_sizes=(4,), early_stopping=True, n_iter_no_change=1, tol=100.0,
                  max_iter=50, random_state=0)
    data = np.tile(X, (3, 1)), np.tile(Y_CLS, 3)
    clf = MLPClassifierTF(**params).fit(*data)
    assert clf.n_iter_ == MLPClassifier(**params).fit(*data).n_iter_ == 3  # stops like scikit-learn
    assert len(clf.validation_scores_) == 3
    assert clf.predict(X).shape == (40,)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
def test_values_beyond_float32_are_refused_not_trained_into_nan(where):
    big = np.full(40, 1e39)
    args = {"X": (np.column_stack([big, X[:, 1:]]), Y_REG, None), "y": (X, big, None),
            "sample_weight": (X, Y_REG, big)}[where]
    reg = MLPRegressorTF(hidden_layer_sizes=(4,), **FAST)
    with pytest.raises(ValueError, match=f"{where} has values too large for float32"):
        reg.fit(args[0], args[1], sample_weight=args[2])


def test_a_fit_whose_outputs_overflow_never_predicts_nan_silently():
    # One SGD step at lr=1e6 on inputs of 1e6: the loss is still finite, the outputs are not.
    reg = MLPRegressorTF(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=1e6, max_iter=1,
                         batch_size=40, random_state=0)
    try:
        reg.fit(X * 1e6, Y_REG * 1e6)
    except ValueError as error:  # DivergenceError, when the weights themselves went non-finite
        assert "diverged" in str(error)
    else:
        with pytest.raises(ValueError, match="outputs overflow float32"):
            reg.predict(X * 1e6)
