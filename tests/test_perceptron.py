"""skdl.perceptron.Perceptron against scikit-learn's Cython Perceptron."""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import linear_model
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdl._params import InvalidParameterError
from skdl.perceptron import Perceptron

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
GEN_X, GEN_Y = make_classification(n_samples=240, n_features=7, n_informative=4,
                                   n_classes=3, random_state=0)
BIN_X, BIN_Y = make_classification(n_samples=200, n_features=5, random_state=1)
WEIGHTS = np.random.RandomState(0).uniform(0.2, 3.0, size=240)
XOR_X, XOR_Y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])

#: Each entry says why the check cannot pass; nothing else is skipped.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "Online updates: weight 2 is one double step, a repeated sample is two "
        "steps with a re-check between them; scikit-learn's Perceptron fails it too."),
    "check_sample_weight_equivalence_on_sparse_data": (
        "Same online-update reason as on dense data; scikit-learn's Perceptron fails it too."),
}


def fit_both(X, y, fit_params=None, **params):
    """Fit ours and scikit-learn's with the same settings; shuffling off, warnings kept quiet."""
    fit_params = fit_params or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = Perceptron(shuffle=False, **params).fit(X, y, **fit_params)
        theirs = linear_model.Perceptron(shuffle=False, **params).fit(X, y, **fit_params)
    return ours, theirs


def assert_same_model(ours, theirs, rtol=1e-10):
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=rtol, atol=1e-12)
    assert ours.coef_.shape == theirs.coef_.shape
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


def test_constructor_signature_is_sklearns():
    ours = inspect.signature(Perceptron.__init__).parameters
    theirs = inspect.signature(linear_model.Perceptron.__init__).parameters
    assert [(p.name, p.default, p.kind) for p in ours.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.values()]


def test_init_only_stores_arguments():
    params = {"penalty": "bogus", "alpha": -1, "max_iter": 0, "class_weight": 3}
    assert Perceptron(**params).get_params() == {**Perceptron().get_params(), **params}


