"""scikit-learn's own estimator checks, the full generated list for each estimator."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import shuffle
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdl import MLPClassifierTF, MLPRegressorTF

_FLOAT32_SUMS = (
    "float32 training: a weighted row and its repeated copies are summed in another order, "
    "so the fits agree to float32 rounding (about 1e-7 relative in predict's float64 "
    "outputs, the check's rtol), and the check passes or fails by the CPU's kernels (it "
    "failed on AVX-512 Zen 5 cores). test_integer_sample_weights_train_as_repeated_rows "
    "asserts the equivalence at float32 tolerance on the check's data.")

#: Why a check cannot pass reliably; every other generated check passes.
EXPECTED_FAILED_CHECKS = {
    name: {"check_sample_weight_equivalence_on_dense_data": _FLOAT32_SUMS,
           "check_sample_weight_equivalence_on_sparse_data": _FLOAT32_SUMS}
    for name in ("MLPClassifierTF", "MLPRegressorTF")}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [MLPClassifierTF(max_iter=100), MLPRegressorTF(max_iter=100)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [MLPClassifierTF(max_iter=100, random_state=0),
                                       MLPRegressorTF(max_iter=100, random_state=0)])
def test_integer_sample_weights_train_as_repeated_rows(estimator):
    # The data of scikit-learn's check_sample_weight_equivalence: zero and integer weights.
    rng = np.random.RandomState(42)
    X, y, weights = rng.rand(15, 30), rng.randint(0, 3, size=15), rng.randint(0, 5, size=15)
    repeated = clone(estimator).fit(X.repeat(weights, axis=0), y.repeat(weights))
    X_weighted, y_weighted, weights = shuffle(X, y, weights, random_state=0)
    weighted = clone(estimator).fit(X_weighted, y_weighted, sample_weight=weights)
    unweighted = clone(estimator).fit(X_weighted, y_weighted)
    method = "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
    expected = getattr(repeated, method)(X)
    np.testing.assert_allclose(getattr(weighted, method)(X), expected, rtol=1e-5, atol=1e-7)
    assert np.max(np.abs(getattr(unweighted, method)(X) - expected)) > 1e-2
