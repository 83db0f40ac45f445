"""scikit-learn's estimator checks on KerasClassifier and KerasRegressor around a small model."""

import keras
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdl.wrappers import KerasClassifier, KerasRegressor


def small_classifier(meta):
    if meta["target_type_"] == "multiclass":
        units, activation = meta["n_classes_"], "softmax"
    else:
        units, activation = meta["n_outputs_"], "sigmoid"
    return keras.Sequential([keras.Input(meta["X_shape_"][1:]),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(units, activation=activation)])


def small_regressor(meta):
    return keras.Sequential([keras.Input(meta["X_shape_"][1:]),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(meta["n_outputs_"])])


WEIGHTED_SAMPLES_ARE_NOT_COPIES = (
    "A sample of weight 2 is not two copies of it under minibatch training: the copy changes "
    "the minibatches and the per-batch mean (the same two checks fail for MLPClassifierTF "
    "and for scikit-learn's own SGD estimators).")

EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": WEIGHTED_SAMPLES_ARE_NOT_COPIES,
    "check_sample_weight_equivalence_on_sparse_data": WEIGHTED_SAMPLES_ARE_NOT_COPIES,
}


@parametrize_with_checks(
    [KerasClassifier(small_classifier, optimizer="adam", optimizer__learning_rate=0.05,
                     epochs=30, random_state=0),
     KerasRegressor(small_regressor, optimizer="adam", optimizer__learning_rate=0.05,
                    epochs=30, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