@pytest.mark.parametrize("X, y, fit_params, params", [
    pytest.param(IRIS_X[:, 2:], IRIS_Y == 0, {}, {}, id="iris-petals-is-setosa"),
    pytest.param(IRIS_X, IRIS_Y, {}, {}, id="iris-multiclass"),
    pytest.param(GEN_X, GEN_Y, {}, {}, id="generated-multiclass"),
    pytest.param(BIN_X, BIN_Y, {}, {}, id="generated-binary"),
    pytest.param(GEN_X, GEN_Y, {"sample_weight": WEIGHTS}, {}, id="sample-weight"),
    pytest.param(BIN_X, BIN_Y, {"sample_weight": WEIGHTS[:200]}, {}, id="sample-weight-binary"),
    pytest.param(IRIS_X, IRIS_Y, {}, {"class_weight": {0: 2.0, 1: 0.5, 2: 1.5}},
                 id="class-weight-dict"),
    pytest.param(GEN_X, GEN_Y, {}, {"class_weight": "balanced"}, id="class-weight-balanced"),
    pytest.param(BIN_X, BIN_Y, {}, {"class_weight": {0: 3.0, 1: 1.0}}, id="class-weight-binary"),
    pytest.param(IRIS_X, IRIS_Y, {"sample_weight": WEIGHTS[:150]},
                 {"class_weight": {0: 2.0, 1: 0.5, 2: 1.5}}, id="sample-and-class-weight"),
    pytest.param(BIN_X, BIN_Y, {}, {"fit_intercept": False}, id="no-intercept-binary"),
    pytest.param(IRIS_X, IRIS_Y, {}, {"fit_intercept": False}, id="no-intercept-multiclass"),
    pytest.param(GEN_X, GEN_Y, {}, {"eta0": 0.1, "tol": 1e-2, "n_iter_no_change": 2},
                 id="eta0-tol-patience"),
    pytest.param(BIN_X, BIN_Y, {}, {"tol": None, "max_iter": 25}, id="tol-none"),
    pytest.param(GEN_X, GEN_Y, {}, {"early_stopping": True}, id="early-stopping"),
    pytest.param(BIN_X, BIN_Y, {"sample_weight": WEIGHTS[:200]},
                 {"early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 2},
                 id="early-stopping-binary-weighted"),
    # The held-out accuracy is weighted by sample_weight (not by class_weight).
    pytest.param(GEN_X, GEN_Y, {"sample_weight": WEIGHTS},
                 {"early_stopping": True, "validation_fraction": 0.2,
                  "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}, id="early-stopping-weighted"),
    # With tol=0 an unchanged loss or accuracy counts as an improvement: no early stop.
    pytest.param(IRIS_X[:, 2:], IRIS_Y == 0, {}, {"tol": 0.0, "max_iter": 30},
                 id="tol-zero-separable"),
    pytest.param(IRIS_X, IRIS_Y, {}, {"tol": 0.0, "max_iter": 30, "early_stopping": True},
                 id="tol-zero-early-stopping"),
])
def test_matches_sklearn_without_shuffling(X, y, fit_params, params):
    ours, theirs = fit_both(X, y, fit_params, **params)
    assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X),
                               rtol=1e-10, atol=1e-12)
    assert ours.score(X, y) == theirs.score(X, y)


def test_sums_products_left_to_right_like_sklearn():
    # w . x2 is 1e16 + 1 - 1e16: 0.0 added left to right, 1.0 in BLAS's blocked
    # order. At 0.0 the second sample is a mistake and sklearn updates on it.
    x1, x2 = np.ones(16), np.zeros(16)
    x2[[0, 1, 8]] = [1e16, 1.0, -1e16]
    X, y = np.array([x1, x2, -x1]), np.array([1, 1, 0])
    ours, theirs = fit_both(X, y, fit_intercept=False, max_iter=1, tol=None)
    assert_same_model(ours, theirs)
    assert ours.coef_[0, 0] == 1e16


@pytest.mark.parametrize("data", ["generated", "iris"])
@pytest.mark.parametrize("params", [
    {"penalty": "l2"}, {"penalty": "l2", "alpha": 0.1}, {"penalty": "l1"},
    {"penalty": "elasticnet", "alpha": 0.001}, {"penalty": "elasticnet", "l1_ratio": 0.9},
])
def test_penalties_match_sklearn(data, params):
    # sklearn folds the L2 decay into a running scale factor, which rounds a little
    # differently; epochs and weights still agree to near machine precision.
    X, y = (GEN_X, GEN_Y) if data == "generated" else (IRIS_X, IRIS_Y)
    ours, theirs = fit_both(X, y, **params)
    assert_same_model(ours, theirs, rtol=1e-8)


@pytest.mark.parametrize("penalty", [None, "l2", "l1"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_input_matches_sklearn(penalty, fit_intercept):
    X = GEN_X * (np.random.RandomState(1).rand(*GEN_X.shape) < 0.4)
    X[0] = 0.0  # a row with no stored entries
    ours, theirs = fit_both(scipy.sparse.csr_matrix(X), GEN_Y, penalty=penalty,
                            fit_intercept=fit_intercept)
    assert_same_model(ours, theirs, rtol=1e-8)
    dense = Perceptron(shuffle=False, penalty=penalty, fit_intercept=fit_intercept).fit(X, GEN_Y)
    if fit_intercept:  # sparse intercept updates are damped, as in sklearn
        assert not np.allclose(dense.intercept_, ours.intercept_)


def test_sparse_duplicate_entries_are_summed_without_touching_the_input():
    X = scipy.sparse.csr_matrix(BIN_X)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    split = scipy.sparse.csr_matrix(  # every stored value as two entries, 1/4 + 3/4
        (np.c_[X.data / 4, X.data * 3 / 4].ravel(), np.repeat(X.indices, 2),
         np.r_[0, np.cumsum(2 * np.bincount(rows, minlength=X.shape[0]))]), shape=X.shape)
    assert not split.has_canonical_format
    ours, theirs = fit_both(split, BIN_Y, penalty="l1")
    assert_same_model(ours, theirs, rtol=1e-8)
    np.testing.assert_array_equal(ours.coef_, fit_both(X, BIN_Y, penalty="l1")[0].coef_)
    assert split.nnz == 2 * X.nnz and not split.has_canonical_format


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), n_classes=st.sampled_from([2, 3, 4]),
       n_samples=st.integers(20, 80), n_features=st.integers(2, 6),
       fit_intercept=st.booleans(), weighted=st.booleans(),
       eta0=st.sampled_from([1.0, 0.25]))
def test_matches_sklearn_on_random_problems(seed, n_classes, n_samples, n_features,
                                            fit_intercept, weighted, eta0):
    X, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=2,
                               n_redundant=0, n_classes=n_classes, n_clusters_per_class=1,
                               random_state=seed)
    sample_weight = np.random.RandomState(seed).uniform(0, 2, n_samples) if weighted else None
    ours, theirs = fit_both(X, y, {"sample_weight": sample_weight}, max_iter=50,
                            fit_intercept=fit_intercept, eta0=eta0)
    assert_same_model(ours, theirs)


