"""Properties that hold for any small data set and parameter choice (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from skdl import MLPClassifierTF, MLPRegressorTF

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

labels = st.sampled_from([np.array([0, 1]), np.array([-3, 5, 7]), np.array(["a", "b", "c", "d"]),
                          np.array([True, False]), np.array([0.5, 1.5])])
params = st.fixed_dictionaries({
    "hidden_layer_sizes": st.sampled_from([(), (3,), (4, 2)]),
    "activation": st.sampled_from(["relu", "tanh", "logistic", "selu"]),
    "solver": st.sampled_from(["adam", "sgd", "rmsprop", "lbfgs"]),
    "batch_size": st.sampled_from(["auto", 1, 7]),
    "dropout": st.sampled_from([0.0, 0.3]),
    "batch_normalization": st.booleans(),
    "max_iter": st.integers(1, 3),
})


@st.composite
def classification_data(draw):
    n = draw(st.integers(4, 30))
    d = draw(st.integers(1, 5))
    classes = draw(labels)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(draw(st.sampled_from([np.float32, np.float64])))
    y = classes[np.arange(n) % len(classes)]
    rng.shuffle(y)
    return X, y, classes


@SETTINGS
@given(data=classification_data(), params=params, seed=st.integers(0, 1000))
def test_classifier_predictions_are_well_formed_and_reproducible(data, params, seed):
    X, y, classes = data
    clf = MLPClassifierTF(random_state=seed, **params).fit(X, y)
    predicted = clf.predict(X)
    assert predicted.shape == (len(X),)
    assert set(predicted) <= set(classes)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(classes))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(clf.classes_, np.unique(classes))
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


@SETTINGS
@given(n=st.integers(3, 25), d=st.integers(1, 4), outputs=st.integers(1, 3), params=params,
       seed=st.integers(0, 1000))
def test_regressor_predictions_follow_the_target_shape(n, d, outputs, params, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=(n, outputs)) if outputs > 1 else rng.normal(size=n)
    reg = MLPRegressorTF(random_state=seed, **params).fit(X, y)
    assert reg.predict(X).shape == y.shape
    assert np.all(np.isfinite(reg.predict(X)))
    np.testing.assert_array_equal(clone(reg).fit(X, y).predict(X), reg.predict(X))
