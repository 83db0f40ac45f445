"""Shared test data and small estimators.

Datasets are loaded once per session and handed out as read-only arrays, so a
test that writes into one fails loudly instead of changing another test's data
(copy first: ``X = X.copy()``). Each dataset fixture gives ``(X, y)``.

The estimator factories build the small, quickly trained networks most tests
fit: ``small_classifier(max_iter=5)`` is ``MLPClassifierTF((8,), max_iter=5,
random_state=0)``; any parameter can be overridden.
"""

import os
import tempfile

import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifierTF, MLPRegressorTF

# What skdl keeps on disk (JAX's compiled programs) goes to a folder of this run, not the
# home folder; the subprocesses of the tests inherit it.
os.environ.setdefault("SKDL_CACHE_DIR", tempfile.mkdtemp(prefix="skdl-test-cache-"))


def _read_only(X, y):
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _standardised(data):
    X, y = data
    return _read_only(StandardScaler().fit_transform(X), y)


@pytest.fixture(scope="session")
def iris():
    """Iris as ``load_iris`` gives it: 150 x 4 float64, sorted by class."""
    return _read_only(*load_iris(return_X_y=True))


@pytest.fixture(scope="session")
def iris_scaled(iris):
    """Iris standardised (``StandardScaler`` over all 150 rows), float64."""
    return _standardised(iris)


@pytest.fixture(scope="session")
def iris_scaled32(iris_scaled):
    """Iris standardised, as float32 (what the Keras wrappers' tests train on)."""
    X, y = iris_scaled
    return _read_only(X.astype("float32"), y)


@pytest.fixture(scope="session")
def digits():
    """Digits as ``load_digits`` gives it: 1797 x 64 float64 in [0, 16]."""
    return _read_only(*load_digits(return_X_y=True))


@pytest.fixture(scope="session")
def digits_scaled(digits):
    """Digits standardised over all 1797 rows, float64."""
    return _standardised(digits)


#: What the small estimators share: one hidden layer of 8 units, seeded.
SMALL = dict(hidden_layer_sizes=(8,), random_state=0)


@pytest.fixture
def small_classifier():
    """``small_classifier(max_iter=..., **params)``: an ``MLPClassifierTF`` with
    ``hidden_layer_sizes=(8,)`` and ``random_state=0`` unless ``params`` say otherwise."""
    def make(*, max_iter, **params):
        return MLPClassifierTF(**{**SMALL, "max_iter": max_iter, **params})
    return make


@pytest.fixture
def small_regressor():
    """``small_regressor(max_iter=..., **params)``: the ``MLPRegressorTF`` counterpart of
    :func:`small_classifier`."""
    def make(*, max_iter, **params):
        return MLPRegressorTF(**{**SMALL, "max_iter": max_iter, **params})
    return make


@pytest.fixture
def compiled():
    """Stacks run as compiled programs (``executor="compiled"``), however small: for the
    tests of what compiling does (programs shared, cached, XLA's choice)."""
    import skdl

    with skdl.config_context(executor="compiled"):
        yield