def test_cannot_learn_xor():
    for params in [{}, {"shuffle": False}, {"random_state": 3, "max_iter": 5000, "tol": None}]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = Perceptron(**params).fit(XOR_X, XOR_Y)
        assert clf.score(XOR_X, XOR_Y) <= 0.75


def test_learns_a_separable_problem_exactly():
    # The convergence theorem: on separable data the rule stops making mistakes.
    X, y = IRIS_X[:, 2:], IRIS_Y == 0
    for random_state in range(3):
        clf = Perceptron(random_state=random_state).fit(X, y)
        assert clf.score(X, y) == 1.0


def test_shuffling_is_seeded():
    a = Perceptron(random_state=7).fit(GEN_X, GEN_Y)
    b = Perceptron(random_state=7).fit(GEN_X, GEN_Y)
    c = Perceptron(shuffle=False).fit(GEN_X, GEN_Y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.allclose(a.coef_, c.coef_)


def test_partial_fit_is_one_epoch_of_fit():
    classes = np.unique(IRIS_Y)
    ours = Perceptron(shuffle=False).partial_fit(IRIS_X, IRIS_Y, classes=classes)
    theirs = linear_model.Perceptron(shuffle=False).partial_fit(IRIS_X, IRIS_Y, classes=classes)
    assert_same_model(ours, theirs)
    with pytest.warns(ConvergenceWarning):
        one_epoch = Perceptron(shuffle=False, max_iter=1).fit(IRIS_X, IRIS_Y)
    assert_same_model(ours, one_epoch)


def test_partial_fit_batches_match_sklearn():
    ours, theirs = Perceptron(shuffle=False), linear_model.Perceptron(shuffle=False)
    for batch in np.array_split(np.arange(len(GEN_Y)), 4):
        ours.partial_fit(GEN_X[batch], GEN_Y[batch], classes=[0, 1, 2],
                         sample_weight=WEIGHTS[batch])
        theirs.partial_fit(GEN_X[batch], GEN_Y[batch], classes=[0, 1, 2],
                           sample_weight=WEIGHTS[batch])
        assert_same_model(ours, theirs)
    assert ours.t_ == 1 + len(GEN_Y)


def test_partial_fit_continues_after_fit_and_warm_start_matches_sklearn():
    ours, theirs = fit_both(GEN_X[:120], GEN_Y[:120], warm_start=True)
    for est in (ours, theirs):
        est.fit(GEN_X[120:], GEN_Y[120:])
        est.partial_fit(GEN_X[:60], GEN_Y[:60])
    assert_same_model(ours, theirs)


def test_coef_init_and_intercept_init_match_sklearn():
    init = {"coef_init": np.ones((3, 4)), "intercept_init": [1.0, -1.0, 0.5]}
    ours, theirs = fit_both(IRIS_X, IRIS_Y, init)
    assert_same_model(ours, theirs)
    with pytest.raises(ValueError, match="coef_init has shape"):
        Perceptron().fit(IRIS_X, IRIS_Y, coef_init=np.ones((2, 4)))
    with pytest.raises(ValueError, match="intercept_init has shape"):
        Perceptron().fit(IRIS_X, IRIS_Y, intercept_init=np.ones(2))


def test_partial_fit_needs_classes_on_first_call():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        Perceptron().partial_fit(IRIS_X, IRIS_Y)


def test_partial_fit_rejects_unseen_labels_and_changed_classes():
    clf = Perceptron().partial_fit(IRIS_X[:100], IRIS_Y[:100], classes=[0, 1])
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes"):
        clf.partial_fit(IRIS_X[100:], IRIS_Y[100:])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.coef_, coef)


