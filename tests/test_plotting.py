"""The figures show the numbers they claim to show."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdl import MLPClassifierTF
from skdl.plotting import plot_learning_curve, plot_search_results

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_learning_curve_draws_loss_and_validation_score_per_epoch(iris_scaled, small_classifier):
    X, Y = iris_scaled
    clf = small_classifier(max_iter=12, early_stopping=True).fit(X, Y)
    ax = plot_learning_curve(clf)
    (loss_line,) = ax.get_lines()
    np.testing.assert_allclose(loss_line.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(loss_line.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    twin = [other for other in ax.figure.axes if other is not ax][0]
    score_line = [line for line in twin.get_lines() if line.get_label() == "validation score"][0]
    np.testing.assert_allclose(score_line.get_ydata(), clf.validation_scores_)
    assert ax.get_xlabel() == "epoch" and twin.get_ylabel() == "validation score"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["training loss", "validation score", "best epoch"]


def test_learning_curve_of_a_pipeline_without_validation(iris_scaled, small_classifier):
    X, Y = iris_scaled
    pipe = make_pipeline(StandardScaler(), small_classifier(max_iter=4)).fit(X, Y)
    ax = plot_learning_curve(pipe)
    assert len(ax.figure.axes) == 1
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), pipe[-1].loss_curve_)


def test_search_results_plot_each_parameter_against_the_mean_score(iris_scaled):
    X, Y = iris_scaled
    grid = {"solver": ["adam", "sgd"], "hidden_layer_sizes": [(4,), (8,)]}
    search = GridSearchCV(MLPClassifierTF(max_iter=5, random_state=0), grid, cv=2).fit(X, Y)
    axes = plot_search_results(search)
    assert [ax.get_xlabel() for ax in axes] == ["hidden_layer_sizes", "solver"]
    for ax in axes:
        drawn = ax.containers[0].lines[0].get_ydata()  # the error bar's markers
        np.testing.assert_allclose(drawn, search.cv_results_["mean_test_score"])
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["adam", "sgd"]
    assert axes[0].get_ylabel() == "mean test score"