def test_partial_fit_refuses_early_stopping_and_balanced_weights():
    with pytest.raises(ValueError, match="early_stopping"):
        Perceptron(early_stopping=True).partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="balanced"):
        Perceptron(class_weight="balanced").partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])


@pytest.mark.parametrize("labels", [np.array(["setosa", "versicolor", "virginica"]),
                                    np.array(["no", "yes", "yes"])])
def test_string_labels_come_back_as_given(labels):
    y = labels[IRIS_Y]
    clf, theirs = fit_both(IRIS_X, y)
    assert_same_model(clf, theirs)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    np.testing.assert_array_equal(clf.predict(IRIS_X), theirs.predict(IRIS_X))
    assert set(clf.predict(IRIS_X)) <= set(labels)
    # Same weights and predictions as with the equivalent integer codes.
    codes = Perceptron(shuffle=False).fit(IRIS_X, np.unique(y, return_inverse=True)[1])
    np.testing.assert_array_equal(clf.coef_, codes.coef_)
    np.testing.assert_array_equal(clf.predict(IRIS_X), clf.classes_[codes.predict(IRIS_X)])


def test_object_labels_keep_their_type():
    y = np.array(["a", "b"], dtype=object)[(IRIS_Y == 0).astype(int)]
    clf = Perceptron().fit(IRIS_X, y)
    assert clf.classes_.dtype == object and clf.predict(IRIS_X).dtype == object
    np.testing.assert_array_equal(clf.predict(IRIS_X), y)


@pytest.mark.parametrize("param, value", [
    ("penalty", "l3"), ("alpha", -1.0), ("l1_ratio", 1.5), ("fit_intercept", "yes"),
    ("max_iter", 0), ("max_iter", 2.5), ("tol", -1e-3), ("shuffle", None), ("verbose", -1),
    ("eta0", 0.0), ("n_jobs", "all"), ("random_state", -1), ("random_state", "seed"),
    ("early_stopping", 1), ("validation_fraction", 1.0), ("n_iter_no_change", 0),
    ("class_weight", "auto"), ("warm_start", "no"),
])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_parameters_name_the_parameter(param, value, method):
    clf = Perceptron(**{param: value})
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    message = rf"^The '{param}' parameter of Perceptron must be .* Got .* instead\.$"
    with pytest.raises(InvalidParameterError, match=message):
        getattr(clf, method)(IRIS_X, IRIS_Y, **kwargs)
    assert not hasattr(clf, "coef_")


def test_invalid_parameter_error_is_a_value_error():
    with pytest.raises(ValueError, match="'alpha' parameter"):
        Perceptron(alpha=-1).fit(IRIS_X, IRIS_Y)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("bad_refit", [
    lambda clf: clf.fit(np.where(IRIS_X == IRIS_X[0, 0], np.nan, IRIS_X), IRIS_Y),
    lambda clf: clf.fit(np.full_like(IRIS_X, np.inf), IRIS_Y),
    lambda clf: clf.fit(IRIS_X[:, :2], np.zeros(150)),
    lambda clf: clf.fit(IRIS_X[:, :3], IRIS_Y, coef_init=np.ones((2, 3))),
    lambda clf: clf.set_params(alpha=-1).fit(IRIS_X, IRIS_Y),
    lambda clf: clf.partial_fit(IRIS_X[:, :3], IRIS_Y),
])
def test_failed_refit_keeps_the_earlier_model(bad_refit):
    X = pd.DataFrame(IRIS_X, columns=["sl", "sw", "pl", "pw"])
    clf = Perceptron(shuffle=False).fit(X, IRIS_Y)
    before = {k: np.copy(v) for k, v in vars(clf).items() if k.endswith("_")}
    with pytest.raises(ValueError):
        bad_refit(clf)
    assert set(before) == {k for k in vars(clf) if k.endswith("_")}
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(clf, name), value)
    fresh = Perceptron(shuffle=False).fit(X, IRIS_Y)
    np.testing.assert_array_equal(clf.predict(X), fresh.predict(X))


def test_clear_errors_on_bad_input():
    with pytest.raises(ValueError, match="at least 2 classes"):
        Perceptron().fit(IRIS_X, np.ones(150))
    with pytest.raises(ValueError, match="Unknown label type"):
        Perceptron().fit(IRIS_X, IRIS_X[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        Perceptron().fit(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="NaN"):
        Perceptron().fit(IRIS_X, np.where(IRIS_Y == 0, np.nan, IRIS_Y))
    with pytest.raises(NotFittedError):
        Perceptron().predict(IRIS_X)
    clf = Perceptron().fit(IRIS_X, IRIS_Y)
    with pytest.raises(ValueError, match="X has 3 features, but Perceptron is expecting 4"):
        clf.predict(IRIS_X[:, :3])
    with pytest.raises(ValueError, match="infinity"):
        clf.decision_function(np.full((1, 4), np.inf))


def test_overflow_is_reported_like_sklearn():
    X, y = np.array([[1e300], [-1e300]]), np.array([0, 1])
    for est in (Perceptron(eta0=1e10), linear_model.Perceptron(eta0=1e10)):
        with pytest.raises(ValueError, match="Floating-point under-/overflow occurred at epoch"):
            est.fit(X, y)


def test_convergence_warning_only_when_max_iter_is_hit():
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        Perceptron(max_iter=2).fit(GEN_X, GEN_Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Perceptron(max_iter=2, tol=None).fit(GEN_X, GEN_Y)
        Perceptron().fit(GEN_X, GEN_Y)


def test_binary_model_has_one_weight_vector_and_no_probabilities():
    clf = Perceptron().fit(BIN_X, BIN_Y)
    assert clf.coef_.shape == (1, 5) and clf.intercept_.shape == (1,)
    assert clf.decision_function(BIN_X).shape == (200,)
    np.testing.assert_array_equal(clf.predict(BIN_X), clf.decision_function(BIN_X) > 0)
    assert not hasattr(clf, "predict_proba")
    multi = Perceptron().fit(IRIS_X, IRIS_Y)
    assert multi.coef_.shape == (3, 4) and multi.decision_function(IRIS_X).shape == (150, 3)


def test_verbose_prints_each_epoch(capsys):
    clf = Perceptron(verbose=1, shuffle=False).fit(IRIS_X[:, 2:], IRIS_Y == 0)
    assert capsys.readouterr().out.count("-- Epoch") == clf.n_iter_


def test_clone_and_feature_names():
    X = pd.DataFrame(IRIS_X, columns=["sl", "sw", "pl", "pw"])
    clf = clone(Perceptron(alpha=0.5)).fit(X, IRIS_Y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["sl", "sw", "pl", "pw"])
    assert clf.n_features_in_ == 4


@parametrize_with_checks([Perceptron()],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_fits_on_scikit_learn_1_6s_sample_weight_check(monkeypatch):
    """scikit-learn 1.6's ``_check_sample_weight`` has no ``allow_all_zero_weights``."""
    import skdl.perceptron as module
    real = module._check_sample_weight

    def check_of_1_6(sample_weight, X, dtype=None, copy=False, ensure_non_negative=False):
        return real(sample_weight, X, dtype=dtype, copy=copy, ensure_non_negative=ensure_non_negative)

    X, y = load_iris(return_X_y=True)
    expected = Perceptron(random_state=0).fit(X, y).coef_
    monkeypatch.setattr(module, "_check_sample_weight", check_of_1_6)
    np.testing.assert_array_equal(Perceptron(random_state=0).fit(X, y).coef_, expected)
